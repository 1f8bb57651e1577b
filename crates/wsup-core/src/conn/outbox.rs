//! The send queue of one connection, shared with its [`Sender`]s: other
//! tasks (a hub's publisher, a game loop, a second producer) queue messages
//! on it, and the connection's own task moves them into the protocol and
//! writes them while it waits for input.
//!
//! Why the connection's task, and not the sender's: the protocol has no
//! lock (one task owns it), so the hot path of `recv`/`send` stays free of
//! any; a sender takes only this queue's mutex, held for a push. The queue
//! is bounded in messages and bytes (`send_queue_messages`,
//! `send_queue_bytes`); past it a sender is refused (`try_send`) or waits
//! (`send`), and a hub applies its slow-consumer policy.
//!
//! Wake-ups: a push that finds the queue empty wakes the connection's task
//! (registered each time it is about to wait); the connection, having
//! taken messages, wakes the senders waiting for room. `ready` lets the
//! connection look at the queue with one atomic load, without the mutex.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::close::CloseFrame;
use crate::config::WebSocketConfig;
use crate::message::Message;
use crate::prepared::PreparedMessage;

/// What a [`Sender`] takes: a message, or a prepared message (framed once,
/// shared by every connection it is queued on).
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A message of its own.
    Message(Message),
    /// A message framed once and shared.
    Prepared(PreparedMessage),
}

impl Outgoing {
    /// Payload bytes, as counted against `send_queue_bytes`.
    fn len(&self) -> usize {
        match self {
            Outgoing::Message(m) => m.len(),
            Outgoing::Prepared(p) => p.payload().len(),
        }
    }

    /// Refuses what the connection could not send.
    fn check(&self) -> Result<(), &'static str> {
        match self {
            Outgoing::Message(Message::Ping(p) | Message::Pong(p)) if p.len() > 125 => {
                Err("control frame payload over 125 bytes")
            }
            Outgoing::Message(Message::Close(_)) => Err("close with Sender::close"),
            _ => Ok(()),
        }
    }
}

impl From<Message> for Outgoing {
    fn from(m: Message) -> Self {
        Outgoing::Message(m)
    }
}

impl From<PreparedMessage> for Outgoing {
    fn from(p: PreparedMessage) -> Self {
        Outgoing::Prepared(p)
    }
}

impl From<&PreparedMessage> for Outgoing {
    fn from(p: &PreparedMessage) -> Self {
        Outgoing::Prepared(p.clone())
    }
}

/// Why [`Sender::try_send`] did not queue a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrySendError {
    /// The send queue is at its limit; the message is given back.
    #[error("send queue full")]
    Full(Outgoing),
    /// The connection is closing or ended; the message is given back.
    #[error("connection closed")]
    Closed(Outgoing),
    /// The message cannot be sent (a control payload over 125 bytes, or a
    /// close: use [`Sender::close`]).
    #[error("invalid message to send: {0}")]
    Invalid(&'static str),
}

/// Why [`Sender::send`] did not queue a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is closing or ended; the message is given back.
    #[error("connection closed")]
    Closed(Outgoing),
    /// The message cannot be sent (see [`TrySendError::Invalid`]).
    #[error("invalid message to send: {0}")]
    Invalid(&'static str),
}

/// Something to run when the connection ends (a hub's unsubscribe).
type Hook = Box<dyn FnOnce() + Send>;

