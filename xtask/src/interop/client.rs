//! `cargo xtask interop --client`: wsup's client against Python
//! `websockets` as the server.
//!
//! Builds `interop_client` (benches/src/bin/, wsup's client on the runtime
//! named by its first argument) in release, then for each runtime and each
//! configuration of [`cases`]: starts `interop/deflate_server.py` (an echo
//! server with permessage-deflate set by its flags), runs the client
//! against it with its own offer, and judges both ends: the client's exit
//! status, the parameters it agreed (what the configuration implies, from
//! RFC 7692 and websockets' documented choices), the server's answer seen
//! the same by both, every message echoed, the client's messages received
//! compressed exactly when compression was agreed, and the close code 1000.
//! A few cases run over `wss://` as well, with the certificates `interop`
//! makes for the run (the client trusts the run's CA alone).

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{ensure_websockets, Options, Tls, WEBSOCKETS_VERSION};
use crate::runtime::{Runtime, Selection};
use crate::util::{
    start_ready, summarize_verdicts, wait_timeout, xtask_dir, KillOnDrop, Pipe, Workspace,
};

/// One client run: the exchange of a few dozen MiB, in release.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the server may take to report a connection's end.
const REPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a configuration must end with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// permessage-deflate agreed with these parameters: server window,
    /// client window, server no context takeover, client no context
    /// takeover. The client compresses unless its window is 8.
    Agreed(u8, u8, bool, bool),
    /// No compression: the messages go uncompressed.
    Plain,
}

impl Expect {
    /// The client's `agreed:` line for this outcome.
    fn agreed_line(&self) -> String {
        match *self {
            Expect::Agreed(s, c, snct, cnct) => format!(
                "agreed: server_max_window_bits={s} client_max_window_bits={c} \
                 server_no_context_takeover={snct} client_no_context_takeover={cnct}"
            ),
            Expect::Plain => "agreed: none".to_owned(),
        }
    }

    /// Whether the server must see the client's messages compressed.
    fn client_compresses(&self) -> bool {
        matches!(*self, Expect::Agreed(_, client_bits, ..) if client_bits >= 9)
    }
}

/// One configuration: the server's flags, the client's, the outcome.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub server: Vec<String>,
    pub client: Vec<String>,
    pub expect: Expect,
}

fn case(name: impl Into<String>, server: &[&str], client: &[&str], expect: Expect) -> Case {
    let owned = |flags: &[&str]| flags.iter().map(|&f| f.to_owned()).collect();
    Case {
        name: name.into(),
        server: owned(server),
        client: owned(client),
        expect,
    }
}

