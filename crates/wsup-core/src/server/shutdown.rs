//! [`Shutdown`]: the handle through which a program, a handler or a test
//! sees that the server's shutdown began, or begins it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::task::AtomicWaker;

use crate::conn::{Notice, WebSocket};

/// A cloneable handle on one server's shutdown: whether it began
/// ([`is_started`](Self::is_started)), a future that completes when it does
/// ([`started`](Self::started)), and [`trigger`](Self::trigger) to begin it.
///
/// Obtained from the server's builder before it runs; a handler holds a
/// clone to stop starting new work once shutdown began (its connection
/// receives the server's close 1001 meanwhile).
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    started: AtomicBool,
    /// The [`Started`] futures that wait, by key: each registers once
    /// here and then only updates its own waker, so that a handler polling
    /// one with every message takes no lock shared with every connection.
    waiting: Mutex<Waiting>,
}

#[derive(Debug, Default)]
struct Waiting {
    next_key: u64,
    wakers: HashMap<u64, Arc<AtomicWaker>>,
    /// The connections [attached](Shutdown::attach), told to go away on
    /// the trigger; the ones gone are swept as more attach.
    notices: Vec<Weak<Notice>>,
    /// When to sweep `notices` next: twice their live count.
    sweep_at: usize,
}

impl Shutdown {
    /// A handle on a shutdown that has not begun.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the shutdown began.
    pub fn is_started(&self) -> bool {
        self.inner.started.load(Ordering::Acquire)
    }

    /// Completes when the shutdown begins (at once if it has).
    pub fn started(&self) -> Started {
        Started {
            shutdown: self.clone(),
            waiting: None,
        }
    }

    /// Begins the shutdown: the server stops accepting, tells every open
    /// connection to go away and waits for them (up to its shutdown
    /// timeout). Calling it again does nothing.
    pub fn trigger(&self) {
        // The flag first, then the wakers under the lock: a `Started` polled
        // meanwhile either sees the flag or has its waker taken here.
        self.inner.started.store(true, Ordering::Release);
        let (wakers, notices) = {
            let mut waiting = self.waiting();
            let notices = std::mem::take(&mut waiting.notices);
            (std::mem::take(&mut waiting.wakers), notices)
        };
        for waker in wakers.into_values() {
            waker.wake();
        }
        for notice in notices.iter().filter_map(Weak::upgrade) {
            notice.go_away();
        }
    }

    /// Makes `ws` go away with this shutdown, as the server's own
    /// connections do: when it begins (or at once if it has), the
    /// connection closes with 1001 after what is queued, the next time it
    /// would wait for input, so that a handler in `recv` sees the peer's
    /// answer and ends as after any close; and a connection dropped after
    /// that (aborted at the shutdown timeout) makes one attempt, without
    /// waiting, to say 1001.
    ///
    /// For connections the server does not upgrade itself: one upgraded
    /// by an HTTP server in a [`run_connections`](super::Server::run_connections)
    /// handler, or under a shutdown handle of the program's own. It costs
    /// nothing per message (what `select` on [`started`](Self::started)
    /// around every `recv` would). Call it before [`split`](WebSocket::split);
    /// it replaces the notice of a server that upgraded `ws` itself.
    pub fn attach<T: AsyncRead + AsyncWrite + Unpin>(&self, ws: &mut WebSocket<T>) {
        let notice = Arc::new(Notice::default());
        ws.attach_notice(notice.clone());
        let mut waiting = self.waiting();
        // Under the lock: `trigger` sets the flag before it takes the
        // notices, so either it finds this one or the flag is seen here.
        if self.is_started() {
            drop(waiting);
            notice.go_away();
            return;
        }
        if waiting.notices.len() >= waiting.sweep_at {
            waiting.notices.retain(|n| n.strong_count() > 0);
            waiting.sweep_at = (waiting.notices.len() * 2).max(64);
        }
        waiting.notices.push(Arc::downgrade(&notice));
    }

    /// How many `Started` futures wait.
    #[cfg(test)]
    pub(super) fn waiting_len(&self) -> usize {
        self.waiting().wakers.len()
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        // Nothing panics while holding the lock; a poisoned one is still sound.
        self.inner
            .waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The future returned by [`Shutdown::started`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Started {
    shutdown: Shutdown,
    /// This future's key and waker among the waiting, once it waits.
    waiting: Option<(u64, Arc<AtomicWaker>)>,
}

impl Future for Started {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.shutdown.is_started() {
            return Poll::Ready(());
        }
        match &self.waiting {
            Some((_, waker)) => waker.register(cx.waker()),
            None => {
                let waker = Arc::new(AtomicWaker::new());
                waker.register(cx.waker());
                let mut waiting = self.shutdown.waiting();
                waiting.next_key += 1;
                let key = waiting.next_key;
                waiting.wakers.insert(key, waker.clone());
                drop(waiting);
                self.waiting = Some((key, waker));
            }
        }
        // Checked again after the waker is in place: `trigger` sets the
        // flag before it wakes, so either it wakes this waker or this sees
        // the flag.
        if self.shutdown.is_started() {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Some((key, _)) = self.waiting.take() {
            self.shutdown.waiting().wakers.remove(&key);
        }
    }
}
