//! `results.md`: the targets, a table per runtime, and the notes.

use super::format::{fixed1, fixed2, si, size_name};
use super::stats::{median, paired, spread, Round};
use super::targets::{whose, Figure, Target};
use super::{
    Alloc, Cpu, Kind, Latency, Plan, Report, Runtime, RuntimeResults, Sample, Turns, BATCHED,
    CEILING, RATIOS, SERVERS, WSUP,
};

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

/// The cells of one figure: each server's median and spread (`–` for a
/// server that does not run on `runtime`), then the median of each of the
/// paired ratios of `RATIOS`.
fn row<T: Round>(
    samples: &[Vec<T>; SERVERS],
    runtime: Runtime,
    get: fn(&T) -> f64,
    fmt: fn(f64) -> String,
) -> String {
    let cells: Vec<String> = Kind::ALL
        .iter()
        .zip(samples)
        .map(|(kind, v)| match kind.runs_on(runtime) {
            true => cell(&v.iter().map(get).collect::<Vec<_>>(), fmt),
            false => "–".to_owned(),
        })
        .collect();
    let ratios: Vec<String> = RATIOS
        .iter()
        .map(|&(of, to)| median(paired(samples, of, to, get)).map_or("–".to_owned(), fixed2))
        .collect();
    format!("{} | {}", cells.join(" | "), ratios.join(" | "))
}

/// A row of single figures (idle memory, allocations): each server's cell,
/// then the ratios of `RATIOS` between their `values`, where both have one.
fn singles_row(name: &str, cells: &[String], values: &[Option<f64>; SERVERS]) -> String {
    let ratios: Vec<String> = RATIOS
        .iter()
        .map(|&(of, to)| ratio(values[of.index()], values[to.index()]))
        .collect();
    format!(
        "| {name} | {} | {} | |\n",
        cells.join(" | "),
        ratios.join(" | ")
    )
}

/// The heading of each runtime's table: the servers, the ratios, the CPU.
fn table_heading() -> String {
    let servers: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
    let ratios: Vec<String> = RATIOS
        .iter()
        .map(|(of, to)| format!("{}/{}", of.short(), to.short()))
        .collect();
    let columns = 1 + servers.len() + ratios.len() + 1;
    format!(
        "| figure | {} | {} | CPU: wsup / load gen on wsup, on raw TCP |\n{}|\n",
        servers.join(" | "),
        ratios.join(" | "),
        "|---".repeat(columns)
    )
}

