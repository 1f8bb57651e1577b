//! `burst`: the memory a server keeps per connection once a burst of large
//! messages is over.
//!
//! Opens `--conns` connections and holds them, every one answering the
//! server's pings so that a keepalive does not end it. Then, `--wave`
//! connections at a time, each sends one binary message of `--size` bytes
//! in one frame and reads its whole echo (dropped in the kernel), then goes
//! idle. With `--deflate-fragment` the connections negotiate
//! permessage-deflate and each sends only the first frame of a compressed
//! message of `--size` bytes (RSV1 set, FIN clear), never the rest; a wave
//! is over when its connections have sent that frame and received nothing
//! for a moment, since the echo of an unfinished message has no end to wait
//! for.
//!
//! The server's VmRSS (`--server-pid`) is read before the connections, with
//! them all open and idle, and `--settle` seconds after the last wave; its
//! VmHWM then is the peak. `echoed_bytes` totals the payloads the server
//! sent back (for an unfinished compressed message, what it relayed of it,
//! compressed again).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use wsup_core::deflate::Deflater;

use super::{client_frame, connect_all, discard, masked_frame, pattern, Args, Shared};

/// The longest a whole run may take.
pub const BOUND: Duration = Duration::from_secs(15 * 60);
/// The longest one wave may take.
const WAVE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a connection of a compressed wave must have received nothing,
/// once its frame is sent, for its echo to count as over.
const QUIET: Duration = Duration::from_millis(200);
/// Between the last connection opened and the idle reading: the server
/// finishes its last handshakes.
const OPEN_SETTLE: Duration = Duration::from_millis(500);

/// A frame to send, and whether it is the burst's message (the rest are
/// pongs).
type Out = (Rc<Vec<u8>>, bool);

/// One held connection, as the waves see it.
pub struct Conn {
    /// Frames for its writer task.
    out: mpsc::UnboundedSender<Out>,
    /// When the burst's frame was all written.
    sent: Cell<Option<Instant>>,
    /// Its whole echo has been read (whole messages only).
    echoed: Cell<bool>,
    /// When its reader last received anything.
    last_read: Cell<Instant>,
    /// Payload bytes of the data frames received.
    echoed_bytes: Cell<u64>,
    /// Its reader and writer tasks.
    tasks: RefCell<Vec<AbortHandle>>,
}

impl Conn {
    /// Sends `frame` as the burst's (or the held pattern's).
    pub fn send(&self, frame: &Rc<Vec<u8>>) {
        let _ = self.out.send((Rc::clone(frame), true));
    }

    /// Closes the connection: its tasks end, dropping the socket.
    pub fn close(&self) {
        for task in self.tasks.borrow_mut().drain(..) {
            task.abort();
        }
    }

    /// Its part of the wave is over.
    pub fn done(&self, compressed: bool) -> bool {
        if !compressed {
            return self.echoed.get();
        }
        self.sent
            .get()
            .is_some_and(|sent| sent.max(self.last_read.get()).elapsed() >= QUIET)
    }
}

