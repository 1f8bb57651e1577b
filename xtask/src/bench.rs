//! `cargo xtask bench`: wsup's `echo` example and the README's loop against
//! three baselines and a ceiling, on each runtime, side by side in one run.
//!
//! For each runtime, the servers (`kind.rs`) run at once, each pinned to
//! core 0: wsup's `echo` example; wsup with the README's `recv`/`send` loop
//! (`benches/src/bin/wsup_loop.rs`); an async-tungstenite echo server in two
//! styles (the baselines, `benches/src/bin/tungstenite_echo.rs`): batched,
//! with `feed` and a flush when no message is readable, and with `send`, a
//! flush per message, as in its `autobahn-server` example; on tokio,
//! fastwebsockets' echo example, the fastest Rust peer
//! (`benches/src/bin/fastwebsockets_echo.rs`); and a raw TCP echo server
//! (the ceiling, `benches/src/bin/tcp_echo.rs`). The load generator
//! (`benches/src/bin/wsup_loadgen/`) runs pinned to core 1. Every point of
//! the matrix is measured on the servers one after the other, and the whole
//! matrix is repeated, so that noise from the rest of the machine falls on
//! all of them alike; each figure is the median of the repeats, with the
//! spread (min–max), and each ratio between servers the median of the
//! ratios taken within a repeat (paired by round). Messages per second of
//! the server's CPU, wsup's against raw TCP's (and on tokio
//! fastwebsockets' against raw TCP's), are measured apart in each repeat,
//! the two servers taking turns of 20 ms (100 ms at 1 MiB) under one load
//! generator (`wsup_loadgen interleave`): one after the other, a second
//! each, the figures of two copies of one server differed by about a
//! tenth, since the machine's speed drifts; in turns, by about 0.02.
//!
//! Then, on fresh servers: resident memory per idle connection, and heap
//! allocations per echoed message (a `count-allocs` build of `echo`, and the
//! baseline's own counter). Results go to `target/wsup-bench/`:
//! `results.md`, `results.json`, `throughput.svg` and `latency.svg`.
//!
//! `--memory` measures something else instead (`memory.rs`): the echo
//! server's memory per connection once a burst of large messages is over,
//! or while every connection holds what a hostile peer can make it hold;
//! `--http` the echo behind hyper and over TLS (`http.rs`); `--fanout` one
//! publisher's messages to many subscribers, wsup's hub against a
//! broadcast channel with tokio-tungstenite and raw TCP (`fanout.rs`);
//! `--against REV` this tree's echo against the one built at REV
//! (`against.rs`); `--threads` the split halves of each connection in two
//! tasks on one worker thread and on two (`threads.rs`).
//! `--redraw FILE` draws the figures of a saved run again (`chart.rs`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use kind::Kind;
pub use memory::{Memory, Scenario};
use report::{Alloc, Idle, Latency, Report, RuntimeResults, Sample};
use server::{LoadGen, Server};

use crate::runtime::Runtime;
use crate::util::{exit_code, Workspace};

mod against;
mod chart;
mod compare;
mod fanout;
mod http;
mod kind;
mod memory;
mod redraw;
mod report;
mod server;
mod threads;

/// The parsed arguments of `cargo xtask bench`.
#[derive(Debug, Default)]
pub struct Options {
    /// `None`: the default (tokio with `--quick`, all runtimes otherwise).
    pub runtimes: Option<Vec<Runtime>>,
    pub quick: bool,
    /// `--memory`: the memory benchmark instead.
    pub memory: Option<Memory>,
    /// `--http`: the echo behind hyper against the plain echo instead.
    pub http: bool,
    /// `--fanout`: the fan-out benchmark instead.
    pub fanout: bool,
    /// `--redraw FILE`: no measuring, the figures of a saved run again.
    pub redraw: Option<PathBuf>,
    /// `--against REV`: this tree's echo against REV's instead.
    pub against: Option<String>,
    /// `--threads`: wsup on two worker threads instead.
    pub threads: bool,
    /// `--repeats N`: how many times the matrix is measured, if not the
    /// mode's default.
    pub repeats: Option<usize>,
}

