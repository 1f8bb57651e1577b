//! The connection: [`WebSocket`], its split halves, and streaming readers and
//! writers for messages too large to hold.

mod driver;
mod handle;
mod message_io;
mod split;

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_sink::Sink;

pub(crate) use self::driver::Driver;
use self::handle::Access;
pub use self::message_io::{IncomingMessage, MessageWriter};
pub use self::split::{WebSocketReader, WebSocketWriter};

use crate::close::{CloseCode, CloseFrame};
use crate::config::WebSocketConfig;
use crate::deflate::{Agreed, CodecPool, DeflateConfig};
use crate::error::Error;
use crate::message::{Chunk, Message, MessageKind};
use crate::prepared::PreparedMessage;
use crate::protocol::Protocol;
use crate::runtime::Runtime;

/// A server-side WebSocket connection over the transport `T`.
///
/// Receive with [`recv`](Self::recv) (or as a [`Stream`]), send with
/// [`send`](Self::send) / [`feed`](Self::feed) (or as a [`Sink`]). Pings are
/// answered by the connection itself, and a close from the peer is echoed.
/// Output queued with `feed` goes out on [`flush`](Self::flush), when the
/// queue passes the flush threshold, as soon as `recv` would wait for input,
/// or, holding a payload of 16 KiB or more, before `recv` reads more.
pub struct WebSocket<T> {
    driver: Driver<T>,
    protocol: Option<String>,
}

