//! The driver's receiving calls: a whole message or a chunk of one, handed
//! out at once when the protocol decoded it ahead (the common case, a run
//! of small messages read together), else through
//! [`Driver::poll_event`].

use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::Driver;
use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::message::{Chunk, Message, Utf8Bytes};
use crate::protocol::{Event, Flush, Mode, PieceLimits, Received, Replies, READ_WINDOW};

impl<T: AsyncRead + AsyncWrite + Unpin> Driver<T> {
    /// Receives the next whole message: one decoded ahead at once, else
    /// through [`poll_event`](Self::poll_event).
    #[inline]
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        if let Some((data, text)) = self.proto.next_whole() {
            return Poll::Ready(Ok(if text {
                Message::Text(Utf8Bytes::from_validated(data))
            } else {
                Message::Binary(data)
            }));
        }
        self.poll_recv_event(cx)
    }

    #[inline(never)]
    fn poll_recv_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        match std::task::ready!(self.poll_event(cx, Mode::Messages)) {
            Ok(Event::Message(m)) => Poll::Ready(Ok(m)),
            Ok(Event::Chunk { .. } | Event::Run) => {
                unreachable!("chunks and runs only in their modes")
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// Receives the next data message whole, or the next piece of one whose
    /// first frame is larger than the read buffer; a message that is one
    /// uncompressed frame only if it is larger than [`PIECES_OVER`] (or the
    /// read buffer, if larger; text, a read window).
    /// Control frames are handled and skipped; the peer's close ends it with
    /// `ConnectionClosed`. A message decoded ahead is handed out at once.
    #[inline]
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Chunk, Error>> {
        if let Some((data, text)) = self.proto.next_whole() {
            return Poll::Ready(Ok(if text {
                Chunk::whole_text(data)
            } else {
                Chunk::binary(data, true)
            }));
        }
        self.poll_chunk_event(cx)
    }

    #[inline(never)]
    fn poll_chunk_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Chunk, Error>> {
        loop {
            let limits = piece_limits(self.proto.config());
            let event = std::task::ready!(self.poll_event(cx, Mode::ChunksOver(limits)))?;
            if let Some(chunk) = chunk_of(event) {
                return Poll::Ready(chunk);
            }
        }
    }

    /// `recv_each`: hands `f` every message (or piece of one, as
    /// `recv_chunk` has them) that is here, at least one (waiting for it),
    /// the whole ones in place; how many. Backpressure first: past the
    /// flush threshold what the transport takes is written, and past the
    /// backlog limit no message is handed out until the output drained.
    pub(crate) fn poll_each<F>(
        &mut self,
        cx: &mut Context<'_>,
        f: &mut F,
    ) -> Poll<Result<usize, Error>>
    where
        F: FnMut(Received<'_>, &mut Replies<'_>) -> Result<(), Error>,
    {
        let mut handed = 0;
        loop {
            if self.proto.is_open() {
                match self.proto.flush_before_queue() {
                    Flush::No => {}
                    _ if handed > 0 => return Poll::Ready(Ok(handed)),
                    flush => std::task::ready!(self.poll_make_room(cx, flush))?,
                }
            }
            let n = self.proto.each_in_place(f);
            // A close a handler queued starts the close timeout now.
            self.fix_deadline();
            handed += n?;
            if handed > 0 {
                // Returns without reading: the next call reads, and writes
                // out the answers first when it would wait.
                return Poll::Ready(Ok(handed));
            }
            let limits = piece_limits(self.proto.config());
            let event = std::task::ready!(self.poll_event(cx, Mode::InPlace(limits)))?;
            if let Event::Run = event {
                continue;
            }
            if let Some(chunk) = chunk_of(event) {
                let chunk = chunk?;
                let res = f(Received::chunk(&chunk), &mut Replies::new(&mut self.proto));
                self.fix_deadline();
                res?;
                return Poll::Ready(Ok(1));
            }
        }
    }
}

/// Where `recv_chunk` (and `recv_each`) hand a message out in pieces: a
/// first frame larger than the read buffer, or one uncompressed frame
/// larger than [`PIECES_OVER`] if binary, a read window if text (or the
/// read buffer, if larger); any other message whole.
fn piece_limits(cfg: &WebSocketConfig) -> PieceLimits {
    PieceLimits {
        first: cfg.read_buffer_size,
        binary: cfg.read_buffer_size.max(PIECES_OVER),
        text: cfg.read_buffer_size.max(READ_WINDOW),
    }
}

/// A binary message of one uncompressed frame with more payload than this
/// is handed out by `recv_chunk` and `recv_each` in pieces, each what the
/// reads so far brought of it, as a fragmented or compressed one is (text
/// is held whole up to a read window: whole, it comes out checked and is
/// relayed as one frame).
/// Relayed, its echo then follows the input read by read, as a raw TCP
/// echo's does: a read that ends inside a frame (the loopback's segments
/// are 65,483 bytes, a 64 KiB frame 65,550) is written on at once rather
/// than held for a second read of the frame's last bytes, and the writes
/// fall into as many segments as the reads came in (1.63 a 64 KiB message
/// written whole, 1.44 from the raw echo). At 64 KiB × 1 connection that
/// made 1.027 of the messages per CPU second of pieces over a read window
/// (10 runs in turns, every one above 1), and 1.027 at 64 KiB × 100
/// (`docs/bench`). Smaller frames stay whole: one that straddles two
/// reads costs a second pass through the relay where the gain is a few
/// hundred bytes written sooner.
pub(crate) const PIECES_OVER: usize = 32 * 1024;

/// What `recv_chunk` makes of an event: a chunk, the end of the
/// connection at the peer's close, or nothing (a ping is answered
/// already; a pong needs nothing).
fn chunk_of(event: Event) -> Option<Result<Chunk, Error>> {
    match event {
        Event::Chunk {
            data,
            text,
            end,
            frame_len,
        } => Some(Ok(Chunk::received(data, text, end, frame_len))),
        Event::Message(Message::Text(t)) => Some(Ok(Chunk::whole_text(t.into_bytes()))),
        Event::Message(Message::Binary(b)) => Some(Ok(Chunk::binary(b, true))),
        Event::Message(Message::Close(_)) => Some(Err(Error::ConnectionClosed)),
        Event::Message(Message::Ping(_) | Message::Pong(_)) | Event::Run => None,
    }
}
