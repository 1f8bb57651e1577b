//! `fanout`: one publisher, `--conns` subscribers, and how fast and how
//! soon every message reaches all of them.
//!
//! The subscribers are spread over child processes (`fanout-sub`, this
//! binary again, at most `--per-process` connections each: a process may
//! hold only so many file descriptors), started one after the other, each
//! pinned where this process is. Once all are open the server's VmRSS is
//! read again, then this process connects as the publisher and sends
//! messages of `--size` bytes, each stamped with its sequence number and
//! its send time on `CLOCK_MONOTONIC` (`wsup_benches::fanout`):
//!
//! - `--latency-messages` messages one at a time: each is sent once the
//!   one before has reached every subscriber;
//! - then `--messages` messages in windows of `--window`, all of a window
//!   in one write, with [`IN_FLIGHT`] windows on their way: the next window
//!   is sent once the last message of the window [`IN_FLIGHT`] before it
//!   has reached every subscriber, so that the server always has work
//!   while the subscribers read (one window at a time would measure the
//!   server and the load generator taking turns).
//!
//! `--settle` seconds after the last delivery, the subscribers still
//! connected, the server's VmRSS is read once more.
//!
//! A child answers `wait SEQ` on its stdin with `reached SEQ CPU` once
//! every one of its connections has received message SEQ (or a later one:
//! a skipped message is counted lost), and `report` with, per message, the
//! latest delivery's latency among its connections. Deliveries a second
//! are those of the windows over their time; the latency of a message is
//! its last delivery's time less its send time, over the one-at-a-time
//! messages (and, as "loaded", over the windowed ones).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use wsup_benches::fanout::{monotonic_ns, stamp, PUBLISHER, PUBLISHER_PATH, STAMP};

use super::burst::proc_status_kib;
use super::frames::{masked_frame, pattern};
use super::{conn::connect, own_cpu, process_cpu, Args};

mod subscriber;
mod wire;

pub use subscriber::subscribe;

/// The longest a whole run may take.
pub const BOUND: Duration = Duration::from_secs(10 * 60);
/// The longest a child may take to open its connections.
const OPEN_TIMEOUT: Duration = Duration::from_secs(180);
/// The longest a message may take to reach every subscriber.
const REACH_TIMEOUT: Duration = Duration::from_secs(60);
/// Between the last subscriber opened and the reading of the server's
/// memory: the server finishes its last handshakes.
const OPEN_SETTLE: Duration = Duration::from_millis(500);
/// Windows sent and not yet delivered to every subscriber, at most.
pub const IN_FLIGHT: usize = 4;

pub async fn fanout(args: &Args) -> Result<String, String> {
    let pid = args.server_pid.ok_or("`fanout` needs --server-pid")?;
    if args.size < STAMP {
        return Err(format!("--size must be at least {STAMP}"));
    }
    let total = args.latency_messages + args.messages;
    let rss_before = proc_status_kib(pid, "VmRSS")?;
    let mut children = Vec::new();
    let mut first = 0;
    while first < args.conns {
        let n = args.per_process.min(args.conns - first);
        let mut child = Subscribers::spawn(args, first, n, total)?;
        let line = child.line(OPEN_TIMEOUT)?;
        let opened = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["opened"].as_u64());
        if opened != Some(n as u64) {
            return Err(format!("a subscriber process said `{line}`"));
        }
        children.push(child);
        first += n;
    }
    tokio::time::sleep(OPEN_SETTLE).await;
    let rss_subscribed = proc_status_kib(pid, "VmRSS")?;

    let mut publisher = Publisher::connect(args).await?;
    let mut cpu = vec![0.0; children.len()];
    for _ in 0..args.latency_messages {
        let last = publisher.send(1).await?;
        ask(&mut children, last)?;
        answers(&mut children, last, &mut cpu)?;
    }
    let (cpu0, server0, started) = (cpu.clone(), process_cpu(pid), Instant::now());
    let mut left = args.messages;
    let mut in_flight = std::collections::VecDeque::new();
    while left > 0 {
        if in_flight.len() == IN_FLIGHT {
            let oldest = in_flight.pop_front().expect("IN_FLIGHT windows");
            answers(&mut children, oldest, &mut cpu)?;
        }
        let window = args.window.min(left);
        let last = publisher.send(window).await?;
        ask(&mut children, last)?;
        in_flight.push_back(last);
        left -= window;
    }
    while let Some(oldest) = in_flight.pop_front() {
        answers(&mut children, oldest, &mut cpu)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let server_cpu = match (server0, process_cpu(pid)) {
        (Some(a), Some(b)) => json!((b - a) / secs),
        _ => Value::Null,
    };
    let client_cpu = (cpu.iter().sum::<f64>() - cpu0.iter().sum::<f64>() + own_cpu()) / secs;
    let rss_after = proc_status_kib(pid, "VmRSS")?;
    let rss_peak = proc_status_kib(pid, "VmHWM")?;
    // With the subscribers still connected and idle: what the server gives
    // back of what the messages grew.
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let rss_settled = proc_status_kib(pid, "VmRSS")?;

    // Per message, the latest delivery among all the children's.
    let mut latest = vec![0u64; total];
    let mut lost = 0;
    for child in &mut children {
        child.send("report")?;
        let line = child.line(REACH_TIMEOUT)?;
        let v: Value =
            serde_json::from_str(&line).map_err(|e| format!("subscriber report: {e}"))?;
        lost += v["lost"].as_u64().unwrap_or(0);
        let worst = v["latency_ns"].as_array().ok_or("no latency_ns")?;
        for (l, w) in latest.iter_mut().zip(worst) {
            *l = (*l).max(w.as_u64().unwrap_or(0));
        }
    }
    let (one, loaded) = latest.split_at(args.latency_messages);
    let deliveries =
        (args.messages * args.conns) as u64 - lost.min((args.messages * args.conns) as u64);
    let out = json!({
        "subscribers": args.conns,
        "processes": children.len(),
        "size": args.size,
        "messages": args.messages,
        "window": args.window,
        "windows_in_flight": IN_FLIGHT,
        "latency_messages": args.latency_messages,
        "deliveries": deliveries,
        "lost": lost,
        "seconds": secs,
        "deliveries_per_sec": deliveries as f64 / secs,
        "latency_us": percentiles(one),
        "loaded_latency_us": percentiles(loaded),
        "rss_before_kib": rss_before,
        "rss_subscribed_kib": rss_subscribed,
        "rss_after_kib": rss_after,
        "rss_peak_kib": rss_peak,
        "rss_settled_kib": rss_settled,
        "settle_seconds": args.settle,
        "kib_per_subscriber": rss_subscribed.saturating_sub(rss_before) as f64 / args.conns as f64,
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
    });
    Ok(out.to_string())
}

