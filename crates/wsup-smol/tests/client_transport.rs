//! The client's transport before the WebSocket handshake, over real
//! sockets on 127.0.0.1 (on smol; the code under test is runtime-free):
//! `client::open` direct, through a CONNECT proxy, and over TLS with a
//! test CA, by name and by IP.

use std::future::Future;
use std::time::Duration;

use smol::net::TcpListener;
use smol::Timer;
use wsup_core::client::{open, ClientError, MaybeTls, Proxy, Target, TlsConnector};
use wsup_core::http::StatusCode;
use wsup_core::tls::{rustls, server_config_from_pem, TlsAcceptor};
use wsup_smol::SmolRuntime;
use wsup_testkit::certs::TestCerts;
use wsup_testkit::tcp::{closed_port, ping_pong, pong_once, ConnectProxy};

/// Runs a test's future, failing it after 20 s.
fn run<T>(test: impl Future<Output = T>) -> T {
    smol::block_on(smol::future::or(test, async {
        Timer::after(Duration::from_secs(20)).await;
        panic!("the test did not finish within 20 s")
    }))
}

fn target(url: &str) -> Target {
    url.parse().unwrap()
}

/// A TLS server on 127.0.0.1 with the test leaf: one connection, `ping`
/// read, `pong` written. Returns its port.
async fn tls_pong_once(certs: &TestCerts) -> u16 {
    let config = server_config_from_pem(certs.cert_pem.as_bytes(), certs.key_pem.as_bytes());
    let acceptor = TlsAcceptor::from(config.unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    smol::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = acceptor.accept(tcp).await?;
        let mut ping = [0; 4];
        futures_util::AsyncReadExt::read_exact(&mut tls, &mut ping).await?;
        futures_util::AsyncWriteExt::write_all(&mut tls, b"pong").await?;
        futures_util::AsyncWriteExt::flush(&mut tls).await?;
        // Wait for the client's end, so the pong is not lost to a reset.
        let _ = futures_util::AsyncReadExt::read(&mut tls, &mut ping).await;
        std::io::Result::Ok(())
    })
    .detach();
    port
}

/// Whether rustls refused the server's certificate.
fn invalid_certificate(e: &std::io::Error) -> bool {
    let rustls = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    matches!(rustls, Some(rustls::Error::InvalidCertificate(_)))
}

#[test]
fn ws_direct_is_a_plain_stream() {
    let (addr, peer) = pong_once();
    let url = format!("ws://127.0.0.1:{}/x", addr.port());
    let mut io = run(open(&SmolRuntime, &target(&url), None, None)).unwrap();
    assert!(!io.is_tls());
    run(ping_pong(&mut io)).unwrap();
    assert_eq!(peer.join().unwrap().unwrap(), b"ping");
    assert!(io.into_plain().is_ok());
}

#[test]
fn ws_through_a_connect_proxy_with_a_credential() {
    let proxy = ConnectProxy::start();
    let (addr, peer) = pong_once();
    let url = format!("ws://localhost:{}/", addr.port());
    let via = Proxy::new("127.0.0.1", proxy.addr().port()).basic_auth("alice", "secret");
    let mut io = run(open(&SmolRuntime, &target(&url), Some(&via), None)).unwrap();
    run(ping_pong(&mut io)).unwrap();
    assert_eq!(peer.join().unwrap().unwrap(), b"ping");
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1);
    let expected = format!(
        "CONNECT localhost:{0} HTTP/1.1\r\nHost: localhost:{0}\r\n",
        addr.port()
    );
    assert!(heads[0].starts_with(&expected), "{heads:?}");
    // alice:secret
    assert!(heads[0].contains("\r\nProxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n"));
}

#[test]
fn a_proxy_refusal_is_its_status() {
    let proxy = ConnectProxy::refusing("407 Proxy Authentication Required");
    let via = Proxy::new("127.0.0.1", proxy.addr().port());
    let result = run(open(
        &SmolRuntime,
        &target("ws://example.invalid/"),
        Some(&via),
        None,
    ));
    match result {
        Err(ClientError::Proxy(status)) => {
            assert_eq!(status, StatusCode::PROXY_AUTHENTICATION_REQUIRED)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unreachable_server_is_an_io_error() {
    let closed = closed_port();
    let url = format!("ws://127.0.0.1:{}/", closed.port());
    let result = run(open(&SmolRuntime, &target(&url), None, None));
    assert!(matches!(result, Err(ClientError::Io(_))), "{result:?}");
}

#[test]
fn wss_by_name_and_by_ip_with_a_test_ca() {
    let certs = TestCerts::generate();
    let tls = TlsConnector::from_pem(certs.ca_pem.as_bytes()).unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let port = run(tls_pong_once(&certs));
        let url = format!("wss://{host}:{port}/");
        let mut io: MaybeTls<_> = run(open(&SmolRuntime, &target(&url), None, Some(&tls))).unwrap();
        assert!(io.is_tls());
        let (_, session) = io.tls_stream().unwrap().get_ref();
        assert_eq!(session.alpn_protocol(), Some(&b"http/1.1"[..]));
        assert_eq!(io.get_ref().peer_addr().unwrap().port(), port);
        run(ping_pong(&mut io)).unwrap();
    }
}

#[test]
fn wss_through_a_proxy() {
    let certs = TestCerts::generate();
    let tls = TlsConnector::from_pem(certs.ca_pem.as_bytes()).unwrap();
    let proxy = ConnectProxy::start();
    let via = Proxy::new("127.0.0.1", proxy.addr().port());
    let port = run(tls_pong_once(&certs));
    let url = format!("wss://localhost:{port}/");
    let mut io = run(open(&SmolRuntime, &target(&url), Some(&via), Some(&tls))).unwrap();
    assert!(io.is_tls());
    run(ping_pong(&mut io)).unwrap();
    assert!(proxy.heads()[0].starts_with(&format!("CONNECT localhost:{port} ")));
}

#[test]
fn wss_with_another_ca_is_refused() {
    let certs = TestCerts::generate();
    let stranger = TestCerts::generate();
    let tls = TlsConnector::from_pem(stranger.ca_pem.as_bytes()).unwrap();
    let port = run(tls_pong_once(&certs));
    let url = format!("wss://localhost:{port}/");
    let result = run(open(&SmolRuntime, &target(&url), None, Some(&tls)));
    match result {
        // Both CAs have the same name: the leaf's signature is what fails.
        Err(ClientError::Tls(e)) => assert!(invalid_certificate(&e), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wss_to_a_name_the_certificate_lacks_is_refused() {
    let certs = TestCerts::generate();
    let tls = TlsConnector::from_pem(certs.ca_pem.as_bytes()).unwrap();
    let port = run(tls_pong_once(&certs));
    // The leaf names localhost and 127.0.0.1, not example.com.
    let io = run(smol::net::TcpStream::connect(("127.0.0.1", port))).unwrap();
    let result = run(tls.connect("example.com", io));
    match result {
        Err(ClientError::Tls(e)) => {
            assert!(invalid_certificate(&e), "{e}");
            assert!(e.to_string().contains("not valid for name"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}
