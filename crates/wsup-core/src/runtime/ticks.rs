//! A task that wakes the runtime at a fixed period while a server runs:
//! what keeps async-io's reactor with the thread that runs the tasks (see
//! [`ReactorTicks`]).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{Runtime, Sleep};

/// The period of [`ReactorTicks`] for runtimes on async-io (smol,
/// async-std): half of the longest sleep of async-io's fallback thread
/// (10 ms), so that each of its sleeps sees a turn of the reactor, a tick
/// late by up to 5 ms included.
pub const ASYNC_IO_TICK: Duration = Duration::from_millis(5);

/// Shortest period [`ReactorTicks`] keeps: a tick of zero would never let
/// its task yield.
const SHORTEST: Duration = Duration::from_millis(1);

/// The periodic wake a server keeps on a runtime whose reactor needs one
/// ([`Runtime::reactor_tick`]; see [`ReactorTicks`]).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ReactorTick {
    /// How often (1 ms at the least).
    pub every: Duration,
    /// A timer of the reactor's own (async-io's `Timer`), so that each tick
    /// ends the reactor's wait, whichever thread is waiting.
    pub timer: fn(Duration) -> Pin<Box<dyn Sleep>>,
}

impl ReactorTick {
    /// A tick every `every` (1 ms at the least) on `timer`.
    pub const fn new(every: Duration, timer: fn(Duration) -> Pin<Box<dyn Sleep>>) -> Self {
        ReactorTick { every, timer }
    }
}

/// Wakes a task on a runtime every period while it lives; dropped, the
/// task ends at its next wake.
///
/// async-io, the reactor under smol and async-std, has a fallback thread
/// (`async-io`) for when no `block_on` turns the reactor. While any
/// `block_on` runs, that thread sleeps in steps (50 µs growing to 10 ms),
/// and each time it wakes to find that nobody turned the reactor since it
/// last looked, it takes the reactor itself: without waiting after a short
/// sleep (if the reactor is free), and after about 20 ms of sleeps by
/// waiting on the reactor's lock.
///
/// A server idle for 20 ms leaves that thread waiting on the lock. When
/// input arrives, the executor thread turns the reactor, lets go of it to
/// run the woken tasks, and the `async-io` thread takes it. From then on,
/// each batch of input comes to the tasks through that thread: it waits on
/// the events and wakes the executor thread, which runs the tasks and
/// sleeps again, two context switches per batch (on one core, each a
/// preemption). It lasts until the tasks of a batch happen to be done
/// within one of the other thread's 50 µs naps, which a busy server's
/// seldom are. Measured with a server pinned to one core, 100 connections
/// of 16-byte messages, turns of 20 ms against a second server: the
/// `async-io` thread woke about 7 times per 1,000 messages and used
/// 0.2–0.5 µs of CPU per message, about a third of the server's whole.
///
/// A timer in the reactor itself, firing every [`ASYNC_IO_TICK`] (5 ms),
/// keeps every one of that thread's sleeps seeing the reactor turned: the
/// reactor's wait ends at each tick, whichever thread holds it. When the
/// fallback thread holds it, it naps after that turn, and the executor
/// thread, woken to run the ticking task, finds the reactor free and takes
/// it back. A wake from anywhere else (wsup's
/// [`ThreadTimer`](super::ThreadTimer), say) would reach only the executor
/// thread, and could not end a wait of the fallback thread's.
///
/// It narrows the ways in rather than closing them: a tick late by more
/// than 5 ms still leaves the fallback thread a nap without a turn, and a
/// `block_on` thread that holds the reactor for other threads' tasks
/// still hands it to the fallback thread after 500 µs.
///
/// What it costs: a few thread wake-ups per tick, idle or busy, and, while
/// the tick's timer is registered, async-io's one allocation per turn of
/// the reactor (the split of its timer map) that wsup's other timers avoid
/// by living on [`ThreadTimer`](super::ThreadTimer): one per batch of
/// events, not per connection or message.
///
/// [`Server`](crate::server::Server) keeps one while it runs on a runtime
/// whose [`Runtime::reactor_tick`] asks for it (smol's and async-std's
/// bindings do). An application serving WebSockets on those runtimes
/// without `Server` (behind its own HTTP server, say) can start one for as
/// long as it serves.
#[derive(Debug)]
#[must_use = "the ticks stop when this is dropped"]
pub struct ReactorTicks {
    stop: Arc<AtomicBool>,
}

