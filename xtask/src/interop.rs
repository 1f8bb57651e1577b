//! `cargo xtask interop`: permessage-deflate (RFC 7692) against an independent
//! client, one runtime after another.
//!
//! For each runtime: build `echo` in release with that runtime's feature,
//! start it on a free port, wait for its `listening on` line, and run
//! `interop/deflate_client.py` against it. The script uses the Python
//! `websockets` package (pinned, from PyPI, kept in a venv under
//! `target/interop/venv`), which negotiates permessage-deflate by default; it
//! goes through every negotiation parameter, checks each echo and prints
//! `N passed, M failed`. Its exit status is the verdict.
//!
//! Then the same over `wss://`: `echo --tls` with a server certificate made
//! for the run (signed by a CA also made for the run, written under
//! `target/interop/tls`), the script trusting that CA.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use crate::runtime::{Runtime, Selection};
use crate::util::{
    ensure_venv, exit_code, run_with_timeout, verdicts_line, xtask_dir, Echo, Workspace,
};

const WEBSOCKETS_VERSION: &str = "17.4";
/// The script bounds each configuration itself (30 s, and 10 s to close);
/// this bounds the whole run.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The parsed arguments of `cargo xtask interop`.
#[derive(Debug)]
pub struct Options {
    pub selection: Selection,
}

/// Runs the interop client; failure if any configuration fails or anything
/// breaks.
pub fn run(options: &Options) -> ExitCode {
    exit_code(try_run(options))
}

/// `Ok(false)` when the client ran and some configuration failed.
fn try_run(options: &Options) -> Result<bool, String> {
    let script = xtask_dir().join("interop").join("deflate_client.py");
    if !script.is_file() {
        return Err(format!("{} is missing", script.display()));
    }
    let workspace = Workspace::load()?;
    let runtimes = workspace.select_runtimes(options.selection)?;

    let interop_dir = workspace.target_dir.join("interop");
    let python = ensure_websockets(&interop_dir.join("venv"))?;
    let tls = Tls::write(&interop_dir.join("tls"))?;

    let mut verdicts = Vec::new();
    for rt in runtimes {
        let echo = workspace.build_echo(rt, false)?;
        let plain = pass(rt, &python, &script, Echo::start(&echo)?, "ws", &[])?;
        let server = Echo::start_with(&echo, &tls.flags())?;
        let secure = pass(rt, &python, &script, server, "wss", &tls.client_args())?;
        verdicts.push((rt, plain && secure));
    }
    println!("\n==> interop: {}", verdicts_line(&verdicts));
    Ok(verdicts.iter().all(|&(_, passed)| passed))
}

/// Runs the script against `server` over `scheme` (`ws` or `wss`, with
/// `args` for the client); whether every configuration passed.
fn pass(
    rt: Runtime,
    python: &Path,
    script: &Path,
    server: Echo,
    scheme: &str,
    args: &[&OsStr],
) -> Result<bool, String> {
    let url = format!("{scheme}://{}/", server.addr);
    println!(
        "==> websockets {WEBSOCKETS_VERSION} (permessage-deflate) against {} echo at {url}",
        rt.name()
    );
    let status = run_with_timeout(
        Command::new(python)
            .arg(script)
            .arg(&url)
            .args(args)
            .stdin(Stdio::null()),
        CLIENT_TIMEOUT,
    )?;
    server.stop();
    if !status.success() {
        println!("==> interop {} over {scheme}: FAILED ({status})", rt.name());
    }
    Ok(status.success())
}

/// The run's certificates, as files: the CA the client trusts, and the
/// server's certificate (for `localhost` and `127.0.0.1`) and key.
struct Tls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Tls {
    fn write(dir: &Path) -> Result<Tls, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let certs = wsup_testkit::certs::TestCerts::generate();
        let tls = Tls {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        for (path, pem) in [
            (&tls.ca, &certs.ca_pem),
            (&tls.cert, &certs.cert_pem),
            (&tls.key, &certs.key_pem),
        ] {
            std::fs::write(path, pem).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(tls)
    }

    /// `echo`'s flags.
    fn flags(&self) -> [&OsStr; 3] {
        [
            OsStr::new("--tls"),
            self.cert.as_os_str(),
            self.key.as_os_str(),
        ]
    }

    /// The script's.
    fn client_args(&self) -> [&OsStr; 2] {
        [OsStr::new("--ca"), self.ca.as_os_str()]
    }
}

/// Returns the venv's python, with the pinned `websockets` importable,
/// creating the venv if needed.
fn ensure_websockets(venv: &Path) -> Result<PathBuf, String> {
    ensure_venv(
        venv,
        &format!("websockets=={WEBSOCKETS_VERSION}"),
        websockets_works,
    )
}

/// The venv holds the pinned `websockets`, and the modules the script uses
/// import.
fn websockets_works(python: &Path) -> bool {
    let output = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m\n\
             import websockets.asyncio.client, websockets.extensions.permessage_deflate\n\
             print(m.version('websockets'))",
        ])
        .stderr(Stdio::null())
        .output();
    matches!(output, Ok(out) if out.status.success() && out.stdout.trim_ascii() == WEBSOCKETS_VERSION.as_bytes())
}