impl Options {
    /// The runtimes asked for, or `default`.
    pub fn runtimes_or(&self, default: &[Runtime]) -> Vec<Runtime> {
        self.runtimes.clone().unwrap_or_else(|| default.to_vec())
    }
}

/// What to measure, and for how long.
#[derive(Debug, Clone)]
pub struct Plan {
    pub quick: bool,
    pub sizes: Vec<usize>,
    pub conns: Vec<usize>,
    pub repeats: usize,
    pub warmup: f64,
    pub duration: f64,
    pub latency_duration: f64,
    /// Latency runs per server in each repeat.
    pub latency_rounds: usize,
    pub idle_conns: usize,
    pub alloc_sizes: Vec<usize>,
    pub alloc_duration: f64,
}

impl Plan {
    /// The plan `options` ask for: quick or full, and their repeats.
    fn of(options: &Options) -> Self {
        let plan = Plan::new(options.quick);
        Plan {
            repeats: options.repeats.unwrap_or(plan.repeats),
            ..plan
        }
    }

    fn new(quick: bool) -> Self {
        Plan {
            quick,
            sizes: vec![16, 1024, 64 << 10, 1 << 20],
            conns: vec![1, 100],
            repeats: if quick { 1 } else { 5 },
            warmup: if quick { 0.2 } else { 0.3 },
            duration: if quick { 0.5 } else { 1.0 },
            latency_duration: if quick { 0.5 } else { 1.0 },
            latency_rounds: if quick { 1 } else { 2 },
            idle_conns: if quick { 2_000 } else { 10_000 },
            alloc_sizes: if quick {
                vec![16, 64 << 10]
            } else {
                vec![16, 1024, 64 << 10, 1 << 20]
            },
            alloc_duration: if quick { 0.5 } else { 1.0 },
        }
    }

    /// The plan with message sizes `quick` or `full`, as it is quick or not.
    pub fn with_sizes(self, quick: &[usize], full: &[usize]) -> Self {
        let sizes = if self.quick { quick } else { full }.to_vec();
        Plan { sizes, ..self }
    }

    /// The load generator's arguments for a throughput point.
    pub fn throughput_args(size: usize, conns: usize, warmup: f64, duration: f64) -> Vec<String> {
        [
            "--size",
            &size.to_string(),
            "--conns",
            &conns.to_string(),
            "--window",
            &Plan::window(size).to_string(),
            "--warmup",
            &warmup.to_string(),
            "--duration",
            &duration.to_string(),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Seconds of each turn when wsup and raw TCP are measured in turns:
    /// short, so that both see the same drift of the machine's speed, and
    /// long enough at 1 MiB for a hundred messages or more.
    pub fn slice(size: usize) -> f64 {
        if size > 64 << 10 {
            0.1
        } else {
            0.02
        }
    }

    /// Messages in flight per connection: enough to keep the pipe full,
    /// few enough that 100 connections of 1 MiB stay within memory.
    pub fn window(size: usize) -> usize {
        match size {
            0..=4096 => 16,
            4097..=65536 => 4,
            _ => 1,
        }
    }
}

/// Every point of a matrix, row by row: `point(a, b)` for each `b` of
/// `inner`, for each `a` of `outer`.
fn matrix<A: Copy, B: Copy, T>(outer: &[A], inner: &[B], point: impl Fn(A, B) -> T) -> Vec<T> {
    let point = &point;
    outer
        .iter()
        .flat_map(|&a| inner.iter().map(move |&b| point(a, b)))
        .collect()
}

/// Asserts that `text`, a report or a chart, has each of `parts`.
#[cfg(test)]
#[track_caller]
fn assert_contains_all(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "no `{part}` in\n{text}");
    }
}

const SERVER_CORE: usize = 0;
const LOADGEN_CORE: usize = 1;

