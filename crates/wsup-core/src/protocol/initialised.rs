//! The record of how much of the read buffer's allocation is initialised,
//! so that a read may go into spare capacity that was zeroed once rather
//! than before every read (see [`Initialised`]). The read buffer
//! (`read_buf.rs`) keeps one beside its `BytesMut`.

use bytes::BytesMut;

/// How much of the read buffer's allocation is known to be initialised.
///
/// A read goes into `&mut [u8]`, so the window must be initialised first.
/// Zeroing it before every read zeroed four bytes for every byte read (reads
/// of 16 KiB into a 64 KiB window); this record remembers how far the
/// current allocation has ever been initialised, so each byte of an
/// allocation is zeroed at most once in its life.
///
/// The record is an address range, checked against the buffer on every use.
/// The end of the allocation (`as_ptr() + capacity()`) identifies it while
/// it grows, because `BytesMut` only ever replaces an allocation with a new
/// one while the old one is still live (a fresh `Vec` for a shared buffer,
/// or `realloc`), and two live allocations cannot end at the same address;
/// when it moves, the record restarts at the end of the buffered data. A
/// buffer replaced from outside (released, then a new one allocated, which
/// could end where the freed one did) goes through `ReadBuf::replace` (`read_buf.rs`),
/// which resets the record; nothing else can replace it (the decoder sees
/// only a `Buffered` view).
///
/// Invariant: every byte of the allocation ending at `alloc_end` that lies
/// below the address `init_end` is initialised. It holds when the record
/// starts (bytes below the end of the data were data once, or a consumed
/// prefix copied by `realloc`), zeroing a window extends it contiguously, and
/// nothing `BytesMut` does within one allocation de-initialises memory:
/// `split_to` and `advance` move the start forward over data, `clear` and
/// `truncate` leave the bytes past the new end as they were, and reclaiming
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
        debug_assert!(self.init_end >= data_end && self.init_end <= alloc_end);
        // SAFETY: `len + known <= capacity`, and the `known` bytes after the
        // data lie in this allocation (the same end) below
        // `init_end`, so they are initialised (the invariant above). They
        // belong to `buf` alone: `Bytes` split off the front never reach
        // past the data.
        unsafe { buf.set_len(len + known) };
        buf.resize(len + window, 0);
        self.init_end = self.init_end.max(data_end + window);
    }

    /// `(alloc_end, init_end)`: the record itself, for the read buffer's
    /// tests.
    #[cfg(test)]
    pub(crate) fn ends(&self) -> (usize, usize) {
        (self.alloc_end, self.init_end)
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
