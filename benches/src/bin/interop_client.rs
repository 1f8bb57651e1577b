//! wsup's client for `cargo xtask interop --client`: connects to a
//! WebSocket echo server (Python `websockets` in the xtask), offering
//! permessage-deflate as told, sends a set of messages and checks each echo
//! byte for byte.
//!
//! Usage: `interop_client tokio|smol|async-std URL [--no-compress]
//! [--offer-server-max-window-bits N] [--offer-client-max-window-bits N]
//! [--offer-server-no-context-takeover] [--offer-client-no-context-takeover]
//! [--cacert CA.pem]` (`--cacert`: for `wss://`, the only root trusted).
//!
//! Prints, one per line:
//!
//! - `extension: VALUE` (the `Sec-WebSocket-Extensions` of the `101`, or
//!   `none`);
//! - `agreed: server_max_window_bits=S client_max_window_bits=C
//!   server_no_context_takeover=B client_no_context_takeover=B` (or
//!   `agreed: none`);
//! - `echoed N messages (B bytes), closed 1000` once all came back and the
//!   closing handshake finished.
//!
//! Exits 0 then; 1 on a wrong or missing echo or a failed close (the reason
//! on stderr); 3, after `handshake refused: ERROR`, when the handshake
//! failed (the xtask expects that for some configurations); 2 on bad usage.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::AsyncWriteExt;
use wsup_core::client::{ClientError, Dialer, MaybeTls, TlsConnector};
use wsup_core::deflate::DeflateConfig;
use wsup_core::http::Response;
use wsup_core::{Bytes, CloseCode, CloseFrame, Message, MessageKind, WebSocket};

/// The handshake must finish within this, and no echo may take longer
/// (the idle timeout); the close has the default close timeout, 5 s.
const STEP: Duration = Duration::from_secs(20);

const USAGE: &str = "usage: interop_client tokio|smol|async-std URL [--no-compress] \
[--offer-server-max-window-bits N] [--offer-client-max-window-bits N] \
[--offer-server-no-context-takeover] [--offer-client-no-context-takeover] [--cacert CA.pem]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(runtime), Some(url)) = (args.next(), args.next()) else {
        return usage("missing arguments");
    };
    let mut deflate = DeflateConfig::enabled();
    let mut tls = None;
    while let Some(flag) = args.next() {
        if flag == "--cacert" {
            let Some(path) = args.next() else {
                return usage("--cacert needs a file");
            };
            match TlsConnector::from_pem_file(&path) {
                Ok(connector) => tls = Some(connector),
                Err(e) => return usage(&format!("--cacert {path}: {e}")),
            }
            continue;
        }
        let mut bits = |what: &str| -> Result<u8, String> {
            let value = args.next().ok_or(format!("{what} needs a value"))?;
            value
                .parse()
                .map_err(|_| format!("{what} {value}: not a number"))
        };
        deflate = match flag.as_str() {
            "--no-compress" => DeflateConfig::disabled(),
            "--offer-server-no-context-takeover" => deflate.server_no_context_takeover(true),
            "--offer-client-no-context-takeover" => deflate.client_no_context_takeover(true),
            "--offer-server-max-window-bits" => match bits(&flag) {
                Ok(n) => deflate.server_max_window_bits(n),
                Err(e) => return usage(&e),
            },
            "--offer-client-max-window-bits" => match bits(&flag) {
                Ok(n) => deflate.client_max_window_bits(n),
                Err(e) => return usage(&e),
            },
            other => return usage(&format!("unknown flag {other}")),
        };
    }
    let mut dialer = Dialer::new();
    if let Some(tls) = tls {
        dialer = dialer.tls(tls);
    }
    let dialer = dialer
        .compression(deflate)
        .handshake_timeout(STEP)
        .idle_timeout(Some(STEP))
        .max_message_size(64 << 20);
    match runtime.as_str() {
        "tokio" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(run(wsup_tokio::connect_with(&dialer, &url)))
        }
        "smol" => smol::block_on(run(wsup_smol::connect_with(&dialer, &url))),
        "async-std" => async_std::task::block_on(run(wsup_async_std::connect_with(&dialer, &url))),
        other => usage(&format!("unknown runtime {other}")),
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("interop_client: {why}\n{USAGE}");
    ExitCode::from(2)
}

