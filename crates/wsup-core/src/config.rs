//! Connection settings: buffer sizes and the limits that keep memory bounded.

use std::sync::Arc;
use std::time::Duration;

use crate::pool::BufferPool;

/// Settings of one connection. [`crate::Upgrader`] fills it; it can also be
/// built directly for [`crate::WebSocket::from_raw`].
#[derive(Debug, Clone)]
pub struct WebSocketConfig {
    /// Initial read buffer size; it grows only as a frame needs, up to the limits.
    pub read_buffer_size: usize,
    /// Initial write buffer size.
    pub write_buffer_size: usize,
    /// Buffered output past this many bytes is written at once, as far as
    /// the transport takes it without waiting, instead of when the
    /// connection would wait for input; the rest goes with the next send,
    /// receive or `flush`. Default 128 KiB. Where `write_backlog_limit` is
    /// higher, once a payload of 16 KiB or more is queued (by reference, not
    /// copied), the batch may grow to 256 KiB (or that limit, if lower)
    /// first, what one read takes in: the echoes of large messages go out a
    /// write per read, not a write per two 64 KiB messages.
    pub write_flush_threshold: usize,
    /// Buffered output past this many bytes (or `write_flush_threshold`, if
    /// larger) must be written out before more is queued or read: a peer
    /// that does not read meets backpressure. Under it, output past the
    /// threshold is written as far as the transport takes it, and reading
    /// goes on; a task that only sends should `flush` before it waits on
    /// something else. Default 0: backpressure starts at the threshold.
    pub write_backlog_limit: usize,
    /// Largest frame payload accepted. Default 16 MiB.
    pub max_frame_size: usize,
    /// Largest message accepted, all fragments together. Default 64 MiB.
    pub max_message_size: usize,
    /// Most fragments in one message. Default 131 072.
    pub max_fragments: usize,
    /// How long to wait for the peer's close frame, and for the transport to
    /// shut down, once this side has sent its close. Needs a runtime.
    pub close_timeout: Duration,
    /// Where write buffers come from; `None`: each connection keeps its own.
    pub write_buffer_pool: Option<Arc<dyn BufferPool>>,
}

impl WebSocketConfig {
    /// Where backpressure starts: `write_backlog_limit`, never below
    /// `write_flush_threshold`.
    pub(crate) fn backlog_limit(&self) -> usize {
        self.write_backlog_limit.max(self.write_flush_threshold)
    }
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            read_buffer_size: 4096,
            write_buffer_size: 4096,
            write_flush_threshold: 128 * 1024,
            write_backlog_limit: 0,
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 17,
            close_timeout: Duration::from_secs(5),
            write_buffer_pool: None,
        }
    }
}
