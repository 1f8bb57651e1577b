//! One connection's task: the handshake (the acceptor's, TLS, then the
//! WebSocket's, under one deadline and the connection caps), then the
//! handler, its panics caught; and the task of a connection refused at
//! accept. The places where a refused handshake and a failed handler end
//! up are marked: that is where they are reported.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::future::CatchUnwind;
use futures_util::FutureExt;

use super::acceptor::Acceptor;
use super::admission::{Admission, Slot};
use super::refuse::refuse;
use crate::conn::{Notice, WebSocket};
use crate::error::{ConnectionCap, HandshakeError};
use crate::handshake::ServerScheme;
use crate::observe;
use crate::runtime::{timeout, Runtime};
use crate::source::RawStream;
use crate::stats::ServerStats;
use crate::upgrader::{PendingUpgrade, Upgrader};

/// What the connection tasks of a server share.
pub(crate) struct Shared<H, A> {
    pub(super) runtime: Arc<dyn Runtime>,
    pub(super) acceptor: A,
    pub(super) upgrader: Arc<Upgrader>,
    pub(super) admission: Arc<Admission>,
    pub(super) handler: H,
    pub(super) stats: Arc<ServerStats>,
}

/// A request a [`Server::run_requests`](super::Server::run_requests)
/// handler routes: its head read, the handshake deadline still running.
pub type Request<T> = PendingUpgrade<'static, RawStream<T>>;

/// A connection the server admitted, on its way to its task: the
/// transport as accepted (before the acceptor's handshake), the peer, the
/// notice the task listens to, and the handshake slot it holds until its
/// head is read and a connection slot taken.
pub(crate) struct Admitted<R> {
    pub(crate) io: R,
    pub(crate) peer: SocketAddr,
    pub(crate) notice: Arc<Notice>,
    pub(crate) handshake: Slot,
}

impl<R> Admitted<R> {
    fn into_parts(self) -> (R, SocketAddr, Arc<Notice>, Slot) {
        (self.io, self.peer, self.notice, self.handshake)
    }
}

/// A transport a connection task can own.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A handler of what a connection task serves (`X`) and the peer's
/// address; what it returns runs as the rest of the task.
pub(crate) trait Handler<X>:
    Fn(X, SocketAddr) -> Self::Task + Send + Sync + 'static
{
    type Task: Future<Output = ()> + Send + 'static;
}

impl<X, F, Task> Handler<X> for F
where
    F: Fn(X, SocketAddr) -> Task + Send + Sync + 'static,
    Task: Future<Output = ()> + Send + 'static,
{
    type Task = Task;
}

/// What a server does with a connection it admitted, once its acceptor
/// made a `T` of it. A panic in the handler ends the connection with 1011
/// and this task only.
pub(crate) trait Serve<T>: Sized + Send + Sync + 'static {
    fn serve<R: Send + 'static, A: Acceptor<R, Io = T>>(
        shared: Arc<Shared<Self, A>>,
        admitted: Admitted<R>,
    ) -> impl Future<Output = ()> + Send + 'static;
}

/// A handler of WebSocket connections ([`Server::run`](super::Server::run)):
/// the server upgrades, then hands the connection over.
pub(crate) struct Upgrades<H>(pub(crate) H);

/// A handler of requests
/// ([`Server::run_requests`](super::Server::run_requests)): it upgrades or
/// answers each itself.
pub(super) struct Routes<H>(pub(super) H);

impl<T: Io, H: Handler<WebSocket<T>>> Serve<T> for Upgrades<H> {
    async fn serve<R: Send + 'static, A: Acceptor<R, Io = T>>(
        shared: Arc<Shared<Self, A>>,
        admitted: Admitted<R>,
    ) {
        let (io, peer, notice, handshake) = admitted.into_parts();
        // The handshake's future (over 3 KiB: the head being read, the
        // request, the 101) is boxed, and the connection lives only inside
        // the handler's future, made and pinned in one expression so that
        // no binding of it, or of the connection, holds a second copy: the
        // task, which lives as long as the connection, is sized for the
        // handler alone. The connection slot is held until this task ends,
        // however it ends.
        let upgrading = Box::pin(async {
            let (pending, slot) = admit(&shared, io, peer, handshake).await?;
            Ok::<_, HandshakeError>((pending.upgrade().await?, slot))
        });
        let (mut span, mut _slot) = (None, None);
        let handling = pin!(match upgrading.await {
            Ok((mut ws, slot)) => {
                _slot = Some(slot);
                ws.attach_notice(notice.clone());
                ws.set_peer_addr(peer);
                // The handler runs in the connection's span: what it logs
                // nests there.
                let in_span = span.insert(ws.observe_span());
                let handling = observe::in_span((shared.handler.0)(ws, peer), in_span);
                AssertUnwindSafe(handling).catch_unwind()
            }
            Err(error) => return observe::handshake_failed(peer, &error),
        });
        handle(handling, &notice, peer, span).await;
    }
}

impl<T: Io, H: Handler<Request<T>>> Serve<T> for Routes<H> {
    async fn serve<R: Send + 'static, A: Acceptor<R, Io = T>>(
        shared: Arc<Shared<Self, A>>,
        admitted: Admitted<R>,
    ) {
        let (io, peer, notice, handshake) = admitted.into_parts();
        let reading = Box::pin(admit(&shared, io, peer, handshake));
        let mut _slot = None;
        let handling = pin!(match reading.await {
            Ok((pending, slot)) => {
                // The head is read: the handshake slot went with `admit`.
                _slot = Some(slot);
                let request = pending.into_shared(shared.upgrader.clone(), notice.clone(), peer);
                AssertUnwindSafe((shared.handler.0)(request, peer)).catch_unwind()
            }
            Err(error) => return observe::handshake_failed(peer, &error),
        });
        handle(handling, &notice, peer, None).await;
    }
}

