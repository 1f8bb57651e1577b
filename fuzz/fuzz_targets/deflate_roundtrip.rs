//! permessage-deflate both ways: inflate(deflate(x)) == x over several
//! messages through one pair of contexts, for every window size (the
//! inflater's at least the deflater's, as a peer's may be) and both
//! takeover modes, each message compressed whole or in pieces and inflated
//! in pieces cut elsewhere, whole or a bounded step at a time (as
//! `recv_chunk` does); and a message over the limit refused, never held
//! past it.
#![no_main]

use arbitrary::Arbitrary;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wsup_core::deflate::{Deflater, InflateError, Inflater};
use wsup_core::fuzzing::decompress_some;
use wsup_fuzz::pieces;

#[derive(Arbitrary, Debug)]
struct Input {
    /// 9..=15 each; the inflater's is raised to the deflater's if lower.
    deflate_bits: u8,
    inflate_bits: u8,
    level: u8,
    no_context_takeover: bool,
    messages: Vec<Msg>,
}

#[derive(Arbitrary, Debug)]
struct Msg {
    /// Pieces compressed one by one (`compress_part`).
    deflate_cuts: Vec<u16>,
    /// Pieces of the compressed payload handed to the inflater one by one.
    inflate_cuts: Vec<u16>,
    /// Inflated at most this many bytes a call (0: no bound).
    step: u16,
    /// Inflated under a limit this much below its length (0: enough room).
    short_by: u8,
    data: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let dbits = 9 + input.deflate_bits % 7;
    let ibits = (9 + input.inflate_bits % 7).max(dbits);
    let nct = input.no_context_takeover;
    let mut deflater = Deflater::new(u32::from(input.level % 10), dbits, nct);
    let mut inflater = Inflater::new(ibits, nct);
    for msg in input.messages.iter().take(8) {
        let data = &msg.data;
        let mut compressed = BytesMut::new();
        let parts = pieces(data, &msg.deflate_cuts);
        let last = parts.len() - 1;
        for (i, part) in parts.into_iter().enumerate() {
            deflater.compress_part(part, i == last, &mut compressed);
        }

        let short = usize::from(msg.short_by);
        let limit = data.len().saturating_sub(short);
        let too_large = short > 0 && !data.is_empty();
        let most = match msg.step {
            0 => usize::MAX,
            n => usize::from(n),
        };
        let mut plain = BytesMut::new();
        let inputs = pieces(&compressed, &msg.inflate_cuts);
        let last = inputs.len() - 1;
        let mut result = Ok(());
        'message: for (i, mut piece) in inputs.into_iter().enumerate() {
            let fin = i == last;
            loop {
                let before = plain.len();
                match decompress_some(&mut inflater, piece, fin, &mut plain, limit, most) {
                    Ok((consumed, done)) => {
                        assert!(plain.len() - before <= most, "more than a step");
                        piece = &piece[consumed..];
                        if done {
                            assert!(piece.is_empty());
                            break;
                        }
                    }
                    Err(e) => {
                        result = Err(e);
                        break 'message;
                    }
                }
            }
        }
        if too_large {
            assert_eq!(
                result,
                Err(InflateError::TooLarge),
                "limit {limit} of {}",
                data.len()
            );
            assert!(plain.len() <= limit + 1, "held past the limit");
            // The stream cannot be followed after a lost message.
            if !nct {
                return;
            }
            // Nor can the deflater's context be kept in step: start over.
            deflater.release();
            continue;
        }
        assert_eq!(result, Ok(()));
        assert_eq!(
            &plain[..],
            &data[..],
            "window {dbits}/{ibits}, no takeover {nct}"
        );
    }
});
