//! A timer served by a thread of its own, shared by the whole process: for
//! bindings whose runtime timers cost something on every turn of the
//! reactor while any is armed (smol's and async-std's; tokio's where its
//! reactor does not fire a [`TimerSet`](super::TimerSet) instead, which
//! needs no thread: see `wsup-tokio`).
//!
//! async-io (under smol and async-std) keeps its timers in a `BTreeMap`
//! that it splits, allocating, on every turn of its reactor while one is
//! registered; keepalive keeps one armed per connection, so each turn
//! would allocate. tokio passes the earliest of its timers to each
//! `epoll_wait` as a timeout, which the kernel arms and cancels as a
//! timer of its own on every wait: at one connection echoing 1 KiB
//! messages, that was 4% of the server's CPU time, measured in turns
//! against the same server on this timer. A [`ThreadTimer`] lives in a
//! map of this module instead, looked at only by its thread: armed and
//! dropped once per deadline (the driver re-arms lazily, about once per
//! keepalive interval), it costs the reactor nothing, and polling it is
//! two atomic operations.
//!
//! The thread starts with the first timer and sleeps on a condition
//! variable until the earliest deadline, or until an earlier one is armed.
//! A timer dropped before it fires takes its entry out of the map: dropped
//! timers leave nothing behind.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::deadlines::{Deadlines, Key};
use super::WakeFlag;

/// A future that completes once `duration` has passed, woken by the
/// process's timer thread (see the module docs). Any runtime can poll it.
#[derive(Debug)]
pub struct ThreadTimer {
    /// Raised by the thread when the timer fires.
    fired: Arc<WakeFlag>,
    /// Its place in the timer thread's map; `None` once due when made.
    key: Option<Key>,
}

impl ThreadTimer {
    /// A timer that fires `duration` from now.
    pub fn after(duration: Duration) -> Self {
        if duration.is_zero() {
            let fired = Arc::new(WakeFlag::raised());
            return ThreadTimer { fired, key: None };
        }
        let fired = Arc::new(WakeFlag::default());
        let key = THREAD.arm(super::later(Instant::now(), duration), &fired);
        ThreadTimer {
            fired,
            key: Some(key),
        }
    }
}

impl Future for ThreadTimer {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired.poll_raised(cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for ThreadTimer {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            if !self.fired.is_raised() {
                THREAD.disarm(key);
            }
        }
    }
}

/// The timer thread's side: the armed timers by deadline.
struct Thread {
    state: Mutex<State>,
    /// Signalled when a timer is armed before all others.
    earlier: Condvar,
}

struct State {
    timers: Deadlines,
    started: bool,
    /// When the thread wakes by itself next (`None`: not before it is
    /// notified): a timer armed for then or later needs no notification.
    wakes_at: Option<Instant>,
}

static THREAD: Thread = Thread {
    state: Mutex::new(State {
        timers: Deadlines::new(),
        started: false,
        wakes_at: None,
    }),
    earlier: Condvar::new(),
};

impl Thread {
    fn arm(&'static self, at: Instant, slot: &Arc<WakeFlag>) -> Key {
        let mut state = self.state();
        let key = state.timers.arm(at, slot);
        if !state.started {
            state.started = true;
            std::thread::Builder::new()
                .name("wsup-timer".into())
                .spawn(move || self.run())
                .expect("spawning the timer thread");
        } else if state.wakes_at.is_none_or(|wakes_at| at < wakes_at) {
            // Only a deadline before the one the thread sleeps until wakes
            // it: a burst of connections arming their timers (each later
            // than the last) does not, so the thread stays off the CPU
            // the connections' tasks run on.
            state.wakes_at = Some(at);
            self.earlier.notify_one();
        }
        key
    }

    fn disarm(&self, key: Key) {
        self.state().timers.disarm(key);
    }

    /// Whether a timer is armed for `key`.
    #[cfg(test)]
    fn armed(&self, key: Key) -> bool {
        self.state().timers.is_armed(key)
    }

    /// Fires each timer when its deadline passes, forever.
    fn run(&self) {
        // Kept from one round to the next: firing allocates nothing.
        let mut due = Vec::new();
        let mut state = self.state();
        loop {
            let now = Instant::now();
            state.timers.take_due(now, &mut due);
            if !due.is_empty() {
                // Woken without the lock: a task woken may arm or drop a
                // timer at once.
                drop(state);
                for slot in due.drain(..) {
                    slot.raise();
                }
                state = self.state();
                continue;
            }
            let next = state.timers.earliest();
            state.wakes_at = next;
            let wait = next.map(|at| at - now);
            state = match wait {
                None => self
                    .earlier
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                Some(wait) => {
                    self.earlier
                        .wait_timeout(state, wait)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0
                }
            };
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one is still sound.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests;
