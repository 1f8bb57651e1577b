//! The figures of a bench run: what was measured, per runtime and server,
//! and the run around them. Judged against the targets in
//! `targets`, written out by `markdown` and `json`, with the statistics of
//! `stats` and the number formats of `format`.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::{matrix, Kind, Plan, Runtime};

mod format;
mod json;
mod markdown;
mod stats;
mod targets;

pub use format::{si, size_name};
#[cfg(test)]
pub use json::stats as stats_json;
pub use json::{stats_of, stats_of_some};
pub use stats::{median, paired_ratios, spread};

/// Figure `key` of a load generator's report; 0 if it is missing.
pub fn figure(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

/// The CPU a measurement used, as a share of one core: the load
/// generator's, and the server's where it was measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cpu {
    pub client: f64,
    pub server: Option<f64>,
}

impl Cpu {
    pub fn from_json(v: &Value) -> Self {
        Cpu {
            client: figure(v, "client_cpu"),
            server: v["server_cpu"].as_f64(),
        }
    }
}

/// One throughput measurement of one server.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// The repeat it was measured in, from 0: the samples of one repeat
    /// were taken back to back, and are compared with each other.
    pub round: usize,
    pub msgs_per_sec: f64,
    pub mb_per_sec: f64,
    pub cpu: Cpu,
}

impl Sample {
    pub fn from_json(v: &Value, round: usize) -> Self {
        Sample {
            round,
            msgs_per_sec: figure(v, "msgs_per_sec"),
            mb_per_sec: figure(v, "mb_per_sec"),
            cpu: Cpu::from_json(v),
        }
    }
}

/// One matrix point: its samples per server, in `Kind::ALL` order, and
/// wsup's messages per CPU second against raw TCP's, measured in turns
/// (and fastwebsockets', where it runs).
#[derive(Debug)]
pub struct Throughput {
    pub size: usize,
    pub conns: usize,
    pub window: usize,
    pub samples: [Vec<Sample>; SERVERS],
    pub turns: Vec<Turns>,
    /// fastwebsockets against raw TCP, in turns the same way (tokio only):
    /// the fastest Rust peer's figure beside wsup's.
    pub peer_turns: Vec<Turns>,
}

/// A server (wsup, or a peer) and raw TCP measured in turns by one load
/// generator (its `interleave` mode): messages per second of each server's
/// CPU.
#[derive(Debug, Clone, Copy)]
pub struct Turns {
    /// The repeat it was measured in, from 0.
    pub round: usize,
    pub server: f64,
    pub ceiling: f64,
}

impl Turns {
    pub fn from_json(v: &Value, round: usize) -> Self {
        Turns {
            round,
            server: figure(&v["a"], "msgs_per_cpu_second"),
            ceiling: figure(&v["b"], "msgs_per_cpu_second"),
        }
    }

    /// The server's figure ÷ raw TCP's.
    pub fn ratio(&self) -> f64 {
        self.server / self.ceiling
    }
}

/// How many servers a runtime's results cover: `Kind::ALL.len()`.
pub const SERVERS: usize = Kind::ALL.len();

const WSUP: usize = Kind::Wsup.index();
const BATCHED: usize = Kind::Baseline.index();
const CEILING: usize = Kind::Ceiling.index();

/// The paired ratios of each runtime's table, `(of, to)`: each of wsup's
/// two idioms against the peers, and the tuned one against the ceiling.
const RATIOS: [(Kind, Kind); 6] = [
    (Kind::Wsup, Kind::Baseline),
    (Kind::Wsup, Kind::BaselineSend),
    (Kind::Wsup, Kind::Fastwebsockets),
    (Kind::Wsup, Kind::Ceiling),
    (Kind::WsupLoop, Kind::BaselineSend),
    (Kind::WsupLoop, Kind::Fastwebsockets),
];

/// One latency measurement of one server, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// The latency round it was measured in, from 0 and across repeats.
    pub round: usize,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub cpu: Cpu,
}

