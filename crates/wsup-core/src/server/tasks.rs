//! The connection tasks a server runs, tracked rather than detached: each
//! has a [`Notice`] (to tell it to go away) and an [`Abort`] switch (to end
//! it at the drain deadline), and the server can wait until none is left.
//! `Runtime::spawn` gives no join handle, so the tracking is done here, the
//! same on every runtime.

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_util::task::AtomicWaker;

use crate::conn::Notice;
use crate::runtime::{Runtime, WakeFlag};

#[derive(Debug, Default)]
pub(crate) struct Tasks {
    open: Mutex<Open>,
    /// The server waiting for the last task to end.
    idle: AtomicWaker,
}

#[derive(Debug, Default)]
struct Open {
    next_id: u64,
    tasks: HashMap<u64, Entry>,
}

#[derive(Debug)]
struct Entry {
    notice: Arc<Notice>,
    abort: Arc<Abort>,
}

/// Ends one task at its next poll, and wakes it for that poll.
///
/// Unlike `futures::future::Abortable`, the task's waker is registered
/// again only when it changes (a runtime hands a task the same waker poll
/// after poll), not on every poll: a connection's task is polled once or
/// more per batch of messages, and the switch is used once, if ever.
#[derive(Debug, Default)]
struct Abort(WakeFlag);

impl Abort {
    fn abort(&self) {
        self.0.raise();
    }

    fn aborted(&self) -> bool {
        self.0.is_raised()
    }
}

pin_project_lite::pin_project! {
    /// A tracked task: `task` run until it ends or its [`Abort`] switch is
    /// thrown. A named future rather than an `async` block, so that the
    /// task's future is held once: an `async` block would keep the moved-in
    /// future and its pinned copy side by side, doubling what each idle
    /// connection holds.
    ///
    /// Fields drop in order: the task's future (the connection's last words
    /// go out) before `_ended` (the server stops counting it).
    struct Tracked<F> {
        #[pin]
        task: F,
        abort: Arc<Abort>,
        // The waker last registered: the switch wakes it, or one that wakes
        // the same task.
        registered: Option<Waker>,
        _ended: Ended,
    }
}

impl<F: Future<Output = ()>> Future for Tracked<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.abort.aborted() || this.task.poll(cx).is_ready() {
            return Poll::Ready(());
        }
        if !this
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            this.abort.0.register(cx.waker());
            *this.registered = Some(cx.waker().clone());
            // Thrown before the waker was there to wake.
            if this.abort.aborted() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

impl Tasks {
    /// Runs `task` for the connection that `notice` speaks to, tracked
    /// until it ends (or its future is dropped).
    pub(crate) fn spawn<F>(self: &Arc<Self>, runtime: &dyn Runtime, notice: Arc<Notice>, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let abort = Arc::new(Abort::default());
        let id = {
            let mut open = self.open();
            open.next_id += 1;
            let id = open.next_id;
            let entry = Entry {
                notice,
                abort: abort.clone(),
            };
            open.tasks.insert(id, entry);
            id
        };
        let _ended = Ended {
            tasks: self.clone(),
            id,
        };
        runtime.spawn(Box::pin(Tracked {
            task,
            abort,
            registered: None,
            _ended,
        }));
    }

    /// Tells every connection to go away; returns how many there are.
    pub(crate) fn go_away(&self) -> usize {
        let open = self.open();
        for entry in open.tasks.values() {
            entry.notice.go_away();
        }
        open.tasks.len()
    }

    /// Aborts every task still running; returns how many.
    pub(crate) fn abort(&self) -> usize {
        let open = self.open();
        for entry in open.tasks.values() {
            entry.abort.abort();
        }
        open.tasks.len()
    }

    /// Completes when no task is left.
    pub(crate) fn idle(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(|cx| {
            self.idle.register(cx.waker());
            if self.open().tasks.is_empty() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    fn open(&self) -> MutexGuard<'_, Open> {
        // Nothing panics while holding the lock; a poisoned one is still sound.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Removes a task from [`Tasks`] when it ends, however it ends (finished,
/// aborted, or dropped by its runtime).
struct Ended {
    tasks: Arc<Tasks>,
    id: u64,
}

impl Drop for Ended {
    fn drop(&mut self) {
        let empty = {
            let mut open = self.tasks.open();
            open.tasks.remove(&self.id);
            open.tasks.is_empty()
        };
        if empty {
            self.tasks.idle.wake();
        }
    }
}