/// The handshake, the exchange, the close; the exit status.
async fn run<S, F>(connecting: F) -> ExitCode
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
    F: Future<Output = Result<(WebSocket<MaybeTls<S>>, Response<()>), ClientError>>,
{
    let (mut ws, response) = match connecting.await {
        Ok(connected) => connected,
        Err(e) => {
            println!("handshake refused: {e}");
            return ExitCode::from(3);
        }
    };
    let extension = response
        .headers()
        .get("sec-websocket-extensions")
        .map_or("none".into(), |v| String::from_utf8_lossy(v.as_bytes()));
    println!("extension: {extension}");
    match ws.compression() {
        Some(a) => println!(
            "agreed: server_max_window_bits={} client_max_window_bits={} \
             server_no_context_takeover={} client_no_context_takeover={}",
            a.server_max_window_bits,
            a.client_max_window_bits,
            a.server_no_context_takeover,
            a.client_no_context_takeover
        ),
        None => println!("agreed: none"),
    }
    match exchange(&mut ws).await {
        Ok((count, bytes)) => {
            println!("echoed {count} messages ({bytes} bytes), closed 1000");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("interop_client: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The messages: text and binary; small, 64 KiB and 1 MiB; compressible
/// (prose, zeros) and not (noise).
fn messages() -> Vec<(&'static str, Message)> {
    let prose = |len: usize| {
        let mut s =
            "The quick brown fox jumps over the lazy dog; größe, données. ".repeat(len / 50);
        while s.len() > len {
            s.pop();
        }
        s
    };
    // Printable noise: text that does not compress much.
    let noisy_text = |len: usize| -> String {
        wsup_testkit::noise(len)
            .into_iter()
            .map(|b| char::from(b' ' + b % 95))
            .collect()
    };
    let noise = |len: usize| Bytes::from(wsup_testkit::noise(len));
    vec![
        ("text empty", Message::text("")),
        ("text small", Message::text("Hello, permessage-deflate!")),
        ("text 64 KiB prose", Message::text(prose(64 << 10))),
        ("text 64 KiB noise", Message::text(noisy_text(64 << 10))),
        ("text 1 MiB prose", Message::text(prose(1 << 20))),
        ("binary small noise", Message::Binary(noise(100))),
        (
            "binary 64 KiB zeros",
            Message::Binary(Bytes::from(vec![0; 64 << 10])),
        ),
        ("binary 64 KiB noise", Message::Binary(noise(64 << 10))),
        (
            "binary 1 MiB zeros",
            Message::Binary(Bytes::from(vec![0; 1 << 20])),
        ),
        ("binary 1 MiB noise", Message::Binary(noise(1 << 20))),
    ]
}

/// The next data message (pings and pongs skipped).
async fn recv<S>(ws: &mut WebSocket<S>, label: &str) -> Result<Message, String>
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    loop {
        match ws.recv().await {
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(m) => return Ok(m),
            Err(e) => return Err(format!("{label}: {e}")),
        }
    }
}

/// Checks an echo against what was sent.
fn check(label: &str, sent: &Message, got: &Message) -> Result<(), String> {
    let kind = |m: &Message| match m {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
        _ => "control",
    };
    let (a, b) = (sent.clone().into_payload(), got.clone().into_payload());
    if kind(sent) != kind(got) {
        return Err(format!("{label}: sent {}, got {}", kind(sent), kind(got)));
    }
    if a != b {
        let at = a.iter().zip(&b[..]).position(|(x, y)| x != y);
        let at = at.unwrap_or(a.len().min(b.len()));
        return Err(format!(
            "{label}: sent {} bytes, got {}; first difference at {at}",
            a.len(),
            b.len()
        ));
    }
    Ok(())
}

/// Three rounds of every message (later ones refer back to earlier ones
/// when contexts are kept), every message pipelined, a message streamed in
/// frames, then the close; the count and bytes echoed.
async fn exchange<S>(ws: &mut WebSocket<S>) -> Result<(usize, usize), String>
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    let msgs = messages();
    let (mut count, mut bytes) = (0, 0);
    for round in 1..=3 {
        for (label, msg) in &msgs {
            let label = format!("round {round}, {label}");
            ws.send(msg.clone())
                .await
                .map_err(|e| format!("{label}: send: {e}"))?;
            check(&label, msg, &recv(ws, &label).await?)?;
            (count, bytes) = (count + 1, bytes + msg.len());
        }
    }
    for (label, msg) in &msgs {
        ws.feed(msg.clone())
            .await
            .map_err(|e| format!("pipelined {label}: {e}"))?;
    }
    ws.flush().await.map_err(|e| format!("pipelined: {e}"))?;
    for (label, msg) in &msgs {
        let label = format!("pipelined, {label}");
        check(&label, msg, &recv(ws, &label).await?)?;
        (count, bytes) = (count + 1, bytes + msg.len());
    }
    let streamed = Bytes::from(wsup_testkit::noise(300_000));
    {
        let mut w = ws.message_writer(MessageKind::Binary, 16 << 10);
        w.write_all(&streamed)
            .await
            .map_err(|e| format!("streamed: {e}"))?;
        w.close().await.map_err(|e| format!("streamed: {e}"))?;
    }
    let sent = Message::Binary(streamed);
    check("streamed", &sent, &recv(ws, "streamed").await?)?;
    (count, bytes) = (count + 1, bytes + sent.len());

    ws.close(Some(CloseFrame::new(CloseCode::NORMAL, "")))
        .await
        .map_err(|e| format!("close: {e}"))?;
    Ok((count, bytes))
}
