//! Masking: XOR of the payload with the 4-byte key, RFC 6455 section 5.3.
//!
//! Short payloads are masked a `u64` at a time wherever the words fall; long
//! ones from a vector boundary on, so the vectorised loop never straddles a
//! cache line: 32 bytes at a time where the CPU has AVX2 (checked at run
//! time), 16 elsewhere. The ends are masked as short payloads are. The
//! plain byte loop is the reference the tests compare every path against
//! at every alignment.

use std::mem::MaybeUninit;

use bytes::BytesMut;

/// Applies `mask` to `buf` in place, as if `buf` started at byte `offset` of
/// the payload. Returns the offset for the next chunk of the same payload.
#[inline(always)]
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4], offset: usize) -> usize {
    let key = rotate(mask, offset);
    // Short payloads skip the alignment head: up to 15 bytes one at a time
    // would be much of their length.
    if buf.len() < 64 {
        apply_mask_short(buf, key);
    } else {
        apply_mask_fast(buf, key);
    }
    (offset + buf.len()) & 3
}

/// Copies `src` to `dst` (of the same length) masked with `mask`, from
/// the payload's start: one pass, where unmasking in place and then
/// copying make two (a relayed message, unmasked as it is queued).
#[inline(always)]
pub fn copy_masked(src: &[u8], dst: &mut [MaybeUninit<u8>], mask: [u8; 4]) {
    assert_eq!(src.len(), dst.len(), "copy_masked: lengths differ");
    if src.len() < 64 {
        copy_masked_short(src, dst, mask);
    } else {
        copy_masked_long(src, dst, mask);
    }
}

/// Appends `bytes` to `buf`, growing it if need be, as `extend_from_slice`
/// does but with [`copy_plain`] rather than `memcpy` (see there).
#[inline]
pub(crate) fn extend_plain(buf: &mut BytesMut, bytes: &[u8]) {
    extend_by(buf, bytes.len(), |dst| copy_plain(bytes, dst));
}

/// Appends `bytes` to `buf`, growing it if need be, masked with `mask` as
/// if they started at byte `offset` of the payload (as [`apply_mask`]
/// takes it), in one pass; returns the offset for the next piece of the
/// same payload.
#[inline]
pub(crate) fn extend_masked(
    buf: &mut BytesMut,
    bytes: &[u8],
    mask: [u8; 4],
    offset: usize,
) -> usize {
    extend_by(buf, bytes.len(), |dst| {
        copy_masked(bytes, dst, rotate(mask, offset))
    });
    (offset + bytes.len()) & 3
}

/// Appends `len` bytes to `buf` that `write` puts in its spare capacity:
/// [`copy_plain`] or [`copy_masked`], which write every byte they are
/// given.
#[inline(always)]
fn extend_by(buf: &mut BytesMut, len: usize, write: impl FnOnce(&mut [MaybeUninit<u8>])) {
    buf.reserve(len);
    let start = buf.len();
    write(&mut buf.spare_capacity_mut()[..len]);
    // SAFETY: `write` wrote all `len` bytes after `start` (both callers
    // copy into every byte of the slice, checking its length).
    unsafe { buf.set_len(start + len) };
}

/// From this many bytes [`copy_plain`] copies in [`copy_masked`]'s loop
/// rather than with `memcpy`: about where glibc's `memcpy` turns to
/// `rep movsb` (between 2,100 and 3,000 bytes on the machine of
/// `docs/bench`).
pub const PLAIN_COPY_LOOP: usize = 2048;

/// Copies `src` to `dst` (of the same length), as `memcpy` does, but from
/// [`PLAIN_COPY_LOOP`] bytes on in [`copy_masked`]'s vector loop with a
/// key of zeros, on x86-64 (elsewhere it is `memcpy`). glibc's `memcpy`
/// copies such lengths with `rep movsb`, which on AMD's Zen CPUs (glibc
/// before 2.40) is 15 to 30 times slower whenever the destination lies 1
/// to 31 bytes past the source, modulo 4 KiB: rare for any one copy, but
/// a 16 KiB copy then takes 5.4 µs against 0.18, and averaged over every
/// placement `memcpy` took 1.15 to 1.33 times as long as this loop
/// (`docs/bench`, "Copies of 2 KiB and more"). The loop does not care
/// where the bytes lie.
#[inline(always)]
pub fn copy_plain(src: &[u8], dst: &mut [MaybeUninit<u8>]) {
    assert_eq!(src.len(), dst.len(), "copy_plain: lengths differ");
    // `rep movsb` is x86's: elsewhere `memcpy` has no such case.
    if src.len() < PLAIN_COPY_LOOP || cfg!(not(target_arch = "x86_64")) {
        // SAFETY: both are `src.len()` bytes long (checked above), and a
        // shared and a mutable borrow cannot overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<u8>(), src.len())
        };
    } else {
        // The key goes through `black_box` so that the compiler, seeing
        // it is zero, cannot turn the loop back into a `memcpy`.
        copy_masked_long(src, dst, std::hint::black_box([0; 4]));
    }
}