impl Latency {
    pub fn from_json(v: &Value, round: usize) -> Self {
        Latency {
            round,
            p50: figure(v, "p50_us"),
            p99: figure(v, "p99_us"),
            p999: figure(v, "p999_us"),
            cpu: Cpu::from_json(v),
        }
    }
}

/// Resident memory around opening idle connections.
#[derive(Debug, Clone, Copy)]
pub struct Idle {
    pub opened: usize,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
}

impl Idle {
    pub fn per_conn_kib(&self) -> f64 {
        self.rss_after_kib.saturating_sub(self.rss_before_kib) as f64 / self.opened as f64
    }
}

/// Heap allocations over a one-connection run.
#[derive(Debug, Clone, Copy)]
pub struct Alloc {
    pub size: usize,
    pub messages: u64,
    pub allocs: u64,
    pub bytes: u64,
}

impl Alloc {
    pub fn new(size: usize, messages: u64, before: (u64, u64), after: (u64, u64)) -> Self {
        Alloc {
            size,
            messages,
            allocs: after.0.saturating_sub(before.0),
            bytes: after.1.saturating_sub(before.1),
        }
    }

    pub fn per_message(&self) -> f64 {
        self.allocs as f64 / self.messages.max(1) as f64
    }

    pub fn bytes_per_message(&self) -> f64 {
        self.bytes as f64 / self.messages.max(1) as f64
    }
}

/// Everything measured on one runtime.
#[derive(Debug)]
pub struct RuntimeResults {
    pub runtime: Runtime,
    pub throughput: Vec<Throughput>,
    /// Per server, in `Kind::ALL` order.
    pub latency: [Vec<Latency>; SERVERS],
    /// Per server; none for those not measured (`Kind::idle_measured`).
    pub idle: [Option<Idle>; SERVERS],
    /// wsup, then the baseline.
    pub allocs: [Vec<Alloc>; 2],
}

impl RuntimeResults {
    pub fn new(runtime: Runtime, plan: &Plan) -> Self {
        RuntimeResults {
            runtime,
            throughput: matrix(&plan.conns, &plan.sizes, |conns, size| Throughput {
                size,
                conns,
                window: Plan::window(size),
                samples: Default::default(),
                turns: Vec::new(),
                peer_turns: Vec::new(),
            }),
            latency: Default::default(),
            idle: [None; SERVERS],
            allocs: Default::default(),
        }
    }
}

/// A whole run: where, when, what, and the figures.
#[derive(Debug)]
pub struct Report {
    pub run: RunInfo,
    pub plan: Plan,
    pub results: Vec<RuntimeResults>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(root: &Path, plan: &Plan, results: Vec<RuntimeResults>, notes: Vec<String>) -> Self {
        Report {
            run: RunInfo::collect(root),
            plan: plan.clone(),
            results,
            notes,
        }
    }
}

/// Where and when a run was made: the host, its CPU, the git revision.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub host: String,
    pub cpu_model: String,
    pub cores: usize,
    pub revision: String,
    /// Tracked files were modified.
    pub dirty: bool,
    pub date: String,
}

impl RunInfo {
    /// This host now, and the revision checked out at `root`.
    pub fn collect(root: &Path) -> Self {
        let git = |args: &[&str]| {
            Command::new("git")
                .current_dir(root)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        RunInfo {
            host: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "unknown".to_owned()),
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
                .unwrap_or_else(|| "unknown".to_owned()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            revision: git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned()),
            dirty: git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty()),
            date: utc_now(),
        }
    }

    /// A made-up run, for tests that must not ask git or the host.
    #[cfg(test)]
    pub fn fixed() -> Self {
        RunInfo {
            host: "test".to_owned(),
            cpu_model: "none".to_owned(),
            cores: 2,
            revision: "0000000".to_owned(),
            dirty: false,
            date: "2025-01-01T00:00:00Z".to_owned(),
        }
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;
