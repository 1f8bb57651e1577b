//! What the suites need from the machine: Debian packages installed when
//! missing, and a redis-server of the run's own (wsup-testkit's, which the
//! tests that need one use too).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use wsup_testkit::redis::RedisServer;

use super::check;

/// Where `program` is on `PATH`, if anywhere.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// `program`, installing Debian's `package` for it if it is missing
/// (`apt-get update` once per run first).
pub fn ensure_program(program: &str, package: &str) -> Result<PathBuf, String> {
    if let Some(found) = which(program) {
        return Ok(found);
    }
    static UPDATE: Once = Once::new();
    UPDATE.call_once(|| {
        eprintln!("==> apt-get update");
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
    });
    eprintln!("==> apt-get install {package} (for {program})");
    check(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {package}"),
    )?;
    which(program).ok_or_else(|| format!("{package} installed, but no {program} on PATH"))
}

/// A redis-server of the run's own, on a free port of 127.0.0.1, with
/// nothing saved to disk; stopped when dropped.
pub fn start_redis(bin: &Path) -> Result<RedisServer, String> {
    RedisServer::start_free(bin).map_err(|e| format!("redis-server: {e}"))
}
