//! A redis-server of a test's own, for the tests that need a real one
//! (the Redis bridge, the chat example across nodes). `cargo xtask redis`
//! installs redis-server and names it in [`SERVER_VAR`]; `cargo test`
//! alone leaves those tests ignored.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable with the path of the redis-server to run.
pub const SERVER_VAR: &str = "WSUP_REDIS_SERVER";

/// A redis-server on 127.0.0.1 that saves nothing to disk; killed (and
/// waited for) when dropped, so a failing test leaves none behind.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    bin: PathBuf,
    port: u16,
}

impl RedisServer {
    /// The redis-server named in [`SERVER_VAR`], on a free port. Panics if
    /// the variable is not set or the server does not start.
    pub fn from_env() -> RedisServer {
        let bin = std::env::var_os(SERVER_VAR).unwrap_or_else(|| {
            panic!("{SERVER_VAR}: the redis-server to run (cargo xtask redis sets it)")
        });
        RedisServer::start_free(Path::new(&bin)).expect("start redis-server")
    }

    /// Starts `bin` on a free port. A free port can be taken by another
    /// process between the moment it was found and the moment redis-server
    /// binds it (tests run side by side): then another port is tried.
    pub fn start_free(bin: &Path) -> io::Result<RedisServer> {
        let mut last = None;
        for _ in 0..5 {
            match RedisServer::start(bin, free_port()?) {
                Ok(server) => return Ok(server),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("an attempt"))
    }

    /// Starts `bin` on `port` and waits (at most 10 s) until it answers
    /// there: it, not some other process on that port, which is told by
    /// the process id that `INFO server` reports.
    pub fn start(bin: &Path, port: u16) -> io::Result<RedisServer> {
        let mut child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if child.try_wait()?.is_some() {
                return Err(io::Error::other(format!(
                    "redis-server exited before listening on {port} (taken?)"
                )));
            }
            match answering_pid(port) {
                Ok(pid) if pid == child.id() => break,
                Ok(pid) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(io::Error::other(format!(
                        "port {port} is another redis-server's (pid {pid})"
                    )));
                }
                Err(_) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(io::Error::other(format!(
                        "redis-server did not listen on {port} within 10 s"
                    )));
                }
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
        Ok(RedisServer {
            child,
            bin: bin.to_owned(),
            port,
        })
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it: the connections to it end at once, as when Redis crashes.
    /// [`Stopped::restart`] starts it again on the same port.
    pub fn stop(self) -> Stopped {
        Stopped {
            bin: self.bin.clone(),
            port: self.port,
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A [`RedisServer`] stopped, to start again.
#[derive(Debug)]
pub struct Stopped {
    bin: PathBuf,
    port: u16,
}

impl Stopped {
    /// Starts the same redis-server on the same port (empty: nothing was
    /// saved). Panics if it does not start.
    pub fn restart(self) -> RedisServer {
        RedisServer::start(&self.bin, self.port).expect("restart redis-server")
    }
}

/// The process id of the redis-server answering on `port`, from its
/// `INFO server` reply.
fn answering_pid(port: u16) -> io::Result<u32> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"INFO server\r\n")?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        reply.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&reply);
        if let Some(rest) = text.split("process_id:").nth(1) {
            if let Some(line) = rest.split("\r\n").next().filter(|_| rest.contains("\r\n")) {
                return line.trim().parse().map_err(io::Error::other);
            }
        }
        if reply.len() > 64 * 1024 {
            return Err(io::Error::other("no process_id in INFO server"));
        }
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
