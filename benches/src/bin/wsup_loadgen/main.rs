//! The load generator of `cargo xtask bench`.
//!
//! One tokio current-thread runtime (pinned with `--cpu`), one reader and one
//! writer task per connection. It does the WebSocket handshake itself, sends
//! precomputed masked binary frames, keeps `--window` messages in flight per
//! connection, and checks the header and length of every echoed frame. Large
//! echoed payloads are counted and dropped in the kernel, not copied out. The
//! raw TCP ceiling gets the same bytes with no handshake, and echoes them
//! still masked, which the parser accepts in `--raw` mode.
//!
//! ```text
//! wsup_loadgen throughput ADDR --size N --conns M --window W --warmup S --duration S [--raw] [--server-pid P] [--cpu C]
//! wsup_loadgen latency    ADDR --size N --warmup S --duration S [--raw] [--server-pid P] [--cpu C]
//! wsup_loadgen idle       ADDR --conns M [--raw] [--sources K] [--cpu C]
//! wsup_loadgen burst      ADDR --conns M --size N --wave W --server-pid P [--deflate-fragment] [--settle S] [--sources K] [--cpu C]
//! ```
//!
//! `throughput`, `latency` and `burst` print one JSON object on stdout.
//! `idle` opens the connections, prints `{"opened":M}`, and holds them until
//! stdin ends. `burst` measures the server's memory after a burst of large
//! messages (see `burst.rs`).
//! Connections are bound to source addresses 127.0.0.2, .3, ... (`--sources`,
//! default 8) so that many of them do not exhaust one address's ports.

use std::cell::{Cell, RefCell};
use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Notify;

mod burst;

const READ_BUFFER: usize = 256 * 1024;
/// Echoed payloads of at least this many bytes are discarded in the kernel
/// instead of copied out (see `discard`).
const DISCARD_MIN: usize = 16 * 1024;
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// The `Sec-WebSocket-Accept` for `KEY` (RFC 6455 §1.3).
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

#[derive(Debug, Clone)]
struct Args {
    command: String,
    addr: SocketAddr,
    size: usize,
    conns: usize,
    window: usize,
    warmup: f64,
    duration: f64,
    raw: bool,
    server_pid: Option<u32>,
    cpu: Option<usize>,
    sources: u8,
    /// `burst`: connections sending at once.
    wave: usize,
    /// `burst`: offer permessage-deflate and leave a compressed message
    /// unfinished instead of sending a whole one.
    deflate: bool,
    /// `burst`: seconds between the last echo and the last reading.
    settle: f64,
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("wsup_loadgen: {message}");
            std::process::exit(2);
        }
    };
    if let Some(cpu) = args.cpu {
        pin_to(cpu);
    }
    raise_nofile_limit();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let local = tokio::task::LocalSet::new();
    let bound = if args.command == "burst" {
        burst::BOUND
    } else {
        Duration::from_secs_f64(args.warmup + args.duration + 120.0)
    };
    let result = local.block_on(&rt, async {
        match tokio::time::timeout(bound, run(&args)).await {
            Ok(result) => result,
            Err(_) => Err(format!("did not finish within {bound:?}")),
        }
    });
    match result {
        Ok(json) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{json}");
            let _ = out.flush();
        }
        Err(message) => {
            eprintln!("wsup_loadgen: {message}");
            std::process::exit(1);
        }
    }
}

