//! Connection settings: buffer sizes and the limits that keep memory bounded.
//!
//! A [`WebSocketConfig`] is only ever built by [`WebSocketConfigBuilder::build`]
//! (or is the default), and that is where every value is checked: the
//! connection engine reads the fields as they are. The [`crate::Upgrader`]'s
//! connection setters go through the same builder.

use std::sync::Arc;
use std::time::Duration;

use crate::pool::BufferPool;

/// The smallest initial read or write buffer; smaller sizes are raised to it.
const MIN_BUFFER_SIZE: usize = 128;

/// The frame limit that goes with a message limit, unless one is set: the
/// message limit and room for what compressing can add. An incompressible
/// message deflates to a little more than itself (5 bytes of stored-block
/// header per 16 KiB or more, and a few at the end: zlib's `deflateBound`),
/// so a peer that compresses a message of exactly the limit sends a frame
/// a little over it. An uncompressed frame past the message limit is
/// refused by that limit all the same.
fn frame_size_for(max_message_size: usize) -> usize {
    max_message_size.saturating_add(max_message_size / 1024 + 64)
}

/// The default keepalive interval and timeout (python-websockets' values).
const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(20);

/// Settings of one connection. [`crate::Upgrader`] fills it; it can also be
/// built directly, for [`crate::WebSocket::from_raw`]:
///
/// ```
/// use std::time::Duration;
/// use wsup_core::WebSocketConfig;
///
/// let config = WebSocketConfig::builder()
///     .max_message_size(16 << 20)
///     .max_frame_size(16 << 20)
///     .close_timeout(Duration::from_secs(1))
///     .build();
/// assert_eq!(config.max_message_size(), 16 << 20);
/// assert_eq!(config.max_fragments(), 1 << 17);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WebSocketConfig {
    pub(crate) read_buffer_size: usize,
    pub(crate) write_buffer_size: usize,
    pub(crate) write_flush_threshold: usize,
    pub(crate) write_backlog_limit: usize,
    pub(crate) max_frame_size: usize,
    /// `max_frame_size` was set: it no longer follows `max_message_size`.
    pub(crate) frame_size_set: bool,
    pub(crate) max_message_size: usize,
    pub(crate) max_fragments: usize,
    pub(crate) close_timeout: Duration,
    pub(crate) keepalive_interval: Option<Duration>,
    pub(crate) keepalive_timeout: Duration,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) write_buffer_pool: Option<Arc<dyn BufferPool>>,
    pub(crate) send_queue_messages: usize,
    pub(crate) send_queue_bytes: usize,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            read_buffer_size: 4096,
            write_buffer_size: 4096,
            write_flush_threshold: 128 * 1024,
            write_backlog_limit: 0,
            max_frame_size: frame_size_for(1 << 20),
            frame_size_set: false,
            max_message_size: 1 << 20,
            max_fragments: 1 << 17,
            close_timeout: Duration::from_secs(5),
            keepalive_interval: Some(DEFAULT_KEEPALIVE),
            keepalive_timeout: DEFAULT_KEEPALIVE,
            idle_timeout: None,
            write_timeout: None,
            write_buffer_pool: None,
            send_queue_messages: 256,
            send_queue_bytes: 1 << 20,
        }
    }
}

impl WebSocketConfig {
    /// As set with [`WebSocketConfigBuilder::max_frame_size`], or, unless
    /// set, following the message limit.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// A builder that starts from the defaults.
    pub fn builder() -> WebSocketConfigBuilder {
        WebSocketConfigBuilder::default()
    }

    /// A builder that starts from these settings.
    pub fn to_builder(&self) -> WebSocketConfigBuilder {
        WebSocketConfigBuilder {
            config: self.clone(),
        }
    }

    /// The shared pool write buffers come from, if any. See
    /// [`WebSocketConfigBuilder::write_buffer_pool`].
    pub fn write_buffer_pool(&self) -> Option<&Arc<dyn BufferPool>> {
        self.write_buffer_pool.as_ref()
    }

    /// Where backpressure starts: `write_backlog_limit`, never below
    /// `write_flush_threshold`.
    pub(crate) fn backlog_limit(&self) -> usize {
        self.write_backlog_limit.max(self.write_flush_threshold)
    }
}

/// Builds a [`WebSocketConfig`]: each setter takes and returns the builder,
/// and [`build`](Self::build) checks the values, in that one place.
///
/// No value is refused: the few that cannot work are raised to the nearest
/// that can (see [`build`](Self::build)), as gorilla replaces a zero buffer
/// size by its default. Every other value means what it says, zero
/// included: a zero flush threshold writes out after every send, a zero
/// frame or message limit accepts only empty ones. A frame limit above the
/// message limit is allowed (it is the default, by the room compression
/// needs); the message limit then applies to uncompressed single frames
/// too.
#[derive(Debug, Clone, Default)]
pub struct WebSocketConfigBuilder {
    config: WebSocketConfig,
}