/// Runs the benchmark; failure if anything breaks.
pub fn run(options: &Options) -> ExitCode {
    let result = match (&options.redraw, &options.memory) {
        (Some(file), _) => redraw::redraw(file),
        (None, Some(memory)) => memory::run(options, memory),
        (None, None) if options.http => http::run(options),
        (None, None) if options.fanout => fanout::run(options),
        (None, None) if options.threads => threads::run(options),
        (None, None) if options.against.is_some() => {
            against::run(options, options.against.as_deref().unwrap_or_default())
        }
        (None, None) => try_run(options),
    };
    exit_code(result.map(|()| true))
}

fn try_run(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    let workspace = Workspace::load()?;
    let (out_dir, bin_dir) = output_dirs(&workspace)?;

    let plan = Plan::of(options);
    let runtimes = options.runtimes.clone().unwrap_or_else(|| {
        if options.quick {
            vec![Runtime::Tokio]
        } else {
            Runtime::ALL.to_vec()
        }
    });
    let mut notes = Vec::new();
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        notes.push(format!(
            "only {cores} core available: server and load generator share it"
        ));
    }
    let nofile = server::raise_nofile_limit();
    if nofile < plan.idle_conns as u64 + 100 {
        notes.push(format!(
            "RLIMIT_NOFILE is {nofile}: the idle-connection figure is measured with fewer connections"
        ));
    }

    let bins = build(&workspace, &bin_dir, &runtimes)?;
    println!(
        "==> built in {:.0} s; server on core {SERVER_CORE}, load generator on core {LOADGEN_CORE}",
        started.elapsed().as_secs_f64()
    );

    // Other work on the machine shows up as noise; say how much there was.
    let load_before = load_average();
    let mut results = Vec::new();
    for &rt in &runtimes {
        results.push(bench_runtime(rt, &plan, &bins, nofile, &mut notes)?);
    }
    notes.push(format!(
        "load average (1, 5, 15 min) before the measurements: {load_before}; after: {}",
        load_average()
    ));

    let report = Report::new(&workspace.root, &plan, results, notes);
    let markdown = report.markdown();
    println!("\n{markdown}");
    write(&out_dir.join("results.md"), &markdown)?;
    let json = report.json();
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    write(&out_dir.join("results.json"), &text)?;
    chart::draw(&out_dir, &json).map_err(|e| format!("chart: {e}"))?;
    println!(
        "==> wrote {}, results.json, throughput.svg and latency.svg in {:.0} s",
        out_dir.join("results.md").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `target/wsup-bench/` for the results, and its `bin/` for the builds
/// copied out of `target/release`, both created.
fn output_dirs(workspace: &Workspace) -> Result<(PathBuf, PathBuf), String> {
    let out_dir = workspace.target_dir.join("wsup-bench");
    let bin_dir = out_dir.join("bin");
    fs::create_dir_all(&bin_dir)
        .map_err(|e| format!("cannot create {}: {e}", bin_dir.display()))?;
    Ok((out_dir, bin_dir))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Paths of the binaries a run needs.
#[derive(Debug)]
pub struct Binaries {
    /// `echo` per runtime, normal and `count-allocs` builds.
    echo: Vec<(Runtime, PathBuf, PathBuf)>,
    wsup_loop: PathBuf,
    baseline: PathBuf,
    fastwebsockets: PathBuf,
    ceiling: PathBuf,
    loadgen: PathBuf,
}

impl Binaries {
    fn echo(&self, rt: Runtime, count_allocs: bool) -> &Path {
        let (_, normal, counting) = self
            .echo
            .iter()
            .find(|(r, _, _)| *r == rt)
            .expect("echo built for every runtime run");
        if count_allocs {
            counting
        } else {
            normal
        }
    }
}

/// Builds everything in release. Each `echo` build is copied out of
/// `target/release`, since the next build with other features replaces it.
fn build(workspace: &Workspace, bin_dir: &Path, runtimes: &[Runtime]) -> Result<Binaries, String> {
    let mut echo = Vec::new();
    for &rt in runtimes {
        let mut paths = Vec::new();
        for count_allocs in [false, true] {
            paths.push(build_echo(workspace, bin_dir, rt, count_allocs)?);
        }
        let counting = paths.pop().expect("two builds");
        let normal = paths.pop().expect("two builds");
        echo.push((rt, normal, counting));
    }
    workspace.build_bench_bins(
        "wsup-benches (README loop, baselines, ceiling, load generator)",
        &[],
    )?;
    Ok(Binaries {
        echo,
        wsup_loop: workspace.release_bin("wsup_loop"),
        baseline: workspace.release_bin("tungstenite_echo"),
        fastwebsockets: workspace.release_bin("fastwebsockets_echo"),
        ceiling: workspace.release_bin("tcp_echo"),
        loadgen: workspace.release_bin("wsup_loadgen"),
    })
}

/// Builds the load generator alone (the `--memory` and `--http` modes),
/// pinned to the load generator's core.
fn build_loadgen(workspace: &Workspace) -> Result<LoadGen, String> {
    workspace.build_bench_bins("the load generator", &["wsup_loadgen"])?;
    Ok(LoadGen {
        path: workspace.release_bin("wsup_loadgen"),
        core: LOADGEN_CORE,
    })
}

/// Builds `echo` for `rt` and copies it to `bin_dir`, since the next build
/// with other features replaces it in `target/release`; returns the copy.
fn build_echo(
    workspace: &Workspace,
    bin_dir: &Path,
    rt: Runtime,
    count_allocs: bool,
) -> Result<PathBuf, String> {
    let built = workspace.build_echo(rt, count_allocs)?;
    let to = bin_dir.join(format!(
        "echo-{}{}{}",
        rt.name(),
        if count_allocs { "-count-allocs" } else { "" },
        std::env::consts::EXE_SUFFIX
    ));
    fs::copy(&built, &to).map_err(|e| format!("cannot copy echo to {}: {e}", to.display()))?;
    Ok(to)
}

/// Starts server `kind` for `rt`, pinned to the server core. Only `echo`
/// and the baseline have a counting build (`count_allocs`).
fn start(kind: Kind, rt: Runtime, bins: &Binaries, count_allocs: bool) -> Result<Server, String> {
    let command = match kind {
        Kind::Wsup => Command::new(bins.echo(rt, count_allocs)),
        Kind::WsupLoop => {
            let mut c = Command::new(&bins.wsup_loop);
            c.arg(rt.name());
            c
        }
        Kind::Fastwebsockets => Command::new(&bins.fastwebsockets),
        Kind::Baseline | Kind::BaselineSend => {
            let mut c = Command::new(&bins.baseline);
            c.arg(rt.name()).arg(if kind == Kind::Baseline {
                "batched"
            } else {
                "send"
            });
            if count_allocs {
                c.env("WSUP_BENCH_COUNT_ALLOCS", "1");
            }
            c
        }
        Kind::Ceiling => {
            let mut c = Command::new(&bins.ceiling);
            c.arg(rt.name());
            c
        }
    };
    Server::start(one_thread(command), kind.name(), SERVER_CORE, count_allocs)
}

/// One worker thread: smol's and async-std's global executors would
/// otherwise start one per core (the pinning bounds them anyway).
fn one_thread(mut command: Command) -> Command {
    command
        .env("SMOL_THREADS", "1")
        .env("ASYNC_STD_THREAD_COUNT", "1");
    command
}

fn bench_runtime(
    rt: Runtime,
    plan: &Plan,
    bins: &Binaries,
    nofile: u64,
    notes: &mut Vec<String>,
) -> Result<RuntimeResults, String> {
    let loadgen = LoadGen {
        path: bins.loadgen.clone(),
        core: LOADGEN_CORE,
    };
    let mut results = RuntimeResults::new(rt, plan);

    // Throughput and latency: the servers of this runtime run side by side.
    let servers = Kind::ALL
        .into_iter()
        .filter(|kind| kind.runs_on(rt))
        .map(|kind| start(kind, rt, bins, false).map(|server| (kind, server)))
        .collect::<Result<Vec<_>, _>>()?;
    let side = SideBySide {
        rt,
        servers: &servers,
        loadgen: &loadgen,
    };
    for repeat in 1..=plan.repeats {
        for point in &mut results.throughput {
            let args = Plan::throughput_args(point.size, point.conns, plan.warmup, plan.duration);
            let what = format!("{} x {}", report::size_name(point.size), point.conns);
            let line = side.each("throughput", &args, &what, repeat - 1, notes, |i, v| {
                let sample = Sample::from_json(v, repeat - 1);
                point.samples[i].push(sample);
                format!(
                    "{} msg/s {:.1} MB/s",
                    report::si(sample.msgs_per_sec),
                    sample.mb_per_sec
                )
            })?;
            println!(
                "[{} {repeat}/{}] {what} conn (W={}):{line}",
                rt.name(),
                plan.repeats,
                point.window
            );
            for kind in [Kind::Wsup, Kind::Fastwebsockets] {
                if !kind.runs_on(rt) {
                    continue;
                }
                match side.turns(kind, point.size, point.conns, plan) {
                    Ok(v) => {
                        let turns = report::Turns::from_json(&v, repeat - 1);
                        println!(
                            "[{} {repeat}/{}] {what} conn, in turns: {} {} ceiling {} msg per CPU second, {:.2}",
                            rt.name(),
                            plan.repeats,
                            kind.key(),
                            report::si(turns.server),
                            report::si(turns.ceiling),
                            turns.ratio()
                        );
                        match kind {
                            Kind::Wsup => point.turns.push(turns),
                            _ => point.peer_turns.push(turns),
                        }
                    }
                    Err(e) => notes.push(format!(
                        "{} {} {what} in turns: {e}",
                        rt.name(),
                        kind.name()
                    )),
                }
            }
        }
        // Tails are the noisiest figure: several short rounds per repeat,
        // the servers taking turns, so a burst of noise from the rest of the
        // machine falls on one round of each rather than on one server.
        let args = [
            "--size".to_owned(),
            "16".to_owned(),
            "--warmup".to_owned(),
            plan.warmup.to_string(),
            "--duration".to_owned(),
            plan.latency_duration.to_string(),
        ];
        for round in 1..=plan.latency_rounds {
            // Numbered across repeats, so the rounds of a runtime pair up.
            let index = (repeat - 1) * plan.latency_rounds + round - 1;
            let line = side.each("latency", &args, "latency", index, notes, |i, v| {
                let sample = Latency::from_json(v, index);
                results.latency[i].push(sample);
                format!(
                    "p50 {:.1} p99 {:.1} p99.9 {:.1} us",
                    sample.p50, sample.p99, sample.p999
                )
            })?;
            println!(
                "[{} {repeat}/{}] latency 16 B x 1 conn (W=1), round {round}/{}:{line}",
                rt.name(),
                plan.repeats,
                plan.latency_rounds
            );
        }
    }
    drop(servers);

    // Memory per idle connection, each server fresh and alone.
    let count = plan
        .idle_conns
        .min(nofile.saturating_sub(100) as usize)
        .max(1);
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        if !kind.runs_on(rt) || !kind.idle_measured() {
            continue;
        }
        let server = start(kind, rt, bins, false)?;
        match idle(&loadgen, &server, kind, count) {
            Ok(idle) => {
                println!(
                    "[{}] idle: {} {} connections, RSS {} -> {} KiB, {:.2} KiB per connection",
                    rt.name(),
                    kind.key(),
                    idle.opened,
                    idle.rss_before_kib,
                    idle.rss_after_kib,
                    idle.per_conn_kib()
                );
                results.idle[i] = Some(idle);
            }
            Err(e) => notes.push(format!("{} {} idle: {e}", rt.name(), kind.name())),
        }
    }

    // Allocations per echoed message: counting builds, one connection.
    for (i, kind) in [Kind::Wsup, Kind::Baseline].into_iter().enumerate() {
        let mut server = start(kind, rt, bins, true)?;
        for size in &plan.alloc_sizes {
            let args = Plan::throughput_args(*size, 1, 0.1, plan.alloc_duration);
            let measured = server.allocs().and_then(|before| {
                let v = loadgen.run("throughput", &server, false, &args)?;
                let messages = v["total_messages"].as_u64().unwrap_or(0);
                // Let the server finish with the closed connection first.
                thread::sleep(Duration::from_millis(200));
                let after = server.allocs()?;
                Ok(Alloc::new(*size, messages, before, after))
            });
            match measured {
                Ok(alloc) => {
                    println!(
                        "[{}] allocations: {} {}: {:.3} per message, {:.0} bytes per message",
                        rt.name(),
                        kind.key(),
                        report::size_name(*size),
                        alloc.per_message(),
                        alloc.bytes_per_message()
                    );
                    results.allocs[i].push(alloc);
                }
                Err(e) => notes.push(format!(
                    "{} {} allocations {}: {e}",
                    rt.name(),
                    kind.name(),
                    report::size_name(*size)
                )),
            }
        }
    }
    Ok(results)
}

/// The servers of one runtime, running side by side, and the load generator.
struct SideBySide<'a> {
    rt: Runtime,
    /// In `Kind::ALL` order, those that run on `rt`.
    servers: &'a [(Kind, Server)],
    loadgen: &'a LoadGen,
}

