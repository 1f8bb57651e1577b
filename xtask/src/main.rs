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
//! - `bench [--runtime tokio|smol|async-std|all] [--quick]`: builds in
//!   release and measures, per runtime and side by side, wsup's `echo`
//!   example, an async-tungstenite echo server (the baseline) and a raw TCP
//!   echo server (the ceiling), driven by wsup's own load generator:
//!   throughput, latency, memory per idle connection and allocations per
//!   message. Prints a table and writes `target/wsup-bench/results.{md,json}`
//!   and `throughput.svg`. `--runtime` defaults to all (tokio with
//!   `--quick`); `--quick` takes under 90 s once built.
//! - `interop [--runtime tokio|smol|async-std|all]`: builds the `echo`
//!   example in release for each runtime and drives it with
//!   `xtask/interop/deflate_client.py`, a permessage-deflate client on the
//!   Python `websockets` package (installed from PyPI into a venv under
//!   `target/interop/venv`): every negotiation parameter, text and binary
//!   echoes, fragmented sends, the closing handshake. The runtime defaults
//!   to `tokio`; exits non-zero if any configuration fails.
//! - `help`: prints the usage.

mod bench;
mod conformance;
mod interop;

use std::env;
use std::process::ExitCode;

use conformance::{Options, Runtime, Selection};

const USAGE: &str = "\
usage: cargo xtask <SUBCOMMAND>

subcommands:
  conformance [--runtime tokio|smol|async-std|all] [--cases PATTERN]... [--quick]
      run the Autobahn TestSuite cases (kosoku) against the echo example;
      --runtime defaults to tokio; --cases (repeatable) replaces the default
      case list; --quick runs a small subset
  bench [--runtime tokio|smol|async-std|all] [--quick]
      measure wsup's echo against async-tungstenite (baseline) and raw TCP
      (ceiling) on each runtime; results in target/wsup-bench/; --runtime
      defaults to all (tokio with --quick); --quick takes under 90 s
  interop [--runtime tokio|smol|async-std|all]
      permessage-deflate interop: the Python `websockets` client against
      the echo example, every negotiation parameter; --runtime defaults to
      tokio
  help
      print this message";

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    match args.next().as_deref() {
        Some("conformance") => match parse_conformance(args) {
            Ok(Some(options)) => conformance::run(&options),
            Ok(None) => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            Err(message) => usage_error(&message),
        },
        Some("bench") => match parse_bench(args) {
            Ok(Some(options)) => bench::run(&options),
            Ok(None) => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            Err(message) => usage_error(&message),
        },
        Some("interop") => match parse_interop(args) {
            Ok(Some(options)) => interop::run(&options),
            Ok(None) => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            Err(message) => usage_error(&message),
        },
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => usage_error(&format!("unknown subcommand `{other}`")),
        None => usage_error("no subcommand given"),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

/// Parses the arguments of `conformance`; `Ok(None)` means help was asked for.
fn parse_conformance(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut selection = Selection::One(Runtime::Tokio);
    let mut cases = Vec::new();
    let mut quick = false;
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("`{flag}` needs a value"))
        };
        match flag.as_str() {
            "--runtime" => {
                let name = value()?;
                selection = match name.as_str() {
                    "all" => Selection::All,
                    _ => Selection::One(
                        Runtime::from_name(&name)
                            .ok_or_else(|| format!("unknown runtime `{name}`"))?,
                    ),
                };
            }
            "--cases" => cases.push(value()?),
            "--quick" if inline.is_none() => quick = true,
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unexpected argument `{flag}` for `conformance`")),
        }
    }
    let cases = match (quick, cases.is_empty()) {
        (true, false) => return Err("`--quick` and `--cases` exclude each other".to_owned()),
        (true, true) => conformance::QUICK_CASES
            .iter()
            .map(|&c| c.to_owned())
            .collect(),
        (false, true) => conformance::DEFAULT_CASES
            .iter()
            .map(|&c| c.to_owned())
            .collect(),
        (false, false) => cases,
    };
    Ok(Some(Options { selection, cases }))
}

/// Parses the arguments of `bench`; `Ok(None)` means help was asked for.
fn parse_bench(mut args: impl Iterator<Item = String>) -> Result<Option<bench::Options>, String> {
    let mut runtimes = None;
    let mut quick = false;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        match flag.as_str() {
            "--runtime" => {
                let name = inline
                    .or_else(|| args.next())
                    .ok_or("`--runtime` needs a value")?;
                runtimes = Some(match name.as_str() {
                    "all" => bench::Runtime::ALL.to_vec(),
                    _ => vec![bench::Runtime::from_name(&name)
                        .ok_or_else(|| format!("unknown runtime `{name}`"))?],
                });
            }
            "--quick" if inline.is_none() => quick = true,
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unexpected argument `{flag}` for `bench`")),
        }
    }
    Ok(Some(bench::Options { runtimes, quick }))
}

/// Parses the arguments of `interop`; `Ok(None)` means help was asked for.
fn parse_interop(
    mut args: impl Iterator<Item = String>,
) -> Result<Option<interop::Options>, String> {
    let mut selection = Selection::One(Runtime::Tokio);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        match flag.as_str() {
            "--runtime" => {
                let name = inline
                    .or_else(|| args.next())
                    .ok_or("`--runtime` needs a value")?;
                selection = match name.as_str() {
                    "all" => Selection::All,
                    _ => Selection::One(
                        Runtime::from_name(&name)
                            .ok_or_else(|| format!("unknown runtime `{name}`"))?,
                    ),
                };
            }
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unexpected argument `{flag}` for `interop`")),
        }
    }
    Ok(Some(interop::Options { selection }))
}
