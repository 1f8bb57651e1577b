//! The server: the layer above the [`Upgrader`]. It accepts connections,
//! runs one tracked task per connection (handshake, then the handler, its
//! panics caught and answered with 1011), and shuts down gracefully.
//!
//! Runtime-free like the rest of the core: it spawns and sleeps through the
//! [`Runtime`] seam and accepts through the binding's [`Listen`] impl (or,
//! for [`crate::serve::serve`], an accept closure). Each binding names it
//! for its own listener: `wsup_tokio::Server` is
//! `Server<TokioRuntime>`, and so on.
//!
//! Graceful shutdown, on the signal given to
//! [`with_graceful_shutdown`](Server::with_graceful_shutdown) or
//! [`Shutdown::trigger`]:
//!
//! 1. accepting stops (the listener is dropped when `run` returns);
//! 2. every open connection is told to go away: it closes with 1001 after
//!    what is queued, the next time it would wait for input, so a handler
//!    in `recv` sees the peer's answer and ends as after any close;
//! 3. the handlers are awaited up to the [shutdown
//!    timeout](Server::shutdown_timeout);
//! 4. the rest are aborted: their connections are dropped, each making one
//!    attempt, without waiting, to send its close 1001 and shut its write
//!    side;
//! 5. `run` returns a [`ShutdownSummary`].

mod accept;
mod connection;
mod shutdown;
mod tasks;
#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::future::{select, Either};

pub use self::shutdown::{Shutdown, Started};

use self::accept::{AcceptError, Backoff};
use self::tasks::Tasks;
use crate::conn::{Notice, WebSocket};
use crate::runtime::{timeout, Runtime};
use crate::upgrader::Upgrader;

/// What a binding provides for [`Server`]: its listener and how to accept
/// on it. Implemented by each binding's runtime type, which is also the
/// [`Runtime`] the server spawns and sleeps on.
pub trait Listen: Runtime + Default {
    /// The listener (a TCP listener, say).
    type Listener: fmt::Debug + Send + Sync + 'static;
    /// An accepted connection.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Accepts the next connection (with the socket options the binding
    /// sets, such as `TCP_NODELAY`).
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<(Self::Io, SocketAddr)>> + Send;
}

/// The default [shutdown timeout](Server::shutdown_timeout): twice the
/// default close timeout (5 s), so that a connection whose handler is in
/// `recv` when the server's 1001 goes out ends by itself even with a peer
/// that never answers (the close timeout ends it), while the whole drain
/// stays well inside the grace period deployment tools give a process
/// before they kill it (30 s on Kubernetes, 90 s under systemd).
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connections aborted at the drain deadline get to be dropped
/// (their last words are written then, without waiting): they end at their
/// task's next poll, so only a runtime stalled by blocking code needs it.
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// What a graceful shutdown did to the connections open when it began.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownSummary {
    /// Connections whose task ended before the shutdown timeout: their
    /// handler returned (or failed its handshake, or panicked).
    pub closed: usize,
    /// Connections still running at the shutdown timeout, aborted.
    pub aborted: usize,
}

/// A WebSocket server on the listener of binding `L`: build it with
/// [`new`](Self::new), then [`run`](Self::run) it with a handler.
///
/// ```no_run
/// # async fn doc<L: wsup_core::server::Listen>(listener: L::Listener) -> std::io::Result<()>
/// # where L::Io: Send {
/// use std::time::Duration;
/// use wsup_core::server::Server;
/// use wsup_core::Upgrader;
///
/// # let ctrl_c = std::future::pending::<()>();
/// let server = Server::<L>::new(listener, Upgrader::new())
///     .with_graceful_shutdown(ctrl_c)
///     .shutdown_timeout(Duration::from_secs(5));
/// let shutdown = server.shutdown_handle();
/// let summary = server
///     .run(move |mut ws, _peer| {
///         let shutdown = shutdown.clone();
///         async move {
///             while let Ok(msg) = ws.recv().await {
///                 if shutdown.is_started() || ws.send(msg).await.is_err() {
///                     break;
///                 }
///             }
///         }
///     })
///     .await?;
/// println!("{} closed, {} aborted", summary.closed, summary.aborted);
/// # Ok(()) }
/// ```
pub struct Server<L: Listen> {
    listener: L::Listener,
    options: Options,
}

impl<L: Listen> fmt::Debug for Server<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("options", &self.options)
            .finish()
    }
}

impl<L: Listen> Server<L> {
    /// A server accepting on `listener` and upgrading with `upgrader`; an
    /// upgrader with no runtime gets `L`'s (its handshake and close
    /// timeouts need one). No shutdown signal: it runs until
    /// [`Shutdown::trigger`] or a fatal accept error.
    pub fn new(listener: L::Listener, upgrader: Upgrader) -> Self {
        Server {
            listener,
            options: Options::new(Arc::new(L::default()), upgrader),
        }
    }

