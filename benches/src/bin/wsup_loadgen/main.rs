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
//! wsup_loadgen throughput ADDR --size N --conns M --window W --warmup S --duration S [--raw] [--tls CA.pem] [--server-pid P] [--cpu C]
//! wsup_loadgen interleave ADDR --versus ADDR2 --server-pid P --versus-pid P2 [--versus-raw] --size N --conns M --window W --warmup S --duration S [--slice S] [--raw] [--cpu C]
//! wsup_loadgen latency    ADDR --size N --warmup S --duration S [--raw] [--tls CA.pem] [--server-pid P] [--cpu C]
//! wsup_loadgen idle       ADDR --conns M [--raw] [--sources K] [--cpu C]
//! wsup_loadgen burst      ADDR --conns M --size N --wave W --server-pid P [--deflate-fragment] [--settle S] [--sources K] [--cpu C]
//! wsup_loadgen held       ADDR --conns M --size N --wave W --server-pid P --pattern frame|fragments|deflate|pings|deflate-pings [--settle S] [--sources K] [--cpu C]
//! wsup_loadgen fanout     ADDR --conns M --size N --messages K --window W --latency-messages L --server-pid P [--per-process Q] [--settle S] [--raw] [--sources K] [--cpu C]
//! ```
//!
//! `throughput`, `interleave`, `latency`, `burst` and `held` print one
//! JSON object on stdout. `interleave` measures two servers' messages per
//! CPU second in turns (see `interleave.rs`).
//! With `--tls CA.pem`, `throughput` and `latency` connect over TLS
//! (`wss://`), trusting that CA, the server named by its IP address.
//! `idle` opens the connections, prints `{"opened":M}`, and holds them until
//! stdin ends. `burst` measures the server's memory after a burst of large
//! messages (see `burst.rs`), `held` while every connection leaves it
//! holding what a hostile peer can (see `held.rs`); `fanout` one publisher's messages reaching
//! many subscribers, held by child processes (`fanout-sub`, see
//! `fanout.rs`), and prints one JSON object.
//! Connections are bound to source addresses 127.0.0.2, .3, ... (`--sources`,
//! default 8) so that many of them do not exhaust one address's ports.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use conn::connect;
use frames::{client_frame, masked_frame, pattern};
use throughput::{discard, Shared};

mod burst;
mod conn;
mod fanout;
mod frames;
mod held;
mod interleave;
mod latency;
mod throughput;

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
    /// `--tls CA.pem` (`throughput`, `latency`): connect over TLS, trusting
    /// that CA.
    tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
    /// The request path of the handshake (`fanout`'s publisher asks for
    /// another).
    path: String,
    /// The index of the first connection (`fanout-sub`): its source address
    /// follows from it.
    first: usize,
    /// `fanout`: messages sent in windows; `fanout-sub`: all the messages.
    messages: usize,
    /// `fanout`: messages sent one at a time, before the windows.
    latency_messages: usize,
    /// `fanout`: subscribers per child process.
    per_process: usize,
    /// `held`: what each connection leaves the server holding.
    pattern: Option<held::Pattern>,
    /// The send and receive buffer sizes of each socket (`held` sets
    /// them); `None`: the kernel's.
    socket_buffer: Option<u32>,
    /// `interleave`: the second server, its pid, and whether it is raw TCP.
    versus: Option<SocketAddr>,
    versus_pid: Option<u32>,
    versus_raw: bool,
    /// `interleave`: seconds of each turn.
    slice: f64,
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
    wsup_benches::fanout::raise_nofile_limit();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let local = tokio::task::LocalSet::new();
    let bound = match args.command.as_str() {
        "burst" | "held" => burst::BOUND,
        "fanout" | "fanout-sub" => fanout::BOUND,
        _ => Duration::from_secs_f64(args.warmup + args.duration + 120.0),
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
        "throughput" => throughput::throughput(args).await,
        "interleave" => interleave::interleave(args).await,
        "latency" => latency::latency(args).await,
        "idle" => idle(args).await,
        "burst" => burst::burst(args).await,
        "held" => held::held(args).await,
        "fanout" => fanout::fanout(args).await,
        "fanout-sub" => fanout::subscribe(args).await,
        other => Err(format!("unknown command `{other}`")),
    }
}

fn parse_args() -> Result<Args, String> {
    parse_from(std::env::args().skip(1))
}

