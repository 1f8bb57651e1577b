//! The ceiling of `cargo xtask bench`: a raw TCP echo server that sends back
//! every byte it reads, through a 256 KiB buffer, with no WebSocket at all.
//! The load generator sends it the same masked frames it sends the WebSocket
//! servers, so the bytes on the wire match. The buffer starts 2 KiB into a
//! page, where wsup starts its large read buffers: where it lies in its page
//! decides what the kernel's copies to and from it cost (up to a third of
//! the CPU at 64 KiB, `docs/bench`), and left to malloc it would be chance.
//!
//! Usage: `tcp_echo tokio|smol|async-std ADDR`; prints `listening on ADDR`
//! once it accepts. Each runtime is driven as in `tungstenite_echo`
//! (`wsup_benches::baseline`).

use wsup_benches::baseline::{self, Handler};

const BUFFER: usize = 256 * 1024;

/// A buffer of [`BUFFER`] bytes in `storage` (zeroed lazily, as
/// `vec![0; n]` is, so that an idle connection holds none of it), starting
/// 2 KiB into a page.
fn placed(storage: &mut Vec<u8>) -> &mut [u8] {
    *storage = vec![0u8; BUFFER + 4096];
    let gap = 2048usize.wrapping_sub(storage.as_ptr() as usize) % 4096;
    &mut storage[gap..gap + BUFFER]
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(runtime), Some(addr)) = (args.next(), args.next()) else {
        eprintln!("usage: tcp_echo tokio|smol|async-std ADDR");
        std::process::exit(2);
    };
    baseline::serve("tcp_echo", &runtime, &addr, Echo)
}

/// Echoes until EOF or an error.
#[derive(Debug, Clone, Copy)]
struct Echo;

impl Handler for Echo {
    /// Through tokio's own IO traits, with no adapter in between.
    async fn tokio(self, mut stream: tokio::net::TcpStream) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut storage = Vec::new();
        let buf = placed(&mut storage);
        while let Ok(n @ 1..) = stream.read(buf).await {
            if stream.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    async fn futures_io<S>(self, mut stream: S)
    where
        S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static,
    {
        use futures_util::{AsyncReadExt, AsyncWriteExt};
        let mut storage = Vec::new();
        let buf = placed(&mut storage);
        while let Ok(n @ 1..) = stream.read(buf).await {
            if stream.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }
}
