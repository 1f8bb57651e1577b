//! What the example programs' tests share: starting a program on a free
//! port and reading its address, its end, signals, and WebSocket frames by
//! hand over any stream (plain or TLS).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A started program, killed if the test fails half-way.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program 127.0.0.1:0 FLAGS` and returns it with its address,
/// read from its first line, `listening on ADDR` or `listening on
/// SCHEME://ADDR`. Its stderr is kept (piped) when `stderr` says so.
pub fn start(program: &str, flags: &[&str], stderr: bool) -> (Running, String) {
    let mut child = Command::new(program)
        .arg("127.0.0.1:0")
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(if stderr {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("start the program");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the first line");
    let listening = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"));
    let addr = listening
        .split_once("://")
        .map_or(listening, |(_, addr)| addr)
        .to_owned();
    (Running(child), addr)
}

/// A client socket to `addr`, its reads bounded by 10 s.
pub fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Waits for the program to end, at most `within`.
pub fn wait_exit(child: &mut Child, within: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(start.elapsed() < within, "no exit within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` (`TERM`, `INT`) with kill(1).
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Reads one unmasked server frame with a payload under 126 bytes.
pub fn read_frame(s: &mut impl Read) -> (u8, Vec<u8>) {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).expect("frame header");
    let mut payload = vec![0u8; usize::from(h[1] & 0x7f)];
    s.read_exact(&mut payload).expect("frame payload");
    (h[0], payload)
}

/// A masked client frame with a payload under 126 bytes.
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [1, 2, 3, 4];
    let mut out = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}
