//! The ceiling of `cargo xtask bench`: a raw TCP echo server that sends back
//! every byte it reads, through a 256 KiB buffer, with no WebSocket at all.
//! The load generator sends it the same masked frames it sends the WebSocket
//! servers, so the bytes on the wire match.
//!
//! Usage: `tcp_echo tokio|smol|async-std ADDR`; prints `listening on ADDR`
//! once it accepts. Each runtime is driven as in `tungstenite_echo`.

use futures_util::{AsyncReadExt, AsyncWriteExt};

const BUFFER: usize = 256 * 1024;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(runtime), Some(addr)) = (args.next(), args.next()) else {
        eprintln!("usage: tcp_echo tokio|smol|async-std ADDR");
        std::process::exit(2);
    };
    match runtime.as_str() {
        "tokio" => run_tokio(&addr),
        "smol" => run_smol(&addr),
        "async-std" => run_async_std(&addr),
        other => {
            eprintln!("tcp_echo: unknown runtime `{other}`");
            std::process::exit(2)
        }
    }
}

/// Echoes until EOF or an error, over any `futures_io` stream.
async fn echo<S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin>(mut stream: S) {
    let mut buf = vec![0u8; BUFFER];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

fn run_tokio(addr: &str) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; BUFFER];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    })
}

fn run_smol(addr: &str) -> std::io::Result<()> {
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind(addr).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            smol::spawn(echo(stream)).detach();
        }
    })
}

fn run_async_std(addr: &str) -> std::io::Result<()> {
    async_std::task::block_on(async {
        let listener = async_std::net::TcpListener::bind(addr).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            async_std::task::spawn(echo(stream));
        }
    })
}