pub async fn burst(args: &Args) -> Result<String, String> {
    let pid = args.server_pid.ok_or("`burst` needs --server-pid")?;
    if args.raw {
        return Err("`burst` needs a WebSocket server, not --raw".to_owned());
    }
    let frame = Rc::new(if args.deflate {
        compressed_first_frame(args.size)
    } else {
        client_frame(args.size)
    });
    let expected = (!args.deflate).then_some(args.size);
    let shared = Rc::new(Shared::default());

    let rss_start = proc_status_kib(pid, "VmRSS")?;
    let mut conns = Vec::with_capacity(args.conns);
    for (stream, leftover) in connect_all(args).await? {
        conns.push(hold(stream, leftover, expected, &shared));
    }
    tokio::time::sleep(OPEN_SETTLE).await;
    check(&shared)?;
    let rss_idle = proc_status_kib(pid, "VmRSS")?;

    let started = Instant::now();
    for wave in conns.chunks(args.wave) {
        for conn in wave {
            conn.send(&frame);
        }
        wave_over(&shared, || wave.iter().all(|c| c.done(args.deflate))).await?;
    }
    let burst_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    check(&shared)?;
    let rss_after = proc_status_kib(pid, "VmRSS")?;
    let rss_peak = proc_status_kib(pid, "VmHWM")?;
    let echoed: u64 = conns.iter().map(|c| c.echoed_bytes.get()).sum();

    let n = args.conns as f64;
    let per_conn = |from: u64, to: u64| (to as f64 - from as f64) / n;
    Ok(format!(
        "{{\"mode\":\"{}\",\"conns\":{},\"size\":{},\"frame_bytes\":{},\"wave\":{},\
         \"rss_start_kib\":{rss_start},\"rss_idle_kib\":{rss_idle},\
         \"rss_after_kib\":{rss_after},\"rss_peak_kib\":{rss_peak},\
         \"idle_per_conn_kib\":{:.2},\"per_conn_after_kib\":{:.2},\
         \"echoed_bytes\":{echoed},\"burst_seconds\":{burst_secs:.3}}}",
        if args.deflate {
            "deflate_fragment"
        } else {
            "message"
        },
        args.conns,
        args.size,
        frame.len(),
        args.wave,
        per_conn(rss_start, rss_idle),
        per_conn(rss_idle, rss_after),
    ))
}