/// Asks every child to say when message `seq` has reached all its
/// subscribers (each answers in the order asked).
fn ask(children: &mut [Subscribers], seq: u64) -> Result<(), String> {
    for child in children.iter_mut() {
        child.send(&format!("wait {seq}"))?;
    }
    Ok(())
}

/// Waits for every child's answer about message `seq`; keeps each child's
/// CPU seconds so far in `cpu`.
fn answers(children: &mut [Subscribers], seq: u64, cpu: &mut [f64]) -> Result<(), String> {
    for (child, cpu) in children.iter_mut().zip(cpu) {
        let line = child.line(REACH_TIMEOUT)?;
        let mut words = line.split_whitespace();
        let (Some("reached"), Some(got), Some(seconds)) =
            (words.next(), words.next(), words.next())
        else {
            return Err(format!("a subscriber process said `{line}`"));
        };
        if got.parse::<u64>() != Ok(seq) {
            return Err(format!(
                "waited for message {seq}, a subscriber said `{line}`"
            ));
        }
        *cpu = seconds.parse().unwrap_or(*cpu);
    }
    Ok(())
}

/// p50, p99 and max of `nanos`, in microseconds.
fn percentiles(nanos: &[u64]) -> Value {
    let mut sorted = nanos.to_vec();
    sorted.sort_unstable();
    let at = |p: f64| percentile(&sorted, p).map(|ns| ns / 1e3);
    json!({"p50": at(0.5), "p99": at(0.99), "max": at(1.0)})
}

/// The nearest-rank percentile `p` (0 to 1) of `sorted`; `None` if empty.
pub fn percentile(sorted: &[u64], p: f64) -> Option<f64> {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).map(|&x| x as f64)
}

/// The publisher's connection, and the number of the next message.
struct Publisher {
    stream: TcpStream,
    raw: bool,
    payload: Vec<u8>,
    next: u64,
}

impl Publisher {
    async fn connect(args: &Args) -> Result<Self, String> {
        let mut as_publisher = args.clone();
        as_publisher.path = PUBLISHER_PATH.to_owned();
        let (mut stream, _) = connect(&as_publisher, args.conns).await?;
        if args.raw {
            stream
                .write_all(&[PUBLISHER])
                .await
                .map_err(|e| format!("publisher: {e}"))?;
        }
        // Let the server take the publisher in before its first message.
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(Publisher {
            stream,
            raw: args.raw,
            payload: pattern(args.size),
            next: 0,
        })
    }

    /// Sends `n` messages in one write; returns the number of the last.
    async fn send(&mut self, n: usize) -> Result<u64, String> {
        let mut batch = Vec::with_capacity(n * (self.payload.len() + 14));
        let now = monotonic_ns();
        for _ in 0..n {
            stamp(&mut self.payload, self.next, now);
            self.next += 1;
            if self.raw {
                batch.extend_from_slice(&self.payload);
            } else {
                batch.extend(masked_frame(0x82, &self.payload));
            }
        }
        self.stream
            .write_all(&batch)
            .await
            .map_err(|e| format!("publisher write: {e}"))?;
        Ok(self.next - 1)
    }
}

/// A `fanout-sub` child: its stdin, and its stdout's lines. Killed and
/// reaped when dropped.
struct Subscribers {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Subscribers {
    /// Starts a child holding subscribers `first..first + n`.
    fn spawn(args: &Args, first: usize, n: usize, total: usize) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut command = Command::new(exe);
        command
            .arg("fanout-sub")
            .arg(args.addr.to_string())
            .args(["--conns", &n.to_string(), "--first", &first.to_string()])
            .args(["--size", &args.size.to_string()])
            .args(["--messages", &total.to_string()])
            .args(["--sources", &args.sources.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if args.raw {
            command.arg("--raw");
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start a subscriber process: {e}"))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Subscribers {
            child,
            stdin,
            lines,
        })
    }

    fn send(&mut self, command: &str) -> Result<(), String> {
        writeln!(self.stdin, "{command}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("a subscriber process is gone: {e}"))
    }

    /// Its next line. Blocks this thread: the publisher has nothing to do
    /// meanwhile.
    fn line(&mut self, timeout: Duration) -> Result<String, String> {
        self.lines.recv_timeout(timeout).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => {
                format!("a subscriber process did not answer within {timeout:?}")
            }
            mpsc::RecvTimeoutError::Disconnected => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                format!("a subscriber process exited ({status})")
            }
        })
    }
}

impl Drop for Subscribers {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
