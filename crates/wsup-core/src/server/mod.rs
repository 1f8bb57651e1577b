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
//!
//! TLS: an [`Acceptor`] set with [`acceptor`](Server::acceptor) runs its
//! handshake in each connection's task, under the handshake deadline and
//! the caps, never in the accept loop; its failure is the connection's
//! alone (see [`Acceptor`]).
//!
//! Connection caps ([`max_connections`](Server::max_connections),
//! [`max_handshakes`](Server::max_handshakes), and both per client IP):
//! a connection takes a handshake slot at accept and a connection slot
//! once its request head is read, each given back when its task ends.
//! Over a cap the client is answered `503 Service Unavailable` with
//! `Retry-After`, then the connection is shut gracefully; refusals in
//! progress have their own small allowance, past which an over-cap
//! connection is closed at once.

mod accept;
mod acceptor;
mod admission;
mod client_ip;
mod connection;
mod refuse;
mod running;
mod shutdown;
mod tasks;
#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

pub use self::acceptor::{Acceptor, Plain};
pub use self::admission::{DEFAULT_MAX_REFUSALS, DEFAULT_RETRY_AFTER};
pub use self::client_ip::TrustedProxies;
pub use self::shutdown::{Shutdown, Started};

pub use self::connection::Request;
pub(crate) use self::connection::Upgrades;
use self::connection::{Connections, Routes};
pub(crate) use self::running::Options;
use crate::conn::WebSocket;
use crate::runtime::Runtime;
use crate::stats::ServerStats;
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
/// [`new`](Self::new), then [`run`](Self::run) it with a handler. `A` is
/// its [`Acceptor`]: [`Plain`] (none) until [`acceptor`](Self::acceptor)
/// sets one, a TLS acceptor say.
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
///     .shutdown_timeout(Duration::from_secs(5))
///     .max_connections(10_000)
///     .max_handshakes(256);
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
pub struct Server<L: Listen, A = Plain> {
    listener: L::Listener,
    acceptor: A,
    options: Options,
}

impl<L: Listen, A: fmt::Debug> fmt::Debug for Server<L, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("acceptor", &self.acceptor)
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
            acceptor: Plain,
            options: Options::new(Arc::new(L::default()), upgrader),
        }
    }
}

impl<L: Listen, A> Server<L, A> {
    /// Runs `acceptor`'s handshake (TLS) on each accepted connection
    /// before its request head is read: in the connection's task, under
    /// the upgrader's [handshake timeout](Upgrader::handshake_timeout)
    /// (one deadline over both) and holding its [handshake
    /// place](Self::max_handshakes). The handler gets a
    /// `WebSocket<A2::Io>` (over the TLS stream). A failed handshake ends
    /// its connection only, logged at DEBUG as
    /// [`HandshakeError::Transport`](crate::HandshakeError::Transport).
    /// The bindings' `tls` feature gives the TLS acceptors (see
    /// [`Acceptor`]).
    pub fn acceptor<A2: Acceptor<L::Io>>(self, acceptor: A2) -> Server<L, A2> {
        Server {
            listener: self.listener,
            acceptor,
            options: self.options,
        }
    }

