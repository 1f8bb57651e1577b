//! `cargo xtask redis`: the tests that need a real redis-server (Debian's
//! package, installed if missing): the Redis bridge's (two hubs, a
//! restart) and the chat example's across two nodes. The tests start their
//! own servers on free ports from the path given in `WSUP_REDIS_SERVER`
//! (wsup-testkit's `RedisServer`; a restart is one of them), so this only
//! installs it and runs them; `cargo test` alone leaves them ignored.

use std::process::ExitCode;

use wsup_testkit::redis::SERVER_VAR;

use crate::util::{check, ensure_program, exit_code, Workspace};

pub fn run() -> ExitCode {
    exit_code(run_tests())
}

fn run_tests() -> Result<bool, String> {
    let redis = ensure_program("redis-server", "redis-server")?;
    let workspace = Workspace::load()?;
    for (args, what) in [
        (&["-p", "wsup-redis"][..], "the wsup-redis tests"),
        (
            &["-p", "wsup-examples", "--test", "chat_cli"][..],
            "the chat example across two nodes",
        ),
    ] {
        eprintln!("==> {what}, against {}", redis.display());
        check(
            workspace
                .cargo()
                .arg("test")
                .args(args)
                .args(["--", "--ignored"])
                .env(SERVER_VAR, &redis),
            what,
        )?;
    }
    Ok(true)
}
