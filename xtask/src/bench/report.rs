//! The figures of a bench run, and their markdown and JSON forms.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{Kind, Plan, Runtime};

/// One throughput measurement of one server.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub msgs_per_sec: f64,
    pub mb_per_sec: f64,
    pub client_cpu: f64,
    pub server_cpu: Option<f64>,
}

impl Sample {
    pub fn from_json(v: &Value) -> Self {
        Sample {
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
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub client_cpu: f64,
    pub server_cpu: Option<f64>,
}

impl Latency {
    pub fn from_json(v: &Value) -> Self {
        Latency {
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

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "–".to_owned(),
    }
}

/// The cells of one figure: each server's median and spread, then wsup's
/// ratio to the batched baseline, the `send` baseline and the ceiling.
fn row(values: &[Vec<f64>], fmt: fn(f64) -> String) -> String {
    let med: Vec<Option<f64>> = values.iter().map(|v| median(v.iter().copied())).collect();
    let cells: Vec<String> = values.iter().map(|v| cell(v, fmt)).collect();
    format!(
        "{} | {} | {} | {}",
        cells.join(" | "),
        ratio(med[WSUP], med[BATCHED]),
        ratio(med[WSUP], med[SEND]),
        ratio(med[WSUP], med[CEILING]),
    )
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
             Ratios are wsup ÷ the other: for throughput above 1 is better, for latency, \
             memory and allocations below 1 is better. CPU (medians): the wsup server's, then \
             the load generator's while it measured wsup and while it measured raw TCP \
             (near 100% would mean the load generator is the bottleneck; against the \
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
                    let values: Vec<Vec<f64>> = t
                        .samples
                        .iter()
                        .map(|v| v.iter().map(get).collect())
                        .collect();
                    let fmt: fn(f64) -> String = if unit == "msg/s" { si } else { fixed1 };
                    md.push_str(&format!(
                        "| {} × {} conn (W={}), {unit} | {} | {} |\n",
                        size_name(t.size),
                        t.conns,
                        t.window,
                        row(&values, fmt),
                        if unit == "msg/s" { cpu.as_str() } else { "" },
                    ));
                }
            }
            for (name, get) in [
                ("p50", (|l: &Latency| l.p50) as fn(&Latency) -> f64),
                ("p99", |l: &Latency| l.p99),
                ("p99.9", |l: &Latency| l.p999),
            ] {
                let values: Vec<Vec<f64>> = r
                    .latency
                    .iter()
                    .map(|v| v.iter().map(get).collect())
                    .collect();
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
                    row(&values, fixed1),
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
                        json!({"size": t.size, "conns": t.conns, "window": t.window, "servers": servers})
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
                    "idle_rss": idle,
                    "allocations": {"wsup": allocs(&r.allocs[0]), "baseline": allocs(&r.allocs[1])},
                })
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
    fn sizes_are_named_in_binary_units() {
        assert_eq!(size_name(16), "16 B");
        assert_eq!(size_name(1024), "1 KiB");
        assert_eq!(size_name(64 << 10), "64 KiB");
        assert_eq!(size_name(1 << 20), "1 MiB");
    }
}
