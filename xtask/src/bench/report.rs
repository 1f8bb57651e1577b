//! The figures of a bench run, and their markdown and JSON forms.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{Kind, Plan, Runtime};

/// One throughput measurement of one server.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// The repeat it was measured in, from 0: the samples of one repeat
    /// were taken back to back, and are compared with each other.
    pub round: usize,
    pub msgs_per_sec: f64,
    pub mb_per_sec: f64,
    pub client_cpu: f64,
    pub server_cpu: Option<f64>,
}

impl Sample {
    pub fn from_json(v: &Value, round: usize) -> Self {
        Sample {
            round,
            msgs_per_sec: v["msgs_per_sec"].as_f64().unwrap_or(0.0),
            mb_per_sec: v["mb_per_sec"].as_f64().unwrap_or(0.0),
            client_cpu: v["client_cpu"].as_f64().unwrap_or(0.0),
            server_cpu: v["server_cpu"].as_f64(),
        }
    }
}

/// One matrix point: its samples per server, in `Kind::ALL` order.
#[derive(Debug)]
pub struct Throughput {
    pub size: usize,
    pub conns: usize,
    pub window: usize,
    pub samples: [Vec<Sample>; SERVERS],
}

/// How many servers a runtime's results cover: `Kind::ALL.len()`.
pub const SERVERS: usize = Kind::ALL.len();

const WSUP: usize = Kind::Wsup.index();
const BATCHED: usize = Kind::Baseline.index();
const SEND: usize = Kind::BaselineSend.index();
const CEILING: usize = Kind::Ceiling.index();

/// One latency measurement of one server, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// The latency round it was measured in, from 0 and across repeats.
    pub round: usize,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub client_cpu: f64,
    pub server_cpu: Option<f64>,
}

impl Latency {
    pub fn from_json(v: &Value, round: usize) -> Self {
        Latency {
            round,
            p50: v["p50_us"].as_f64().unwrap_or(0.0),
            p99: v["p99_us"].as_f64().unwrap_or(0.0),
            p999: v["p999_us"].as_f64().unwrap_or(0.0),
            client_cpu: v["client_cpu"].as_f64().unwrap_or(0.0),
            server_cpu: v["server_cpu"].as_f64(),
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
    /// Per server; none for the `send` baseline, which is not measured.
    pub idle: [Option<Idle>; SERVERS],
    /// wsup, then the baseline.
    pub allocs: [Vec<Alloc>; 2],
}

impl RuntimeResults {
    pub fn new(runtime: Runtime, plan: &Plan) -> Self {
        let mut throughput = Vec::new();
        for &conns in &plan.conns {
            for &size in &plan.sizes {
                throughput.push(Throughput {
                    size,
                    conns,
                    window: Plan::window(size),
                    samples: Default::default(),
                });
            }
        }
        RuntimeResults {
            runtime,
            throughput,
            latency: Default::default(),
            idle: [None; SERVERS],
            allocs: Default::default(),
        }
    }

    /// The targets, judged on these figures; allocations at the
    /// sizes of `plan` whose frames fit the read buffer.
    pub fn targets(&self, plan: &Plan) -> Vec<Target> {
        let throughput = |size: usize, conns: usize, other: usize, get: fn(&Sample) -> f64| {
            self.throughput
                .iter()
                .find(|t| t.size == size && t.conns == conns)
                .map_or_else(Vec::new, |t| paired(&t.samples, other, get))
        };
        let ratio = |name: String, comparison, bound, ratios| Target {
            name,
            comparison,
            bound: Some(bound),
            bound_from: None,
            figure: Figure::Paired(ratios),
            fmt: fixed2,
        };
        let mut targets = Vec::new();
        for size in [16, 1 << 10] {
            for kind in [Kind::BaselineSend, Kind::Baseline] {
                targets.push(ratio(
                    format!(
                        "{} × 100 conn, msg/s: wsup ÷ {}",
                        size_name(size),
                        whose(kind)
                    ),
                    Comparison::AtLeast,
                    2.0,
                    throughput(size, 100, kind.index(), |s| s.msgs_per_sec),
                ));
            }
        }
        for size in [64 << 10, 1 << 20] {
            for conns in [1, 100] {
                targets.push(ratio(
                    format!("{} × {conns} conn, MB/s: wsup ÷ raw TCP", size_name(size)),
                    Comparison::AtLeast,
                    0.9,
                    throughput(size, conns, CEILING, |s| s.mb_per_sec),
                ));
            }
        }
        targets.push(ratio(
            "latency 16 B × 1 conn, p99: wsup ÷ raw TCP".to_owned(),
            Comparison::AtMost,
            1.2,
            paired(&self.latency, CEILING, |l| l.p99),
        ));
        targets.push(Target {
            name: "RSS per idle connection, wsup, KiB".to_owned(),
            comparison: Comparison::AtMost,
            bound: Some(8.0),
            bound_from: None,
            figure: Figure::Value(self.idle[WSUP].map(|i| i.per_conn_kib())),
            fmt: fixed2,
        });
        let per_message = |list: &[Alloc], size: usize| {
            list.iter().find(|a| a.size == size).map(Alloc::per_message)
        };
        for &size in plan.alloc_sizes.iter().filter(|&&s| s <= FITS_READ_BUFFER) {
            // Off tokio, the async-io reactor allocates for both servers.
            let (comparison, bound, bound_from) = if self.runtime == Runtime::Tokio {
                (Comparison::Below, Some(0.01), None)
            } else {
                (
                    Comparison::AtMost,
                    per_message(&self.allocs[1], size).map(|b| b * ALLOC_TOLERANCE),
                    Some(Kind::Baseline),
                )
            };
            targets.push(Target {
                name: format!(
                    "allocations per message, {} × 1 conn, wsup",
                    size_name(size)
                ),
                comparison,
                bound,
                bound_from,
                figure: Figure::Value(per_message(&self.allocs[0], size)),
                fmt: small,
            });
        }
        targets
    }
}

/// Median, min and max; `None` when empty.
pub fn spread(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64, f64)> {
    let mut v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((median, v[0], v[n - 1]))
}

pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    spread(values).map(|(m, _, _)| m)
}

/// A measurement taken in a numbered round, which pairs it with the other
/// servers' measurements of the same round.
pub trait Round {
    fn round(&self) -> usize;
}

impl Round for Sample {
    fn round(&self) -> usize {
        self.round
    }
}

impl Round for Latency {
    fn round(&self) -> usize {
        self.round
    }
}

/// `a ÷ b` for each round present in both, as `(round, value)` pairs, in
/// `a`'s order; a round where `b` is not positive is skipped.
pub fn paired_ratios(a: &[(usize, f64)], b: &[(usize, f64)]) -> Vec<f64> {
    a.iter()
        .filter_map(|&(round, x)| {
            let &(_, y) = b.iter().find(|&&(r, _)| r == round)?;
            (y > 0.0).then(|| x / y)
        })
        .collect()
}

/// wsup's figure ÷ server `other`'s, one ratio per round measured on both.
pub fn paired<T: Round>(
    samples: &[Vec<T>; SERVERS],
    other: usize,
    get: impl Fn(&T) -> f64,
) -> Vec<f64> {
    let by_round = |v: &[T]| v.iter().map(|s| (s.round(), get(s))).collect::<Vec<_>>();
    paired_ratios(&by_round(&samples[WSUP]), &by_round(&samples[other]))
}

/// The largest message whose frame fits wsup's default 4 KiB read buffer,
/// with the largest client frame header (14 bytes): up to it, an echo
/// needs no allocation of its own.
const FITS_READ_BUFFER: usize = (4 << 10) - 14;

/// Off tokio, wsup's allocations per message may exceed the baseline's by
/// this factor: both are the reactor's, one per turn, and the turns a run
/// takes vary.
const ALLOC_TOLERANCE: f64 = 1.05;

/// How a target's figure must compare with its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    AtLeast,
    AtMost,
    /// Strictly below.
    Below,
}

