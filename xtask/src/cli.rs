//! The command line: `cargo xtask <SUBCOMMAND> [FLAGS]`.

use std::path::PathBuf;

use crate::runtime::{Runtime, Selection};
use crate::{bench, conformance, fuzz, interop};

pub const USAGE: &str = "\
usage: cargo xtask <SUBCOMMAND>

subcommands:
  conformance [--runtime tokio|smol|async-std|all] [--cases PATTERN]... [--quick]
              [--client [--client-bin PATH]]
      run the Autobahn TestSuite cases (kosoku) against the echo example;
      --runtime defaults to tokio; --cases (repeatable) replaces the default
      case list; --quick runs a small subset; --client runs them against
      wsup's client instead (the autobahn-client example, kosoku as the
      fuzzing server; reports in target/conformance/client-<runtime>/),
      --client-bin against that program rather than autobahn-client built
      for each runtime
  bench [--runtime tokio|smol|async-std|all] [--quick]
      measure wsup's echo against async-tungstenite (baseline) and raw TCP
      (ceiling) on each runtime; results in target/wsup-bench/; --runtime
      defaults to all (tokio with --quick); --quick takes under 90 s
  bench --memory [--runtime tokio|smol|async-std|all] [--echo PATH] [--conns N] [--quick]
                 [--scenario burst|held] [--size BYTES]
      instead: the echo server's resident memory per connection after a
      burst, each connection sending one 16 MiB message (64 at a time) or
      leaving a compressed message unfinished, then idle; results in
      target/wsup-bench/memory.{md,json}; --echo measures that echo binary
      instead of building one per runtime (tokio by default); --conns
      defaults to 1000 (200 with --quick), about 1 min (20 s) per server;
      --scenario held: the echo with a message limit of --size (default
      1 MiB), each connection holding what a hostile peer can make it hold
      (five patterns, a fresh server each), all at once; the RSS per
      connection against the bound the limits imply, and the peak; results
      in target/wsup-bench/memory-held.{md,json}; --conns defaults to 2000;
      --size sets the burst's message too (default 16 MiB)
  bench --http [--runtime tokio|smol|async-std|all] [--quick]
      instead: the echo behind hyper (`echo --hyper`) against the plain
      echo, and echo --tls (a certificate made for the run), side by side, as
      ratios; results in target/wsup-bench/http.{md,json};
      tokio by default; about 3 min per runtime (1 min with --quick)
  bench --fanout [--quick]
      instead: one publisher, 1,000 to 15,000 subscribers, 16 B and 1 KiB
      messages: wsup's hub against a tokio::sync::broadcast channel with a
      tokio-tungstenite task per subscriber (baseline) and a raw TCP
      fan-out (ceiling), on tokio: deliveries/s, publish-to-last-delivery
      latency, server RSS per subscriber; results in
      target/wsup-bench/fanout.{md,json,svg}; about 15 min (two repeats);
      --quick: 1,000 subscribers, one repeat, under 2 min once built
  bench --against REV [--runtime tokio|smol|async-std|all] [--quick] [--repeats N]
      instead: this tree's echo against the echo built at git revision REV
      (exported to target/wsup-bench/against/), side by side, as ratios
      (this tree ÷ REV) per second and per CPU second, 16 B to 1 MiB over
      1 and 100 connections; results in target/wsup-bench/against.{md,json};
      all runtimes by default; about 2 min per runtime once built;
      --repeats N (here, with --http, --threads and the main bench)
      measures the matrix N times instead of 5
  bench --threads [--runtime tokio|smol|async-std|all] [--quick] [--repeats N]
      instead: each connection's split halves in two tasks (wsup_loop
      with WSUP_LOOP_TASKS=1) on one worker thread pinned to the server
      core, against two worker threads on both cores, and the README loop
      on two; ratios per second and per CPU second; results in
      target/wsup-bench/threads.{md,json}; all runtimes by default
  bench --redraw FILE
      instead: measure nothing, draw the figures of a saved results.json
      (throughput.svg, latency.svg) or fanout.json (fanout.svg) again,
      beside it
  interop [--runtime tokio|smol|async-std|all] [--client]
      permessage-deflate interop: the Python `websockets` client against
      the echo, hello (hyper) and hello-axum examples, every negotiation
      parameter; --runtime defaults to tokio; --client runs wsup's client
      (benches' interop_client) against a websockets echo server instead,
      one server per deflate configuration, each outcome judged
  redis
      the tests that need a real redis-server (Debian's package, installed
      if missing): wsup-redis's (two hubs, a Redis restart) and the chat
      example's across two nodes; each test starts its own
  browser
      the chat example in headless Chromium (Debian's chromium, driven by
      playwright-core from npm, both installed if missing): two chat nodes
      on one redis-server, a tab on each, a message from each tab must
      appear in the other; a screenshot in target/browser/chat.png
  fuzz [--secs N] [TARGET]...
      run the cargo-fuzz targets in fuzz/ (all without a name) for N
      seconds each (default 60); installs cargo-fuzz if missing; new
      inputs go to target/fuzz-corpus/, findings to fuzz/artifacts/
  help
      print this message";

/// What the command line asks for.
#[derive(Debug)]
pub enum Task {
    Conformance(conformance::Options),
    Bench(bench::Options),
    Interop(interop::Options),
    Fuzz(fuzz::Options),
    /// `redis`: wsup-redis against a real redis-server.
    Redis,
    /// `browser`: the chat example in Chromium.
    Browser,
    /// `help`, or `-h`/`--help` anywhere among a subcommand's flags.
    Help,
}

/// Parses the arguments after `cargo xtask`.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Task, String> {
    match args.next().as_deref() {
        Some("conformance") => parse_conformance(Flags(args)),
        Some("bench") => parse_bench(Flags(args)),
        Some("interop") => parse_interop(Flags(args)),
        Some("fuzz") => parse_fuzz(Flags(args)),
        Some(task @ ("redis" | "browser")) => match args.next().as_deref() {
            None => Ok(if task == "redis" {
                Task::Redis
            } else {
                Task::Browser
            }),
            Some("-h" | "--help") => Ok(Task::Help),
            Some(other) => Err(format!("`{task}` takes no argument, not `{other}`")),
        },
        Some("help" | "-h" | "--help") => Ok(Task::Help),
        Some(other) => Err(format!("unknown subcommand `{other}`")),
        None => Err("no subcommand given".to_owned()),
    }
}