    /// Shuts down gracefully when `signal` completes (ctrl-c, SIGTERM, a
    /// channel).
    pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.options.signal = Some(Box::pin(signal));
        self
    }

    /// How long a graceful shutdown waits for handlers to end before it
    /// aborts the rest. Default [`DEFAULT_SHUTDOWN_TIMEOUT`].
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.options.shutdown_timeout = timeout;
        self
    }

    /// A handle on this server's shutdown: for handlers, to see that it
    /// began, and for the program, to begin it.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.options.shutdown.clone()
    }

    /// Accepts connections and runs `handler` on each in its own task until
    /// shut down; returns what the shutdown did.
    ///
    /// A failed handshake is answered by the upgrader and ends its task; a
    /// panicking handler has its connection closed with 1011. Accept errors
    /// of one connection (reset, aborted) are skipped; running out of file
    /// descriptors or memory pauses accepting, backing off up to a second;
    /// any other accept error shuts the server down as the signal would and
    /// is then returned.
    pub async fn run<H, HF>(self, handler: H) -> io::Result<ShutdownSummary>
    where
        H: Fn(WebSocket<L::Io>, SocketAddr) -> HF + Send + Sync + 'static,
        HF: Future<Output = ()> + Send + 'static,
    {
        let listener = &self.listener;
        self.options.run(|| L::accept(listener), handler).await
    }
}

/// A server's settings, without its listener; runs over an accept closure.
pub(crate) struct Options {
    runtime: Arc<dyn Runtime>,
    upgrader: Upgrader,
    signal: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    shutdown: Shutdown,
    shutdown_timeout: Duration,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("runtime", &self.runtime)
            .field("upgrader", &self.upgrader)
            .field("signal", &self.signal.is_some())
            .field("shutdown", &self.shutdown)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish()
    }
}

impl Options {
    pub(crate) fn new(runtime: Arc<dyn Runtime>, upgrader: Upgrader) -> Self {
        Options {
            upgrader: upgrader.runtime_or(runtime.clone()),
            runtime,
            signal: None,
            shutdown: Shutdown::new(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }

    /// The accept loop, then the drain (see the module docs).
    pub(crate) async fn run<A, AF, T, H, HF>(
        self,
        mut accept: A,
        handler: H,
    ) -> io::Result<ShutdownSummary>
    where
        A: FnMut() -> AF,
        AF: Future<Output = io::Result<(T, SocketAddr)>>,
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        H: Fn(WebSocket<T>, SocketAddr) -> HF + Send + Sync + 'static,
        HF: Future<Output = ()> + Send + 'static,
    {
        let Options {
            runtime,
            upgrader,
            signal,
            shutdown,
            shutdown_timeout,
        } = self;
        let server = Running {
            runtime,
            upgrader: Arc::new(upgrader),
            handler: Arc::new(handler),
            tasks: Arc::new(Tasks::default()),
        };
        let stopped = {
            let shutdown = shutdown.clone();
            async move {
                match signal {
                    Some(signal) => drop(select(signal, shutdown.started()).await),
                    None => shutdown.started().await,
                }
            }
        };
        let mut stopped = pin!(stopped);
        let mut backoff = Backoff::new();
        let mut failed = None;
        loop {
            let accepted = match select(pin!(accept()), stopped.as_mut()).await {
                Either::Left((accepted, _)) => accepted,
                Either::Right(((), _)) => break,
            };
            let error = match accepted {
                Ok((io, peer)) => {
                    backoff.reset();
                    server.admit(io, peer);
                    continue;
                }
                Err(error) => error,
            };
            // Accept errors are reported here once the server logs (issue
            // 17, observability).
            match AcceptError::classify(&error) {
                AcceptError::Connection => {}
                AcceptError::Resources => {
                    let pause = server.runtime.sleep(backoff.pause());
                    if let Either::Right(_) = select(pause, stopped.as_mut()).await {
                        break;
                    }
                }
                AcceptError::Fatal => {
                    failed = Some(error);
                    break;
                }
            }
        }
        shutdown.trigger();
        let summary = server.drain(shutdown_timeout).await;
        match failed {
            Some(error) => Err(error),
            None => Ok(summary),
        }
    }
}

/// What the tasks of a running server share.
struct Running<H> {
    runtime: Arc<dyn Runtime>,
    upgrader: Arc<Upgrader>,
    handler: Arc<H>,
    tasks: Arc<Tasks>,
}

impl<H> Running<H> {
    /// Every accepted connection passes here, and is served in its own
    /// tracked task. Admission control (connection caps: serve it, or
    /// refuse it with 503) decides here.
    fn admit<T, HF>(&self, io: T, peer: SocketAddr)
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        H: Fn(WebSocket<T>, SocketAddr) -> HF + Send + Sync + 'static,
        HF: Future<Output = ()> + Send + 'static,
    {
        let notice = Arc::new(Notice::default());
        let task = connection::run(
            self.upgrader.clone(),
            self.handler.clone(),
            io,
            peer,
            notice.clone(),
        );
        self.tasks.spawn(&*self.runtime, notice, task);
    }

    /// Tells every connection to go away, waits for their tasks up to
    /// `deadline`, aborts the rest.
    async fn drain(&self, deadline: Duration) -> ShutdownSummary {
        let rt = Some(&*self.runtime);
        let open = self.tasks.go_away();
        if timeout(rt, deadline, self.tasks.idle()).await.is_some() {
            return ShutdownSummary {
                closed: open,
                aborted: 0,
            };
        }
        let aborted = self.tasks.abort();
        let _ = timeout(rt, ABORT_GRACE, self.tasks.idle()).await;
        ShutdownSummary {
            closed: open.saturating_sub(aborted),
            aborted,
        }
    }
}
