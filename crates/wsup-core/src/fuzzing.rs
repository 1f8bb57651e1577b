//! Crate-internal functions the fuzz targets in `fuzz/` call directly,
//! behind the `fuzzing` feature: not part of the API, no stability promised.

use bytes::BytesMut;

use crate::deflate::{self, Agreed, DeflateConfig, InflateError, Inflater};

/// The `Sec-WebSocket-Extensions` value a client with `config` offers
/// (`None` when compression is off).
pub fn offer_header(config: &DeflateConfig) -> Option<String> {
    deflate::offer_header(config)
}

/// The client's check of the server's `Sec-WebSocket-Extensions` values
/// against the offer made from `config`.
pub fn accept_answer<'a, I>(
    config: &DeflateConfig,
    values: I,
) -> Result<Option<Agreed>, &'static str>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    deflate::accept_answer(config, values)
}

/// [`Inflater::decompress`] appending at most `most` bytes, as a message
/// received in chunks is inflated: how much of `input` it took, and
/// whether it is done with it (its output all handed out).
pub fn decompress_some(
    inflater: &mut Inflater,
    input: &[u8],
    fin: bool,
    out: &mut BytesMut,
    limit: usize,
    most: usize,
) -> Result<(usize, bool), InflateError> {
    inflater
        .decompress_some(input, fin, out, limit, most)
        .map(|i| (i.consumed, i.done))
}