impl WebSocketConfigBuilder {
    /// A pool of write buffers shared by connections. Without one, the
    /// connections of a thread share a few spare buffers: a connection
    /// takes one when it has something to write and gives it back once
    /// that is written out, so the same buffer, still in the CPU's cache,
    /// serves connection after connection (at most 4 of up to 256 KiB are
    /// kept per thread; a connection whose buffer they refuse keeps it).
    pub fn write_buffer_pool(mut self, pool: Arc<dyn BufferPool>) -> Self {
        self.config.write_buffer_pool = Some(pool);
        self
    }

    /// Largest frame payload accepted (close 1009 beyond it). Unless set, it
    /// follows [`max_message_size`](Self::max_message_size): that limit,
    /// plus a thousandth of it and 64 bytes, the room a compressed frame
    /// can need over the message it carries (1 MiB + 1,088 bytes by
    /// default). Set, it stays as set whatever the message limit.
    pub fn max_frame_size(mut self, value: usize) -> Self {
        self.config.max_frame_size = value;
        self.config.frame_size_set = true;
        self
    }

    /// The settings, checked: buffer sizes below 128 bytes are raised to
    /// 128, and a fragment limit of 0 to 1 (a message is at least one
    /// frame); a frame limit that was not set follows the message limit.
    pub fn build(self) -> WebSocketConfig {
        let mut config = self.config;
        if !config.frame_size_set {
            config.max_frame_size = frame_size_for(config.max_message_size);
        }
        config.read_buffer_size = config.read_buffer_size.max(MIN_BUFFER_SIZE);
        config.write_buffer_size = config.write_buffer_size.max(MIN_BUFFER_SIZE);
        config.max_fragments = config.max_fragments.max(1);
        config
    }
}