async fn run(args: &Args) -> Result<String, String> {
    match args.command.as_str() {
        "throughput" => throughput(args).await,
        "latency" => latency(args).await,
        "idle" => idle(args).await,
        "burst" => burst::burst(args).await,
        other => Err(format!("unknown command `{other}`")),
    }
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or("no command")?;
    let addr = it
        .next()
        .ok_or("no address")?
        .parse()
        .map_err(|e| format!("address: {e}"))?;
    let mut args = Args {
        command,
        addr,
        size: 16,
        conns: 1,
        window: 1,
        warmup: 0.5,
        duration: 2.0,
        raw: false,
        server_pid: None,
        cpu: None,
        sources: 8,
        wave: 64,
        deflate: false,
        settle: 1.0,
    };
    while let Some(flag) = it.next() {
        if flag == "--raw" {
            args.raw = true;
            continue;
        }
        if flag == "--deflate-fragment" {
            args.deflate = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("`{flag} {value}`: {e}");
        match flag.as_str() {
            "--size" => args.size = value.parse().map_err(|e| bad(&e))?,
            "--conns" => args.conns = value.parse().map_err(|e| bad(&e))?,
            "--window" => args.window = value.parse().map_err(|e| bad(&e))?,
            "--warmup" => args.warmup = value.parse().map_err(|e| bad(&e))?,
            "--duration" => args.duration = value.parse().map_err(|e| bad(&e))?,
            "--server-pid" => args.server_pid = Some(value.parse().map_err(|e| bad(&e))?),
            "--cpu" => args.cpu = Some(value.parse().map_err(|e| bad(&e))?),
            "--sources" => args.sources = value.parse().map_err(|e| bad(&e))?,
            "--wave" => args.wave = value.parse().map_err(|e| bad(&e))?,
            "--settle" => args.settle = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown flag `{flag}`")),
        }
    }
    if args.conns == 0 || args.window == 0 || args.sources == 0 || args.wave == 0 {
        return Err("--conns, --window, --sources and --wave must be positive".to_owned());
    }
    Ok(args)
}

/// The payload of `size` bytes that every message carries.
fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// A masked binary frame of `size` payload bytes, as a client sends it.
fn client_frame(size: usize) -> Vec<u8> {
    masked_frame(0x82, &pattern(size))
}

/// A masked frame of `payload` whose first byte (FIN, RSV, opcode) is
/// `first`.
fn masked_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let size = payload.len();
    let mut frame = Vec::with_capacity(size + 14);
    frame.push(first);
    if size < 126 {
        frame.push(0x80 | size as u8);
    } else if size <= 0xffff {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(size as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(size as u64).to_be_bytes());
    }
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// Parses echoed frames and counts whole messages; checks each header.
/// An echo may come in fragments: a binary frame, then continuations, the
/// last with FIN, their payloads adding up to the size sent.
struct Parser {
    expected: usize,
    /// Echoes from the raw TCP server are still masked; from a WebSocket
    /// server they must not be.
    masked: bool,
    /// Payload bytes of the current frame not yet seen.
    remaining: usize,
    /// Payload bytes of the current message in the frames before this one.
    seen: usize,
    /// The current frame ends its message.
    fin: bool,
}

impl Parser {
    fn new(expected: usize, masked: bool) -> Self {
        Parser {
            expected,
            masked,
            remaining: 0,
            seen: 0,
            fin: true,
        }
    }

    /// The current frame's payload is all seen: 1 if that ended a message.
    fn frame_done(&mut self) -> u64 {
        if self.fin {
            self.seen = 0;
            1
        } else {
            0
        }
    }

    /// `n` payload bytes of the current frame went by unseen: messages completed.
    fn skip(&mut self, n: usize) -> u64 {
        debug_assert!(n <= self.remaining);
        self.remaining -= n;
        if self.remaining == 0 {
            self.frame_done()
        } else {
            0
        }
    }

    /// Consumes what it can of `buf`: `(bytes consumed, messages completed)`.
    /// What is left is a partial header, shorter than 14 bytes.
    fn feed(&mut self, buf: &[u8]) -> Result<(usize, u64), String> {
        let mut pos = 0;
        let mut done = 0;
        while pos < buf.len() {
            if self.remaining > 0 {
                let n = self.remaining.min(buf.len() - pos);
                pos += n;
                done += self.skip(n);
                continue;
            }
            let Some((header, len)) = self.header(&buf[pos..])? else {
                break;
            };
            pos += header;
            self.remaining = len;
            if len == 0 {
                done += self.frame_done();
            }
        }
        Ok((pos, done))
    }

    /// `(header length, payload length)`, or `None` if incomplete; takes
    /// the header in.
    fn header(&mut self, buf: &[u8]) -> Result<Option<(usize, usize)>, String> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let fin = buf[0] & 0x80 != 0;
        // Binary to start a message, continuation inside one; no RSV bits.
        let opcode = if self.fin { 0x2 } else { 0x0 };
        if buf[0] & 0x7f != opcode {
            return Err(format!("unexpected first byte {:#04x}", buf[0]));
        }
        if (buf[1] & 0x80 != 0) != self.masked {
            return Err("echoed frame has the wrong mask bit".to_owned());
        }
        let (ext, short) = match buf[1] & 0x7f {
            126 => (2, None),
            127 => (8, None),
            n => (0, Some(n as usize)),
        };
        let header = 2 + ext + if self.masked { 4 } else { 0 };
        if buf.len() < header {
            return Ok(None);
        }
        let len = match (short, ext) {
            (Some(n), _) => n,
            (None, 2) => u16::from_be_bytes([buf[2], buf[3]]) as usize,
            _ => u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes")) as usize,
        };
        let total = self.seen.saturating_add(len);
        if total > self.expected || (fin && total != self.expected) {
            return Err(format!(
                "echoed message has {total} bytes, sent {}",
                self.expected
            ));
        }
        self.seen = total;
        self.fin = fin;
        Ok(Some((header, len)))
    }
}

