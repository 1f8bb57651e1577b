//! Timers kept in a set that a binding's reactor fires: for a runtime whose
//! reactor can wait on a timer of the kernel's (tokio's, through a Linux
//! `timerfd`), so that wsup's timers need neither a timer of the runtime's
//! (tokio arms and cancels a kernel timer on every wait of its reactor
//! while one is armed) nor a thread of their own ([`ThreadTimer`]'s, which
//! makes a one-thread server a process of two threads: the kernel then
//! takes and drops a reference to a socket's file on every syscall, about
//! 2% of a small-message echo's CPU time).
//!
//! The set keeps its armed timers by deadline, and tells its [`Alarm`]
//! (the kernel's timer) the earliest whenever that moves earlier, under the
//! set's lock, so that the alarm never goes off later than a timer's
//! deadline. The binding's driver calls [`TimerSet::fire_due`] each time
//! the alarm goes off. When the driver ends (its runtime shut down), it
//! calls [`TimerSet::close`]: the timers still armed are woken, and each,
//! polled again before its deadline, moves to the process's timer thread
//! ([`ThreadTimer`]). None is lost, and none fires early.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::deadlines::{Deadlines, Key};
use super::{ThreadTimer, WakeFlag};

/// A timer of the kernel's (or any one-shot alarm) that wakes a
/// [`TimerSet`]'s driver.
pub trait Alarm: Send + Sync + 'static {
    /// Goes off at `at` (at once if that has passed), or never (`None`),
    /// replacing what was set before. `false`: it cannot be set, and the
    /// set hands its timers to the timer thread ([`TimerSet::close`]).
    fn set(&self, at: Option<Instant>) -> bool;
}

/// A set of timers fired by a binding's driver (see the module docs).
pub struct TimerSet<A: Alarm> {
    state: Mutex<SetState>,
    alarm: A,
}

struct SetState {
    timers: Deadlines,
    /// What the alarm is set to, as far as the set knows: a timer armed
    /// before it sets it again.
    alarm_at: Option<Instant>,
    closed: bool,
}

impl<A: Alarm> std::fmt::Debug for TimerSet<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("TimerSet")
            .field("armed", &state.timers.len())
            .field("alarm_at", &state.alarm_at)
            .field("closed", &state.closed)
            .finish()
    }
}

impl<A: Alarm> TimerSet<A> {
    /// An empty set whose earliest deadline `alarm` is set to.
    pub fn new(alarm: A) -> Arc<Self> {
        Arc::new(TimerSet {
            state: Mutex::new(SetState {
                timers: Deadlines::new(),
                alarm_at: None,
                closed: false,
            }),
            alarm,
        })
    }

    /// A timer of this set that fires `duration` from now (on the timer
    /// thread if the set is closed).
    pub fn sleep(self: &Arc<Self>, duration: Duration) -> SetTimer<A> {
        let at = super::later(Instant::now(), duration);
        if duration.is_zero() {
            // Due at once: nothing to arm.
            let fired = Arc::new(WakeFlag::raised());
            let place = Place::Set {
                set: self.clone(),
                key: None,
            };
            return SetTimer { at, fired, place };
        }
        let fired = Arc::new(WakeFlag::default());
        let place = match self.arm(at, &fired) {
            Some(key) => Place::Set {
                set: self.clone(),
                key: Some(key),
            },
            None => Place::Thread(ThreadTimer::after(duration)),
        };
        SetTimer { at, fired, place }
    }

    /// Fires every timer whose deadline has passed, and sets the alarm to
    /// the earliest left: the driver's call each time the alarm goes off.
    pub fn fire_due(&self) {
        let mut due = Vec::new();
        let mut state = self.state();
        state.timers.take_due(Instant::now(), &mut due);
        // Set again even where the earliest is the one it was set to
        // (woken a little early): the alarm is one-shot, and went off.
        let next = state.timers.earliest();
        state.alarm_at = next;
        if !self.alarm.set(next) {
            Self::shut(&mut state, &mut due);
        }
        drop(state);
        // Woken without the lock: a task woken may arm or drop a timer at
        // once.
        for flag in due {
            flag.raise();
        }
    }

