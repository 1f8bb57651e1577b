//! `wss://` with no connector given trusts the platform's roots, read once
//! per process: here the test CA, named by `SSL_CERT_FILE` (which
//! rustls-native-certs reads before the system store). Its own test binary,
//! so that no other test has loaded the roots first.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use smol::net::TcpListener;
use wsup_core::client::{open, Target, TlsConnector};
use wsup_core::tls::{server_config_from_pem, TlsAcceptor};
use wsup_smol::SmolRuntime;
use wsup_testkit::certs::{PemFile, TestCerts};
use wsup_testkit::tcp::ping_pong;

#[test]
fn wss_without_a_connector_uses_the_platform_roots() {
    let certs = TestCerts::generate();
    let ca = PemFile::new("platform-ca.pem", &certs.ca_pem);
    // The only test in this process: nothing reads the environment at once.
    std::env::set_var("SSL_CERT_FILE", ca.path());
    std::env::remove_var("SSL_CERT_DIR");

    let config = server_config_from_pem(certs.cert_pem.as_bytes(), certs.key_pem.as_bytes());
    let acceptor = TlsAcceptor::from(config.unwrap());
    smol::block_on(smol::future::or(
        async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let server = smol::spawn(async move {
                let mut tls = acceptor.accept(listener.accept().await?.0).await?;
                let mut ping = [0; 4];
                tls.read_exact(&mut ping).await?;
                tls.write_all(b"pong").await?;
                tls.flush().await?;
                let _ = tls.read(&mut ping).await;
                std::io::Result::Ok(())
            });
            let target: Target = format!("wss://localhost:{port}/").parse().unwrap();
            let mut io = open(&SmolRuntime, &target, None, None).await.unwrap();
            ping_pong(&mut io).await.unwrap();
            drop(io);
            server.await.unwrap();
        },
        async {
            smol::Timer::after(Duration::from_secs(20)).await;
            panic!("the test did not finish within 20 s")
        },
    ));
    // Loaded once: the same config on every call.
    let (first, again) = (TlsConnector::platform(), TlsConnector::platform());
    assert!(Arc::ptr_eq(
        first.unwrap().config(),
        again.unwrap().config()
    ));
}
