//! `cargo xtask browser`: the chat example in a real browser. Two `chat`
//! nodes on one redis-server, and headless Chromium (Debian's `chromium`,
//! driven by `playwright-core` from npm, installed under
//! `target/browser/`) with a tab on each: a message typed in one tab must
//! appear in the other, both ways (`xtask/browser/chat.cjs`). Everything
//! it starts is stopped on every way out; a screenshot of a tab is left in
//! `target/browser/chat.png`.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Duration;

use crate::util::{
    check, ensure_program, exit_code, free_port, run_with_timeout, start_listening, start_redis,
    which, xtask_dir, Workspace,
};

/// The playwright-core release the script is written for (it downloads no
/// browser: it drives the system's Chromium).
const PLAYWRIGHT: &str = "playwright-core@1.65.2";

pub fn run() -> ExitCode {
    exit_code(run_browser())
}

fn run_browser() -> Result<bool, String> {
    ensure_program("chromium", "chromium")?;
    let node = which("node").ok_or("node is needed (Node 20)")?;
    let workspace = Workspace::load()?;
    let dir = workspace.target_dir.join("browser");
    install_playwright(&dir)?;
    let redis = start_redis(&ensure_program("redis-server", "redis-server")?)?;
    let chat = workspace.build_example("chat", "runtime-tokio")?;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let addr = format!("127.0.0.1:{}", free_port()?);
        let child = start_listening(
            Command::new(&chat).args([addr.as_str(), "--redis", &redis.url()]),
            "chat",
            |_| {},
        )?;
        nodes.push((child, format!("http://{addr}")));
    }
    let screenshot = dir.join("chat.png");
    eprintln!(
        "==> chromium: a tab on {} and one on {}",
        nodes[0].1, nodes[1].1
    );
    let status = run_with_timeout(
        Command::new(node)
            .arg(xtask_dir().join("browser/chat.cjs"))
            .args([&nodes[0].1, &nodes[1].1])
            .arg(&screenshot)
            .env("NODE_PATH", dir.join("node_modules")),
        Duration::from_secs(120),
    )?;
    drop(nodes);
    Ok(status.success())
}

/// playwright-core in `dir/node_modules`, installed with npm if missing.
fn install_playwright(dir: &Path) -> Result<(), String> {
    if dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    eprintln!("==> npm install {PLAYWRIGHT}");
    check(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(dir)
            .arg(PLAYWRIGHT),
        "npm install playwright-core",
    )
}
