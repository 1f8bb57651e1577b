//! The floor of a WebSocket echo: the least work any WebSocket server can
//! do per message, for measuring what is left between wsup and the raw TCP
//! ceiling once the protocol itself is paid for. Not a server to use: it
//! trusts its peer (the load generator) and checks nothing it need not.
//!
//! Per connection, after the handshake (the request head read to its end,
//! the accept key from `Sec-WebSocket-Key`): read what the socket has into
//! one buffer, then for each whole frame in it, write the server's header
//! and the unmasked payload into one output buffer, and write that out in
//! one call; a close frame is answered and ends the connection. No limits,
//! no UTF-8 check, no fragments, no task-level machinery beyond tokio's.
//!
//! Usage: `ws_floor ADDR` (tokio, one thread, as the bench runs every
//! server); prints `listening on ADDR` once it accepts.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BUFFER: usize = 256 * 1024;

fn main() -> std::io::Result<()> {
    let Some(addr) = std::env::args().nth(1) else {
        eprintln!("usage: ws_floor ADDR");
        std::process::exit(2);
    };
    wsup_benches::baseline::serve_tokio(&addr, echo)
}

async fn echo(mut stream: TcpStream) {
    let mut head = Vec::with_capacity(4096);
    let Some(head_end) = handshake(&mut stream, &mut head).await else {
        return;
    };
    // One buffer, zeroed once: `filled` bytes of input, the whole frames
    // echoed and the partial one moved to the front after each read.
    let mut input = vec![0u8; BUFFER];
    let mut filled = head.len() - head_end;
    input[..filled].copy_from_slice(&head[head_end..]);
    let mut output = Vec::with_capacity(BUFFER);
    loop {
        match stream.read(&mut input[filled..]).await {
            Ok(n @ 1..) => filled += n,
            _ => return,
        }
        let (used, closed) = frames(&input[..filled], &mut output);
        input.copy_within(used..filled, 0);
        filled -= used;
        if stream.write_all(&output).await.is_err() || closed {
            return;
        }
        output.clear();
    }
}

/// Reads the request head and answers it; the length of the head.
async fn handshake(stream: &mut TcpStream, input: &mut Vec<u8>) -> Option<usize> {
    let end = loop {
        let start = input.len();
        input.resize(start + 4096, 0);
        let n = stream.read(&mut input[start..]).await.ok()?;
        input.truncate(start + n);
        if n == 0 {
            return None;
        }
        if let Some(i) = input.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = std::str::from_utf8(&input[..end]).ok()?;
    let key = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim())
    })?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        wsup_core::handshake::accept_key(key.as_bytes())
    );
    stream.write_all(response.as_bytes()).await.ok()?;
    Some(end)
}

/// Echoes each whole masked frame at the start of `input` into `output`;
/// the bytes used, and whether a close frame was among them.
fn frames(input: &[u8], output: &mut Vec<u8>) -> (usize, bool) {
    let mut at = 0;
    loop {
        let rest = &input[at..];
        if rest.len() < 2 {
            return (at, false);
        }
        let (len, header) = match rest[1] & 0x7f {
            126 if rest.len() >= 4 => (usize::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
            127 if rest.len() >= 10 => {
                let bytes: [u8; 8] = rest[2..10].try_into().expect("eight bytes");
                (u64::from_be_bytes(bytes) as usize, 10)
            }
            126 | 127 => return (at, false),
            n => (usize::from(n), 2),
        };
        let Some(frame) = rest.get(..header + 4 + len) else {
            return (at, false);
        };
        let mask: [u8; 4] = frame[header..header + 4].try_into().expect("four bytes");
        // The same header without the mask bit.
        output.push(frame[0]);
        output.push(frame[1] & 0x7f);
        output.extend_from_slice(&frame[2..header]);
        let payload = output.len();
        output.extend_from_slice(&frame[header + 4..]);
        wsup_core::frame::apply_mask(&mut output[payload..], mask, 0);
        at += frame.len();
        if frame[0] & 0x0f == 0x8 {
            return (at, true);
        }
    }
}
