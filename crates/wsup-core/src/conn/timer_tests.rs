//! The close timeout, over a runtime whose timers fire when the test says
//! so (as tokio's paused clock or a simulated runtime would): the driver
//! arms its one timer before it can wait, takes a fired timer as the
//! deadline passed, and counts the timeout from the close.

use crate::role::Role;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use wsup_testkit::{client_frame, Mem, OP_CLOSE};

use super::WebSocket;
use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::message::Message;
use crate::runtime::{BoxTask, Runtime, Sleep};

#[derive(Debug, Default)]
struct Timers {
    /// How many times the timers fired: a timer fires once the count passes
    /// what it was when the timer was made.
    fired: AtomicUsize,
    /// The duration of every timer asked for.
    asked: Mutex<Vec<Duration>>,
    wakers: Mutex<Vec<Waker>>,
}

impl Timers {
    /// The time of every timer made so far has come.
    fn fire(&self) {
        self.fired.fetch_add(1, SeqCst);
        for w in self.wakers.lock().unwrap().drain(..) {
            w.wake();
        }
    }

    fn created(&self) -> usize {
        self.asked.lock().unwrap().len()
    }
}

#[derive(Debug)]
struct ManualRt(Arc<Timers>);
struct ManualSleep(Arc<Timers>, usize);

impl Future for ManualSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.fired.load(SeqCst) > self.1 {
            Poll::Ready(())
        } else {
            self.0.wakers.lock().unwrap().push(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Runtime for ManualRt {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.0.asked.lock().unwrap().push(duration);
        Box::pin(ManualSleep(self.0.clone(), self.0.fired.load(SeqCst)))
    }
    fn spawn(&self, _: BoxTask) {}
}

/// A waker that counts its wake-ups.
struct Count(AtomicUsize);
impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A peer that sends `input`, then goes quiet (reads wait, never end);
/// with `stalled`, it reads nothing either (writes wait).
fn conn(input: Vec<u8>, stalled: bool) -> (WebSocket<Mem>, Arc<Timers>) {
    conn_with(input, stalled, WebSocketConfig::default())
}

/// As [`conn`], with `cfg`.
fn conn_with(input: Vec<u8>, stalled: bool, cfg: WebSocketConfig) -> (WebSocket<Mem>, Arc<Timers>) {
    let mut peer = Mem::new(input, usize::MAX);
    peer.hang = true;
    peer.stalled = stalled;
    on_manual_timers(peer, cfg)
}

/// Keepalive every 30 s, the rest by default.
fn keepalive_every_30s() -> WebSocketConfig {
    WebSocketConfig::builder()
        .keepalive_interval(Some(Duration::from_secs(30)))
        .build()
}

/// A connection over `io` with `cfg`, on a runtime whose timers fire when
/// the test says so.
fn on_manual_timers<T>(io: T, cfg: WebSocketConfig) -> (WebSocket<T>, Arc<Timers>)
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    let timers = Arc::new(Timers::default());
    let rt: Arc<dyn Runtime> = Arc::new(ManualRt(timers.clone()));
    (
        WebSocket::from_raw(io, Role::Server, Bytes::new(), cfg, Some(rt)),
        timers,
    )
}

fn counting_waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(count.clone());
    (count, waker)
}

/// `recv` waits, and firing the timers wakes it: the close timer was armed
/// (its waker registered) before `recv` returned `Pending`.
fn recv_waits_for_the_close_timer(ws: &mut WebSocket<Mem>, timers: &Timers) {
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(ws.poll_recv(&mut cx).is_pending());
    timers.fire();
    assert!(
        count.0.load(SeqCst) > 0,
        "the close timeout passed and nothing woke the task (timers created: {})",
        timers.created()
    );
}