/// Waits until `done` says a wave is over, looking every 5 ms; an error if
/// a connection failed, or if the wave takes more than `WAVE_TIMEOUT`.
pub async fn wave_over(shared: &Shared, done: impl Fn() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + WAVE_TIMEOUT;
    while !done() {
        check(shared)?;
        if Instant::now() >= deadline {
            return Err(format!("a wave did not finish within {WAVE_TIMEOUT:?}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

pub fn check(shared: &Shared) -> Result<(), String> {
    match shared.error.borrow().clone() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The first frame of a compressed binary message of `size` bytes (RSV1
/// set, FIN clear): the whole message compressed with a sync flush, as a
/// client sends a piece it will follow with more. The pattern repeats every
/// 251 bytes, so it inflates to about a hundred times its length.
pub fn compressed_first_frame(size: usize) -> Vec<u8> {
    let mut payload = BytesMut::new();
    Deflater::new(6, 15, false).compress_part(&pattern(size), false, &mut payload);
    masked_frame(0x42, &payload)
}

/// Starts the reader and writer tasks of a connection.
pub fn hold(
    stream: tokio::net::TcpStream,
    leftover: Vec<u8>,
    expected: Option<usize>,
    shared: &Rc<Shared>,
) -> Rc<Conn> {
    let (read_half, write_half) = stream.into_split();
    let (out, queue) = mpsc::unbounded_channel();
    let conn = Rc::new(Conn {
        out,
        sent: Cell::new(None),
        echoed: Cell::new(false),
        last_read: Cell::new(Instant::now()),
        echoed_bytes: Cell::new(0),
        tasks: RefCell::new(Vec::new()),
    });
    let frames = Frames {
        stream: read_half,
        buf: leftover,
    };
    let (c, s) = (Rc::clone(&conn), Rc::clone(shared));
    let reader = tokio::task::spawn_local(async move {
        if let Err(e) = read_frames(frames, &c, expected).await {
            s.fail(e);
        }
    });
    let (c, s) = (Rc::clone(&conn), Rc::clone(shared));
    let writer = tokio::task::spawn_local(async move {
        if let Err(e) = write_frames(write_half, queue, &c).await {
            s.fail(e);
        }
    });
    conn.tasks
        .borrow_mut()
        .extend([reader.abort_handle(), writer.abort_handle()]);
    conn
}

async fn write_frames(
    mut stream: OwnedWriteHalf,
    mut queue: mpsc::UnboundedReceiver<Out>,
    conn: &Conn,
) -> Result<(), String> {
    while let Some((frame, is_burst)) = queue.recv().await {
        stream
            .write_all(&frame)
            .await
            .map_err(|e| format!("write: {e}"))?;
        if is_burst {
            conn.sent.set(Some(Instant::now()));
        }
    }
    Ok(())
}

/// Answers pings, and counts the echo of the burst's message against
/// `expected` (a compressed echo is only drained).
async fn read_frames(
    mut frames: Frames,
    conn: &Conn,
    expected: Option<usize>,
) -> Result<(), String> {
    // Payload bytes of the echo so far.
    let mut seen = 0usize;
    loop {
        match frames.next(conn).await? {
            Frame::Control {
                opcode: 0x9,
                payload,
            } => {
                let _ = conn
                    .out
                    .send((Rc::new(masked_frame(0x8a, &payload)), false));
            }
            Frame::Control {
                opcode: 0x8,
                payload,
            } => {
                let code = payload
                    .get(..2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]).to_string());
                return Err(format!(
                    "the server closed a connection (code {})",
                    code.as_deref().unwrap_or("none")
                ));
            }
            Frame::Control { .. } => {}
            Frame::Data { first, len } => {
                conn.echoed_bytes.set(conn.echoed_bytes.get() + len as u64);
                let Some(expected) = expected else { continue };
                if first & 0x70 != 0 {
                    return Err(format!("unexpected first byte {first:#04x}"));
                }
                seen = seen.saturating_add(len);
                let fin = first & 0x80 != 0;
                if seen > expected || (fin && seen != expected) {
                    return Err(format!("echoed message has {seen} bytes, sent {expected}"));
                }
                if fin {
                    conn.echoed.set(true);
                    seen = 0;
                }
            }
        }
    }
}

/// Frames from the server.
enum Frame {
    Control {
        opcode: u8,
        payload: Vec<u8>,
    },
    /// A data frame, its payload dropped unseen.
    Data {
        first: u8,
        len: usize,
    },
}

/// Reads frames from the server: headers and control payloads byte-exact,
/// data payloads dropped in the kernel.
struct Frames {
    stream: OwnedReadHalf,
    /// Bytes read and not yet handed out: the rest of the handshake's read,
    /// then part of a header or of a control payload.
    buf: Vec<u8>,
}

impl Frames {
    async fn next(&mut self, conn: &Conn) -> Result<Frame, String> {
        self.fill(2, conn).await?;
        let (first, second) = (self.buf[0], self.buf[1]);
        if second & 0x80 != 0 {
            return Err("a frame from the server is masked".to_owned());
        }
        let ext = match second & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        self.fill(2 + ext, conn).await?;
        let len = match ext {
            0 => usize::from(second & 0x7f),
            2 => usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])),
            _ => {
                let len = u64::from_be_bytes(self.buf[2..10].try_into().expect("8 bytes"));
                usize::try_from(len).map_err(|_| format!("a frame of {len} bytes"))?
            }
        };
        self.buf.drain(..2 + ext);
        if first & 0x08 != 0 {
            if len > 125 {
                return Err(format!("a control frame of {len} bytes"));
            }
            self.fill(len, conn).await?;
            let payload = self.buf.drain(..len).collect();
            return Ok(Frame::Control {
                opcode: first & 0x0f,
                payload,
            });
        }
        let buffered = len.min(self.buf.len());
        self.buf.drain(..buffered);
        let mut left = len - buffered;
        while left > 0 {
            match discard(&self.stream, left).await {
                Ok(0) => return Err("the server closed a connection".to_owned()),
                Ok(n) => left -= n,
                Err(e) => return Err(format!("read: {e}")),
            }
            conn.last_read.set(Instant::now());
        }
        Ok(Frame::Data { first, len })
    }

    /// Reads until `buf` holds `n` bytes (at most 125), no further: what
    /// follows a header may be a payload to drop in the kernel.
    async fn fill(&mut self, n: usize, conn: &Conn) -> Result<(), String> {
        let mut chunk = [0u8; 128];
        while self.buf.len() < n {
            let want = n - self.buf.len();
            let got = self
                .stream
                .read(&mut chunk[..want])
                .await
                .map_err(|e| format!("read: {e}"))?;
            if got == 0 {
                return Err("the server closed a connection".to_owned());
            }
            conn.last_read.set(Instant::now());
            self.buf.extend_from_slice(&chunk[..got]);
        }
        Ok(())
    }
}

/// Field `key` of `/proc/PID/status`, in KiB.
pub fn proc_status_kib(pid: u32, key: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read the status of process {pid}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no {key} for process {pid}"))
}

#[cfg(test)]
mod tests;