/// A subcommand's arguments, read as flags: `--flag value` and
/// `--flag=value` alike.
struct Flags<I>(I);

impl<I: Iterator<Item = String>> Flags<I> {
    /// The next flag, and its value if given inline (`--flag=value`).
    fn next(&mut self) -> Option<(String, Option<String>)> {
        let arg = self.0.next()?;
        Some(match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        })
    }

    /// The value of `flag`: inline, or the next argument.
    fn value(&mut self, flag: &str, inline: Option<String>) -> Result<String, String> {
        inline
            .or_else(|| self.0.next())
            .ok_or_else(|| format!("`{flag}` needs a value"))
    }
}

fn parse_conformance(mut flags: Flags<impl Iterator<Item = String>>) -> Result<Task, String> {
    let mut selection = Selection::One(Runtime::Tokio);
    let mut cases = Vec::new();
    let mut quick = false;
    let mut client = None;
    let mut client_bin = None;
    while let Some((flag, inline)) = flags.next() {
        match flag.as_str() {
            "--runtime" => selection = Selection::parse(&flags.value(&flag, inline)?)?,
            "--cases" => cases.push(flags.value(&flag, inline)?),
            "--quick" if inline.is_none() => quick = true,
            "--client" if inline.is_none() => client = Some(conformance::Client::default()),
            "--client-bin" => client_bin = Some(PathBuf::from(flags.value(&flag, inline)?)),
            "-h" | "--help" => return Ok(Task::Help),
            _ => return Err(format!("unexpected argument `{flag}` for `conformance`")),
        }
    }
    match (&mut client, client_bin) {
        (Some(client), program) => client.program = program,
        (None, Some(_)) => return Err("`--client-bin` goes with `--client`".to_owned()),
        (None, None) => {}
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
    Ok(Task::Conformance(conformance::Options {
        selection,
        cases,
        client,
    }))
}

fn parse_bench(mut flags: Flags<impl Iterator<Item = String>>) -> Result<Task, String> {
    let mut options = bench::Options::default();
    // `--memory`'s own flags, checked once all are read.
    let (mut memory, mut mem, mut scenario) = (false, bench::Memory::default(), None);
    while let Some((flag, inline)) = flags.next() {
        match flag.as_str() {
            "--runtime" => {
                options.runtimes = Some(match Selection::parse(&flags.value(&flag, inline)?)? {
                    Selection::One(rt) => vec![rt],
                    Selection::All => Runtime::ALL.to_vec(),
                });
            }
            "--quick" if inline.is_none() => options.quick = true,
            "--memory" if inline.is_none() => memory = true,
            "--http" if inline.is_none() => options.http = true,
            "--fanout" if inline.is_none() => options.fanout = true,
            "--threads" if inline.is_none() => options.threads = true,
            "--redraw" => options.redraw = Some(PathBuf::from(flags.value(&flag, inline)?)),
            "--against" => options.against = Some(flags.value(&flag, inline)?),
            "--repeats" => options.repeats = Some(positive(&flag, flags.value(&flag, inline)?)?),
            "--echo" => mem.echo = Some(PathBuf::from(flags.value(&flag, inline)?)),
            "--conns" => mem.conns = Some(positive(&flag, flags.value(&flag, inline)?)?),
            "--size" => mem.size = Some(positive(&flag, flags.value(&flag, inline)?)?),
            "--scenario" => scenario = Some(bench::Scenario::parse(&flags.value(&flag, inline)?)?),
            "-h" | "--help" => return Ok(Task::Help),
            _ => return Err(format!("unexpected argument `{flag}` for `bench`")),
        }
    }
    let memory_flags =
        mem.echo.is_some() || mem.conns.is_some() || scenario.is_some() || mem.size.is_some();
    if !memory && memory_flags {
        return Err("`--echo`, `--conns`, `--scenario` and `--size` go with `--memory`".to_owned());
    }
    if mem.echo.is_some() && options.runtimes.is_some() {
        return Err("`--echo` and `--runtime` exclude each other".to_owned());
    }
    let o = &options;
    let modes = [memory, o.http, o.fanout, o.threads, o.against.is_some()];
    if modes.iter().filter(|&&m| m).count() > 1 {
        return Err(
            "`--memory`, `--http`, `--fanout`, `--threads` and `--against` exclude each other"
                .to_owned(),
        );
    }
    if o.redraw.is_some() && (modes.contains(&true) || o.quick || o.runtimes.is_some()) {
        return Err("`--redraw` takes no other flag".to_owned());
    }
    mem.scenario = scenario.unwrap_or_default();
    options.memory = memory.then_some(mem);
    Ok(Task::Bench(options))
}

/// A count that must be above zero.
fn positive(flag: &str, value: String) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{flag} {value}`: not a positive count")),
    }
}

fn parse_interop(mut flags: Flags<impl Iterator<Item = String>>) -> Result<Task, String> {
    let mut selection = Selection::One(Runtime::Tokio);
    let mut client = false;
    while let Some((flag, inline)) = flags.next() {
        match flag.as_str() {
            "--runtime" => selection = Selection::parse(&flags.value(&flag, inline)?)?,
            "--client" if inline.is_none() => client = true,
            "-h" | "--help" => return Ok(Task::Help),
            _ => return Err(format!("unexpected argument `{flag}` for `interop`")),
        }
    }
    Ok(Task::Interop(interop::Options { selection, client }))
}

fn parse_fuzz(mut flags: Flags<impl Iterator<Item = String>>) -> Result<Task, String> {
    let mut options = fuzz::Options {
        secs: fuzz::DEFAULT_SECS,
        targets: Vec::new(),
    };
    while let Some((flag, inline)) = flags.next() {
        match flag.as_str() {
            "--secs" => options.secs = positive(&flag, flags.value(&flag, inline)?)? as u64,
            "-h" | "--help" => return Ok(Task::Help),
            f if f.starts_with('-') => return Err(format!("unexpected argument `{f}` for `fuzz`")),
            _ => options.targets.push(flag),
        }
    }
    Ok(Task::Fuzz(options))
}

/// [`parse`] of a command line split at white space.
#[cfg(test)]
pub fn parse_line(line: &str) -> Result<Task, String> {
    parse(line.split_whitespace().map(str::to_owned))
}

/// The options of command line `$line`, which must parse as `Task::$task`.
#[cfg(test)]
macro_rules! parsed {
    ($task:ident, $line:expr) => {
        match $crate::cli::parse_line($line) {
            Ok($crate::cli::Task::$task(options)) => options,
            other => panic!("`{}` is not {}: {other:?}", $line, stringify!($task)),
        }
    };
}
#[cfg(test)]
pub(crate) use parsed;

#[cfg(test)]
mod tests;