/// The queue shared by a connection and its senders.
pub(crate) struct Outbox {
    id: u64,
    /// Messages or a close wait for the connection: it looks here first.
    ready: AtomicBool,
    /// The connection ended, or can send no more.
    closed: AtomicBool,
    max_messages: usize,
    max_bytes: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Outgoing>,
    bytes: usize,
    /// A close asked for, sent once what is queued before it went.
    close: Option<Option<CloseFrame>>,
    /// The connection's task, while it waits.
    connection: Option<Waker>,
    /// Senders waiting for room, or for the end.
    waiting: Vec<Waker>,
    hooks: Vec<(u64, Hook)>,
    next_hook: u64,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Outbox {
    pub(crate) fn new(cfg: &WebSocketConfig) -> Arc<Self> {
        Arc::new(Outbox {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ready: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            max_messages: cfg.send_queue_messages,
            max_bytes: cfg.send_queue_bytes,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding it leaves a queue that is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether anything waits for the connection (one atomic load).
    #[inline]
    pub(crate) fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Queues `msg` if there is room (a message always fits an empty queue).
    fn push(&self, msg: Outgoing) -> Result<(), TrySendError> {
        if let Err(why) = msg.check() {
            return Err(TrySendError::Invalid(why));
        }
        let len = msg.len();
        let mut s = self.lock();
        if self.closed.load(Ordering::Relaxed) || s.close.is_some() {
            return Err(TrySendError::Closed(msg));
        }
        if !s.queue.is_empty()
            && (s.queue.len() >= self.max_messages || s.bytes + len > self.max_bytes)
        {
            return Err(TrySendError::Full(msg));
        }
        s.bytes += len;
        s.queue.push_back(msg);
        self.signal(&mut s);
        Ok(())
    }

    /// Tells the connection something waits (wakes it once per batch).
    fn signal(&self, s: &mut State) {
        if !self.ready.swap(true, Ordering::AcqRel) {
            if let Some(w) = s.connection.take() {
                w.wake();
            }
        }
    }

    /// Asks the connection to close after what is queued; with `now`, what
    /// is queued is dropped first (a slow consumer cut off).
    pub(crate) fn request_close(&self, frame: Option<CloseFrame>, now: bool) {
        let mut s = self.lock();
        if self.closed.load(Ordering::Relaxed) || s.close.is_some() {
            return;
        }
        if now {
            s.queue = VecDeque::new();
            s.bytes = 0;
        }
        s.close = Some(frame);
        self.signal(&mut s);
    }

    /// The connection takes queued messages while it has room, then
    /// the close asked for, if everything before it went. Senders waiting
    /// for room are woken when some was made.
    ///
    /// `each` queues one message and says whether there is room for another.
    pub(crate) fn take(&self, mut each: impl FnMut(Outgoing) -> bool) -> Taken {
        let mut s = self.lock();
        let mut taken = Taken::default();
        while let Some(msg) = s.queue.pop_front() {
            s.bytes -= msg.len();
            taken.messages += 1;
            if !each(msg) {
                break;
            }
        }
        if s.queue.is_empty() {
            if s.queue.capacity() > 64 {
                s.queue = VecDeque::new();
            }
            taken.close = s.close.take();
            self.ready.store(false, Ordering::Release);
        }
        let waiting = if taken.messages > 0 {
            std::mem::take(&mut s.waiting)
        } else {
            Vec::new()
        };
        drop(s);
        waiting.into_iter().for_each(Waker::wake);
        taken
    }

    /// The connection is about to wait: wake it when something is queued.
    /// Whether something already is (then it should not wait).
    pub(crate) fn register(&self, cx: &Context<'_>) -> bool {
        let mut s = self.lock();
        if self.ready.load(Ordering::Acquire) {
            return true;
        }
        match &mut s.connection {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        false
    }

    /// The connection ended or can send no more: what is queued is dropped,
    /// senders learn it, and the hooks run (outside the lock: a hook takes
    /// the hub's locks).
    pub(crate) fn shut(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut s = self.lock();
        let queue = std::mem::take(&mut s.queue);
        s.bytes = 0;
        s.close = None;
        s.connection = None;
        let waiting = std::mem::take(&mut s.waiting);
        let hooks = std::mem::take(&mut s.hooks);
        drop(s);
        drop(queue);
        waiting.into_iter().for_each(Waker::wake);
        hooks.into_iter().for_each(|(_, hook)| hook());
    }

    /// Waits for room (`Ready(Ok)` with the message queued), or the end.
    fn poll_push(
        &self,
        cx: &mut Context<'_>,
        msg: &mut Option<Outgoing>,
    ) -> Poll<Result<(), SendError>> {
        let Some(m) = msg.take() else {
            return Poll::Ready(Ok(()));
        };
        match self.push(m) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(TrySendError::Closed(m)) => Poll::Ready(Err(SendError::Closed(m))),
            Err(TrySendError::Invalid(why)) => Poll::Ready(Err(SendError::Invalid(why))),
            Err(TrySendError::Full(m)) => {
                let mut s = self.lock();
                // Room may have been made since the push looked.
                let full = !s.queue.is_empty()
                    && (s.queue.len() >= self.max_messages || s.bytes + m.len() > self.max_bytes);
                if full && !self.closed.load(Ordering::Relaxed) {
                    if !s.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                        s.waiting.push(cx.waker().clone());
                    }
                    *msg = Some(m);
                    return Poll::Pending;
                }
                drop(s);
                *msg = Some(m);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.closed.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        let mut s = self.lock();
        if self.closed.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if !s.waiting.iter().any(|w| w.will_wake(cx.waker())) {
            s.waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Runs `hook` when the connection ends; its key (to remove it), or
    /// `None` if it has ended already.
    pub(crate) fn on_close(&self, hook: Hook) -> Option<u64> {
        let mut s = self.lock();
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let key = s.next_hook;
        s.next_hook += 1;
        s.hooks.push((key, hook));
        Some(key)
    }

    /// Hooks held (for tests: one per live subscription).
    #[cfg(test)]
    pub(crate) fn hooks(&self) -> usize {
        self.lock().hooks.len()
    }

    /// Forgets a hook (its subscription ended first).
    pub(crate) fn remove_hook(&self, key: u64) {
        let mut s = self.lock();
        s.hooks.retain(|(k, _)| *k != key);
    }
}

/// What the connection took from the queue.
#[derive(Debug, Default)]
pub(crate) struct Taken {
    pub(crate) messages: usize,
    /// A close asked for: everything queued before it was taken.
    pub(crate) close: Option<Option<CloseFrame>>,
}

/// A handle that queues messages on one connection, from any task:
/// cloneable, `Send` and `Sync`. Get one with
/// [`WebSocket::sender`](crate::WebSocket::sender).
///
/// Messages queued here are written by the connection's own task, as soon
/// as it waits for input: the task that owns the [`WebSocket`](crate::WebSocket) (or its
/// reader half) must be receiving (`recv`, `recv_chunk`, `next`), as every
/// server loop is. The queue is bounded (`send_queue_messages`,
/// `send_queue_bytes`); when the connection ends, queued messages are
/// dropped and senders get `Closed`.
///
/// ```
/// # async fn run<T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin>(mut ws: wsup_core::WebSocket<T>) {
/// use wsup_core::Message;
///
/// let sender = ws.sender();
/// let ticker = sender.clone();
/// std::thread::spawn(move || {
///     // Another thread, or task, speaks on the same connection.
///     let _ = ticker.try_send(Message::text("tick"));
/// });
/// while let Ok(msg) = ws.recv().await {
///     // The reply is queued like the ticks, in order.
///     if sender.send(msg).await.is_err() {
///         break;
///     }
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct Sender {
    outbox: Arc<Outbox>,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("connection", &self.outbox.id)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Sender {
    pub(crate) fn new(outbox: Arc<Outbox>) -> Self {
        Sender { outbox }
    }

    pub(crate) fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }

    /// Identifies the connection (unique in the process): two senders with
    /// the same id queue on the same connection.
    pub fn id(&self) -> u64 {
        self.outbox.id
    }

    /// Queues `msg` if the queue has room; never waits.
    pub fn try_send(&self, msg: impl Into<Outgoing>) -> Result<(), TrySendError> {
        self.outbox.push(msg.into())
    }

    /// Queues `msg`, waiting for room while the queue is full.
    pub async fn send(&self, msg: impl Into<Outgoing>) -> Result<(), SendError> {
        let mut msg = Some(msg.into());
        std::future::poll_fn(|cx| self.outbox.poll_push(cx, &mut msg)).await
    }

    /// Cuts a slow consumer off: what it had queued is dropped, and it is
    /// closed with `code`.
    pub(crate) fn cut_off(&self, code: crate::close::CloseCode) {
        let frame = CloseFrame::new(code, "slow consumer");
        self.outbox.request_close(Some(frame), true);
    }

    /// Asks the connection to close with `frame` once what is queued before
    /// it has been sent; later messages are refused.
    pub fn close(&self, frame: Option<CloseFrame>) {
        self.outbox.request_close(frame, false);
    }

    /// Whether the connection ended (or started closing and took the close
    /// asked for): messages are refused.
    pub fn is_closed(&self) -> bool {
        self.outbox.closed.load(Ordering::Acquire)
    }

    /// Waits until the connection has ended.
    pub async fn closed(&self) {
        std::future::poll_fn(|cx| self.outbox.poll_closed(cx)).await
    }

    /// Messages waiting in the queue.
    pub fn queued(&self) -> usize {
        self.outbox.lock().queue.len()
    }
}
