//! The driver: joins the sans-IO [`Protocol`] to a `futures_io` transport
//! and to one timer from the [`Runtime`]. It moves bytes between the two
//! and carries out what the protocol asks ([`Next`], [`Flush`]); it decides
//! nothing about the protocol itself.
//!
//! [`super::WebSocket`] owns one directly; the split halves share one
//! behind a mutex held for one poll at a time (see `split.rs`).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};

use super::notice::Notice;
use super::outbox::Outbox;
use super::timer::Timer;
use crate::close::{CloseCode, CloseFrame};
use crate::error::Error;
use crate::message::Message;
use crate::observe::{Span, Watch};
use crate::protocol::{Event, Flush, Mode, Next, Protocol, MAX_IOVECS, PROBE, READ_WINDOW};
use crate::runtime::Runtime;
use crate::stats::ConnectionStats;

mod receive;
mod senders;

#[cfg(test)]
pub(crate) use self::receive::PIECES_OVER;

pub(crate) struct Driver<T> {
    pub(crate) io: T,
    pub(crate) proto: Protocol,
    runtime: Option<Arc<dyn Runtime>>,
    /// The one timer, armed for the protocol's next deadline.
    timer: Timer,
    /// The transport's write side has been shut down.
    shut: bool,
    /// A word from the server that runs the connection, if one does.
    notice: Option<Arc<Notice>>,
    /// The notice was acted on.
    noticed: bool,
    /// Run when dropped (set with the notice: see [`Self::last_words`]). A
    /// function pointer, so that `Drop` needs no bounds on `T`.
    on_drop: Option<fn(&mut Self)>,
    /// Its span, when it opened, and what it reports when it ends.
    pub(crate) watch: Watch,
    /// The send queue of its [`Sender`]s, once one was asked for.
    outbox: Option<Arc<Outbox>>,
}

impl<T> Drop for Driver<T> {
    fn drop(&mut self) {
        if let Some(last_words) = self.on_drop {
            last_words(self);
        }
        if let Some(outbox) = &self.outbox {
            outbox.shut();
        }
        // Dropped before it ended: reported now (a no-op if it ended).
        let (counts, first) = (self.proto.counts, self.proto.first_close());
        self.watch.ended(counts, first, None);
    }
}

/// The close frame for a notice's code: going away (1001) or failed (1011).
fn notice_close(code: CloseCode) -> CloseFrame {
    let reason = if code == CloseCode::INTERNAL {
        "handler failed"
    } else {
        "server shutting down"
    };
    CloseFrame::new(code, reason)
}

impl<T> std::fmt::Debug for Driver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.proto.fmt(f)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Driver<T> {
    pub(crate) fn new(
        io: T,
        proto: Protocol,
        runtime: Option<Arc<dyn Runtime>>,
        span: Span,
    ) -> Self {
        Driver {
            io,
            proto,
            runtime,
            timer: Timer::default(),
            shut: false,
            notice: None,
            noticed: false,
            on_drop: None,
            watch: Watch::new(span),
            outbox: None,
        }
    }

    /// What the connection has received and sent so far.
    pub(crate) fn stats(&self) -> ConnectionStats {
        ConnectionStats::new(self.proto.counts, self.watch.opened)
    }

    /// Reports the end of the connection with `outcome` (once; see
    /// `observe.rs`).
    #[cold]
    #[inline(never)]
    fn report_end(&mut self, outcome: &Result<Message, Error>) {
        let (counts, first) = (self.proto.counts, self.proto.first_close());
        self.watch.ended(counts, first, Some(outcome));
    }

    /// Listens to `notice` from the server that runs the connection.
    pub(crate) fn attach_notice(&mut self, notice: Arc<Notice>) {
        self.notice = Some(notice);
        self.on_drop = Some(Self::last_words);
    }

    /// Whether a notice arrived (once): going away starts closing with 1001
    /// (after what is queued). Otherwise the task is woken when one does.
    fn notice_arrived(&mut self, cx: &mut Context<'_>) -> bool {
        match &self.notice {
            Some(notice) if !self.noticed && notice.poll_given(cx) => {
                self.noticed = true;
                let code = notice.last_word().unwrap_or(CloseCode::GOING_AWAY);
                if self.proto.is_open() {
                    let _ = self.start_close(Some(notice_close(code)));
                }
                true
            }
            _ => false,
        }
    }

