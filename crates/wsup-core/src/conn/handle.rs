//! The handle API, written once. [`WebSocket`](super::WebSocket),
//! [`WebSocketReader`](super::WebSocketReader) and
//! [`WebSocketWriter`](super::WebSocketWriter) are thin faces over one
//! [`Driver`], as tokio-util's `Framed`, `FramedRead` and `FramedWrite` are
//! over `FramedImpl`: each face says how it reaches the driver ([`Access`]:
//! directly, or under the split halves' lock), and the operations the faces
//! share are written here, at the level of polls. A face's `async fn` is a
//! `poll_fn` over one of them (two for `feed`): a nested `async fn` per call
//! cost about 30 instructions per message on the small-message echo
//! (callgrind), where a `poll_fn` awaited in place costs nothing.

use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::driver::Driver;
use crate::error::Error;
use crate::message::{Chunk, Message};

/// How a face reaches its connection's driver.
pub(crate) trait Access<T> {
    /// Runs `f` on the driver for one poll, with the waker it should use.
    fn poll_with<R>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Driver<T>, &mut Context<'_>) -> R,
    ) -> R;

    /// Runs `f` on the driver, with no I/O.
    fn with<R>(&mut self, f: impl FnOnce(&mut Driver<T>) -> R) -> R;
}

/// The next whole message.
pub(crate) fn poll_recv<T, A>(a: &mut A, cx: &mut Context<'_>) -> Poll<Result<Message, Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.poll_with(cx, |d, cx| d.poll_recv(cx))
}

/// The next chunk of a data message (`recv_chunk`).
pub(crate) fn poll_chunk<T, A>(a: &mut A, cx: &mut Context<'_>) -> Poll<Result<Chunk, Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.poll_with(cx, |d, cx| d.poll_chunk(cx))
}

/// `Stream::poll_next`: ends (`None`) once the connection is closed.
pub(crate) fn poll_next<T, A>(
    a: &mut A,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Message, Error>>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    match std::task::ready!(poll_recv(a, cx)) {
        Err(Error::ConnectionClosed) => Poll::Ready(None),
        other => Poll::Ready(Some(other)),
    }
}

/// Room to queue more (`Sink::poll_ready`; the first half of `feed`).
pub(crate) fn poll_ready<T, A>(a: &mut A, cx: &mut Context<'_>) -> Poll<Result<(), Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.poll_with(cx, |d, cx| d.poll_ready(cx))
}

/// `feed` and `feed_chunk`: room to queue, then `queue` the item (taken
/// from `item`, which a completed feed leaves empty).
#[inline]
pub(crate) fn poll_feed<T, A, M>(
    a: &mut A,
    cx: &mut Context<'_>,
    item: &mut Option<M>,
    queue: fn(&mut A, M) -> Result<(), Error>,
) -> Poll<Result<(), Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    std::task::ready!(poll_ready(a, cx))?;
    let item = item.take().expect("a feed polled after it completed");
    Poll::Ready(queue(a, item))
}

/// Queues a message, no I/O (`Sink::start_send`; the second half of `feed`).
pub(crate) fn start_send<T, A>(a: &mut A, msg: Message) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.with(|d| d.start_send(msg))
}

/// A [`crate::Sender`] for the connection.
pub(crate) fn sender<T, A>(a: &mut A) -> crate::Sender
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.with(|d| d.sender())
}

/// Queues a chunk, no I/O (the second half of `feed_chunk`).
pub(crate) fn queue_chunk<T, A>(a: &mut A, chunk: Chunk) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.with(|d| d.proto.queue_chunk(chunk))
}

/// Writes out everything queued (`flush`, `Sink::poll_flush`).
pub(crate) fn poll_flush<T, A>(a: &mut A, cx: &mut Context<'_>) -> Poll<Result<(), Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.poll_with(cx, |d, cx| d.poll_flush(cx))
}

/// `futures::Stream` for a face: the messages until the connection closes.
macro_rules! stream_face {
    ($face:ident) => {
        impl<T: AsyncRead + AsyncWrite + Unpin> Stream for $face<T> {
            type Item = Result<Message, Error>;

            /// Ends (`None`) once the connection is closed.
            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                handle::poll_next(self.get_mut(), cx)
            }
        }
    };
}

/// `futures::Sink` for a face; closing is the face's own
/// (`poll_sink_close`): the whole handshake on a connection, a close frame
/// sent on a writer half.
macro_rules! sink_face {
    ($face:ident) => {
        impl<T: AsyncRead + AsyncWrite + Unpin> Sink<Message> for $face<T> {
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
                self.get_mut().poll_sink_close(cx)
            }
        }
    };
}

