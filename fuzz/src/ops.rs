//! The application's side of a fuzzed connection: calls chosen by the
//! input ([`Op`]), each polled a few times and given up on if still
//! pending, and the checks on what comes out: messages and chunks within
//! the limits, every frame written well formed and masked as the role
//! requires.

use std::future::poll_fn;
use std::pin::Pin;

use arbitrary::Arbitrary;
use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use wsup_core::{Chunk, CloseFrame, Message, MessageKind, Role, WebSocket, WebSocketConfig};

use crate::poll_some;
use crate::script::Script;

/// The connection's limits, small, so that a run stays small.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Limits {
    read_buffer: u16,
    max_frame: u16,
    max_message: u32,
    max_fragments: u8,
    backlog: u32,
}

impl Limits {
    /// A config with these limits: at most 1 MiB a message, 256
    /// fragments, and all of that when the settings are zero.
    pub fn config(&self) -> WebSocketConfig {
        const MIB: usize = 1 << 20;
        let max_message = MIB - self.max_message as usize % MIB;
        WebSocketConfig::builder()
            .read_buffer_size(128 + usize::from(self.read_buffer % 16384))
            .max_frame_size(
                max_message
                    .saturating_sub(usize::from(self.max_frame) << 4)
                    .max(1),
            )
            .max_message_size(max_message)
            .max_fragments(256 - usize::from(self.max_fragments))
            .write_backlog_limit(MIB - self.backlog as usize % MIB)
            .build()
    }
}

/// A message the application sends.
#[derive(Arbitrary, Debug, Clone)]
pub struct Out {
    kind: u8,
    len: u16,
    byte: u8,
}

impl Out {
    fn message(&self) -> Message {
        let len = usize::from(self.len);
        match self.kind % 5 {
            0 => Message::text("é".repeat(len / 2)),
            1 => Message::binary(vec![self.byte; len]),
            2 => Message::Ping(Bytes::from(vec![self.byte; len % 126])),
            3 => Message::Pong(Bytes::from(vec![self.byte; len % 126])),
            _ => Message::Close(Some(CloseFrame::new(1000 + (self.len % 4000), "bye"))),
        }
    }
}

/// One call of the application's.
#[derive(Arbitrary, Debug, Clone)]
pub enum Op {
    Recv,
    RecvChunk,
    /// `next_message`, then up to this many reads of its `AsyncRead`.
    Stream(u8),
    /// `next_message`, then its pieces by `chunk`, all of them.
    StreamChunks,
    Send(Out),
    Feed(Out),
    Flush,
    Close(Option<u16>),
    /// Feeds the last chunk received back (a relay).
    Relay,
    /// Feeds a chunk of the application's own.
    FeedChunk {
        text: bool,
        len: u16,
        last: bool,
    },
    /// Writes through a `message_writer` and closes it.
    Writer {
        text: bool,
        fragment: u16,
        len: u16,
    },
}

