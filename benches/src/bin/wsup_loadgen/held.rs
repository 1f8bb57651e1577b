//! `held`: the memory a hostile peer makes the server hold, every
//! connection at once.
//!
//! Opens `--conns` connections; then, `--wave` at a time, each one leaves
//! the server holding what `--pattern` makes it hold with messages of up
//! to `--size` bytes (the server's message limit), and stays open:
//!
//! - `frame`: a binary frame of `--size` bytes, sent all but its last byte
//!   (the read buffer grown, a frame in progress);
//! - `fragments`: a binary message of `--size` bytes in frames of
//!   [`FRAGMENT`] bytes, sent all but its last frame (a message gathered);
//! - `deflate`: permessage-deflate negotiated, the first frame of a
//!   compressed message that inflates to `--size` bytes, never the rest
//!   (the inflater and the partial message);
//! - `pings`: pings of 125 bytes sent as fast as the server takes them,
//!   nothing read (the pongs queued until the server stops reading);
//! - `fragments-pings`, `deflate-pings`: that pattern, then `pings`'
//!   flood.
//!
//! A wave is over when its connections have sent their pattern and, for
//! 200 ms, received nothing (`frame`: the echo of what was sent) and
//! written nothing more (the floods: the server stopped reading). The
//! server's VmRSS (`--server-pid`) is read before the connections, with
//! them all open, `--settle` seconds after the last wave (the held point),
//! and `--settle` seconds after they were all closed (released); its VmHWM
//! then is the peak. Under a flood the load generator's sockets keep small
//! buffers ([`SOCKET_BUFFER`]), and so should the server's (the echo's
//! `--socket-buffer`): the flood then piles up in the server's memory
//! soon, not first in kernel buffers grown to megabytes per connection.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::AbortHandle;

use super::burst::{check, compressed_first_frame, hold, proc_status_kib, wave_over, Conn};
use super::{client_frame, connect_all, masked_frame, pattern, Args, Shared};

/// The payload of each frame of `fragments`.
pub const FRAGMENT: usize = 128;
/// The send and receive buffers of the load generator's sockets under a
/// flood.
const SOCKET_BUFFER: u32 = 16 * 1024;
/// Pings written at a time by a flood.
const PING_BATCH: usize = 256;
/// How long a connection must have received (or, flooding, written)
/// nothing, once its pattern is sent, for its part of the wave to be over.
const QUIET: Duration = Duration::from_millis(200);
/// Between the last connection opened and the idle reading.
const OPEN_SETTLE: Duration = Duration::from_millis(500);

/// What each connection leaves the server holding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    Frame,
    Fragments,
    Deflate,
    Pings,
    FragmentsPings,
    DeflatePings,
}

impl Pattern {
    pub const ALL: [Pattern; 6] = [
        Pattern::Frame,
        Pattern::Fragments,
        Pattern::Deflate,
        Pattern::Pings,
        Pattern::FragmentsPings,
        Pattern::DeflatePings,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pattern::Frame => "frame",
            Pattern::Fragments => "fragments",
            Pattern::Deflate => "deflate",
            Pattern::Pings => "pings",
            Pattern::FragmentsPings => "fragments-pings",
            Pattern::DeflatePings => "deflate-pings",
        }
    }

    pub fn parse(name: &str) -> Result<Pattern, String> {
        Pattern::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| format!("unknown pattern `{name}`"))
    }

    fn deflate(self) -> bool {
        matches!(self, Pattern::Deflate | Pattern::DeflatePings)
    }

    fn floods(self) -> bool {
        matches!(
            self,
            Pattern::Pings | Pattern::FragmentsPings | Pattern::DeflatePings
        )
    }

    /// The bytes sent before any flood: all a connection sends, but for
    /// the pings.
    pub fn prefix(self, size: usize) -> Vec<u8> {
        match self {
            Pattern::Frame => {
                let mut frame = client_frame(size);
                frame.pop();
                frame
            }
            Pattern::Fragments | Pattern::FragmentsPings => {
                let piece = pattern(FRAGMENT);
                let frames = size / FRAGMENT;
                let mut out = masked_frame(0x02, &piece);
                for _ in 2..frames {
                    out.extend(masked_frame(0x00, &piece));
                }
                out
            }
            Pattern::Deflate | Pattern::DeflatePings => compressed_first_frame(size),
            Pattern::Pings => Vec::new(),
        }
    }
}

/// A connection that floods pings and reads nothing.
struct Flood {
    /// When its prefix was all written.
    sent: Cell<Option<Instant>>,
    /// When a write last made progress.
    last_write: Cell<Instant>,
    /// Bytes written, prefix and pings.
    written: Cell<u64>,
    task: RefCell<Option<AbortHandle>>,
}

/// One held connection.
enum Holder {
    /// Reads and answers (the burst's connection).
    Reading(Rc<Conn>),
    /// Floods; its stream until its wave starts.
    Flooding(Rc<Flood>, Option<TcpStream>),
}

impl Holder {
    fn done(&self) -> bool {
        match self {
            Holder::Reading(conn) => conn.done(true),
            Holder::Flooding(flood, _) => flood
                .sent
                .get()
                .is_some_and(|_| flood.last_write.get().elapsed() >= QUIET),
        }
    }

