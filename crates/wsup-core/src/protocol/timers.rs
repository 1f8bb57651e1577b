//! The connection's deadlines, lazily: keepalive, idle, write and close.
//!
//! Nothing here runs per message. Each deadline is an instant that is set
//! once and looked at only when it passes; activity in between just sets a
//! flag (`received`, `active`, `wrote`), and when the deadline passes the
//! flag says whether to push it on (something happened) or act (nothing
//! did). So a connection arms one timer for the earliest deadline and
//! re-arms it only when that instant changes: a busy connection re-arms it
//! once per interval, not once per message.
//!
//! The cost of laziness is precision: a deadline pushed on counts from when
//! it passed, not from the last activity, so "nothing for `d`" is noticed
//! between `d` and `2d` after the last activity. The documentation of each
//! setting says so.

use crate::runtime::later;
use std::time::{Duration, Instant};

/// One deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Off,
    /// Asked for, `after` this long from the next reading of the clock (the
    /// protocol reads no clock: the driver's next `poll_timeout` does).
    Asked(Duration),
    At(Instant),
}

impl Deadline {
    fn is_set(self) -> bool {
        self != Deadline::Off
    }

    /// Turns an asked deadline into an instant.
    fn fix(&mut self, now: Instant) {
        if let Deadline::Asked(after) = *self {
            *self = Deadline::At(later(now, after));
        }
    }

    fn at(self) -> Option<Instant> {
        match self {
            Deadline::At(at) => Some(at),
            _ => None,
        }
    }

    fn passed(self, now: Instant) -> bool {
        matches!(self, Deadline::At(at) if now >= at)
    }
}

/// What a passed deadline asks the protocol to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Nothing arrived for a keepalive interval: send a ping.
    Ping,
    /// Nothing arrived within the keepalive timeout after a ping: the peer
    /// is gone.
    PeerGone,
    /// No data message for the idle timeout: close with 1001.
    Idle,
    /// Output made no progress for the write timeout.
    WriteStalled,
    /// The closing handshake did not finish in time.
    Close,
}

/// The deadlines of one connection and the activity seen since each was
/// set.
#[derive(Debug)]
pub(crate) struct Timers {
    keepalive_interval: Option<Duration>,
    keepalive_timeout: Duration,
    idle_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    close_timeout: Duration,

    keepalive: Deadline,
    /// The keepalive deadline is the answer to a ping we sent.
    pinged: bool,
    idle: Deadline,
    write: Deadline,
    close: Deadline,
    /// Some deadline is asked for and not fixed yet.
    asked: bool,
    /// The earliest deadline, as of the last `next`; `stale` once one
    /// changes. (`next` runs each time the connection would wait: the
    /// cache spares it the minimum over four deadlines then.)
    earliest: Option<Instant>,
    stale: bool,

    /// Input arrived since the keepalive deadline was set.
    pub(crate) received: bool,
    /// A data message was received or sent since the idle deadline was set.
    pub(crate) active: bool,
    /// Output was written since the write deadline was set.
    pub(crate) wrote: bool,
    /// Input was looked for (the application receiving) since the
    /// keepalive ping.
    pub(crate) listened: bool,
}

impl Timers {
    pub(crate) fn new(
        keepalive_interval: Option<Duration>,
        keepalive_timeout: Duration,
        idle_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
        close_timeout: Duration,
    ) -> Self {
        let mut timers = Timers {
            keepalive_interval,
            keepalive_timeout,
            idle_timeout,
            write_timeout,
            close_timeout,
            keepalive: Deadline::Off,
            pinged: false,
            idle: Deadline::Off,
            write: Deadline::Off,
            close: Deadline::Off,
            asked: false,
            earliest: None,
            stale: false,
            received: false,
            active: false,
            wrote: false,
            listened: false,
        };
        if let Some(every) = keepalive_interval {
            timers.keepalive = timers.ask(every);
        }
        if let Some(after) = idle_timeout {
            timers.idle = timers.ask(after);
        }
        timers
    }

    fn ask(&mut self, after: Duration) -> Deadline {
        self.asked = true;
        self.stale = true;
        Deadline::Asked(after)
    }