/// Runs `ops` on `ws` (none: receive all, then close), each call polled at most `polls` times, then
/// checks what was written from `out_start` on (past the handshake).
pub fn run(mut ws: WebSocket<Script>, ops: &[Op], polls: u8, out_start: usize) {
    let polls = 1 + usize::from(polls % 16);
    let max_message = ws.config().max_message_size();
    let role = ws.role();
    let mut last_chunk: Option<Chunk> = None;
    let default_ops: Vec<Op>;
    let ops = if ops.is_empty() {
        // A seed's settings at their defaults: receive everything, close.
        default_ops = [vec![Op::Recv; 24], vec![Op::Close(None)], vec![Op::Recv; 4]].concat();
        &default_ops[..]
    } else {
        ops
    };
    for op in ops.iter().take(64) {
        match op {
            Op::Recv => {
                if let Some(Ok(m)) = poll_some(ws.recv(), polls) {
                    check_message(&m, max_message);
                }
            }
            Op::RecvChunk => {
                if let Some(Ok(c)) = poll_some(ws.recv_chunk(), polls) {
                    assert!(c.data().len() <= max_message, "chunk of {}", c.data().len());
                    last_chunk = Some(c);
                }
            }
            Op::Stream(reads) => {
                let _ = poll_some(
                    async {
                        let mut msg = ws.next_message().await.map_err(drop)?;
                        let mut buf = [0u8; 4096];
                        let mut total = 0;
                        for _ in 0..*reads {
                            let n = poll_fn(|cx| Pin::new(&mut msg).poll_read(cx, &mut buf))
                                .await
                                .map_err(drop)?;
                            total += n;
                            assert!(total <= max_message, "streamed {total}");
                            if n == 0 {
                                break;
                            }
                        }
                        Ok::<_, ()>(())
                    },
                    polls * 4,
                );
            }
            Op::StreamChunks => {
                let _ = poll_some(
                    async {
                        let mut msg = ws.next_message().await?;
                        let mut total = 0;
                        while let Some(piece) = msg.chunk().await? {
                            total += piece.len();
                            assert!(total <= max_message, "streamed {total}");
                        }
                        Ok::<_, wsup_core::Error>(())
                    },
                    polls * 4,
                );
            }
            Op::Send(out) => {
                let _ = poll_some(ws.send(out.message()), polls);
            }
            Op::Feed(out) => {
                let _ = poll_some(ws.feed(out.message()), polls);
            }
            Op::Flush => {
                let _ = poll_some(ws.flush(), polls);
            }
            Op::Close(code) => {
                let frame = code.map(|c| CloseFrame::new(c, "done"));
                let _ = poll_some(ws.close(frame), polls);
            }
            Op::Relay => {
                if let Some(c) = last_chunk.take() {
                    let _ = poll_some(ws.feed_chunk(c), polls);
                }
            }
            Op::FeedChunk { text, len, last } => {
                let data = vec![b'a'; usize::from(*len)];
                let chunk = if *text {
                    Chunk::text(data, *last)
                } else {
                    Chunk::binary(data, *last)
                };
                let _ = poll_some(ws.feed_chunk(chunk), polls);
            }
            Op::Writer {
                text,
                fragment,
                len,
            } => {
                let kind = if *text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                // At most 256 frames per message: 65,535 one-byte frames,
                // each compressed with a flush of its own, took seconds
                // under the sanitizer (linear, but a libFuzzer timeout on a
                // loaded machine).
                let fragment_size = 1 + usize::from(*fragment);
                let data = vec![b'w'; usize::from(*len).min(256 * fragment_size)];
                let mut w = ws.message_writer(kind, fragment_size);
                let _ = poll_some(
                    async {
                        let mut at = 0;
                        while at < data.len() {
                            at +=
                                poll_fn(|cx| Pin::new(&mut w).poll_write(cx, &data[at..])).await?;
                        }
                        poll_fn(|cx| Pin::new(&mut w).poll_close(cx)).await
                    },
                    polls,
                );
            }
        }
    }
    let written = &ws.get_ref().output;
    check_frames(&written[out_start.min(written.len())..], role);
}

/// What a received message must be.
fn check_message(m: &Message, max_message: usize) {
    match m {
        Message::Text(t) => assert!(t.as_bytes().len() <= max_message),
        Message::Binary(b) => assert!(b.len() <= max_message),
        Message::Ping(p) | Message::Pong(p) => assert!(p.len() <= 125),
        Message::Close(_) => {}
    }
}

/// The frames written: well formed, masked by a client and not by a
/// server, control frames short and whole; the output may stop inside
/// the last one.
fn check_frames(mut out: &[u8], role: Role) {
    while let Some((frame, n)) = wsup_testkit::parse_frame(out) {
        assert_eq!(frame.masked, role == Role::Client, "{frame:?}");
        assert!(
            matches!(frame.opcode, 0 | 1 | 2 | 8 | 9 | 10),
            "opcode {}",
            frame.opcode
        );
        assert_eq!(frame.rsv & 0x3, 0, "rsv2/rsv3 set: {frame:?}");
        if frame.opcode >= 8 {
            assert!(frame.fin && frame.payload.len() <= 125, "{frame:?}");
        }
        out = &out[n..];
    }
}
