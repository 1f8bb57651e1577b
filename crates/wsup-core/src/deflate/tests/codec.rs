//! Round trips through the deflater and the inflater.

use std::sync::Arc;

use super::*;
use crate::deflate::{CodecPool, TAIL};

#[test]
fn round_trips_all_windows_sizes_and_takeover_modes() {
    let pool = Arc::new(CodecPool::new(4));
    for (size, seed) in [(1024, 1), (64 * 1024, 2), (1024 * 1024, 3)] {
        let text = text_like(size, seed);
        let random = random_bytes(size, seed);
        for bits in 9..=15 {
            for no_takeover in [false, true] {
                let mut deflater = Deflater::new(6, bits, no_takeover).with_pool(pool.clone());
                let mut inflater = Inflater::new(bits, no_takeover).with_pool(pool.clone());
                // Three messages (two for 1 MiB, to keep debug builds quick), so
                // that context takeover is exercised.
                let messages: &[&Vec<u8>] = if size > 64 * 1024 {
                    &[&text, &random]
                } else {
                    &[&text, &random, &text]
                };
                for (n, data) in messages.iter().enumerate() {
                    let compressed = compress(&mut deflater, data);
                    assert!(!compressed.ends_with(&TAIL));
                    let back = inflate_in_pieces(
                        &mut inflater,
                        &compressed,
                        n as u64 + bits as u64,
                        usize::MAX,
                    )
                    .unwrap_or_else(|e| {
                        panic!("size {size} bits {bits} no_takeover {no_takeover}: {e}")
                    });
                    assert!(
                        back == **data,
                        "size {size} bits {bits} no_takeover {no_takeover} message {n}"
                    );
                }
                assert_eq!(deflater.holds_state(), !no_takeover);
                assert_eq!(inflater.holds_state(), !no_takeover);
            }
        }
        // Text compresses; random data grows only by the block overhead.
        let mut d = Deflater::new(6, 15, true);
        assert!(compress(&mut d, &text).len() < size / 2);
        assert!(compress(&mut d, &random).len() < size + size / 100 + 64);
    }
}

/// RFC 7692 7.2.3.1: "Hello" compressed with a sync flush, tail removed.
const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

/// Inflates one message from its frames' payloads, the last one with `fin`.
fn inflate_frames(i: &mut Inflater, frames: &[&[u8]]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for (n, frame) in frames.iter().enumerate() {
        i.decompress(frame, n + 1 == frames.len(), &mut out, 100)
            .unwrap();
    }
    out.to_vec()
}

#[test]
fn rfc7692_hello_examples() {
    // 7.2.3.1: a message compressed with a sync flush, tail removed.
    let mut d = Deflater::new(6, 15, false);
    assert_eq!(&compress(&mut d, b"Hello")[..], HELLO);

    let mut i = Inflater::new(15, false);
    assert_eq!(inflate_frames(&mut i, &[&HELLO]), b"Hello");
    // 7.2.3.2: the same message again, with the context taken over.
    assert_eq!(
        inflate_frames(&mut i, &[&[0xf2, 0x00, 0x11, 0x00, 0x00]]),
        b"Hello"
    );

    // 7.2.3.1, fragmented: the two frames of one message.
    let mut i = Inflater::new(15, true);
    let fragments: [&[u8]; 2] = [&[0xf2, 0x48, 0xcd], &[0xc9, 0xc9, 0x07, 0x00]];
    assert_eq!(inflate_frames(&mut i, &fragments), b"Hello");

    // 7.2.3.3: a stored block.
    let stored = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(inflate_frames(&mut i, &[&stored]), b"Hello");

    // 7.2.3.4: a block with BFINAL set, then the 0x00 byte that the tail
    // completes; the next message starts a new stream.
    let mut i = Inflater::new(15, false);
    let last_block = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(inflate_frames(&mut i, &[&last_block]), b"Hello");
    assert_eq!(inflate_frames(&mut i, &[&HELLO]), b"Hello");
    // The same without the 0x00 byte: the tail must not start a stream.
    for _ in 0..2 {
        let frames: [&[u8]; 3] = [&[0xf3, 0x48, 0xcd], &[0xc9, 0xc9, 0x07, 0x00], &[]];
        assert_eq!(inflate_frames(&mut i, &frames), b"Hello");
    }
    assert_eq!(inflate_frames(&mut i, &[&HELLO]), b"Hello");
}

