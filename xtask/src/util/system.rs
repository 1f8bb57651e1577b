//! What the suites need from the machine: Debian packages installed when
//! missing, and a redis-server of the run's own.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;
use std::thread;
use std::time::{Duration, Instant};

use super::{check, free_port, KillOnDrop};

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

/// A redis-server on a free port of 127.0.0.1, with nothing saved to
/// disk; stopped when dropped.
#[derive(Debug)]
pub struct RedisServer {
    _child: KillOnDrop,
    pub port: u16,
}

impl RedisServer {
    pub fn start(bin: &Path) -> Result<RedisServer, String> {
        let port = free_port()?;
        let child = KillOnDrop::spawn(
            Command::new(bin)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null()),
            "redis-server",
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("redis-server did not listen on {port} within 10 s"));
            }
            thread::sleep(Duration::from_millis(20));
        }
        Ok(RedisServer {
            _child: child,
            port,
        })
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}
