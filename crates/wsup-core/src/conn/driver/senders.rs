//! The driver's side of its [`Sender`]s: the send queue made on first use,
//! taken into the protocol while the connection waits for input (or, for a
//! close, while its output is blocked), and shut when the connection ends.

use std::task::Context;

use futures_io::{AsyncRead, AsyncWrite};

use super::Driver;
use crate::conn::outbox::{Outbox, Outgoing, Sender};

impl<T: AsyncRead + AsyncWrite + Unpin> Driver<T> {
    /// A handle that queues messages on this connection from other tasks.
    pub(crate) fn sender(&mut self) -> Sender {
        let outbox = self
            .outbox
            .get_or_insert_with(|| Outbox::new(self.proto.config()));
        if !self.proto.is_open() {
            outbox.shut();
        }
        Sender::new(outbox.clone())
    }

    /// Moves what senders queued into the protocol, as far as the backlog
    /// has room, then the close one asked for. Whether anything was taken.
    #[inline(never)]
    pub(super) fn take_outbox(&mut self) -> bool {
        let Some(outbox) = self.outbox.take() else {
            return false;
        };
        let mut took = false;
        if !self.proto.is_open() {
            outbox.shut();
        } else {
            let room = self.proto.takes_whole_messages();
            let proto = &mut self.proto;
            let taken = outbox.take(room, |msg| {
                // Refused only when it could not be sent: dropped.
                let _ = match msg {
                    Outgoing::Message(m) => proto.start_send(m),
                    Outgoing::Prepared(p) => proto.queue_prepared(&p),
                };
                proto.takes_whole_messages()
            });
            took = taken.messages > 0;
            if let Some(frame) = taken.close {
                let _ = self.start_close(frame);
                outbox.shut();
                took = true;
            }
        }
        self.outbox = Some(outbox);
        took
    }

    /// The connection is about to wait for input: whether senders queued
    /// something meanwhile (taken now), or else the task is woken when they do.
    pub(super) fn outbox_waits(&mut self, cx: &mut Context<'_>) -> bool {
        match &self.outbox {
            Some(outbox) => outbox.register(cx) && self.take_outbox(),
            None => false,
        }
    }

    /// The connection's output is blocked: whether a sender asked it to
    /// close meanwhile (the close is started now, its timer with it), or
    /// else the task is woken when one does.
    pub(super) fn outbox_closes(&mut self, cx: &mut Context<'_>) -> bool {
        match &self.outbox {
            Some(outbox) if self.proto.is_open() => outbox.close_waits(cx) && self.take_outbox(),
            _ => false,
        }
    }

    /// The connection is over: its senders learn it.
    pub(super) fn shut_outbox(&self) {
        if let Some(outbox) = &self.outbox {
            outbox.shut();
        }
    }
}
