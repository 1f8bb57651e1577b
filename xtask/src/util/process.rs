//! Child processes: killed and reaped on every way out, bounded in time,
//! and servers waited for until they listen.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to print its `listening on` line.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A child process killed, and reaped, when this goes out of scope: on
/// success, on error and on panic alike.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl KillOnDrop {
    /// Starts `command`; the error names it as `name`.
    pub fn spawn(command: &mut Command, name: &str) -> Result<KillOnDrop, String> {
        command
            .spawn()
            .map(KillOnDrop)
            .map_err(|e| format!("cannot start {name}: {e}"))
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind a port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Runs a command to completion; an error unless it succeeds.
pub fn check(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed: {status}"))
    }
}

/// Runs a command to completion, killing it after `timeout`.
pub fn run_with_timeout(command: &mut Command, timeout: Duration) -> Result<ExitStatus, String> {
    let name = command.get_program().to_string_lossy().into_owned();
    wait_timeout(&mut KillOnDrop::spawn(command, &name)?, &name, timeout)
}

/// Waits for `child` to exit; an error after `timeout` (the child is then
/// killed when the caller drops it).
pub fn wait_timeout(
    child: &mut KillOnDrop,
    name: &str,
    timeout: Duration,
) -> Result<ExitStatus, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.0.try_wait().map_err(|e| format!("{name}: {e}"))? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            return Err(format!("{name} did not finish within {timeout:?}; killed"));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `command` with its stdout piped and waits for its `listening on`
/// line. Every line it prints, that one included, goes to `line`.
pub fn start_listening(
    command: &mut Command,
    name: &str,
    line: impl FnMut(String) + Send + 'static,
) -> Result<KillOnDrop, String> {
    let ready = |text: &str| text.starts_with("listening on");
    start_ready(command, name, Pipe::Stdout, ready, line).map(|(server, _)| server)
}

/// Which output of a child [`start_ready`] watches.
#[derive(Debug, Clone, Copy)]
pub enum Pipe {
    Stdout,
    Stderr,
}

/// Starts `command` with `pipe` piped and waits for the first line of it
/// that passes `ready`; returns the child and that line. Every line of
/// `pipe`, that one included, goes to `line`.
pub fn start_ready(
    command: &mut Command,
    name: &str,
    pipe: Pipe,
    ready: impl Fn(&str) -> bool + Send + 'static,
    mut line: impl FnMut(String) + Send + 'static,
) -> Result<(KillOnDrop, String), String> {
    let mut server = match pipe {
        Pipe::Stdout => KillOnDrop::spawn(command.stdout(Stdio::piped()), name)?,
        Pipe::Stderr => KillOnDrop::spawn(command.stderr(Stdio::piped()), name)?,
    };
    let output: Box<dyn Read + Send> = match pipe {
        Pipe::Stdout => Box::new(server.0.stdout.take().expect("stdout is piped")),
        Pipe::Stderr => Box::new(server.0.stderr.take().expect("stderr is piped")),
    };

    // The reader thread outlives the wait: it keeps draining the pipe so the
    // server never blocks on a full one, and ends at EOF once it is killed.
    let (ready_tx, ready_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut ready_tx = Some(ready_tx);
        for text in BufReader::new(output).lines().map_while(Result::ok) {
            if ready_tx.is_some() && ready(&text) {
                let _ = ready_tx.take().map(|tx| tx.send(text.clone()));
            }
            line(text);
        }
    });
    match ready_rx.recv_timeout(SERVER_START_TIMEOUT) {
        Ok(text) => Ok((server, text)),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "{name} did not say it was listening within {SERVER_START_TIMEOUT:?}"
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = server.0.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(format!("{name} exited before listening ({status})"))
        }
    }
}

#[cfg(all(test, unix))]
mod tests;
