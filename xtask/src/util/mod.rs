//! What the subcommands share: child processes, Python venvs, Debian
//! packages and a redis-server, and the workspace (cargo, its target
//! directory, the `echo` example).

mod echo;
mod process;
mod system;
mod venv;
mod workspace;

pub use echo::Echo;
pub use process::{
    check, free_port, run_with_timeout, start_listening, start_ready, wait_timeout, KillOnDrop,
    Pipe,
};
pub use system::{ensure_program, start_redis, which};
pub use venv::{ensure_venv, venv_bin};
pub use workspace::{xtask_dir, Workspace};

use std::process::ExitCode;

use crate::runtime::Runtime;

/// Success, a failed run, or an error that stopped it.
pub fn exit_code(result: Result<bool, String>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `tokio passed, smol FAILED`: the verdict of each runtime.
pub fn verdicts_line(verdicts: &[(Runtime, bool)]) -> String {
    let line: Vec<String> = verdicts
        .iter()
        .map(|&(rt, passed)| format!("{} {}", rt.name(), if passed { "passed" } else { "FAILED" }))
        .collect();
    line.join(", ")
}

/// Prints `==> {what}: ` and the verdict of each runtime; whether every
/// runtime passed.
pub fn summarize_verdicts(what: &str, verdicts: &[(Runtime, bool)]) -> bool {
    println!("\n==> {what}: {}", verdicts_line(verdicts));
    verdicts.iter().all(|&(_, passed)| passed)
}