/// Long payloads: AVX2 where the CPU has it, else the words as they come
/// (which the compiler vectorises with SSE2).
#[inline]
fn copy_masked_long(src: &[u8], dst: &mut [MaybeUninit<u8>], mask: [u8; 4]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above: the one condition
        // `copy_masked_avx2` sets.
        unsafe { copy_masked_avx2(src, dst, mask) };
        return;
    }
    copy_masked_words(src, dst, mask);
}

/// [`copy_masked_words`] compiled for AVX2, which vectorises it 32 bytes
/// at a time.
///
/// # Safety
///
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn copy_masked_avx2(src: &[u8], dst: &mut [MaybeUninit<u8>], mask: [u8; 4]) {
    copy_masked_words(src, dst, mask);
}

/// `u64` words wherever they fall (unaligned loads and stores are single
/// instructions on x86-64 and aarch64), the last few bytes as a short
/// payload's are.
#[inline(always)]
fn copy_masked_words(src: &[u8], dst: &mut [MaybeUninit<u8>], mask: [u8; 4]) {
    let word = word_key(mask);
    let mut from = src.chunks_exact(8);
    let mut to = dst.chunks_exact_mut(8);
    for (s, d) in (&mut from).zip(&mut to) {
        let v = u64::from_ne_bytes(s.try_into().expect("chunk of 8")) ^ word;
        d.copy_from_slice(&v.to_ne_bytes().map(MaybeUninit::new));
    }
    // 8 is a multiple of 4: the key's phase is unchanged after the words.
    copy_masked_short(from.remainder(), to.into_remainder(), mask);
}

/// Short payloads (under 64 bytes), straight-line code inlined where the
/// message is queued: words from the front and as many again ending at the
/// payload's end, overlapping in the middle where the length is not a
/// multiple of them (the overlap is written twice, with the same bytes).
/// A 16-byte payload is two loads and two stores. (As loops, the compiler
/// vectorised them with a prologue and an epilogue longer than a 16-byte
/// payload's whole work; taken 32, 16, 8 and 4 bytes at a time as the
/// length's bits said, a 16-byte echo took 20 instructions more a
/// message, `docs/bench`.)
#[inline(always)]
fn copy_masked_short(src: &[u8], dst: &mut [MaybeUninit<u8>], mask: [u8; 4]) {
    debug_assert!(src.len() < 64 && src.len() == dst.len());
    let n = src.len();
    // The key of a word at offset 0, and of one ending at `n` (it starts
    // at `n - 8 * k` or `n - 4`: the same phase as `n`).
    let back_key = rotate(mask, n);
    let (front, back) = (u32::from_ne_bytes(mask), u32::from_ne_bytes(back_key));
    let (front8, back8) = (word_key(mask), word_key(back_key));
    match n {
        33.. => {
            for i in 0..4 {
                xor_word(src, dst, 8 * i, front8);
                xor_word(src, dst, n - 32 + 8 * i, back8);
            }
        }
        17.. => {
            xor_word(src, dst, 0, front8);
            xor_word(src, dst, 8, front8);
            xor_word(src, dst, n - 16, back8);
            xor_word(src, dst, n - 8, back8);
        }
        8.. => {
            xor_word(src, dst, 0, front8);
            xor_word(src, dst, n - 8, back8);
        }
        4.. => {
            xor_half(src, dst, 0, front);
            xor_half(src, dst, n - 4, back);
        }
        _ => {
            for ((d, &b), k) in dst.iter_mut().zip(src).zip(mask) {
                d.write(b ^ k);
            }
        }
    }
}

/// `dst[at..at + 8]` = `src[at..at + 8]` ^ `key`.
#[inline(always)]
fn xor_word(src: &[u8], dst: &mut [MaybeUninit<u8>], at: usize, key: u64) {
    let v = u64::from_ne_bytes(src[at..at + 8].try_into().expect("8 bytes")) ^ key;
    dst[at..at + 8].copy_from_slice(&v.to_ne_bytes().map(MaybeUninit::new));
}

