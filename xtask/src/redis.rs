//! `cargo xtask redis`: the Redis bridge's tests against a real
//! redis-server (Debian's package, installed if missing). The tests start
//! their own servers on free ports from the path given in
//! `WSUP_REDIS_SERVER` (a restart is one of them), so this only installs
//! it and runs them; `cargo test` alone leaves them ignored.

use std::process::ExitCode;

use crate::util::{check, ensure_program, exit_code, Workspace};

pub fn run() -> ExitCode {
    exit_code(run_tests())
}

fn run_tests() -> Result<bool, String> {
    let redis = ensure_program("redis-server", "redis-server")?;
    let workspace = Workspace::load()?;
    eprintln!("==> wsup-redis against {}", redis.display());
    check(
        workspace
            .cargo()
            .args(["test", "-p", "wsup-redis", "--", "--ignored"])
            .env("WSUP_REDIS_SERVER", &redis),
        "the wsup-redis tests",
    )?;
    Ok(true)
}
