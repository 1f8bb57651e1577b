//! `cargo xtask bench --threads`: wsup on more than one thread. The split
//! halves of each connection run in two tasks (`wsup_loop` with
//! `WSUP_LOOP_TASKS=1`: the reader's messages go to the writer over a
//! channel), first on one worker thread pinned to the server core, then on
//! two (tokio's multi-thread scheduler, smol's and async-std's global
//! executors with two threads), free to use both cores; and the README's
//! `recv`/`feed` loop on two threads beside them. Measured side by side as
//! `compare.rs` does, as ratios to the one-thread run, per second and per
//! second of the server's CPU: were the halves to serialize on their lock,
//! or the threads to contend, the second thread would buy no messages and
//! the messages per CPU second would fall.
//!
//! On tokio, the hub as well (`fanout_wsup`, the fan-out bench's server):
//! one publisher, its 16-byte messages delivered to 1,000 and 5,000
//! subscribers, on one worker thread and on two, a fresh server for each
//! run, the two taking turns.
//!
//! The machine has two cores and the load generator is pinned to the
//! second, so a two-thread server shares that core with it: the rate can
//! rise only as far as the load generator leaves room, and the CPU-second
//! figure is the one that shows contention.

use std::process::Command;

use serde_json::{json, Value};

use super::compare::{self, ratio, Comparison, Sample, Variant};
use super::fanout::{self, publish};
use super::report::median;
use super::server::{raise_nofile_limit, LoadGen, Server};
use super::{build_loadgen, output_dirs, write, Options, Plan, LOADGEN_CORE, SERVER_CORE};
use crate::runtime::Runtime;
use crate::util::Workspace;

pub fn run(options: &Options) -> Result<(), String> {
    let workspace = Workspace::load()?;
    let runtimes = options.runtimes_or(&Runtime::ALL);
    let quick = options.quick;
    let comparison = Comparison {
        stem: "threads",
        intro: "# wsup on two threads\n\n`cargo xtask bench --threads`: each connection's \
                split halves in two tasks (the reader passing messages to the writer over a \
                channel) on one worker thread pinned to the server core, against the same on \
                two worker threads free to use both cores (tokio's multi-thread scheduler, \
                smol's and async-std's global executors with two threads), and the README's \
                `recv`/`feed` loop on two threads; the load generator is pinned to the second \
                core. Each ratio (÷ the one-thread run) is taken within a repeat (median, \
                min–max), of messages a second and of messages per second of the server's \
                CPU.\n"
            .to_owned(),
        plan: Plan::of(options).with_sizes(&[16], &[16, 1024, 64 << 10]),
    };
    workspace.build_bench_bins("wsup_loop and fanout_wsup", &["wsup_loop", "fanout_wsup"])?;
    let wsup_loop = workspace.release_bin("wsup_loop");
    let loadgen = build_loadgen(&workspace)?;
    let (mut markdown, mut json) = compare::run(&comparison, &loadgen, &runtimes, |rt| {
        let variant = |name, threads: usize, tasks: bool| {
            let threads = threads.to_string();
            let mut env = vec![
                ("WSUP_THREADS", threads.clone()),
                ("SMOL_THREADS", threads.clone()),
                ("ASYNC_STD_THREAD_COUNT", threads.clone()),
            ];
            if tasks {
                env.push(("WSUP_LOOP_TASKS", "1".to_owned()));
            }
            Variant {
                args: vec![rt.name().to_owned()],
                env,
                // One thread on the server core; two free to use both.
                cores: if threads == "1" {
                    vec![SERVER_CORE]
                } else {
                    vec![SERVER_CORE, LOADGEN_CORE]
                },
                ..Variant::plain(name, wsup_loop.clone())
            }
        };
        Ok(vec![
            variant("tasks, 1 thread", 1, true),
            variant("tasks, 2 threads", 2, true),
            variant("loop, 2 threads", 2, false),
        ])
    })?;
    if runtimes.contains(&Runtime::Tokio) {
        let (md, hub_json) = hub(&workspace, &loadgen, quick)?;
        println!("{md}");
        markdown.push_str(&md);
        json["hub"] = hub_json;
        let (out_dir, _) = output_dirs(&workspace)?;
        write(&out_dir.join("threads.md"), &markdown)?;
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
        write(&out_dir.join("threads.json"), &text)?;
    }
    Ok(())
}

/// The hub on one worker thread and on two: deliveries a second, and per
/// second of the server's CPU, as ratios to one thread.
fn hub(workspace: &Workspace, loadgen: &LoadGen, quick: bool) -> Result<(String, Value), String> {
    let nofile = raise_nofile_limit();
    let plan = fanout::Plan::new(quick, (nofile.saturating_sub(100) as usize).min(5_000));
    let subscribers: &[usize] = if quick { &[1_000] } else { &[1_000, 5_000] };
    let repeats = if quick { 1 } else { 3 };
    let bin = workspace.release_bin("fanout_wsup");
    // Per subscriber count, per thread count (1, 2), a sample per repeat.
    let mut samples = vec![[Vec::new(), Vec::new()]; subscribers.len()];
    for repeat in 0..repeats {
        for (j, &n) in subscribers.iter().enumerate() {
            let mut line = String::new();
            for k in 0..2 {
                let i = (k + repeat) % 2;
                let mut command = Command::new(&bin);
                command.env("WSUP_THREADS", (i + 1).to_string());
                let cores = [SERVER_CORE, LOADGEN_CORE];
                let server = Server::start_on(command, "fanout_wsup", &cores[..=i], false, &[])?;
                let v = publish(loadgen, &plan, &server, false, n, 16)?;
                let sample = Sample::from_json(&v, "deliveries_per_sec");
                line.push_str(&format!(
                    " {} thread(s): {:.0} deliveries/s;",
                    i + 1,
                    sample.rate()
                ));
                samples[j][i].push(sample);
            }
            println!("[hub {}/{repeats}] 16 B to {n}:{line}", repeat + 1);
        }
    }
    let mut md = String::from(
        "\n## the hub, tokio\n\n| subscribers | 1 thread, deliveries/s | 2 threads | 2 threads per CPU s |\n|---|---|---|---|\n",
    );
    let mut points = Vec::new();
    for (&n, [one, two]) in subscribers.iter().zip(&samples) {
        let rate = median(one.iter().map(|s| s.rate())).unwrap_or(0.0);
        let (by_rate, by_cpu) = (ratio(two, one, false), ratio(two, one, true));
        md.push_str(&format!(
            "| {n} | {rate:.0} | {} | {} |\n",
            by_rate.text(),
            by_cpu.text()
        ));
        points.push(json!({
            "subscribers": n,
            "deliveries_per_sec_one_thread": rate,
            "ratio": by_rate.median,
            "ratio_per_cpu": by_cpu.median,
        }));
    }
    Ok((md, json!({ "repeats": repeats, "points": points })))
}