#[test]
fn context_takeover_shrinks_the_second_identical_message() {
    let msg = text_like(2000, 9);
    let mut keep = Deflater::new(6, 15, false);
    let first = compress(&mut keep, &msg).len();
    let second = compress(&mut keep, &msg).len();
    assert!(second * 4 < first, "first {first}, second {second}");

    let mut reset = Deflater::new(6, 15, true);
    let a = compress(&mut reset, &msg);
    let b = compress(&mut reset, &msg);
    assert_eq!(a, b);
    assert_eq!(a.len(), first);

    // "Hello" twice: the second one is a back-reference.
    let mut d = Deflater::new(6, 15, false);
    let one = compress(&mut d, b"Hello");
    let two = compress(&mut d, b"Hello");
    assert!(two.len() < one.len());
    let mut i = Inflater::new(15, false);
    assert_eq!(inflate_in_pieces(&mut i, &one, 0, 5).unwrap(), b"Hello");
    assert_eq!(inflate_in_pieces(&mut i, &two, 0, 5).unwrap(), b"Hello");
}

#[test]
fn empty_messages() {
    for takeover in [true, false] {
        let mut d = Deflater::new(6, 15, !takeover);
        let mut i = Inflater::new(15, !takeover);
        for data in [&b""[..], b"", b"abc", b"", b"abcabc", b""] {
            let c = compress(&mut d, data);
            if data.is_empty() {
                assert_eq!(&c[..], [0x00]);
            }
            assert_eq!(inflate_in_pieces(&mut i, &c, 0, 100).unwrap(), data);
        }
        // An empty payload (some clients send it for an empty message)
        // is an empty message and leaves the stream as it was.
        let mut out = BytesMut::new();
        i.decompress(&[], true, &mut out, 100).unwrap();
        assert!(out.is_empty());
        let c = compress(&mut d, b"abc");
        assert_eq!(inflate_in_pieces(&mut i, &c, 0, 100).unwrap(), b"abc");
    }
}

#[test]
fn fragments_round_trip() {
    let data = text_like(50_000, 11);
    for takeover in [true, false] {
        let mut d = Deflater::new(6, 12, !takeover);
        let mut i = Inflater::new(12, !takeover);
        for _ in 0..3 {
            let mut out = BytesMut::new();
            let pieces: Vec<&[u8]> = vec![
                &data[..10],
                &data[10..10],
                &data[10..30_000],
                &data[30_000..],
                &[],
            ];
            for (n, piece) in pieces.iter().enumerate() {
                let mut frame = BytesMut::new();
                let fin = n + 1 == pieces.len();
                d.compress_part(piece, fin, &mut frame);
                i.decompress(&frame, fin, &mut out, usize::MAX).unwrap();
            }
            assert!(out[..] == data[..]);
        }
    }
}

#[test]
fn level_changes_at_run_time() {
    let data = text_like(20_000, 4);
    let mut d = Deflater::new(0, 15, false);
    let mut i = Inflater::new(15, false);
    let stored = compress(&mut d, &data);
    assert!(stored.len() > data.len());
    assert_eq!(
        inflate_in_pieces(&mut i, &stored, 0, usize::MAX).unwrap(),
        data
    );
    d.set_level(9);
    assert_eq!(d.level(), 9);
    let other = text_like(20_000, 5);
    let best = compress(&mut d, &other);
    assert!(best.len() < other.len() / 2);
    assert_eq!(
        inflate_in_pieces(&mut i, &best, 1, usize::MAX).unwrap(),
        other
    );
    d.set_level(42);
    assert_eq!(d.level(), 9);
    d.set_level(1);
    let fast = compress(&mut d, &data);
    assert_eq!(
        inflate_in_pieces(&mut i, &fast, 2, usize::MAX).unwrap(),
        data
    );
}

#[test]
fn codecs_move_between_threads_and_the_pool_is_shared() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<Deflater>();
    send::<Inflater>();
    send_sync::<CodecPool>();
    send_sync::<InflateError>();
}

#[test]
fn for_agreed_uses_the_negotiated_parameters() {
    use crate::deflate::{negotiate, parse_offers};
    let config = DeflateConfig::enabled()
        .server_no_context_takeover(true)
        .server_max_window_bits(9);
    let offers = parse_offers(&["permessage-deflate; client_max_window_bits=8"]);
    let agreed = negotiate(&offers, &config).unwrap();
    let d = Deflater::for_agreed(&agreed, &config);
    assert_eq!(
        (d.window_bits, d.no_context_takeover, d.level),
        (9, true, 1)
    );
    let i = Inflater::for_agreed(&agreed);
    assert_eq!((i.window_bits, i.no_context_takeover), (9, false));
}