impl Comparison {
    /// Whether `x` meets `bound`.
    pub fn holds(self, x: f64, bound: f64) -> bool {
        match self {
            Comparison::AtLeast => x >= bound,
            Comparison::AtMost => x <= bound,
            Comparison::Below => x < bound,
        }
    }

    /// Its name in `results.json`.
    pub fn key(self) -> &'static str {
        match self {
            Comparison::AtLeast => "at_least",
            Comparison::AtMost => "at_most",
            Comparison::Below => "below",
        }
    }

    /// Its sign in `results.md`.
    fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => "≥",
            Comparison::AtMost => "≤",
            Comparison::Below => "<",
        }
    }
}

/// What a target is judged on.
#[derive(Debug, Clone)]
pub enum Figure {
    /// wsup ÷ another server, one ratio per round measured on both.
    Paired(Vec<f64>),
    /// A single figure of wsup's; `None` if its measurement failed.
    Value(Option<f64>),
}

/// One target of the issue on one runtime, and the figure that decides it.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub comparison: Comparison,
    /// `None` when the bound is another server's figure, and that failed.
    pub bound: Option<f64>,
    /// Whose figure the bound is, when it is not a fixed number.
    pub bound_from: Option<Kind>,
    pub figure: Figure,
    /// How the figure is written.
    pub fmt: fn(f64) -> String,
}

impl Target {
    /// Median, min and max of the figure; `None` without data.
    pub fn spread(&self) -> Option<(f64, f64, f64)> {
        match &self.figure {
            Figure::Paired(ratios) => spread(ratios.iter().copied()),
            Figure::Value(value) => value.map(|v| (v, v, v)),
        }
    }

    /// Whether the median meets the bound; `None` without data.
    pub fn met(&self) -> Option<bool> {
        let (median, _, _) = self.spread()?;
        Some(self.comparison.holds(median, self.bound?))
    }

