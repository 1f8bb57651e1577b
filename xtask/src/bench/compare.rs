//! Servers measured side by side as ratios to the first of them: what
//! `--http` (the echo behind hyper and over TLS against the plain echo) and
//! `--against REV` (this tree's echo against the one built at REV) report.
//!
//! For each runtime the variants run at once, pinned as for the rest of the
//! bench; at each point (message size × connections) the load generator
//! runs against each, the order rotating from one repeat to the next; each
//! ratio is taken within a repeat and its median reported with its range,
//! for messages a second and for messages per second of the server's CPU.
//! Results go to `target/wsup-bench/<stem>.md` and `<stem>.json`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use serde_json::json;

use super::report::{figure, median, size_name};
use super::server::{LoadGen, Server};
use super::{matrix, one_thread, output_dirs, write, Plan, SERVER_CORE};
use crate::runtime::Runtime;
use crate::util::Workspace;

/// One server of a comparison.
#[derive(Debug)]
pub struct Variant {
    pub name: &'static str,
    pub binary: PathBuf,
    /// Before the address.
    pub args: Vec<String>,
    /// After the address.
    pub flags: Vec<String>,
    /// The load generator's extra arguments against it (`--tls CA`).
    pub client: Vec<String>,
    /// Its environment, past the one worker thread of `one_thread`.
    pub env: Vec<(&'static str, String)>,
    /// The cores it may run on (the server core if empty).
    pub cores: Vec<usize>,
}

impl Variant {
    /// `binary` with no flags, environment or client arguments, on the
    /// server core.
    pub fn plain(name: &'static str, binary: PathBuf) -> Self {
        Variant {
            name,
            binary,
            args: Vec::new(),
            flags: Vec::new(),
            client: Vec::new(),
            env: Vec::new(),
            cores: Vec::new(),
        }
    }
}

/// What to compare, and for how long.
#[derive(Debug)]
pub struct Comparison {
    /// The results' file names: `<stem>.md`, `<stem>.json`.
    pub stem: &'static str,
    /// The report's title and first paragraph, in Markdown.
    pub intro: String,
    /// Its sizes, connection counts, repeats and timing.
    pub plan: Plan,
}

/// One measurement: messages a second, and per second of server CPU.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    rate: f64,
    per_cpu: f64,
}

impl Sample {
    /// From a load generator's report, whose rate is under `key`.
    pub(super) fn from_json(v: &serde_json::Value, key: &str) -> Self {
        let rate = figure(v, key);
        let cpu = figure(v, "server_cpu");
        let per_cpu = if cpu > 0.0 { rate / cpu } else { 0.0 };
        Sample { rate, per_cpu }
    }

    pub(super) fn rate(self) -> f64 {
        self.rate
    }
}

/// One point's samples per repeat, per variant.
struct Point {
    size: usize,
    conns: usize,
    samples: Vec<Vec<Sample>>,
}

/// Runs `comparison` on each runtime, over the variants `variants` gives
/// for it (the first is the reference), writes the report and returns it
/// (Markdown, JSON), for a caller that adds to it.
pub fn run(
    comparison: &Comparison,
    loadgen: &LoadGen,
    runtimes: &[Runtime],
    mut variants: impl FnMut(Runtime) -> Result<Vec<Variant>, String>,
) -> Result<(String, serde_json::Value), String> {
    let started = Instant::now();
    let (out_dir, _) = output_dirs(&Workspace::load()?)?;
    let mut markdown = comparison.intro.clone();
    let mut json_runtimes = Vec::new();
    for &rt in runtimes {
        let variants = variants(rt)?;
        let points = measure(comparison, loadgen, rt, &variants)?;
        markdown.push_str(&table(rt, &variants, &points));
        json_runtimes.push(json!({
            "runtime": rt.name(),
            "points": points.iter().map(|p| point_json(&variants, p)).collect::<Vec<_>>(),
        }));
    }
    println!("\n{markdown}");
    let md = out_dir.join(format!("{}.md", comparison.stem));
    write(&md, &markdown)?;
    let json = json!({ "repeats": comparison.plan.repeats, "runtimes": json_runtimes });
    write(
        &out_dir.join(format!("{}.json", comparison.stem)),
        &serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?,
    )?;
    println!(
        "==> wrote {} in {:.0} s",
        md.display(),
        started.elapsed().as_secs_f64()
    );
    Ok((markdown, json))
}