impl ReactorTicks {
    /// Spawns the ticking task on `runtime`: it sleeps on `tick`'s timer
    /// in a loop until this is dropped.
    pub fn start(runtime: &dyn Runtime, tick: ReactorTick) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let every = tick.every.max(SHORTEST);
        runtime.spawn(Box::pin(async move {
            while !stopped.load(Ordering::Relaxed) {
                (tick.timer)(every).await;
            }
        }));
        ReactorTicks { stop }
    }

    /// The ticks `runtime` asks for ([`Runtime::reactor_tick`]), if any.
    #[must_use = "the ticks stop when this is dropped"]
    pub fn for_runtime(runtime: &dyn Runtime) -> Option<Self> {
        Some(Self::start(runtime, runtime.reactor_tick()?))
    }
}

impl Drop for ReactorTicks {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Mutex;
    use std::time::Instant;

    use super::super::{BoxTask, ThreadTimer};
    use super::*;

    /// The timers each test's ticks took so far, a counter per test (the
    /// tests run side by side; a tick's timer is a `fn`, with no state).
    static SLEEPS: [AtomicUsize; 2] = [const { AtomicUsize::new(0) }; 2];
    const PERIODIC: usize = 0;
    const ZERO: usize = 1;

    fn counted_sleep<const TEST: usize>(duration: Duration) -> Pin<Box<dyn Sleep>> {
        SLEEPS[TEST].fetch_add(1, Ordering::SeqCst);
        Box::pin(ThreadTimer::after(duration))
    }

    /// Tasks on threads of their own, each saying when it ended.
    #[derive(Debug, Default)]
    struct Threads {
        ended: Mutex<Vec<std::sync::mpsc::Receiver<()>>>,
    }

    impl Threads {
        /// Waits up to 5 s for the last task spawned to end.
        fn wait_for_the_task(&self, why: &str) {
            let task = self.ended.lock().unwrap().pop().expect("the ticking task");
            task.recv_timeout(Duration::from_secs(5)).expect(why);
        }
    }

    impl Runtime for Threads {
        fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
            Box::pin(ThreadTimer::after(duration))
        }

        fn spawn(&self, task: BoxTask) {
            let (ended, end) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                futures_executor::block_on(task);
                let _ = ended.send(());
            });
            self.ended.lock().unwrap().push(end);
        }
    }

    #[test]
    fn ticks_come_at_their_period_while_kept_and_stop_once_dropped() {
        let runtime = Threads::default();
        let every = Duration::from_millis(5);
        let began = Instant::now();
        let tick = ReactorTick::new(every, counted_sleep::<PERIODIC>);
        let ticks = ReactorTicks::start(&runtime, tick);
        std::thread::sleep(Duration::from_millis(100));
        let ticked = SLEEPS[PERIODIC].load(Ordering::SeqCst);
        let elapsed = began.elapsed();
        // One sleep at the start and one per period since: no more than
        // the time allows, and most of them (a loaded machine delays some).
        let most = (elapsed.as_millis() / every.as_millis()) as usize + 1;
        assert!(
            (3..=most).contains(&ticked),
            "{ticked} ticks in {elapsed:?}"
        );
        drop(ticks);
        runtime.wait_for_the_task("it ends at its next tick once the ticks are dropped");
        let after = SLEEPS[PERIODIC].load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            SLEEPS[PERIODIC].load(Ordering::SeqCst),
            after,
            "no tick after the end"
        );
    }

    #[test]
    fn a_tick_of_zero_still_lets_its_task_yield() {
        let runtime = Threads::default();
        let zero = ReactorTick::new(Duration::ZERO, counted_sleep::<ZERO>);
        let began = Instant::now();
        let ticks = ReactorTicks::start(&runtime, zero);
        std::thread::sleep(Duration::from_millis(20));
        let ticked = SLEEPS[ZERO].load(Ordering::SeqCst);
        let most = began.elapsed().as_millis() as usize + 1;
        drop(ticks);
        // At 1 ms at the least: a timer of zero is ready at once, and
        // the loop would have run thousands of times.
        assert!(ticked <= most, "{ticked} ticks of zero");
        runtime.wait_for_the_task("it ends");
    }

    #[test]
    fn a_runtime_that_asks_for_no_ticks_gets_no_task() {
        assert!(ReactorTicks::for_runtime(&Threads::default()).is_none());
    }
}
