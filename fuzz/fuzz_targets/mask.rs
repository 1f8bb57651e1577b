//! Masking: the fast path (AVX2 where the CPU has it, else words) and the
//! portable path against the plain byte loop, at arbitrary alignments,
//! payload offsets and chunkings of one payload.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wsup_core::frame::{apply_mask, apply_mask_plain, apply_mask_portable};

#[derive(Arbitrary, Debug)]
struct Input {
    key: [u8; 4],
    /// Where the payload starts in its buffer (0..32).
    align: u8,
    /// The payload offset of the first byte (0..4).
    offset: u8,
    /// The payload masked in pieces of these sizes.
    cuts: Vec<u16>,
    data: Vec<u8>,
}

/// The key as seen from byte `offset` of the payload.
fn rotated(key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut k = key;
    k.rotate_left(offset % 4);
    k
}

fuzz_target!(|input: Input| {
    let align = usize::from(input.align % 32);
    let offset = usize::from(input.offset % 4);
    let mut buf = vec![0u8; align];
    buf.extend_from_slice(&input.data);
    let len = input.data.len();

    let mut expected = buf.clone();
    apply_mask_plain(&mut expected[align..], rotated(input.key, offset));

    let mut fast = buf.clone();
    let next = apply_mask(&mut fast[align..], input.key, offset);
    assert_eq!(fast, expected, "apply_mask");
    assert_eq!(next, (offset + len) % 4);

    let mut portable = buf.clone();
    apply_mask_portable(&mut portable[align..], rotated(input.key, offset));
    assert_eq!(portable, expected, "apply_mask_portable");

    // In pieces, each continuing at the offset the last returned.
    let mut pieces = buf;
    let (mut at, mut off) = (align, offset);
    let mut cuts = input.cuts.iter().map(|&c| usize::from(c));
    while at < pieces.len() {
        let end = at
            .saturating_add(cuts.next().unwrap_or(usize::MAX))
            .min(pieces.len());
        off = apply_mask(&mut pieces[at..end], input.key, off);
        at = end;
    }
    assert_eq!(pieces, expected, "apply_mask in pieces");
});
