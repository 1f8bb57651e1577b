//! Masking: XOR of the payload with the 4-byte key, RFC 6455 section 5.3.
//!
//! The fast path works a `u64` at a time on the aligned middle of the slice
//! (the compiler vectorises the loop); the plain byte loop handles the ends and
//! is the reference the tests compare against at every alignment.

/// Applies `mask` to `buf` in place, as if `buf` started at byte `offset` of
/// the payload. Returns the offset for the next chunk of the same payload.
#[inline]
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4], offset: usize) -> usize {
    let mut key = mask;
    key.rotate_left(offset & 3);
    // Below a few words the alignment set-up costs more than it saves
    // (criterion `unmask/16`: the plain loop is faster there).
    if buf.len() < 32 {
        apply_mask_plain(buf, key);
    } else {
        apply_mask_fast(buf, key);
    }
    (offset + buf.len()) & 3
}

/// The reference implementation: one byte at a time.
#[inline]
pub fn apply_mask_plain(buf: &mut [u8], mask: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// Word-at-a-time masking with no `unsafe`: the head up to an 8-byte boundary
/// is done byte by byte, the middle as `u64` words via `chunks_exact_mut`, and
/// the tail byte by byte with the key rotated to where the words left it.
#[inline]
fn apply_mask_fast(buf: &mut [u8], mask: [u8; 4]) {
    // Bytes before the first 8-aligned address.
    let head = buf.as_ptr().align_offset(8).min(buf.len());
    let (head_bytes, rest) = buf.split_at_mut(head);
    apply_mask_plain(head_bytes, mask);
    let mut key = mask;
    key.rotate_left(head & 3);
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = rest.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes(chunk.try_into().expect("chunk of 8")) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    // 8 is a multiple of 4, so the key phase is unchanged after the words.
    apply_mask_plain(chunks.into_remainder(), key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_matches_plain_loop_at_every_alignment_and_length() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for align in 0..16 {
            for len in 0..(300 - align) {
                for offset in 0..4 {
                    let mut fast = source.clone();
                    let mut plain = source.clone();
                    let next = apply_mask(&mut fast[align..align + len], mask, offset);
                    let mut key = mask;
                    key.rotate_left(offset);
                    apply_mask_plain(&mut plain[align..align + len], key);
                    assert_eq!(fast, plain, "align {align} len {len} offset {offset}");
                    assert_eq!(next, (offset + len) % 4);
                }
            }
        }
    }

    #[test]
    fn masking_in_chunks_equals_masking_at_once() {
        let mask = [1, 2, 3, 4];
        let data: Vec<u8> = (0..100u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, mask, 0);
        let mut parts = data.clone();
        let mut off = 0;
        for range in [0..3, 3..10, 10..11, 11..64, 64..100] {
            off = apply_mask(&mut parts[range], mask, off);
        }
        assert_eq!(whole, parts);
        // Masking twice restores the data.
        apply_mask(&mut whole, mask, 0);
        assert_eq!(whole, data);
    }
}
