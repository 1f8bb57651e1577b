use bytes::Bytes;
use hyper::{Request, Response, StatusCode};
use wsup_core::{HandshakeError, Upgrader};

fn upgrade_request() -> Request<()> {
    Request::get("/ws")
        .header("host", "example.com")
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .body(())
        .unwrap()
}

#[test]
fn a_request_hyper_cannot_hand_over_is_refused_with_500() {
    // No `OnUpgrade` extension: not from a hyper HTTP/1 connection.
    let refused = crate::upgrade::<_, Bytes>(&Upgrader::new(), upgrade_request()).unwrap_err();
    assert!(matches!(refused.error(), HandshakeError::NotUpgradable));
    let res: Response<Bytes> = refused.into_response();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn an_invalid_request_is_refused_before_anything_else() {
    let mut req = upgrade_request();
    req.headers_mut().remove("sec-websocket-key");
    let refused = crate::upgrade::<_, Bytes>(&Upgrader::new(), req).unwrap_err();
    assert!(matches!(refused.error(), HandshakeError::InvalidKey));
    assert_eq!(refused.into_response().status(), StatusCode::BAD_REQUEST);
}

#[test]
fn upgrade_requests_are_told_apart() {
    assert!(crate::is_upgrade_request(&upgrade_request()));
    let plain = Request::get("/ws").body(()).unwrap();
    assert!(!crate::is_upgrade_request(&plain));
    let keep_alive_upgrade = Request::get("/ws")
        .header("connection", "keep-alive, Upgrade")
        .header("upgrade", "WebSocket")
        .body(())
        .unwrap();
    assert!(crate::is_upgrade_request(&keep_alive_upgrade));
}

#[test]
fn an_http2_extended_connect_is_an_upgrade_request() {
    let connect = |protocol: &'static str| {
        Request::connect("/ws")
            .version(hyper::Version::HTTP_2)
            .extension(hyper::ext::Protocol::from_static(protocol))
            .body(())
            .unwrap()
    };
    assert!(crate::is_upgrade_request(&connect("websocket")));
    assert!(!crate::is_upgrade_request(&connect("webtransport")));
    let plain = Request::get("/ws")
        .version(hyper::Version::HTTP_2)
        .body(())
        .unwrap();
    assert!(!crate::is_upgrade_request(&plain));
}