    /// Rounds meeting the bound, and rounds; `None` for a single figure.
    pub fn rounds_met(&self) -> Option<(usize, usize)> {
        match &self.figure {
            Figure::Paired(ratios) => {
                let met = self.bound.map_or(0, |bound| {
                    ratios
                        .iter()
                        .filter(|&&x| self.comparison.holds(x, bound))
                        .count()
                });
                Some((met, ratios.len()))
            }
            Figure::Value(_) => None,
        }
    }

    /// `≥ 2`, or `≤ batched baseline (0.052)` for another server's figure.
    fn bound_cell(&self) -> String {
        let symbol = self.comparison.symbol();
        match (self.bound_from, self.bound) {
            (None, Some(bound)) => format!("{symbol} {bound}"),
            (Some(kind), Some(bound)) => {
                format!("{symbol} {} + 5% ({})", whose(kind), (self.fmt)(bound))
            }
            (Some(kind), None) => format!("{symbol} {} (failed)", whose(kind)),
            (None, None) => "–".to_owned(),
        }
    }

    /// The markdown row of this target on `runtime`.
    fn markdown_row(&self, runtime: Runtime) -> String {
        let figure = match &self.figure {
            Figure::Paired(ratios) => cell(ratios, self.fmt),
            Figure::Value(value) => value.map_or("failed".to_owned(), self.fmt),
        };
        let rounds = match self.rounds_met() {
            Some((met, rounds)) if rounds > 0 => format!("{met}/{rounds}"),
            _ => "–".to_owned(),
        };
        let verdict = match self.met() {
            Some(true) => "met",
            Some(false) => "missed",
            None => "–",
        };
        format!(
            "| {} | {} | {} | {figure} | {rounds} | {verdict} |\n",
            self.name,
            runtime.name(),
            self.bound_cell(),
        )
    }

    /// The JSON object of this target on `runtime`.
    fn json(&self, runtime: Runtime) -> Value {
        let spread = self.spread();
        let rounds = self.rounds_met();
        json!({
            "runtime": runtime.name(),
            "target": self.name,
            "bound": self.bound,
            "bound_from": self.bound_from.map(Kind::key),
            "comparison": self.comparison.key(),
            "median": spread.map(|s| s.0),
            "min": spread.map(|s| s.1),
            "max": spread.map(|s| s.2),
            "rounds_met": rounds.map(|r| r.0),
            "rounds": rounds.map(|r| r.1),
            "met": self.met().unwrap_or(false),
        })
    }
}

/// How a server is called in the targets.
fn whose(kind: Kind) -> &'static str {
    match kind {
        Kind::Wsup => "wsup",
        Kind::Baseline => "batched baseline",
        Kind::BaselineSend => "send baseline",
        Kind::Ceiling => "raw TCP",
    }
}

/// `16 B`, `1 KiB`, `64 KiB`, `1 MiB`.
pub fn size_name(size: usize) -> String {
    match size {
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 && s % (1 << 10) == 0 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// A number with an SI suffix and three or four significant digits.
pub fn si(x: f64) -> String {
    let (value, suffix) = if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$}{suffix}")
}

fn cell(values: &[f64], fmt: fn(f64) -> String) -> String {
    match spread(values.iter().copied()) {
        None => "failed".to_owned(),
        Some((m, _, _)) if values.len() == 1 => fmt(m),
        Some((m, lo, hi)) => format!("{} ({}–{})", fmt(m), fmt(lo), fmt(hi)),
    }
}

/// `a ÷ b` of two single figures.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "–".to_owned(),
    }
}

/// The cells of one figure: each server's median and spread, then the
/// median of wsup's paired ratios to the batched baseline, the `send`
/// baseline and the ceiling.
fn row<T: Round>(
    samples: &[Vec<T>; SERVERS],
    get: fn(&T) -> f64,
    fmt: fn(f64) -> String,
) -> String {
    let cells: Vec<String> = samples
        .iter()
        .map(|v| cell(&v.iter().map(get).collect::<Vec<_>>(), fmt))
        .collect();
    let ratio = |other| median(paired(samples, other, get)).map_or("–".to_owned(), fixed2);
    format!(
        "{} | {} | {} | {}",
        cells.join(" | "),
        ratio(BATCHED),
        ratio(SEND),
        ratio(CEILING),
    )
}

/// wsup's paired ratios to the other servers, by the other's key.
fn paired_json<T: Round>(samples: &[Vec<T>; SERVERS], get: fn(&T) -> f64) -> Value {
    let mut ratios = serde_json::Map::new();
    for kind in [Kind::Baseline, Kind::BaselineSend, Kind::Ceiling] {
        ratios.insert(
            kind.key().to_owned(),
            json!(paired(samples, kind.index(), get)),
        );
    }
    Value::Object(ratios)
}

/// `server / load gen on wsup, on raw TCP`, each the median.
fn cpu_cell(
    server: impl IntoIterator<Item = f64>,
    loadgen_wsup: impl IntoIterator<Item = f64>,
    loadgen_ceiling: impl IntoIterator<Item = f64>,
) -> String {
    format!(
        "{} / {}, {}",
        percent(median(server)),
        percent(median(loadgen_wsup)),
        percent(median(loadgen_ceiling))
    )
}