    /// Any deadline is set.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.keepalive.is_set() || self.idle.is_set() || self.write.is_set() || self.close.is_set()
    }

    /// A deadline was asked for and waits for the clock to fix it.
    #[inline]
    pub(crate) fn asked(&self) -> bool {
        self.asked
    }

    /// The earliest deadline; `now` is read only if one was asked for.
    #[inline]
    pub(crate) fn next(&mut self, now: impl FnOnce() -> Instant) -> Option<Instant> {
        if !self.stale {
            return self.earliest;
        }
        self.stale = false;
        if self.asked {
            self.asked = false;
            let now = now();
            for d in [
                &mut self.keepalive,
                &mut self.idle,
                &mut self.write,
                &mut self.close,
            ] {
                d.fix(now);
            }
        }
        self.earliest = [self.keepalive, self.idle, self.write, self.close]
            .into_iter()
            .filter_map(Deadline::at)
            .min();
        self.earliest
    }

    /// The output cannot be written now: the write timeout starts, unless it
    /// runs already.
    pub(crate) fn write_blocked(&mut self) {
        if let (Some(after), Deadline::Off) = (self.write_timeout, self.write) {
            self.wrote = false;
            self.write = self.ask(after);
        }
    }

    /// Closing started: the close timeout starts, unless it runs already;
    /// keepalive and the idle timeout are over (the close timeout bounds
    /// what is left).
    pub(crate) fn closing(&mut self) {
        self.stale = true;
        self.keepalive = Deadline::Off;
        self.idle = Deadline::Off;
        if self.close == Deadline::Off {
            self.close = self.ask(self.close_timeout);
        }
    }

    /// The connection is over: no deadline is left.
    pub(crate) fn clear(&mut self) {
        self.stale = true;
        self.keepalive = Deadline::Off;
        self.idle = Deadline::Off;
        self.write = Deadline::Off;
        self.close = Deadline::Off;
        self.asked = false;
    }

    /// The deadlines that passed at `now`, most severe first; each pushed
    /// on, re-armed or spent. `queued` is the output still waiting.
    pub(crate) fn expire(&mut self, now: Instant, queued: usize) -> Option<Expiry> {
        self.stale = true;
        if self.close.passed(now) {
            self.clear();
            return Some(Expiry::Close);
        }
        if self.write.passed(now) {
            if queued == 0 {
                self.write = Deadline::Off;
            } else if std::mem::take(&mut self.wrote) {
                self.write = Deadline::At(later(now, self.write_timeout.unwrap_or_default()));
            } else {
                self.clear();
                return Some(Expiry::WriteStalled);
            }
        }
        if self.keepalive.passed(now) {
            let every = self.keepalive_interval.unwrap_or_default();
            if std::mem::take(&mut self.received) {
                self.pinged = false;
                self.keepalive = Deadline::At(later(now, every));
            } else if self.pinged && std::mem::take(&mut self.listened) {
                self.clear();
                return Some(Expiry::PeerGone);
            } else if self.pinged {
                // No input looked for since the ping (the application only
                // sends): an answer may wait unread, so none was missed.
                self.keepalive = Deadline::At(later(now, self.keepalive_timeout));
            } else {
                self.pinged = true;
                self.listened = false;
                self.keepalive = Deadline::At(later(now, self.keepalive_timeout));
                return Some(Expiry::Ping);
            }
        }
        if self.idle.passed(now) {
            if std::mem::take(&mut self.active) {
                self.idle = Deadline::At(later(now, self.idle_timeout.unwrap_or_default()));
            } else {
                self.idle = Deadline::Off;
                return Some(Expiry::Idle);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn timers() -> (Timers, Instant) {
        let mut t = Timers::new(Some(10 * S), 5 * S, Some(60 * S), Some(3 * S), 2 * S);
        let t0 = Instant::now();
        assert_eq!(t.next(|| t0), Some(t0 + 10 * S), "keepalive first");
        (t, t0)
    }

    #[test]
    fn keepalive_pushes_on_while_input_arrives_then_pings_then_gives_up() {
        let (mut t, t0) = timers();
        t.received = true;
        assert_eq!(t.expire(t0 + 10 * S, 0), None);
        assert_eq!(t.next(|| unreachable!()), Some(t0 + 20 * S));
        assert_eq!(t.expire(t0 + 20 * S, 0), Some(Expiry::Ping));
        assert_eq!(t.next(|| unreachable!()), Some(t0 + 25 * S));
        assert_eq!(t.expire(t0 + 25 * S, 0), None, "no input looked for");
        t.listened = true;
        assert_eq!(t.expire(t0 + 30 * S, 0), Some(Expiry::PeerGone));
        assert!(!t.any(), "a gone peer leaves nothing to arm");
    }

    #[test]
    fn an_answer_to_the_ping_goes_back_to_watching() {
        let (mut t, t0) = timers();
        assert_eq!(t.expire(t0 + 10 * S, 0), Some(Expiry::Ping));
        t.received = true;
        assert_eq!(t.expire(t0 + 15 * S, 0), None);
        assert_eq!(t.next(|| unreachable!()), Some(t0 + 25 * S));
        assert_eq!(t.expire(t0 + 25 * S, 0), Some(Expiry::Ping));
    }

    #[test]
    fn a_write_that_moves_pushes_the_write_deadline_on_and_one_that_does_not_stalls() {
        let (mut t, t0) = timers();
        t.write_blocked();
        assert!(t.asked());
        assert_eq!(t.next(|| t0), Some(t0 + 3 * S));
        t.write_blocked();
        assert!(!t.asked(), "a running write timeout is not restarted");
        t.wrote = true;
        assert_eq!(t.expire(t0 + 3 * S, 10), None);
        assert_eq!(t.next(|| unreachable!()), Some(t0 + 6 * S));
        assert_eq!(t.expire(t0 + 6 * S, 10), Some(Expiry::WriteStalled));
        assert!(!t.any());
    }

    #[test]
    fn a_write_deadline_with_nothing_queued_is_spent() {
        let (mut t, t0) = timers();
        t.write_blocked();
        t.next(|| t0);
        assert_eq!(t.expire(t0 + 3 * S, 0), None);
        assert_eq!(t.next(|| unreachable!()), Some(t0 + 10 * S));
    }

    #[test]
    fn idle_without_data_then_closing_drops_keepalive_and_idle() {
        let mut t = Timers::new(None, 5 * S, Some(60 * S), None, 2 * S);
        let t0 = Instant::now();
        assert_eq!(t.next(|| t0), Some(t0 + 60 * S));
        t.active = true;
        assert_eq!(t.expire(t0 + 60 * S, 0), None);
        assert_eq!(t.expire(t0 + 120 * S, 0), Some(Expiry::Idle));
        t.closing();
        let t1 = t0 + 121 * S;
        assert_eq!(t.next(|| t1), Some(t1 + 2 * S));
        assert_eq!(t.expire(t1 + 2 * S, 0), Some(Expiry::Close));
        assert_eq!(t.next(|| unreachable!()), None);
    }

    #[test]
    fn nothing_configured_is_nothing_armed() {
        let mut t = Timers::new(None, 5 * S, None, None, 2 * S);
        assert!(!t.any() && !t.asked());
        t.write_blocked();
        assert!(!t.any(), "no write timeout configured");
        assert_eq!(t.next(|| unreachable!()), None);
    }
}