/// Writes, for each setting, its setter on [`WebSocketConfigBuilder`] (with
/// the docs given) and its getter on [`WebSocketConfig`], which points to
/// the setter: one list of the settings, so the two cannot drift apart.
macro_rules! settings {
    ($($(#[doc = $doc:literal])* $name:ident: $ty:ty;)*) => {
        impl WebSocketConfigBuilder {
            $(
                $(#[doc = $doc])*
                pub fn $name(mut self, value: $ty) -> Self {
                    self.config.$name = value;
                    self
                }
            )*
        }

        impl WebSocketConfig {
            $(
                #[doc = concat!(
                    "As set with [`WebSocketConfigBuilder::", stringify!($name), "`]."
                )]
                pub fn $name(&self) -> $ty {
                    self.$name
                }
            )*
        }
    };
}

settings! {
    /// Initial read buffer size (default 4 KiB, at least 128 bytes); it
    /// grows only as a frame needs, up to the limits. Grown past this size
    /// and two read windows (256 KiB each) by a large frame, it is given
    /// back once the connection waits for input with no frame in progress;
    /// and a connection that stays idle for a keepalive interval (nothing
    /// received) gives back anything past this size, write buffer and
    /// compression scratch included, so an idle connection holds what a
    /// new one does.
    read_buffer_size: usize;
    /// Initial write buffer size (default 4 KiB, at least 128 bytes).
    write_buffer_size: usize;
    /// Buffered output past this many bytes is written at once, as far as
    /// the transport takes it without waiting, instead of when the
    /// connection would wait for input; the rest goes with the next send,
    /// receive or `flush`. Default 128 KiB. Where `write_backlog_limit` is
    /// higher, once a payload of 16 KiB or more is queued (by reference, not
    /// copied), the batch may grow to 256 KiB (or that limit, if lower)
    /// first, what one read takes in: the echoes of large messages go out a
    /// write per read, not a write per two 64 KiB messages.
    write_flush_threshold: usize;
    /// Buffered output past this many bytes (or `write_flush_threshold`, if
    /// larger) must be written out before more is queued or read: a peer
    /// that does not read meets backpressure. Under it, output past the
    /// threshold is written as far as the transport takes it, and reading
    /// goes on; a task that only sends should `flush` before it waits on
    /// something else. Default 0: backpressure starts at the threshold.
    write_backlog_limit: usize;
    /// Largest message accepted, all fragments together, counted after
    /// inflating, whether received whole or in pieces (close 1009 beyond
    /// it). Default 1 MiB, as python `websockets`' `max_size`: what a peer
    /// can make a connection hold. Raise it to what the application's
    /// protocol needs; the frame limit follows it unless
    /// [`max_frame_size`](Self::max_frame_size) is set.
    max_message_size: usize;
    /// Most frames in one message, the first included (close 1009 beyond
    /// it). Default 131 072; at least 1.
    max_fragments: usize;
    /// How long to wait for the peer's close frame, and for the transport to
    /// shut down, once this side has sent its close. Default 5 s. Needs a
    /// runtime.
    close_timeout: Duration;
    /// Keepalive: when nothing has arrived from the peer for this long, a
    /// ping is sent; if nothing arrives within `keepalive_timeout` after
    /// it, the peer is taken for gone: a close frame with 1011 is
    /// attempted without waiting, the transport dropped, and the
    /// application sees [`Error::KeepaliveTimeout`](crate::Error). Any
    /// input counts, not only the pong. Default 20 s; `None` turns
    /// keepalive off. Checked lazily, with no cost per message: the ping
    /// goes between one and two intervals after the last input, so a dead
    /// peer is noticed within two intervals and the timeout. Needs a
    /// runtime, and a task polling the connection (a pending `recv`): a
    /// connection whose input is not read (a task that only sends) is never
    /// taken for gone, since an answer may wait unread.
    keepalive_interval: Option<Duration>;
    /// How long to wait for anything after a keepalive ping. Default 20 s.
    keepalive_timeout: Duration;
    /// Idle timeout: no data message received or sent for this long closes
    /// the connection with 1001 (going away), and the application sees
    /// [`Error::IdleTimeout`](crate::Error) once the closing handshake is
    /// over. Pings and pongs do not count. Checked lazily: noticed between
    /// one and two timeouts after the last message. Default `None` (off).
    /// Needs a runtime.
    idle_timeout: Option<Duration>;
    /// Write timeout: output that makes no progress for this long (the peer
    /// stopped reading, the connection is half open) ends the connection:
    /// the blocked `send`, `flush` or `recv` returns
    /// [`Error::WriteTimeout`](crate::Error) and what was queued is freed.
    /// Counts from when a write would block; any progress pushes it on.
    /// Default `None` (off). Needs a runtime.
    write_timeout: Option<Duration>;
    /// Most messages waiting in the connection's send queue, the one that
    /// [`Sender`](crate::Sender)s (and so a [`Hub`](crate::hub::Hub)) fill.
    /// Past it, [`Sender::try_send`](crate::Sender::try_send) is refused
    /// with `Full` and [`Sender::send`](crate::Sender::send) waits. Default
    /// 256. A message is always taken into an empty queue.
    send_queue_messages: usize;
    /// Most payload bytes waiting in that send queue (counted whole even
    /// where a payload is shared, as a hub's messages are). Default 1 MiB.
    send_queue_bytes: usize;
}

/// The connection setters of [`Upgrader`](crate::Upgrader) and
/// [`Dialer`](crate::client::Dialer), written once: each calls the
/// [`WebSocketConfigBuilder`] setter of the same name through the type's
/// `configure` (so the builder checks it), with the docs given and a link
/// to the builder's.
macro_rules! connection_setters {
    () => {
        crate::config::connection_setters! {
            /// Initial read buffer size (at least 128 bytes).
            read_buffer_size: usize;
            /// Initial write buffer size (at least 128 bytes).
            write_buffer_size: usize;
            /// Output queued past this many bytes is written at once, as far as
            /// the transport takes it without waiting (default 128 KiB; with a
            /// large payload queued, 256 KiB if more); otherwise, and for the
            /// rest, it goes out when the connection would wait for input, with
            /// the next send, or on `flush`.
            write_flush_threshold: usize;
            /// Output queued past this many bytes (never less than the flush
            /// threshold, which is the default) must be written out before the
            /// connection queues or reads more: backpressure. An echo that relays
            /// large messages in pieces on the same connection raises it, so its
            /// output may back up while it reads (see
            /// [`WebSocket::recv_chunk`](crate::WebSocket::recv_chunk)).
            write_backlog_limit: usize;
            /// A pool of write buffers shared by connections.
            write_buffer_pool: std::sync::Arc<dyn crate::pool::BufferPool>;
            /// Largest message, fragments together (1009 beyond it).
            max_message_size: usize;
            /// Largest frame (1009 beyond it); unless set, it follows the
            /// message limit, with room for compression.
            max_frame_size: usize;
            /// Most frames in one message (1009 beyond it; at least 1).
            max_fragments: usize;
            /// How long a close waits for the peer's close frame and the
            /// transport's shutdown (default 5 s).
            close_timeout: std::time::Duration;
            /// Ping after this long with nothing received; `None` turns
            /// keepalive off (default 20 s).
            keepalive_interval: Option<std::time::Duration>;
            /// How long to wait for anything after a keepalive ping before the
            /// peer is taken for gone (default 20 s).
            keepalive_timeout: std::time::Duration;
            /// No data message either way for this long closes with 1001
            /// (default off).
            idle_timeout: Option<std::time::Duration>;
            /// Output that makes no progress for this long ends the connection
            /// (default off).
            write_timeout: Option<std::time::Duration>;
            /// Most messages waiting in a connection's send queue, the one
            /// [`Sender`](crate::Sender)s and a hub fill (default 256).
            send_queue_messages: usize;
            /// Most payload bytes waiting in that queue (default 1 MiB).
            send_queue_bytes: usize;
        }
    };
    ($($(#[doc = $doc:literal])* $name:ident: $ty:ty;)*) => {
        $(
            $(#[doc = $doc])*
            #[doc = ""]
            #[doc = concat!("See [`WebSocketConfigBuilder::", stringify!($name), "`](crate::WebSocketConfigBuilder::", stringify!($name), ").")]
            pub fn $name(self, value: $ty) -> Self {
                self.configure(|c| c.$name(value))
            }
        )*
    };
}
pub(crate) use connection_setters;

#[cfg(test)]
mod tests;
