//! The figures of a fan-out run, and `fanout.md` / `fanout.json`.

use serde_json::{json, Value};

use super::{Fanout, Plan};
use crate::bench::report::{
    paired_ratios, si, size_name, spread, stats_of, stats_of_some, RunInfo,
};
use crate::bench::{LOADGEN_CORE, SERVER_CORE};

/// Subscribers at which the aims are judged.
pub const TARGET_SUBSCRIBERS: usize = 10_000;
/// wsup's deliveries a second ÷ the baseline's, at least.
pub const TARGET_BASELINE: f64 = 2.0;
/// wsup's deliveries a second ÷ raw TCP's, at least.
pub const TARGET_CEILING: f64 = 0.8;

/// One run of the load generator against one server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The repeat it was measured in: samples of a repeat are paired.
    pub round: usize,
    pub deliveries_per_sec: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub loaded_p50_us: f64,
    pub loaded_p99_us: f64,
    pub kib_per_subscriber: f64,
    /// Resident memory once every message was delivered, per subscriber
    /// (less the server's before any subscriber).
    pub kib_per_subscriber_after: f64,
    pub lost: u64,
    pub server_cpu: Option<f64>,
    pub client_cpu: f64,
}

impl Sample {
    pub fn from_json(v: &Value, round: usize) -> Self {
        let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        let subscribers = v["subscribers"].as_f64().unwrap_or(1.0).max(1.0);
        let after = f(&v["rss_after_kib"]) - f(&v["rss_before_kib"]);
        Sample {
            round,
            deliveries_per_sec: f(&v["deliveries_per_sec"]),
            p50_us: f(&v["latency_us"]["p50"]),
            p99_us: f(&v["latency_us"]["p99"]),
            loaded_p50_us: f(&v["loaded_latency_us"]["p50"]),
            loaded_p99_us: f(&v["loaded_latency_us"]["p99"]),
            kib_per_subscriber: f(&v["kib_per_subscriber"]),
            kib_per_subscriber_after: after / subscribers,
            lost: v["lost"].as_u64().unwrap_or(0),
            server_cpu: v["server_cpu"].as_f64(),
            client_cpu: f(&v["client_cpu"]),
        }
    }

    /// The progress line's part.
    pub fn summary(&self) -> String {
        format!(
            "{}/s p50 {:.1} p99 {:.1} ms {:.1} KiB/sub",
            si(self.deliveries_per_sec),
            self.p50_us / 1e3,
            self.p99_us / 1e3,
            self.kib_per_subscriber
        )
    }
}

/// One point of the matrix: its samples per server, in `Fanout::ALL` order.
#[derive(Debug, Clone)]
pub struct Point {
    pub subscribers: usize,
    pub size: usize,
    pub samples: [Vec<Sample>; 3],
}

impl Point {
    /// Server `a`'s figure ÷ server `b`'s, one ratio per repeat measured
    /// on both.
    pub fn ratios(&self, a: Fanout, b: Fanout, get: fn(&Sample) -> f64) -> Vec<f64> {
        let by_round = |k: Fanout| -> Vec<(usize, f64)> {
            self.samples[k.index()]
                .iter()
                .map(|s| (s.round, get(s)))
                .collect()
        };
        paired_ratios(&by_round(a), &by_round(b))
    }

    /// The median of server `k`'s figure.
    pub fn median(&self, k: Fanout, get: fn(&Sample) -> f64) -> Option<f64> {
        spread(self.samples[k.index()].iter().map(get)).map(|s| s.0)
    }
}

fn rate(s: &Sample) -> f64 {
    s.deliveries_per_sec
}

/// Deliveries per second of the server's CPU: what the server costs, less
/// sensitive than the rate to the load generator and to the rest of the
/// machine.
fn per_cpu(s: &Sample) -> f64 {
    s.server_cpu
        .filter(|&c| c > 0.0)
        .map_or(f64::NAN, |c| s.deliveries_per_sec / c)
}

/// A whole run.
#[derive(Debug)]
pub struct FanoutReport {
    pub run: RunInfo,
    pub plan: Plan,
    pub points: Vec<Point>,
    pub notes: Vec<String>,
}

