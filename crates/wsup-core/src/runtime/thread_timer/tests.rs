use std::time::{Duration, Instant};

use futures_executor::block_on;
use futures_util::future::{select, Either};

use super::{ThreadTimer, THREAD};

#[test]
fn fires_after_its_duration() {
    let start = Instant::now();
    block_on(ThreadTimer::after(Duration::from_millis(50)));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(50), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn zero_is_due_at_once() {
    let timer = ThreadTimer::after(Duration::ZERO);
    assert!(timer.key.is_none());
    block_on(timer);
}

#[test]
fn an_earlier_timer_armed_later_fires_first() {
    // The thread sleeps towards the late deadline when the early one comes.
    let late = ThreadTimer::after(Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(20));
    let start = Instant::now();
    match block_on(select(late, ThreadTimer::after(Duration::from_millis(50)))) {
        Either::Right(((), _late)) => {}
        Either::Left(..) => panic!("the 30 s timer fired first"),
    }
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_dropped_timer_leaves_no_entry() {
    let timer = ThreadTimer::after(Duration::from_secs(60));
    let key = timer.key.expect("armed");
    assert!(THREAD.armed(key));
    drop(timer);
    assert!(!THREAD.armed(key));
}

#[test]
fn a_fired_timer_leaves_no_entry() {
    let timer = ThreadTimer::after(Duration::from_millis(10));
    let key = timer.key.expect("armed");
    block_on(timer);
    assert!(!THREAD.armed(key));
}

#[test]
fn a_later_timer_fires_on_time_after_an_earlier_one_is_dropped() {
    // The thread sleeps towards the earlier deadline; the later timer,
    // armed without waking it, is found when it wakes there.
    let early = ThreadTimer::after(Duration::from_millis(100));
    std::thread::sleep(Duration::from_millis(20));
    drop(early);
    let start = Instant::now();
    block_on(ThreadTimer::after(Duration::from_millis(150)));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}
