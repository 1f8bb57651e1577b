//! The responses: a valid 101 and what it leaves, and hostile or refusing
//! answers, each failing with its typed error.

use http::StatusCode;

use super::*;
use crate::deflate::DeflateConfig;
use crate::handshake::HeadLimits;

#[test]
fn a_valid_101_keeps_the_bytes_after_its_head() {
    let frames = b"\x81\x05hello\x89\x00";
    for chunk in [1, 7, 4096] {
        let mut input = switching("Set-Cookie: s=1\r\n").into_bytes();
        input.extend_from_slice(frames);
        let (result, _) = dial_in_chunks(&Dialer::new(), "ws://h/", &input, chunk);
        let hs = result.unwrap_or_else(|e| panic!("chunk {chunk}: {e}"));
        assert_eq!(hs.response().status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(hs.response().headers()["set-cookie"], "s=1");
        assert_eq!(hs.subprotocol(), None);
        assert_eq!(hs.compression(), None);
        // Read in pieces, the head ends mid-read or at a read's end: what
        // came after it in the same read is kept, the rest is unread.
        let kept = hs.leftover().len();
        assert_eq!(&hs.leftover()[..], &frames[..kept], "chunk {chunk}");
        if chunk == 4096 {
            assert_eq!(&hs.leftover()[..], frames);
        }
    }
}

#[test]
fn tokens_match_in_any_case_and_within_lists() {
    let ok = "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\n\
              connection: keep-alive, UPGRADE\r\n\
              sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    assert!(dial(&Dialer::new(), ok).is_ok());
}

#[test]
fn what_was_agreed_is_kept_for_the_connection() {
    let dialer = Dialer::new()
        .protocols(["a", "b"])
        .compression(DeflateConfig::enabled().level(6))
        .read_buffer_size(1024)
        .runtime(Arc::new(RingsAtOnce));
    let hs = dial(
        &dialer,
        &switching(
            "Sec-WebSocket-Protocol: b\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n",
        ),
    )
    .unwrap();
    assert_eq!(hs.subprotocol(), Some("b"));
    assert_eq!(hs.compression().unwrap().client_max_window_bits, 10);
    let parts = hs.into_parts();
    assert_eq!(parts.protocol.as_deref(), Some("b"));
    let (agreed, config) = parts.deflate.unwrap();
    assert_eq!((agreed.client_max_window_bits, config.level), (10, 6));
    assert_eq!(parts.config.read_buffer_size(), 1024);
    assert!(parts.runtime.is_some());
    assert!(parts.leftover.is_empty());
}

fn invalid(input: &str) -> &'static str {
    match dial(&Dialer::new().protocols(["chat"]), input) {
        Err(ClientError::InvalidResponse(why)) => why,
        other => panic!("{input}: {other:?}"),
    }
}

