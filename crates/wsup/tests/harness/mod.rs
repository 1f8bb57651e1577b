//! The test harness shared by every integration test file: one trait over the
//! three runtimes, so each test is written once as `async fn test<R: Rt>()`
//! and instantiated for tokio, smol and async-std by [`runtime_tests!`].
//!
//! The server side uses the binding crates (`wsup-tokio`, `wsup-smol`,
//! `wsup-async-std`) over real sockets on 127.0.0.1; the client side is
//! async-tungstenite, an independent implementation, or the raw-frame client
//! in [`raw`] for what a well-behaved client cannot send.
// Each test file uses a part of the harness.
#![allow(dead_code)]

pub mod client;
pub mod raw;

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::{pin, Pin};
use std::time::Duration;

use async_tungstenite::tungstenite;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::WebSocketStream;
use futures_util::future::{select, Either};
use futures_util::io::{AsyncRead, AsyncWrite};
use futures_util::{FutureExt, StreamExt};
use wsup::server::{Listen, Server};
use wsup::{CloseFrame, HandshakeError, Message, Upgrader, WebSocket};

pub use async_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
pub use async_tungstenite::tungstenite::protocol::frame::Frame;
pub use async_tungstenite::tungstenite::Message as ClientMsg;

/// Every test is cut off after this long: a hang fails, it does not stall.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A boxed, sendable future.
pub type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
/// The server's connection on runtime `R`.
pub type ServerWs<R> = WebSocket<<R as Rt>::ServerIo>;
/// The async-tungstenite client on runtime `R`.
pub type Client<R> = WebSocketStream<<R as Rt>::ClientIo>;
/// The client's handshake request and response types.
pub type ClientRequest = tungstenite::handshake::client::Request;
pub type ClientResponse = tungstenite::handshake::client::Response;

/// What a test needs from a runtime.
pub trait Rt: Send + Sync + Sized + 'static {
    /// The TCP listener.
    type Listener: Send + Sync + 'static;
    /// An accepted stream, as the server's `WebSocket` transport.
    type ServerIo: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug + 'static;
    /// A connected client stream (`futures_io`), for async-tungstenite and
    /// the raw client.
    type ClientIo: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug + 'static;

    /// The binding's runtime, as the server's accept side
    /// (`wsup::server::Server<R::Binding>` is the binding's `Server`).
    type Binding: Listen<Listener = Self::Listener, Io = Self::ServerIo>;

    /// For messages.
    const NAME: &'static str;

    /// The binding's upgrader (with its timers), as its `upgrader()` makes
    /// it.
    fn upgrader() -> Upgrader {
        Upgrader::new().runtime(std::sync::Arc::new(Self::Binding::default()))
    }
    /// Runs a future to completion on a fresh instance of the runtime.
    fn block_on<F: Future>(f: F) -> F::Output;
    /// Runs a task in the background (detached).
    fn spawn_detached(f: BoxFut<()>);
    /// The runtime's timer.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send + 'static;
    /// Binds 127.0.0.1 on a free port.
    fn listen() -> impl Future<Output = (Self::Listener, SocketAddr)> + Send;
    /// Accepts one connection as the binding's `serve` does (TCP_NODELAY
    /// set).
    fn accept(listener: &Self::Listener) -> impl Future<Output = Self::ServerIo> + Send {
        async { Self::Binding::accept(listener).await.expect("accept").0 }
    }
    /// Upgrades with the binding's `upgrade` function.
    fn upgrade(
        upgrader: &Upgrader,
        io: Self::ServerIo,
    ) -> impl Future<Output = Result<ServerWs<Self>, HandshakeError>> + Send;
    /// Connects a plain TCP client (TCP_NODELAY set).
    fn connect(addr: SocketAddr) -> impl Future<Output = Self::ClientIo> + Send;
    /// Shuts the client stream's write side (sends FIN). `AsyncWrite::close`
    /// does not on async-std, whose sockets only flush there.
    fn shutdown_write(io: &mut Self::ClientIo) -> impl Future<Output = ()> + Send;
    /// Runs async-tungstenite's client handshake over `io`; by default the
    /// generic `client_async`, for runtimes whose sockets are `futures_io`.
    fn client(
        request: ClientRequest,
        io: Self::ClientIo,
    ) -> impl Future<Output = Result<(Client<Self>, ClientResponse), tungstenite::Error>> + Send
    {
        async_tungstenite::client_async(request, io)
    }
}

