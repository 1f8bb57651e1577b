//! Armed timers by deadline: the map both of wsup's own timer sources keep
//! (the timer thread's, [`ThreadTimer`](super::ThreadTimer), and a
//! reactor's, [`TimerSet`](super::TimerSet)), each under its own lock and
//! each with its own way of waking at the earliest deadline.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::WakeFlag;

/// A timer's place among the [`Deadlines`]: its deadline, and a sequence
/// number that tells apart timers armed for the same instant.
pub(crate) type Key = (Instant, u64);

/// The armed timers, earliest first; each is the flag to raise when it
/// fires.
#[derive(Debug)]
pub(crate) struct Deadlines {
    timers: BTreeMap<Key, Arc<WakeFlag>>,
    next_seq: u64,
}

impl Deadlines {
    /// None armed (`const`: the timer thread's map is a `static`).
    pub(crate) const fn new() -> Self {
        Deadlines {
            timers: BTreeMap::new(),
            next_seq: 0,
        }
    }

    /// Arms a timer for `at` that raises `fired`; its key takes it out.
    pub(crate) fn arm(&mut self, at: Instant, fired: &Arc<WakeFlag>) -> Key {
        let key = (at, self.next_seq);
        self.next_seq += 1;
        self.timers.insert(key, fired.clone());
        key
    }

    /// Takes out the timer of `key`, if it is still armed.
    pub(crate) fn disarm(&mut self, key: Key) {
        self.timers.remove(&key);
    }

    /// Moves the timers due at `now` to `due`, to be raised once the
    /// caller's lock is dropped (a task woken may arm or drop a timer at
    /// once).
    pub(crate) fn take_due(&mut self, now: Instant, due: &mut Vec<Arc<WakeFlag>>) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
    }

    /// Moves every timer to `all`, due or not.
    pub(crate) fn take_all(&mut self, all: &mut Vec<Arc<WakeFlag>>) {
        all.extend(std::mem::take(&mut self.timers).into_values());
    }

    /// The earliest deadline armed.
    pub(crate) fn earliest(&self) -> Option<Instant> {
        self.timers.first_key_value().map(|((at, _), _)| *at)
    }

    /// How many timers are armed.
    pub(crate) fn len(&self) -> usize {
        self.timers.len()
    }

    /// Whether the timer of `key` is armed (for the tests).
    #[cfg(test)]
    pub(crate) fn is_armed(&self, key: Key) -> bool {
        self.timers.contains_key(&key)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::{Deadlines, WakeFlag};

    #[test]
    fn due_timers_come_out_earliest_first_and_the_rest_stay() {
        let early = Instant::now();
        let now = early + Duration::from_millis(5);
        let mut deadlines = Deadlines::new();
        let flags: Vec<Arc<WakeFlag>> = (0..4).map(|_| Arc::default()).collect();
        // Armed out of order, two for the same instant.
        let late = deadlines.arm(now + Duration::from_secs(60), &flags[0]);
        deadlines.arm(now, &flags[1]);
        deadlines.arm(early, &flags[2]);
        deadlines.arm(now, &flags[3]);
        assert_eq!(deadlines.earliest(), Some(early));

        let mut due = Vec::new();
        deadlines.take_due(now, &mut due);
        let order: Vec<usize> = due
            .iter()
            .map(|d| flags.iter().position(|f| Arc::ptr_eq(f, d)).unwrap())
            .collect();
        assert_eq!(order, [2, 1, 3], "by deadline, then in the order armed");
        assert_eq!(deadlines.len(), 1);
        assert!(deadlines.is_armed(late));
        assert_eq!(deadlines.earliest(), Some(now + Duration::from_secs(60)));
    }

    #[test]
    fn a_disarmed_timer_is_gone_and_take_all_empties() {
        let now = Instant::now();
        let mut deadlines = Deadlines::new();
        let flag = Arc::new(WakeFlag::default());
        let first = deadlines.arm(now + Duration::from_secs(1), &flag);
        let second = deadlines.arm(now + Duration::from_secs(1), &flag);
        assert_ne!(first, second, "same instant, two timers");
        deadlines.disarm(first);
        assert!(!deadlines.is_armed(first));
        assert!(deadlines.is_armed(second));
        // Disarming twice (fired, then dropped) is harmless.
        deadlines.disarm(first);

        let mut all = Vec::new();
        deadlines.take_all(&mut all);
        assert_eq!(all.len(), 1);
        assert_eq!(deadlines.len(), 0);
        assert_eq!(deadlines.earliest(), None);
    }
}