/// The matrix: compression off on either side; each parameter set by the
/// server (every window from 9 to 15), then asked by the client, then
/// both at once. A server window of 8 cannot be configured in websockets
/// (zlib cannot compress with it); a client window of 8 can, and
/// websockets answers it: wsup's client agrees, and for that reason sends
/// its messages uncompressed (RFC 7692 lets it).
pub fn cases() -> Vec<Case> {
    use Expect::{Agreed, Plain};
    let mut cases = vec![
        case(
            "server without compression",
            &["--no-compression"],
            &[],
            Plain,
        ),
        case("client without compression", &[], &["--no-compress"], Plain),
        case("defaults", &[], &[], Agreed(15, 15, false, false)),
        case(
            "server: client_max_window_bits=8 (the client sends uncompressed)",
            &["--client-max-window-bits", "8"],
            &[],
            Agreed(15, 8, false, false),
        ),
    ];
    // Each parameter of each side: set by the server, then asked (for the
    // server's side) or offered (for the client's) by the client, then
    // both, where the smaller window wins.
    for who in ["server", "client"] {
        let server_side = who == "server";
        let verb = if server_side { "asks" } else { "offers" };
        let window = |bits: u8| {
            let (s, c) = if server_side { (bits, 15) } else { (15, bits) };
            Agreed(s, c, false, false)
        };
        let (set, offer) = (
            format!("--{who}-max-window-bits"),
            format!("--offer-{who}-max-window-bits"),
        );
        for bits in 9..=15u8 {
            let name = format!("server: {who}_max_window_bits={bits}");
            cases.push(case(name, &[&set, &bits.to_string()], &[], window(bits)));
        }
        for bits in 9..=14u8 {
            let name = format!("client {verb} {who}_max_window_bits={bits}");
            cases.push(case(name, &[], &[&offer, &bits.to_string()], window(bits)));
        }
        let both = if server_side {
            [(12, 10), (10, 12)]
        } else {
            [(13, 10), (11, 13)]
        };
        for (offered, configured) in both {
            let limit = if configured < offered {
                "limits to"
            } else {
                "allows"
            };
            cases.push(case(
                format!("client {verb} {who} window {offered}, server {limit} {configured}"),
                &[&set, &configured.to_string()],
                &[&offer, &offered.to_string()],
                window(offered.min(configured)),
            ));
        }
        let takeover = Agreed(15, 15, server_side, !server_side);
        let flag = format!("{who}-no-context-takeover");
        let name = format!("{who}_no_context_takeover");
        cases.push(case(
            format!("server: {name}"),
            &[&format!("--{flag}")],
            &[],
            takeover.clone(),
        ));
        cases.push(case(
            format!("client {verb} {name}"),
            &[],
            &[&format!("--offer-{flag}")],
            takeover,
        ));
    }
    cases.extend([
        case(
            "server: both no_context_takeover",
            &[
                "--server-no-context-takeover",
                "--client-no-context-takeover",
            ],
            &[],
            Agreed(15, 15, true, true),
        ),
        case(
            "asymmetric: server window 10, client window 12, no context takeover both ways",
            &[
                "--server-max-window-bits",
                "10",
                "--client-no-context-takeover",
            ],
            &[
                "--offer-client-max-window-bits",
                "12",
                "--offer-server-no-context-takeover",
            ],
            Agreed(10, 12, true, true),
        ),
    ]);
    cases
}

/// The cases run over `wss://` too (the certificates made for the run):
/// TLS under the same judging, with compression and without.
const OVER_TLS: [&str; 3] = [
    "defaults",
    "server without compression",
    "asymmetric: server window 10, client window 12, no context takeover both ways",
];

/// Runs the matrix on each selected runtime, every case over `ws://` and
/// those of [`OVER_TLS`] over `wss://` as well; `Ok(false)` if any case
/// failed.
pub fn try_run(options: &Options) -> Result<bool, String> {
    let script = xtask_dir().join("interop").join("deflate_server.py");
    if !script.is_file() {
        return Err(format!("{} is missing", script.display()));
    }
    let workspace = Workspace::load()?;
    let runtimes = match options.selection {
        Selection::One(rt) => vec![rt],
        Selection::All => Runtime::ALL.to_vec(),
    };
    let interop_dir = workspace.target_dir.join("interop");
    let python = ensure_websockets(&interop_dir.join("venv"))?;
    let tls = Tls::write(&interop_dir.join("tls"))?;
    workspace.build_bench_bins("interop_client", &["interop_client"])?;
    let client = workspace.release_bin("interop_client");

    let mut verdicts = Vec::new();
    for rt in runtimes {
        println!(
            "==> wsup's client on {} against websockets {WEBSOCKETS_VERSION} (server)",
            rt.name()
        );
        let (mut passed, mut failed) = (0, 0);
        let cases = cases();
        let over_tls = cases.iter().filter(|c| OVER_TLS.contains(&c.name.as_str()));
        let runs = cases
            .iter()
            .map(|c| (c, None))
            .chain(over_tls.map(|c| (c, Some(&tls))));
        for (case, tls) in runs {
            let scheme = if tls.is_some() { "wss" } else { "ws" };
            match run_case(&python, &script, &client, rt, case, tls) {
                Ok(detail) => {
                    passed += 1;
                    println!("ok   {scheme} {}: {detail}", case.name);
                }
                Err(why) => {
                    failed += 1;
                    println!("FAIL {scheme} {}: {why}", case.name);
                }
            }
        }
        println!("==> {}: {passed} passed, {failed} failed", rt.name());
        verdicts.push((rt, failed == 0));
    }
    Ok(summarize_verdicts("interop --client", &verdicts))
}

