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
//! The machine has two cores and the load generator is pinned to the
//! second, so a two-thread server shares that core with it: the rate can
//! rise only as far as the load generator leaves room, and the CPU-second
//! figure is the one that shows contention.

use super::compare::{self, Comparison, Variant};
use super::{build_loadgen, Options, LOADGEN_CORE, SERVER_CORE};
use crate::runtime::Runtime;
use crate::util::{check, Workspace};

pub fn run(options: &Options) -> Result<(), String> {
    let workspace = Workspace::load()?;
    let runtimes = options
        .runtimes
        .clone()
        .unwrap_or_else(|| Runtime::ALL.to_vec());
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
        sizes: if quick {
            vec![16]
        } else {
            vec![16, 1024, 64 << 10]
        },
        conns: vec![1, 100],
        repeats: if quick { 1 } else { 5 },
        warmup: if quick { 0.2 } else { 0.3 },
        duration: if quick { 0.5 } else { 1.0 },
    };
    println!("==> building wsup_loop");
    check(
        workspace.cargo().args([
            "build",
            "--release",
            "-p",
            "wsup-benches",
            "--bin",
            "wsup_loop",
        ]),
        "cargo build wsup_loop",
    )?;
    let wsup_loop = workspace.release_bin("wsup_loop");
    let loadgen = build_loadgen(&workspace)?;
    compare::run(&comparison, &loadgen, &runtimes, |rt| {
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
    })
}
