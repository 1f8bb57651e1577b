//! `cargo xtask browser`: two `chat` nodes on one Redis carry a
//! conversation between two tabs of a real, headless Chromium.
//!
//! Debian's `chromium` and `redis-server` are installed with apt-get if
//! missing; `playwright-core` (pinned; it downloads no browser) from npm
//! into `target/browser/`. A redis-server of the run's own and two `chat`
//! processes (built in release, `--redis redis://127.0.0.1:PORT`) start on
//! free ports; `browser/chat.mjs` opens the page on each node in one room,
//! types a message in each tab and waits for it in the other, and leaves
//! a screenshot at `target/browser/chat.png`. Everything started is
//! stopped on every way out: the chat nodes and Redis when dropped, the
//! script after [`SCRIPT_TIMEOUT`] at the latest, and its Chromium by the
//! script (playwright closes it on exit and on signals) or, if the script
//! is killed, by itself (it exits when its DevTools pipe closes).

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use crate::util::{
    check, ensure_apt, exit_code, run_with_timeout, xtask_dir, Echo, Redis, Workspace,
};

const PLAYWRIGHT_VERSION: &str = "1.65.2";
/// The script bounds each wait itself (10 s); this bounds the whole run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the browser test; failure if a message does not go across.
pub fn run() -> ExitCode {
    exit_code(try_run())
}

fn try_run() -> Result<bool, String> {
    let script = xtask_dir().join("browser").join("chat.mjs");
    if !script.is_file() {
        return Err(format!("{} is missing", script.display()));
    }
    let workspace = Workspace::load()?;
    let dir = workspace.target_dir.join("browser");
    let chromium = ensure_apt("chromium", "chromium")?;
    ensure_playwright(&dir)?;
    let chat = workspace.build_example("chat", "runtime-tokio")?;

    let redis = Redis::start()?;
    let url = redis.url();
    let flags = [std::ffi::OsStr::new("--redis"), url.as_ref()];
    let one = Echo::start_example(&chat, "chat 1", &flags)?;
    let two = Echo::start_example(&chat, "chat 2", &flags)?;
    println!(
        "==> Chromium: a tab on http://{} and one on http://{}, one room",
        one.addr, two.addr
    );
    let mut command = Command::new("node");
    command
        .arg(&script)
        .arg(&dir)
        .args([&one.addr, &two.addr])
        .arg(&chromium)
        .stdin(Stdio::null());
    let passed = run_with_timeout(&mut command, SCRIPT_TIMEOUT)?.success();
    one.stop();
    two.stop();
    println!("==> browser: {}", if passed { "passed" } else { "FAILED" });
    Ok(passed)
}

/// Installs the pinned `playwright-core` under `dir/node_modules` unless
/// it is there.
fn ensure_playwright(dir: &Path) -> Result<(), String> {
    let manifest = dir.join("node_modules/playwright-core/package.json");
    let installed = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|json| json["version"] == PLAYWRIGHT_VERSION);
    if installed {
        return Ok(());
    }
    println!("==> npm install playwright-core@{PLAYWRIGHT_VERSION}");
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    check(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
            ])
            .arg(dir)
            .arg(format!("playwright-core@{PLAYWRIGHT_VERSION}")),
        "npm install playwright-core",
    )
}