/// One configuration: the server started with its flags, the client run
/// against it, both ends judged. A line of detail, or what went wrong.
fn run_case(
    python: &Path,
    script: &Path,
    client: &Path,
    rt: Runtime,
    case: &Case,
    tls: Option<&Tls>,
) -> Result<String, String> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    let (server, listening) = start_ready(
        Command::new(python)
            .arg(script)
            .args(&case.server)
            .args(
                tls.map(|t| [OsStr::new("--tls"), t.cert.as_os_str(), t.key.as_os_str()])
                    .into_iter()
                    .flatten(),
            )
            .stdin(Stdio::null()),
        "deflate_server.py",
        Pipe::Stdout,
        |line| line.starts_with("listening on "),
        move |line| seen.lock().expect("lines").push(line),
    )?;
    let addr = listening
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line {listening:?}"))?;

    let mut child = KillOnDrop::spawn(
        Command::new(client)
            .arg(rt.name())
            .arg(match tls {
                // The certificate names localhost and 127.0.0.1.
                Some(_) => format!("wss://localhost:{}/", port_of(addr)),
                None => format!("ws://{addr}/"),
            })
            .args(&case.client)
            .args(
                tls.map(|t| [OsStr::new("--cacert"), t.ca.as_os_str()])
                    .into_iter()
                    .flatten(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
        "interop_client",
    )?;
    let status = wait_timeout(&mut child, "interop_client", CLIENT_TIMEOUT)?;
    let mut stdout = String::new();
    if let Some(mut out) = child.0.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut out, &mut stdout);
    }
    let said = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::to_owned)
    };

    if !status.success() {
        return Err(format!("interop_client: {status}; output {stdout:?}"));
    }
    let agreed = stdout.lines().find(|l| l.starts_with("agreed: "));
    let expected = case.expect.agreed_line();
    if agreed != Some(expected.as_str()) {
        return Err(format!("{agreed:?}, expected {expected:?}"));
    }
    let extension = said("extension: ").unwrap_or_default();
    let echoed = said("echoed ").unwrap_or_default();
    let count: u64 = echoed
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no echo count in {stdout:?}"))?;

    let report = server_report(&lines)?;
    drop(server);
    let field = |name: &str| {
        report
            .split(' ')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or("")
            .to_owned()
    };
    let server_extension = report
        .strip_prefix("connection: extensions=")
        .and_then(|r| r.split(" received=").next())
        .unwrap_or("");
    let compressed: u64 = field("compressed").parse().unwrap_or(0);
    let checks = [
        (server_extension == extension, "the answer seen alike"),
        (
            field("received") == count.to_string(),
            "every message received",
        ),
        (field("close") == "1000", "closed with 1000"),
        (
            (compressed > 0) == case.expect.client_compresses(),
            "compressed exactly when agreed (and able)",
        ),
    ];
    if let Some((_, what)) = checks.iter().find(|(ok, _)| !ok) {
        return Err(format!("not {what}: client {stdout:?}, server {report:?}"));
    }
    Ok(format!(
        "{extension}; {count} echoed, {compressed} sent compressed"
    ))
}

/// The port of `127.0.0.1:PORT`.
fn port_of(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap_or(addr)
}

/// The server's `connection:` line, once the connection has ended.
fn server_report(lines: &Mutex<Vec<String>>) -> Result<String, String> {
    let deadline = Instant::now() + REPORT_TIMEOUT;
    loop {
        let found = lines
            .lock()
            .expect("lines")
            .iter()
            .find(|l| l.starts_with("connection: "))
            .cloned();
        if let Some(line) = found {
            return Ok(line);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the server reported no connection within {REPORT_TIMEOUT:?}"
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests;
