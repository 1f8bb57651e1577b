//! `cargo xtask bench --memory`: the echo server's resident memory per
//! connection once a burst is over.
//!
//! For each server (the `echo` example built per runtime, or the binary
//! given with `--echo`), two runs on a fresh process, pinned as for the
//! rest of the bench, each driven by the load generator's `burst`: N
//! connections are opened and held (their idle cost is the first figure);
//! then, 64 at a time, each sends one 16 MiB message and reads its echo, or
//! (second run) negotiates permessage-deflate and sends the first frame of
//! a compressed 16 MiB message it never finishes; all then stay open and
//! idle, and five seconds later the server's VmRSS is read again. The echo
//! runs with `--keepalive 2`, so that its idle tick (nothing received for
//! an interval: what a burst grew is given back) comes within those five
//! seconds; with the default interval (20 s) it comes 20 to 40 seconds
//! after the burst. A binary that takes no flags ignores it. Results go to
//! `target/wsup-bench/memory.md` and `memory.json`.
//!
//! `--scenario held` measures the hostile case instead (`memory/held.rs`):
//! every connection leaves the server holding what a peer can make it hold
//! with messages of `--size` bytes, all at once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::server::{raise_nofile_limit, LoadGen, Server};
use super::{build_echo, build_loadgen, one_thread, output_dirs, write, Options, SERVER_CORE};
use crate::runtime::Runtime;
use crate::util::Workspace;

mod held;

/// The arguments of `cargo xtask bench --memory`.
#[derive(Debug, Default)]
pub struct Memory {
    /// `--echo PATH`: this echo binary instead of one built per runtime.
    pub echo: Option<PathBuf>,
    /// `--conns N`: `None` for the scenario's default.
    pub conns: Option<usize>,
    /// `--scenario`: what the connections do.
    pub scenario: Scenario,
    /// `--size BYTES`: each connection's message; `None` for the
    /// scenario's default.
    pub size: Option<usize>,
}

/// What the connections of `--memory` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// A burst of large messages, then idle.
    #[default]
    Burst,
    /// Each holds what a hostile peer can make the server hold.
    Held,
}

impl Scenario {
    pub fn parse(name: &str) -> Result<Scenario, String> {
        match name {
            "burst" => Ok(Scenario::Burst),
            "held" => Ok(Scenario::Held),
            _ => Err(format!("unknown scenario `{name}` (burst or held)")),
        }
    }
}

/// What every scenario runs with: where results go, the connections, the
/// servers to measure (a name and a binary each), the load generator.
struct Setup {
    out_dir: PathBuf,
    conns: usize,
    servers: Vec<(String, PathBuf)>,
    loadgen: LoadGen,
}

impl Setup {
    /// The load generator's `mode` with `args` against echo `path` started
    /// afresh with `flags`: memory freed by one run must not flatter the
    /// next, and each run's peak is its own.
    fn run_fresh(
        &self,
        path: &Path,
        flags: &[&str],
        mode: &str,
        args: &[String],
    ) -> Result<Value, String> {
        let command = one_thread(Command::new(path));
        let server = Server::start_with(command, "echo", SERVER_CORE, false, flags)?;
        let v = self
            .loadgen
            .run_within(mode, &server, false, args, RUN_TIMEOUT)?;
        server.check_alive()?;
        Ok(v)
    }

    /// Each of `runs` on each server, on a fresh echo (`run_fresh`) with
    /// the load generator's `mode`: `setup` gives a run's echo flags and
    /// the load generator's arguments, `progress` the line printed of its
    /// result. The results, each with its server's name.
    fn run_each<R: Copy>(
        &self,
        mode: &str,
        runs: &[R],
        setup: impl Fn(R) -> (Vec<String>, Vec<String>),
        progress: impl Fn(R, &Value) -> String,
    ) -> Result<Vec<Value>, String> {
        let mut results = Vec::new();
        for (name, path) in &self.servers {
            for &run in runs {
                let (flags, args) = setup(run);
                let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
                let v = self.run_fresh(path, &flags, mode, &args)?;
                println!("[{name}] {}", progress(run, &v));
                results.push(entry(name, v));
            }
        }
        Ok(results)
    }

    /// Prints `markdown` and writes it and `report` to `<stem>.md` and
    /// `<stem>.json`; returns the table's path.
    fn write_report(&self, stem: &str, markdown: &str, report: &Value) -> Result<PathBuf, String> {
        println!("\n{markdown}");
        let table = self.out_dir.join(format!("{stem}.md"));
        write(&table, markdown)?;
        let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
        write(&self.out_dir.join(format!("{stem}.json")), &text)?;
        Ok(table)
    }
}

/// The size of each connection's message.
const SIZE: usize = 16 << 20;
/// Connections sending at once.
const WAVE: usize = 64;
/// Seconds between the last echo and the reading: two keepalive intervals
/// and a margin.
const SETTLE: f64 = 5.0;
/// The echo's keepalive interval, in seconds.
const KEEPALIVE: &str = "2";
/// The load generator's own bound is 15 minutes.
const RUN_TIMEOUT: Duration = Duration::from_secs(16 * 60);

/// The two bursts, as the load generator names them.
const MODES: [(&str, &[&str]); 2] = [
    ("message", &[]),
    ("deflate_fragment", &["--deflate-fragment"]),
];

