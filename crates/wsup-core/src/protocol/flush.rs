//! When output is written: the one place that decides.
//!
//! Output is queued by the application's sends and by the protocol itself
//! (pongs, close frames) and written out at four moments:
//!
//! 1. **Backpressure** ([`Flush::Wait`]): past the backlog limit
//!    (`write_backlog_limit`, never below `write_flush_threshold`), output
//!    must drain before more is queued or read: a peer that floods pings
//!    and reads nothing gets backpressure, not unbounded pong buffers.
//! 2. **Past the threshold** ([`Flush::Try`]): output is written as far as
//!    the transport takes it without waiting, rather than when the batch
//!    ends. Under the backlog limit, a peer that is not reading yet must not
//!    stop us reading (it may be waiting for us to read before it reads).
//!    Payloads queued by reference cost no copy, so with one queued the
//!    batch may grow to a read window ([`READ_WINDOW`]: what one read takes
//!    in) before it is past the threshold: echoes of large messages then go
//!    out a write per read, as from a raw TCP echo.
//! 3. **Before a read** ([`Flush::Try`]): a large payload is written before
//!    the next read, as a relay would send it (batching saves it nothing
//!    worth having, and held back while the next message is read it would
//!    stall a peer that keeps a few large messages in flight); and when the
//!    read must make room in the buffer first, queued echoes may share it:
//!    written out, they let it be reused instead of reallocated.
//! 4. **At the end of a batch** ([`Protocol::batch_ended`]): when the
//!    connection would wait for input (or the input ended), whatever this
//!    batch of input produced goes out, so the replies to a burst of
//!    requests share one syscall. And, of course, on the application's
//!    `flush`.

use super::read_buf::READ_WINDOW;
use super::Protocol;

/// How much to write out before going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flush {
    /// Nothing.
    No,
    /// As much as the transport takes without waiting.
    Try,
    /// Everything, waiting for the transport if need be.
    Wait,
}

impl Protocol {
    /// Before reading more input (moments 1 to 3).
    pub(crate) fn flush_before_read(&self) -> Flush {
        let queued = self.queue.queued();
        if queued > self.cfg.backlog_limit() {
            Flush::Wait
        } else if queued > self.cfg.write_flush_threshold
            || self.queue.holds_large_payload()
            || (queued > 0
                && self
                    .read
                    .needs_room(self.decoder.need(self.read.len()), &self.cfg))
        {
            Flush::Try
        } else {
            Flush::No
        }
    }

    /// Before queuing more output (moments 1 and 2).
    #[inline(always)]
    pub(crate) fn flush_before_queue(&self) -> Flush {
        let queued = self.queue.queued();
        let threshold = self.cfg.write_flush_threshold;
        // Under the threshold, nothing (the backlog limit is never below
        // it): the answer to almost every send, in one comparison.
        if queued < threshold {
            return Flush::No;
        }
        self.flush_past_threshold(queued, threshold)
    }

    #[inline(never)]
    fn flush_past_threshold(&self, queued: usize, threshold: usize) -> Flush {
        // With a payload queued by reference, the batch may grow to a read
        // window; bytes copied into the tail still go out at the threshold.
        let past_threshold = if self.queue.holds_large_payload() {
            self.queue.coalesced() >= threshold || queued >= threshold.max(READ_WINDOW)
        } else {
            queued >= threshold
        };
        if queued >= self.cfg.backlog_limit() {
            Flush::Wait
        } else if past_threshold {
            Flush::Try
        } else {
            Flush::No
        }
    }

    /// The connection would wait for input, or the input ended (moment 4):
    /// whether anything is left to write out or flush.
    pub(crate) fn batch_ended(&self) -> bool {
        !self.queue.is_idle()
    }
}
