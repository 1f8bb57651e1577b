//! The closing handshake's side of [`Protocol`]: starting it, failing
//! the connection, the close frames queued, and who closed first.

use super::{Error, Outcome, Phase, Protocol, ProtocolError};
use crate::close::{CloseFrame, MAX_PAYLOAD_LEN};
use crate::frame::OpCode;
use crate::stats::{ClosedBy, FirstClose};

impl Protocol {
    /// The first close frame of the connection, sent or received, if any.
    pub(crate) fn first_close(&self) -> Option<FirstClose> {
        self.first_close
    }

    /// A close frame was sent or received: the first says who closed.
    pub(super) fn closed_by(&mut self, by: ClosedBy, frame: Option<&CloseFrame>) {
        self.first_close.get_or_insert(FirstClose {
            by,
            code: frame.map(|f| f.code),
        });
    }

    /// Starts closing if open: queues the close frame (no I/O).
    pub(crate) fn start_close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        if self.phase == Phase::Open {
            CloseFrame::check_sendable(frame.as_ref()).map_err(Error::InvalidMessage)?;
            self.begin_close(frame.as_ref(), Phase::CloseSent);
        }
        Ok(())
    }

    pub(super) fn start_close_timer(&mut self) {
        self.timers.closing();
    }

    /// Closing inside an unfinished relayed frame: no close frame can follow
    /// it, so there is nothing for the peer to answer and nothing to protect
    /// by draining. What is queued goes out and the connection is shut down.
    /// `false` (nothing done) when no such frame is open.
    pub(super) fn shut_down_inside_frame(&mut self) -> bool {
        if !self.queue.frame_open() {
            return false;
        }
        self.phase = Phase::Finishing;
        self.start_close_timer();
        true
    }

    /// Sends our close frame and waits for the peer's (or for `Draining`).
    pub(super) fn begin_close(&mut self, frame: Option<&CloseFrame>, next: Phase) {
        if self.shut_down_inside_frame() {
            return;
        }
        self.queue_close(frame);
        self.phase = next;
        self.start_close_timer();
    }

    /// Fails the connection on a protocol error: the close frame that says
    /// why, then draining.
    pub(super) fn fail(&mut self, err: ProtocolError) {
        let frame = err.close_frame();
        self.outcome = Some(Outcome::Error(Error::Protocol(err)));
        if self.shut_down_inside_frame() {
            return;
        }
        if self.phase == Phase::Open {
            self.queue_close(Some(&frame));
        }
        self.phase = Phase::Draining;
        self.start_close_timer();
    }

    pub(super) fn queue_close(&mut self, frame: Option<&CloseFrame>) {
        self.closed_by(ClosedBy::this_side(self.role), frame);
        let mut payload = [0u8; MAX_PAYLOAD_LEN];
        let n = CloseFrame::encode(frame, &mut payload);
        self.queue
            .queue_frame(OpCode::Close, true, false, &payload[..n]);
    }
}
