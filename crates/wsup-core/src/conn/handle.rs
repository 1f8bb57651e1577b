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

/// Queues a message, no I/O (`Sink::start_send`; the second half of `feed`).
pub(crate) fn start_send<T, A>(a: &mut A, msg: Message) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.with(|d| d.proto.start_send(msg))
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
