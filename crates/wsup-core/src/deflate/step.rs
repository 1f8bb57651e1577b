//! [`step()`]: one zlib call with a sync flush into the end of a buffer, the
//! same for the deflater and the inflater.

use bytes::BytesMut;
use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};

/// A zlib stream, either way.
pub(super) trait Zlib {
    type Error;
    /// One call with a sync flush.
    fn sync(&mut self, input: &[u8], output: &mut [u8]) -> Result<Status, Self::Error>;
    /// Bytes taken in and put out since the stream began.
    fn totals(&self) -> (u64, u64);
}

/// [`Zlib`] for flate2's two directions, which have the same shape.
macro_rules! zlib {
    ($stream:ty, $error:ty, $call:ident, $flush:expr) => {
        impl Zlib for $stream {
            type Error = $error;

            fn sync(&mut self, input: &[u8], output: &mut [u8]) -> Result<Status, Self::Error> {
                self.$call(input, output, $flush)
            }

            fn totals(&self) -> (u64, u64) {
                (self.total_in(), self.total_out())
            }
        }
    };
}

zlib!(
    Compress,
    flate2::CompressError,
    compress,
    FlushCompress::Sync
);
zlib!(
    Decompress,
    flate2::DecompressError,
    decompress,
    FlushDecompress::Sync
);

/// Runs `z` once over `input` with `room` bytes of output space offered at
/// the end of `out`, which keeps only what zlib wrote: the input taken, the
/// output made, and zlib's answer.
#[inline]
pub(super) fn step<Z: Zlib>(
    z: &mut Z,
    input: &[u8],
    out: &mut BytesMut,
    room: usize,
) -> (usize, usize, Result<Status, Z::Error>) {
    let len = out.len();
    out.resize(len + room, 0);
    let (in0, out0) = z.totals();
    let result = z.sync(input, &mut out[len..]);
    let (in1, out1) = z.totals();
    let (consumed, produced) = ((in1 - in0) as usize, (out1 - out0) as usize);
    out.truncate(len + produced);
    (consumed, produced, result)
}
