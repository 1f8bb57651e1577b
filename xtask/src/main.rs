//! Development tasks for the wsup workspace, run as `cargo xtask <SUBCOMMAND>`
//! (an alias in `.cargo/config.toml`).
//!
//! Subcommands:
//!
//! - `conformance [--runtime tokio|smol|async-std|all] [--cases PATTERN]... [--quick]`:
//!   builds the `echo` example in release for each runtime, drives it with the
//!   Autobahn TestSuite cases (run by `kosoku`, installed from PyPI into a venv
//!   under `target/conformance/venv`), prints a per-group table of verdicts and
//!   exits non-zero if any case fails. The runtime defaults to `tokio`; `all`
//!   skips, with a note, runtimes the examples package has no feature for.
//!   `--cases` (repeatable, `*` globs) replaces the default case list;
//!   `--quick` runs a small subset for smoke tests. Reports are written to
//!   `target/conformance/<runtime>/`.
//! - `conformance --client [--client-bin PATH] [--runtime R] [--cases PATTERN]... [--quick]`:
//!   the same cases against wsup's client: builds the `autobahn-client`
//!   example per runtime (or runs PATH), starts `kosoku -m fuzzingserver`
//!   on a free port, runs `autobahn-client ws://127.0.0.1:PORT --agent
//!   wsup-<runtime>` (which runs every case the server offers and asks for
//!   `/updateReports`), and judges the report for that agent as above; the
//!   report must hold every case offered and the client must exit 0.
//!   Reports are written to `target/conformance/client-<runtime>/`.
//! - `bench [--runtime tokio|smol|async-std|all] [--quick]`: builds in
//!   release and measures, per runtime and side by side, wsup's `echo`
//!   example, an async-tungstenite echo server (the baseline) and a raw TCP
//!   echo server (the ceiling), driven by wsup's own load generator:
//!   throughput, latency, memory per idle connection and allocations per
//!   message. Prints a table and writes `target/wsup-bench/results.{md,json}`
//!   and `throughput.svg`. `--runtime` defaults to all (tokio with
//!   `--quick`); `--quick` takes under 90 s once built.
//! - `bench --memory [--runtime R] [--echo PATH] [--conns N] [--quick]`:
//!   instead, the `echo` server's resident memory per connection after a
//!   burst: N connections (default 1000, 200 with `--quick`) held open,
//!   each sending one 16 MiB message (64 at a time) or leaving a compressed
//!   message unfinished, then idle. `--echo` measures a given binary (an
//!   older build, say) instead of building `echo` per runtime (tokio by
//!   default). Writes `target/wsup-bench/memory.{md,json}`.
//! - `bench --fanout [--quick]`: instead, one publisher and 1,000 to 15,000
//!   subscribers (1,000 with `--quick`, under two minutes), 16 B and 1 KiB
//!   messages, on tokio: wsup's hub (`benches/src/bin/fanout_wsup.rs`)
//!   against a `tokio::sync::broadcast` channel with a tokio-tungstenite
//!   task per subscriber (the baseline) and a raw TCP fan-out (the
//!   ceiling): deliveries a second, publish-to-last-delivery latency and
//!   the server's memory per subscriber. Writes
//!   `target/wsup-bench/fanout.{md,json,svg}`.
//! - `interop [--runtime tokio|smol|async-std|all]`: builds the `echo`
//!   example in release for each runtime and drives it with
//!   `xtask/interop/deflate_client.py`, a permessage-deflate client on the
//!   Python `websockets` package (installed from PyPI into a venv under
//!   `target/interop/venv`): every negotiation parameter, text and binary
//!   echoes, fragmented sends, the closing handshake. The runtime defaults
//!   to `tokio`; exits non-zero if any configuration fails.
//! - `interop --client [--runtime R]`: the other direction: builds
//!   `interop_client` (benches/src/bin/, wsup's client on each runtime) and
//!   runs it against `xtask/interop/deflate_server.py`, a `websockets` echo
//!   server started once per permessage-deflate configuration (each window
//!   size and no-context-takeover, set by the server or asked by the
//!   client, compression off); checks that what was agreed is what the
//!   configuration implies, every echo byte for byte, the client's messages
//!   compressed exactly when agreed, and the close with 1000; a few cases
//!   over `wss://` too (certificates made for the run).
//! - `fuzz [--secs N] [TARGET]...`: runs the cargo-fuzz targets in `fuzz/`
//!   (all of them without a name) for N seconds each (default 60), with
//!   `RUSTC_BOOTSTRAP=1`, installing cargo-fuzz if missing; exits non-zero on
//!   a finding and prints where the failing input is. See `fuzz.rs`.
//! - `redis`: the tests that need a real redis-server (ignored by a plain
//!   `cargo test`): the Redis bridge's (`wsup-redis`) and the `chat`
//!   example's across two nodes, Debian's package installed if missing;
//!   each test starts its own on a free port. See `redis.rs`.
//! - `browser`: the `chat` example in headless Chromium: two nodes on one
//!   redis-server, a tab on each, messages both ways. See `browser.rs`.
//! - `help`: prints the usage.

mod bench;
mod browser;
mod cli;
mod conformance;
mod fuzz;
mod interop;
mod redis;
mod runtime;
mod util;

use std::env;
use std::process::ExitCode;

use cli::{Task, USAGE};

fn main() -> ExitCode {
    match cli::parse(env::args().skip(1)) {
        Ok(Task::Conformance(options)) => conformance::run(&options),
        Ok(Task::Bench(options)) => bench::run(&options),
        Ok(Task::Interop(options)) => interop::run(&options),
        Ok(Task::Fuzz(options)) => fuzz::run(&options),
        Ok(Task::Redis) => redis::run(),
        Ok(Task::Browser) => browser::run(),
        Ok(Task::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