/// A protocol error (an unmasked frame), then the peer goes quiet: the
/// close timeout must still end the connection, so its timer must be
/// armed (its waker registered) before `recv` returns `Pending`.
#[test]
fn a_protocol_error_arms_the_close_timer_before_waiting() {
    let (mut ws, timers) = conn(vec![0x82, 0x00], false);
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    recv_waits_for_the_close_timer(&mut ws, &timers);
    let res = ws.poll_recv(&mut cx);
    assert!(
        matches!(res, Poll::Ready(Err(Error::Protocol(_)))),
        "{res:?}"
    );
}

/// The peer closes and then reads nothing (our echo cannot be written):
/// the close timeout must end it.
#[test]
fn a_peer_close_with_a_stalled_write_arms_the_close_timer() {
    let (mut ws, timers) = conn(client_frame(OP_CLOSE, true, &1000u16.to_be_bytes()), true);
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    recv_waits_for_the_close_timer(&mut ws, &timers);
    assert!(ws.poll_recv(&mut cx).is_ready());
}

/// The close timeout is the runtime's timer: when it fires, closing ends
/// with `CloseTimeout`, whatever `std::time::Instant` says.
#[test]
fn close_ends_when_the_runtime_timer_fires() {
    let (mut ws, timers) = conn(Vec::new(), false);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut close = pin!(ws.close(None));
    assert!(close.as_mut().poll(&mut cx).is_pending());
    timers.fire();
    assert!(count.0.load(SeqCst) > 0, "timer armed and woken");
    let res = close.as_mut().poll(&mut cx);
    assert!(
        matches!(res, Poll::Ready(Err(Error::CloseTimeout))),
        "{res:?} (timers created: {})",
        timers.created()
    );
}

/// A close queued with `feed` starts the close timeout then, not when the
/// connection is next polled: the timer armed later is asked for what is
/// left of it.
#[test]
fn the_close_timeout_counts_from_the_close() {
    let (mut ws, timers) = conn(Vec::new(), false);
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut feed = pin!(ws.feed(Message::Close(None)));
        assert!(feed.as_mut().poll(&mut cx).is_ready());
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(ws.poll_recv(&mut cx).is_pending());
    let asked = timers.asked.lock().unwrap().clone();
    let timeout = WebSocketConfig::default().close_timeout();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0] <= timeout - Duration::from_millis(100),
        "{asked:?} of {timeout:?}"
    );
}

/// A peer that reads nothing: the blocked flush starts the write timeout,
/// and when it passes the flush fails with `WriteTimeout` and the
/// connection holds nothing any more: its queue and read buffer are freed.
#[test]
fn the_write_timeout_ends_a_stalled_flush_and_frees_its_memory() {
    let cfg = WebSocketConfig::builder()
        .write_timeout(Some(Duration::from_secs(3)))
        .build();
    let (mut ws, timers) = conn_with(client_frame(0x2, true, b"warm the read buffer"), true, cfg);
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(ws.poll_recv(&mut cx), Poll::Ready(Ok(_))));
    {
        let mut feed = pin!(ws.feed(Message::binary(vec![1u8; 1 << 20])));
        assert!(feed.as_mut().poll(&mut cx).is_ready());
    }
    write_timeout_ends(pin!(ws.flush()), &timers);
    assert_eq!(ws.driver.proto.queued(), 0, "the queue is freed");
    assert_eq!(
        ws.driver.proto.read_capacity(),
        0,
        "the read buffer is freed"
    );
    let again = pin!(ws.send(Message::text("late"))).as_mut().poll(&mut cx);
    assert!(
        matches!(again, Poll::Ready(Err(Error::WriteTimeout))),
        "{again:?}"
    );
}