/// `dst[at..at + 4]` = `src[at..at + 4]` ^ `key`.
#[inline(always)]
fn xor_half(src: &[u8], dst: &mut [MaybeUninit<u8>], at: usize, key: u32) {
    let v = u32::from_ne_bytes(src[at..at + 4].try_into().expect("4 bytes")) ^ key;
    dst[at..at + 4].copy_from_slice(&v.to_ne_bytes().map(MaybeUninit::new));
}

/// The key twice over, as the `u64` word of eight bytes it masks: the
/// same in either byte order.
#[inline(always)]
fn word_key(key: [u8; 4]) -> u64 {
    u64::from(u32::from_ne_bytes(key)) * 0x1_0000_0001
}

/// The key as seen from byte `offset` of the payload: rotated left by
/// `offset % 4` bytes. One rotate instruction; `<[u8]>::rotate_left` was an
/// out-of-line call on every frame.
#[inline]
fn rotate(mask: [u8; 4], offset: usize) -> [u8; 4] {
    // Little-endian, the key's first byte is the low byte: rotating the
    // array left by one byte is rotating the word right by eight bits.
    u32::from_le_bytes(mask)
        .rotate_right(8 * (offset & 3) as u32)
        .to_le_bytes()
}

/// The reference implementation: one byte at a time.
#[inline]
pub fn apply_mask_plain(buf: &mut [u8], mask: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// `u64` words wherever they fall (an unaligned word load is one
/// instruction on x86-64 and aarch64), the last few bytes as a short
/// payload's are.
#[inline]
fn apply_mask_words(buf: &mut [u8], key: [u8; 4]) {
    let word = word_key(key);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes(chunk.try_into().expect("chunk of 8")) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    // 8 is a multiple of 4, so the key phase is unchanged after the words.
    apply_mask_short(chunks.into_remainder(), key);
}

/// Short payloads (under 64 bytes): `u64` words wherever they fall, then
/// at most one `u32` and three bytes, in loops too small to vectorise, so
/// that it inlines where a frame is decoded. (`chunks_exact_mut`, which
/// needs no bounds check per word.)
#[inline(always)]
fn apply_mask_short(buf: &mut [u8], key: [u8; 4]) {
    let key32 = u32::from_ne_bytes(key);
    let word = word_key(key);
    let mut words = buf.chunks_exact_mut(8);
    for w in &mut words {
        let v = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ word;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    // 8 and 4 are multiples of 4: the key's phase is unchanged.
    let mut quads = words.into_remainder().chunks_exact_mut(4);
    for q in &mut quads {
        let v = u32::from_ne_bytes([q[0], q[1], q[2], q[3]]) ^ key32;
        q.copy_from_slice(&v.to_ne_bytes());
    }
    for (b, k) in quads.into_remainder().iter_mut().zip(key) {
        *b ^= k;
    }
}

/// Long payloads: AVX2 where the CPU has it, else the portable path.
/// AVX2 is worth its run-time check from about 1 KiB on (criterion
/// `unmask/wsup_after_header` against `portable_after_header` measure it).
#[inline]
fn apply_mask_fast(buf: &mut [u8], key: [u8; 4]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above: the one condition
        // `apply_mask_avx2` sets.
        unsafe { apply_mask_avx2(buf, key) };
        return;
    }
    apply_mask_portable(buf, key);
}

/// The portable long path: the bytes up to a 16-byte boundary one at a
/// time, then words from there, which the compiler vectorises two at a time
/// (SSE2, which every x86-64 has; other targets their own vectors). Aligned,
/// no 16-byte access straddles a cache line (a payload after a 6-byte
/// header is aligned only to 8 bytes, and unaligned it was slower). `key` is already
/// rotated to the payload's offset; public for the benchmarks only.
#[doc(hidden)]
#[inline]
pub fn apply_mask_portable(buf: &mut [u8], key: [u8; 4]) {
    apply_mask_from(16, buf, key);
}

/// The portable path's code compiled for AVX2, from a 32-byte boundary: the
/// compiler vectorises the word loop 32 bytes at a time.
///
/// # Safety
///
/// The CPU must have AVX2. (An `unsafe fn` rather than a safe
/// `#[target_feature]` one, which needs Rust 1.86: the crate builds on 1.85.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn apply_mask_avx2(buf: &mut [u8], key: [u8; 4]) {
    apply_mask_from(32, buf, key);
}

