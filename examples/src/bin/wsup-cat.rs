//! A command-line WebSocket client, in the manner of websocat and wscat.
//!
//! Usage: `wsup-cat URL [-H 'Name: value']... [--protocol P] [--cacert FILE]
//! [--no-compress]`. Each line of standard input goes to the server as a
//! text message; each message received is printed as a line (a binary one
//! as UTF-8, invalid sequences replaced). At the end of input it prints
//! what the server still sends until it has been quiet for 200 ms, then
//! sends a close with 1000, waits up to 5 s for the server's, and exits 0. A close
//! from the server with a code other than 1000 is printed to standard
//! error and the exit status is 1 (a close without a code is normal); a
//! failed connection is reported the same way.
//!
//! `-H` adds a request header (repeatable); `--protocol` offers a
//! subprotocol (repeatable); `--cacert` trusts the CAs in a PEM file
//! instead of the platform's roots, for `wss://`; `--no-compress` does
//! not offer permessage-deflate (offered by default).

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use wsup::client::{Dialer, TlsConnector};
use wsup::deflate::DeflateConfig;
use wsup::http::{HeaderName, HeaderValue};
use wsup::{CloseCode, CloseFrame, Message};
use wsup_examples::rt;

/// At the end of input, how long the server must have sent nothing before
/// the close goes out.
const QUIET: Duration = Duration::from_millis(200);

const USAGE: &str =
    "usage: wsup-cat URL [-H 'Name: value']... [--protocol P] [--cacert FILE] [--no-compress]";

struct Args {
    url: String,
    headers: Vec<(String, String)>,
    protocols: Vec<String>,
    cacert: Option<String>,
    compress: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut out = Args {
        url: String::new(),
        headers: Vec::new(),
        protocols: Vec::new(),
        cacert: None,
        compress: true,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-H" | "--header" => {
                let h = value("-H")?;
                let (name, v) = h
                    .split_once(':')
                    .ok_or(format!("header {h:?} is not 'Name: value'"))?;
                out.headers
                    .push((name.trim().to_owned(), v.trim().to_owned()));
            }
            "--protocol" => out.protocols.push(value("--protocol")?),
            "--cacert" => out.cacert = Some(value("--cacert")?),
            "--no-compress" => out.compress = false,
            "-h" | "--help" => return Err(String::new()),
            _ if out.url.is_empty() && !arg.starts_with('-') => out.url = arg,
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if out.url.is_empty() {
        return Err("no URL".into());
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(why) => {
            if !why.is_empty() {
                eprintln!("wsup-cat: {why}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match rt::block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wsup-cat: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dialer(args: &Args) -> std::io::Result<Dialer> {
    let mut dialer = rt::dialer()
        .protocols(args.protocols.iter().cloned())
        .close_timeout(Duration::from_secs(5));
    if args.compress {
        dialer = dialer.compression(DeflateConfig::enabled());
    }
    for (name, value) in &args.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| invalid(format!("header name {name:?}: {e}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| invalid(format!("header value {value:?}: {e}")))?;
        dialer = dialer.header(name, value);
    }
    if let Some(path) = &args.cacert {
        let tls =
            TlsConnector::from_pem_file(path).map_err(|e| invalid(format!("--cacert: {e}")))?;
        dialer = dialer.tls(tls);
    }
    Ok(dialer)
}

fn invalid(why: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, why)
}

async fn run(args: Args) -> std::io::Result<ExitCode> {
    let dialer = dialer(&args)?;
    let (ws, _response) = match rt::connect_with(&dialer, &args.url).await {
        Ok(connected) => connected,
        Err(e) => {
            // A refusal's body often says why (a 401's, a 404's).
            let body = e.response().map(|r| String::from_utf8_lossy(r.body()));
            match body.filter(|b| !b.trim().is_empty()) {
                Some(body) => eprintln!("wsup-cat: {e}: {}", body.trim()),
                None => eprintln!("wsup-cat: {e}"),
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let (mut reader, mut writer) = ws.split();
    let mut lines = stdin_lines();
    let mut out = std::io::stdout().lock();
    // Until the input ends: lines out, messages in.
    loop {
        match select(lines.next(), std::pin::pin!(reader.recv())).await {
            Either::Left((Some(line), _)) => {
                if writer.send(Message::text(line)).await.is_err() {
                    break;
                }
            }
            Either::Left((None, _)) => break,
            Either::Right((received, _)) => {
                if let Some(code) = handle(&mut out, received)? {
                    return Ok(code);
                }
            }
        }
    }
    // The input ended. The connection hands out no data once it has sent
    // its close, so what the server is still sending (the answers to the
    // last lines) is printed first, until it has been quiet for a moment.
    let runtime = rt::runtime();
    while let Either::Right((received, _)) =
        select(runtime.sleep(QUIET), std::pin::pin!(reader.recv())).await
    {
        if let Some(code) = handle(&mut out, received)? {
            return Ok(code);
        }
    }
    let _ = writer
        .close(Some(CloseFrame::new(CloseCode::NORMAL, "")))
        .await;
    // Up to the server's close (bounded by the close timeout).
    loop {
        if let Some(code) = handle(&mut out, reader.recv().await)? {
            return Ok(code);
        }
    }
}

/// What one receive means: printed, and the run goes on (`None`), or the
/// run is over with this status (the server's close, or an error).
fn handle(
    out: &mut impl Write,
    received: Result<Message, wsup::Error>,
) -> std::io::Result<Option<ExitCode>> {
    match received {
        Ok(msg) => print(out, msg),
        Err(wsup::Error::ConnectionClosed) => Ok(Some(ExitCode::SUCCESS)),
        Err(e) => {
            eprintln!("wsup-cat: {e}");
            Ok(Some(ExitCode::FAILURE))
        }
    }
}

/// Prints a message; for the server's close, the exit status.
fn print(out: &mut impl Write, msg: Message) -> std::io::Result<Option<ExitCode>> {
    match msg {
        Message::Text(text) => writeln!(out, "{}", text.as_str())?,
        Message::Binary(data) => writeln!(out, "{}", String::from_utf8_lossy(&data))?,
        Message::Close(frame) => {
            return Ok(Some(match frame {
                // No code (1005) is a normal close too.
                None => ExitCode::SUCCESS,
                Some(f) if f.code == CloseCode::NORMAL => ExitCode::SUCCESS,
                Some(f) => {
                    eprintln!("wsup-cat: closed by the server: {} {}", f.code.0, f.reason);
                    ExitCode::FAILURE
                }
            }));
        }
        Message::Ping(_) | Message::Pong(_) => return Ok(None),
    }
    out.flush()?;
    Ok(None)
}

/// Standard input's lines, read by a thread of their own (reading stdin
/// blocks on every runtime).
fn stdin_lines() -> futures_channel::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = futures_channel::mpsc::unbounded();
    std::thread::spawn(move || {
        // Ends at the end of input, on a read error, or once the
        // connection is gone (the receiver dropped).
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.unbounded_send(line).is_err() {
                break;
            }
        }
    });
    rx
}
