//! No `runtime-*` feature: the programs build, and say so when run. The
//! types are empty: nothing here is ever reached past [`block_on`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::time::Duration;

use wsup::client::{ClientError, Connect, ConnectFuture, Dialer, MaybeTls};
use wsup::futures_io::{AsyncRead, AsyncWrite};
use wsup::http::Response;
use wsup::runtime::{BoxTask, Sleep};
use wsup::server::Listen;
use wsup::{Runtime, Upgrader};

/// No listener can exist without a runtime.
#[derive(Debug)]
pub enum TcpListener {}

impl TcpListener {
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match *self {}
    }
}

/// No connection can exist without a runtime.
#[derive(Debug)]
pub enum TcpStream {}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match *self {}
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        match *self {}
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        match *self {}
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        match *self {}
    }
}

/// Prints that the program was built without a runtime, and exits with
/// status 2; `main` never runs.
pub fn block_on<T>(main: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    drop(main);
    let program = std::env::args().next().unwrap_or_default();
    let name = std::path::Path::new(&program)
        .file_stem()
        .map_or_else(|| "example".into(), |s| s.to_string_lossy());
    eprintln!("{name}: built without a runtime; enable one of the runtime-* features");
    std::process::exit(2)
}

pub fn upgrader() -> Upgrader {
    Upgrader::new()
}

pub fn runtime() -> std::sync::Arc<dyn Runtime> {
    std::sync::Arc::new(NoRuntime)
}

pub async fn bind(_addr: &str) -> io::Result<TcpListener> {
    Err(io::Error::other("built without a runtime"))
}

pub fn listener_from_std(_listener: std::net::TcpListener) -> io::Result<TcpListener> {
    Err(io::Error::other("built without a runtime"))
}

/// Never reached: there is no runtime to wait on.
pub async fn shutdown_signal() {}

/// No runtime: nothing sleeps, nothing is spawned, nothing is accepted.
#[derive(Debug, Default)]
pub struct NoRuntime;

impl Runtime for NoRuntime {
    fn sleep(&self, _: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(std::future::pending())
    }

    fn spawn(&self, task: BoxTask) {
        drop(task);
    }
}

impl Listen for NoRuntime {
    type Listener = TcpListener;
    type Io = TcpStream;

    async fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
        match *listener {}
    }
}

/// The server the programs run, over no runtime.
pub type Server = wsup::server::Server<NoRuntime>;

/// The TLS acceptor the server takes (`--tls`): never used here.
pub use wsup::tls::TlsAcceptor;

/// No runtime: nothing is connected.
impl Connect for NoRuntime {
    type Stream = TcpStream;

    fn connect<'a>(&'a self, _host: &'a str, _port: u16) -> ConnectFuture<'a, TcpStream> {
        Box::pin(async { Err(io::Error::other("built without a runtime")) })
    }
}

/// A client connection, over no runtime.
pub type ClientWebSocket = wsup::WebSocket<MaybeTls<TcpStream>>;

pub fn dialer() -> Dialer {
    Dialer::new()
}

pub async fn connect_with(
    dialer: &Dialer,
    url: &str,
) -> Result<(ClientWebSocket, Response<()>), ClientError> {
    dialer.connect(&NoRuntime, url).await
}
