//! `cargo xtask bench --fanout`: one publisher, many subscribers.
//!
//! Three servers, each a binary of `benches/src/bin/` on tokio, pinned to
//! the server core: wsup's hub (`fanout_wsup`); the baseline, a
//! `tokio::sync::broadcast` channel and a tokio-tungstenite task per
//! subscriber, the pattern axum users write (`fanout_tungstenite`); and a
//! raw TCP fan-out, the ceiling (`fanout_tcp`). For each point (subscribers
//! × message size) each server is started fresh and the load generator's
//! `fanout` mode (`benches/src/bin/wsup_loadgen/fanout.rs`), pinned to the
//! other core, opens the subscribers over several processes, reads the
//! server's memory, then publishes: messages one at a time (the latency
//! from publishing to the last delivery), then in windows, four of them on
//! their way (deliveries a second). The servers take turns, the first one rotating from one point
//! and repeat to the next; each ratio is taken within a repeat and the
//! median reported. Results go to `target/wsup-bench/fanout.json`,
//! `fanout.md` and `fanout.svg`.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::report::RunInfo;
use super::server::{raise_nofile_limit, LoadGen, Server};
use super::{matrix, output_dirs, write, Options, LOADGEN_CORE, SERVER_CORE};
use crate::runtime::Runtime;
use crate::util::Workspace;

pub(super) mod chart;
mod report;
#[cfg(test)]
mod tests;

pub use report::{FanoutReport, Point, Sample};

/// The servers, in the order of every per-server array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fanout {
    Wsup,
    Baseline,
    Ceiling,
}

impl Fanout {
    pub const ALL: [Fanout; 3] = [Fanout::Wsup, Fanout::Baseline, Fanout::Ceiling];

    pub const fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Fanout::Wsup => "wsup hub",
            Fanout::Baseline => "broadcast + tokio-tungstenite",
            Fanout::Ceiling => "raw TCP",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Fanout::Wsup => "wsup",
            Fanout::Baseline => "baseline",
            Fanout::Ceiling => "ceiling",
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Fanout::Wsup => "fanout_wsup",
            Fanout::Baseline => "fanout_tungstenite",
            Fanout::Ceiling => "fanout_tcp",
        }
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    pub quick: bool,
    pub subscribers: Vec<usize>,
    pub sizes: Vec<usize>,
    pub repeats: usize,
    /// Subscribers per load generator process.
    pub per_process: usize,
}

impl Plan {
    pub fn new(quick: bool, per_process: usize) -> Self {
        Plan {
            quick,
            subscribers: if quick {
                vec![1_000]
            } else {
                vec![1_000, 5_000, 10_000, 15_000]
            },
            sizes: vec![16, 1024],
            repeats: if quick { 1 } else { 2 },
            per_process,
        }
    }

    /// Deliveries of the windowed messages, whatever the subscribers.
    fn deliveries(&self) -> usize {
        if self.quick {
            1_000_000
        } else {
            3_000_000
        }
    }

    /// Messages sent in windows to `n` subscribers.
    pub fn messages(&self, n: usize) -> usize {
        (self.deliveries() / n).clamp(100, 2_000)
    }

    /// Messages in one window: about 100,000 deliveries, so that the pause
    /// between windows is small beside one.
    pub fn window(n: usize) -> usize {
        (100_000 / n).clamp(4, 64)
    }

    /// Messages sent one at a time to `n` subscribers.
    pub fn latency_messages(&self, n: usize) -> usize {
        (if self.quick { 200_000 } else { 1_000_000 } / n).clamp(30, 200)
    }
}

/// The longest one load generator run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

