//! The CONNECT exchange over the in-memory transport; the tunnel over real
//! sockets is tested in the bindings (`wsup-smol`'s `tests/client.rs`).

use futures_executor::block_on;
use http::StatusCode;
use wsup_testkit::Mem;

use super::*;

fn run(proxy: &Proxy, answer: &[u8], chunk: usize) -> (Result<(), ClientError>, String) {
    let target: Target = "wss://[::1]:8443/x".parse().unwrap();
    let mut io = Mem::new(answer.to_vec(), chunk);
    let result = block_on(tunnel(&mut io, proxy, &target));
    (result, String::from_utf8(io.output).unwrap())
}

#[test]
fn sends_connect_with_host_and_reads_a_2xx() {
    let proxy = Proxy::new("p", 3128);
    // Trickled one byte at a time, the head is still found.
    let (result, sent) = run(&proxy, b"HTTP/1.1 200 Connection established\r\n\r\n", 1);
    result.unwrap();
    assert_eq!(
        sent,
        "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n"
    );
    let (result, _) = run(&proxy, b"HTTP/1.0 204 OK\r\nX: y\r\n\r\n", 4096);
    result.unwrap();
}

#[test]
fn presents_the_basic_credential() {
    let proxy = Proxy::new("p", 3128).basic_auth("Aladdin", "open sesame");
    let (result, sent) = run(&proxy, b"HTTP/1.1 200 OK\r\n\r\n", 4096);
    result.unwrap();
    assert!(
        sent.contains("\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"),
        "{sent}"
    );
    assert!(!format!("{proxy:?}").contains("QWxh"));
}

#[test]
fn a_refusal_is_its_status() {
    let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n";
    let (result, _) = run(&Proxy::new("p", 1), answer, 4096);
    assert!(
        matches!(result, Err(ClientError::Proxy(s)) if s == StatusCode::PROXY_AUTHENTICATION_REQUIRED)
    );
}

#[test]
fn bytes_after_the_head_are_refused_not_lost() {
    let (result, _) = run(
        &Proxy::new("p", 1),
        b"HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101",
        4096,
    );
    assert!(
        matches!(result, Err(ClientError::Malformed(_))),
        "{result:?}"
    );
}

#[test]
fn bad_heads_are_typed_errors() {
    let proxy = Proxy::new("p", 1);
    let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
    let huge = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    let malformed: [&[u8]; 3] = [
        b"HTTP/1.1 200 OK\r\n",
        b"\x00garbage\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
    ];
    for answer in malformed {
        let (result, _) = run(&proxy, answer, 4096);
        assert!(
            matches!(result, Err(ClientError::Malformed(_))),
            "{result:?}"
        );
    }
    for answer in [format!("HTTP/1.1 200 OK\r\n{many}\r\n"), huge] {
        let (result, _) = run(&proxy, answer.as_bytes(), 4096);
        assert!(
            matches!(result, Err(ClientError::HeadTooLarge)),
            "{result:?}"
        );
    }
}

#[test]
fn proxy_urls() {
    let p = Proxy::parse("http://proxy:3128").unwrap();
    assert_eq!((p.host(), p.port()), ("proxy", 3128));
    assert_eq!(p, Proxy::new("proxy", 3128));
    assert_eq!(Proxy::parse("http://proxy/").unwrap().port(), 80);
    assert_eq!(Proxy::parse("HTTP://[::1]:8080").unwrap().host(), "::1");
    assert_eq!(
        Proxy::parse("http://u:p@proxy:1").unwrap(),
        Proxy::new("proxy", 1).basic_auth("u", "p")
    );
    assert_eq!(
        Proxy::parse("http://u@proxy:1").unwrap(),
        Proxy::new("proxy", 1).basic_auth("u", "")
    );
    for bad in [
        "https://proxy:1",
        "socks5://proxy:1",
        "proxy:1",
        "http://proxy:1/path",
        "http://proxy:1/?q",
        "http://proxy:1#f",
        "http://proxy:0",
        "http://:1",
        "http://proxy:65536",
    ] {
        assert!(
            matches!(Proxy::parse(bad), Err(ClientError::InvalidUrl(_))),
            "{bad}"
        );
    }
}