fn percent(x: Option<f64>) -> String {
    x.map_or("–".to_owned(), |x| format!("{:.0}%", x * 100.0))
}

fn fixed1(x: f64) -> String {
    format!("{x:.1}")
}

fn fixed2(x: f64) -> String {
    format!("{x:.2}")
}

/// Two significant digits below 1, so that 0.0003 does not read as 0;
/// two decimals otherwise.
fn small(x: f64) -> String {
    let digits = if x > 0.0 && x < 1.0 {
        (1 - x.log10().floor() as i32).clamp(2, 6) as usize
    } else {
        2
    };
    format!("{x:.digits$}")
}

/// A whole run: where, when, what, and the figures.
#[derive(Debug)]
pub struct Report {
    pub host: String,
    pub cpu_model: String,
    pub cores: usize,
    pub revision: String,
    pub dirty: bool,
    pub date: String,
    pub plan: Plan,
    pub results: Vec<RuntimeResults>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(root: &Path, plan: &Plan, results: Vec<RuntimeResults>, notes: Vec<String>) -> Self {
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
        Report {
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
            plan: plan.clone(),
            results,
            notes,
        }
    }

    pub fn markdown(&self) -> String {
        let p = &self.plan;
        let mut md = format!(
            "# wsup bench, {}\n\n\
             Host `{}`, CPU {} ({} cores), revision `{}`{}; {} mode: {} repeat(s), \
             {} s measured after {} s of warm-up per point; latency {} round(s) of {} s per \
             repeat.\n\n\
             Each server runs with one worker thread pinned to core 0; the load generator \
             is pinned to core 1. Figures are medians of the repeats with (min–max). \
             MB/s counts echoed payload bytes (10^6 bytes), one direction; messages are \
             binary, uncompressed; W is the number of messages kept in flight per connection. \
             Ratios are paired: wsup ÷ the other server measured in the same repeat (for \
             latency, the same round), and the median of those over the repeats; for idle \
             memory and allocations, single figures, wsup's ÷ the other's. For throughput \
             above 1 is better, for latency, memory and allocations below 1 is better. \
             CPU (medians): the wsup server's, then the load generator's while it measured \
             wsup and while it measured raw TCP (near 100% would mean the load generator is the bottleneck; against the \
             `send` baseline it runs higher, with a read per echoed message).\n",
            self.date,
            self.host,
            self.cpu_model,
            self.cores,
            self.revision,
            if self.dirty {
                " (uncommitted changes)"
            } else {
                ""
            },
            if p.quick { "quick" } else { "full" },
            p.repeats,
            p.duration,
            p.warmup,
            p.latency_rounds,
            p.latency_duration,
        );
        md.push_str(&self.targets_markdown());
        for r in &self.results {
            md.push_str(&format!(
                "\n## {}\n\n\
                 | figure | wsup | async-tungstenite, batched | async-tungstenite, send | raw TCP \
                 | wsup/batched | wsup/send | wsup/ceiling | CPU: wsup / load gen on wsup, on raw TCP |\n\
                 |---|---|---|---|---|---|---|---|---|\n",
                r.runtime.name()
            ));
            for t in &r.throughput {
                let cpu = cpu_cell(
                    t.samples[WSUP].iter().filter_map(|s| s.server_cpu),
                    t.samples[WSUP].iter().map(|s| s.client_cpu),
                    t.samples[CEILING].iter().map(|s| s.client_cpu),
                );
                for (unit, get) in [
                    ("msg/s", (|s: &Sample| s.msgs_per_sec) as fn(&Sample) -> f64),
                    ("MB/s", |s: &Sample| s.mb_per_sec),
                ] {
                    let fmt: fn(f64) -> String = if unit == "msg/s" { si } else { fixed1 };
                    md.push_str(&format!(
                        "| {} × {} conn (W={}), {unit} | {} | {} |\n",
                        size_name(t.size),
                        t.conns,
                        t.window,
                        row(&t.samples, get, fmt),
                        if unit == "msg/s" { cpu.as_str() } else { "" },
                    ));
                }
            }
            for (name, get) in [
                ("p50", (|l: &Latency| l.p50) as fn(&Latency) -> f64),
                ("p99", |l: &Latency| l.p99),
                ("p99.9", |l: &Latency| l.p999),
            ] {
                let cpu = if name == "p50" {
                    cpu_cell(
                        r.latency[WSUP].iter().filter_map(|l| l.server_cpu),
                        r.latency[WSUP].iter().map(|l| l.client_cpu),
                        r.latency[CEILING].iter().map(|l| l.client_cpu),
                    )
                } else {
                    String::new()
                };
                md.push_str(&format!(
                    "| latency 16 B × 1 conn (W=1), {name}, µs | {} | {cpu} |\n",
                    row(&r.latency, get, fixed1),
                ));
            }
            let idle: Vec<Option<f64>> =
                r.idle.iter().map(|i| i.map(|i| i.per_conn_kib())).collect();
            let opened = r.idle.iter().flatten().map(|i| i.opened).max().unwrap_or(0);
            let show = |x: Option<f64>| x.map_or("failed".to_owned(), fixed2);
            md.push_str(&format!(
                "| RSS per idle connection ({opened} conns), KiB | {} | {} | – | {} | {} | – | {} | |\n",
                show(idle[WSUP]),
                show(idle[BATCHED]),
                show(idle[CEILING]),
                ratio(idle[WSUP], idle[BATCHED]),
                ratio(idle[WSUP], idle[CEILING]),
            ));
            for a in &r.allocs[0] {
                let base = r.allocs[1].iter().find(|b| b.size == a.size);
                md.push_str(&format!(
                    "| allocations per message, {} × 1 conn (bytes per message) | {:.2} ({:.0} B) | {} | – | – | {} | – | – | |\n",
                    size_name(a.size),
                    a.per_message(),
                    a.bytes_per_message(),
                    base.map_or("failed".to_owned(), |b| format!(
                        "{:.2} ({:.0} B)",
                        b.per_message(),
                        b.bytes_per_message()
                    )),
                    ratio(Some(a.per_message()), base.map(|b| b.per_message())),
                ));
            }
        }
        md.push_str(
            "\n## Notes\n\n\
             - RSS per idle connection is (VmRSS after − VmRSS before) ÷ connections, \
             read from /proc/PID/status on a fresh server; kernel socket buffers are not \
             in RSS and are not counted.\n\
             - Allocations are counted by a counting global allocator: wsup's `echo` built \
             with `--features count-allocs`, the baseline with `WSUP_BENCH_COUNT_ALLOCS=1`; \
             the count over a whole one-connection run (handshake and teardown included) \
             divided by the messages echoed; the raw TCP server is not counted.\n\
             - The baseline runs in two styles. Batched: `feed`, and a flush only when no \
             further message is already readable: the same batching as wsup's `echo`, and \
             what `StreamExt::forward` does in async-tungstenite's `echo-server` example. \
             Send: `while let Some(msg) = ws.next().await { ws.send(msg).await }`, the loop \
             of its `autobahn-server` example; `send` flushes every message. Idle memory and \
             allocations are measured on the batched one only.\n",
        );
        for note in &self.notes {
            md.push_str(&format!("- {note}\n"));
        }
        md
    }