/// The sockets of an [`Rt`] impl: `listen` on 127.0.0.1, `connect` with
/// TCP_NODELAY set, the stream wrapped by `client_io`.
macro_rules! tcp {
    ($($net:ident)::+, |$c:ident| $client_io:expr) => {
        async fn listen() -> (Self::Listener, SocketAddr) {
            let l = $($net)::+::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = l.local_addr().expect("local addr");
            (l, addr)
        }

        async fn connect(addr: SocketAddr) -> Self::ClientIo {
            let $c = $($net)::+::TcpStream::connect(addr).await.expect("connect");
            $c.set_nodelay(true).expect("nodelay");
            $client_io
        }
    };
}

/// tokio: a fresh multi-threaded runtime (two workers) per test.
#[derive(Debug)]
pub struct Tokio;

impl Rt for Tokio {
    type Listener = tokio::net::TcpListener;
    type ServerIo = wsup_tokio::TokioIo<tokio::net::TcpStream>;
    type ClientIo = async_tungstenite::tokio::TokioAdapter<tokio::net::TcpStream>;
    type Binding = wsup_tokio::TokioRuntime;

    const NAME: &'static str = "tokio";

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(f)
    }

    fn spawn_detached(f: BoxFut<()>) {
        drop(tokio::spawn(f));
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep(d)
    }

    tcp!(tokio::net, |s| async_tungstenite::tokio::TokioAdapter::new(
        s
    ));

    fn upgrade(
        upgrader: &Upgrader,
        io: Self::ServerIo,
    ) -> impl Future<Output = Result<ServerWs<Self>, HandshakeError>> + Send {
        wsup_tokio::upgrade(upgrader, io.into_inner())
    }

    async fn shutdown_write(io: &mut Self::ClientIo) {
        futures_util::io::AsyncWriteExt::close(io)
            .await
            .expect("shutdown");
    }

    async fn client(
        request: ClientRequest,
        io: Self::ClientIo,
    ) -> Result<(Client<Self>, ClientResponse), tungstenite::Error> {
        async_tungstenite::tokio::client_async(request, io.into_inner()).await
    }
}

/// smol: `smol::block_on`, tasks on smol's global executor.
#[derive(Debug)]
pub struct Smol;

impl Rt for Smol {
    type Listener = smol::net::TcpListener;
    type ServerIo = smol::net::TcpStream;
    type ClientIo = smol::net::TcpStream;
    type Binding = wsup_smol::SmolRuntime;

    const NAME: &'static str = "smol";

    fn block_on<F: Future>(f: F) -> F::Output {
        smol::block_on(f)
    }

    fn spawn_detached(f: BoxFut<()>) {
        smol::spawn(f).detach();
    }

    async fn sleep(d: Duration) {
        smol::Timer::after(d).await;
    }

    tcp!(smol::net, |s| s);

    fn upgrade(
        upgrader: &Upgrader,
        io: Self::ServerIo,
    ) -> impl Future<Output = Result<ServerWs<Self>, HandshakeError>> + Send {
        wsup_smol::upgrade(upgrader, io)
    }

    async fn shutdown_write(io: &mut Self::ClientIo) {
        io.shutdown(std::net::Shutdown::Write).expect("shutdown");
    }
}

/// async-std: `task::block_on`, tasks on its global executor.
#[derive(Debug)]
pub struct AsyncStd;

impl Rt for AsyncStd {
    type Listener = async_std::net::TcpListener;
    type ServerIo = wsup_async_std::AsyncStdTcp;
    type ClientIo = async_std::net::TcpStream;
    type Binding = wsup_async_std::AsyncStdRuntime;

    const NAME: &'static str = "async-std";

    fn block_on<F: Future>(f: F) -> F::Output {
        async_std::task::block_on(f)
    }