/// `server / load gen on wsup, on raw TCP`, each the median.
fn cpu_cell(wsup: impl Iterator<Item = Cpu> + Clone, ceiling: impl Iterator<Item = Cpu>) -> String {
    format!(
        "{} / {}, {}",
        percent(median(wsup.clone().filter_map(|c| c.server))),
        percent(median(wsup.map(|c| c.client))),
        percent(median(ceiling.map(|c| c.client)))
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
             Ratios are paired: `a/b` is server a's figure ÷ server b's measured in the same \
             repeat (for latency, the same round), and the median of those over the repeats; \
             for idle memory and allocations, single figures, a's ÷ b's. `wsup` is the `echo` \
             example, `loop` wsup with the README's `recv`/`feed` loop, `batched` and `send` \
             the two async-tungstenite baselines, `fastws` fastwebsockets (on tokio only), \
             `ceiling` raw TCP. For throughput \
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
        md.push_str(&self.per_cpu_markdown());
        for r in &self.results {
            md.push_str(&format!("\n## {}\n\n{}", r.runtime.name(), table_heading()));
            for t in &r.throughput {
                let cpu = cpu_cell(
                    t.samples[WSUP].iter().map(|s| s.cpu),
                    t.samples[CEILING].iter().map(|s| s.cpu),
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
                        row(&t.samples, r.runtime, get, fmt),
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
                        r.latency[WSUP].iter().map(|l| l.cpu),
                        r.latency[CEILING].iter().map(|l| l.cpu),
                    )
                } else {
                    String::new()
                };
                md.push_str(&format!(
                    "| latency 16 B × 1 conn (W=1), {name}, µs | {} | {cpu} |\n",
                    row(&r.latency, r.runtime, get, fixed1),
                ));
            }
            let idle = r.idle.map(|i| i.map(|i| i.per_conn_kib()));
            let opened = r.idle.iter().flatten().map(|i| i.opened).max().unwrap_or(0);
            let cells: Vec<String> = Kind::ALL
                .iter()
                .map(
                    |kind| match kind.runs_on(r.runtime) && kind.idle_measured() {
                        true => idle[kind.index()].map_or("failed".to_owned(), fixed2),
                        false => "–".to_owned(),
                    },
                )
                .collect();
            md.push_str(&singles_row(
                &format!("RSS per idle connection ({opened} conns), KiB"),
                &cells,
                &idle,
            ));
            for a in &r.allocs[0] {
                let base = r.allocs[1].iter().find(|b| b.size == a.size);
                let show =
                    |a: &Alloc| format!("{:.2} ({:.0} B)", a.per_message(), a.bytes_per_message());
                let mut cells = vec!["–".to_owned(); SERVERS];
                cells[WSUP] = show(a);
                cells[BATCHED] = base.map_or("failed".to_owned(), show);
                let mut values = [None; SERVERS];
                values[WSUP] = Some(a.per_message());
                values[BATCHED] = base.map(Alloc::per_message);
                md.push_str(&singles_row(
                    &format!(
                        "allocations per message, {} × 1 conn (bytes per message)",
                        size_name(a.size)
                    ),
                    &cells,
                    &values,
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
             allocations are measured on the batched one only.\n\
             - wsup runs in two idioms. `echo`: `recv_each` handing each message to \
             `out.relay(&msg)` where it lies in the read buffer, the echoes of a batch \
             written together. README loop: the program of the README's \"Use\" \
             section, its upgrader and its loop, `while let Ok(msg) = ws.recv().await`, \
             `ws.feed(msg).await` for each text or binary message; what is fed is written \
             when `recv` would wait. Its idle memory and allocations are not measured apart from `echo`'s.\n\
             - fastwebsockets (tokio only): its `echo_server` example, hyper serving the \
             upgrade, a `FragmentCollector` reading whole messages and `write_frame` writing \
             each to the socket at once, in a task outside tokio's cooperative budget \
             (`unconstrained`), with the library's defaults (automatic close and pong). Its \
             allocations are not counted.\n",
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
        md.push_str(&format!(
            "\nRatios are paired: each repeat measures the servers back to back (which \
             one goes first rotates from repeat to repeat), so wsup's figure (or its README \
             loop's) is divided by the other server's from the same repeat (for \
             latency, the same round), and the verdict is decided on the median of those \
             ratios over the repeats. Messages per server CPU-second are measured apart, \
             in each repeat: one load generator drives wsup and raw TCP in turns ({:.0} ms \
             each, {:.0} ms at 1 MiB; {} each in all, after a warm-up each), and each \
             server's echoed messages are divided by the CPU time its process used, which \
             it spends in its turns (`wsup_loadgen interleave`). Measured one after the \
             other, two copies of the same server differ by about a tenth from one second \
             to the next on this shared machine (its speed drifts); in turns, both see the \
             same drift. Allocations: on tokio the target is fewer than 0.01 per \
             message; on smol and async-std the allocations are the async-io reactor's, \
             shared by both servers, so the target is met when wsup's count is within 5% \
             of the batched baseline's (the counts differ by the reactor turns each run \
             happened to take).\n",
            Plan::slice(16) * 1e3,
            Plan::slice(1 << 20) * 1e3,
            seconds(self.plan.duration),
        ));
        md
    }

    /// Messages per server CPU-second ÷ raw TCP's, measured in turns: wsup
    /// on each runtime, and the fastest Rust peer beside it where it runs.
    fn per_cpu_markdown(&self) -> String {
        let mut columns: Vec<(String, &RuntimeResults, bool)> = Vec::new();
        for r in &self.results {
            columns.push((format!("{}: wsup", r.runtime.name()), r, false));
            if Kind::Fastwebsockets.runs_on(r.runtime) {
                let name = Kind::Fastwebsockets.name();
                columns.push((format!("{}: {name}", r.runtime.name()), r, true));
            }
        }
        let Some((_, first, _)) = columns.first() else {
            return String::new();
        };
        let mut md = format!(
            "\n## Per server CPU-second\n\n\
             Messages per second of the server's CPU ÷ raw TCP's, both measured in turns \
             (as for the targets above): median (min–max) over the repeats. Above 1 the \
             server spends less CPU per message than the raw TCP echo.\n\n\
             | point | {} |\n|---|{}\n",
            columns
                .iter()
                .map(|(name, _, _)| name.as_str())
                .collect::<Vec<_>>()
                .join(" | "),
            "---|".repeat(columns.len()),
        );
        for (i, t) in first.throughput.iter().enumerate() {
            let cells: Vec<String> = columns
                .iter()
                .map(|(_, r, peer)| {
                    let Some(t) = r.throughput.get(i) else {
                        return "–".to_owned();
                    };
                    let turns = if *peer { &t.peer_turns } else { &t.turns };
                    let ratios: Vec<f64> = turns.iter().map(Turns::ratio).collect();
                    cell(&ratios, fixed2)
                })
                .collect();
            md.push_str(&format!(
                "| {} × {} conn | {} |\n",
                size_name(t.size),
                t.conns,
                cells.join(" | ")
            ));
        }
        md
    }
}

/// `s` seconds in words: "one second", "0.5 s".
fn seconds(s: f64) -> String {
    if s == 1.0 {
        "one second".to_owned()
    } else {
        format!("{s} s")
    }
}
