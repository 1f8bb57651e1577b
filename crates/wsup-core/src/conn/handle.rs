//! The handle API, written once. [`WebSocket`](super::WebSocket),
//! [`WebSocketReader`](super::WebSocketReader) and
//! [`WebSocketWriter`](super::WebSocketWriter) are thin faces over one
//! [`Driver`], as tokio-util's `Framed`, `FramedRead` and `FramedWrite` are
//! over `FramedImpl`: each face says how it reaches the driver ([`Access`]:
//! directly, or under the split halves' lock), and the operations that the
//! faces share are written here.

use std::future::poll_fn;
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

pub(crate) fn poll_recv<T, A>(a: &mut A, cx: &mut Context<'_>) -> Poll<Result<Message, Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.poll_with(cx, |d, cx| d.poll_recv(cx))
}

pub(crate) async fn recv<T, A>(a: &mut A) -> Result<Message, Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    poll_fn(|cx| poll_recv(a, cx)).await
}

pub(crate) async fn recv_chunk<T, A>(a: &mut A) -> Result<Chunk, Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    poll_fn(|cx| a.poll_with(cx, |d, cx| d.poll_chunk(cx))).await
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

/// `Sink::poll_ready`: room to queue more (see the flush policy).
pub(crate) fn poll_ready<T, A>(a: &mut A, cx: &mut Context<'_>) -> Poll<Result<(), Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.poll_with(cx, |d, cx| d.poll_ready(cx))
}

/// `Sink::start_send`: queues a message, no I/O.
pub(crate) fn start_send<T, A>(a: &mut A, msg: Message) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.with(|d| d.proto.start_send(msg))
}

/// `Sink::poll_flush`.
pub(crate) fn poll_flush<T, A>(a: &mut A, cx: &mut Context<'_>) -> Poll<Result<(), Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    a.poll_with(cx, |d, cx| d.poll_flush(cx))
}

pub(crate) async fn feed<T, A>(a: &mut A, msg: Message) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    poll_fn(|cx| poll_ready(a, cx)).await?;
    start_send(a, msg)
}

pub(crate) async fn feed_chunk<T, A>(a: &mut A, chunk: Chunk) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    poll_fn(|cx| poll_ready(a, cx)).await?;
    a.with(|d| d.proto.queue_chunk(chunk))
}

pub(crate) async fn flush<T, A>(a: &mut A) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    poll_fn(|cx| poll_flush(a, cx)).await
}

pub(crate) async fn send<T, A>(a: &mut A, msg: Message) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    A: Access<T>,
{
    feed(a, msg).await?;
    flush(a).await
}