/// The bytes up to an `align`-byte boundary one at a time, words from there.
/// Always inlined, so that each caller's target features vectorise it.
#[inline(always)]
fn apply_mask_from(align: usize, buf: &mut [u8], key: [u8; 4]) {
    // `align` is a power of two. (`<*const u8>::align_offset` was a
    // twentieth of a 1 KiB payload's instructions.)
    let head = (align - (buf.as_ptr().addr() & (align - 1))) & (align - 1);
    let head = head.min(buf.len());
    let (head_bytes, rest) = buf.split_at_mut(head);
    // The head (under `align` bytes) a word at a time wherever they fall,
    // as a short payload is: byte by byte it was a fifth of a 1 KiB
    // payload's instructions (callgrind, the echo at 1 KiB).
    apply_mask_short(head_bytes, key);
    apply_mask_words(rest, rotate(key, head));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Masks every slice of a 300-byte buffer (32 alignments, every length,
    /// every key offset) with `masked` and with the plain loop, and compares
    /// the whole buffers (bytes past the slice must not change).
    fn matches_plain_loop(key: [u8; 4], mut masked: impl FnMut(&mut [u8], usize)) {
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for align in 0..32 {
            for len in 0..(300 - align) {
                for offset in 0..4 {
                    let (mut ours, mut plain) = (source.clone(), source.clone());
                    masked(&mut ours[align..align + len], offset);
                    let mut rotated = key;
                    rotated.rotate_left(offset);
                    apply_mask_plain(&mut plain[align..align + len], rotated);
                    assert_eq!(ours, plain, "align {align} len {len} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn fast_path_matches_plain_loop_at_every_alignment_and_length() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        matches_plain_loop(mask, |data, offset| {
            let next = apply_mask(data, mask, offset);
            assert_eq!(next, (offset + data.len()) % 4);
        });
    }

    /// `apply_mask` takes the AVX2 path where the CPU has it; the portable
    /// one must be right all the same.
    #[test]
    fn portable_path_matches_plain_loop_at_every_alignment_and_length() {
        let key = [0x91, 0x04, 0xee, 0x5a];
        matches_plain_loop(key, |data, offset| {
            let mut rotated = key;
            rotated.rotate_left(offset);
            apply_mask_portable(data, rotated);
        });
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

    /// `copy_plain` copies every byte where it should, and nothing else,
    /// on both sides of [`PLAIN_COPY_LOOP`] and at every alignment of the
    /// source and the destination.
    #[test]
    fn plain_copy_copies_exactly_at_every_alignment_and_length() {
        let source: Vec<u8> = (0..2500u32).map(|i| (i * 13 + 7) as u8).collect();
        let lens = (0..80).chain(PLAIN_COPY_LOOP - 70..PLAIN_COPY_LOOP + 300);
        for len in lens {
            for align in [0, 1, 6, 13, 32, 63] {
                let src = &source[align..align + len];
                let dst_at = (align * 5 + len) % 64;
                let mut out = vec![MaybeUninit::new(0xeeu8); len + 128];
                copy_plain(src, &mut out[dst_at..dst_at + len]);
                // SAFETY: every element was initialised by `vec!` above.
                let out: Vec<u8> = out.iter().map(|b| unsafe { b.assume_init() }).collect();
                assert_eq!(&out[dst_at..dst_at + len], src, "align {align} len {len}");
                assert!(
                    out[..dst_at]
                        .iter()
                        .chain(&out[dst_at + len..])
                        .all(|&b| b == 0xee),
                    "align {align} len {len}: a byte outside was written"
                );
            }
        }
    }

    #[test]
    fn masked_copy_matches_plain_loop_at_every_alignment_and_length() {
        let key = [0x5c, 0x00, 0xa7, 0x13];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 11 + 5) as u8).collect();
        for align in 0..32 {
            for len in 0..(300 - align) {
                let src = &source[align..align + len];
                let mut plain = src.to_vec();
                apply_mask_plain(&mut plain, key);
                // Into every alignment of the destination too, with guard
                // bytes either side that must not change.
                let dst_at = (align * 7) % 32;
                let mut out = vec![MaybeUninit::new(0xeeu8); len + 64];
                copy_masked(src, &mut out[dst_at..dst_at + len], key);
                // SAFETY: every element was initialised by `vec!` above.
                let out: Vec<u8> = out.iter().map(|b| unsafe { b.assume_init() }).collect();
                assert_eq!(
                    &out[dst_at..dst_at + len],
                    &plain[..],
                    "align {align} len {len}"
                );
                assert!(out[..dst_at]
                    .iter()
                    .chain(&out[dst_at + len..])
                    .all(|&b| b == 0xee));
            }
        }
    }
}
