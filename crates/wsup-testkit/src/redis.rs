//! A redis-server of a test's own, for the tests that need a real one
//! (the Redis bridge, the chat example across nodes). `cargo xtask redis`
//! installs redis-server and names it in [`SERVER_VAR`]; `cargo test`
//! alone leaves those tests ignored.

use std::io;
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
        let port = free_port().expect("a free port");
        RedisServer::start(Path::new(&bin), port).expect("start redis-server")
    }

    /// Starts `bin` on `port` and waits (at most 10 s) until it listens.
    pub fn start(bin: &Path, port: u16) -> io::Result<RedisServer> {
        let mut child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || child.try_wait()?.is_some() {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!(
                    "redis-server did not listen on {port} within 10 s"
                )));
            }
            thread::sleep(Duration::from_millis(20));
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

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