    /// The targets section: a row per target and runtime, the runtimes of
    /// a target together.
    fn targets_markdown(&self) -> String {
        let targets: Vec<Vec<Target>> =
            self.results.iter().map(|r| r.targets(&self.plan)).collect();
        let mut md = "\n## Targets\n\n\
             | target | runtime | bound | figure: median (min–max) | rounds meeting the bound | verdict |\n\
             |---|---|---|---|---|---|\n"
            .to_owned();
        let count = targets.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..count {
            for (r, list) in self.results.iter().zip(&targets) {
                if let Some(target) = list.get(i) {
                    md.push_str(&target.markdown_row(r.runtime));
                }
            }
        }
        md.push_str(
            "\nRatios are paired: each repeat measures the four servers back to back (which \
             one goes first rotates from repeat to repeat), so wsup's figure is divided by the other server's from the same repeat (for \
             latency, the same round), and the verdict is decided on the median of those \
             ratios over the repeats. Allocations: on tokio the target is fewer than 0.01 per \
             message; on smol and async-std the allocations are the async-io reactor's, \
             shared by both servers, so the target is met when wsup's count is within 5% \
             of the batched baseline's (the counts differ by the reactor turns each run \
             happened to take).\n",
        );
        md
    }

    pub fn json(&self) -> Value {
        let stats = |values: Vec<f64>| match spread(values.iter().copied()) {
            Some((median, min, max)) => {
                json!({"median": median, "min": min, "max": max, "samples": values})
            }
            None => Value::Null,
        };
        let runtimes: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                let throughput: Vec<Value> = r
                    .throughput
                    .iter()
                    .map(|t| {
                        let mut servers = serde_json::Map::new();
                        for (kind, samples) in Kind::ALL.iter().zip(&t.samples) {
                            servers.insert(
                                kind.key().to_owned(),
                                json!({
                                    "msgs_per_sec": stats(samples.iter().map(|s| s.msgs_per_sec).collect()),
                                    "mb_per_sec": stats(samples.iter().map(|s| s.mb_per_sec).collect()),
                                    "client_cpu": stats(samples.iter().map(|s| s.client_cpu).collect()),
                                    "server_cpu": stats(samples.iter().filter_map(|s| s.server_cpu).collect()),
                                }),
                            );
                        }
                        json!({
                            "size": t.size,
                            "conns": t.conns,
                            "window": t.window,
                            "servers": servers,
                            "paired_ratios": paired_json(&t.samples, |s| s.msgs_per_sec),
                        })
                    })
                    .collect();
                let mut latency = serde_json::Map::new();
                let mut idle = serde_json::Map::new();
                for (i, kind) in Kind::ALL.iter().enumerate() {
                    let l = &r.latency[i];
                    latency.insert(
                        kind.key().to_owned(),
                        json!({
                            "p50_us": stats(l.iter().map(|l| l.p50).collect()),
                            "p99_us": stats(l.iter().map(|l| l.p99).collect()),
                            "p999_us": stats(l.iter().map(|l| l.p999).collect()),
                            "client_cpu": stats(l.iter().map(|l| l.client_cpu).collect()),
                            "server_cpu": stats(l.iter().filter_map(|l| l.server_cpu).collect()),
                        }),
                    );
                    idle.insert(
                        kind.key().to_owned(),
                        r.idle[i].map_or(Value::Null, |i| {
                            json!({
                                "connections": i.opened,
                                "rss_before_kib": i.rss_before_kib,
                                "rss_after_kib": i.rss_after_kib,
                                "kib_per_connection": i.per_conn_kib(),
                            })
                        }),
                    );
                }
                let allocs = |list: &[Alloc]| -> Vec<Value> {
                    list.iter()
                        .map(|a| {
                            json!({
                                "size": a.size,
                                "messages": a.messages,
                                "allocations": a.allocs,
                                "bytes": a.bytes,
                                "per_message": a.per_message(),
                                "bytes_per_message": a.bytes_per_message(),
                            })
                        })
                        .collect()
                };
                json!({
                    "runtime": r.runtime.name(),
                    "throughput": throughput,
                    "latency_16b_1conn_w1": latency,
                    // Beside the latency object, whose keys are the servers.
                    "latency_16b_1conn_w1_p99_paired_ratios": paired_json(&r.latency, |l| l.p99),
                    "idle_rss": idle,
                    "allocations": {"wsup": allocs(&r.allocs[0]), "baseline": allocs(&r.allocs[1])},
                })
            })
            .collect();
        let targets: Vec<Value> = self
            .results
            .iter()
            .flat_map(|r| {
                r.targets(&self.plan)
                    .into_iter()
                    .map(|t| t.json(r.runtime))
                    .collect::<Vec<_>>()
            })
            .collect();
        let p = &self.plan;
        json!({
            "host": self.host,
            "cpu_model": self.cpu_model,
            "cores": self.cores,
            "git_revision": self.revision,
            "git_dirty": self.dirty,
            "date": self.date,
            "mode": if p.quick { "quick" } else { "full" },
            "settings": {
                "repeats": p.repeats,
                "warmup_s": p.warmup,
                "duration_s": p.duration,
                "latency_duration_s": p.latency_duration,
                "latency_rounds_per_repeat": p.latency_rounds,
                "idle_connections": p.idle_conns,
                "server_core": super::SERVER_CORE,
                "loadgen_core": super::LOADGEN_CORE,
            },
            "servers": {
                "wsup": "examples echo (wsup)",
                "baseline": "benches tungstenite_echo batched (async-tungstenite 0.35; feed, flush when no message is readable)",
                "baseline_send": "benches tungstenite_echo send (async-tungstenite 0.35; send per message)",
                "ceiling": "benches tcp_echo (raw TCP, 256 KiB buffer)",
            },
            "targets": targets,
            "runtimes": runtimes,
            "notes": self.notes,
        })
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
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_middle_value() {
        assert_eq!(spread([3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(spread([4.0, 1.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(spread([]), None);
    }

    #[test]
    fn each_server_indexes_its_own_place_in_the_results() {
        for (i, kind) in Kind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i, "{kind:?}");
        }
        assert_eq!(SERVERS, 4);
    }

    #[test]
    fn paired_ratios_pair_by_round_and_skip_the_missing() {
        let wsup = [(0, 6.0), (1, 4.0), (2, 12.0), (4, 1.0)];
        // Round 1 failed on the other server, round 3 on wsup; round 4 has
        // no positive figure to divide by.
        let other = [(2, 3.0), (0, 2.0), (3, 5.0), (4, 0.0)];
        assert_eq!(paired_ratios(&wsup, &other), vec![3.0, 4.0]);
        assert_eq!(paired_ratios(&wsup, &[]), Vec::<f64>::new());
    }

    /// A throughput sample of `msgs` messages of `size` bytes a second.
    fn sample(round: usize, size: usize, msgs: f64) -> Sample {
        Sample {
            round,
            msgs_per_sec: msgs,
            mb_per_sec: msgs * size as f64 / 1e6,
            client_cpu: 0.5,
            server_cpu: Some(0.9),
        }
    }

    /// A latency sample with p99 `p99` µs, p50 half and p99.9 twice that.
    fn latency(round: usize, p99: f64) -> Latency {
        Latency {
            round,
            p50: p99 / 2.0,
            p99,
            p999: p99 * 2.0,
            client_cpu: 0.3,
            server_cpu: Some(0.4),
        }
    }

    /// Figures for `rt`: at 16 B × 100 conns wsup does 3, 3 and 1 M msg/s
    /// against the `send` baseline's 1, 1 and 1 M, and the batched
    /// baseline misses round 1; at every other point wsup echoes 95% of the
    /// others' rate, and its p99 is 1.1 times raw TCP's but for one slow
    /// round of four.
    fn results(rt: Runtime, plan: &Plan) -> RuntimeResults {
        let mut r = RuntimeResults::new(rt, plan);
        for t in &mut r.throughput {
            for round in 0..3 {
                let (wsup, batched, send, ceiling) = if (t.size, t.conns) == (16, 100) {
                    (if round == 2 { 1e6 } else { 3e6 }, 1.5e6, 1e6, 6e6)
                } else {
                    (0.95e5, 1e5, 1e5, 1e5)
                };
                t.samples[WSUP].push(sample(round, t.size, wsup));
                if round != 1 || (t.size, t.conns) != (16, 100) {
                    t.samples[BATCHED].push(sample(round, t.size, batched));
                }
                t.samples[SEND].push(sample(round, t.size, send));
                t.samples[CEILING].push(sample(round, t.size, ceiling));
            }
        }
        for round in 0..4 {
            let slow = if round == 3 { 2.0 } else { 1.0 };
            r.latency[WSUP].push(latency(round, 55.0 * slow));
            for other in [BATCHED, SEND, CEILING] {
                r.latency[other].push(latency(round, 50.0));
            }
        }
        r.idle[WSUP] = Some(Idle {
            opened: 1000,
            rss_before_kib: 2000,
            rss_after_kib: 7000,
        });
        r.idle[BATCHED] = Some(Idle {
            opened: 1000,
            rss_before_kib: 2000,
            rss_after_kib: 30000,
        });
        r.idle[CEILING] = Some(Idle {
            opened: 1000,
            rss_before_kib: 1000,
            rss_after_kib: 1500,
        });
        for &size in &plan.alloc_sizes {
            let wsup = if rt == Runtime::Tokio { 3 } else { 50 };
            r.allocs[0].push(Alloc::new(size, 10_000, (0, 0), (wsup, 1000)));
            r.allocs[1].push(Alloc::new(size, 10_000, (0, 0), (40, 9000)));
        }
        r
    }

    /// A report of `results`, without asking git or the host.
    fn report(plan: &Plan, results: Vec<RuntimeResults>) -> Report {
        Report {
            host: "test".to_owned(),
            cpu_model: "none".to_owned(),
            cores: 2,
            revision: "0000000".to_owned(),
            dirty: false,
            date: "2025-01-01T00:00:00Z".to_owned(),
            plan: plan.clone(),
            results,
            notes: Vec::new(),
        }
    }

    /// The target called `name`.
    fn target<'a>(targets: &'a [Target], name: &str) -> &'a Target {
        targets
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no target {name:?}"))
    }

    #[test]
    fn targets_are_judged_on_the_median_of_paired_ratios() {
        let plan = Plan::new(false);
        let targets = results(Runtime::Tokio, &plan).targets(&plan);

        let send = target(&targets, "16 B × 100 conn, msg/s: wsup ÷ send baseline");
        assert_eq!(send.spread(), Some((3.0, 1.0, 3.0)));
        assert_eq!(send.rounds_met(), Some((2, 3)));
        assert_eq!(send.met(), Some(true));

        // Rounds 0 and 2 only: 3 ÷ 1.5 and 1 ÷ 1.5. The ratio of medians,
        // 3 ÷ 1.5, would have called it met.
        let batched = target(&targets, "16 B × 100 conn, msg/s: wsup ÷ batched baseline");
        let (m, lo, hi) = batched.spread().expect("two rounds pair up");
        assert!((m - 4.0 / 3.0).abs() < 1e-9 && (lo - 2.0 / 3.0).abs() < 1e-9 && hi == 2.0);
        assert_eq!(batched.rounds_met(), Some((1, 2)));
        assert_eq!(batched.met(), Some(false));

        let large = target(&targets, "1 MiB × 100 conn, MB/s: wsup ÷ raw TCP");
        assert_eq!(large.rounds_met(), Some((3, 3)));
        assert_eq!(large.met(), Some(true));

        let p99 = target(&targets, "latency 16 B × 1 conn, p99: wsup ÷ raw TCP");
        assert_eq!(p99.rounds_met(), Some((3, 4)));
        assert_eq!(p99.met(), Some(true));

        let idle = target(&targets, "RSS per idle connection, wsup, KiB");
        assert_eq!(idle.spread(), Some((5.0, 5.0, 5.0)));
        assert_eq!(idle.met(), Some(true));

        // 16 B and 1 KiB fit the read buffer; 64 KiB and 1 MiB do not.
        let allocs: Vec<&str> = targets
            .iter()
            .filter(|t| t.name.starts_with("allocations"))
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            allocs,
            [
                "allocations per message, 16 B × 1 conn, wsup",
                "allocations per message, 1 KiB × 1 conn, wsup"
            ]
        );
        let alloc = target(&targets, allocs[0]);
        assert_eq!(
            (alloc.comparison, alloc.bound),
            (Comparison::Below, Some(0.01))
        );
        assert_eq!(alloc.met(), Some(true));
    }

    #[test]
    fn off_tokio_allocations_are_judged_against_the_baseline() {
        let plan = Plan::new(false);
        let targets = results(Runtime::Smol, &plan).targets(&plan);
        let alloc = target(&targets, "allocations per message, 16 B × 1 conn, wsup");
        assert!((alloc.bound.unwrap() - 0.0042).abs() < 1e-12);
        assert_eq!(alloc.bound_from, Some(Kind::Baseline));
        // 0.005 per message against the baseline's 0.004 and 5%.
        assert_eq!(alloc.met(), Some(false));
    }

    #[test]
    fn missing_figures_have_no_verdict() {
        let plan = Plan::new(false);
        let targets = RuntimeResults::new(Runtime::AsyncStd, &plan).targets(&plan);
        assert!(!targets.is_empty());
        for t in &targets {
            assert_eq!(t.met(), None, "{}", t.name);
        }
        let empty = vec![RuntimeResults::new(Runtime::AsyncStd, &plan)];
        let md = report(&plan, empty).markdown();
        for row in [
            "| 16 B × 100 conn, msg/s: wsup ÷ send baseline | async-std | ≥ 2 | failed | – | – |",
            "| RSS per idle connection, wsup, KiB | async-std | ≤ 8 | failed | – | – |",
            "| allocations per message, 16 B × 1 conn, wsup | async-std | ≤ batched baseline (failed) | failed | – | – |",
        ] {
            assert!(md.contains(row), "no row {row:?} in\n{md}");
        }
    }

    #[test]
    fn the_targets_come_before_the_runtimes_with_their_verdicts() {
        let plan = Plan::new(false);
        let both = vec![
            results(Runtime::Tokio, &plan),
            results(Runtime::Smol, &plan),
        ];
        let report = report(&plan, both);
        let md = report.markdown();
        let targets = md.find("\n## Targets\n").expect("a targets section");
        let tokio = md.find("\n## tokio\n").expect("a tokio section");
        assert!(targets < tokio, "{md}");
        for row in [
            "| 16 B × 100 conn, msg/s: wsup ÷ send baseline | tokio | ≥ 2 | 3.00 (1.00–3.00) | 2/3 | met |",
            "| 16 B × 100 conn, msg/s: wsup ÷ batched baseline | smol | ≥ 2 | 1.33 (0.67–2.00) | 1/2 | missed |",
            "| RSS per idle connection, wsup, KiB | tokio | ≤ 8 | 5.00 | – | met |",
            "| allocations per message, 16 B × 1 conn, wsup | tokio | < 0.01 | 0.00030 | – | met |",
            "| allocations per message, 16 B × 1 conn, wsup | smol | ≤ batched baseline + 5% (0.0042) | 0.0050 | – | missed |",
        ] {
            assert!(md.contains(row), "no row {row:?} in\n{md}");
        }
        // The per-runtime table: paired medians, not the ratio of medians
        // (3 ÷ 1.5 = 2.00 against the batched baseline).
        assert!(
            md.contains(
                "| 16 B × 100 conn (W=16), msg/s | 3.00M (1.00M–3.00M) | 1.50M (1.50M–1.50M) \
                 | 1.00M (1.00M–1.00M) | 6.00M (6.00M–6.00M) | 1.33 | 3.00 | 0.50 |"
            ),
            "{md}"
        );

        let json = report.json();
        let targets = json["targets"].as_array().expect("a targets array");
        let send = targets
            .iter()
            .find(|t| {
                t["runtime"] == "tokio"
                    && t["target"] == "16 B × 100 conn, msg/s: wsup ÷ send baseline"
            })
            .expect("the send target");
        assert_eq!(send["median"], 3.0);
        assert_eq!(send["comparison"], "at_least");
        assert_eq!(send["rounds_met"], 2);
        assert_eq!(send["rounds"], 3);
        assert_eq!(send["met"], true);
        let point = &json["runtimes"][0]["throughput"][0];
        assert_eq!(
            (point["size"].as_u64(), point["conns"].as_u64()),
            (Some(16), Some(1))
        );
        assert_eq!(point["paired_ratios"]["ceiling"], json!([0.95, 0.95, 0.95]));
        assert_eq!(
            json["runtimes"][0]["latency_16b_1conn_w1_p99_paired_ratios"]["ceiling"],
            json!([1.1, 1.1, 1.1, 2.2])
        );
    }

    #[test]
    fn sizes_are_named_in_binary_units() {
        assert_eq!(size_name(16), "16 B");
        assert_eq!(size_name(1024), "1 KiB");
        assert_eq!(size_name(64 << 10), "64 KiB");
        assert_eq!(size_name(1 << 20), "1 MiB");
    }
}
