//! The processes of a bench run: servers pinned to one core, the load
//! generator pinned to another, each killed and reaped when dropped, on
//! success, error and panic alike.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::util::{free_port, start_listening, wait_timeout, KillOnDrop};

const LOADGEN_TIMEOUT: Duration = Duration::from_secs(90);
const IDLE_OPEN_TIMEOUT: Duration = Duration::from_secs(120);

/// Restricts the child to `cores`, between fork and exec.
fn pin(command: &mut Command, cores: &[usize]) {
    let cores = cores.to_vec();
    // SAFETY: the closure runs in the forked child before exec and only
    // calls `sched_setaffinity`, a plain syscall that is async-signal-safe;
    // the set is a local built by the libc macros.
    unsafe {
        command.pre_exec(move || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for &core in &cores {
                libc::CPU_SET(core, &mut set);
            }
            if libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Raises this process's soft RLIMIT_NOFILE to its hard limit, for the
/// servers and the load generator to inherit; returns the new soft limit.
pub fn raise_nofile_limit() -> u64 {
    // SAFETY: get then set this process's own limit through a valid pointer.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
        limit.rlim_cur
    }
}

/// A running echo server.
#[derive(Debug)]
pub struct Server {
    /// Killed and reaped when the server is dropped.
    _child: KillOnDrop,
    name: &'static str,
    pub addr: String,
    pub pid: u32,
    stdin: Option<ChildStdin>,
    /// `allocs COUNT BYTES` answers from a counting build.
    answers: Receiver<String>,
}

impl Server {
    /// Starts `command ADDR` pinned to `core` and waits for its
    /// `listening on` line. With `counting`, its stdin is kept to ask for
    /// allocation counts.
    pub fn start(
        command: Command,
        name: &'static str,
        core: usize,
        counting: bool,
    ) -> Result<Server, String> {
        Server::start_with(command, name, core, counting, &[])
    }

    /// As [`start`](Self::start), with `flags` after the address.
    pub fn start_with(
        command: Command,
        name: &'static str,
        core: usize,
        counting: bool,
        flags: &[&str],
    ) -> Result<Server, String> {
        Server::start_on(command, name, &[core], counting, flags)
    }

    /// As [`start_with`](Self::start_with), on any of `cores`.
    pub fn start_on(
        mut command: Command,
        name: &'static str,
        cores: &[usize],
        counting: bool,
        flags: &[&str],
    ) -> Result<Server, String> {
        let addr = format!("127.0.0.1:{}", free_port()?);
        command.arg(&addr).args(flags).stdin(if counting {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        pin(&mut command, cores);
        let (answer_tx, answers) = mpsc::channel();
        let mut child = start_listening(&mut command, name, move |line| {
            if line.starts_with("allocs ") {
                let _ = answer_tx.send(line);
            } else if !line.starts_with("listening on") {
                println!("[{name}] {line}");
            }
        })?;
        let stdin = child.0.stdin.take();
        let pid = child.0.id();
        Ok(Server {
            _child: child,
            name,
            addr,
            pid,
            stdin,
            answers,
        })
    }

    /// An error if the server has exited (a zombie counts as exited).
    pub fn check_alive(&self) -> Result<(), String> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        match state {
            Some("Z" | "X") | None => Err(format!("the {} server exited", self.name)),
            Some(_) => Ok(()),
        }
    }

    /// Resident set size in KiB, from `/proc/PID/status`.
    pub fn rss_kib(&self) -> Result<u64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .map_err(|e| format!("cannot read the status of {}: {e}", self.name))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .ok_or_else(|| format!("no VmRSS for {}", self.name))
    }

    /// `(allocations, bytes)` so far, from a counting build.
    pub fn allocs(&mut self) -> Result<(u64, u64), String> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| format!("{} is not a counting build", self.name))?;
        stdin
            .write_all(b"\n")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("cannot ask {} for its counts: {e}", self.name))?;
        let line = self
            .answers
            .recv_timeout(Duration::from_secs(5))
            .map_err(|_| format!("{} did not report its allocation count", self.name))?;
        let mut fields = line.split_whitespace().skip(1).map(str::parse::<u64>);
        match (fields.next(), fields.next()) {
            (Some(Ok(count)), Some(Ok(bytes))) => Ok((count, bytes)),
            _ => Err(format!("{}: malformed answer `{line}`", self.name)),
        }
    }
}

/// The load generator binary and its core.
#[derive(Debug)]
pub struct LoadGen {
    pub path: PathBuf,
    pub core: usize,
}

/// Idle connections held open by a load generator until dropped.
#[derive(Debug)]
pub struct IdleHolder {
    _child: KillOnDrop,
}

impl LoadGen {
    fn command(&self, mode: &str, server: &Server, raw: bool) -> Command {
        let mut command = Command::new(&self.path);
        command.args([mode, server.addr.as_str()]);
        command.args(["--cpu", &self.core.to_string()]);
        command.args(["--server-pid", &server.pid.to_string()]);
        if raw {
            command.arg("--raw");
        }
        command
    }

    /// Runs `mode` against `server` and parses the JSON it prints.
    pub fn run(
        &self,
        mode: &str,
        server: &Server,
        raw: bool,
        args: &[String],
    ) -> Result<Value, String> {
        self.run_within(mode, server, raw, args, LOADGEN_TIMEOUT)
    }

    /// `run`, killed after `timeout`.
    pub fn run_within(
        &self,
        mode: &str,
        server: &Server,
        raw: bool,
        args: &[String],
        timeout: Duration,
    ) -> Result<Value, String> {
        let mut command = self.command(mode, server, raw);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = KillOnDrop::spawn(&mut command, "the load generator")?;
        let stdout = drain(child.0.stdout.take().expect("piped"));
        let stderr = drain(child.0.stderr.take().expect("piped"));
        let status = wait_timeout(&mut child, "the load generator", timeout)?;
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        if !status.success() {
            return Err(format!(
                "load generator {status}: {}",
                stderr.trim().lines().last().unwrap_or("")
            ));
        }
        serde_json::from_str(stdout.trim())
            .map_err(|e| format!("load generator output `{}`: {e}", stdout.trim()))
    }

    /// Opens `count` connections to `server` and keeps them idle.
    pub fn hold_idle(
        &self,
        server: &Server,
        raw: bool,
        count: usize,
    ) -> Result<IdleHolder, String> {
        let mut command = self.command("idle", server, raw);
        command
            .args(["--conns", &count.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = KillOnDrop::spawn(&mut command, "the load generator")?;
        let stdout = child.0.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(IDLE_OPEN_TIMEOUT).map_err(|_| {
            format!(
                "the load generator did not open {count} connections within {IDLE_OPEN_TIMEOUT:?}"
            )
        })?;
        let opened = serde_json::from_str::<Value>(line.trim())
            .ok()
            .and_then(|v| v["opened"].as_u64());
        if opened != Some(count as u64) {
            let status = child.0.wait().map(|s| s.to_string()).unwrap_or_default();
            return Err(format!(
                "the load generator opened {opened:?} of {count} connections ({status})"
            ));
        }
        Ok(IdleHolder { _child: child })
    }
}

/// Reads a pipe to its end on a thread.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}
