//! `cargo xtask conformance`: the Autobahn TestSuite cases against the `echo`
//! example, one runtime after another.
//!
//! For each runtime: build `echo` in release with that runtime's feature,
//! start it on a free port, wait for its `listening on` line, run `kosoku`
//! (a native runner of the Autobahn cases, from PyPI, kept in a venv under
//! `target/conformance/venv`), stop the server, then judge the report
//! `target/conformance/<runtime>/index.json`. kosoku exits 1 whenever a case
//! is not OK, INFORMATIONAL included, so its exit status is not the verdict.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use report::{print_summary, read_report};

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
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A runtime the `echo` example can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Tokio,
    Smol,
    AsyncStd,
}

impl Runtime {
    pub(crate) const ALL: [Runtime; 3] = [Runtime::Tokio, Runtime::Smol, Runtime::AsyncStd];

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rt| rt.name() == name)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Runtime::Tokio => "tokio",
            Runtime::Smol => "smol",
            Runtime::AsyncStd => "async-std",
        }
    }

    pub(crate) fn feature(self) -> String {
        format!("runtime-{}", self.name())
    }
}

/// Which runtimes to run.
#[derive(Debug, Clone, Copy)]
pub enum Selection {
    One(Runtime),
    /// Every runtime the examples package has a feature for.
    All,
}

/// The parsed arguments of `cargo xtask conformance`.
#[derive(Debug)]
pub struct Options {
    pub selection: Selection,
    /// kosoku `-i` patterns.
    pub cases: Vec<String>,
}

/// Runs the conformance suite; failure if any case fails or anything breaks.
pub fn run(options: &Options) -> ExitCode {
    exit_code(try_run(options))
}

/// Success, a failed run, or an error that stopped it.
pub(crate) fn exit_code(result: Result<bool, String>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the `echo` example in release for `rt` (into `target/release/echo`).
pub(crate) fn build_echo(cargo: &OsStr, root: &Path, rt: Runtime) -> Result<(), String> {
    println!("==> building echo for {}", rt.name());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args(["build", "--release", "-p", "wsup-examples", "--bin", "echo"])
        .args(["--no-default-features", "--features", &rt.feature()]);
    check(&mut build, "cargo build")
}

/// `Ok(false)` when the suite ran and some case failed.
fn try_run(options: &Options) -> Result<bool, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask has no parent directory")?;
    let workspace = Workspace::load(&cargo, root)?;

    let runtimes = select_runtimes(options.selection, &workspace)?;

    let conformance_dir = workspace.target_dir.join("conformance");
    let kosoku = ensure_kosoku(&conformance_dir.join("venv"))?;
    let echo = workspace
        .target_dir
        .join("release")
        .join(format!("echo{}", std::env::consts::EXE_SUFFIX));

    let mut verdicts = Vec::new();
    for rt in runtimes {
        build_echo(&cargo, root, rt)?;

        let out_dir = conformance_dir.join(rt.name());
        run_suite(&echo, &kosoku, &options.cases, &out_dir)?;
        let cases = read_report(&out_dir.join("index.json"))?;
        let passed = print_summary(rt.name(), &out_dir, &cases);
        verdicts.push((rt, passed));
    }
    if verdicts.len() > 1 {
        let line: Vec<String> = verdicts
            .iter()
            .map(|&(rt, passed)| {
                format!("{} {}", rt.name(), if passed { "passed" } else { "FAILED" })
            })
            .collect();
        println!("\n==> conformance: {}", line.join(", "));
    }
    Ok(verdicts.iter().all(|&(_, passed)| passed))
}

/// What `cargo metadata` says about the workspace.
pub(crate) struct Workspace {
    pub(crate) target_dir: PathBuf,
    pub(crate) examples_features: Vec<String>,
}

impl Workspace {
    pub(crate) fn load(cargo: &OsString, root: &Path) -> Result<Self, String> {
        let output = Command::new(cargo)
            .current_dir(root)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
        if !output.status.success() {
            return Err(format!("cargo metadata failed: {}", output.status));
        }
        let metadata: Value =
            serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
        let target_dir = metadata["target_directory"]
            .as_str()
            .ok_or("cargo metadata: no target_directory")?;
        let examples = metadata["packages"]
            .as_array()
            .and_then(|packages| packages.iter().find(|p| p["name"] == "wsup-examples"))
            .ok_or("cargo metadata: no wsup-examples package")?;
        let examples_features = examples["features"]
            .as_object()
            .map(|features| features.keys().cloned().collect())
            .unwrap_or_default();
        Ok(Workspace {
            target_dir: PathBuf::from(target_dir),
            examples_features,
        })
    }
}

/// Returns the path of a working kosoku, creating the venv if needed.
fn ensure_kosoku(venv: &Path) -> Result<PathBuf, String> {
    let kosoku = venv_bin(venv).join("kosoku");
    ensure_venv(venv, &format!("kosoku=={KOSOKU_VERSION}"), |python| {
        kosoku_works(python, &kosoku)
    })?;
    Ok(kosoku)
}

/// The `bin` folder of a venv.
pub(crate) fn venv_bin(venv: &Path) -> PathBuf {
    venv.join(if cfg!(windows) { "Scripts" } else { "bin" })
}

