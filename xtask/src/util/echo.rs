//! The `echo` example as `conformance` and `interop` run it.

use std::path::Path;
use std::process::{Command, Stdio};

use super::{free_port, start_listening, KillOnDrop};

/// The `echo` example, running on a free port of 127.0.0.1.
#[derive(Debug)]
pub struct Echo {
    /// Killed and reaped when dropped.
    server: KillOnDrop,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Echo {
    /// Starts `echo ADDR` and waits for its `listening on` line; its output
    /// is echoed with an `[echo]` prefix. It logs warnings and errors only
    /// (the conformance cases end hundreds of connections on purpose, each
    /// logged at INFO), unless `RUST_LOG` says otherwise.
    pub fn start(echo: &Path) -> Result<Echo, String> {
        Echo::start_example(echo, "echo", &[])
    }

    /// As [`start`](Self::start), for any example that takes its address
    /// first and says `listening on` (`hello`, `hello-axum`), with `flags`
    /// after the address (`--tls CERT KEY`, say).
    pub fn start_example(
        program: &Path,
        name: &'static str,
        flags: &[&std::ffi::OsStr],
    ) -> Result<Echo, String> {
        let addr = format!("127.0.0.1:{}", free_port()?);
        let mut command = Command::new(program);
        command.arg(&addr).args(flags);
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "warn");
        }
        let server = start_listening(command.stdin(Stdio::null()), name, move |line| {
            println!("[{name}] {line}")
        })?;
        Ok(Echo { server, addr })
    }

    /// Stops the server, with a warning if it had exited on its own.
    pub fn stop(mut self) {
        if let Ok(Some(exit)) = self.server.0.try_wait() {
            eprintln!("warning: the echo server exited during the run ({exit})");
        }
    }
}