/// The receiving methods of a face (`WebSocket`, `WebSocketReader`),
/// documented once.
macro_rules! receiving_methods {
    () => {
        /// Receives the next message.
        ///
        /// Pings are returned after their pong is queued; a close from the peer
        /// is returned once the echo is written and the transport shut; after
        /// that, [`crate::Error::ConnectionClosed`].
        ///
        /// (A `poll_fn` returned rather than an `async fn`: one state machine
        /// fewer per message.)
        pub fn recv(&mut self) -> impl std::future::Future<Output = Result<Message, Error>> + '_ {
            poll_fn(move |cx| handle::poll_recv(self, cx))
        }

        /// Polls for the next message.
        pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
            handle::poll_recv(self, cx)
        }

        /// Receives the next data message in chunks: a message whose first frame
        /// fits the read buffer ([`crate::WebSocketConfig::read_buffer_size`]) whole, in
        /// one chunk that is [`last`](crate::Chunk::last), and so is a message of one
        /// uncompressed frame of up to 32 KiB (or the read buffer, if larger),
        /// or of text up to 256 KiB (which then comes out checked). A
        /// larger one comes in pieces as its bytes arrive, at most one read of
        /// them each (inflated, if compressed), so that it is never held whole
        /// and a relay passes each read on at once, as a raw TCP relay would. Passed on with
        /// [`feed_chunk`](crate::WebSocket::feed_chunk), such a message goes through an echo
        /// or a relay in bounded memory, each piece written as it comes: a binary
        /// message that arrived as one uncompressed frame goes out as one frame
        /// of the same length (unless the sending connection compresses),
        /// anything else a frame per piece. (A message whose
        /// first frame is small, or compressed small, is gathered whole as by
        /// [`recv`](crate::WebSocket::recv), up to `max_message_size`.)
        ///
        /// Bounded memory means backpressure: a relay stops reading while more
        /// than [`crate::WebSocketConfig::write_backlog_limit`] of its output waits, so
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
        /// the peer's close ends it with [`crate::Error::ConnectionClosed`] once the
        /// closing handshake is done. Once a piece of a message was handed out,
        /// [`recv`](crate::WebSocket::recv) or [`next_message`](crate::WebSocket::next_message) discards
        /// the rest of it as it arrives.
        pub fn recv_chunk(
            &mut self,
        ) -> impl std::future::Future<Output = Result<Chunk, Error>> + '_ {
            poll_fn(move |cx| handle::poll_chunk(self, cx))
        }
    };
}

/// The sending methods of a face (`WebSocket`, `WebSocketWriter`),
/// documented once.
macro_rules! sending_methods {
    () => {
        /// A handle that queues messages on this connection from any task
        /// (cloneable, `Send`): see [`Sender`](crate::Sender). They are
        /// written while the connection's task waits for input.
        pub fn sender(&mut self) -> crate::Sender {
            handle::sender(self)
        }

        /// Sends a message and flushes: when it returns, the message (and
        /// everything queued before it) has been handed to the transport.
        /// One write per message: a loop that answers what it receives
        /// should [`feed`](crate::WebSocket::feed) instead.
        pub async fn send(&mut self, msg: Message) -> Result<(), Error> {
            self.feed(msg).await?;
            self.flush().await
        }

        /// Queues a message, writing out earlier output first only when the queue
        /// is past its threshold. What is queued is written when the
        /// connection would next wait for input (a `recv` with nothing
        /// buffered), when the queue passes `write_flush_threshold`, or on
        /// `flush`, `send` or `close`: a task that feeds and then awaits
        /// something other than this connection's `recv` should `flush`.
        ///
        /// (A `poll_fn` returned rather than an `async fn`: one state machine
        /// fewer per message.)
        pub fn feed(
            &mut self,
            msg: Message,
        ) -> impl std::future::Future<Output = Result<(), Error>> + '_ {
            let mut msg = Some(msg);
            poll_fn(move |cx| handle::poll_feed(self, cx, &mut msg, handle::start_send))
        }

        /// Writes out everything queued.
        pub async fn flush(&mut self) -> Result<(), Error> {
            poll_fn(|cx| handle::poll_flush(self, cx)).await
        }

        /// Queues a chunk of a data message (as [`feed`](crate::WebSocket::feed) does a
        /// message): a whole message as one frame, compressed as `feed` would
        /// (when on and over the threshold); a piece as one frame of its message,
        /// compressed whenever compression is on, or as the next bytes of one
        /// frame (below). Until a `last` chunk ends the
        /// message, no other data message may be sent, and the chunks must all
        /// be of its kind ([`crate::Error::InvalidMessage`] otherwise). Text is checked
        /// as UTF-8 across the chunks; frames already queued cannot be taken
        /// back, so after such an error only closing is left.
        ///
        /// The first piece of a binary message that [`recv_chunk`](crate::WebSocket::recv_chunk)
        /// received as one frame, fed on unchanged with compression off, starts
        /// one frame of that message's length, as a relay of the bytes would
        /// send it: no header per piece for the peer to parse. The pieces after
        /// it must then add up to that length exactly, the last one ending it
        /// ([`crate::Error::InvalidMessage`] otherwise, and nothing queued). Control
        /// frames queued meanwhile wait for its end, only the latest of each kind
        /// kept (a pong answers the latest ping). No close frame can follow an
        /// unfinished frame: closing before its end, a protocol error, or the
        /// peer's close read before the last piece is fed (when another task
        /// feeds) shuts the connection down without one. Pieces relayed as they
        /// were received always add up.
        pub fn feed_chunk(
            &mut self,
            chunk: Chunk,
        ) -> impl std::future::Future<Output = Result<(), Error>> + '_ {
            let mut chunk = Some(chunk);
            poll_fn(move |cx| handle::poll_feed(self, cx, &mut chunk, handle::queue_chunk))
        }
    };
}

pub(crate) use {receiving_methods, sending_methods, sink_face, stream_face};