    /// Shuts down gracefully when `signal` completes (ctrl-c, SIGTERM, a
    /// channel).
    pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.options.signal = Some(crate::opaque::Opaque(Box::pin(signal)));
        self
    }

    /// How long a graceful shutdown waits for handlers to end before it
    /// aborts the rest. Default [`DEFAULT_SHUTDOWN_TIMEOUT`].
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.options.shutdown_timeout = timeout;
        self
    }

    /// The most WebSocket connections open at once; default: no cap.
    ///
    /// A connection takes its place when its request head is read, before
    /// the 101, and gives it back when its task ends, however it ends (the
    /// handler returned or panicked, or it was aborted at shutdown). Over
    /// the cap a client is answered `503 Service Unavailable` with
    /// [`Retry-After`](Self::retry_after) and `Connection: close`: its
    /// request head is read first (under the upgrader's handshake timeout
    /// and head limits) and the connection is shut gracefully after (its
    /// write side shut, its input drained for up to 64 KiB or a second),
    /// so that the client reads the answer rather than a reset. The
    /// refusal goes through the upgrader's
    /// [`on_error`](Upgrader::on_error) hook, as
    /// [`HandshakeError::OverCapacity`](crate::HandshakeError::OverCapacity).
    /// When the cap is reached already at accept, the client is refused
    /// within the [refusal allowance](Self::max_refusals).
    ///
    /// No cap by default, as in hyper and axum: the right number depends
    /// on the memory and file descriptors of the host (each connection
    /// holds a socket, a task and its buffers), which only its operator
    /// knows.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.options.caps.connections = Some(n);
        self
    }

    /// The most handshakes in progress at once: connections accepted
    /// whose request head is not read and answered yet. Default: no cap.
    ///
    /// A handshake takes its place when accepted and gives it back once
    /// answered (or when its task ends). This is what bounds slow clients
    /// (slowloris): one that sends half a request holds its place until
    /// the upgrader's [handshake
    /// timeout](Upgrader::handshake_timeout). Over the cap, a client is
    /// still read and answered 503, as by
    /// [`max_connections`](Self::max_connections), within the [refusal
    /// allowance](Self::max_refusals).
    pub fn max_handshakes(mut self, n: usize) -> Self {
        self.options.caps.handshakes = Some(n);
        self
    }

    /// The most WebSocket connections open at once from one client IP
    /// (see [`trusted_proxies`](Self::trusted_proxies) for what the client
    /// IP is). Default: no cap. Counted and refused as by
    /// [`max_connections`](Self::max_connections), the check made once
    /// the request head is read (the client IP may come from it).
    ///
    /// An IPv6 client is its whole address: a host given a /64 can use
    /// many.
    pub fn max_connections_per_ip(mut self, n: usize) -> Self {
        self.options.caps.connections_per_ip = Some(n);
        self
    }

    /// The most handshakes in progress at once from one client IP.
    /// Default: no cap.
    ///
    /// Checked at accept, on the peer's address: a trusted proxy's
    /// connections are not counted per IP here (their client is known
    /// only from the head, and a reverse proxy forwards whole heads, so a
    /// slow client does not hold a handshake through it; the total
    /// [`max_handshakes`](Self::max_handshakes) still applies).
    pub fn max_handshakes_per_ip(mut self, n: usize) -> Self {
        self.options.caps.handshakes_per_ip = Some(n);
        self
    }

    /// The most clients refused at accept being answered at once (their
    /// 503 needs their request head, so up to a handshake timeout each);
    /// past it, an over-cap connection is closed at once, unanswered.
    /// Default [`DEFAULT_MAX_REFUSALS`] (64).
    ///
    /// The allowance keeps refusing bounded: without it, a flood of
    /// connections past the caps would have the server hold a socket and
    /// a task for each for up to a handshake timeout, the very thing the
    /// caps are there to prevent. So the server holds at most
    /// `max_handshakes + max_refusals` connections before the 101 (a
    /// refusal after the head, by a per-IP or total connection cap, keeps
    /// the handshake's place). 64 answers bursts of well-behaved clients
    /// with a 503 they can act on, at a few KiB each.
    pub fn max_refusals(mut self, n: usize) -> Self {
        self.options.caps.refusals = n;
        self
    }

    /// What the `Retry-After` header of the 503 says, in whole seconds
    /// (rounded up). Default [`DEFAULT_RETRY_AFTER`] (5 s).
    ///
    /// A place frees when a connection ends, and WebSocket connections
    /// are long-lived: a client told to come back in one second would most
    /// likely find the server as full, and a fleet of them reconnecting
    /// every second adds load to a server already at its cap. Five seconds
    /// spreads retries while keeping a freed place from waiting long.
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.options.caps.retry_after = after;
        self
    }

    /// The reverse proxies whose forwarding header gives the client IP
    /// for the per-IP caps, and the scheme the client used for the
    /// [same-origin check](crate::OriginPolicy::SameOrigin) (see
    /// [`TrustedProxies`]). None by default: the client IP is the peer's
    /// address, and no header is believed.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.options.caps.trusted = Some(proxies);
        self
    }

    /// A handle on this server's shutdown: for handlers, to see that it
    /// began, and for the program, to begin it.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.options.shutdown.clone()
    }

    /// This server's counters (open connections, accepted, refused by
    /// status, closed by close code), live while it runs; with the
    /// `metrics` feature they are also published through the `metrics`
    /// facade.
    pub fn stats(&self) -> Arc<ServerStats> {
        self.options.stats.clone()
    }

    /// Counts in `stats` instead of counters of its own (to share them
    /// between servers: one per listener, say).
    pub fn server_stats(mut self, stats: Arc<ServerStats>) -> Self {
        self.options.stats = stats;
        self
    }

    /// Accepts connections and runs `handler` on each in its own task until
    /// shut down; returns what the shutdown did.
    ///
    /// A failed handshake is answered by the upgrader and ends its task, as
    /// does a failed [acceptor](Self::acceptor) handshake (TLS): both are
    /// the connection's, never the server's. A panicking handler has its
    /// connection closed with 1011. Accept errors of one connection (reset,
    /// aborted) are skipped; running out of file
    /// descriptors or memory pauses accepting, backing off up to a second;
    /// any other accept error shuts the server down as the signal would and
    /// is then returned.
    pub async fn run<H, HF>(self, handler: H) -> io::Result<ShutdownSummary>
    where
        A: Acceptor<L::Io>,
        H: Fn(WebSocket<A::Io>, SocketAddr) -> HF + Send + Sync + 'static,
        HF: Future<Output = ()> + Send + 'static,
    {
        let listener = &self.listener;
        self.options
            .run(|| L::accept(listener), self.acceptor, Upgrades(handler))
            .await
    }

    /// As [`run`](Self::run), for a handler that routes: it gets each
    /// request once its head is read (under the handshake deadline and the
    /// connection caps) and answers it, with
    /// [`upgrade`](crate::PendingUpgrade::upgrade) or a plain
    /// [`respond`](crate::PendingUpgrade::respond). A connection it upgrades is
    /// one of the server's like any other: it goes away with 1001 on
    /// shutdown, and closes with 1011 if the handler panics.
    ///
    /// ```no_run
    /// # async fn doc<L: wsup_core::server::Listen>(listener: L::Listener) -> std::io::Result<()>
    /// # where L::Io: Send {
    /// use wsup_core::http::{Response, StatusCode};
    /// use wsup_core::server::Server;
    /// use wsup_core::{Bytes, Upgrader};
    ///
    /// Server::<L>::new(listener, Upgrader::new())
    ///     .run_requests(|request, _peer| async move {
    ///         if request.parts().uri.path() == "/ws" {
    ///             if let Ok(mut ws) = request.upgrade().await {
    ///                 while let Ok(msg) = ws.recv().await {
    ///                     if msg.is_data() && ws.send(msg).await.is_err() {
    ///                         break;
    ///                     }
    ///                 }
    ///             }
    ///         } else {
    ///             let mut res = Response::new(Bytes::from_static(b"Not Found"));
    ///             *res.status_mut() = StatusCode::NOT_FOUND;
    ///             let _ = request.respond(res).await;
    ///         }
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn run_requests<H, HF>(self, handler: H) -> io::Result<ShutdownSummary>
    where
        A: Acceptor<L::Io>,
        H: Fn(Request<A::Io>, SocketAddr) -> HF + Send + Sync + 'static,
        HF: Future<Output = ()> + Send + 'static,
    {
        let listener = &self.listener;
        self.options
            .run(|| L::accept(listener), self.acceptor, Routes(handler))
            .await
    }

    /// As [`run`](Self::run), for a handler that speaks HTTP itself (a
    /// hyper connection, upgrading with `wsup-hyper`): it gets each
    /// accepted connection, in a tracked task of its own, its panics
    /// caught, and the server keeps its accept loop, its caps and its
    /// graceful shutdown.
    ///
    /// The server reads no request here, so it cannot tell the connection
    /// to go away: on shutdown the handler sees
    /// [`Shutdown::started`](Shutdown::started) (from
    /// [`shutdown_handle`](Self::shutdown_handle)) and ends by itself (hyper's
    /// `graceful_shutdown`, a close 1001 on its WebSockets) before the
    /// [shutdown timeout](Self::shutdown_timeout), past which it is
    /// aborted. A connection counts against
    /// [`max_connections`](Self::max_connections) and the per-IP cap (the
    /// peer's address) from its accept to the end of its task; the
    /// handshake caps bound nothing past the accept (bound slow request
    /// heads with the HTTP server's own timeout: hyper's
    /// `header_read_timeout`). With an [acceptor](Self::acceptor), the
    /// handler gets the connection once its TLS handshake is done (under
    /// the upgrader's handshake timeout, holding a handshake place).
    ///
    /// The caps count connections, not WebSockets: for a WebSocket to
    /// count, the handler runs it in its own task (as `hello` does, once
    /// hyper hands the connection over) or waits for it before it returns
    /// (as `hello-axum` does for the ones axum's extractor spawns). Over
    /// HTTP/2 one connection carries as many WebSockets as its concurrent
    /// streams (hyper's `max_concurrent_streams`): bound those too.
    pub async fn run_connections<H, HF>(self, handler: H) -> io::Result<ShutdownSummary>
    where
        A: Acceptor<L::Io>,
        H: Fn(A::Io, SocketAddr) -> HF + Send + Sync + 'static,
        HF: Future<Output = ()> + Send + 'static,
    {
        let listener = &self.listener;
        self.options
            .run(|| L::accept(listener), self.acceptor, Connections(handler))
            .await
    }
}
