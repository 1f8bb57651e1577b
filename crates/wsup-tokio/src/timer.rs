//! wsup's timers on tokio (keepalive, the handshake deadline, the close
//! timeout, the server's backoff and drain deadline).
//!
//! On Linux, each tokio runtime that accepts or dials a TCP connection
//! through this crate gets a `timerfd` in its reactor and a task that
//! fires wsup's timers when it goes off (a
//! [`TimerSet`](wsup_core::runtime::TimerSet)). Not tokio's own timers: while
//! one is armed, every wait of tokio's reactor arms and cancels a kernel
//! timer, 3–4% of a one-connection echo's CPU time. Not wsup's timer
//! thread either ([`ThreadTimer`]): with it a one-thread server is a
//! process of two threads, and the kernel then takes and drops a reference
//! to a socket's file on every read and write, about 2% of a small-message
//! echo's CPU time. The `timerfd` is set only when the earliest deadline
//! moves earlier and each time it goes off (about once per keepalive
//! interval per connection): the reactor waits with no timeout.
//!
//! Elsewhere, on a runtime that has not accepted or dialled TCP through
//! this crate (its reactor may have no IO driver, and tokio panics on
//! registering a file descriptor there), and once a runtime has shut down,
//! the timers are [`ThreadTimer`]'s.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use wsup_core::runtime::ThreadTimer;

/// A wsup timer on tokio: the runtime's `timerfd` set, or the timer thread.
#[derive(Debug)]
pub(crate) enum TokioSleep {
    #[cfg(target_os = "linux")]
    Reactor(wsup_core::runtime::SetTimer<reactor::FdAlarm>),
    Thread(ThreadTimer),
}

/// A timer that fires `duration` from now (see the module docs).
pub(crate) fn sleep(duration: Duration) -> TokioSleep {
    #[cfg(target_os = "linux")]
    if let Some(set) = reactor::current() {
        return TokioSleep::Reactor(set.sleep(duration));
    }
    TokioSleep::Thread(ThreadTimer::after(duration))
}

/// Makes sure the current runtime fires wsup's timers from its reactor:
/// called where a TCP stream of tokio's proves the reactor has an IO
/// driver (an accepted or dialled connection). Cheap after the first.
pub(crate) fn enable() {
    #[cfg(target_os = "linux")]
    reactor::enable();
}

impl Future for TokioSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            TokioSleep::Reactor(timer) => Pin::new(timer).poll(cx),
            TokioSleep::Thread(timer) => Pin::new(timer).poll(cx),
        }
    }
}

#[cfg(target_os = "linux")]
pub(crate) mod reactor {
    //! The `timerfd` and its task, one per runtime.

    use std::io;
    use std::os::fd::OwnedFd;
    use std::sync::{Arc, Mutex, MutexGuard, Weak};
    use std::time::{Duration, Instant};

    use rustix::time::{
        timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags,
        TimerfdTimerFlags, Timespec,
    };
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;
    use tokio::runtime::{Handle, Id};
    use wsup_core::runtime::{Alarm, TimerSet};

    /// A runtime's `timerfd`, as the alarm of its timer set.
    #[derive(Debug)]
    pub(crate) struct FdAlarm(Arc<OwnedFd>);

    impl Alarm for FdAlarm {
        fn set(&self, at: Option<Instant>) -> bool {
            let value = match at {
                // A zero value turns the timer off.
                None => Duration::ZERO,
                // Due already: at once (zero would turn it off instead).
                Some(at) => at
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_nanos(1)),
            };
            let spec = Itimerspec {
                it_interval: Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: Timespec {
                    // `later` keeps deadlines within thirty years.
                    tv_sec: i64::try_from(value.as_secs()).unwrap_or(i64::MAX),
                    tv_nsec: value.subsec_nanos().into(),
                },
            };
            timerfd_settime(&*self.0, TimerfdTimerFlags::empty(), &spec).is_ok()
        }
    }

    type Set = TimerSet<FdAlarm>;

    /// Each runtime's set, held by its task (gone with the runtime).
    static SETS: Mutex<Vec<(Id, Weak<Set>)>> = Mutex::new(Vec::new());

    fn sets() -> MutexGuard<'static, Vec<(Id, Weak<Set>)>> {
        // Nothing panics while holding the lock; a poisoned one is still sound.
        SETS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current runtime's set, if it has one that is running.
    pub(crate) fn current() -> Option<Arc<Set>> {
        let id = Handle::try_current().ok()?.id();
        let sets = sets();
        let (_, set) = sets.iter().find(|(of, _)| *of == id)?;
        set.upgrade().filter(|set| !set.is_closed())
    }

    /// Starts the current runtime's set, unless it has one running.
    pub(crate) fn enable() {
        let Ok(handle) = Handle::try_current() else {
            return;
        };
        let id = handle.id();
        let mut sets = sets();
        // The sets of runtimes that shut down go (and a closed one of this
        // runtime's, whose task ended).
        sets.retain(|(_, set)| set.upgrade().is_some_and(|set| !set.is_closed()));
        if sets.iter().any(|(of, _)| *of == id) {
            return;
        }
        // Where the kernel gives no timer (out of file descriptors, say),
        // the timer thread serves this runtime; the next connection tries
        // again.
        if let Ok(set) = start(&handle) {
            sets.push((id, Arc::downgrade(&set)));
        }
    }

    /// A `timerfd` in `handle`'s reactor, and the task that fires the set.
    fn start(handle: &Handle) -> io::Result<Arc<Set>> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        let fd = Arc::new(fd);
        // Deprecated for its lack of I/O safety, which is kept here: the
        // `Arc` keeps the descriptor open, and the same, for as long as the
        // `AsyncFd` lives (its replacement, `register_with_interest`, is the
        // same call made `unsafe` for that promise).
        #[allow(deprecated)]
        let ready = AsyncFd::with_interest(fd.clone(), Interest::READABLE)?;
        let set = TimerSet::new(FdAlarm(fd));
        handle.spawn(drive(CloseOnDrop(set.clone()), ready));
        Ok(set)
    }

    /// Fires the set each time its `timerfd` goes off, for as long as the
    /// runtime runs. `set` closes when the task is dropped (its runtime
    /// shut down, even before the task first ran) or ends on an error: the
    /// timers still armed go on on the timer thread.
    async fn drive(set: CloseOnDrop, fd: AsyncFd<Arc<OwnedFd>>) {
        let set = &set.0;
        loop {
            let Ok(mut ready) = fd.readable().await else {
                return;
            };
            // The count of expirations (one: the timer is one-shot).
            let mut count = [0u8; 8];
            match ready.try_io(|fd| Ok(rustix::io::read(fd.get_ref(), &mut count)?)) {
                Ok(Ok(_)) => set.fire_due(),
                Ok(Err(_)) => return,
                // Not readable after all: readiness cleared, wait again.
                Err(_would_block) => {}
            }
        }
    }

    struct CloseOnDrop(Arc<Set>);

    impl Drop for CloseOnDrop {
        fn drop(&mut self) {
            self.0.close();
        }
    }

    /// How many runtimes' sets are registered (for the tests).
    #[cfg(test)]
    pub(crate) fn registered() -> usize {
        sets().len()
    }
}

// The tests look at the `timerfd` side, which is Linux's.
#[cfg(all(test, target_os = "linux"))]
mod tests;