    fn spawn_detached(f: BoxFut<()>) {
        drop(async_std::task::spawn(f));
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send + 'static {
        async_std::task::sleep(d)
    }

    tcp!(async_std::net, |s| s);

    fn upgrade(
        upgrader: &Upgrader,
        io: Self::ServerIo,
    ) -> impl Future<Output = Result<ServerWs<Self>, HandshakeError>> + Send {
        upgrader.upgrade(io)
    }

    async fn shutdown_write(io: &mut Self::ClientIo) {
        io.shutdown(std::net::Shutdown::Write).expect("shutdown");
    }
}

/// Instantiates each listed `async fn name<R: Rt>()` as a `#[test]` on every
/// runtime: `on_tokio::name`, `on_smol::name`, `on_async_std::name`.
///
/// Attributes before a name apply to all three; a bracket after it ignores
/// the test on some runtimes only, with a reason:
/// `name [async_std = "bug: ..."]`.
macro_rules! runtime_tests {
    ($($(#[$attr:meta])* $name:ident $([$($ignore:tt)*])?),* $(,)?) => {
        mod on_tokio {
            $( crate::harness::__runtime_test!(tokio Tokio $name { $(#[$attr])* } [$($($ignore)*)?]); )*
        }
        mod on_smol {
            $( crate::harness::__runtime_test!(smol Smol $name { $(#[$attr])* } [$($($ignore)*)?]); )*
        }
        mod on_async_std {
            $( crate::harness::__runtime_test!(async_std AsyncStd $name { $(#[$attr])* } [$($($ignore)*)?]); )*
        }
    };
}
pub(crate) use runtime_tests;

/// One instantiation of [`runtime_tests!`]: picks out the `ignore` meant
/// for this runtime, if any.
macro_rules! __runtime_test {
    ($rt:ident $ty:ident $name:ident { $($attr:tt)* } []) => {
        #[test]
        $($attr)*
        fn $name() {
            crate::harness::run::<crate::harness::$ty, _>(super::$name::<crate::harness::$ty>());
        }
    };
    (tokio $ty:ident $name:ident { $($attr:tt)* } [tokio = $reason:literal $(, $($rest:tt)*)?]) => {
        crate::harness::__runtime_test!(tokio $ty $name { $($attr)* #[ignore = $reason] } []);
    };
    (smol $ty:ident $name:ident { $($attr:tt)* } [smol = $reason:literal $(, $($rest:tt)*)?]) => {
        crate::harness::__runtime_test!(smol $ty $name { $($attr)* #[ignore = $reason] } []);
    };
    (async_std $ty:ident $name:ident { $($attr:tt)* } [async_std = $reason:literal $(, $($rest:tt)*)?]) => {
        crate::harness::__runtime_test!(async_std $ty $name { $($attr)* #[ignore = $reason] } []);
    };
    ($rt:ident $ty:ident $name:ident { $($attr:tt)* } [$other:ident = $reason:literal $(, $($rest:tt)*)?]) => {
        crate::harness::__runtime_test!($rt $ty $name { $($attr)* } [$($($rest)*)?]);
    };
}
pub(crate) use __runtime_test;

/// `assert!(matches!(value, pattern))`, the failure naming runtime `R` and
/// showing the value: `assert_matches!(R, res, Err(Error::Io(_)))`. The
/// value is matched by reference.
// Some test files match no patterns.
#[allow(unused_macros)]
macro_rules! assert_matches {
    ($R:ident, $value:expr, $($pattern:pat_param)|+ $(if $guard:expr)?) => {{
        let value = &$value;
        assert!(
            matches!(value, $($pattern)|+ $(if $guard)?),
            "[{}] {value:?}",
            <$R as crate::harness::Rt>::NAME
        );
    }};
}
#[allow(unused_imports)]
pub(crate) use assert_matches;

/// Runs one test body on runtime `R`, failing it after [`TEST_TIMEOUT`].
pub fn run<R: Rt, F: Future<Output = ()>>(test: F) {
    // Boxed: the runtimes' `block_on` wrappers move the future through many
    // stack frames, which in debug builds overflows the 2 MiB test thread
    // stack with async-std when the future is held inline.
    let test = Box::pin(test);
    R::block_on(Box::pin(async move {
        if timeout::<R, _>(TEST_TIMEOUT, test).await.is_none() {
            panic!(
                "[{}] test did not finish within {:?}",
                R::NAME,
                TEST_TIMEOUT
            );
        }
    }))
}

/// `fut`'s output, or `None` if `d` passes first.
pub async fn timeout<R: Rt, F: Future>(d: Duration, fut: F) -> Option<F::Output> {
    match select(pin!(fut), pin!(R::sleep(d))).await {
        Either::Left((v, _)) => Some(v),
        Either::Right(((), _)) => None,
    }
}

/// `fut`'s output; panics with `what` if it takes longer than `d`.
pub async fn within<R: Rt, F: Future>(d: Duration, what: &str, fut: F) -> F::Output {
    match timeout::<R, _>(d, fut).await {
        Some(v) => v,
        None => panic!("[{}] {what}: not done within {d:?}", R::NAME),
    }
}

/// What `io` sends until it ends or fails (a reset, say), read within 5 s
/// (`what` names the wait in the panic).
pub async fn read_what_comes<R: Rt, S: AsyncRead + Unpin>(io: &mut S, what: &str) -> Vec<u8> {
    read_until_the_end::<R, _>(io, what).await.0
}

/// What a server's `run` returned (it must, within 5 s, and without error).
pub async fn run_returns<R: Rt>(
    running: BoxFut<std::io::Result<wsup::server::ShutdownSummary>>,
) -> wsup::server::ShutdownSummary {
    within::<R, _>(Duration::from_secs(5), "run returns", running)
        .await
        .unwrap_or_else(|e| panic!("[{}] run failed: {e}", R::NAME))
}

/// Shuts the server down by `handle`; what its `run` returned.
pub async fn stop<R: Rt>(
    handle: wsup::server::Shutdown,
    running: BoxFut<std::io::Result<wsup::server::ShutdownSummary>>,
) -> wsup::server::ShutdownSummary {
    handle.trigger();
    run_returns::<R>(running).await
}

/// Everything `io` sends until it ends, read within 5 s (`what` names the
/// wait in the panic); the read's error where the end is not clean.
pub async fn read_to_end_within<R: Rt, S: AsyncRead + Unpin>(
    io: &mut S,
    what: &str,
) -> std::io::Result<Vec<u8>> {
    let (got, end) = read_until_the_end::<R, _>(io, what).await;
    end.map(|_| got)
}

/// What `io` sent until it ended or failed, within 5 s, and how it ended.
async fn read_until_the_end<R: Rt, S: AsyncRead + Unpin>(
    io: &mut S,
    what: &str,
) -> (Vec<u8>, std::io::Result<usize>) {
    use futures_util::AsyncReadExt;
    let mut got = Vec::new();
    let end = within::<R, _>(Duration::from_secs(5), what, io.read_to_end(&mut got)).await;
    (got, end)
}

/// Spawns `f` as a detached task; the returned future yields its output, and
/// re-raises its panic (so an assertion failing in a server task fails the
/// test with its own message).
pub fn spawn<R: Rt, T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> BoxFut<T> {
    let (tx, rx) = futures_channel::oneshot::channel();
    R::spawn_detached(Box::pin(async move {
        let r = AssertUnwindSafe(f).catch_unwind().await;
        let _ = tx.send(r);
    }));
    Box::pin(async move {
        match rx.await {
            Ok(Ok(v)) => v,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("task was dropped before finishing"),
        }
    })
}

/// Listens, and in a task accepts one connection, upgrades it with
/// `upgrader` and hands the result to `handler`. Returns the address and the
/// handler's result to come.
pub async fn serve_one<R, T, F, Fut>(upgrader: Upgrader, handler: F) -> (SocketAddr, BoxFut<T>)
where
    R: Rt,
    T: Send + 'static,
    F: FnOnce(Result<ServerWs<R>, HandshakeError>) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let (listener, addr) = R::listen().await;
    let task = spawn::<R, T>(async move {
        let io = R::accept(&listener).await;
        let res = R::upgrade(&upgrader, io).await;
        handler(res).await
    });
    (addr, task)
}

/// The binding's [`Server`] on a fresh listener on 127.0.0.1, and its
/// address.
pub async fn server<R: Rt>(upgrader: Upgrader) -> (Server<R::Binding>, SocketAddr) {
    let (listener, addr) = R::listen().await;
    (Server::new(listener, upgrader), addr)
}

/// As [`serve_one`], for a handshake that must succeed.
pub async fn serve_ws<R, T, F, Fut>(upgrader: Upgrader, handler: F) -> (SocketAddr, BoxFut<T>)
where
    R: Rt,
    T: Send + 'static,
    F: FnOnce(ServerWs<R>) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    serve_one::<R, T, _, _>(upgrader, move |res| {
        let ws = res.unwrap_or_else(|e| panic!("[{}] server handshake failed: {e}", R::NAME));
        handler(ws)
    })
    .await
}

/// The message and frame limits of the tests' upgrader and dialer: room
/// for the multi-MiB messages they send (the defaults are 1 MiB; tests of
/// the defaults themselves use the binding's own upgrader or dialer).
pub const BIG_MESSAGE: usize = 64 << 20;
/// See [`BIG_MESSAGE`].
pub const BIG_FRAME: usize = 16 << 20;

/// The upgrader most tests use: the binding's, with a short handshake
/// timeout and the [`BIG_MESSAGE`] limits.
pub fn upgrader<R: Rt>() -> Upgrader {
    R::upgrader()
        .handshake_timeout(Duration::from_secs(5))
        .max_message_size(BIG_MESSAGE)
        .max_frame_size(BIG_FRAME)
}

/// Echoes data messages until the peer closes; returns the peer's close
/// frame, or the error the connection failed with.
pub async fn echo<T>(mut ws: WebSocket<T>) -> Result<Option<CloseFrame>, wsup::Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        match ws.recv().await? {
            m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
            Message::Close(frame) => return Ok(frame),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

/// `ws://addr/` as a client request.
pub fn request(addr: SocketAddr) -> ClientRequest {
    format!("ws://{addr}/")
        .into_client_request()
        .expect("request")
}

/// Connects async-tungstenite to `addr` with `request`.
pub async fn connect_with<R: Rt>(
    addr: SocketAddr,
    request: ClientRequest,
) -> Result<(Client<R>, ClientResponse), tungstenite::Error> {
    let io = R::connect(addr).await;
    R::client(request, io).await
}

/// Connects async-tungstenite to `ws://addr/`; the handshake must succeed.
pub async fn connect<R: Rt>(addr: SocketAddr) -> Client<R> {
    match connect_with::<R>(addr, request(addr)).await {
        Ok((ws, _)) => ws,
        Err(e) => panic!("[{}] client handshake failed: {e}", R::NAME),
    }
}

/// The next message the client receives (failing on error or end).
pub async fn client_next<R: Rt>(
    ws: &mut WebSocketStream<impl AsyncRead + AsyncWrite + Unpin>,
) -> ClientMsg {
    match ws.next().await {
        Some(Ok(m)) => m,
        Some(Err(e)) => panic!("[{}] client read failed: {e}", R::NAME),
        None => panic!("[{}] client stream ended", R::NAME),
    }
}

/// Reads until the server's close frame; returns it as (code, reason).
/// Data messages before it are returned too.
pub async fn client_until_close<R: Rt>(
    ws: &mut WebSocketStream<impl AsyncRead + AsyncWrite + Unpin>,
) -> (Vec<ClientMsg>, Option<(u16, String)>) {
    let mut before = Vec::new();
    loop {
        match client_next::<R>(ws).await {
            ClientMsg::Close(f) => {
                return (
                    before,
                    f.map(|f| (u16::from(f.code), f.reason.as_str().to_owned())),
                );
            }
            m => before.push(m),
        }
    }
}

/// Sends a close frame from the client and reads until the server's reply;
/// returns the reply's (code, reason).
pub async fn client_close<R: Rt>(
    ws: &mut WebSocketStream<impl AsyncRead + AsyncWrite + Unpin>,
    code: u16,
    reason: &str,
) -> Option<(u16, String)> {
    let frame = tungstenite::protocol::CloseFrame {
        code: code.into(),
        reason: reason.into(),
    };
    ws.send(ClientMsg::Close(Some(frame)))
        .await
        .expect("client sends close");
    client_until_close::<R>(ws).await.1
}

/// Checks that `took` is in `[at_least, under)`: a deadline kept, neither
/// early nor (much) late.
pub fn assert_took<R: Rt>(took: Duration, at_least: Duration, under: Duration, what: &str) {
    assert!(
        took >= at_least,
        "[{}] {what}: too early, after {took:?}",
        R::NAME
    );
    assert!(
        took < under,
        "[{}] {what}: too late, after {took:?}",
        R::NAME
    );
}

/// Frame `i` of a fragmented client message of `kind`: the first is a
/// `kind` frame, the rest continuations; `fin` on the last.
pub fn fragment(i: usize, kind: Data, payload: impl Into<Vec<u8>>, fin: bool) -> ClientMsg {
    let op = if i == 0 { kind } else { Data::Continue };
    ClientMsg::Frame(Frame::message(payload.into(), OpCode::Data(op), fin))
}

/// Checks a frame from the server: its FIN bit, opcode and payload.
pub fn assert_frame<R: Rt>(f: &raw::RawFrame, fin: bool, opcode: u8, payload: &[u8]) {
    assert_eq!(
        (f.fin, f.opcode, f.payload.as_slice()),
        (fin, opcode, payload),
        "[{}]",
        R::NAME
    );
}

/// As [`client_close`], checking that the server's reply echoes `code`.
pub async fn client_close_echoed<R: Rt>(
    ws: &mut WebSocketStream<impl AsyncRead + AsyncWrite + Unpin>,
    code: u16,
    reason: &str,
) {
    let echoed = client_close::<R>(ws, code, reason).await;
    assert_eq!(
        echoed.map(|e| e.0),
        Some(code),
        "[{}] echo of close {code}",
        R::NAME
    );
}

/// Deterministic bytes whose value depends on the position (so a shifted,
/// dropped or duplicated byte is caught), `seed` varying them per message.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut x = 0x9E37_79B9u32 ^ u32::from(seed);
    (0..len)
        .map(|i| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8 ^ (i as u8)
        })
        .collect()
}

/// Printable ASCII text of exactly `len` bytes, position-dependent.
pub fn text_pattern(len: usize, seed: u8) -> String {
    pattern(len, seed)
        .into_iter()
        .map(|b| char::from(b' ' + b % 95))
        .collect()
}

/// Frames a client masks, for building raw byte sequences.
pub fn masked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    wsup_testkit::client_frame(opcode, fin, payload)
}

/// Writes `bytes` on a fresh raw connection to an echo server built from
/// `upgrader`; the server must fail the connection with close code `code`.
/// Returns the frames echoed before the close and the server's error.
pub async fn violation<R: Rt>(
    upgrader: Upgrader,
    bytes: Vec<u8>,
    code: u16,
) -> (Vec<raw::RawFrame>, wsup::Error) {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader, echo).await;
    let mut c = raw::raw_connect::<R>(addr).await;
    c.write_raw(&bytes).await;
    let (before, close) =
        within::<R, _>(Duration::from_secs(5), "close frame", c.read_until_close()).await;
    assert_eq!(
        close.as_ref().map(|c| c.0),
        Some(code),
        "[{}] close frame {close:?}",
        R::NAME
    );
    // The server drains input until the peer goes; go.
    drop(c);
    let err = match server.await {
        Ok(close) => panic!(
            "[{}] the connection must fail, but closed with {close:?}",
            R::NAME
        ),
        Err(e) => e,
    };
    assert_eq!(
        err.close_code(),
        Some(wsup::CloseCode(code)),
        "[{}] {err:?}",
        R::NAME
    );
    (before, err)
}