#[test]
fn a_101_breaking_rfc_6455_is_refused() {
    let good = switching("");
    assert!(invalid(&good.replace(ACCEPT, "dGhlIHNhbXBsZSBub25jZQ==")).contains("wrong"));
    assert!(invalid(&good.replace(ACCEPT, &ACCEPT.to_lowercase())).contains("wrong"));
    assert!(invalid(&good.replace("Sec-WebSocket-Accept", "X-Accept")).contains("no Sec"));
    let twice = switching(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n"));
    assert!(invalid(&twice).contains("wrong"));
    assert!(invalid(&good.replace("Upgrade: websocket\r\n", "")).contains("Upgrade"));
    assert!(invalid(&good.replace("Upgrade: websocket", "Upgrade: h2c")).contains("Upgrade"));
    assert!(
        invalid(&good.replace("Connection: Upgrade", "Connection: close")).contains("Connection")
    );
    let two = switching("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n");
    assert!(invalid(&two).contains("more than one"));
    let list = switching("Sec-WebSocket-Protocol: chat, chat\r\n");
    assert!(invalid(&list).contains("more than one"));
}

#[test]
fn only_an_offered_subprotocol_is_accepted() {
    let answer = switching("Sec-WebSocket-Protocol: other\r\n");
    for dialer in [Dialer::new(), Dialer::new().protocols(["chat", "chat.v2"])] {
        match dial(&dialer, &answer) {
            Err(ClientError::UnofferedSubprotocol(p)) => assert_eq!(p, "other"),
            other => panic!("{other:?}"),
        }
    }
    let hs = dial(
        &Dialer::new().protocols(["chat", "chat.v2"]),
        &switching("Sec-WebSocket-Protocol: chat.v2\r\n"),
    );
    assert_eq!(hs.unwrap().subprotocol(), Some("chat.v2"));
}

#[test]
fn only_an_offered_extension_with_valid_parameters_is_accepted() {
    let on = DeflateConfig::enabled;
    for (config, answer) in [
        (DeflateConfig::disabled(), "permessage-deflate"),
        (on(), "x-webkit-deflate-frame"),
        (on(), "permessage-deflate; foo=1"),
        (on(), "permessage-deflate, permessage-deflate"),
        (
            on().server_max_window_bits(10),
            "permessage-deflate; server_max_window_bits=12",
        ),
        (
            on().client_max_window_bits(10),
            "permessage-deflate; client_max_window_bits=11",
        ),
    ] {
        let dialer = Dialer::new().compression(config);
        let input = switching(&format!("Sec-WebSocket-Extensions: {answer}\r\n"));
        match dial(&dialer, &input) {
            Err(ClientError::UnofferedExtension(said)) => {
                assert!(said.starts_with(answer), "{said}")
            }
            other => panic!("{answer}: {other:?}"),
        }
    }
}

#[test]
fn a_refusal_is_reported_with_its_status_headers_and_body() {
    let input = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\
                 Content-Length: 13\r\n\r\nno such room\nXXXX";
    let err = dial(&Dialer::new(), input).unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
    let response = err.response().unwrap();
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(&response.body()[..], b"no such room\n");
    assert!(matches!(err, ClientError::Status(_)));

    // The body read in pieces, up to its length.
    let (result, _) = dial_in_chunks(&Dialer::new(), "ws://h/", input.as_bytes(), 3);
    assert_eq!(
        &result.unwrap_err().response().unwrap().body()[..],
        b"no such room\n"
    );
}

#[test]
fn a_body_without_length_runs_to_the_end_of_the_stream_within_the_deadline() {
    let input = "HTTP/1.1 404 Not Found\r\n\r\nnot here";
    // With a deadline: read on to the end of the stream.
    let (result, _) = dial_in_chunks(&with_runtime(), "ws://h/", input.as_bytes(), 5);
    assert_eq!(
        &result.unwrap_err().response().unwrap().body()[..],
        b"not here"
    );
    // Without one: only what is there already, as reading on might wait
    // forever; whatever the body's framing, over a stream that then waits.
    for input in [
        "HTTP/1.1 404 Not Found\r\n\r\nnot here",
        "HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nnot here",
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nnot here\r\n",
    ] {
        let mut mem: Mem = Mem::new(input.as_bytes().to_vec(), 4096);
        mem.hang = true;
        let far = Instant::now() + Duration::from_secs(3600);
        let (dialer, uri) = (Dialer::new(), uri("ws://h/"));
        let dialing = dialer.handshake_with_key(&mut mem, &uri, KEY, far);
        let err = futures_executor::block_on(dialing).unwrap_err();
        assert_eq!(&err.response().unwrap().body()[..], b"not here", "{input}");
    }
}

#[test]
fn a_large_body_is_cut_at_64_kib() {
    let body = vec![b'x'; 100_000];
    for length in ["Content-Length: 100000\r\n", ""] {
        let mut input = format!("HTTP/1.1 500 Oops\r\n{length}\r\n").into_bytes();
        input.extend_from_slice(&body);
        let (result, _) = dial_in_chunks(&with_runtime(), "ws://h/", &input, 8192);
        let err = result.unwrap_err();
        assert_eq!(err.response().unwrap().body().len(), 64 * 1024, "{length}");
    }
}

#[test]
fn a_redirect_is_reported_not_followed() {
    let input = "HTTP/1.1 302 Found\r\nLocation: wss://example.com/new\r\n\
                 Content-Length: 0\r\n\r\n";
    match dial(&Dialer::new(), input) {
        Err(ClientError::Redirect { response, location }) => {
            assert_eq!(location.as_deref(), Some("wss://example.com/new"));
            assert_eq!(response.status(), StatusCode::FOUND);
        }
        other => panic!("{other:?}"),
    }
    let input = "HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n";
    assert!(matches!(
        dial(&Dialer::new(), input),
        Err(ClientError::Redirect { location: None, .. })
    ));
}

#[test]
fn a_head_past_the_limits_is_refused() {
    let limits = HeadLimits {
        max_size: 1024,
        max_headers: 8,
    };
    let dialer = Dialer::new().head_limits(limits);
    let huge = switching(&format!("X-Pad: {}\r\n", "a".repeat(2000)));
    assert!(matches!(
        dial(&dialer, &huge),
        Err(ClientError::HeadTooLarge)
    ));
    // Never ending: refused once past the limit, without reading it all.
    let endless = format!("HTTP/1.1 101 OK\r\nX: {}", "a".repeat(1 << 20));
    let (result, _) = dial_in_chunks(&dialer, "ws://h/", endless.as_bytes(), 4096);
    assert!(matches!(result, Err(ClientError::HeadTooLarge)));
    let many: String = (0..9).map(|i| format!("X-{i}: v\r\n")).collect();
    assert!(matches!(
        dial(&dialer, &switching(&many)),
        Err(ClientError::HeadTooLarge)
    ));
    let few: String = (0..5).map(|i| format!("X-{i}: v\r\n")).collect();
    assert!(dial(&dialer, &switching(&few)).is_ok());
}

#[test]
fn a_truncated_or_malformed_head_is_refused() {
    let good = switching("");
    for cut in [0, 10, good.len() - 2] {
        match dial(&Dialer::new(), &good[..cut]) {
            Err(ClientError::Io(e)) => {
                assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{cut}")
            }
            other => panic!("{cut}: {other:?}"),
        }
    }
    for bad in [
        good.replace("HTTP/1.1", "HTTP/1.0"),
        good.replace("HTTP/1.1 101", "HTTP/1.1 1O1"),
        good.replace("Upgrade: websocket", "Up grade: websocket"),
        "\x00\x01\x02\r\n\r\n".to_owned(),
        "SSH-2.0-OpenSSH_9.6\r\n\r\n".to_owned(),
    ] {
        assert!(
            matches!(dial(&Dialer::new(), &bad), Err(ClientError::Malformed(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn a_silent_server_times_out() {
    let mut mem: Mem = Mem::new(Vec::new(), 1);
    mem.hang = true;
    let dialer = with_runtime().handshake_timeout(Duration::from_secs(7));
    let result = futures_executor::block_on(dialer.handshake(&mut mem, &uri("ws://h/")));
    match result {
        Err(ClientError::Timeout(d)) => assert_eq!(d, Duration::from_secs(7)),
        other => panic!("{other:?}"),
    }
    // The request was written before the wait.
    assert!(mem.output.starts_with(b"GET / HTTP/1.1\r\n"));
}

#[test]
fn a_chunked_body_is_decoded_and_read_to_its_last_chunk_only() {
    let head = "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
    let chunks = "5\r\nbad r\r\n8;ext=1\r\nequest: \r\n0D\r\nno such room\n\r\n0\r\n";
    for read in [1, 4, 4096] {
        let input = format!("{head}{chunks}\r\nnext response");
        let mut mem: Mem = Mem::new(input.into_bytes(), read);
        let far = Instant::now() + Duration::from_secs(3600);
        let uri = uri("ws://h/");
        let result =
            futures_executor::block_on(Dialer::new().handshake_with_key(&mut mem, &uri, KEY, far));
        let err = result.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(
            &err.response().unwrap().body()[..],
            b"bad request: no such room\n",
            "reads of {read}"
        );
        if read == 1 {
            // Nothing read past the last chunk: a kept-alive connection
            // does not hold the error until the deadline.
            assert_eq!(mem.pos, head.len() + chunks.len());
        }
    }
}

#[test]
fn a_chunked_body_is_cut_at_64_kib_or_at_a_fault() {
    let mut input = b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        input.extend_from_slice(b"8000\r\n");
        input.extend_from_slice(&[b'y'; 0x8000]);
        input.extend_from_slice(b"\r\n");
    }
    let (result, _) = dial_in_chunks(&with_runtime(), "ws://h/", &input, 5000);
    assert_eq!(
        result.unwrap_err().response().unwrap().body().len(),
        64 * 1024
    );
    let input = "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n";
    let (result, _) = dial_in_chunks(&with_runtime(), "ws://h/", input.as_bytes(), 2);
    assert_eq!(&result.unwrap_err().response().unwrap().body()[..], b"abc");
}

#[test]
fn a_handshake_timeout_of_duration_max_means_no_deadline_not_a_panic() {
    let dialer = Dialer::new().handshake_timeout(Duration::MAX);
    // The deadline is computed once per handshake: it must not overflow.
    let _ = dialer.endpoint.deadline();
    assert!(dial(&dialer, &switching("")).is_ok());
}
