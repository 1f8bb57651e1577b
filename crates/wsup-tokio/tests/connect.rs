//! `Connect` on tokio: TCP connections to a std listener on 127.0.0.1.

use std::io::ErrorKind;

use wsup_core::client::Connect;
use wsup_testkit::tcp::{closed_port, ping_pong, pong_once};
use wsup_tokio::TokioRuntime;

#[tokio::test]
async fn connects_by_address_and_by_name_with_nodelay() {
    // `localhost` may resolve to ::1 first, where nothing listens: the
    // next address is tried.
    for host in ["127.0.0.1", "localhost"] {
        let (addr, peer) = pong_once();
        let mut io = TokioRuntime.connect(host, addr.port()).await.unwrap();
        assert!(io.get_ref().nodelay().unwrap());
        ping_pong(&mut io).await.unwrap();
        assert_eq!(peer.join().unwrap().unwrap(), b"ping");
    }
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    let error = TokioRuntime.connect("127.0.0.1", closed_port()).await;
    assert_eq!(error.unwrap_err().kind(), ErrorKind::ConnectionRefused);
}