impl<T> std::fmt::Debug for WebSocket<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("driver", &self.driver)
            .field("protocol", &self.protocol)
            .finish()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> WebSocket<T> {
    /// Wraps a transport on which the handshake already happened.
    ///
    /// `leftover` is whatever was read past the request head. `runtime`
    /// provides the close timeout; without one, closing waits for the peer.
    pub fn from_raw(
        io: T,
        leftover: Bytes,
        config: WebSocketConfig,
        runtime: Option<Arc<dyn Runtime>>,
    ) -> Self {
        WebSocket {
            driver: Driver::new(io, Protocol::new(leftover, config), runtime),
            protocol: None,
        }
    }

    pub(crate) fn from_driver(driver: Driver<T>) -> Self {
        WebSocket {
            driver,
            protocol: None,
        }
    }

    pub(crate) fn set_protocol(&mut self, protocol: Option<String>) {
        self.protocol = protocol;
    }

    /// The negotiated subprotocol, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The negotiated permessage-deflate parameters, if compression is on.
    pub fn compression(&self) -> Option<&Agreed> {
        self.driver.proto.agreed()
    }

    /// Whether outgoing messages are compressed (gorilla's
    /// `EnableWriteCompression`); has no effect unless compression was
    /// negotiated. Takes effect from the next message.
    pub fn set_write_compression(&mut self, enabled: bool) {
        if let Some(d) = self.driver.proto.deflate_mut() {
            d.enabled = enabled;
        }
    }

    /// The compression level (0-9) from the next message on (gorilla's
    /// `SetCompressionLevel`).
    pub fn set_compression_level(&mut self, level: u32) {
        if let Some(d) = self.driver.proto.deflate_mut() {
            d.deflater.set_level(level);
        }
    }

    pub(crate) fn enable_deflate(
        &mut self,
        agreed: Agreed,
        config: &DeflateConfig,
        pool: Option<Arc<CodecPool>>,
    ) {
        self.driver.proto.enable_deflate(agreed, config, pool);
    }

    /// The settings this connection runs with.
    pub fn config(&self) -> &WebSocketConfig {
        self.driver.proto.config()
    }

    /// The transport.
    pub fn get_ref(&self) -> &T {
        &self.driver.io
    }

    /// The transport, mutably (writing to it directly breaks the framing).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.driver.io
    }

    /// Receives the next message.
    ///
    /// Pings are returned after their pong is queued; a close from the peer
    /// is returned once the echo is written and the transport shut; after
    /// that, [`Error::ConnectionClosed`].
    pub async fn recv(&mut self) -> Result<Message, Error> {
        poll_fn(|cx| handle::poll_recv(self, cx)).await
    }

    /// Polls for the next message.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        handle::poll_recv(self, cx)
    }

    /// Sends a message and flushes.
    pub async fn send(&mut self, msg: Message) -> Result<(), Error> {
        self.feed(msg).await?;
        self.flush().await
    }

    /// Queues a message, writing out earlier output first only when the queue
    /// is past its threshold.
    pub async fn feed(&mut self, msg: Message) -> Result<(), Error> {
        poll_fn(|cx| handle::poll_ready(self, cx)).await?;
        handle::start_send(self, msg)
    }

    /// Sends a prepared message (framed once, sent to many).
    pub async fn send_prepared(&mut self, msg: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.driver.poll_ready(cx)).await?;
        self.driver.proto.queue_prepared(msg)?;
        self.flush().await
    }

    /// Writes out everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| handle::poll_flush(self, cx)).await
    }

    /// Closes: sends a close frame, waits for the peer's (bounded by the close
    /// timeout), and shuts the transport down. Messages still arriving are
    /// discarded. Inside a message relayed as one frame (see
    /// [`feed_chunk`](Self::feed_chunk)) no close frame can be sent: the
    /// transport is shut down at once.
    pub async fn close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        self.driver.proto.start_close(frame)?;
        poll_fn(|cx| self.driver.poll_close(cx)).await
    }

    /// Receives the next data message in chunks: a message whose first frame
    /// fits the read buffer ([`WebSocketConfig::read_buffer_size`]) whole, in
    /// one chunk that is [`last`](Chunk::last), and so is a message of one
    /// uncompressed frame that fits one read (256 KiB, or the read buffer if
    /// larger: a piece can be that large, so holding it whole costs no more
    /// memory). A larger one comes in pieces as its bytes arrive, at most one
    /// read of them each (inflated, if compressed), so that it is never held
    /// whole. Passed on with
    /// [`feed_chunk`](Self::feed_chunk), such a message goes through an echo
    /// or a relay in bounded memory, each piece written as it comes: a binary
    /// message that arrived as one uncompressed frame goes out as one frame
    /// of the same length (unless the sending connection compresses),
    /// anything else a frame per piece. (A message whose
    /// first frame is small, or compressed small, is gathered whole as by
    /// [`recv`](Self::recv), up to `max_message_size`.)
    ///
    /// Bounded memory means backpressure: a relay stops reading while more
    /// than [`WebSocketConfig::write_backlog_limit`] of its output waits, so
    /// a peer that sends a large message without reading its echo meanwhile
    /// (as Autobahn's runner does) stalls against an echo in pieces on the
    /// same connection. An echo that must serve such peers raises the limit
    /// to the largest message it takes (`max_message_size`), as the `echo`
    /// example does: its output may then back up that far, the bound a
    /// whole-message echo has too, and pieces still go out as they arrive.
    ///
    /// Text pieces are checked as UTF-8 before they are handed out (a piece
    /// may end inside a code point); a message whose bytes turn out invalid
    /// later fails the connection with close code 1007, after its earlier
    /// pieces were handed out. Pings are answered and, like pongs, skipped;
    /// the peer's close ends it with [`Error::ConnectionClosed`] once the
    /// closing handshake is done. Once a piece of a message was handed out,
    /// [`recv`](Self::recv) or [`next_message`](Self::next_message) discards
    /// the rest of it as it arrives.
    pub async fn recv_chunk(&mut self) -> Result<Chunk, Error> {
        poll_fn(|cx| handle::poll_chunk(self, cx)).await
    }

    /// Queues a chunk of a data message (as [`feed`](Self::feed) does a
    /// message): a whole message as one frame, compressed as `feed` would
    /// (when on and over the threshold); a piece as one frame of its message,
    /// compressed whenever compression is on, or as the next bytes of one
    /// frame (below). Until a `last` chunk ends the
    /// message, no other data message may be sent, and the chunks must all
    /// be of its kind ([`Error::InvalidMessage`] otherwise). Text is checked
    /// as UTF-8 across the chunks; frames already queued cannot be taken
    /// back, so after such an error only closing is left.
    ///
    /// The first piece of a binary message that [`recv_chunk`](Self::recv_chunk)
    /// received as one frame, fed on unchanged with compression off, starts
    /// one frame of that message's length, as a relay of the bytes would
    /// send it: no header per piece for the peer to parse. The pieces after
    /// it must then add up to that length exactly, the last one ending it
    /// ([`Error::InvalidMessage`] otherwise, and nothing queued). Control
    /// frames queued meanwhile wait for its end, only the latest of each kind
    /// kept (a pong answers the latest ping). No close frame can follow an
    /// unfinished frame: closing before its end, a protocol error, or the
    /// peer's close read before the last piece is fed (when another task
    /// feeds) shuts the connection down without one. Pieces relayed as they
    /// were received always add up.
    pub async fn feed_chunk(&mut self, chunk: Chunk) -> Result<(), Error> {
        poll_fn(|cx| handle::poll_ready(self, cx)).await?;
        handle::queue_chunk(self, chunk)
    }

    /// Receives the next data message as a stream of pieces, for messages
    /// too large to hold (gorilla's `NextReader`). Control frames in between
    /// are handled as by `recv`; pongs are skipped.
    pub async fn next_message(&mut self) -> Result<IncomingMessage<'_, T>, Error> {
        IncomingMessage::next(&mut self.driver).await
    }

    /// Starts a message written in pieces (gorilla's `NextWriter`). Each
    /// `fragment_size` bytes written become one frame; closing the writer (or
    /// dropping it) ends the message.
    pub fn message_writer(
        &mut self,
        kind: MessageKind,
        fragment_size: usize,
    ) -> MessageWriter<'_, T> {
        MessageWriter::new(&mut self.driver, kind, fragment_size)
    }

    /// Splits into a reader and a writer usable from two tasks.
    ///
    /// Pongs and the close echo queued by the reader are written by whichever
    /// half runs next, so they still flow while the application only reads.
    pub fn split(self) -> (WebSocketReader<T>, WebSocketWriter<T>) {
        split::split(self.driver, self.protocol)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> WebSocketReader<T> {
    /// Puts the halves back together; `Err` gives them back if they do not match.
    #[allow(clippy::result_large_err)]
    pub fn reunite(
        self,
        writer: WebSocketWriter<T>,
    ) -> Result<WebSocket<T>, (Self, WebSocketWriter<T>)> {
        let (driver, protocol) = self.into_parts(writer)?;
        let mut ws = WebSocket::from_driver(driver);
        ws.set_protocol(protocol);
        Ok(ws)
    }
}

/// The connection reaches its driver directly.
impl<T> Access<T> for WebSocket<T> {
    fn poll_with<R>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Driver<T>, &mut Context<'_>) -> R,
    ) -> R {
        f(&mut self.driver, cx)
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut Driver<T>) -> R) -> R {
        f(&mut self.driver)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<T> {
    type Item = Result<Message, Error>;

    /// Ends (`None`) once the connection is closed.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        handle::poll_next(self.get_mut(), cx)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<T> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        handle::poll_ready(self.get_mut(), cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        handle::start_send(self.get_mut(), item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        handle::poll_flush(self.get_mut(), cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let driver = &mut self.get_mut().driver;
        driver
            .proto
            .start_close(Some(CloseFrame::new(CloseCode::NORMAL, "")))?;
        driver.poll_close(cx)
    }
}

#[cfg(test)]
mod tests;
