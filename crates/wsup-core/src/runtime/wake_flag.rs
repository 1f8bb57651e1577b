//! A flag that wakes a task when it is raised, from any thread: what a
//! timer that fired, an aborted task and an alarm that rang each need.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

use futures_util::task::AtomicWaker;

/// See the module docs. As a [`Waker`] (through `Arc`), waking it raises it.
#[derive(Debug, Default)]
pub(crate) struct WakeFlag {
    raised: AtomicBool,
    waker: AtomicWaker,
}

impl WakeFlag {
    /// A flag raised from the start.
    pub(crate) fn raised() -> Self {
        WakeFlag {
            raised: AtomicBool::new(true),
            waker: AtomicWaker::new(),
        }
    }

    /// Raises the flag and wakes the task registered, if any (the
    /// registration is spent: the task registers again to wait more).
    pub(crate) fn raise(&self) {
        self.raised.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.raised.load(Ordering::Acquire)
    }

    pub(crate) fn lower(&self) {
        self.raised.store(false, Ordering::Relaxed);
    }

    /// The task of `waker` is woken when the flag is next raised. Look at
    /// the flag after: it may have been raised before.
    pub(crate) fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Whether the flag is raised; if not, the task of `waker` is woken
    /// when it is. Registered first, then looked at again: a raise in
    /// between finds the waker, or is seen here. (A timer's poll.)
    pub(crate) fn poll_raised(&self, waker: &Waker) -> bool {
        if self.is_raised() {
            return true;
        }
        self.register(waker);
        self.is_raised()
    }
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.raise();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.raise();
    }
}