/// A handler of raw connections
/// ([`Server::run_connections`](super::Server::run_connections)): it
/// speaks the protocol itself (an HTTP server such as hyper's, which
/// upgrades the requests it routes).
pub(super) struct Connections<H>(pub(super) H);

impl<T: Io, H: Handler<T>> Serve<T> for Connections<H> {
    async fn serve<R: Send + 'static, A: Acceptor<R, Io = T>>(
        shared: Arc<Shared<Self, A>>,
        admitted: Admitted<R>,
    ) {
        let (io, peer, notice, handshake) = admitted.into_parts();
        // No head is read here, so the connection counts as open from its
        // accept, for the peer's IP; over a cap, it is answered 503 as an
        // upgrade would be (its TLS handshake done and its head read under
        // the handshake deadline).
        let _slot = match shared.admission.connect(peer.ip().to_canonical()) {
            Ok(slot) => slot,
            Err(cap) => return refused(shared, io, peer, cap, handshake).await,
        };
        // The TLS handshake, holding the handshake place.
        let io = match secure(&shared, io).await {
            Ok((io, _deadline)) => io,
            Err(error) => return observe::handshake_failed(peer, &error),
        };
        drop(handshake);
        let handling = pin!(AssertUnwindSafe((shared.handler.0)(io, peer)).catch_unwind());
        handle(handling, &notice, peer, None).await;
    }
}

/// Runs the handler's future, its panic caught. It is pinned by the
/// caller rather than moved in (an `async fn` would keep a second copy of
/// it) and dropped there after this returns: after the notice says why,
/// not before. `span` is the connection's, when the server made it.
async fn handle<F>(
    handling: Pin<&mut CatchUnwind<AssertUnwindSafe<F>>>,
    notice: &Notice,
    peer: SocketAddr,
    span: Option<observe::Span>,
) where
    F: Future<Output = ()>,
{
    if let Err(panic) = handling.await {
        // Usually the connection was dropped already, while the panic
        // unwound through the handler's future, and told the peer 1011
        // then (see `Driver::last_words`); if it lives on elsewhere, it
        // closes with 1011 now.
        notice.handler_failed();
        observe::handler_panicked(peer, &*panic, span.as_ref());
    }
}

/// Reads the request head and takes a connection slot for its client IP,
/// giving back the handshake slot; or refuses with 503 when a connection
/// cap is reached.
async fn admit<R, A: Acceptor<R>, H>(
    shared: &Shared<H, A>,
    io: R,
    peer: SocketAddr,
    handshake: Slot,
) -> Result<(PendingUpgrade<'_, RawStream<A::Io>>, Slot), HandshakeError> {
    let mut pending = read_head(shared, io).await?;
    let headers = &pending.parts().headers;
    let client = shared.admission.client_ip(peer.ip(), headers);
    // The scheme the browser used: a trusted proxy's word first (it may
    // end TLS, or speak TLS to the server for a plain page), then the
    // acceptor's.
    let scheme = match shared.admission.forwarded_scheme(peer.ip(), headers) {
        None if shared.acceptor.is_tls() => Some(ServerScheme::Https),
        scheme => scheme,
    };
    if let Some(scheme) = scheme {
        pending.parts_mut().extensions.insert(scheme);
    }
    let slot = match shared.admission.connect(client) {
        Ok(slot) => slot,
        Err(cap) => {
            let error = shared.admission.over_capacity(cap);
            return Err(refuse(pending, error, &*shared.runtime, &shared.stats).await);
        }
    };
    drop(handshake);
    Ok((pending, slot))
}

/// A connection refused at accept (a cap of handshakes, or of
/// connections, was reached): reads its request head all the same (under
/// the upgrader's deadline and limits) and answers 503, holding `_slot`,
/// a place in the refusal allowance.
pub(super) async fn refused<R, A: Acceptor<R>, H>(
    shared: Arc<Shared<H, A>>,
    io: R,
    peer: SocketAddr,
    cap: ConnectionCap,
    _slot: Slot,
) {
    let error = match read_head(&shared, io).await {
        Ok(pending) => {
            let error = shared.admission.over_capacity(cap);
            refuse(pending, error, &*shared.runtime, &shared.stats).await
        }
        Err(error) => error,
    };
    observe::handshake_failed(peer, &error);
}

/// Runs the acceptor's handshake (TLS) on `io`, then reads the request
/// head over what it made, under the one deadline [`secure`] returns.
async fn read_head<R, A: Acceptor<R>, H>(
    shared: &Shared<H, A>,
    io: R,
) -> Result<PendingUpgrade<'_, RawStream<A::Io>>, HandshakeError> {
    let (io, deadline) = secure(shared, io).await?;
    shared
        .upgrader
        .read_request_by(RawStream::new(io), deadline)
        .await
}

/// Runs the acceptor's handshake (TLS) on `io` under the handshake
/// deadline, which it returns: what follows (reading the request head)
/// goes on under it, so that a client stalling in either is dropped at the
/// same time. An acceptor done at once (no TLS) costs no timer.
async fn secure<R, A: Acceptor<R>, H>(
    shared: &Shared<H, A>,
    io: R,
) -> Result<(A::Io, Instant), HandshakeError> {
    let deadline = shared.upgrader.endpoint.deadline();
    let mut handshake = pin!(shared.acceptor.handshake(io));
    let io = match handshake.as_mut().now_or_never() {
        Some(done) => done,
        None => {
            let left = deadline.saturating_duration_since(Instant::now());
            timeout(Some(&*shared.runtime), left, handshake)
                .await
                .ok_or(HandshakeError::Timeout)?
        }
    };
    Ok((io.map_err(HandshakeError::Transport)?, deadline))
}
