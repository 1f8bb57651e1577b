//! `Connect` on async-std: TCP connections to a std listener on 127.0.0.1.

use std::io::ErrorKind;

use async_std::task::block_on;
use wsup_async_std::AsyncStdRuntime;
use wsup_core::client::Connect;
use wsup_testkit::tcp::{closed_port, ping_pong, pong_once};

#[test]
fn connects_by_address_and_by_name_with_nodelay() {
    // `localhost` may resolve to ::1 first, where nothing listens: the
    // next address is tried.
    for host in ["127.0.0.1", "localhost"] {
        let (addr, peer) = pong_once();
        let mut io = block_on(AsyncStdRuntime.connect(host, addr.port())).unwrap();
        assert!(io.get_ref().nodelay().unwrap());
        block_on(ping_pong(&mut io)).unwrap();
        assert_eq!(peer.join().unwrap().unwrap(), b"ping");
    }
}

#[test]
fn a_closed_port_is_refused() {
    let error = block_on(AsyncStdRuntime.connect("127.0.0.1", closed_port()));
    assert_eq!(error.unwrap_err().kind(), ErrorKind::ConnectionRefused);
}
