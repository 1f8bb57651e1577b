//! `open` over a scripted connector: where it dials and what it sends.
//! Real sockets, proxies and TLS are tested in the bindings
//! (`wsup-smol`'s `tests/client_transport.rs`).

use std::sync::Mutex;

use futures_executor::block_on;
use wsup_testkit::Mem;

use super::*;

/// Dials nothing: records where it was asked to connect and hands out a
/// stream that reads `answer`, or fails with `refuse`.
#[derive(Default)]
struct Scripted {
    answer: Vec<u8>,
    refuse: bool,
    dialed: Mutex<Vec<(String, u16)>>,
}

impl Connect for Scripted {
    type Stream = Mem;

    fn connect<'a>(&'a self, host: &'a str, port: u16) -> ConnectFuture<'a, Mem> {
        self.dialed.lock().unwrap().push((host.to_owned(), port));
        let result = match self.refuse {
            true => Err(io::ErrorKind::ConnectionRefused.into()),
            false => Ok(Mem::new(self.answer.clone(), 4096)),
        };
        Box::pin(async move { result })
    }
}

fn target(url: &str) -> Target {
    url.parse().unwrap()
}

#[test]
fn ws_dials_the_target_and_sends_nothing() {
    let connector = Scripted::default();
    let io = block_on(open(&connector, &target("ws://[::1]:9001/x"), None, None)).unwrap();
    assert!(!io.is_tls());
    assert!(io.get_ref().output.is_empty());
    assert_eq!(
        *connector.dialed.lock().unwrap(),
        [("::1".to_owned(), 9001)]
    );
}

#[test]
fn a_proxy_is_dialed_and_asked_for_the_target() {
    let connector = Scripted {
        answer: b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec(),
        ..Scripted::default()
    };
    let proxy = Proxy::new("proxy.internal", 3128);
    let io = block_on(open(
        &connector,
        &target("ws://example.com/"),
        Some(&proxy),
        None,
    ))
    .unwrap();
    assert_eq!(
        *connector.dialed.lock().unwrap(),
        [("proxy.internal".to_owned(), 3128)]
    );
    let sent = String::from_utf8_lossy(&io.get_ref().output).into_owned();
    assert!(
        sent.starts_with("CONNECT example.com:80 HTTP/1.1\r\n"),
        "{sent}"
    );
}

#[test]
fn a_failed_connect_is_an_io_error() {
    let connector = Scripted {
        refuse: true,
        ..Scripted::default()
    };
    let result = block_on(open(&connector, &target("ws://a/"), None, None));
    assert!(
        matches!(&result, Err(ClientError::Io(e)) if e.kind() == io::ErrorKind::ConnectionRefused),
        "{result:?}"
    );
}

#[cfg(not(feature = "tls"))]
#[test]
fn wss_without_the_tls_feature_is_refused() {
    let connector = Scripted::default();
    let result = block_on(open(&connector, &target("wss://a/"), None, None));
    assert!(
        matches!(result, Err(ClientError::TlsUnavailable)),
        "{result:?}"
    );
}

#[cfg(feature = "tls")]
#[test]
fn wss_fails_as_tls_when_the_server_does_not_speak_it() {
    let connector = Scripted {
        answer: b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
        ..Scripted::default()
    };
    let tls = TlsConnector::with_roots(rustls::RootCertStore::empty()).unwrap();
    let result = block_on(open(&connector, &target("wss://a/"), None, Some(&tls)));
    assert!(matches!(result, Err(ClientError::Tls(_))), "{result:?}");
}

#[test]
fn open_is_send_so_a_dialer_can_spawn_it() {
    fn assert_send<T: Send>(_: T) {}
    let connector = Scripted::default();
    let target = target("wss://a/");
    assert_send(open(&connector, &target, None, None));
}
