//! The settings permessage-deflate is built from: [`DeflateConfig`], what
//! the server is willing to do, and [`Agreed`], what one connection settled
//! on (made by [`negotiate`](super::negotiate)). The codec takes its window
//! sizes and context takeover from [`Agreed`] and its level from
//! [`DeflateConfig`].

use crate::role::Role;

/// Smallest LZ77 window (base-2 logarithm) wsup compresses or decompresses
/// with: zlib cannot produce raw deflate streams with a window of 2^8.
pub const MIN_WINDOW_BITS: u8 = 9;

/// Largest LZ77 window (base-2 logarithm) DEFLATE allows, and the default.
pub const MAX_WINDOW_BITS: u8 = 15;

/// The server's permessage-deflate settings.
///
/// [`Default`] is **disabled**: compression costs CPU and memory per
/// connection (and has a history of side-channel attacks when secrets and
/// attacker-controlled data share a message), so it is opt-in.
/// [`DeflateConfig::enabled`] gives the recommended settings with
/// compression on: level 1, full windows, context takeover in both
/// directions, threshold 128 bytes.
///
/// Window bits outside `9..=15` and levels above 9 are clamped where used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Whether permessage-deflate is offered to clients at all.
    pub enabled: bool,
    /// Compression level, 0 (store) to 9 (best); 6 is zlib's default.
    pub level: u32,
    /// The server refuses to keep its compression context between messages
    /// (`server_no_context_takeover` is always sent). Saves memory on idle
    /// connections (see [`CodecPool`](super::CodecPool)) at the cost of
    /// ratio.
    pub server_no_context_takeover: bool,
    /// The server demands that the client not keep its compression context
    /// (`client_no_context_takeover` is always sent), so the server need not
    /// keep a decompression context either.
    pub client_no_context_takeover: bool,
    /// Largest LZ77 window the server compresses with, 9..=15.
    pub server_max_window_bits: u8,
    /// Largest LZ77 window the server lets the client compress with, 9..=15.
    /// Below 15 the server needs the client's offer to carry
    /// `client_max_window_bits`; an offer without it cannot be limited and
    /// is declined.
    pub client_max_window_bits: u8,
    /// Messages shorter than this many bytes are sent uncompressed (RFC 7692
    /// allows mixing). Deflate rarely saves more than it costs on tiny
    /// payloads.
    pub threshold: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            enabled: false,
            // gorilla's default: on a server, CPU per message matters more
            // than the last few percent of ratio (level 6 costs ~3x the CPU
            // on Autobahn 12.2's bitmap for little gain).
            level: 1,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_max_window_bits: MAX_WINDOW_BITS,
            threshold: 128,
        }
    }
}

impl DeflateConfig {
    /// Compression on, with level 1, 15-bit windows both ways, context
    /// takeover both ways and a threshold of 128 bytes: [`Default`] with
    /// `enabled` set.
    pub fn enabled() -> Self {
        DeflateConfig {
            enabled: true,
            ..DeflateConfig::default()
        }
    }

    /// Compression off (the same as [`Default`]).
    pub fn disabled() -> Self {
        DeflateConfig::default()
    }

    /// Sets the compression level (0..=9; higher values are clamped to 9).
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Sets [`server_no_context_takeover`](Self#structfield.server_no_context_takeover).
    pub fn server_no_context_takeover(mut self, yes: bool) -> Self {
        self.server_no_context_takeover = yes;
        self
    }

    /// Sets [`client_no_context_takeover`](Self#structfield.client_no_context_takeover).
    pub fn client_no_context_takeover(mut self, yes: bool) -> Self {
        self.client_no_context_takeover = yes;
        self
    }

    /// Sets the server's largest window (clamped to 9..=15).
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = clamp_bits(bits);
        self
    }

    /// Sets the largest window the client may use (clamped to 9..=15).
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = clamp_bits(bits);
        self
    }

    /// Sets the size below which messages go out uncompressed.
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }
}

/// Window bits a zlib raw stream accepts: `bits` clamped to 9..=15.
pub(super) fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// The parameters agreed for one connection: what each side compresses with.
///
/// Built by [`negotiate`](super::negotiate); [`Agreed::response_header`] is
/// the value of the `Sec-WebSocket-Extensions` response header that states
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message, so the server
    /// may reset its decompressor too.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window (9..=15).
    pub server_max_window_bits: u8,
    /// The client's LZ77 window: at most this (8..=15). A decompressor
    /// needs at least 9 bits, which also reads 8-bit streams.
    pub client_max_window_bits: u8,
    /// Whether `server_max_window_bits` is stated in the response (it must
    /// be when the offer carried it, and is when it is below 15).
    pub(super) state_server_bits: bool,
    /// Whether `client_max_window_bits` is stated in the response (only
    /// allowed when the offer carried it; done when it is below 15).
    pub(super) state_client_bits: bool,
}

impl Agreed {
    /// What the side in `role` compresses with: its LZ77 window (as agreed:
    /// a client's may be 8, which zlib cannot compress with) and whether it
    /// resets after each message.
    pub(crate) fn sending(&self, role: Role) -> (u8, bool) {
        match role {
            Role::Server => (self.server_max_window_bits, self.server_no_context_takeover),
            Role::Client => (self.client_max_window_bits, self.client_no_context_takeover),
        }
    }

    /// What the side in `role` decompresses with: the window the peer's
    /// stream needs (at least 9 bits, which also reads 8-bit streams) and
    /// whether the peer resets after each message.
    pub(crate) fn receiving(&self, role: Role) -> (u8, bool) {
        match role {
            Role::Server => (
                self.client_inflate_window_bits(),
                self.client_no_context_takeover,
            ),
            Role::Client => (
                self.server_max_window_bits.max(MIN_WINDOW_BITS),
                self.server_no_context_takeover,
            ),
        }
    }

    /// The window the server's decompressor needs for the client's stream.
    pub fn client_inflate_window_bits(&self) -> u8 {
        self.client_max_window_bits.max(MIN_WINDOW_BITS)
    }
}