pub fn run(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    if options
        .runtimes
        .as_ref()
        .is_some_and(|r| r.as_slice() != [Runtime::Tokio])
    {
        return Err("the fan-out bench runs on tokio only".to_owned());
    }
    let workspace = Workspace::load()?;
    let (out_dir, _) = output_dirs(&workspace)?;
    let nofile = raise_nofile_limit();
    // A server holds a descriptor per subscriber; a load generator process
    // one per connection it opens.
    let per_process = (nofile.saturating_sub(100) as usize).min(5_000);
    let plan = Plan::new(options.quick, per_process);
    let most = plan.subscribers.iter().max().copied().unwrap_or(0);
    if per_process == 0 || nofile < most as u64 + 100 {
        return Err(format!(
            "RLIMIT_NOFILE is {nofile}: too low for {most} subscribers"
        ));
    }

    workspace.build_bench_bins("the fan-out servers and the load generator", &[])?;
    let loadgen = LoadGen {
        path: workspace.release_bin("wsup_loadgen"),
        core: LOADGEN_CORE,
    };
    println!(
        "==> built in {:.0} s; server on core {SERVER_CORE}, load generator on core {LOADGEN_CORE}",
        started.elapsed().as_secs_f64()
    );

    let mut points = matrix(&plan.subscribers, &plan.sizes, |subscribers, size| Point {
        subscribers,
        size,
        samples: Default::default(),
    });
    let mut notes = Vec::new();
    let mut turn = 0;
    for repeat in 0..plan.repeats {
        for point in &mut points {
            let mut line = Vec::new();
            for k in 0..Fanout::ALL.len() {
                let server = Fanout::ALL[(k + turn) % Fanout::ALL.len()];
                let bin = workspace.release_bin(server.binary());
                match measure(&loadgen, &plan, server, &bin, point.subscribers, point.size) {
                    Ok(v) => {
                        let sample = Sample::from_json(&v, repeat);
                        line.push(format!("{} {}", server.key(), sample.summary()));
                        point.samples[server.index()].push(sample);
                    }
                    Err(e) => {
                        line.push(format!("{} FAILED", server.key()));
                        notes.push(format!(
                            "{} x {} B, {}: {e}",
                            point.subscribers,
                            point.size,
                            server.name()
                        ));
                    }
                }
            }
            turn += 1;
            println!(
                "[{}/{}] {} subscribers, {} B: {}",
                repeat + 1,
                plan.repeats,
                point.subscribers,
                point.size,
                line.join("; ")
            );
        }
    }

    let report = FanoutReport {
        run: RunInfo::collect(&workspace.root),
        plan,
        points,
        notes,
    };
    let markdown = report.markdown();
    println!("\n{markdown}");
    write(&out_dir.join("fanout.md"), &markdown)?;
    let json = serde_json::to_string_pretty(&report.json()).map_err(|e| e.to_string())?;
    write(&out_dir.join("fanout.json"), &json)?;
    chart::draw(&out_dir.join("fanout.svg"), &report).map_err(|e| format!("chart: {e}"))?;
    println!(
        "==> wrote {}, fanout.json and fanout.svg in {:.0} s",
        out_dir.join("fanout.md").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One run of the load generator against a fresh `server`.
fn measure(
    loadgen: &LoadGen,
    plan: &Plan,
    server: Fanout,
    bin: &std::path::Path,
    subscribers: usize,
    size: usize,
) -> Result<Value, String> {
    let process = Server::start(Command::new(bin), server.name(), SERVER_CORE, false)?;
    let raw = server == Fanout::Ceiling;
    publish(loadgen, plan, &process, raw, subscribers, size)
}

/// The load generator's `fanout` mode against `process`, a server fresh for
/// it: `subscribers` of messages of `size` bytes.
pub(super) fn publish(
    loadgen: &LoadGen,
    plan: &Plan,
    process: &Server,
    raw: bool,
    subscribers: usize,
    size: usize,
) -> Result<Value, String> {
    let args = [
        "--conns".to_owned(),
        subscribers.to_string(),
        "--size".to_owned(),
        size.to_string(),
        "--messages".to_owned(),
        plan.messages(subscribers).to_string(),
        "--window".to_owned(),
        Plan::window(subscribers).to_string(),
        "--latency-messages".to_owned(),
        plan.latency_messages(subscribers).to_string(),
        "--per-process".to_owned(),
        plan.per_process.to_string(),
        "--settle".to_owned(),
        "0".to_owned(),
    ];
    let v = loadgen.run_within("fanout", process, raw, &args, RUN_TIMEOUT)?;
    process.check_alive()?;
    Ok(v)
}
