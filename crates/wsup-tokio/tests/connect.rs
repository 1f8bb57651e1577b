//! `Connect` on tokio: TCP connections to a std listener on 127.0.0.1.

use std::io::ErrorKind;

use wsup_core::client::Connect;
use wsup_testkit::tcp::{closed_port, connects_by_address_and_by_name};
use wsup_tokio::TokioRuntime;

#[tokio::test]
async fn connects_by_address_and_by_name_with_nodelay() {
    connects_by_address_and_by_name(
        |host, port| TokioRuntime.connect(host, port),
        |io| io.get_ref().nodelay().unwrap(),
    )
    .await;
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    let closed = closed_port();
    let error = TokioRuntime.connect("127.0.0.1", closed.port()).await;
    assert_eq!(error.unwrap_err().kind(), ErrorKind::ConnectionRefused);
}