/// Connects from 127.0.0.(2 + index % sources) and, unless raw, upgrades,
/// offering permessage-deflate with `--deflate-fragment` (which the server
/// must accept). Returns the stream and any bytes read past the 101
/// response.
async fn connect(args: &Args, index: usize) -> Result<(TcpStream, Vec<u8>), String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    let source = Ipv4Addr::new(127, 0, 0, 2 + (index % args.sources as usize) as u8);
    socket
        .bind(SocketAddr::new(source.into(), 0))
        .map_err(|e| format!("bind {source}: {e}"))?;
    let mut stream = socket
        .connect(args.addr)
        .await
        .map_err(|e| format!("connect {} from {source}: {e}", args.addr))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    if args.raw {
        return Ok((stream, Vec::new()));
    }
    let offer = if args.deflate {
        "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    } else {
        ""
    };
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n",
        args.addr
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("handshake write: {e}"))?;
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    let end = loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("handshake read: {e}"))?;
        if n == 0 {
            return Err("connection closed during the handshake".to_owned());
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 16 * 1024 {
            return Err("handshake response too long".to_owned());
        }
    };
    let text = String::from_utf8_lossy(&head[..end]);
    if !text.starts_with("HTTP/1.1 101") || !text.contains(ACCEPT) {
        return Err(format!("handshake refused: {}", text.trim_end()));
    }
    let deflate_accepted = text.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("sec-websocket-extensions:") && line.contains("permessage-deflate")
    });
    if args.deflate && !deflate_accepted {
        return Err("the server did not accept permessage-deflate".to_owned());
    }
    Ok((stream, head[end..].to_vec()))
}

#[derive(Debug, Default)]
struct Shared {
    messages: Cell<u64>,
    error: RefCell<Option<String>>,
}

impl Shared {
    fn fail(&self, message: String) {
        self.error.borrow_mut().get_or_insert(message);
    }
}

/// CPU seconds (user + system) used by this process.
fn own_cpu() -> f64 {
    // SAFETY: `getrusage` fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// CPU seconds used by another process, from `/proc/PID/stat`.
fn process_cpu(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) of stat(5), counted after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: `sysconf` has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}

