//! A word to a connection from outside its task: the server that runs it is
//! shutting down, or its handler failed.
//!
//! The server keeps one [`Notice`] per connection it runs and the
//! connection's driver holds the other end. Going away, the driver starts
//! closing with 1001 the next time it would wait for input (what is queued
//! goes out first), so the handler's `recv` sees the peer's answer and ends
//! as after any close. A connection dropped with a notice given (its
//! handler panicked, or the drain deadline passed) makes a last attempt,
//! without waiting, to tell the peer why: 1011 or 1001.

use std::sync::atomic::{AtomicU8, Ordering};
use std::task::Context;

use futures_util::task::AtomicWaker;

use crate::close::CloseCode;

const RUNNING: u8 = 0;
const GOING_AWAY: u8 = 1;
const FAILED: u8 = 2;

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Notice {
    state: AtomicU8,
    waker: AtomicWaker,
}

impl Notice {
    /// The server is shutting down: close with 1001.
    pub(crate) fn go_away(&self) {
        let _ =
            self.state
                .compare_exchange(RUNNING, GOING_AWAY, Ordering::AcqRel, Ordering::Acquire);
        self.waker.wake();
    }

    /// The handler failed (panicked): a connection dropped now tells the
    /// peer 1011.
    pub(crate) fn handler_failed(&self) {
        self.state.store(FAILED, Ordering::Release);
        self.waker.wake();
    }

    /// The server is shutting down (or the handler failed).
    pub(crate) fn given(&self) -> bool {
        self.state.load(Ordering::Acquire) != RUNNING
    }

    /// Whether a notice was given; if not, the task of `cx` is woken when
    /// one is.
    pub(crate) fn poll_given(&self, cx: &mut Context<'_>) -> bool {
        if self.given() {
            return true;
        }
        self.waker.register(cx.waker());
        self.given()
    }

    /// The close code a connection dropped now should send, if any.
    pub(crate) fn last_word(&self) -> Option<CloseCode> {
        match self.state.load(Ordering::Acquire) {
            GOING_AWAY => Some(CloseCode::GOING_AWAY),
            FAILED => Some(CloseCode::INTERNAL),
            _ => None,
        }
    }
}
