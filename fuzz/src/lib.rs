//! What the fuzz targets share: a scripted in-memory transport whose reads
//! and writes stop where the input says, polling without a runtime, and
//! the application calls a connection target interleaves with its input.

pub mod ops;
pub mod script;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls `fut` with a waker that does nothing, at most `polls` times: the
/// output, or `None` if it was still pending (it is then dropped, as an
/// application that gives up on a call does).
pub fn poll_some<F: Future>(fut: F, polls: usize) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..polls {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Some(v);
        }
    }
    None
}

/// A target's input as `[n] [n bytes of settings] [the rest: wire bytes]`:
/// the settings (read with `arbitrary`, defaults where they run out) and
/// the bytes. A seed of plain bytes after a zero byte runs with every
/// setting at its default.
pub fn split_input(data: &[u8]) -> (&[u8], &[u8]) {
    match data.split_first() {
        None => (&[], &[]),
        Some((&n, rest)) => rest.split_at(usize::from(n).min(rest.len())),
    }
}

/// The settings of a target's input (see [`split_input`]) and its bytes.
pub fn settings<'a, T: arbitrary::Arbitrary<'a>>(data: &'a [u8]) -> Option<(T, &'a [u8])> {
    let (settings, bytes) = split_input(data);
    let mut u = arbitrary::Unstructured::new(settings);
    Some((u.arbitrary().ok()?, bytes))
}

/// `data` cut at the sizes of `cuts` (the rest in one piece).
pub fn pieces<'a>(data: &'a [u8], cuts: &[u16]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts {
        let end = (at + usize::from(c)).min(data.len());
        out.push(&data[at..end]);
        at = end;
    }
    out.push(&data[at..]);
    out
}
