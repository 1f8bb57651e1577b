//! `Connect` on smol: TCP connections to a std listener on 127.0.0.1.

use std::io::ErrorKind;

use smol::block_on;
use wsup_core::client::Connect;
use wsup_smol::SmolRuntime;
use wsup_testkit::tcp::{closed_port, connects_by_address_and_by_name};

#[test]
fn connects_by_address_and_by_name_with_nodelay() {
    block_on(connects_by_address_and_by_name(
        |host, port| SmolRuntime.connect(host, port),
        |io| io.nodelay().unwrap(),
    ));
}

#[test]
fn a_closed_port_is_refused() {
    let closed = closed_port();
    let error = block_on(SmolRuntime.connect("127.0.0.1", closed.port()));
    assert_eq!(error.unwrap_err().kind(), ErrorKind::ConnectionRefused);
}
