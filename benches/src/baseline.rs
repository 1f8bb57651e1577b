//! The accept loop of the baseline servers (`tcp_echo`, `tungstenite_echo`;
//! `fastwebsockets_echo` on tokio): the runtime named on the command line, a
//! listener that prints `listening on ADDR` once it accepts (the line
//! `cargo xtask bench` waits for), and a task per connection with
//! `TCP_NODELAY` set. Each runtime has
//! the same shape as wsup's binding for it: tokio on a current-thread
//! runtime; smol and async-std with connection tasks on their global
//! executors (bounded by `SMOL_THREADS=1` / `ASYNC_STD_THREAD_COUNT=1` and
//! the harness's pinning to one core), and the same 5 ms timer of
//! async-io's that wsup's `Server` keeps on those two runtimes
//! (`wsup_core::runtime::ReactorTicks`), without which async-io's fallback
//! thread takes the reactor from a server that was idle for 20 ms and
//! hands it every batch of input (two context switches a batch).
//!
//! Only the loop is shared; what a server does with a connection, and so the
//! work per message, stays in its binary ([`Handler`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use futures_io::{AsyncRead, AsyncWrite};
use wsup_core::runtime::{ReactorTicks, Runtime};

/// What a baseline server does with one accepted connection, run as a task
/// of its own. tokio hands over its own stream type, so that a server can
/// read and write it through tokio's IO traits with no adapter in between;
/// smol and async-std hand over theirs, which are `futures_io` streams.
pub trait Handler: Clone + Send + 'static {
    /// Serves a connection accepted on tokio.
    fn tokio(self, stream: tokio::net::TcpStream) -> impl Future<Output = ()> + Send + 'static;

    /// Serves a connection accepted on smol or async-std.
    fn futures_io<S>(self, stream: S) -> impl Future<Output = ()> + Send + 'static
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static;
}

/// Binds `addr` on `runtime` (`tokio`, `smol` or `async-std`) and runs
/// `handler` on every connection, until the process is killed; returns only
/// if the runtime or the listener cannot be set up. An unknown runtime is a
/// usage error of `program`: it says so and exits with status 2.
pub fn serve<H: Handler>(program: &str, runtime: &str, addr: &str, handler: H) -> io::Result<()> {
    match runtime {
        "tokio" => serve_tokio(addr, |stream| handler.clone().tokio(stream)),
        "smol" => smol::block_on(async {
            use smol::net::{TcpListener, TcpStream};
            let _ticks = async_io_ticks(wsup_smol::SmolRuntime);
            let listener = TcpListener::bind(addr).await?;
            let spawn = |stream| smol::spawn(handler.clone().futures_io(stream)).detach();
            let accept = || listener.accept();
            listen(listener.local_addr(), accept, TcpStream::set_nodelay, spawn).await
        }),
        "async-std" => async_std::task::block_on(async {
            use async_std::net::{TcpListener, TcpStream};
            let _ticks = async_io_ticks(wsup_async_std::AsyncStdRuntime);
            let listener = TcpListener::bind(addr).await?;
            let spawn = |stream| drop(async_std::task::spawn(handler.clone().futures_io(stream)));
            let accept = || listener.accept();
            listen(listener.local_addr(), accept, TcpStream::set_nodelay, spawn).await
        }),
        other => {
            eprintln!("{program}: unknown runtime `{other}`");
            std::process::exit(2)
        }
    }
}

/// The ticks wsup's `Server` keeps on a runtime on async-io, for as long as
/// the baseline serves.
fn async_io_ticks(runtime: impl Runtime) -> ReactorTicks {
    ReactorTicks::for_runtime(&runtime).expect("a runtime on async-io ticks")
}

/// Binds `addr` on a tokio runtime on this thread alone, as wsup's tokio
/// binding is benched, and runs `handle` on every connection as a task of
/// its own: [`serve`]'s tokio case, and the whole of a server that runs on
/// tokio only (`fastwebsockets_echo`).
pub fn serve_tokio<F, Fut>(addr: &str, handle: F) -> io::Result<()>
where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    use tokio::net::{TcpListener, TcpStream};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        let spawn = |stream| drop(tokio::spawn(handle(stream)));
        let accept = || listener.accept();
        listen(listener.local_addr(), accept, TcpStream::set_nodelay, spawn).await
    })
}

/// Prints the bound address, then sets `TCP_NODELAY` on every accepted
/// stream and hands it to `spawn`; a failed accept is skipped.
async fn listen<S, A>(
    local_addr: io::Result<SocketAddr>,
    accept: impl Fn() -> A,
    nodelay: fn(&S, bool) -> io::Result<()>,
    spawn: impl Fn(S),
) -> io::Result<()>
where
    A: Future<Output = io::Result<(S, SocketAddr)>>,
{
    println!("listening on {}", local_addr?);
    loop {
        if let Ok((stream, _)) = accept().await {
            let _ = nodelay(&stream, true);
            spawn(stream);
        }
    }
}