/// A burst grows the read buffer; a keepalive interval with nothing
/// received gives it back (and the ping goes out), so an idle connection
/// holds no more than a new one.
#[test]
fn an_idle_keepalive_tick_gives_back_what_a_burst_grew() {
    let mut input = Vec::new();
    for _ in 0..4 {
        input.extend(client_frame(0x2, true, &vec![5u8; 200 * 1024]));
    }
    let (mut ws, timers) = conn_with(input, false, keepalive_every_30s());
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    for i in 0..4 {
        assert!(matches!(
            ws.poll_recv(&mut cx),
            Poll::Ready(Ok(Message::Binary(_)))
        ));
        if i == 0 {
            // The thread keeps enough spare read buffers (other
            // connections'): this one keeps its own when it waits.
            crate::protocol::set_spare_reads_full(true);
        }
    }
    assert!(ws.poll_recv(&mut cx).is_pending());
    let grown = ws.driver.proto.read_capacity();
    assert!(grown > 64 * 1024, "the burst grew the buffer: {grown}");
    // The first tick finds the burst received since it was set: pushed on.
    timers.fire();
    assert!(ws.poll_recv(&mut cx).is_pending());
    assert_eq!(ws.driver.proto.read_capacity(), grown, "kept while active");
    // The second finds nothing received: idle.
    timers.fire();
    assert!(ws.poll_recv(&mut cx).is_pending());
    assert_eq!(ws.driver.proto.read_capacity(), 0, "given back when idle");
    let frames = wsup_testkit::parse_frames(&ws.driver.io.output);
    assert_eq!(
        frames.last().map(|f| f.opcode),
        Some(0x9),
        "a ping went out"
    );
}

/// A keepalive ping that falls due while a frame is being relayed (its
/// header sent with the whole length, the rest of its payload still to
/// come from the source) waits for the end of the frame: inside it, the
/// ping's bytes would be taken for payload and the stream corrupted.
#[test]
fn a_keepalive_ping_waits_for_the_end_of_a_frame_being_relayed() {
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut peer: Mem = Mem::new(client_frame(0x2, true, &payload), 100_000);
    peer.hang = true;
    let (mut ws, timers) = on_manual_timers(peer, keepalive_every_30s());
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    // Relay all but the last piece: the frame stays open.
    let last = loop {
        let Poll::Ready(chunk) = pin!(ws.recv_chunk()).as_mut().poll(&mut cx) else {
            panic!("the whole frame is there to read");
        };
        let chunk = chunk.unwrap();
        if chunk.last() {
            break chunk;
        }
        let fed = pin!(ws.feed_chunk(chunk)).as_mut().poll(&mut cx);
        assert!(matches!(fed, Poll::Ready(Ok(()))), "{fed:?}");
    };
    assert!(pin!(ws.recv_chunk()).as_mut().poll(&mut cx).is_pending());
    // The first tick finds input received since it was set; the second
    // finds none: the ping falls due inside the frame.
    for _ in 0..2 {
        timers.fire();
        assert!(pin!(ws.recv_chunk()).as_mut().poll(&mut cx).is_pending());
    }
    let fed = pin!(ws.feed_chunk(last)).as_mut().poll(&mut cx);
    assert!(matches!(fed, Poll::Ready(Ok(()))), "{fed:?}");
    let flushed = pin!(ws.flush()).as_mut().poll(&mut cx);
    assert!(matches!(flushed, Poll::Ready(Ok(()))), "{flushed:?}");
    let frames = wsup_testkit::parse_frames(&ws.driver.io.output);
    let sent: Vec<(u8, usize)> = frames.iter().map(|f| (f.opcode, f.payload.len())).collect();
    assert_eq!(sent, [(0x2, payload.len()), (0x9, 0)]);
    assert_eq!(frames[0].payload, payload);
}

/// A transport that takes every write into a buffer of its own and whose
/// flush then waits, as TLS does when the peer stops reading (the records
/// it made cannot be written).
struct FlushStalls(Mem);

impl futures_io::AsyncRead for FlushStalls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for FlushStalls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Pending
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Pending
    }
}

/// A send whose flush waits on the transport (a TLS peer that stopped
/// reading) is output that makes no progress too: the write timeout ends
/// it, rather than leaving the send waiting with no timer armed.
#[test]
fn the_write_timeout_ends_a_send_whose_transport_flush_waits() {
    let mut peer: Mem = Mem::new(Vec::new(), usize::MAX);
    peer.hang = true;
    let cfg = WebSocketConfig::builder()
        .write_timeout(Some(Duration::from_secs(3)))
        .build();
    let (mut ws, timers) = on_manual_timers(FlushStalls(peer), cfg);
    write_timeout_ends(pin!(ws.send(Message::text("hello"))), &timers);
}

