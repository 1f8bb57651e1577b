//! Split halves: a reader and a writer for two tasks.
//!
//! Both halves share the engine behind a `std::sync::Mutex` that is held for
//! the duration of one `poll_*` call and never across an `.await`, so the
//! lock is uncontended unless both tasks poll in the same instant. The reader
//! queues pongs and the close echo into the shared write queue, and the
//! reader flushes them itself before it waits for input: control replies
//! flow even when the application never writes.
//!
//! Wakers: a transport keeps one waker per direction, but both halves may
//! wait on the write direction (the reader flushing a pong, the writer
//! sending). Each poll therefore hands the transport a proxy waker that wakes
//! both halves' latest wakers; a spurious wake-up costs one poll, a lost one
//! would hang a task.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_sink::Sink;
use futures_util::task::AtomicWaker;

use super::driver::Driver;
use super::handle::{self, Access};
use crate::close::{CloseCode, CloseFrame};
use crate::error::Error;
use crate::message::Chunk;
use crate::message::Message;
use crate::stats::ConnectionStats;

#[derive(Debug, Default)]
struct Wakers {
    read: AtomicWaker,
    write: AtomicWaker,
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.read.wake();
        self.write.wake();
    }
}

#[derive(Debug)]
struct Shared<T> {
    driver: Mutex<Driver<T>>,
    wakers: Arc<Wakers>,
    proxy: Waker,
    protocol: Option<String>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Driver<T>> {
        // A panic in another half's poll leaves the engine in a consistent
        // state between frames at worst; keep going rather than poisoning both.
        self.driver.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn split<T>(
    driver: Driver<T>,
    protocol: Option<String>,
) -> (WebSocketReader<T>, WebSocketWriter<T>) {
    let wakers = Arc::new(Wakers::default());
    let shared = Arc::new(Shared {
        driver: Mutex::new(driver),
        proxy: Waker::from(wakers.clone()),
        wakers,
        protocol,
    });
    (
        WebSocketReader {
            shared: shared.clone(),
        },
        WebSocketWriter { shared },
    )
}

/// The receiving half of a split [`crate::WebSocket`].
#[derive(Debug)]
pub struct WebSocketReader<T> {
    shared: Arc<Shared<T>>,
}

/// The sending half of a split [`crate::WebSocket`].
#[derive(Debug)]
pub struct WebSocketWriter<T> {
    shared: Arc<Shared<T>>,
}

/// Each half registers its task's waker for its direction, then polls the
/// driver under the lock with the proxy waker that wakes both.
macro_rules! half_access {
    ($half:ident, $direction:ident) => {
        impl<T> Access<T> for $half<T> {
            fn poll_with<R>(
                &mut self,
                cx: &mut Context<'_>,
                f: impl FnOnce(&mut Driver<T>, &mut Context<'_>) -> R,
            ) -> R {
                self.shared.wakers.$direction.register(cx.waker());
                let mut cx = Context::from_waker(&self.shared.proxy);
                let mut driver = self.shared.lock();
                let was_closed = driver.proto.is_closed();
                let res = f(&mut driver, &mut cx);
                // Ended in this poll (a write timeout met by the writer, the
                // peer's close read by the reader): the other half may be
                // waiting on the transport for what will not come now.
                if !was_closed && driver.proto.is_closed() {
                    self.shared.proxy.wake_by_ref();
                }
                res
            }

            fn with<R>(&mut self, f: impl FnOnce(&mut Driver<T>) -> R) -> R {
                f(&mut self.shared.lock())
            }
        }
    };
}

half_access!(WebSocketReader, read);
half_access!(WebSocketWriter, write);

impl<T: AsyncRead + AsyncWrite + Unpin> WebSocketReader<T> {
    handle::receiving_methods!();

    /// A handle that queues messages on this connection from any task: see
    /// [`Sender`](crate::Sender). The reader, receiving, writes them.
    pub fn sender(&mut self) -> crate::Sender {
        handle::sender(self)
    }

    /// What the connection has received and sent so far (both halves: it
    /// is one connection).
    pub fn stats(&self) -> ConnectionStats {
        self.shared.lock().stats()
    }

    /// The negotiated subprotocol, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.shared.protocol.as_deref()
    }

    /// Whether `writer` is this connection's other half.
    pub fn is_pair_of(&self, writer: &WebSocketWriter<T>) -> bool {
        Arc::ptr_eq(&self.shared, &writer.shared)
    }

    /// The driver and subprotocol back from both halves, or the halves
    /// back if they do not match (`WebSocketReader::reunite`, in `mod.rs`,
    /// builds the connection from them).
    #[allow(clippy::result_large_err, clippy::type_complexity)]
    pub(crate) fn into_parts(
        self,
        writer: WebSocketWriter<T>,
    ) -> Result<(Driver<T>, Option<String>), (Self, WebSocketWriter<T>)> {
        if !self.is_pair_of(&writer) {
            return Err((self, writer));
        }
        drop(writer);
        let shared =
            Arc::try_unwrap(self.shared).unwrap_or_else(|_| unreachable!("both halves given"));
        let driver = shared
            .driver
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        Ok((driver, shared.protocol))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> WebSocketWriter<T> {
    handle::sending_methods!();

    /// What the connection has received and sent so far (both halves: it
    /// is one connection).
    pub fn stats(&self) -> ConnectionStats {
        self.shared.lock().stats()
    }

    /// Sends a close frame and flushes it. The reader half receives the
    /// peer's reply and finishes the closing handshake. (Inside a message
    /// relayed as one frame, no close frame can be sent: the connection is
    /// shut down, and the reader half finishes with it.)
    pub async fn close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        self.shared.lock().start_close(frame)?;
        // The reader half may be waiting for input that will not come now.
        self.shared.wakers.read.wake();
        poll_fn(|cx| handle::poll_flush(self, cx)).await
    }
}

handle::stream_face!(WebSocketReader);
handle::sink_face!(WebSocketWriter);

impl<T: AsyncRead + AsyncWrite + Unpin> WebSocketWriter<T> {
    /// `Sink::poll_close`: sends a normal close frame and flushes it; the
    /// reader half finishes the closing handshake.
    fn poll_sink_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let res = self.poll_with(cx, |c, cx| {
            c.start_close(Some(CloseFrame::new(CloseCode::NORMAL, "")))?;
            c.poll_flush(cx)
        });
        // As in `close`: the reader half may have to finish now.
        self.shared.wakers.read.wake();
        res
    }
}
