//! The running server: the accept loop (what an accept error does, see
//! `accept.rs`), admission of each accepted connection into a tracked task
//! (the caps decide, see `admission/`), and the drain at shutdown.

use crate::opaque::Opaque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{select, Either};

use super::accept::{AcceptError, Backoff};
use super::acceptor::Acceptor;
use super::admission::{Admission, AtAccept, Caps};
use super::connection::{self, Admitted, Serve, Shared};
use super::tasks::Tasks;
use super::{Shutdown, ShutdownSummary, DEFAULT_SHUTDOWN_TIMEOUT};
use crate::conn::Notice;
use crate::observe;
use crate::runtime::{timeout, ReactorTicks, Runtime};
use crate::stats::ServerStats;
use crate::upgrader::Upgrader;

/// How long connections aborted at the drain deadline get to be dropped
/// (their last words are written then, without waiting): they end at their
/// task's next poll, so only a runtime stalled by blocking code needs it.
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// A server's settings, without its listener; runs over an accept closure.
#[derive(Debug)]
pub(crate) struct Options {
    pub(super) runtime: Arc<dyn Runtime>,
    pub(super) upgrader: Upgrader,
    pub(super) caps: Caps,
    pub(super) signal: Option<Opaque<Pin<Box<dyn Future<Output = ()> + Send>>>>,
    pub(super) shutdown: Shutdown,
    pub(super) shutdown_timeout: Duration,
    pub(super) stats: Arc<ServerStats>,
}

impl Options {
    pub(crate) fn new(runtime: Arc<dyn Runtime>, upgrader: Upgrader) -> Self {
        Options {
            upgrader: upgrader.runtime_or(runtime.clone()),
            runtime,
            caps: Caps::default(),
            signal: None,
            shutdown: Shutdown::new(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            stats: ServerStats::new(),
        }
    }

    /// The accept loop, then the drain (see the module docs).
    pub(crate) async fn run<F, FF, T, A, H>(
        self,
        mut accept: F,
        acceptor: A,
        handler: H,
    ) -> io::Result<ShutdownSummary>
    where
        F: FnMut() -> FF,
        FF: Future<Output = io::Result<(T, SocketAddr)>>,
        T: Send + 'static,
        A: Acceptor<T>,
        H: Serve<A::Io>,
    {
        let Options {
            runtime,
            upgrader,
            caps,
            signal,
            shutdown,
            shutdown_timeout,
            stats,
        } = self;
        let upgrader = upgrader.server_stats(stats.clone());
        // Kept until the drain is done (see `ReactorTicks`).
        let _ticks = ReactorTicks::for_runtime(&*runtime);
        let server = Running {
            shared: Arc::new(Shared {
                runtime,
                acceptor,
                upgrader: Arc::new(upgrader),
                admission: Arc::new(Admission::new(caps)),
                handler,
                stats,
            }),
            tasks: Arc::new(Tasks::default()),
        };
        let stopped = {
            let shutdown = shutdown.clone();
            async move {
                match signal {
                    Some(Opaque(signal)) => drop(select(signal, shutdown.started()).await),
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
            match AcceptError::classify(&error) {
                AcceptError::Connection => observe::accept_failed(&error, None, false),
                AcceptError::Resources => {
                    let pause = backoff.pause();
                    observe::accept_failed(&error, Some(pause), false);
                    let pause = server.shared.runtime.sleep(pause);
                    if let Either::Right(_) = select(pause, stopped.as_mut()).await {
                        break;
                    }
                }
                AcceptError::Fatal => {
                    observe::accept_failed(&error, None, true);
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

/// A running server: what its tasks share, and the tasks.
struct Running<H, A> {
    shared: Arc<Shared<H, A>>,
    tasks: Arc<Tasks>,
}

impl<H, A> Running<H, A> {
    /// Every accepted connection passes here, and is served in its own
    /// tracked task, or refused with 503 in its own tracked task, or (past
    /// the refusal allowance) dropped: the connection caps decide (see
    /// `admission.rs`).
    fn admit<T>(&self, io: T, peer: SocketAddr)
    where
        T: Send + 'static,
        A: Acceptor<T>,
        H: Serve<A::Io>,
    {
        let shared = self.shared.clone();
        let notice = Arc::new(Notice::default());
        let rt = &*self.shared.runtime;
        match self.shared.admission.at_accept(peer.ip()) {
            AtAccept::Handshake(slot) => {
                let admitted = Admitted {
                    io,
                    peer,
                    notice: notice.clone(),
                    handshake: slot,
                };
                let task = H::serve(shared, admitted);
                self.tasks.spawn(rt, notice, task);
            }
            AtAccept::Refuse(slot, cap) => {
                let task = connection::refused(shared, io, peer, cap, slot);
                self.tasks.spawn(rt, notice, task);
            }
            AtAccept::Drop(cap) => {
                drop(io);
                observe::connection_dropped(&self.shared.stats, peer, cap);
            }
        }
    }

    /// Tells every connection to go away, waits for their tasks up to
    /// `deadline`, aborts the rest.
    async fn drain(&self, deadline: Duration) -> ShutdownSummary {
        let rt = Some(&*self.shared.runtime);
        let began = Instant::now();
        let open = self.tasks.go_away();
        observe::shutdown_began(open);
        let summary = if timeout(rt, deadline, self.tasks.idle()).await.is_some() {
            ShutdownSummary {
                closed: open,
                aborted: 0,
            }
        } else {
            let aborted = self.tasks.abort();
            let _ = timeout(rt, ABORT_GRACE, self.tasks.idle()).await;
            ShutdownSummary {
                closed: open.saturating_sub(aborted),
                aborted,
            }
        };
        observe::shutdown_done(summary.closed, summary.aborted, began.elapsed());
        summary
    }
}
