//! `results.json`: every figure with its samples, the targets with their
//! verdicts, and the run's settings.

use serde_json::{json, Value};

use super::stats::{paired, spread, Round};
use super::targets::Target;
use super::{Alloc, Cpu, Kind, Latency, Report, Runtime, Sample, Turns, SERVERS};
use crate::bench::{LOADGEN_CORE, SERVER_CORE};

impl Target {
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

/// Server `of`'s paired ratios to each other server that runs on `runtime`,
/// by the other's key.
fn paired_json<T: Round>(
    samples: &[Vec<T>; SERVERS],
    runtime: Runtime,
    of: Kind,
    get: fn(&T) -> f64,
) -> Value {
    let mut ratios = serde_json::Map::new();
    for to in Kind::ALL {
        if to != of && to.runs_on(runtime) {
            ratios.insert(to.key().to_owned(), json!(paired(samples, of, to, get)));
        }
    }
    Value::Object(ratios)
}

/// `{"median", "min", "max", "samples"}` of `values`; null if empty.
pub fn stats(values: Vec<f64>) -> Value {
    match spread(values.iter().copied()) {
        Some((median, min, max)) => {
            json!({"median": median, "min": min, "max": max, "samples": values})
        }
        None => Value::Null,
    }
}

/// [`stats`] of one figure of each of `items`.
pub fn stats_of<T>(items: &[T], get: impl Fn(&T) -> f64) -> Value {
    stats(items.iter().map(get).collect())
}

/// [`stats`] of one figure of each of `items` that has it.
pub fn stats_of_some<T>(items: &[T], get: impl Fn(&T) -> Option<f64>) -> Value {
    stats(items.iter().filter_map(get).collect())
}

/// `figures` with the [`stats`] of the load generator's and the server's
/// CPU use over `items` added, as `client_cpu` and `server_cpu`.
fn with_cpu<T>(mut figures: Value, items: &[T], cpu: fn(&T) -> Cpu) -> Value {
    figures["client_cpu"] = stats_of(items, |i| cpu(i).client);
    figures["server_cpu"] = stats_of_some(items, |i| cpu(i).server);
    figures
}

/// One server's throughput figures at one point, over its samples.
fn throughput_stats(samples: &[Sample]) -> Value {
    let figures = json!({
        "msgs_per_sec": stats_of(samples, |s| s.msgs_per_sec),
        "mb_per_sec": stats_of(samples, |s| s.mb_per_sec),
    });
    with_cpu(figures, samples, |s| s.cpu)
}

/// One server's latency figures, over its rounds.
fn latency_stats(rounds: &[Latency]) -> Value {
    let figures = json!({
        "p50_us": stats_of(rounds, |l| l.p50),
        "p99_us": stats_of(rounds, |l| l.p99),
        "p999_us": stats_of(rounds, |l| l.p999),
    });
    with_cpu(figures, rounds, |l| l.cpu)
}

impl Report {
    pub fn json(&self) -> Value {
        let runtimes: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                // `Kind::ALL`, each with its place in the results, that ran.
                let ran = Kind::ALL.iter().filter(|kind| kind.runs_on(r.runtime));
                let throughput: Vec<Value> = r
                    .throughput
                    .iter()
                    .map(|t| {
                        let mut servers = serde_json::Map::new();
                        for kind in ran.clone() {
                            let samples = &t.samples[kind.index()];
                            servers.insert(kind.key().to_owned(), throughput_stats(samples));
                        }
                        json!({
                            "size": t.size,
                            "conns": t.conns,
                            "window": t.window,
                            "servers": servers,
                            "paired_ratios": paired_json(&t.samples, r.runtime, Kind::Wsup, |s| s.msgs_per_sec),
                            "wsup_loop_paired_ratios": paired_json(&t.samples, r.runtime, Kind::WsupLoop, |s| s.msgs_per_sec),
                            "per_cpu_second_in_turns": turns_json(&t.turns, "wsup"),
                            "fastwebsockets_per_cpu_second_in_turns": turns_json(&t.peer_turns, "fastwebsockets"),
                        })
                    })
                    .collect();
                let mut latency = serde_json::Map::new();
                let mut idle = serde_json::Map::new();
                for kind in ran {
                    let i = kind.index();
                    let l = &r.latency[i];
                    latency.insert(kind.key().to_owned(), latency_stats(l));
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
                    "latency_16b_1conn_w1_p99_paired_ratios": paired_json(&r.latency, r.runtime, Kind::Wsup, |l| l.p99),
                    "latency_16b_1conn_w1_p99_wsup_loop_paired_ratios": paired_json(&r.latency, r.runtime, Kind::WsupLoop, |l| l.p99),
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
            "host": self.run.host,
            "cpu_model": self.run.cpu_model,
            "cores": self.run.cores,
            "git_revision": self.run.revision,
            "git_dirty": self.run.dirty,
            "date": self.run.date,
            "mode": if p.quick { "quick" } else { "full" },
            "settings": {
                "repeats": p.repeats,
                "warmup_s": p.warmup,
                "duration_s": p.duration,
                "latency_duration_s": p.latency_duration,
                "latency_rounds_per_repeat": p.latency_rounds,
                "idle_connections": p.idle_conns,
                "server_core": SERVER_CORE,
                "loadgen_core": LOADGEN_CORE,
            },
            "servers": {
                "wsup": "examples echo (wsup; recv_each relaying each message, the echoes of a batch written together)",
                "wsup_loop": "benches wsup_loop (wsup; the README's upgrader and recv/feed loop, written when recv would wait)",
                "baseline": "benches tungstenite_echo batched (async-tungstenite 0.35; feed, flush when no message is readable)",
                "baseline_send": "benches tungstenite_echo send (async-tungstenite 0.35; send per message)",
                "fastwebsockets": "benches fastwebsockets_echo (fastwebsockets 0.10, its echo_server example: hyper upgrade, FragmentCollector, a write per message; tokio only)",
                "ceiling": "benches tcp_echo (raw TCP, 256 KiB buffer)",
            },
            "targets": targets,
            "runtimes": runtimes,
            "notes": self.notes,
        })
    }
}

/// Figures measured in turns against raw TCP, the server's under `key`.
fn turns_json(turns: &[Turns], key: &str) -> Vec<Value> {
    turns
        .iter()
        .map(|u| {
            json!({
                "round": u.round,
                key: u.server,
                "ceiling": u.ceiling,
                "ratio": u.ratio(),
            })
        })
        .collect()
}