    /// The driver is gone: no timer is armed here any more. Each one
    /// armed is woken and, polled before its deadline, goes on on the
    /// timer thread; a timer made from here on is the timer thread's.
    pub fn close(&self) {
        let mut woken = Vec::new();
        Self::shut(&mut self.state(), &mut woken);
        for flag in woken {
            flag.raise();
        }
    }

    /// Whether [`close`](Self::close) was called (or the alarm failed).
    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// How many timers are armed here (for the tests).
    #[cfg(test)]
    fn armed(&self) -> usize {
        self.state().timers.len()
    }

    /// Marks the set closed and moves its timers to `woken`.
    fn shut(state: &mut SetState, woken: &mut Vec<Arc<WakeFlag>>) {
        state.closed = true;
        state.alarm_at = None;
        state.timers.take_all(woken);
    }

    /// Arms a timer for `at`, raising `fired` when it fires; `None` where
    /// the set is closed.
    fn arm(&self, at: Instant, fired: &Arc<WakeFlag>) -> Option<Key> {
        let mut woken = Vec::new();
        let key = {
            let mut state = self.state();
            if state.closed {
                return None;
            }
            let key = state.timers.arm(at, fired);
            if state.alarm_at.is_none_or(|alarm_at| at < alarm_at) {
                state.alarm_at = Some(at);
                if !self.alarm.set(Some(at)) {
                    Self::shut(&mut state, &mut woken);
                }
            }
            key
        };
        // Only where the alarm failed: this timer among them, which finds
        // itself woken early and moves to the timer thread.
        for flag in woken {
            flag.raise();
        }
        Some(key)
    }

    fn disarm(&self, key: Key) {
        self.state().timers.disarm(key);
    }

    fn state(&self) -> MutexGuard<'_, SetState> {
        // Nothing panics while holding the lock; a poisoned one is still sound.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A future that completes once its deadline has passed: a timer of a
/// [`TimerSet`], or of the timer thread once the set closed.
pub struct SetTimer<A: Alarm> {
    at: Instant,
    /// Raised when the set fires the timer, or closes.
    fired: Arc<WakeFlag>,
    place: Place<A>,
}

enum Place<A: Alarm> {
    /// `key`: `None` once it fired (nothing to take out when dropped).
    Set {
        set: Arc<TimerSet<A>>,
        key: Option<Key>,
    },
    Thread(ThreadTimer),
}

impl<A: Alarm> std::fmt::Debug for SetTimer<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetTimer")
            .field("at", &self.at)
            .field("on_thread", &matches!(self.place, Place::Thread(_)))
            .finish()
    }
}

impl<A: Alarm> SetTimer<A> {
    /// Whether the timer has moved to the timer thread (its set closed;
    /// for the tests).
    #[cfg(test)]
    fn on_thread(&self) -> bool {
        matches!(self.place, Place::Thread(_))
    }
}

impl<A: Alarm> Future for SetTimer<A> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let key = match &mut this.place {
            Place::Thread(timer) => return Pin::new(timer).poll(cx),
            Place::Set { key, .. } => key,
        };
        if !this.fired.poll_raised(cx.waker()) {
            return Poll::Pending;
        }
        // Fired, or closed: either way the set holds no entry for it now.
        *key = None;
        let now = Instant::now();
        if now >= this.at {
            return Poll::Ready(());
        }
        // Raised before its deadline: the set closed. The rest of the wait
        // is the timer thread's.
        let mut timer = ThreadTimer::after(this.at - now);
        let poll = Pin::new(&mut timer).poll(cx);
        this.place = Place::Thread(timer);
        poll
    }
}

impl<A: Alarm> Drop for SetTimer<A> {
    fn drop(&mut self) {
        if let Place::Set {
            set,
            key: Some(key),
        } = &self.place
        {
            if !self.fired.is_raised() {
                set.disarm(*key);
            }
        }
    }
}

#[cfg(test)]
mod tests;
