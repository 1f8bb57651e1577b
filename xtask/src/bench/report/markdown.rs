//! `results.md`: the targets, a table per runtime, and the notes.

use super::format::{fixed1, fixed2, si, size_name};
use super::stats::{median, paired, spread, Round};
use super::targets::{whose, Figure, Target};
use super::{Latency, Report, Runtime, Sample, BATCHED, CEILING, SEND, SERVERS, WSUP};

impl Target {
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

impl Report {
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
            self.run.date,
            self.run.host,
            self.run.cpu_model,
            self.run.cores,
            self.run.revision,
            if self.run.dirty {
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
}
