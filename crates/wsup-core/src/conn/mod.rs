//! The connection: [`WebSocket`], its split halves, and streaming readers and
//! writers for messages too large to hold.

mod driver;
mod handle;
mod message_io;
mod notice;
mod outbox;
mod split;
mod timer;

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
pub(crate) use self::notice::Notice;
pub use self::outbox::{Outgoing, SendError, Sender, TrySendError};
pub use self::split::{WebSocketReader, WebSocketWriter};

use crate::close::{CloseCode, CloseFrame};
use crate::config::WebSocketConfig;
use crate::deflate::{Agreed, DeflateConfig, ServerShare};
use crate::error::Error;
use crate::message::{Chunk, Message, MessageKind};
use crate::observe;
use crate::prepared::PreparedMessage;
use crate::protocol::{Protocol, Received, Replies};
use crate::role::Role;
use crate::runtime::Runtime;
use crate::stats::{ConnectionStats, ServerStats};

/// A WebSocket connection over the transport `T`, on the server's side
/// (from an [`Upgrader`](crate::Upgrader)) or the client's (from a
/// [`Dialer`](crate::client::Dialer)), or on either over a transport whose
/// handshake already happened ([`from_raw`](Self::from_raw)): see
/// [`role`](Self::role).
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
    /// Wraps a transport on which the handshake already happened, as
    /// `role`: a [`Role::Client`] masks every frame it sends with a fresh
    /// key and fails the connection (1002) on a masked frame from the
    /// server; a [`Role::Server`] does the reverse.
    ///
    /// `leftover` is whatever was read past the handshake's head. `runtime`
    /// provides the close timeout; without one, closing waits for the peer.
    pub fn from_raw(
        io: T,
        role: Role,
        leftover: Bytes,
        config: WebSocketConfig,
        runtime: Option<Arc<dyn Runtime>>,
    ) -> Self {
        let span = observe::connection_span(None, None, None);
        Self::with_span_role(io, leftover, config, runtime, span, role)
    }

    /// A connection on the side of `role`, in `span`: what the upgrader
    /// makes as the server and the client's handshake as the client
    /// ([`enable_deflate`](Self::enable_deflate) turns compression on
    /// after it).
    pub(crate) fn with_span_role(
        io: T,
        leftover: Bytes,
        config: WebSocketConfig,
        runtime: Option<Arc<dyn Runtime>>,
        span: observe::Span,
        role: Role,
    ) -> Self {
        WebSocket {
            driver: Driver::new(io, Protocol::new(leftover, config, role), runtime, span),
            protocol: None,
        }
    }

    pub(crate) fn from_driver(driver: Driver<T>) -> Self {
        WebSocket {
            driver,
            protocol: None,
        }
    }

    /// Listens to `notice` from the server that runs the connection.
    pub(crate) fn attach_notice(&mut self, notice: Arc<Notice>) {
        self.driver.attach_notice(notice);
    }

    pub(crate) fn set_protocol(&mut self, protocol: Option<String>) {
        self.protocol = protocol;
    }

    /// Counts the connection in `stats` (one more open now, one closed by
    /// its close code when it ends or is dropped). An [`Upgrader`] given
    /// [`server_stats`](crate::Upgrader::server_stats) does this for each
    /// connection it opens.
    ///
    /// [`Upgrader`]: crate::Upgrader
    pub fn count_in(&mut self, stats: Arc<ServerStats>) {
        self.driver.watch.count_in(stats);
    }

    /// What the connection has received and sent so far (data messages and
    /// their payload bytes), and when it opened.
    pub fn stats(&self) -> ConnectionStats {
        self.driver.stats()
    }

    /// The connection's `tracing` span (`websocket`, with `path`,
    /// `subprotocol`, `compression`, and `peer`, empty until
    /// [`set_peer_addr`](Self::set_peer_addr)): the parent of the events
    /// the connection logs; run the handler in it (`Instrument`) for the
    /// handler's own events to nest there too.
    #[cfg(feature = "tracing")]
    pub fn span(&self) -> &tracing::Span {
        &self.driver.watch.span
    }

    /// The connection's span, whatever the features (a zero-sized value
    /// without `tracing`).
    pub(crate) fn observe_span(&self) -> observe::Span {
        self.driver.watch.span.clone()
    }

    /// Records the peer's address on the connection's span (the upgrader
    /// does not know it: the server that accepted the transport does).
    /// Nothing without the `tracing` feature.
    pub fn set_peer_addr(&self, peer: std::net::SocketAddr) {
        observe::record_peer(&self.driver.watch.span, peer);
    }

    /// Which end of the connection this side is.
    pub fn role(&self) -> Role {
        self.driver.proto.role()
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
            d.set_enabled(enabled);
        }
    }

    /// The compression level (0-9) from the next message on (gorilla's
    /// `SetCompressionLevel`).
    pub fn set_compression_level(&mut self, level: u32) {
        if let Some(d) = self.driver.proto.deflate_mut() {
            d.deflater.set_level(level);
        }
    }

    /// Turns permessage-deflate on with what was negotiated, each side
    /// compressing with its own half of `agreed`; `share` is what a server
    /// shares with its connections (none for a client).
    pub(crate) fn enable_deflate(
        &mut self,
        agreed: Agreed,
        config: &DeflateConfig,
        share: Option<ServerShare>,
    ) {
        self.driver.proto.enable_deflate(agreed, config, share);
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

    /// Sends a prepared message (framed once, sent to many).
    pub async fn send_prepared(&mut self, msg: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.driver.poll_ready(cx)).await?;
        self.driver.proto.queue_prepared(msg)?;
        self.flush().await
    }

    /// Closes: sends a close frame, waits for the peer's (bounded by the close
    /// timeout), and shuts the transport down. Messages still arriving are
    /// discarded. Inside a message relayed as one frame (see
    /// [`feed_chunk`](Self::feed_chunk)) no close frame can be sent: the
    /// transport is shut down at once.
    pub async fn close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        self.driver.start_close(frame)?;
        poll_fn(|cx| self.driver.poll_close(cx)).await
    }

    handle::receiving_methods!();
    handle::sending_methods!();

    /// Hands `handler` every message that is here (at least one: it waits
    /// for one), with [`Replies`] to answer on this connection, and returns
    /// how many it handed: uWebSockets' message handler. A whole message is
    /// handed where it lies in the read buffer, borrowed ([`Received`]):
    /// no copy, no allocation, no reference count and no future per
    /// message, the fastest way through wsup (`docs/bench`). A binary
    /// message is unmasked when the handler first looks at its bytes, or
    /// as [`Replies::relay`] copies it to the output, one pass over them. What is not
    /// whole there (a message too large to hold, compressed, fragmented,
    /// over 64 KiB, or binary over 32 KiB and not all here yet) comes as
    /// [`recv_chunk`](Self::recv_chunk) has it, one piece per call.
    ///
    /// Pings are answered and pongs skipped, as by `recv_chunk`; the peer's
    /// close ends it with [`Error::ConnectionClosed`] once the closing
    /// handshake is done. The answers are queued as [`feed`](Self::feed)
    /// queues them, and written when the connection would next wait for
    /// input, so the answers to a batch share one write; past the backlog
    /// limit, no message is handed out until they drained. A handler's
    /// error stops the batch (its message consumed) and is returned.
    ///
    /// An echo:
    ///
    /// ```no_run
    /// # async fn echo<T: wsup_core::futures_io::AsyncRead + wsup_core::futures_io::AsyncWrite + Unpin>(
    /// #     mut ws: wsup_core::WebSocket<T>,
    /// # ) {
    /// while ws.recv_each(|msg, out| out.relay(&msg)).await.is_ok() {}
    /// # }
    /// ```
    pub fn recv_each<'a, F>(
        &'a mut self,
        mut handler: F,
    ) -> impl std::future::Future<Output = Result<usize, Error>> + 'a
    where
        F: FnMut(Received<'_>, &mut Replies<'_>) -> Result<(), Error> + 'a,
    {
        poll_fn(move |cx| self.driver.poll_each(cx, &mut handler))
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

handle::stream_face!(WebSocket);
handle::sink_face!(WebSocket);

impl<T: AsyncRead + AsyncWrite + Unpin> WebSocket<T> {
    /// `Sink::poll_close`: the whole closing handshake, with a normal close.
    fn poll_sink_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.driver
            .start_close(Some(CloseFrame::new(CloseCode::NORMAL, "")))?;
        self.driver.poll_close(cx)
    }
}

#[cfg(test)]
mod each_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod timer_tests;

#[cfg(test)]
mod memory_tests;

#[cfg(test)]
mod stats_tests;

#[cfg(test)]
mod client_tests;

#[cfg(test)]
mod client_deflate_tests;
