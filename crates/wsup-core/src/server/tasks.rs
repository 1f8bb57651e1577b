//! The connection tasks a server runs, tracked rather than detached: each
//! has a [`Notice`] (to tell it to go away) and an [`Abort`] switch (to end
//! it at the drain deadline), and the server can wait until none is left.
//! `Runtime::spawn` gives no join handle, so the tracking is done here, the
//! same on every runtime.

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

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

    /// Runs `task` until it ends or the switch is thrown.
    async fn run<F: Future<Output = ()>>(&self, task: F) {
        let mut task = pin!(task);
        // The waker last registered: the switch wakes it, or one that
        // wakes the same task.
        let mut registered: Option<Waker> = None;
        poll_fn(|cx| {
            if self.aborted() || task.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                self.0.register(cx.waker());
                registered = Some(cx.waker().clone());
                // Thrown before the waker was there to wake.
                if self.aborted() {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        })
        .await;
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
        let ended = Ended {
            tasks: self.clone(),
            id,
        };
        runtime.spawn(Box::pin(async move {
            // Aborted, the connection's future is dropped here, before
            // `ended`: the connection's last words go out first.
            abort.run(task).await;
            drop(ended);
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