impl SideBySide<'_> {
    /// Runs the load generator in `mode` with `args` against each server in
    /// turn, starting with the `turn % n`th of the `n`: the order rotates
    /// from one round to the next, so no server always runs first after a
    /// change of point (or always right before or after another one).
    /// `record` keeps the figures of the server at `Kind::index` `i` and
    /// describes them; a failed run is noted as `what` and the others still
    /// run. Returns the progress line, in `Kind::ALL` order; an error only
    /// if a server died.
    fn each(
        &self,
        mode: &str,
        args: &[String],
        what: &str,
        turn: usize,
        notes: &mut Vec<String>,
        mut record: impl FnMut(usize, &Value) -> String,
    ) -> Result<String, String> {
        let n = self.servers.len();
        let mut parts = vec![String::new(); n];
        for k in 0..n {
            let i = (k + turn) % n;
            let (kind, server) = (self.servers[i].0, &self.servers[i].1);
            parts[i] = match self.loadgen.run(mode, server, kind == Kind::Ceiling, args) {
                Ok(v) => format!(" {} {}", kind.key(), record(kind.index(), &v)),
                Err(e) => {
                    notes.push(format!("{} {} {what}: {e}", self.rt.name(), kind.name()));
                    format!(" {} FAILED", kind.key())
                }
            };
            server.check_alive()?;
        }
        let line = parts.join(";");
        Ok(line)
    }

    /// `kind` (wsup, or fastwebsockets) and raw TCP at one point, measured
    /// in turns by one load generator (its `interleave` mode): the
    /// per-CPU-second figures.
    fn turns(&self, kind: Kind, size: usize, conns: usize, plan: &Plan) -> Result<Value, String> {
        let find = |kind: Kind| {
            self.servers
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, s)| s)
                .ok_or_else(|| format!("no {} server", kind.name()))
        };
        let (server, ceiling) = (find(kind)?, find(Kind::Ceiling)?);
        let mut args = Plan::throughput_args(size, conns, plan.warmup, plan.duration);
        args.extend(
            [
                "--versus",
                &ceiling.addr,
                "--versus-pid",
                &ceiling.pid.to_string(),
                "--versus-raw",
                "--slice",
                &Plan::slice(size).to_string(),
            ]
            .map(str::to_owned),
        );
        let v = self.loadgen.run("interleave", server, false, &args)?;
        server.check_alive()?;
        ceiling.check_alive()?;
        Ok(v)
    }
}

/// Opens `count` idle connections to `server` and measures its RSS.
fn idle(loadgen: &LoadGen, server: &Server, kind: Kind, count: usize) -> Result<Idle, String> {
    // Settle after start-up, then read the baseline.
    thread::sleep(Duration::from_millis(200));
    let before = server.rss_kib()?;
    let holder = loadgen.hold_idle(server, kind == Kind::Ceiling, count)?;
    // Let the server finish the last handshakes before reading.
    thread::sleep(Duration::from_millis(500));
    let after = server.rss_kib()?;
    drop(holder);
    Ok(Idle {
        opened: count,
        rss_before_kib: before,
        rss_after_kib: after,
    })
}

/// The first three fields of `/proc/loadavg`.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