/// The arguments, from the command on.
fn parse_from(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
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
        tls: None,
        path: "/".to_owned(),
        first: 0,
        messages: 1000,
        latency_messages: 100,
        per_process: 5000,
        pattern: None,
        socket_buffer: None,
        versus: None,
        versus_pid: None,
        versus_raw: false,
        slice: 0.1,
    };
    while let Some(flag) = it.next() {
        if flag == "--raw" {
            args.raw = true;
            continue;
        }
        if flag == "--versus-raw" {
            args.versus_raw = true;
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
            "--tls" => args.tls = Some(conn::tls_config(&value)?),
            "--first" => args.first = value.parse().map_err(|e| bad(&e))?,
            "--messages" => args.messages = value.parse().map_err(|e| bad(&e))?,
            "--latency-messages" => args.latency_messages = value.parse().map_err(|e| bad(&e))?,
            "--per-process" => args.per_process = value.parse().map_err(|e| bad(&e))?,
            "--pattern" => args.pattern = Some(held::Pattern::parse(&value)?),
            "--versus" => args.versus = Some(value.parse().map_err(|e| bad(&e))?),
            "--versus-pid" => args.versus_pid = Some(value.parse().map_err(|e| bad(&e))?),
            "--slice" => args.slice = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown flag `{flag}`")),
        }
    }
    if args.conns == 0
        || args.window == 0
        || args.sources == 0
        || args.wave == 0
        || args.per_process == 0
    {
        return Err(
            "--conns, --window, --sources, --wave and --per-process must be positive".to_owned(),
        );
    }
    Ok(args)
}

/// Runs `test` on a current-thread runtime, inside a `LocalSet` (the load
/// generator's tasks are local).
#[cfg(test)]
fn on_local_runtime(test: impl std::future::Future<Output = ()>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&rt, test);
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

/// CPU seconds (user + system) used by another process, all its threads:
/// from its CPU-time clock (`clock_getcpuclockid`), to the nanosecond, or
/// where that clock cannot be read, from `/proc/PID/stat`, in clock ticks
/// (10 ms, which at a server's 0.45 CPU over 1 s was ±2% of a reading).
fn process_cpu(pid: u32) -> Option<f64> {
    process_cpu_clock(pid).or_else(|| process_cpu_ticks(pid))
}

/// The process's CPU-time clock, in seconds.
fn process_cpu_clock(pid: u32) -> Option<f64> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    let mut clock: libc::clockid_t = 0;
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: both calls only write to the variables they are given, which
    // live for the calls; an invalid or exited pid is an error return.
    let ok = unsafe {
        libc::clock_getcpuclockid(pid, &mut clock) == 0
            && libc::clock_gettime(clock, &mut time) == 0
    };
    ok.then(|| time.tv_sec as f64 + time.tv_nsec as f64 / 1e9)
}

/// `utime` + `stime` from `/proc/PID/stat`, in seconds.
fn process_cpu_ticks(pid: u32) -> Option<f64> {
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

/// Opens `--conns` connections, numbered from `--first`, a wave of them at
/// a time, so that the server's accept backlog never overflows.
async fn connect_all(args: &Args) -> Result<Vec<(TcpStream, Vec<u8>)>, String> {
    const WAVE: usize = 128;
    let mut opened = Vec::with_capacity(args.conns);
    let mut index = 0;
    while index < args.conns {
        let wave = WAVE.min(args.conns - index);
        let mut tasks = Vec::with_capacity(wave);
        for i in index..index + wave {
            let args = args.clone();
            tasks.push(tokio::task::spawn_local(async move {
                connect(&args, args.first + i).await
            }));
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
mod cpu_tests {
    use super::{process_cpu, process_cpu_clock, process_cpu_ticks};
    use std::time::{Duration, Instant};

    /// Another process's CPU time, read from its clock, agrees with what
    /// `/proc` says to within its ticks; once the process is gone, neither
    /// reads.
    #[test]
    fn another_process_cpu_time_is_read_from_its_clock() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("sh");
        let pid = child.id();
        // Until it has used 0.1 s, however busy the machine (tests run
        // side by side), or 10 s have passed.
        let deadline = Instant::now() + Duration::from_secs(10);
        let clock = loop {
            let clock = process_cpu_clock(pid);
            if clock.is_none_or(|c| c > 0.1) || Instant::now() > deadline {
                break clock;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let ticks = process_cpu_ticks(pid);
        // Stopped before anything is asserted: a failed read must not leave
        // the shell spinning for the rest of the run.
        child.kill().expect("kill");
        child.wait().expect("wait");
        let clock = clock.expect("the process's clock");
        let ticks = ticks.expect("/proc/PID/stat");
        assert!(clock > 0.1, "a spinning shell used {clock} s in 10 s");
        assert!(
            (clock - ticks).abs() < 0.05,
            "clock {clock} s, ticks {ticks} s"
        );
        assert_eq!(process_cpu(pid), None);
    }
}