/// `write` waits on a peer that takes nothing: the write timeout (3 s) was
/// armed, and when it fires the task is woken and `write` fails with
/// `WriteTimeout`.
fn write_timeout_ends<F: Future<Output = Result<(), Error>>>(
    mut write: Pin<&mut F>,
    timers: &Timers,
) {
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(write.as_mut().poll(&mut cx).is_pending());
    let asked = timers.asked.lock().unwrap().clone();
    let armed = Duration::from_millis(2900)..=Duration::from_secs(3);
    assert!(
        asked.iter().any(|d| armed.contains(d)),
        "the write timeout was armed: {asked:?}"
    );
    timers.fire();
    assert!(count.0.load(SeqCst) > 0, "the timer woke the task");
    let res = write.as_mut().poll(&mut cx);
    assert!(
        matches!(res, Poll::Ready(Err(Error::WriteTimeout))),
        "{res:?}"
    );
}

/// An application that only sends, to a peer that answers every ping (its
/// pong waits in the socket, unread): blocked writes see the keepalive
/// deadlines pass, but no input was looked for since the ping, so none was
/// missed, and the peer is not taken for gone.
#[test]
fn keepalive_takes_no_peer_for_gone_while_no_input_is_read() {
    let (mut ws, timers) = a_megabyte_queued_for(client_frame(0xA, true, b""));
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    // The ping falls due, then its timeout passes, twice over.
    for round in 0..4 {
        let flush = pin!(ws.flush()).as_mut().poll(&mut cx);
        assert!(flush.is_pending(), "round {round}: {flush:?}");
        timers.fire();
    }
    ws.driver.io.stalled = false;
    let flushed = pin!(ws.flush()).as_mut().poll(&mut cx);
    assert!(matches!(flushed, Poll::Ready(Ok(()))), "{flushed:?}");
    let frames = wsup_testkit::parse_frames(&ws.driver.io.output);
    assert_eq!(
        frames.last().map(|f| f.opcode),
        Some(0x9),
        "a ping went out"
    );
    // The pong is read when the application receives.
    let received = pin!(ws.recv()).as_mut().poll(&mut cx);
    assert!(
        matches!(received, Poll::Ready(Ok(Message::Pong(_)))),
        "{received:?}"
    );
}

/// A receive held up by a backlog the peer does not read (nor the ping
/// queued behind it) still looks for input: the peer, silent, is taken
/// for gone once the ping's timeout passes.
#[test]
fn keepalive_ends_a_receive_held_up_by_a_backlog_the_peer_does_not_read() {
    let (mut ws, timers) = a_megabyte_queued_for(Vec::new());
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut recv = pin!(ws.recv());
    for _ in 0..2 {
        assert!(recv.as_mut().poll(&mut cx).is_pending());
        timers.fire();
    }
    let res = recv.as_mut().poll(&mut cx);
    assert!(
        matches!(res, Poll::Ready(Err(Error::KeepaliveTimeout))),
        "{res:?}"
    );
}

/// A connection with keepalive every 30 s and 1 MiB queued for a peer that
/// reads nothing and sends `input`.
fn a_megabyte_queued_for(input: Vec<u8>) -> (WebSocket<Mem>, Arc<Timers>) {
    let mut peer: Mem = Mem::new(input, usize::MAX);
    peer.hang = true;
    peer.stalled = true;
    let (mut ws, timers) = on_manual_timers(peer, keepalive_every_30s());
    let fed = pin!(ws.feed(Message::binary(vec![1u8; 1 << 20])))
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    assert!(matches!(fed, Poll::Ready(Ok(()))), "{fed:?}");
    (ws, timers)
}