/// `1.23 (1.10–1.31)`, the median of `values` and their range.
fn ratio_cell(values: &[f64]) -> String {
    match spread(values.iter().copied()) {
        None => "–".to_owned(),
        Some((m, _, _)) if values.len() == 1 => format!("{m:.2}"),
        Some((m, lo, hi)) => format!("{m:.2} ({lo:.2}–{hi:.2})"),
    }
}

fn opt(value: Option<f64>, f: impl Fn(f64) -> String) -> String {
    value.map_or("–".to_owned(), f)
}

impl FanoutReport {
    pub fn markdown(&self) -> String {
        let run = &self.run;
        let plan = &self.plan;
        let mut out = format!(
            "# Fan-out: one publisher, many subscribers\n\n\
             `cargo xtask bench --fanout{}`, {}. Host `{}`, CPU {} ({} cores), revision `{}`{}. \
             Servers on tokio, one thread, pinned to core {SERVER_CORE}; the load generator \
             (subscribers in processes of at most {} connections, and the publisher) on core \
             {LOADGEN_CORE}. Each server is started fresh for each point; {} repeat(s), the \
             servers taking turns; ratios are taken within a repeat (median, min–max).\n\n\
             - **deliveries/s**: messages in windows (all of a window in one write, four \
             windows on their way: the next once the last message of the fourth before it has \
             reached every subscriber), deliveries over their time;\n\
             - **latency**: messages one at a time, from publishing to the last subscriber's \
             receipt (p50 / p99); *loaded*: the same over the windowed messages;\n\
             - **RSS/subscriber**: the server's VmRSS with every subscriber connected, less \
             before any, per subscriber; *after*: once every message was delivered;\n\
             - **server CPU**: its share of a core over the windowed messages.\n\n",
            if plan.quick { " --quick" } else { "" },
            run.date,
            run.host,
            run.cpu_model,
            run.cores,
            run.revision,
            if run.dirty { " (modified)" } else { "" },
            plan.per_process,
            plan.repeats,
        );
        out.push_str(&self.targets_markdown());
        for &size in &plan.sizes {
            out.push_str(&format!(
                "\n## {} messages\n\n\
                 | subscribers | server | deliveries/s | ÷ baseline | ÷ raw TCP | latency p50 / p99, ms \
                 | loaded p50 / p99, ms | RSS/subscriber, KiB | after, KiB | server CPU \
                 | deliveries per server CPU·s |\n\
                 |---|---|---|---|---|---|---|---|---|---|---|\n",
                size_name(size)
            ));
            for point in self.points.iter().filter(|p| p.size == size) {
                for k in Fanout::ALL {
                    let ms = |get: fn(&Sample) -> f64| {
                        opt(point.median(k, get), |v| format!("{:.2}", v / 1e3))
                    };
                    out.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} / {} | {} / {} | {} | {} | {} | {} |\n",
                        point.subscribers,
                        k.name(),
                        opt(point.median(k, rate), si),
                        ratio_cell(&point.ratios(k, Fanout::Baseline, rate)),
                        ratio_cell(&point.ratios(k, Fanout::Ceiling, rate)),
                        ms(|s| s.p50_us),
                        ms(|s| s.p99_us),
                        ms(|s| s.loaded_p50_us),
                        ms(|s| s.loaded_p99_us),
                        opt(point.median(k, |s| s.kib_per_subscriber), |v| format!(
                            "{v:.2}"
                        )),
                        opt(
                            point.median(k, |s| s.kib_per_subscriber_after),
                            |v| format!("{v:.2}")
                        ),
                        opt(
                            spread(point.samples[k.index()].iter().filter_map(|s| s.server_cpu))
                                .map(|s| s.0),
                            |v| format!("{v:.2}")
                        ),
                        opt(point.median(k, per_cpu), si),
                    ));
                }
            }
        }
        let lost: u64 = self
            .points
            .iter()
            .flat_map(|p| p.samples.iter().flatten())
            .map(|s| s.lost)
            .sum();
        if lost > 0 || !self.notes.is_empty() {
            out.push_str("\n## Notes\n\n");
        }
        if lost > 0 {
            out.push_str(&format!(
                "- {lost} deliveries lost (a subscriber skipped a message) over the run.\n"
            ));
        }
        for note in &self.notes {
            out.push_str(&format!("- {note}\n"));
        }
        out
    }

    /// The aims at [`TARGET_SUBSCRIBERS`]: a table, or a sentence when the
    /// run did not reach that many.
    fn targets_markdown(&self) -> String {
        let at: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| p.subscribers == TARGET_SUBSCRIBERS)
            .collect();
        if at.is_empty() {
            return format!(
                "Aims (judged at {TARGET_SUBSCRIBERS} subscribers, not in this run): wsup's \
                 deliveries/s at least {TARGET_BASELINE}× the baseline's and at least \
                 {TARGET_CEILING} of raw TCP's.\n"
            );
        }
        let mut out = format!(
            "| aim at {TARGET_SUBSCRIBERS} subscribers | size | wsup's ratio | verdict |\n\
             |---|---|---|---|\n"
        );
        for p in at {
            for (name, other, bound) in [
                ("deliveries/s ÷ baseline", Fanout::Baseline, TARGET_BASELINE),
                ("deliveries/s ÷ raw TCP", Fanout::Ceiling, TARGET_CEILING),
            ] {
                let ratios = p.ratios(Fanout::Wsup, other, rate);
                let verdict = match spread(ratios.iter().copied()) {
                    Some((m, _, _)) if m >= bound => "met",
                    Some(_) => "missed",
                    None => "–",
                };
                out.push_str(&format!(
                    "| {name} ≥ {bound} | {} | {} | {verdict} |\n",
                    size_name(p.size),
                    ratio_cell(&ratios)
                ));
            }
        }
        out
    }

    pub fn json(&self) -> Value {
        let points: Vec<Value> = self
            .points
            .iter()
            .map(|p| {
                let mut servers = serde_json::Map::new();
                for k in Fanout::ALL {
                    let s = &p.samples[k.index()];
                    servers.insert(
                        k.key().to_owned(),
                        json!({
                            "deliveries_per_sec": stats_of(s, rate),
                            "latency_p50_us": stats_of(s, |s| s.p50_us),
                            "latency_p99_us": stats_of(s, |s| s.p99_us),
                            "loaded_latency_p50_us": stats_of(s, |s| s.loaded_p50_us),
                            "loaded_latency_p99_us": stats_of(s, |s| s.loaded_p99_us),
                            "rss_kib_per_subscriber": stats_of(s, |s| s.kib_per_subscriber),
                            "rss_kib_per_subscriber_after": stats_of(s, |s| s.kib_per_subscriber_after),
                            "server_cpu": stats_of_some(s, |s| s.server_cpu),
                            "deliveries_per_server_cpu_sec": stats_of(s, per_cpu),
                            "client_cpu": stats_of(s, |s| s.client_cpu),
                            "lost": s.iter().map(|s| s.lost).sum::<u64>(),
                        }),
                    );
                }
                json!({
                    "subscribers": p.subscribers,
                    "size": p.size,
                    "messages": self.plan.messages(p.subscribers),
                    "window": Plan::window(p.subscribers),
                    "latency_messages": self.plan.latency_messages(p.subscribers),
                    "servers": servers,
                    "paired_ratios": {
                        "wsup_to_baseline": p.ratios(Fanout::Wsup, Fanout::Baseline, rate),
                        "wsup_to_ceiling": p.ratios(Fanout::Wsup, Fanout::Ceiling, rate),
                    },
                })
            })
            .collect();
        let run = &self.run;
        json!({
            "host": run.host,
            "cpu_model": run.cpu_model,
            "cores": run.cores,
            "git_revision": run.revision,
            "git_dirty": run.dirty,
            "date": run.date,
            "mode": if self.plan.quick { "quick" } else { "full" },
            "settings": {
                "repeats": self.plan.repeats,
                "subscribers_per_process": self.plan.per_process,
                "server_core": SERVER_CORE,
                "loadgen_core": LOADGEN_CORE,
            },
            "servers": {
                "wsup": "benches fanout_wsup (wsup Hub, SlowConsumer::Wait, tokio current-thread)",
                "baseline": "benches fanout_tungstenite (tokio::sync::broadcast + a tokio-tungstenite 0.30 task per subscriber)",
                "ceiling": "benches fanout_tcp (raw TCP, each read written to every subscriber)",
            },
            "targets": {
                "subscribers": TARGET_SUBSCRIBERS,
                "wsup_to_baseline_at_least": TARGET_BASELINE,
                "wsup_to_ceiling_at_least": TARGET_CEILING,
            },
            "points": points,
            "notes": self.notes,
        })
    }
}
