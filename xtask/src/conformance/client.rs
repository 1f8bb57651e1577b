//! `cargo xtask conformance --client`: the Autobahn cases against wsup's
//! client, the `autobahn-client` example, with kosoku as the fuzzing server.
//!
//! kosoku (`-m fuzzingserver`) binds a free port of 127.0.0.1 and says so on
//! stderr; the harness asks it for its case count (`/getCaseCount`), then
//! runs `autobahn-client ws://127.0.0.1:PORT --agent wsup-<runtime>`, which
//! runs every case (`/runCase?case=N&agent=…`) and ends the run with
//! `/updateReports`, upon which kosoku writes its report and exits. The
//! verdict is the report's, for that agent, judged as the server's is; the
//! report must hold every case offered, and the client must exit 0.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::report::{print_summary, read_report};
use crate::runtime::Runtime;
use crate::util::{run_with_timeout, start_ready, wait_timeout, Pipe};

/// The example binary under test (in `wsup-examples`).
pub const CLIENT_BIN: &str = "autobahn-client";

/// What kosoku prints on stderr once it listens, then ` ws://HOST:PORT`.
const READY: &str = "fuzzingserver listening on";
/// The client's whole run (kosoku's 9.x cases send hundreds of megabytes).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How long kosoku may take to write its report after `/updateReports`.
const REPORT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the case count may take to come.
const COUNT_TIMEOUT: Duration = Duration::from_secs(10);

/// The agent name the client reports for `rt`: `wsup-tokio`, …
pub fn agent(rt: Runtime) -> String {
    format!("wsup-{}", rt.name())
}

/// Runs the suite for `client` (reporting as `agent`) with kosoku serving
/// `cases`, its report in `out_dir` (emptied first); whether it passed.
pub fn run_client_suite(
    client: &Path,
    kosoku: &Path,
    cases: &[String],
    out_dir: &Path,
    agent: &str,
) -> Result<bool, String> {
    let mut command = Command::new(kosoku);
    command
        .args(["-m", "fuzzingserver", "127.0.0.1:0", "-o"])
        .arg(out_dir)
        .stdin(Stdio::null());
    for case in cases {
        command.arg("-i").arg(case);
    }
    let ready = |line: &str| line.starts_with(READY);
    let echo = |line| eprintln!("[kosoku] {line}");
    let (mut server, line) = start_ready(&mut command, "kosoku", Pipe::Stderr, ready, echo)?;
    let url = line[READY.len()..].trim().to_owned();
    let offered = case_count(&url)?;

    println!(
        "==> {CLIENT_BIN} against kosoku at {url}: {offered} cases ({})",
        cases.join(" ")
    );
    let mut command = Command::new(client);
    command
        .arg(&url)
        .args(["--agent", agent])
        .stdin(Stdio::null());
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", "warn");
    }
    let status = run_with_timeout(&mut command, CLIENT_TIMEOUT)?;

    // kosoku writes its report and exits once the client asked for
    // `/updateReports`; it exits 1 when a case is not OK, so its status is
    // not the verdict.
    if let Err(e) = wait_timeout(&mut server, "kosoku", REPORT_TIMEOUT) {
        return Err(format!(
            "{e} (did {CLIENT_BIN}, which exited with {status}, ask for /updateReports?)"
        ));
    }
    let index = out_dir.join("index.json");
    if !index.exists() {
        return Err(format!(
            "kosoku wrote no report ({CLIENT_BIN} exited with {status})"
        ));
    }
    let report = read_report(&index, Some(agent))?;
    let mut passed = print_summary(&format!("{agent} (client)"), out_dir, &report);
    if report.len() != offered {
        println!(
            "kosoku offered {offered} cases, the report holds {}",
            report.len()
        );
        passed = false;
    }
    if !status.success() {
        println!("{CLIENT_BIN} exited with {status}");
        passed = false;
    }
    Ok(passed)
}

/// Asks the fuzzing server at `url` (`ws://127.0.0.1:PORT`) how many cases
/// it serves: a WebSocket connection to `/getCaseCount`, which answers with
/// one short text message.
fn case_count(url: &str) -> Result<usize, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{url}/getCaseCount: {e}");
    let addr = url
        .strip_prefix("ws://")
        .ok_or_else(|| fail(&"not ws://"))?;
    let mut stream = TcpStream::connect(addr).map_err(|e| fail(&e))?;
    stream
        .set_read_timeout(Some(COUNT_TIMEOUT))
        .map_err(|e| fail(&e))?;
    let request = format!(
        "GET /getCaseCount HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(|e| fail(&e))?;

    // Read until the head and the text message are in (or the server
    // closes, or 64 KiB without them).
    let mut answer = Vec::new();
    let mut buf = [0; 4096];
    while answer.len() < 64 * 1024 {
        if let Ok(count) = parse_case_count(&answer) {
            // Our close, masked as a client's must be (status 1000).
            let _ = stream.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
            return Ok(count);
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => return Err(fail(&e)),
        }
    }
    parse_case_count(&answer).map_err(|e| fail(&e))
}

/// The count in a `101` response followed by an unmasked text frame.
fn parse_case_count(answer: &[u8]) -> Result<usize, String> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no complete response head")?;
    if !answer.starts_with(b"HTTP/1.1 101 ") {
        let head = String::from_utf8_lossy(&answer[..end]);
        return Err(format!("not upgraded: {head}"));
    }
    match &answer[end + 4..] {
        [0x81, len, rest @ ..] if usize::from(*len) < 126 && rest.len() >= usize::from(*len) => {
            let text =
                std::str::from_utf8(&rest[..usize::from(*len)]).map_err(|e| e.to_string())?;
            text.trim()
                .parse()
                .map_err(|_| format!("not a count: {text:?}"))
        }
        _ => Err("no short text message after the response".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::thread;

    use super::*;

    #[test]
    fn the_count_is_read_from_the_message_after_the_101() {
        let answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x03517\x88\x02\x03\xe8";
        assert_eq!(parse_case_count(answer), Ok(517));
        let refused = b"HTTP/1.1 404 Not Found\r\n\r\n";
        assert!(parse_case_count(refused).unwrap_err().contains("404"));
        for bad in [
            &b"HTTP/1.1 101 OK\r\n"[..],
            b"HTTP/1.1 101 OK\r\n\r\n\x82\x013",
            b"HTTP/1.1 101 OK\r\n\r\n\x81\x05x",
            b"HTTP/1.1 101 OK\r\n\r\n\x81\x02ab",
        ] {
            assert!(parse_case_count(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_count_is_asked_for_over_a_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let server = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(COUNT_TIMEOUT)).unwrap();
            let mut head = Vec::new();
            let mut byte = [0];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            stream
                .write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x0242")
                .unwrap();
            String::from_utf8(head).unwrap()
        });
        assert_eq!(case_count(&url), Ok(42));
        let head = server.join().unwrap();
        assert!(head.starts_with("GET /getCaseCount HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("\r\nUpgrade: websocket\r\n"), "{head}");
    }
}
