//! `cargo xtask conformance`: the Autobahn TestSuite cases against the `echo`
//! example, one runtime after another; with `--client`, against the
//! `autobahn-client` example (see [`client`]).
//!
//! For each runtime: build `echo` in release with that runtime's feature,
//! start it on a free port, wait for its `listening on` line, run `kosoku`
//! (a native runner of the Autobahn cases, from PyPI, kept in a venv under
//! `target/conformance/venv`), stop the server, then judge the report
//! `target/conformance/<runtime>/index.json`. kosoku exits 1 whenever a case
//! is not OK, INFORMATIONAL included, so its exit status is not the verdict.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use client::{agent, run_client_suite, CLIENT_BIN};
use report::{print_summary, read_report};

use crate::runtime::Selection;
use crate::util::{
    ensure_venv, exit_code, run_with_timeout, venv_bin, verdicts_line, Echo, Workspace,
};

mod client;
mod report;

/// Case patterns run by default; `--cases` replaces them. Only groups that
/// exist may be named: kosoku rejects a pattern that matches no case (there
/// is no group 8).
pub const DEFAULT_CASES: &[&str] = &[
    "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*",
];

/// Case patterns run by `--quick`.
pub const QUICK_CASES: &[&str] = &["1.1.*", "5.*", "7.1.*"];

const KOSOKU_VERSION: &str = "0.1.0";
const KOSOKU_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The parsed arguments of `cargo xtask conformance`.
#[derive(Debug)]
pub struct Options {
    pub selection: Selection,
    /// kosoku `-i` patterns.
    pub cases: Vec<String>,
    /// `--client`: wsup's client under test instead of its server.
    pub client: Option<Client>,
}

/// The client under test (`--client`).
#[derive(Debug, Default)]
pub struct Client {
    /// `--client-bin`: this program instead of `autobahn-client` built for
    /// each runtime (it takes the same arguments).
    pub program: Option<PathBuf>,
}

/// Runs the conformance suite; failure if any case fails or anything breaks.
pub fn run(options: &Options) -> ExitCode {
    exit_code(try_run(options))
}

/// `Ok(false)` when the suite ran and some case failed.
fn try_run(options: &Options) -> Result<bool, String> {
    let workspace = Workspace::load()?;
    let runtimes = workspace.select_runtimes(options.selection)?;

    let conformance_dir = workspace.target_dir.join("conformance");
    let kosoku = ensure_kosoku(&conformance_dir.join("venv"))?;

    let mut verdicts = Vec::new();
    for rt in runtimes {
        let passed = match &options.client {
            None => {
                let echo = workspace.build_echo(rt, false)?;
                let out_dir = conformance_dir.join(rt.name());
                fresh_dir(&out_dir)?;
                run_suite(&echo, &kosoku, &options.cases, &out_dir)?;
                let cases = read_report(&out_dir.join("index.json"), None)?;
                print_summary(rt.name(), &out_dir, &cases)
            }
            Some(client) => {
                let program = match &client.program {
                    Some(program) => program.clone(),
                    None => workspace.build_example(CLIENT_BIN, &rt.feature())?,
                };
                let out_dir = conformance_dir.join(format!("client-{}", rt.name()));
                fresh_dir(&out_dir)?;
                run_client_suite(&program, &kosoku, &options.cases, &out_dir, &agent(rt))?
            }
        };
        verdicts.push((rt, passed));
    }
    if verdicts.len() > 1 {
        println!("\n==> conformance: {}", verdicts_line(&verdicts));
    }
    Ok(verdicts.iter().all(|&(_, passed)| passed))
}

/// Returns the path of a working kosoku, creating the venv if needed.
fn ensure_kosoku(venv: &Path) -> Result<PathBuf, String> {
    let kosoku = venv_bin(venv).join("kosoku");
    ensure_venv(venv, &format!("kosoku=={KOSOKU_VERSION}"), |python| {
        kosoku_works(python, &kosoku)
    })?;
    Ok(kosoku)
}

/// The venv holds the pinned kosoku, and its entry point runs.
fn kosoku_works(python: &Path, kosoku: &Path) -> bool {
    let version = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('kosoku'))",
        ])
        .stderr(Stdio::null())
        .output();
    let pinned = matches!(version, Ok(out) if out.status.success() && out.stdout.trim_ascii() == KOSOKU_VERSION.as_bytes());
    pinned
        && Command::new(kosoku)
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
}

/// Empties `out_dir`: reports from an earlier run must not be mistaken for
/// this one's.
fn fresh_dir(out_dir: &Path) -> Result<(), String> {
    if out_dir.exists() {
        fs::remove_dir_all(out_dir)
            .map_err(|e| format!("cannot remove {}: {e}", out_dir.display()))?;
    }
    fs::create_dir_all(out_dir).map_err(|e| format!("cannot create {}: {e}", out_dir.display()))
}

/// Starts `echo`, runs kosoku against it into `out_dir`, stops `echo`.
fn run_suite(echo: &Path, kosoku: &Path, cases: &[String], out_dir: &Path) -> Result<(), String> {
    let server = Echo::start(echo)?;
    let addr = server.addr.as_str();

    println!("==> kosoku against {addr}: {}", cases.join(" "));
    let mut command = Command::new(kosoku);
    command
        .args(["-m", "fuzzingclient", addr, "-o"])
        .arg(out_dir)
        .stdin(Stdio::null());
    for case in cases {
        command.arg("-i").arg(case);
    }
    let status = run_with_timeout(&mut command, KOSOKU_TIMEOUT)?;

    server.stop();
    if !out_dir.join("index.json").exists() {
        return Err(format!("kosoku exited with {status} and wrote no report"));
    }
    Ok(())
}