/// Starts the variants of `rt` and measures every point on each, the
/// order rotating from one repeat to the next.
fn measure(
    comparison: &Comparison,
    loadgen: &LoadGen,
    rt: Runtime,
    variants: &[Variant],
) -> Result<Vec<Point>, String> {
    let servers = variants
        .iter()
        .map(|v| {
            let flags: Vec<&str> = v.flags.iter().map(String::as_str).collect();
            let mut command = one_thread(Command::new(&v.binary));
            command
                .args(&v.args)
                .envs(v.env.iter().map(|(k, value)| (k, value)));
            let cores = if v.cores.is_empty() {
                vec![SERVER_CORE]
            } else {
                v.cores.clone()
            };
            Server::start_on(command, v.name, &cores, false, &flags)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let plan = &comparison.plan;
    let mut points = matrix(&plan.sizes, &plan.conns, |size, conns| Point {
        size,
        conns,
        samples: vec![Vec::new(); variants.len()],
    });
    let repeats = plan.repeats;
    for repeat in 0..repeats {
        for point in &mut points {
            let args = Plan::throughput_args(point.size, point.conns, plan.warmup, plan.duration);
            let mut line = String::new();
            for k in 0..servers.len() {
                let i = (k + repeat) % servers.len();
                let args = [&args[..], &variants[i].client].concat();
                let v = loadgen.run("throughput", &servers[i], false, &args)?;
                let sample = Sample::from_json(&v, "msgs_per_sec");
                point.samples[i].push(sample);
                line.push_str(&format!(
                    " {}: {:.0} msg/s ({:.0} per CPU s);",
                    variants[i].name, sample.rate, sample.per_cpu
                ));
                servers[i].check_alive()?;
            }
            println!(
                "[{} {}/{repeats}] {} x {}:{line}",
                rt.name(),
                repeat + 1,
                size_name(point.size),
                point.conns
            );
        }
    }
    Ok(points)
}

/// The Markdown table of one runtime: the reference's rate, then each
/// other variant's ratio to it, per second and per CPU second.
fn table(rt: Runtime, variants: &[Variant], points: &[Point]) -> String {
    let others = &variants[1..];
    let mut head = format!("| point | {} msg/s |", variants[0].name);
    for per_cpu in [false, true] {
        for v in others {
            let unit = if per_cpu { " per CPU s" } else { "" };
            head.push_str(&format!(" {}{unit} |", v.name));
        }
    }
    let rule = "|---".repeat(2 + 2 * others.len()) + "|";
    let mut out = format!("\n## {}\n\n{head}\n{rule}\n", rt.name());
    for p in points {
        let rate = median(p.samples[0].iter().map(|s| s.rate)).unwrap_or(0.0);
        out.push_str(&format!(
            "| {} × {} | {rate:.0} |",
            size_name(p.size),
            p.conns
        ));
        for per_cpu in [false, true] {
            for i in 1..variants.len() {
                let r = ratio(&p.samples[i], &p.samples[0], per_cpu);
                out.push_str(&format!(" {} |", r.text()));
            }
        }
        out.push('\n');
    }
    out
}

fn point_json(variants: &[Variant], p: &Point) -> serde_json::Value {
    let by_name = |f: &dyn Fn(usize) -> serde_json::Value| {
        (1..variants.len())
            .map(|i| (variants[i].name.to_owned(), f(i)))
            .collect::<serde_json::Map<_, _>>()
    };
    json!({
        "size": p.size,
        "conns": p.conns,
        "msgs_per_sec": variants.iter().zip(&p.samples)
            .map(|(v, s)| (v.name.to_owned(), json!(s.iter().map(|s| s.rate).collect::<Vec<_>>())))
            .collect::<serde_json::Map<_, _>>(),
        "ratio": by_name(&|i| json!(ratio(&p.samples[i], &p.samples[0], false).median)),
        "ratio_per_cpu": by_name(&|i| json!(ratio(&p.samples[i], &p.samples[0], true).median)),
    })
}

/// A ratio over the repeats: its median and range.
pub(super) struct Ratio {
    pub(super) median: f64,
    low: f64,
    high: f64,
}

impl Ratio {
    pub(super) fn text(&self) -> String {
        format!("{:.2} ({:.2}–{:.2})", self.median, self.low, self.high)
    }
}

/// `a ÷ b`, of the rate or of the rate per CPU second, repeat by repeat.
pub(super) fn ratio(a: &[Sample], b: &[Sample], per_cpu: bool) -> Ratio {
    let get = |s: &Sample| if per_cpu { s.per_cpu } else { s.rate };
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(_, b)| get(b) > 0.0)
        .map(|(a, b)| get(a) / get(b))
        .collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ratio {
        median: median(ratios).unwrap_or(0.0),
        low,
        high,
    }
}
