//! The Autobahn TestSuite's client cases, run against a fuzzing server
//! (`kosoku -m fuzzingserver`): wsup as a client, judged by an independent
//! peer.
//!
//! Usage: `autobahn-client URL [--agent NAME]`, URL the fuzzing server's
//! base (`ws://127.0.0.1:9001`), NAME the agent the report is filed under
//! (default `wsup-RUNTIME`). It asks for the number of cases
//! (`/getCaseCount`), runs each (`/runCase?case=N&agent=NAME`), echoing
//! every message as the cases expect, then asks for the report
//! (`/updateReports?agent=NAME`) and exits 0. It offers permessage-deflate
//! and compresses every message (no size threshold), as the conformance
//! server does. Exits 1 when it cannot reach the server; a case that fails
//! is the report's to judge, not this program's.

use std::process::ExitCode;

use wsup::client::Dialer;
use wsup::deflate::DeflateConfig;
use wsup::Message;
use wsup_examples::{echo, rt, CONFORMANCE_MAX_FRAME, CONFORMANCE_MAX_MESSAGE};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut base, mut agent) = (None, format!("wsup-{}", wsup_examples::RUNTIME));
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--agent" => match args.next() {
                Some(name) => agent = name,
                None => return usage("--agent needs a name"),
            },
            _ if arg.starts_with("--agent=") => agent = arg["--agent=".len()..].to_owned(),
            _ if base.is_none() && !arg.starts_with('-') => base = Some(arg),
            _ => return usage(&format!("unexpected argument {arg:?}")),
        }
    }
    let Some(base) = base else {
        return usage("no URL");
    };
    let base = base.trim_end_matches('/').to_owned();
    match rt::block_on(run(&base, &agent)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("autobahn-client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("autobahn-client: {why}\nusage: autobahn-client URL [--agent NAME]");
    ExitCode::from(2)
}

/// The dialer for the cases: compression offered, every message
/// compressed (an uncompressed text message on a deflate connection
/// breaks kosoku's 12.x and 13.x cases); output may back up to
/// `max_message_size` while the echo reads, as the `echo` server's does
/// (see [`echo_upgrader`](wsup_examples::echo_upgrader)), with the
/// conformance limits ([`CONFORMANCE_MAX_MESSAGE`]).
///
/// The offer carries `client_no_context_takeover`: Autobahn's server asks
/// a client for no context takeover (cases 13.2, 13.5 and 13.6) only when
/// its offer said it would keep none, and accepts no compression
/// otherwise. With it the client compresses each message on its own in
/// every case, as RFC 7692 lets a client that offered it.
fn dialer() -> Dialer {
    let deflate = DeflateConfig::enabled()
        .threshold(0)
        .client_no_context_takeover(true);
    rt::dialer()
        .compression(deflate)
        .max_message_size(CONFORMANCE_MAX_MESSAGE)
        .max_frame_size(CONFORMANCE_MAX_FRAME)
        .write_backlog_limit(CONFORMANCE_MAX_MESSAGE)
}

async fn run(base: &str, agent: &str) -> std::io::Result<()> {
    let dialer = dialer();
    let count = case_count(&dialer, base).await?;
    println!("{count} cases");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match rt::connect_with(&dialer, &url).await {
            Ok((ws, _)) => echo(ws).await,
            // A case may refuse the handshake on purpose; the report says
            // whether that was right.
            Err(e) => eprintln!("case {case}: {e}"),
        }
    }
    let url = format!("{base}/updateReports?agent={agent}");
    let (mut ws, _) = rt::connect_with(&dialer, &url).await.map_err(other)?;
    // The server closes once the report is written.
    while ws.recv().await.is_ok() {}
    println!("report updated for {agent}");
    Ok(())
}

/// `/getCaseCount`: one text message, the number.
async fn case_count(dialer: &Dialer, base: &str) -> std::io::Result<u32> {
    let (mut ws, _) = rt::connect_with(dialer, &format!("{base}/getCaseCount"))
        .await
        .map_err(other)?;
    let count = match ws.recv().await.map_err(other)? {
        Message::Text(text) => text.as_str().trim().parse().ok(),
        _ => None,
    };
    let _ = ws.close(None).await;
    count.ok_or_else(|| other("/getCaseCount did not answer a number"))
}

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}
