//! `throughput`: `--conns` connections, each keeping `--window` messages in
//! flight, a reader and a writer task each.

use std::cell::{Cell, RefCell};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadHalf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::conn::{connect_stream, Stream};
use super::frames::{client_frame, Parser};
use super::{own_cpu, process_cpu, Args, DISCARD_MIN, READ_BUFFER};

#[derive(Debug, Default)]
pub struct Shared {
    pub messages: Cell<u64>,
    /// Messages written so far (`messages` of them echoed).
    pub sent: Cell<u64>,
    pub error: RefCell<Option<String>>,
}

impl Shared {
    pub fn fail(&self, message: String) {
        self.error.borrow_mut().get_or_insert(message);
    }
}

pub async fn throughput(args: &Args) -> Result<String, String> {
    let shared = open(args, None).await?;
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let (m0, c0, s0, t0) = (
        shared.messages.get(),
        own_cpu(),
        args.server_pid.and_then(process_cpu),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    let (m1, c1, s1, secs) = (
        shared.messages.get(),
        own_cpu(),
        args.server_pid.and_then(process_cpu),
        t0.elapsed().as_secs_f64(),
    );
    if let Some(error) = shared.error.borrow().clone() {
        return Err(error);
    }
    let messages = m1 - m0;
    if messages == 0 {
        return Err("no message echoed in the measurement window".to_owned());
    }
    let server_cpu = match (s0, s1) {
        (Some(a), Some(b)) => format!("{:.4}", (b - a) / secs),
        _ => "null".to_owned(),
    };
    Ok(format!(
        "{{\"messages\":{messages},\"seconds\":{secs:.6},\"msgs_per_sec\":{:.3},\
         \"mb_per_sec\":{:.6},\"client_cpu\":{:.4},\"server_cpu\":{server_cpu},\
         \"total_messages\":{m1}}}",
        messages as f64 / secs,
        (messages * args.size as u64) as f64 / secs / 1e6,
        (c1 - c0) / secs,
    ))
}

/// Opens `--conns` connections to `args.addr` and starts each one's
/// reader and writer, which take turns with other groups' under `gate`
/// where one is given (see `interleave.rs`); their count of echoed
/// messages.
pub async fn open(args: &Args, gate: Option<Turn>) -> Result<Rc<Shared>, String> {
    let frame = client_frame(args.size);
    let batch: Rc<Vec<u8>> = Rc::new(frame.repeat(args.window));
    let shared = Rc::new(Shared::default());
    let mut streams = Vec::with_capacity(args.conns);
    for i in 0..args.conns {
        streams.push(connect_stream(args, i).await?);
    }
    for (stream, leftover) in streams {
        let pair = Pair {
            leftover,
            parser: Parser::new(args.size, args.raw),
            shared: Rc::clone(&shared),
            batch: Rc::clone(&batch),
            frame_len: frame.len(),
            window: args.window,
            gate: gate.clone(),
        };
        match stream {
            Stream::Tcp(stream) => {
                let (read_half, write_half) = stream.into_split();
                pair.spawn(read_half, write_half);
            }
            Stream::Tls(stream) => {
                let (read_half, write_half) = tokio::io::split(*stream);
                pair.spawn(read_half, write_half);
            }
        }
    }
    Ok(shared)
}

/// Which of several groups of connections may send: the others' writers
/// wait for their turn (a batch in flight still comes back).
#[derive(Debug, Default)]
pub struct Gate {
    turn: Cell<usize>,
    changed: Notify,
}

impl Gate {
    /// Gives the turn to group `group`.
    pub fn give(&self, group: usize) {
        self.turn.set(group);
        self.changed.notify_waiters();
    }
}

/// A group's place under a [`Gate`].
#[derive(Debug, Clone)]
pub struct Turn {
    pub gate: Rc<Gate>,
    pub group: usize,
}

impl Turn {
    /// Returns once it is this group's turn.
    async fn wait(&self) {
        while self.gate.turn.get() != self.group {
            // The runtime is single-threaded: nothing can give the turn
            // between the check and the wait's registration.
            self.gate.changed.notified().await;
        }
    }
}

/// A connection's reader and writer, before they are spawned.
struct Pair {
    leftover: Vec<u8>,
    parser: Parser,
    shared: Rc<Shared>,
    batch: Rc<Vec<u8>>,
    frame_len: usize,
    window: usize,
    gate: Option<Turn>,
}

impl Pair {
    fn spawn<R, W>(self, read_half: R, write_half: W)
    where
        R: Discard + 'static,
        W: AsyncWrite + Unpin + 'static,
    {
        let credit = Rc::new(Cell::new(0usize));
        let notify = Rc::new(Notify::new());
        tokio::task::spawn_local(reader(
            read_half,
            self.leftover,
            self.parser,
            Rc::clone(&self.shared),
            Rc::clone(&credit),
            Rc::clone(&notify),
        ));
        tokio::task::spawn_local(writer(
            write_half,
            self.batch,
            self.frame_len,
            self.window,
            self.shared,
            Credit {
                count: credit,
                notify,
                gate: self.gate,
            },
        ));
    }
}

/// A read side that can skip bytes it need not look at.
pub trait Discard: AsyncRead + Unpin {
    /// Receives and drops up to `max` bytes (`scratch`: room to read them
    /// into, where they must be read).
    async fn discard(&mut self, max: usize, scratch: &mut [u8]) -> std::io::Result<usize>;
}

impl Discard for tokio::net::tcp::OwnedReadHalf {
    async fn discard(&mut self, max: usize, _scratch: &mut [u8]) -> std::io::Result<usize> {
        discard(self, max).await
    }
}

/// Over TLS every byte is decrypted, so read into the scratch.
impl<T: AsyncRead + Unpin> Discard for ReadHalf<T> {
    async fn discard(&mut self, max: usize, scratch: &mut [u8]) -> std::io::Result<usize> {
        let n = max.min(scratch.len());
        self.read(&mut scratch[..n]).await
    }
}

async fn reader<R: Discard>(
    mut stream: R,
    leftover: Vec<u8>,
    mut parser: Parser,
    shared: Rc<Shared>,
    credit: Rc<Cell<usize>>,
    notify: Rc<Notify>,
) {
    let mut buf = vec![0u8; READ_BUFFER.max(leftover.len() + 14)];
    let mut scratch = Vec::new();
    if parser.expected >= DISCARD_MIN {
        scratch.resize(READ_BUFFER, 0);
    }
    buf[..leftover.len()].copy_from_slice(&leftover);
    let mut filled = leftover.len();
    let completed = |done: u64| {
        if done > 0 {
            shared.messages.set(shared.messages.get() + done);
            credit.set(credit.get() + done as usize);
            notify.notify_one();
        }
    };
    loop {
        let (used, done) = match parser.feed(&buf[..filled]) {
            Ok(r) => r,
            Err(e) => return shared.fail(e),
        };
        // Keep the partial header, at most 13 bytes, at the front.
        buf.copy_within(used..filled, 0);
        filled -= used;
        completed(done);
        let large = parser.expected >= DISCARD_MIN;
        if large && filled == 0 && parser.remaining > 0 {
            // Inside a large payload: its bytes need no look, only counting.
            match stream.discard(parser.remaining, &mut scratch).await {
                Ok(0) => return shared.fail("server closed a connection".to_owned()),
                Ok(n) => completed(parser.skip(n)),
                Err(e) => return shared.fail(format!("read: {e}")),
            }
            continue;
        }
        // With large messages, read little more than the next header: the
        // payload behind it is then discarded, all of it (a read here only
        // ever starts at a header, never in a payload's tail).
        let end = if large { filled + 64 } else { buf.len() };
        match stream.read(&mut buf[filled..end]).await {
            Ok(0) => return shared.fail("server closed a connection".to_owned()),
            Ok(n) => filled += n,
            Err(e) => return shared.fail(format!("read: {e}")),
        }
    }
}

/// Receives and drops up to `max` bytes without copying them out: with
/// `MSG_TRUNC`, Linux's TCP discards the data in the kernel (tcp(7)). For
/// large messages this saves the load generator its copy of every echoed
/// payload byte, which otherwise made it as busy as the raw TCP echo it
/// measures, so that it, not the server, set the ceiling.
pub async fn discard(
    stream: &tokio::net::tcp::OwnedReadHalf,
    max: usize,
) -> std::io::Result<usize> {
    let stream: &TcpStream = stream.as_ref();
    // `async_io` waits for readiness and retries on `WouldBlock`.
    stream
        .async_io(Interest::READABLE, || {
            // SAFETY: with MSG_TRUNC and a null buffer the kernel writes
            // nothing to user memory; the descriptor is the live socket
            // `stream` owns, borrowed for the call.
            let n = unsafe {
                libc::recv(
                    stream.as_raw_fd(),
                    std::ptr::null_mut(),
                    max,
                    libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        })
        .await
}

/// A writer's echoes to send again, the signal that more came back, and
/// its group's turn, if it takes turns.
struct Credit {
    count: Rc<Cell<usize>>,
    notify: Rc<Notify>,
    gate: Option<Turn>,
}

async fn writer<W: AsyncWrite + Unpin>(
    mut stream: W,
    batch: Rc<Vec<u8>>,
    frame_len: usize,
    window: usize,
    shared: Rc<Shared>,
    credit: Credit,
) {
    let mut to_send = window;
    loop {
        if let Some(turn) = &credit.gate {
            turn.wait().await;
        }
        while to_send > 0 {
            let n = to_send.min(window);
            // Counted before the write, which may wait: until they are
            // echoed, these are in flight.
            shared.sent.set(shared.sent.get() + n as u64);
            if let Err(e) = stream.write_all(&batch[..n * frame_len]).await {
                return shared.fail(format!("write: {e}"));
            }
            to_send -= n;
        }
        credit.notify.notified().await;
        to_send = credit.count.replace(0);
    }
}
