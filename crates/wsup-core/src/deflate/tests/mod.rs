//! Unit tests of the deflate module, one file per concern, and the helpers
//! they share: deterministic data and feeding a message to an inflater in
//! pieces, as frames would bring it.

mod budget;
mod client;
mod codec;
mod inflate_limits;
mod negotiation;
mod offer;
mod pool;

use bytes::BytesMut;

use super::{negotiate, parse_offers, Agreed, DeflateConfig, Deflater, InflateError, Inflater};

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

fn text_like(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the",
        "websocket",
        "frame",
        "message",
        "deflate",
        "window",
        "context",
        "server",
        "client",
        "{\"id\":",
        "\"value\":",
        "takeover",
        "compression",
        "of",
        "and",
        "a",
        "\n",
    ];
    let mut rng = Rng(seed | 1);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(WORDS[rng.below(WORDS.len())].as_bytes());
        out.push(b' ');
    }
    out.truncate(len);
    out
}

/// Feeds `payload` to `inflater` in odd-sized pieces, as frames would.
fn inflate_in_pieces(
    inflater: &mut Inflater,
    payload: &[u8],
    seed: u64,
    limit: usize,
) -> Result<Vec<u8>, InflateError> {
    const SIZES: &[usize] = &[1, 7, 333, 4099, 65_537, 2, 0, 12_345];
    let mut out = BytesMut::new();
    let mut rest = payload;
    let mut i = seed as usize;
    loop {
        let n = SIZES[i % SIZES.len()].min(rest.len());
        i += 1;
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        let fin = rest.is_empty();
        inflater.decompress(piece, fin, &mut out, limit)?;
        if fin {
            return Ok(out.to_vec());
        }
    }
}

fn compress(deflater: &mut Deflater, payload: &[u8]) -> BytesMut {
    let mut out = BytesMut::new();
    deflater.compress(payload, &mut out);
    out
}

fn agree(header: &str, config: &DeflateConfig) -> Option<Agreed> {
    negotiate(&parse_offers(&[header]), config)
}

fn response(header: &str, config: &DeflateConfig) -> Option<String> {
    agree(header, config).map(|a| a.response_header())
}

fn on() -> DeflateConfig {
    DeflateConfig::enabled()
}