pub fn run(options: &Options, memory: &Memory) -> Result<(), String> {
    let started = Instant::now();
    let (default_conns, quick_conns) = match memory.scenario {
        Scenario::Burst => (1000, 200),
        Scenario::Held => (held::CONNS, 200),
    };
    let setup = setup(options, memory, default_conns, quick_conns)?;
    let written = match memory.scenario {
        Scenario::Burst => burst(&setup, memory.size.unwrap_or(SIZE))?,
        Scenario::Held => held::run(&setup, memory.size.unwrap_or(held::SIZE))?,
    };
    println!(
        "==> wrote {} in {:.0} s",
        written.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn setup(
    options: &Options,
    memory: &Memory,
    default_conns: usize,
    quick_conns: usize,
) -> Result<Setup, String> {
    let workspace = Workspace::load()?;
    let (out_dir, bin_dir) = output_dirs(&workspace)?;
    let conns = memory.conns.unwrap_or(if options.quick {
        quick_conns
    } else {
        default_conns
    });
    let nofile = raise_nofile_limit();
    if nofile < conns as u64 + 100 {
        return Err(format!(
            "RLIMIT_NOFILE is {nofile}: too low for {conns} connections"
        ));
    }

    let servers = match &memory.echo {
        Some(path) => vec![(path.display().to_string(), path.clone())],
        None => {
            let runtimes = options.runtimes.as_deref().unwrap_or(&[Runtime::Tokio]);
            let mut built = Vec::new();
            for &rt in runtimes {
                let path = build_echo(&workspace, &bin_dir, rt, false)?;
                built.push((rt.name().to_owned(), path));
            }
            built
        }
    };
    let loadgen = build_loadgen(&workspace)?;
    Ok(Setup {
        out_dir,
        conns,
        servers,
        loadgen,
    })
}

/// The burst scenario; returns the table's path.
fn burst(setup: &Setup, size: usize) -> Result<PathBuf, String> {
    let conns = setup.conns;
    let args = loadgen_args(conns, size, WAVE, SETTLE);

    let results = setup.run_each(
        "burst",
        &MODES,
        |(_, flags)| {
            let mut run_args = args.to_vec();
            run_args.extend(flags.iter().map(|&f| f.to_owned()));
            (
                vec!["--keepalive".to_owned(), KEEPALIVE.to_owned()],
                run_args,
            )
        },
        |(mode, _), v| {
            format!(
                "{mode}: {conns} connections, RSS {} KiB idle ({} per connection), \
                 {} KiB after ({} per connection more), peak {} KiB, burst {} s",
                v["rss_idle_kib"],
                v["idle_per_conn_kib"],
                v["rss_after_kib"],
                v["per_conn_after_kib"],
                v["rss_peak_kib"],
                v["burst_seconds"],
            )
        },
    )?;

    let markdown = markdown(conns, size, &results);
    let report = report(conns, size, WAVE, SETTLE, results);
    setup.write_report("memory", &markdown, &report)
}

/// One run's entry in a scenario's results: the server's name, and what
/// the load generator reported.
fn entry(server: &str, result: Value) -> Value {
    json!({ "server": server, "result": result })
}

/// What a scenario's JSON report holds whatever the scenario: its
/// parameters and the results.
fn report(conns: usize, size: usize, wave: usize, settle: f64, results: Vec<Value>) -> Value {
    json!({
        "conns": conns,
        "size": size,
        "wave": wave,
        "settle_seconds": settle,
        "results": results,
    })
}

/// The load generator's arguments common to every run of a scenario.
fn loadgen_args(conns: usize, size: usize, wave: usize, settle: f64) -> Vec<String> {
    [
        ("--conns", conns.to_string()),
        ("--size", size.to_string()),
        ("--wave", wave.to_string()),
        ("--settle", settle.to_string()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value])
    .collect()
}

/// A table: per server, the idle connections, then each burst.
fn markdown(conns: usize, size: usize, results: &[Value]) -> String {
    let mut out = format!(
        "Resident memory of the echo server, {conns} connections; after a burst: \
         {} MiB per connection, {WAVE} connections at a time, read {SETTLE} s \
         after the last echo.\n\n\
         | server | connections | RSS, MiB | per connection, KiB | peak RSS, MiB |\n\
         |---|---|---|---|---|\n",
        size >> 20
    );
    let mib = |v: &Value| v.as_f64().unwrap_or(f64::NAN) / 1024.0;
    let kib = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    for (i, entry) in results.iter().enumerate() {
        let (name, r) = (&entry["server"], &entry["result"]);
        let name = name.as_str().unwrap_or("?");
        if i % MODES.len() == 0 {
            out.push_str(&format!(
                "| {name} | idle | {:.1} | {:.2} | – |\n",
                mib(&r["rss_idle_kib"]),
                kib(&r["idle_per_conn_kib"]),
            ));
        }
        let what = match r["mode"].as_str() {
            Some("message") => "after one message each, idle",
            _ => "holding an unfinished compressed message",
        };
        // Per connection: what the burst left on top of the idle figure.
        out.push_str(&format!(
            "| {name} | {what} | {:.1} | +{:.2} | {:.1} |\n",
            mib(&r["rss_after_kib"]),
            kib(&r["per_conn_after_kib"]),
            mib(&r["rss_peak_kib"]),
        ));
    }
    out
}

#[cfg(test)]
mod tests;
