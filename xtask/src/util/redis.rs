//! A `redis-server` of the run's own, on a free port of 127.0.0.1.

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::{ensure_apt, free_port, KillOnDrop};

/// How long redis-server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running redis-server, killed and reaped when dropped; nothing saved
/// to disk.
#[derive(Debug)]
pub struct Redis {
    _server: KillOnDrop,
    pub port: u16,
}

impl Redis {
    /// Installs Debian's `redis-server` if missing, starts it on a free
    /// port and waits until it accepts connections.
    pub fn start() -> Result<Redis, String> {
        let program = ensure_apt("redis-server", "redis-server")?;
        let port = free_port()?;
        let mut command = Command::new(program);
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let mut server = KillOnDrop::spawn(&mut command, "redis-server")?;
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.0.try_wait() {
                return Err(format!("redis-server exited on start ({status})"));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "redis-server did not listen on {port} within {START_TIMEOUT:?}"
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
        println!("==> redis-server on 127.0.0.1:{port}");
        Ok(Redis {
            _server: server,
            port,
        })
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}