    fn close(&mut self) {
        match self {
            Holder::Reading(conn) => conn.close(),
            Holder::Flooding(flood, stream) => {
                stream.take();
                if let Some(task) = flood.task.borrow_mut().take() {
                    task.abort();
                }
            }
        }
    }

    fn written(&self) -> u64 {
        match self {
            Holder::Reading(_) => 0,
            Holder::Flooding(flood, _) => flood.written.get(),
        }
    }
}

pub async fn held(args: &Args) -> Result<String, String> {
    let pid = args.server_pid.ok_or("`held` needs --server-pid")?;
    let pattern = args.pattern.ok_or("`held` needs --pattern")?;
    let args = Args {
        deflate: pattern.deflate(),
        socket_buffer: pattern.floods().then_some(SOCKET_BUFFER),
        ..args.clone()
    };
    let prefix = Rc::new(pattern.prefix(args.size));
    let pings = Rc::new(masked_frame(0x89, &[0x5a; 125]).repeat(PING_BATCH));
    let shared = Rc::new(Shared::default());

    let rss_start = proc_status_kib(pid, "VmRSS")?;
    let mut holders = Vec::with_capacity(args.conns);
    for (stream, leftover) in connect_all(&args).await? {
        holders.push(if pattern.floods() {
            let flood = Flood {
                sent: Cell::new(None),
                last_write: Cell::new(Instant::now()),
                written: Cell::new(0),
                task: RefCell::new(None),
            };
            Holder::Flooding(Rc::new(flood), Some(stream))
        } else {
            Holder::Reading(hold(stream, leftover, None, &shared))
        });
    }
    tokio::time::sleep(OPEN_SETTLE).await;
    check(&shared)?;
    let rss_idle = proc_status_kib(pid, "VmRSS")?;

    let started = Instant::now();
    for wave in holders.chunks_mut(args.wave) {
        for holder in wave.iter_mut() {
            match holder {
                Holder::Reading(conn) => conn.send(&prefix),
                Holder::Flooding(flood, stream) => {
                    let stream = stream.take().expect("a flood starts once");
                    let task = tokio::task::spawn_local(run_flood(
                        stream,
                        Rc::clone(&prefix),
                        Rc::clone(&pings),
                        Rc::clone(flood),
                        Rc::clone(&shared),
                    ));
                    *flood.task.borrow_mut() = Some(task.abort_handle());
                }
            }
        }
        wave_over(&shared, || wave.iter().all(Holder::done)).await?;
    }
    let hold_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    check(&shared)?;
    let rss_held = proc_status_kib(pid, "VmRSS")?;
    let peak_held = proc_status_kib(pid, "VmHWM")?;
    let written: u64 = holders.iter().map(Holder::written).sum();

    for holder in &mut holders {
        holder.close();
    }
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let rss_released = proc_status_kib(pid, "VmRSS")?;
    let rss_peak = proc_status_kib(pid, "VmHWM")?;

    let n = args.conns as f64;
    let per_conn = |from: u64, to: u64| (to as f64 - from as f64) / n;
    Ok(format!(
        "{{\"mode\":\"held\",\"pattern\":\"{}\",\"conns\":{},\"size\":{},\"prefix_bytes\":{},\
         \"wave\":{},\"rss_start_kib\":{rss_start},\"rss_idle_kib\":{rss_idle},\
         \"rss_held_kib\":{rss_held},\"rss_peak_held_kib\":{peak_held},\
         \"rss_released_kib\":{rss_released},\"rss_peak_kib\":{rss_peak},\
         \"idle_per_conn_kib\":{:.2},\"held_per_conn_kib\":{:.2},\
         \"released_per_conn_kib\":{:.2},\"flood_bytes\":{written},\
         \"hold_seconds\":{hold_secs:.3}}}",
        pattern.name(),
        args.conns,
        args.size,
        prefix.len(),
        args.wave,
        per_conn(rss_start, rss_idle),
        per_conn(rss_idle, rss_held),
        per_conn(rss_idle, rss_released),
    ))
}

/// Writes `prefix`, then `pings` over and over, as far as the server takes
/// them; reads nothing.
async fn run_flood(
    mut stream: TcpStream,
    prefix: Rc<Vec<u8>>,
    pings: Rc<Vec<u8>>,
    flood: Rc<Flood>,
    shared: Rc<Shared>,
) {
    let result: Result<(), String> = async {
        stream
            .write_all(&prefix)
            .await
            .map_err(|e| format!("write: {e}"))?;
        flood.written.set(prefix.len() as u64);
        flood.last_write.set(Instant::now());
        flood.sent.set(Some(Instant::now()));
        loop {
            let mut from = 0;
            while from < pings.len() {
                let n = stream
                    .write(&pings[from..])
                    .await
                    .map_err(|e| format!("write: {e}"))?;
                if n == 0 {
                    return Err("the server closed a connection".to_owned());
                }
                from += n;
                flood.written.set(flood.written.get() + n as u64);
                flood.last_write.set(Instant::now());
            }
        }
    }
    .await;
    if let Err(e) = result {
        shared.fail(e);
    }
}

#[cfg(test)]
mod tests;
