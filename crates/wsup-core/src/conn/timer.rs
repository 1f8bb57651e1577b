//! The driver's one timer, armed for the protocol's next deadline and
//! looked at every time the task would wait, at the cost of an atomic load.
//!
//! Polling a runtime's sleep costs something each time (tokio's charges
//! the task's budget and registers its waker again), and keepalive keeps a
//! timer armed on every open connection. So the sleep is polled with a
//! waker of ours, an alarm (a [`WakeFlag`]), that is raised and wakes the
//! task; after that first poll the sleep is polled again only when the
//! alarm rang. The task's waker is kept in the alarm, registered again only
//! when it changes (on a split connection, each half's task polls in turn).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Instant;

use crate::runtime::{Runtime, Sleep, WakeFlag};

/// See the module docs.
#[derive(Default)]
pub(crate) struct Timer {
    armed: Option<Armed>,
}

struct Armed {
    at: Instant,
    sleep: Pin<Box<dyn Sleep>>,
    /// Raised by the sleep, and wakes the task.
    alarm: Arc<WakeFlag>,
    /// `alarm` as a waker, to poll `sleep` with.
    alarm_waker: Waker,
    /// The task's waker last registered in `alarm`.
    task: Option<Waker>,
}

impl Timer {
    pub(crate) fn is_armed(&self) -> bool {
        self.armed.is_some()
    }

    pub(crate) fn disarm(&mut self) {
        self.armed = None;
    }

    /// Whether the timer for `at` fired: arms it with `rt` unless it is
    /// armed for that instant already; the task of `cx` is woken when it
    /// fires. A timer that fired is disarmed.
    pub(crate) fn poll(&mut self, rt: &dyn Runtime, at: Instant, cx: &mut Context<'_>) -> bool {
        let armed = match &mut self.armed {
            Some(armed) if armed.at == at => armed,
            armed => {
                let wait = at.saturating_duration_since(Instant::now());
                // Rung from the start: the sleep is polled once, to learn
                // the alarm's waker.
                let alarm = Arc::new(WakeFlag::raised());
                armed.insert(Armed {
                    at,
                    sleep: rt.sleep(wait),
                    alarm_waker: Waker::from(alarm.clone()),
                    alarm,
                    task: None,
                })
            }
        };
        if !armed.task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            armed.alarm.register(cx.waker());
            armed.task = Some(cx.waker().clone());
        }
        if !armed.alarm.is_raised() {
            return false;
        }
        // It rang (and the wake took the task's waker from the alarm): the
        // waker goes back, then the sleep says whether it is done.
        armed.alarm.lower();
        armed.alarm.register(cx.waker());
        let mut alarm_cx = Context::from_waker(&armed.alarm_waker);
        if armed.sleep.as_mut().poll(&mut alarm_cx).is_pending() {
            return false;
        }
        self.armed = None;
        true
    }
}
