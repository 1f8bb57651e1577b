//! The runtime seam: what the core needs from an executor.
//!
//! Only timers (the handshake deadline, the close timeout) and, for features
//! that need a background task, spawning; and, for a runtime whose reactor
//! needs one while a server runs, a periodic tick ([`ReactorTicks`]). The
//! trait is object-safe and used at cold boundaries only, once per
//! handshake or close; the per-frame path is
//! generic over the transport and never calls it. Each binding crate
//! implements it in a few lines (quinn's `Runtime` and hyper's `rt::Timer` are
//! the models). A binding whose runtime's timers cost something on every
//! turn while armed can use [`ThreadTimer`] instead (smol and async-std
//! do: see its module for what each runtime's timers cost), or, where its
//! reactor can wait on a timer of the kernel's, a [`TimerSet`] fired by
//! that (tokio does, on Linux: no thread, and nothing on each wait).

mod binding;
mod deadlines;
mod forward;
mod thread_timer;
mod ticks;
mod timer_set;
mod wake_flag;

pub use self::thread_timer::ThreadTimer;
pub use self::ticks::{ReactorTick, ReactorTicks, ASYNC_IO_TICK};
pub use self::timer_set::{Alarm, SetTimer, TimerSet};
pub(crate) use self::wake_flag::WakeFlag;

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A timer future returned by [`Runtime::sleep`].
pub trait Sleep: Future<Output = ()> + Send + Sync {}

impl<F: Future<Output = ()> + Send + Sync> Sleep for F {}

/// A boxed task for [`Runtime::spawn`].
pub type BoxTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What the core needs from an async runtime.
pub trait Runtime: Debug + Send + Sync + 'static {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>>;

    /// Runs `task` in the background.
    fn spawn(&self, task: BoxTask);

    /// The periodic wake a [`Server`](crate::server::Server) on this
    /// runtime keeps while it runs ([`ReactorTicks`]), if the runtime needs
    /// one to keep its reactor with the thread that runs the tasks: the
    /// bindings on async-io (smol, async-std) ask for one every
    /// [`ASYNC_IO_TICK`] on async-io's timer. `None` (the default): none.
    fn reactor_tick(&self) -> Option<ReactorTick> {
        None
    }
}

/// `now + after`, or a moment so far off that it never comes when that
/// would overflow: a `Duration::MAX` given as a timeout means "never", not
/// a panic.
pub(crate) fn later(now: Instant, after: Duration) -> Instant {
    // Thirty years: past any process's life, and far from overflowing.
    const NEVER: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);
    now.checked_add(after).unwrap_or_else(|| now + NEVER)
}

/// Runs `fut` with a deadline; `None` when the deadline passed first.
///
/// Without a runtime there is no timer, and `fut` runs unbounded.
pub async fn timeout<F: Future>(
    runtime: Option<&dyn Runtime>,
    duration: Duration,
    fut: F,
) -> Option<F::Output> {
    match runtime {
        None => Some(fut.await),
        Some(rt) => {
            Timeout {
                fut: std::pin::pin!(fut),
                sleep: rt.sleep(duration),
            }
            .await
        }
    }
}

struct Timeout<'a, F: Future> {
    fut: Pin<&'a mut F>,
    sleep: Pin<Box<dyn Sleep>>,
}

impl<F: Future> Future for Timeout<'_, F> {
    type Output = Option<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The work first: if both are ready, finished work wins over the timer.
        if let Poll::Ready(v) = self.fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
