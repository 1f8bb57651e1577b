//! `cargo xtask fuzz [--secs N] [TARGET]...`: runs the cargo-fuzz
//! (libFuzzer) targets in `fuzz/`, each for N seconds (default 60), all of
//! them when none is named; fails on a finding.
//!
//! cargo-fuzz is installed (`cargo install cargo-fuzz --locked`) if
//! `cargo fuzz --version` fails. The targets need nightly flags
//! (`-Zsanitizer=address`); with one stable toolchain `RUSTC_BOOTSTRAP=1`
//! allows them. They are built once, with debug assertions (so overflow
//! checks), then run one after another from `fuzz/` under an RSS limit and
//! a per-input timeout.
//!
//! Corpora: the committed seeds in `fuzz/corpus/<target>` are read, never
//! written; what a run finds goes to `target/fuzz-corpus/<target>`, which
//! later runs read too, so the tree stays clean (CI) while local runs
//! build on each other. To add to the committed seeds, minimize first
//! (`cargo fuzz cmin`). A crash, leak, timeout or out-of-memory input is
//! written to `fuzz/artifacts/<target>/`, and its path printed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use crate::util::{check, exit_code, xtask_dir, Workspace};

/// Seconds per target when `--secs` is not given.
pub const DEFAULT_SECS: u64 = 60;
/// libFuzzer's memory limit per process (and per allocation).
const RSS_LIMIT_MB: u32 = 2048;
/// An input that takes longer than this is a finding (a hang).
const INPUT_TIMEOUT_SECS: u32 = 10;

/// The parsed arguments of `cargo xtask fuzz`.
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub secs: u64,
    /// The targets to run; empty: all of them.
    pub targets: Vec<String>,
}

/// Runs the targets; failure on a finding or if anything breaks.
pub fn run(options: &Options) -> ExitCode {
    exit_code(try_run(options))
}

/// What one target's run ended with, from libFuzzer's output.
#[derive(Debug, Default)]
struct Outcome {
    passed: bool,
    /// `stat::number_of_executed_units`, or the count of the last `#N` line.
    executions: Option<u64>,
    /// The last status line (`#N ... cov: ... ft: ... corp: ...`).
    last_status: Option<String>,
    /// Where libFuzzer wrote the input that failed.
    artifact: Option<String>,
}

fn try_run(options: &Options) -> Result<bool, String> {
    let workspace = Workspace::load()?;
    let fuzz_dir = xtask_dir()
        .parent()
        .ok_or("xtask has no parent directory")?
        .join("fuzz");
    ensure_cargo_fuzz(&workspace)?;

    let all = list_targets(&workspace, &fuzz_dir)?;
    let targets = if options.targets.is_empty() {
        all
    } else {
        for t in &options.targets {
            if !all.contains(t) {
                return Err(format!(
                    "no fuzz target `{t}` (there are: {})",
                    all.join(", ")
                ));
            }
        }
        options.targets.clone()
    };

    println!("==> building the fuzz targets");
    check(
        cargo_fuzz(&workspace, &fuzz_dir).args(["build", "--debug-assertions"]),
        "cargo fuzz build",
    )?;

    let mut outcomes = Vec::new();
    for target in &targets {
        let scratch = workspace.target_dir.join("fuzz-corpus").join(target);
        std::fs::create_dir_all(&scratch)
            .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        let seeds = fuzz_dir.join("corpus").join(target);
        println!("==> fuzzing {target} for {} s", options.secs);
        let outcome = run_target(
            &workspace,
            &fuzz_dir,
            target,
            &scratch,
            &seeds,
            options.secs,
        )?;
        outcomes.push((target, outcome));
    }

    println!("\n==> fuzz: {} s per target", options.secs);
    println!(
        "{:<20} {:>12}  {:<8} last status",
        "target", "executions", "result"
    );
    for (target, o) in &outcomes {
        let executions = o.executions.map_or("?".to_owned(), |n| n.to_string());
        let result = if o.passed { "ok" } else { "FAILED" };
        let status = o.last_status.as_deref().unwrap_or("");
        println!("{target:<20} {executions:>12}  {result:<8} {status}");
        if let Some(path) = &o.artifact {
            println!("    failing input: {path}");
            println!(
                "    reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -a {target} {path}"
            );
        }
    }
    Ok(outcomes.iter().all(|(_, o)| o.passed))
}

/// `cargo fuzz` run from `fuzz/`, nightly flags allowed.
fn cargo_fuzz(workspace: &Workspace, fuzz_dir: &Path) -> Command {
    let mut command = workspace.cargo();
    command
        .current_dir(fuzz_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .arg("fuzz");
    command
}

/// Installs cargo-fuzz unless `cargo fuzz --version` works.
fn ensure_cargo_fuzz(workspace: &Workspace) -> Result<(), String> {
    let present = workspace
        .cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    println!("==> installing cargo-fuzz");
    check(
        workspace
            .cargo()
            .args(["install", "cargo-fuzz", "--locked"]),
        "cargo install cargo-fuzz",
    )
}

/// The targets `fuzz/Cargo.toml` declares (`cargo fuzz list`).
fn list_targets(workspace: &Workspace, fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let output = cargo_fuzz(workspace, fuzz_dir)
        .arg("list")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo fuzz list: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo fuzz list failed: {}", output.status));
    }
    let targets: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if targets.is_empty() {
        return Err("cargo fuzz list: no targets".to_owned());
    }
    Ok(targets)
}

/// Runs `target` for `secs`, new inputs into `scratch`, `seeds` read too;
/// libFuzzer's output is passed through and read for the outcome.
fn run_target(
    workspace: &Workspace,
    fuzz_dir: &Path,
    target: &str,
    scratch: &Path,
    seeds: &Path,
    secs: u64,
) -> Result<Outcome, String> {
    let mut command = cargo_fuzz(workspace, fuzz_dir);
    command
        .args(["run", "--debug-assertions", target])
        .arg(scratch);
    // A target may have no committed seeds (libFuzzer stops on a missing
    // directory).
    if seeds.is_dir() {
        command.arg(seeds);
    }
    command
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
        .arg("-print_final_stats=1")
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run cargo fuzz run {target}: {e}"))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut outcome = Outcome::default();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        eprintln!("{line}");
        read_line(&line, &mut outcome);
    }
    let status = child
        .wait()
        .map_err(|e| format!("cargo fuzz run {target}: {e}"))?;
    outcome.passed = status.success();
    Ok(outcome)
}

/// Takes from one line of libFuzzer's output what the summary needs.
fn read_line(line: &str, outcome: &mut Outcome) {
    if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
        outcome.executions = n.trim().parse().ok();
    } else if let Some(rest) = line.strip_prefix('#') {
        let count = rest.split_whitespace().next().and_then(|n| n.parse().ok());
        if count.is_some() && line.contains("cov:") {
            outcome.last_status = Some(line.to_owned());
            outcome.executions = outcome.executions.max(count);
        }
    } else if let Some((_, path)) = line.split_once("Test unit written to ") {
        outcome.artifact = Some(path.trim().to_owned());
    }
}

#[cfg(test)]
mod tests;
