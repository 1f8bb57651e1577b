//! Streaming reader and writer for messages too large to hold in memory
//! (gorilla's `NextReader` / `NextWriter`).

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};

use super::driver::Driver;
use crate::error::Error;
use crate::frame::OpCode;
use crate::message::{Message, MessageKind};
use crate::protocol::{Event, Mode};
use crate::utf8::Utf8Validator;

/// A data message being received piece by piece. Read it with
/// [`chunk`](Self::chunk) or as a `futures_io::AsyncRead`. Dropping it before
/// the end discards the rest of the message.
pub struct IncomingMessage<'a, T> {
    driver: &'a mut Driver<T>,
    kind: MessageKind,
    current: Bytes,
    done: bool,
}

impl<T> std::fmt::Debug for IncomingMessage<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingMessage")
            .field("kind", &self.kind)
            .field("done", &self.done)
            .finish()
    }
}

impl<'a, T: AsyncRead + AsyncWrite + Unpin> IncomingMessage<'a, T> {
    pub(crate) async fn next(driver: &'a mut Driver<T>) -> Result<Self, Error> {
        loop {
            match poll_fn(|cx| driver.poll_event(cx, Mode::Chunks)).await? {
                Event::Chunk {
                    data, text, end, ..
                } => {
                    return Ok(IncomingMessage {
                        driver,
                        kind: MessageKind::of(text),
                        current: data,
                        done: end,
                    });
                }
                // A message that was being gathered whole when an earlier
                // receive was dropped ends whole: one piece.
                Event::Message(Message::Text(t)) => {
                    return Ok(Self::whole(driver, MessageKind::Text, t.into_bytes()))
                }
                Event::Message(Message::Binary(b)) => {
                    return Ok(Self::whole(driver, MessageKind::Binary, b))
                }
                // The peer closed: the echo is written; report it as closed.
                Event::Message(Message::Close(_)) => return Err(Error::ConnectionClosed),
                // Pings are answered by the protocol; nothing else reaches
                // here (no run in this mode).
                Event::Message(_) | Event::Run => {}
            }
        }
    }

    fn whole(driver: &'a mut Driver<T>, kind: MessageKind, data: Bytes) -> Self {
        IncomingMessage {
            driver,
            kind,
            current: data,
            done: true,
        }
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The next piece of the payload, `None` at the end of the message.
    /// Text pieces are validated UTF-8 as a whole, but a piece may end inside
    /// a code point.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        poll_fn(|cx| self.poll_chunk(cx)).await
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Error>> {
        loop {
            if !self.current.is_empty() {
                return Poll::Ready(Ok(Some(std::mem::take(&mut self.current))));
            }
            if self.done {
                return Poll::Ready(Ok(None));
            }
            match std::task::ready!(self.driver.poll_event(cx, Mode::Chunks)) {
                Ok(Event::Chunk { data, end, .. }) => {
                    self.current = data;
                    self.done = end;
                }
                Ok(Event::Message(Message::Close(_))) => {
                    self.done = true;
                    return Poll::Ready(Err(Error::ConnectionClosed));
                }
                Ok(Event::Message(_) | Event::Run) => {}
                Err(e) => {
                    self.done = true;
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    /// Reads the rest of the message into memory, refusing more than `limit` bytes.
    pub async fn read_to_end(mut self, limit: usize) -> Result<Bytes, Error> {
        let mut out = BytesMut::new();
        while let Some(c) = self.chunk().await? {
            if out.len() + c.len() > limit {
                return Err(Error::InvalidMessage(
                    "message larger than the caller's limit",
                ));
            }
            out.extend_from_slice(&c);
        }
        Ok(out.freeze())
    }
}

impl<T> Drop for IncomingMessage<'_, T> {
    fn drop(&mut self) {
        if !self.done {
            // Whatever reads next must not take the rest for a new message.
            self.driver.proto.abandon_message();
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for IncomingMessage<'_, T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.current.is_empty() {
            match std::task::ready!(this.poll_chunk(cx)) {
                Ok(Some(c)) => this.current = c,
                Ok(None) => return Poll::Ready(Ok(0)),
                Err(e) => return Poll::Ready(Err(io::Error::other(e))),
            }
        }
        let n = buf.len().min(this.current.len());
        buf[..n].copy_from_slice(&this.current[..n]);
        this.current.advance(n);
        Poll::Ready(Ok(n))
    }
}

/// A data message sent piece by piece; each `fragment_size` bytes become a
/// frame. [`AsyncWrite::poll_close`] (or dropping it) sends the final frame.
/// Text is checked as UTF-8 as it is written. Until the final frame is
/// queued no other data message can be sent; a text message that would end
/// inside a code point is never ended, so after that error only closing is
/// left.
pub struct MessageWriter<'a, T: AsyncRead + AsyncWrite + Unpin> {
    driver: &'a mut Driver<T>,
    kind: MessageKind,
    buf: BytesMut,
    fragment_size: usize,
    started: bool,
    finished: bool,
    utf8: Utf8Validator,
}

impl<T: AsyncRead + AsyncWrite + Unpin> std::fmt::Debug for MessageWriter<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageWriter")
            .field("kind", &self.kind)
            .field("buffered", &self.buf.len())
            .finish()
    }
}

impl<'a, T: AsyncRead + AsyncWrite + Unpin> MessageWriter<'a, T> {
    pub(crate) fn new(driver: &'a mut Driver<T>, kind: MessageKind, fragment_size: usize) -> Self {
        MessageWriter {
            driver,
            kind,
            buf: BytesMut::new(),
            fragment_size: fragment_size.max(1),
            started: false,
            finished: false,
            utf8: Utf8Validator::new(),
        }
    }

    /// Queues what is buffered as the next frame. Refused (another message
    /// is being sent in pieces, or the connection is closing), it keeps the
    /// bytes and the writer stays where it was.
    fn emit(&mut self, fin: bool) -> Result<(), Error> {
        let op = if self.started {
            OpCode::Continuation
        } else {
            self.kind.opcode()
        };
        self.driver.proto.queue_fragment(op, fin, &mut self.buf)?;
        self.started = true;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Error> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if self.kind == MessageKind::Text && self.utf8.finish().is_err() {
            // Ending the message here would send invalid text; the frames
            // already sent cannot be taken back, so fail loudly instead.
            return Err(Error::InvalidMessage(
                "text message ends inside a utf-8 sequence",
            ));
        }
        self.emit(true)
    }
}

fn to_io(e: Error) -> io::Error {
    match e {
        Error::Io(e) => e,
        e => io::Error::other(e),
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MessageWriter<'_, T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if this.buf.len() >= this.fragment_size {
            std::task::ready!(this.driver.poll_ready(cx)).map_err(to_io)?;
            this.emit(false).map_err(to_io)?;
        }
        let n = data.len().min(this.fragment_size - this.buf.len());
        if this.kind == MessageKind::Text && this.utf8.feed(&data[..n]).is_err() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "text is not utf-8",
            )));
        }
        this.buf.extend_from_slice(&data[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.finished && !this.buf.is_empty() {
            this.emit(false).map_err(to_io)?;
        }
        this.driver.poll_flush(cx).map_err(to_io)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.finish().map_err(to_io)?;
        this.driver.poll_flush(cx).map_err(to_io)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Drop for MessageWriter<'_, T> {
    fn drop(&mut self) {
        // Queue the final frame so the connection stays well-framed; it goes
        // out with the next flush.
        let _ = self.finish();
    }
}
