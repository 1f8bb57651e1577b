//! A chat server: rooms of WebSocket members on a hub, the page to use them
//! in a browser, and, with `--redis`, rooms shared by every node on the
//! same Redis.
//!
//! Usage: `chat [ADDR] [--redis redis://HOST:PORT]`, ADDR 127.0.0.1:8080 by
//! default. `GET /` serves the page, `/ws?room=NAME` joins a room (every
//! text message a member sends reaches every member, the sender included),
//! `GET /presence?room=NAME` answers `{"room":NAME,"members":N}` (this
//! node's members). Origins are checked (same origin; a client that sends
//! no `Origin` is let in). Stops gracefully on SIGINT or SIGTERM.

use wsup::hub::Hub;
use wsup_examples::{chat, report_shutdown, rt};

const USAGE: &str = "usage: chat [ADDR] [--redis redis://HOST:PORT]";

fn main() -> std::io::Result<()> {
    wsup_examples::log_to_stderr();
    let (addr, redis) = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("chat: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    rt::block_on(async move {
        let hub = Hub::new();
        let _bridge = match redis {
            Some(url) => Some(join_redis(&url, hub.clone()).await?),
            None => None,
        };
        let listener = rt::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        let summary = rt::Server::new(listener, rt::upgrader())
            .with_graceful_shutdown(rt::shutdown_signal())
            .run_requests(move |request, _| chat::route(hub.clone(), request))
            .await?;
        report_shutdown(summary);
        Ok(())
    })
}

/// `[ADDR] [--redis URL]`.
fn parse(args: impl Iterator<Item = String>) -> Result<(String, Option<String>), String> {
    let (mut addr, mut redis) = (None, None);
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.split_once('=') {
            Some(("--redis", url)) => redis = Some(url.to_owned()),
            _ if arg == "--redis" => redis = Some(args.next().ok_or("--redis needs a URL")?),
            _ if arg.starts_with('-') => return Err(format!("unknown flag {arg}")),
            _ if addr.is_none() => addr = Some(arg),
            _ => return Err(format!("unexpected {arg}")),
        }
    }
    Ok((addr.unwrap_or_else(|| "127.0.0.1:8080".to_owned()), redis))
}

#[cfg(feature = "runtime-tokio")]
async fn join_redis(url: &str, hub: Hub) -> std::io::Result<wsup_redis::RedisBridge> {
    let bridge = wsup_redis::RedisBridge::connect(url, hub)
        .await
        .map_err(|e| std::io::Error::other(format!("redis at {url}: {e}")))?;
    eprintln!("chat: rooms shared through {url}");
    Ok(bridge)
}

#[cfg(not(feature = "runtime-tokio"))]
async fn join_redis(_: &str, _: Hub) -> std::io::Result<std::convert::Infallible> {
    Err(std::io::Error::other(
        "--redis needs the tokio build (feature runtime-tokio)",
    ))
}
