//! `cargo xtask bench --http`: the echo served behind hyper (`echo
//! --hyper`, its connections upgraded through `wsup::hyper`) against the
//! same echo with wsup reading the request itself, in the same run, as
//! ratios.
//!
//! For each runtime (tokio by default): one `echo` build started twice,
//! plain and with `--hyper`, pinned as for the rest of the bench; at each
//! point (message size × connections) the load generator runs against
//! both, the order alternating from one repeat to the next; the ratio is
//! taken within each repeat and its median reported with its range.
//! Results go to `target/wsup-bench/http.md` and `http.json`.

use std::process::Command;
use std::time::Instant;

use serde_json::json;

use super::report::{median, size_name};
use super::server::{LoadGen, Server};
use super::{build_echo, one_thread, output_dirs, write, Options, Plan, LOADGEN_CORE, SERVER_CORE};
use crate::runtime::Runtime;
use crate::util::{check, Workspace};

/// The servers compared: the first is the reference.
const VARIANTS: [(&str, &[&str]); 2] = [("echo", &[]), ("echo --hyper", &["--hyper"])];

/// One point's throughput per repeat, per variant (messages a second).
struct Point {
    size: usize,
    conns: usize,
    samples: [Vec<f64>; VARIANTS.len()],
}

pub fn run(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    let workspace = Workspace::load()?;
    let (out_dir, bin_dir) = output_dirs(&workspace)?;
    let runtimes = options.runtimes.clone().unwrap_or(vec![Runtime::Tokio]);
    let repeats = if options.quick { 1 } else { 5 };
    let sizes: &[usize] = if options.quick {
        &[16, 64 << 10]
    } else {
        &[16, 1024, 64 << 10]
    };
    let (warmup, duration) = if options.quick {
        (0.2, 0.5)
    } else {
        (0.3, 1.0)
    };

    println!("==> building the load generator");
    check(
        workspace
            .cargo()
            .args(["build", "--release", "-p", "wsup-benches", "--bin"])
            .arg("wsup_loadgen"),
        "cargo build wsup_loadgen",
    )?;
    let loadgen = LoadGen {
        path: workspace.release_bin("wsup_loadgen"),
        core: LOADGEN_CORE,
    };

    let mut markdown = String::from(
        "# wsup behind hyper\n\n`cargo xtask bench --http`: throughput of the `echo` example \
         behind hyper (`echo --hyper`) as a ratio to the same echo with wsup reading the \
         request itself; both run side by side, the ratio taken within each repeat \
         (median, min–max).\n",
    );
    let mut json_runtimes = Vec::new();
    for rt in runtimes {
        let echo = build_echo(&workspace, &bin_dir, rt, false)?;
        let servers = VARIANTS
            .iter()
            .map(|&(name, flags)| {
                Server::start_with(
                    one_thread(Command::new(&echo)),
                    name,
                    SERVER_CORE,
                    false,
                    flags,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut points: Vec<Point> = sizes
            .iter()
            .flat_map(|&size| {
                [1, 100].map(|conns| Point {
                    size,
                    conns,
                    samples: Default::default(),
                })
            })
            .collect();
        for repeat in 0..repeats {
            for point in &mut points {
                let args = [
                    "--size".to_owned(),
                    point.size.to_string(),
                    "--conns".to_owned(),
                    point.conns.to_string(),
                    "--window".to_owned(),
                    Plan::window(point.size).to_string(),
                    "--warmup".to_owned(),
                    warmup.to_string(),
                    "--duration".to_owned(),
                    duration.to_string(),
                ];
                let mut line = String::new();
                for k in 0..servers.len() {
                    let i = (k + repeat) % servers.len();
                    let v = loadgen.run("throughput", &servers[i], false, &args)?;
                    let rate = v["msgs_per_sec"].as_f64().unwrap_or(0.0);
                    point.samples[i].push(rate);
                    line.push_str(&format!(" {}: {:.0} msg/s;", VARIANTS[i].0, rate));
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
        drop(servers);
        markdown.push_str(&format!(
            "\n## {}\n\n| point | echo msg/s | behind hyper msg/s | ratio (min–max) |\n|---|---|---|---|\n",
            rt.name()
        ));
        let mut json_points = Vec::new();
        for p in &points {
            let ratios: Vec<f64> = p.samples[1]
                .iter()
                .zip(&p.samples[0])
                .filter(|&(_, &plain)| plain > 0.0)
                .map(|(hyper, plain)| hyper / plain)
                .collect();
            let (lo, hi) = ratios
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
            let ratio = median(ratios.iter().copied()).unwrap_or(0.0);
            let plain = median(p.samples[0].iter().copied()).unwrap_or(0.0);
            let hyper = median(p.samples[1].iter().copied()).unwrap_or(0.0);
            markdown.push_str(&format!(
                "| {} × {} | {plain:.0} | {hyper:.0} | {ratio:.2} ({lo:.2}–{hi:.2}) |\n",
                size_name(p.size),
                p.conns
            ));
            json_points.push(json!({
                "size": p.size,
                "conns": p.conns,
                "echo": p.samples[0],
                "hyper": p.samples[1],
                "ratio_median": ratio,
            }));
        }
        json_runtimes.push(json!({ "runtime": rt.name(), "points": json_points }));
    }
    println!("\n{markdown}");
    write(&out_dir.join("http.md"), &markdown)?;
    let json = json!({ "repeats": repeats, "runtimes": json_runtimes });
    write(
        &out_dir.join("http.json"),
        &serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?,
    )?;
    println!(
        "==> wrote {} in {:.0} s",
        out_dir.join("http.md").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
