//! The read window: spare capacity of the read buffer handed to `poll_read`.
//!
//! `futures_io::AsyncRead` reads into `&mut [u8]`, so the window must be
//! initialised first. Zeroing it before every read cost 10% of the 1 KiB echo
//! profile (`cargo xtask bench`, 100 connections): reads of 16 KiB into a
//! 64 KiB window zeroed four bytes for every byte read. [`Initialised`]
//! remembers how far the current allocation has ever been initialised, so
//! each byte of an allocation is zeroed at most once in its life.
//!
//! The record is an address range, checked against the buffer on every use:
//! the end of the allocation (`as_ptr() + capacity()`) identifies it, because
//! `BytesMut` only ever replaces an allocation with a new one while the old
//! one is still live (a fresh `Vec` for a shared buffer, or `realloc`), and
//! two live allocations cannot end at the same address. When the end moves,
//! the record restarts at the end of the buffered data.

use bytes::BytesMut;

/// How much of the read buffer's allocation is known to be initialised.
///
/// Invariant: every byte of the allocation ending at `alloc_end` that lies
/// below the address `init_end` is initialised. It holds when the record
/// starts (bytes below the end of the data were data once, or a consumed
/// prefix copied by `realloc`), zeroing a window extends it contiguously, and
/// nothing `BytesMut` does within one allocation de-initialises memory:
/// `split_to` and `advance` move the start forward over data, and reclaiming
/// copies the data back to the base.
#[derive(Debug, Default)]
pub(crate) struct Initialised {
    alloc_end: usize,
    init_end: usize,
}

impl Initialised {
    /// Extends `buf` by `window` bytes (at most its spare capacity) to read
    /// into, zeroing only the bytes never initialised before.
    pub(crate) fn extend(&mut self, buf: &mut BytesMut, window: usize) {
        let len = buf.len();
        let window = window.min(buf.capacity() - len);
        let data_end = buf.as_ptr() as usize + len;
        let alloc_end = buf.as_ptr() as usize + buf.capacity();
        if alloc_end != self.alloc_end {
            // Another allocation: only its data is known to be initialised.
            self.alloc_end = alloc_end;
            self.init_end = data_end;
        }
        let known = self.spare(buf).min(window);
        // SAFETY: `len + known <= capacity`, and the `known` bytes after the
        // data lie in this allocation below `init_end`, so they are
        // initialised (the invariant above). They belong to `buf` alone:
        // `Bytes` split off the front never reach past the data.
        unsafe { buf.set_len(len + known) };
        buf.resize(len + window, 0);
        self.init_end = self.init_end.max(data_end + window);
    }

    /// How many spare bytes after the data are initialised already (reading
    /// into them costs no zeroing).
    pub(crate) fn spare(&self, buf: &BytesMut) -> usize {
        let start = buf.as_ptr() as usize;
        if start + buf.capacity() != self.alloc_end {
            return 0;
        }
        self.init_end.saturating_sub(start + buf.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;

    #[test]
    fn zeroes_each_byte_once_and_keeps_what_was_read() {
        let mut buf = BytesMut::with_capacity(64);
        let mut init = Initialised::default();
        init.extend(&mut buf, 16);
        assert_eq!(&buf[..], &[0u8; 16]);
        buf[..4].copy_from_slice(b"abcd");
        buf.truncate(4);
        // The 12 bytes past the data are initialised: no zeroing needed.
        assert_eq!(init.spare(&buf), 12);
        buf[..].copy_from_slice(b"abcd");
        init.extend(&mut buf, 20);
        assert_eq!(buf.len(), 24);
        assert_eq!(&buf[..4], b"abcd");
        assert!(buf[4..].iter().all(|&b| b == 0));
        buf.truncate(10);
        buf.advance(10);
        assert_eq!(init.spare(&buf), 14);
    }

    #[test]
    fn a_new_allocation_starts_over() {
        let mut buf = BytesMut::with_capacity(32);
        let mut init = Initialised::default();
        init.extend(&mut buf, 32);
        buf.truncate(8);
        let kept = buf.split_to(8); // shared: the next reserve allocates
        buf.reserve(1024);
        assert_eq!(init.spare(&buf), 0);
        init.extend(&mut buf, 100);
        assert!(buf.iter().all(|&b| b == 0));
        assert_eq!(kept.len(), 8);
    }

    #[test]
    fn reclaiming_in_place_keeps_the_record() {
        let mut buf = BytesMut::with_capacity(4096);
        let mut init = Initialised::default();
        init.extend(&mut buf, 4096);
        buf.truncate(100);
        drop(buf.split_to(100).freeze());
        // Unique again: reserve reclaims the same allocation.
        buf.reserve(4000);
        assert_eq!(init.spare(&buf), 4096);
        init.extend(&mut buf, 4096);
        assert_eq!(buf.len(), 4096);
    }
}
