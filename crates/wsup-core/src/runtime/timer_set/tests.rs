use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_executor::block_on;

use super::{Alarm, TimerSet};

/// An alarm that records what it was set to; `fail` makes it refuse.
#[derive(Default)]
struct Recorded {
    at: Mutex<Vec<Option<Instant>>>,
    fail: AtomicBool,
}

impl Alarm for Arc<Recorded> {
    fn set(&self, at: Option<Instant>) -> bool {
        self.at.lock().unwrap().push(at);
        !self.fail.load(Ordering::Relaxed)
    }
}

/// A driver on a thread of the test's: fires the set every millisecond,
/// as a reactor would when its alarm goes off, until `stop`.
fn driven(set: &Arc<TimerSet<Arc<Recorded>>>) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (set, flag) = (set.clone(), stop.clone());
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            set.fire_due();
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    (stop, thread)
}

#[test]
fn fires_after_its_duration_and_leaves_no_entry() {
    let alarm = Arc::new(Recorded::default());
    let set = TimerSet::new(alarm.clone());
    let (stop, thread) = driven(&set);
    let start = Instant::now();
    block_on(set.sleep(Duration::from_millis(50)));
    let took = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();
    assert!(took >= Duration::from_millis(50), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(set.armed(), 0);
}

#[test]
fn the_alarm_follows_the_earliest_deadline() {
    let alarm = Arc::new(Recorded::default());
    let set = TimerSet::new(alarm.clone());
    let late = set.sleep(Duration::from_secs(60));
    let later = set.sleep(Duration::from_secs(90));
    let early = set.sleep(Duration::from_secs(30));
    let set_to = alarm.at.lock().unwrap().clone();
    // Set for the first, not for the later one, set again for the earlier.
    assert_eq!(set_to.len(), 2, "{set_to:?}");
    assert!(set_to[1] < set_to[0]);
    assert_eq!(set.armed(), 3);
    // Dropped: their entries go; the alarm is left (a spurious wake only).
    drop((late, later, early));
    assert_eq!(set.armed(), 0);
    // Fired with nothing armed: the alarm is turned off.
    set.fire_due();
    assert_eq!(alarm.at.lock().unwrap().last(), Some(&None));
}

#[test]
fn fire_due_fires_only_what_is_due_and_sets_the_alarm_to_the_next() {
    let alarm = Arc::new(Recorded::default());
    let set = TimerSet::new(alarm.clone());
    let soon = set.sleep(Duration::from_millis(10));
    let late = set.sleep(Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(20));
    set.fire_due();
    assert_eq!(set.armed(), 1);
    block_on(soon);
    let next = alarm.at.lock().unwrap().last().copied().flatten();
    let next = next.expect("set for the late one");
    assert!(next > Instant::now() + Duration::from_secs(50));
    drop(late);
}

#[test]
fn zero_is_due_at_once() {
    let set = TimerSet::new(Arc::new(Recorded::default()));
    block_on(set.sleep(Duration::ZERO));
    assert_eq!(set.armed(), 0);
}

#[test]
fn a_closed_set_hands_its_timers_to_the_thread_and_none_fires_early() {
    let set = TimerSet::new(Arc::new(Recorded::default()));
    let mut timer = set.sleep(Duration::from_millis(150));
    let start = Instant::now();
    // The driver is gone: the timer is woken, and goes on on the thread.
    set.close();
    assert!(set.is_closed());
    assert_eq!(set.armed(), 0);
    block_on(&mut timer);
    let took = start.elapsed();
    assert!(timer.on_thread());
    assert!(took >= Duration::from_millis(140), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Timers made after the close are the thread's from the start.
    let after = set.sleep(Duration::from_millis(10));
    assert!(after.on_thread());
    block_on(after);
}

#[test]
fn an_alarm_that_cannot_be_set_closes_the_set() {
    let alarm = Arc::new(Recorded::default());
    alarm.fail.store(true, Ordering::Relaxed);
    let set = TimerSet::new(alarm);
    let start = Instant::now();
    let first = set.sleep(Duration::from_millis(60));
    assert!(set.is_closed());
    block_on(first);
    assert!(start.elapsed() >= Duration::from_millis(55));
}

#[test]
fn a_timer_woken_by_close_while_waiting_still_completes() {
    // A task waiting on the timer when the set closes: woken, it moves to
    // the thread and completes at its deadline, not before.
    let set = TimerSet::new(Arc::new(Recorded::default()));
    let timer = set.sleep(Duration::from_millis(120));
    let closer = {
        let set = set.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            set.close();
        })
    };
    let start = Instant::now();
    block_on(timer);
    closer.join().unwrap();
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(110), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}
