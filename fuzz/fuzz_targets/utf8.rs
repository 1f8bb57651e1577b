//! The incremental UTF-8 validator against `std::str::from_utf8`, the
//! input fed in pieces cut at arbitrary points: each piece is refused
//! exactly when the bytes so far can no longer begin valid UTF-8, and the
//! end is accepted exactly when the whole is valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsup_core::utf8::Utf8Validator;

/// Whether `bytes` is valid UTF-8 or a prefix of some.
fn valid_prefix(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

// The settings are the sizes of the pieces; the bytes are the text.
fuzz_target!(|data: &[u8]| {
    let (cuts, bytes) = wsup_fuzz::split_input(data);
    let mut v = Utf8Validator::new();
    let mut at = 0usize;
    let mut cuts = cuts.iter().map(|&c| usize::from(c));
    loop {
        let end = at
            .saturating_add(cuts.next().unwrap_or(usize::MAX))
            .min(bytes.len());
        let ok = v.feed(&bytes[at..end]).is_ok();
        assert_eq!(
            ok,
            valid_prefix(&bytes[..end]),
            "pieces up to {end} of {bytes:x?}"
        );
        if !ok {
            return;
        }
        at = end;
        if at == bytes.len() {
            break;
        }
    }
    assert_eq!(
        v.finish().is_ok(),
        std::str::from_utf8(bytes).is_ok(),
        "{bytes:x?}"
    );
    // finish resets: the validator starts the next message afresh.
    assert!(v.feed(b"ok").is_ok() && v.finish().is_ok());
});