fn pin_to(cpu: usize) {
    // SAFETY: the set is zeroed then filled by the libc macros; the call only
    // reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) != 0 {
            eprintln!(
                "wsup_loadgen: cannot pin to cpu {cpu}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

fn raise_nofile_limit() {
    // SAFETY: get then set this process's own limit through valid pointers.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

async fn throughput(args: &Args) -> Result<String, String> {
    let frame = client_frame(args.size);
    let batch: Rc<Vec<u8>> = Rc::new(frame.repeat(args.window));
    let shared = Rc::new(Shared::default());
    let mut streams = Vec::with_capacity(args.conns);
    for i in 0..args.conns {
        streams.push(connect(args, i).await?);
    }
    for (stream, leftover) in streams {
        let (read_half, write_half) = stream.into_split();
        let credit = Rc::new(Cell::new(0usize));
        let notify = Rc::new(Notify::new());
        tokio::task::spawn_local(reader(
            read_half,
            leftover,
            Parser::new(args.size, args.raw),
            Rc::clone(&shared),
            Rc::clone(&credit),
            Rc::clone(&notify),
        ));
        tokio::task::spawn_local(writer(
            write_half,
            Rc::clone(&batch),
            frame.len(),
            args.window,
            Rc::clone(&shared),
            credit,
            notify,
        ));
    }
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

async fn reader(
    mut stream: tokio::net::tcp::OwnedReadHalf,
    leftover: Vec<u8>,
    mut parser: Parser,
    shared: Rc<Shared>,
    credit: Rc<Cell<usize>>,
    notify: Rc<Notify>,
) {
    let mut buf = vec![0u8; READ_BUFFER.max(leftover.len() + 14)];
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
            match discard(&stream, parser.remaining).await {
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
async fn discard(stream: &tokio::net::tcp::OwnedReadHalf, max: usize) -> std::io::Result<usize> {
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

async fn writer(
    mut stream: tokio::net::tcp::OwnedWriteHalf,
    batch: Rc<Vec<u8>>,
    frame_len: usize,
    window: usize,
    shared: Rc<Shared>,
    credit: Rc<Cell<usize>>,
    notify: Rc<Notify>,
) {
    let mut to_send = window;
    loop {
        while to_send > 0 {
            let n = to_send.min(window);
            if let Err(e) = stream.write_all(&batch[..n * frame_len]).await {
                return shared.fail(format!("write: {e}"));
            }
            to_send -= n;
        }
        notify.notified().await;
        to_send = credit.replace(0);
    }
}

async fn latency(args: &Args) -> Result<String, String> {
    let frame = client_frame(args.size);
    let (mut stream, leftover) = connect(args, 0).await?;
    if !leftover.is_empty() {
        return Err("unexpected bytes after the handshake".to_owned());
    }
    let mut parser = Parser::new(args.size, args.raw);
    let mut buf = vec![0u8; READ_BUFFER];
    let mut samples = Vec::with_capacity(1 << 20);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let end = measure_from + Duration::from_secs_f64(args.duration);
    let (mut c0, mut s0) = (None, None);
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        if sent >= measure_from && c0.is_none() {
            c0 = Some(own_cpu());
            s0 = args.server_pid.and_then(process_cpu);
        }
        stream
            .write_all(&frame)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut filled = 0;
        loop {
            let n = stream
                .read(&mut buf[filled..])
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("server closed the connection".to_owned());
            }
            filled += n;
            let (used, done) = parser.feed(&buf[..filled])?;
            buf.copy_within(used..filled, 0);
            filled -= used;
            if done > 0 {
                if done > 1 || filled > 0 {
                    return Err("more echoed than sent".to_owned());
                }
                break;
            }
        }
        if sent >= measure_from {
            samples.push(sent.elapsed().as_nanos() as u64);
        }
    }
    let secs = end.duration_since(measure_from).as_secs_f64();
    if samples.is_empty() {
        return Err("no round trip in the measurement window".to_owned());
    }
    let client_cpu = (own_cpu() - c0.unwrap_or(0.0)) / secs;
    let server_cpu = match (s0, args.server_pid.and_then(process_cpu)) {
        (Some(a), Some(b)) => format!("{:.4}", (b - a) / secs),
        _ => "null".to_owned(),
    };
    samples.sort_unstable();
    let pct = |p: f64| {
        let i = ((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i] as f64 / 1e3
    };
    Ok(format!(
        "{{\"round_trips\":{},\"p50_us\":{:.3},\"p99_us\":{:.3},\"p999_us\":{:.3},\
         \"max_us\":{:.3},\"client_cpu\":{client_cpu:.4},\"server_cpu\":{server_cpu}}}",
        samples.len(),
        pct(0.5),
        pct(0.99),
        pct(0.999),
        pct(1.0),
    ))
}

/// Opens `--conns` connections, a wave of them at a time, so that the
/// server's accept backlog never overflows.
async fn connect_all(args: &Args) -> Result<Vec<(TcpStream, Vec<u8>)>, String> {
    const WAVE: usize = 128;
    let mut opened = Vec::with_capacity(args.conns);
    let mut index = 0;
    while index < args.conns {
        let wave = WAVE.min(args.conns - index);
        let mut tasks = Vec::with_capacity(wave);
        for i in index..index + wave {
            let args = args.clone();
            tasks.push(tokio::task::spawn_local(
                async move { connect(&args, i).await },
            ));
        }
        for task in tasks {
            opened.push(task.await.map_err(|e| e.to_string())??);
        }
        index += wave;
    }
    Ok(opened)
}

async fn idle(args: &Args) -> Result<String, String> {
    let held: Vec<TcpStream> = connect_all(args)
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    println!("{{\"opened\":{}}}", held.len());
    let _ = std::io::stdout().flush();
    // Hold the connections until the harness closes stdin.
    tokio::task::spawn_blocking(
        || {
            for _ in std::io::stdin().lock().lines().map_while(Result::ok) {}
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    drop(held);
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_frame(size: usize) -> Vec<u8> {
        let mut frame = client_frame(size);
        // Unmask: clear the mask bit, drop the key, restore the payload.
        let header = frame.len() - size - 4;
        frame[1] &= 0x7f;
        let payload: Vec<u8> = frame[header + 4..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ MASK[i % 4])
            .collect();
        frame.truncate(header);
        frame.extend(payload);
        frame
    }

    /// Feeds `stream` to `parser` in reads of `split` bytes, keeping what it
    /// leaves for the next read: `(messages completed, bytes left over)`.
    fn feed_in_reads(mut parser: Parser, stream: &[u8], split: usize) -> (u64, usize) {
        let (mut pending, mut done) = (Vec::new(), 0);
        for chunk in stream.chunks(split) {
            pending.extend_from_slice(chunk);
            let (used, n) = parser.feed(&pending).unwrap();
            pending.drain(..used);
            done += n;
        }
        (done, pending.len())
    }

    #[test]
    fn every_header_length_is_parsed_across_any_split() {
        for size in [0, 16, 125, 126, 1024, 65535, 65536, 1 << 20] {
            for masked in [false, true] {
                let one = if masked {
                    client_frame(size)
                } else {
                    server_frame(size)
                };
                let stream = one.repeat(3);
                for split in [1, 2, 3, 7, 13, 4096] {
                    let got = feed_in_reads(Parser::new(size, masked), &stream, split);
                    assert_eq!(got, (3, 0), "size {size} split {split}");
                }
            }
        }
    }

    /// A server frame of `payload`: `first` a binary frame, else a continuation.
    fn fragment(payload: &[u8], first: bool, fin: bool) -> Vec<u8> {
        let mut frame = server_frame(payload.len());
        frame[0] = u8::from(fin) << 7 | u8::from(first) << 1;
        let header = frame.len() - payload.len();
        frame[header..].copy_from_slice(payload);
        frame
    }

    #[test]
    fn a_fragmented_echo_is_one_message_across_any_split() {
        let size = 70_000;
        let payload = vec![7u8; size];
        let mut one = fragment(&payload[..100], true, false);
        one.extend(fragment(&payload[100..100], false, false));
        one.extend(fragment(&payload[100..66_000], false, false));
        one.extend(fragment(&payload[66_000..], false, true));
        // A whole one between fragmented ones.
        let mut stream = one.clone();
        stream.extend(server_frame(size));
        stream.extend(&one);
        for split in [1, 5, 13, 4096, 1 << 20] {
            let got = feed_in_reads(Parser::new(size, false), &stream, split);
            assert_eq!(got, (3, 0), "split {split}");
        }
    }

    #[test]
    fn fragments_that_do_not_add_up_or_interleave_are_errors() {
        let payload = [1u8; 32];
        let mut short = fragment(&payload[..10], true, false);
        short.extend(fragment(&payload[10..20], false, true));
        assert!(Parser::new(32, false).feed(&short).is_err());
        let mut long = fragment(&payload[..20], true, false);
        long.extend(fragment(&payload[..20], false, false));
        assert!(Parser::new(32, false).feed(&long).is_err());
        // A new binary frame where a continuation belongs.
        let mut restart = fragment(&payload[..10], true, false);
        restart.extend(fragment(&payload[10..], true, true));
        assert!(Parser::new(32, false).feed(&restart).is_err());
        // A continuation with no message begun.
        assert!(Parser::new(32, false)
            .feed(&fragment(&payload, false, true))
            .is_err());
    }

    #[test]
    fn a_wrong_length_is_an_error() {
        let mut parser = Parser::new(17, false);
        assert!(parser.feed(&server_frame(16)).is_err());
    }
}
