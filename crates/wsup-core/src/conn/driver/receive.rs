//! The driver's receiving calls: a whole message or a chunk of one, handed
//! out at once when the protocol decoded it ahead (the common case, a run
//! of small messages read together), else through
//! [`Driver::poll_event`].

use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::Driver;
use crate::error::Error;
use crate::message::{Chunk, Message, Utf8Bytes};
use crate::protocol::{Event, Mode, READ_WINDOW};

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
            Ok(Event::Chunk { .. }) => unreachable!("chunks only in streaming mode"),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// Receives the next data message whole, or the next piece of one whose
    /// first frame is larger than the read buffer; a message that is one
    /// uncompressed frame only if it is larger than a read window (or the
    /// read buffer, if larger): a piece can be as large, so such a message
    /// held whole costs no more memory, and its echo is written in one go.
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
            let cfg = self.proto.config();
            let mode = Mode::ChunksOver {
                first: cfg.read_buffer_size,
                single: cfg.read_buffer_size.max(READ_WINDOW),
            };
            match std::task::ready!(self.poll_event(cx, mode))? {
                Event::Chunk {
                    data,
                    text,
                    end,
                    frame_len,
                } => return Poll::Ready(Ok(Chunk::received(data, text, end, frame_len))),
                Event::Message(Message::Text(t)) => {
                    return Poll::Ready(Ok(Chunk::whole_text(t.into_bytes())))
                }
                Event::Message(Message::Binary(b)) => {
                    return Poll::Ready(Ok(Chunk::binary(b, true)))
                }
                Event::Message(Message::Close(_)) => {
                    return Poll::Ready(Err(Error::ConnectionClosed))
                }
                // Pings are answered already; pongs need nothing.
                Event::Message(Message::Ping(_) | Message::Pong(_)) => {}
            }
        }
    }
}
