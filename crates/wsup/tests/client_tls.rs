//! wsup's client over `wss://` and through an HTTP `CONNECT` proxy, on
//! every runtime, against wsup's TLS server (the test's own CA and a leaf
//! for `localhost` and `127.0.0.1`): the CA given as PEM, as a file or as
//! a rustls config; by name and by IP; a stranger's CA refused; `ws://`
//! and `wss://` through wsup-testkit's proxy, which sees only the tunnel.

mod harness;

use std::net::SocketAddr;
use std::sync::Arc;

use harness::client::*;
use harness::*;
use rustls::ServerConfig;
use wsup::client::{ClientError, Proxy, TlsConnector};
use wsup::deflate::DeflateConfig;
use wsup::server::{Server, Shutdown};
use wsup::tls::{server_config_from_pem, TlsAcceptor};
use wsup::{Bytes, CloseCode, CloseFrame, Message};
use wsup_testkit::certs::{PemFile, TestCerts};
use wsup_testkit::tcp::ConnectProxy;

runtime_tests! {
    wss_by_name_and_by_ip_with_a_test_ca,
    wss_with_a_strangers_ca_is_refused,
    ws_through_a_connect_proxy,
    wss_through_a_connect_proxy_with_deflate,
}

/// The server's TLS config from the test certificates.
fn server_tls(certs: &TestCerts) -> Arc<ServerConfig> {
    server_config_from_pem(certs.cert_pem.as_bytes(), certs.key_pem.as_bytes())
        .expect("server TLS config")
}

/// Shuts a server down when dropped (at the end of the test, whatever
/// its outcome).
struct Stop(Shutdown);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.trigger();
    }
}

/// A wsup echo server on 127.0.0.1 (over TLS with `tls`), serving until
/// the returned guard is dropped.
async fn echo_server<R: Rt>(
    upgrader: wsup::Upgrader,
    tls: Option<Arc<ServerConfig>>,
) -> (SocketAddr, Stop) {
    let (listener, addr) = R::listen().await;
    let server = Server::<R::Binding>::new(listener, upgrader);
    let stop = Stop(server.shutdown_handle());
    let running: BoxFut<()> = match tls {
        Some(config) => Box::pin(async move {
            let _ = server
                .acceptor(TlsAcceptor::from(config))
                .run(echo_handler)
                .await;
        }),
        None => Box::pin(async move {
            let _ = server.run(echo_handler).await;
        }),
    };
    R::spawn_detached(running);
    (addr, stop)
}

/// The servers' handler, plain or over TLS.
async fn echo_handler<T>(ws: wsup::WebSocket<T>, _peer: SocketAddr)
where
    T: futures_util::io::AsyncRead + futures_util::io::AsyncWrite + Unpin,
{
    let _ = echo(ws).await;
}

/// A short exchange and a normal close: text, a large binary message, and
/// the echo of the close.
async fn talk<R: ClientRt>(ws: &mut ClientWs<R>, what: &str) {
    let large = Bytes::from(pattern(2 << 20, 5));
    round_trip::<R>(ws, what, &[Message::text(what), Message::Binary(large)]).await;
    ws.close(Some(CloseFrame::new(CloseCode::NORMAL, "")))
        .await
        .unwrap_or_else(|e| panic!("[{}] {what}: close: {e}", R::NAME));
}

/// `wss://localhost` and `wss://127.0.0.1` (the leaf names both), with
/// the CA as PEM bytes, as a PEM file and as a rustls config.
async fn wss_by_name_and_by_ip_with_a_test_ca<R: ClientRt>() {
    let certs = TestCerts::generate();
    let (addr, _stop) = echo_server::<R>(upgrader::<R>(), Some(server_tls(&certs))).await;
    let file = PemFile::new("ca.pem", &certs.ca_pem);
    let connectors = [
        (
            "from_pem",
            TlsConnector::from_pem(certs.ca_pem.as_bytes()).expect("CA"),
        ),
        (
            "from_pem_file",
            TlsConnector::from_pem_file(file.path()).expect("CA file"),
        ),
        ("rustls config", TlsConnector::from(certs.client_config())),
    ];
    for (how, tls) in connectors {
        for host in ["localhost", "127.0.0.1"] {
            let url = format!("wss://{host}:{}/", addr.port());
            let (mut ws, _) = dial::<R>(R::dialer().tls(tls.clone()), url.clone()).await;
            assert!(ws.get_ref().is_tls(), "[{}] {url}", R::NAME);
            talk::<R>(&mut ws, &format!("{how} {url}")).await;
        }
    }
}

/// A CA that did not sign the server's certificate: `ClientError::Tls`.
async fn wss_with_a_strangers_ca_is_refused<R: ClientRt>() {
    let certs = TestCerts::generate();
    let stranger = TestCerts::generate();
    let (addr, _stop) = echo_server::<R>(upgrader::<R>(), Some(server_tls(&certs))).await;
    let tls = TlsConnector::from_pem(stranger.ca_pem.as_bytes()).expect("CA");
    let url = format!("wss://localhost:{}/", addr.port());
    let err = dial_err::<R>(R::dialer().tls(tls), url).await;
    assert_matches!(R, err, ClientError::Tls(_));
}

/// `ws://` through the proxy: a `CONNECT` to the server, then the
/// handshake and frames through the tunnel.
async fn ws_through_a_connect_proxy<R: ClientRt>() {
    let (addr, _stop) = echo_server::<R>(upgrader::<R>(), None).await;
    let proxy = ConnectProxy::start();
    let via = Proxy::new("127.0.0.1", proxy.addr().port());
    let url = ws_url(addr, "/tunnelled");
    let (mut ws, _) = dial::<R>(R::dialer().proxy(via), url).await;
    talk::<R>(&mut ws, "through the proxy").await;
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "[{}] {heads:?}", R::NAME);
    assert!(
        heads[0].starts_with(&format!("CONNECT {addr} HTTP/1.1\r\n")),
        "[{}] {heads:?}",
        R::NAME
    );
}

/// `wss://` through the proxy, with permessage-deflate: TLS runs inside
/// the tunnel (the proxy sees only the `CONNECT`), compression inside TLS.
async fn wss_through_a_connect_proxy_with_deflate<R: ClientRt>() {
    let certs = TestCerts::generate();
    let upgrader = upgrader::<R>().compression(DeflateConfig::enabled());
    let (addr, _stop) = echo_server::<R>(upgrader, Some(server_tls(&certs))).await;
    let proxy = ConnectProxy::start();
    let dialer = R::dialer()
        .proxy(Proxy::new("127.0.0.1", proxy.addr().port()))
        .tls(TlsConnector::from_pem(certs.ca_pem.as_bytes()).expect("CA"))
        .compression(DeflateConfig::enabled());
    let url = format!("wss://localhost:{}/", addr.port());
    let (mut ws, _) = dial::<R>(dialer, url).await;
    assert!(ws.get_ref().is_tls(), "[{}]", R::NAME);
    assert!(ws.compression().is_some(), "[{}]", R::NAME);
    talk::<R>(&mut ws, "compressed, encrypted, tunnelled").await;
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "[{}] {heads:?}", R::NAME);
    assert!(
        heads[0].starts_with(&format!("CONNECT localhost:{} HTTP/1.1\r\n", addr.port())),
        "[{}] {heads:?}",
        R::NAME
    );
}