    /// Dropped with a notice given (the handler failed, or the server gave
    /// up waiting for it): one attempt, without waiting, to tell the peer
    /// why, and to shut the write side down.
    fn last_words(&mut self) {
        let Some(notice) = &self.notice else {
            return;
        };
        // Dropped while a panic unwinds: the task that owns the connection
        // (its handler) panicked, and the server, which catches the panic
        // only after the unwinding dropped the connection, cannot say so
        // in time.
        let code = if std::thread::panicking() {
            Some(CloseCode::INTERNAL)
        } else {
            notice.last_word()
        };
        let Some(code) = code else {
            return;
        };
        if self.proto.is_closed() {
            return;
        }
        if self.proto.is_open() {
            let _ = self.proto.start_close(Some(notice_close(code)));
        }
        let mut cx = Context::from_waker(Waker::noop());
        if self.try_write_out(&mut cx) {
            let _ = Pin::new(&mut self.io).poll_close(&mut cx);
        }
    }

    /// Writes what the transport takes without waiting, and no more: for a
    /// connection about to be dropped. Whether all of it went.
    fn try_write_out(&mut self, cx: &mut Context<'_>) -> bool {
        while self.proto.queued() > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let count = self.proto.output(&mut slices);
            match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]) {
                Poll::Ready(Ok(n @ 1..)) => self.proto.wrote(n),
                _ => return false,
            }
        }
        let _ = Pin::new(&mut self.io).poll_flush(cx);
        true
    }

    /// Something from outside the connection came due: the protocol's
    /// deadline passed, or the server's notice arrived.
    fn outside_event(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline_passed(cx) || self.notice_arrived(cx)
    }

    /// Whether the protocol's deadline has passed: arms the timer for it
    /// (re-armed only when that instant changes) and polls it, so the task
    /// is woken when it fires, and tells the protocol once it has. Without
    /// a runtime there are no timers: closing waits for the peer.
    fn deadline_passed(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.timer.is_armed() && !self.proto.has_deadline() {
            return false;
        }
        let Some(deadline) = self.proto.poll_timeout(Instant::now) else {
            self.timer.disarm();
            return false;
        };
        let Some(rt) = &self.runtime else {
            return false;
        };
        if !self.timer.poll(&**rt, deadline, cx) {
            return false;
        }
        // The runtime's timer is the clock: it fired, so the deadline it was
        // armed for has passed, whatever `Instant::now` says (a paused,
        // simulated or coarse clock).
        self.proto.handle_timeout(deadline.max(Instant::now()));
        true
    }

    /// Fixes the deadline the protocol asked for from now, when closing
    /// starts, rather than when the connection is next polled: the close
    /// timeout counts from the close.
    #[inline]
    pub(super) fn fix_deadline(&mut self) {
        if self.runtime.is_some() && self.proto.deadline_asked() {
            let _ = self.proto.poll_timeout(Instant::now);
        }
    }

    /// Queues a message (no I/O); a close frame starts the close timeout.
    pub(crate) fn start_send(&mut self, msg: Message) -> Result<(), Error> {
        self.proto.start_send(msg)?;
        self.fix_deadline();
        Ok(())
    }

    /// Starts closing if open (no I/O); the close timeout starts now.
    pub(crate) fn start_close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        self.proto.start_close(frame)?;
        self.fix_deadline();
        Ok(())
    }

    /// Writes out everything queued, then flushes the transport. A write
    /// that would block starts the write timeout; a deadline that ends the
    /// connection meanwhile fails it with `TimedOut` (the protocol holds
    /// the error to report).
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            while self.proto.queued() > 0 {
                if self.proto.is_expired() {
                    return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
                }
                // One buffer (the common case: a batch of small frames) in
                // a plain write; else up to `MAX_IOVECS` slices in one.
                let res = match self.proto.output_single() {
                    Some(buf) => Pin::new(&mut self.io).poll_write(cx, buf),
                    None => {
                        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                        let count = self.proto.output(&mut slices);
                        Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count])
                    }
                };
                let n = match res {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Poll::Ready(Ok(n)) => n,
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        self.proto.write_blocked();
                        if self.deadline_passed(cx) || self.outbox_closes(cx) {
                            continue;
                        }
                        return Poll::Pending;
                    }
                };
                self.proto.wrote(n);
            }
            if self.proto.needs_flush() && Pin::new(&mut self.io).poll_flush(cx)?.is_pending() {
                // A flush that waits (a TLS stream holding records the peer
                // does not read) is output that makes no progress too.
                self.proto.write_blocked();
                if !self.deadline_passed(cx) {
                    return Poll::Pending;
                }
                if self.proto.is_expired() {
                    return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
                }
                continue;
            }
            self.proto.flushed();
            return Poll::Ready(Ok(()));
        }
    }

    /// Reads more bytes. `Ready(Ok(0))` is end of stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        self.proto.reading();
        if self.proto.wants_probe() {
            let mut probe = [0u8; PROBE];
            let res = Pin::new(&mut self.io).poll_read(cx, &mut probe);
            if let Poll::Ready(Ok(n @ 1..)) = res {
                self.proto.received_probe(&probe[..n]);
            }
            return res;
        }
        let window = self.proto.read_window();
        let len = window.len();
        debug_assert!(len <= READ_WINDOW);
        let res = Pin::new(&mut self.io).poll_read(cx, window);
        let n = match &res {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        self.proto.filled(n, len);
        res
    }

    /// Flushes what is queued and shuts the write side down.
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_write_out(cx))?;
        if !self.shut {
            std::task::ready!(Pin::new(&mut self.io).poll_close(cx))?;
            self.shut = true;
        }
        Poll::Ready(Ok(()))
    }

    /// The connection is over, with `outcome`; its timer goes with it.
    #[cold]
    fn end(&mut self, outcome: Result<Message, Error>) -> Poll<Result<Event, Error>> {
        self.timer.disarm();
        self.shut_outbox();
        self.report_end(&outcome);
        Poll::Ready(outcome.map(Event::Message))
    }

    #[cold]
    fn finish(&mut self) -> Poll<Result<Event, Error>> {
        let outcome = self.proto.finish();
        self.end(outcome)
    }

    #[cold]
    fn io_failed(&mut self, e: io::Error) -> Poll<Result<Event, Error>> {
        let outcome = self.proto.transport_failed(e);
        self.end(outcome)
    }

    /// Receives the next message, or the next piece of one (see [`Mode`]).
    #[inline]
    pub(crate) fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
        mode: Mode,
    ) -> Poll<Result<Event, Error>> {
        loop {
            let flush = match self.proto.next(mode) {
                Next::Event(event) => return Poll::Ready(Ok(event)),
                // Closing, every turn may end in a wait, so the timer is
                // armed (and polled) here first, a deadline `next` itself
                // just set (the peer's close, a protocol error) included:
                // a peer that keeps sending cannot hold a closing connection
                // open. While open, the timer and the server's notice are
                // looked at only before the task would wait (below), and a
                // blocked write looks at the timer itself: never per message
                // or per read. The deadlines are lazy (keepalive is pushed on
                // when it passes, not when input arrives), so the timer stays
                // armed for the same instant and polling it re-arms nothing.
                _ if !self.proto.is_open() && self.outside_event(cx) => continue,
                Next::Closed => return Poll::Ready(Err(Error::ConnectionClosed)),
                Next::Finish => {
                    // Over on a deadline: a close frame the protocol queued
                    // (keepalive's 1011) is attempted, never waited for.
                    self.try_write_out(cx);
                    return self.finish();
                }
                Next::Shutdown => {
                    // Errors here mean the peer is gone: closing is done either way.
                    let _ = std::task::ready!(self.poll_shutdown(cx));
                    return self.finish();
                }
                Next::AwaitEnd => {
                    // The client: the server ends the TCP connection first
                    // (RFC 6455 7.1.1); the close timer bounds the wait.
                    if std::task::ready!(self.poll_write_out(cx)).is_err() {
                        return self.finish();
                    }
                    self.proto.discard_input();
                    match std::task::ready!(self.poll_fill(cx)) {
                        Ok(0) | Err(_) => {
                            let _ = self.poll_shutdown(cx);
                            return self.finish();
                        }
                        Ok(_) => continue,
                    }
                }
                Next::Drain => {
                    match self.poll_shutdown(cx) {
                        Poll::Ready(Err(_)) => return self.finish(),
                        Poll::Ready(Ok(())) | Poll::Pending => {}
                    }
                    self.proto.discard_input();
                    match std::task::ready!(self.poll_fill(cx)) {
                        Ok(0) | Err(_) => return self.finish(),
                        Ok(_) => continue,
                    }
                }
                Next::Read(flush) => {
                    // What other tasks queued joins this batch's output.
                    if self.outbox.as_ref().is_some_and(|o| o.is_ready()) {
                        self.take_outbox();
                    }
                    flush
                }
            };
            match flush {
                Flush::Wait => {
                    // Receiving, though a backlog must drain first (the
                    // peer does not read it, nor a ping behind it): input
                    // is looked for all the same.
                    self.proto.reading();
                    if let Err(e) = std::task::ready!(self.poll_write_out(cx)) {
                        return self.io_failed(e);
                    }
                }
                Flush::Try => {
                    if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
                        return self.io_failed(e);
                    }
                }
                Flush::No => {}
            }
            match self.poll_fill(cx) {
                // More input: keep decoding; replies accumulate.
                Poll::Ready(Ok(1..)) => {}
                Poll::Ready(Ok(0)) => {
                    // Whatever this batch produced still goes out.
                    if self.proto.batch_ended() {
                        if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
                            return self.io_failed(e);
                        }
                        if self.proto.batch_ended() {
                            return Poll::Pending;
                        }
                    }
                    let outcome = self.proto.end_of_input();
                    return self.end(outcome);
                }
                Poll::Ready(Err(e)) => return self.io_failed(e),
                Poll::Pending => {
                    // The connection would wait: write out what this batch
                    // produced, so the replies to a burst of requests share
                    // one syscall.
                    if self.proto.batch_ended() {
                        if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
                            return self.io_failed(e);
                        }
                    }
                    if self.outside_event(cx) || self.outbox_waits(cx) {
                        continue;
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Room to queue more: past the flush threshold, writes what the
    /// transport takes; past the backlog limit, waits until all is written.
    /// (Per message: the common answer, room, is inlined; the rest is not.)
    #[inline]
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match self.proto.flush_before_queue() {
            Flush::No if self.proto.is_open() => Poll::Ready(Ok(())),
            flush => self.poll_make_room(cx, flush),
        }
    }

    #[inline(never)]
    pub(super) fn poll_make_room(
        &mut self,
        cx: &mut Context<'_>,
        flush: Flush,
    ) -> Poll<Result<(), Error>> {
        if !self.proto.is_open() {
            return Poll::Ready(Err(self.proto.not_open_error()));
        }
        let res = match flush {
            Flush::Wait => std::task::ready!(self.poll_write_out(cx)),
            Flush::Try => match self.poll_write_out(cx) {
                Poll::Ready(Err(e)) => Err(e),
                _ => Ok(()),
            },
            Flush::No => Ok(()),
        };
        Poll::Ready(res.map_err(|e| self.write_failed(e)))
    }

    /// Writes out everything queued.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.proto.is_closed() {
            Poll::Ready(Ok(()))
        } else if self.proto.is_finishing() {
            // All that is left is to write out what is queued and shut the
            // write side down; the next receive then reports the end. (It
            // is where closing inside a relayed frame leads, with nothing
            // from the peer to wait for.)
            self.poll_shutdown(cx).map_err(|e| self.write_failed(e))
        } else {
            self.poll_write_out(cx).map_err(|e| self.write_failed(e))
        }
    }

    /// A write failed: the transport's error, or, where a deadline ended the
    /// connection (the write timeout), the error the protocol holds, and the
    /// connection is finished: its memory freed.
    #[cold]
    fn write_failed(&mut self, e: io::Error) -> Error {
        if !self.proto.is_expired() {
            return Error::Io(e);
        }
        self.timer.disarm();
        self.shut_outbox();
        let outcome = self.proto.finish();
        self.report_end(&outcome);
        match outcome {
            Err(e) => e,
            Ok(_) => Error::ConnectionClosed,
        }
    }

    /// Drives the closing handshake to its end, discarding messages that were
    /// in flight.
    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            if self.proto.is_closed() {
                return Poll::Ready(Ok(()));
            }
            if self.proto.close_sent() {
                // Make sure our close frame goes out while we wait for theirs.
                if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
                    return match self.io_failed(e) {
                        Poll::Ready(Err(e)) if e.is_timeout() => Poll::Ready(Err(e)),
                        _ => Poll::Ready(Ok(())),
                    };
                }
            }
            match std::task::ready!(self.poll_event(cx, Mode::Messages)) {
                Ok(_) => continue,
                Err(Error::ConnectionClosed) => return Poll::Ready(Ok(())),
                Err(e) if e.is_timeout() => return Poll::Ready(Err(e)),
                // A protocol or I/O error while closing: the connection is closed.
                Err(_) => return Poll::Ready(Ok(())),
            }
        }
    }
}
