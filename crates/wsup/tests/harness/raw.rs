//! A raw client: the HTTP handshake by hand, and frames written and read
//! byte by byte, for what a conforming client library will not send
//! (fragments split at chosen places, unmasked frames, reserved bits,
//! invalid UTF-8) and for checking the server's framing itself.

use std::net::SocketAddr;

use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::Rt;

/// The RFC 6455 example key and its accept value.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// Each test file uses some of them.
#[allow(unused_imports)]
pub use wsup_testkit::{
    encode_frame, Frame as RawFrame, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT,
};

/// A valid upgrade request for `addr`, with `extra` header lines (each
/// ending in `\r\n`) before the blank line.
pub fn upgrade_request(addr: SocketAddr, extra: &str) -> String {
    format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Reads an HTTP response head (through the blank line); returns it and
/// whatever arrived after it. `None` if the stream ended first.
pub async fn read_http_head<S: AsyncRead + Unpin>(io: &mut S) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(p + 4);
            return Some((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        let n = io.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The status code of a response head.
pub fn status(head: &str) -> u16 {
    let line = head.lines().next().unwrap_or("");
    assert!(
        line.starts_with("HTTP/1.1 "),
        "not an HTTP/1.1 status line: {line:?}"
    );
    line[9..12]
        .parse()
        .unwrap_or_else(|_| panic!("bad status line {line:?}"))
}

pub use wsup_testkit::header;

/// Sends `request` as raw bytes on a fresh connection and reads the whole
/// response until the server closes. Returns the response text.
pub async fn http_exchange<R: Rt>(addr: SocketAddr, request: &[u8]) -> String {
    let mut io = R::connect(addr).await;
    io.write_all(request).await.expect("write request");
    io.flush().await.expect("flush");
    let mut out = Vec::new();
    // A reset after the response still leaves what was read.
    let mut chunk = [0u8; 4096];
    loop {
        match io.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Connects a raw client to `addr` on runtime `R` and does the handshake.
pub async fn raw_connect<R: Rt>(addr: SocketAddr) -> RawWs<R::ClientIo> {
    let io = R::connect(addr).await;
    RawWs::handshake(io, addr, "").await.0
}

/// A WebSocket client that writes frames by hand.
#[derive(Debug)]
pub struct RawWs<S> {
    pub io: S,
    buf: Vec<u8>,
    mask_seed: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawWs<S> {
    /// Does the opening handshake over `io` (request to `addr`, with
    /// `extra` header lines); checks the 101 and the accept key.
    pub async fn handshake(mut io: S, addr: SocketAddr, extra: &str) -> (Self, String) {
        io.write_all(upgrade_request(addr, extra).as_bytes())
            .await
            .expect("write request");
        let (head, rest) = read_http_head(&mut io).await.expect("response head");
        assert_eq!(status(&head), 101, "response: {head}");
        assert_eq!(
            header(&head, "sec-websocket-accept"),
            Some(ACCEPT),
            "response: {head}"
        );
        assert!(
            header(&head, "upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")),
            "{head}"
        );
        (RawWs::from_parts(io, rest), head)
    }

    /// A client over `io` after a handshake done by hand; `rest` is what
    /// was read past the response head.
    pub fn from_parts(io: S, rest: Vec<u8>) -> Self {
        RawWs {
            io,
            buf: rest,
            mask_seed: 0x1234_5678,
        }
    }

    fn next_mask(&mut self) -> [u8; 4] {
        self.mask_seed = self
            .mask_seed
            .wrapping_mul(1_103_515_245)
            .wrapping_add(12_345);
        self.mask_seed.to_be_bytes()
    }

    /// Writes bytes as they are.
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.expect("write");
        self.io.flush().await.expect("flush");
    }

    /// Writes one masked frame.
    pub async fn send(&mut self, fin: bool, opcode: u8, payload: &[u8]) {
        self.send_with(fin, 0, opcode, payload).await;
    }

    /// Writes one masked frame with reserved bits `rsv` (RSV1 = 4).
    pub async fn send_with(&mut self, fin: bool, rsv: u8, opcode: u8, payload: &[u8]) {
        let mask = self.next_mask();
        let frame = encode_frame(fin, rsv, opcode, Some(mask), payload);
        self.write_raw(&frame).await;
    }

    /// Sends a close frame with `code` and `reason`.
    pub async fn send_close(&mut self, code: u16, reason: &str) {
        let mut p = code.to_be_bytes().to_vec();
        p.extend_from_slice(reason.as_bytes());
        self.send(true, OP_CLOSE, &p).await;
    }

    /// Reads one frame from the server; `None` once the stream ends. Server
    /// frames must not be masked.
    pub async fn read_frame(&mut self) -> Option<RawFrame> {
        let mut chunk = [0u8; 16 * 1024];
        let frame = loop {
            if let Some((frame, n)) = wsup_testkit::parse_frame(&self.buf) {
                self.buf.drain(..n);
                break frame;
            }
            match self.io.read(&mut chunk).await {
                Ok(0) | Err(_) => {
                    assert!(self.buf.is_empty(), "eof in a frame: {:?}", self.buf);
                    return None;
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        };
        assert!(!frame.masked, "server sent a masked frame: {frame:?}");
        assert_eq!(frame.rsv, 0, "server set reserved bits: {frame:?}");
        Some(frame)
    }

    /// Reads frames until a close frame (failing on end of stream); returns
    /// the frames before it and the close's (code, reason).
    pub async fn read_until_close(&mut self) -> (Vec<RawFrame>, Option<(u16, String)>) {
        let mut before = Vec::new();
        loop {
            let f = self
                .read_frame()
                .await
                .expect("stream ended before a close frame");
            if f.opcode == OP_CLOSE {
                return (before, f.close_code());
            }
            before.push(f);
        }
    }

    /// Reads until the server's close frame and returns its code.
    pub async fn expect_close_code(&mut self) -> u16 {
        let (_, close) = self.read_until_close().await;
        close.expect("close frame with a code").0
    }

    /// Closes with 1000 and reads until the server's close frame, which
    /// must echo 1000.
    pub async fn close_normally(&mut self) {
        self.send_close(1000, "").await;
        assert_eq!(self.expect_close_code().await, 1000, "close echo");
    }

    /// Reads frames until the server ends the stream (EOF or reset).
    pub async fn read_to_eof(&mut self) -> Vec<RawFrame> {
        let mut frames = Vec::new();
        while let Some(f) = self.read_frame().await {
            frames.push(f);
        }
        frames
    }
}
