//! The inflater under hostile input: the size limit and corrupt data.

use flate2::{Compress, Compression};

use super::*;
use crate::deflate::deflater::deflate_sync;
use crate::deflate::{INFLATE_STEP, TAIL};

/// About 1 GiB of zeros in about 1 MB: one sync-flushed block of 1 MiB of
/// zeros that only refers back to zeros, repeated.
fn zero_bomb() -> (Vec<u8>, usize) {
    let zeros = vec![0u8; 1 << 20];
    let mut c = Compress::new_with_window_bits(Compression::new(9), false, 15);
    let mut first = BytesMut::new();
    deflate_sync(&mut c, &zeros, &mut first);
    let mut block = BytesMut::new();
    deflate_sync(&mut c, &zeros, &mut block);
    let mut bomb = first.to_vec();
    for _ in 1..1024 {
        bomb.extend_from_slice(&block);
    }
    bomb.truncate(bomb.len() - TAIL.len());
    (bomb, 1 << 30)
}

#[test]
fn bomb_is_refused_while_inflating() {
    let (bomb, inflated) = zero_bomb();
    assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());

    // The construction is right: a prefix inflates to its share of zeros.
    let mut i = Inflater::new(15, true);
    let mut out = BytesMut::new();
    let prefix = bomb.len() / 64;
    i.decompress(&bomb[..prefix], false, &mut out, usize::MAX)
        .unwrap();
    assert!(
        out.len() > inflated / 128 && out.iter().all(|&b| b == 0),
        "{}",
        out.len()
    );
    i.release();

    let limit = 16 << 20;
    let mut out = BytesMut::new();
    let mut result = Ok(());
    for (n, frame) in bomb.chunks(64 * 1024).enumerate() {
        let fin = (n + 1) * 64 * 1024 >= bomb.len();
        result = i.decompress(frame, fin, &mut out, limit);
        assert!(
            out.len() <= limit + INFLATE_STEP,
            "output grew to {}",
            out.len()
        );
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(InflateError::TooLarge));
    assert!(out.len() <= limit + 1);
    // Growth is amortised doubling at worst.
    assert!(
        out.capacity() <= 2 * (limit + INFLATE_STEP),
        "capacity {}",
        out.capacity()
    );

    // The inflater is usable again (for a fresh stream).
    let mut d = Deflater::new(6, 15, true);
    let c = compress(&mut d, b"after");
    assert_eq!(inflate_in_pieces(&mut i, &c, 0, 100).unwrap(), b"after");
}

#[test]
fn limit_counts_the_whole_message_exactly() {
    let data = text_like(100_000, 5);
    let mut d = Deflater::new(6, 15, true);
    let c = compress(&mut d, &data);
    let mut i = Inflater::new(15, true);
    assert_eq!(inflate_in_pieces(&mut i, &c, 1, data.len()).unwrap(), data);
    assert_eq!(
        inflate_in_pieces(&mut i, &c, 2, data.len() - 1),
        Err(InflateError::TooLarge)
    );
    assert_eq!(inflate_in_pieces(&mut i, &c, 3, data.len()).unwrap(), data);
}

#[test]
fn corrupt_input_is_an_error_not_a_panic() {
    let mut i = Inflater::new(15, false);
    let mut out = BytesMut::new();
    // BTYPE 11 is reserved.
    assert_eq!(
        i.decompress(&[0xff; 16], true, &mut out, 1000),
        Err(InflateError::Corrupt)
    );
    // A stored block whose NLEN is not the complement of LEN.
    out.clear();
    assert_eq!(
        i.decompress(
            &[0x00, 0x05, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5],
            true,
            &mut out,
            1000
        ),
        Err(InflateError::Corrupt)
    );
    // Data after a final block.
    out.clear();
    assert_eq!(
        i.decompress(
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0xf2, 0x48],
            true,
            &mut out,
            1000
        ),
        Err(InflateError::Corrupt)
    );
    // Random garbage in random pieces: any outcome but a panic or a hang.
    let mut rng = Rng(12345);
    for n in 0..2000 {
        let len = rng.below(200);
        let junk = random_bytes(len, n + 1);
        let _ = inflate_in_pieces(&mut i, &junk, n, 1 << 16);
    }
    // And the inflater still works afterwards.
    let mut d = Deflater::new(6, 15, true);
    let c = compress(&mut d, b"still fine");
    let mut fresh_out = BytesMut::new();
    let mut i = Inflater::new(15, true);
    i.decompress(&c, true, &mut fresh_out, 100).unwrap();
    assert_eq!(&fresh_out[..], b"still fine");
}