/// Makes sure `venv` holds `requirement` (a pinned pip spec) and passes
/// `works`, recreating it when it is missing or stale. Returns its python.
pub(crate) fn ensure_venv(
    venv: &Path,
    requirement: &str,
    works: impl Fn(&Path) -> bool,
) -> Result<PathBuf, String> {
    let python = venv_bin(venv).join("python");
    if works(&python) {
        return Ok(python);
    }
    if venv.exists() {
        println!(
            "note: {} is incomplete or stale; recreating it",
            venv.display()
        );
        fs::remove_dir_all(venv).map_err(|e| format!("cannot remove {}: {e}", venv.display()))?;
    }
    println!("==> installing {requirement} into {}", venv.display());
    check(
        Command::new("python3").args(["-m", "venv"]).arg(venv),
        "python3 -m venv",
    )?;
    check(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(requirement),
        &format!("pip install {requirement}"),
    )?;
    if works(&python) {
        Ok(python)
    } else {
        Err(format!("{requirement} does not work in {}", venv.display()))
    }
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

/// Starts `echo`, runs kosoku against it into `out_dir`, stops `echo`.
fn run_suite(echo: &Path, kosoku: &Path, cases: &[String], out_dir: &Path) -> Result<(), String> {
    // Reports from an earlier run must not be mistaken for this one's.
    if out_dir.exists() {
        fs::remove_dir_all(out_dir)
            .map_err(|e| format!("cannot remove {}: {e}", out_dir.display()))?;
    }
    fs::create_dir_all(out_dir).map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;

    let addr = format!("127.0.0.1:{}", free_port()?);
    let mut server = start_echo(echo, &addr)?;

    println!("==> kosoku against {addr}: {}", cases.join(" "));
    let mut command = Command::new(kosoku);
    command
        .args(["-m", "fuzzingclient", &addr, "-o"])
        .arg(out_dir)
        .stdin(Stdio::null());
    for case in cases {
        command.arg("-i").arg(case);
    }
    let status = run_with_timeout(&mut command, KOSOKU_TIMEOUT)?;

    if let Ok(Some(exit)) = server.0.try_wait() {
        eprintln!("warning: the echo server exited during the run ({exit})");
    }
    drop(server);
    if !out_dir.join("index.json").exists() {
        return Err(format!("kosoku exited with {status} and wrote no report"));
    }
    Ok(())
}

/// A child process killed, and reaped, when this goes out of scope: on
/// success, on error and on panic alike.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port that was free a moment ago.
pub(crate) fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind a port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Starts `echo ADDR` and waits for its `listening on` line.
pub(crate) fn start_echo(echo: &Path, addr: &str) -> Result<KillOnDrop, String> {
    let child = Command::new(echo)
        .arg(addr)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", echo.display()))?;
    let mut server = KillOnDrop(child);
    let stdout = server.0.stdout.take().expect("stdout is piped");

    // The reader thread outlives the wait: it keeps draining stdout so the
    // server never blocks on a full pipe, and ends at EOF once it is killed.
    let (ready_tx, ready_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut ready_tx = Some(ready_tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if ready_tx.is_some() && line.starts_with("listening on") {
                let _ = ready_tx.take().map(|tx| tx.send(()));
            }
            println!("[echo] {line}");
        }
    });
    match ready_rx.recv_timeout(SERVER_START_TIMEOUT) {
        Ok(()) => Ok(server),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "echo did not print `listening on` within {SERVER_START_TIMEOUT:?}"
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = server.0.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(format!("echo exited before listening ({status})"))
        }
    }
}

/// Runs a command to completion, killing it after `timeout`.
pub(crate) fn run_with_timeout(
    command: &mut Command,
    timeout: Duration,
) -> Result<ExitStatus, String> {
    let name = command.get_program().to_string_lossy().into_owned();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let mut child = KillOnDrop(child);
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.0.try_wait().map_err(|e| format!("{name}: {e}"))? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            return Err(format!("{name} did not finish within {timeout:?}; killed"));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Runs a command to completion; an error unless it succeeds.
pub(crate) fn check(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed: {status}"))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_command_past_its_deadline_is_killed() {
        let started = Instant::now();
        let result = run_with_timeout(Command::new("sleep").arg("30"), Duration::from_millis(200));
        assert!(result.unwrap_err().contains("did not finish"));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_command_within_its_deadline_reports_its_status() {
        let status = run_with_timeout(&mut Command::new("false"), Duration::from_secs(30));
        assert_eq!(status.unwrap().code(), Some(1));
    }
}

/// The runtimes to run: as `conformance`, `all` skips with a note those the
/// examples package has no feature for.
pub(crate) fn select_runtimes(
    selection: Selection,
    workspace: &Workspace,
) -> Result<Vec<Runtime>, String> {
    let has = |rt: &Runtime| workspace.examples_features.contains(&rt.feature());
    let runtimes = match selection {
        Selection::One(rt) if has(&rt) => vec![rt],
        Selection::One(rt) => {
            return Err(format!(
                "runtime `{}`: examples/Cargo.toml has no `{}` feature",
                rt.name(),
                rt.feature()
            ))
        }
        Selection::All => {
            let (present, missing): (Vec<_>, Vec<_>) = Runtime::ALL.into_iter().partition(has);
            for rt in missing {
                println!(
                    "note: skipping runtime `{}`: examples/Cargo.toml has no `{}` feature",
                    rt.name(),
                    rt.feature()
                );
            }
            present
        }
    };
    if runtimes.is_empty() {
        return Err("no runtime to run".to_owned());
    }
    Ok(runtimes)
}
