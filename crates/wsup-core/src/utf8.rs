//! Incremental UTF-8 validation for text messages that arrive in pieces.
//!
//! Text is checked as each piece of payload arrives (fragments, or parts of
//! one frame still in flight), so an invalid sequence fails the connection as
//! soon as it is seen (Autobahn 6.4.x), not when the message is complete. Up
//! to three bytes of an unfinished code point are carried to the next piece.

/// Validates a byte stream piece by piece.
#[derive(Debug, Default, Clone)]
pub struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

/// The input is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

/// How long a sequence starting with `b` is (0 for a byte that cannot start one).
fn sequence_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next piece. Errors as soon as the bytes seen so far cannot be
    /// the prefix of valid UTF-8.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            let have = self.partial_len as usize;
            let need = sequence_len(self.partial[0]);
            let take = (need - have).min(input.len());
            self.partial[have..have + take].copy_from_slice(&input[..take]);
            input = &input[take..];
            let filled = have + take;
            match simdutf8::compat::from_utf8(&self.partial[..filled]) {
                Ok(_) => self.partial_len = 0,
                Err(e) if e.error_len().is_none() => {
                    // Still a valid prefix; the whole input went into it.
                    self.partial_len = filled as u8;
                    return Ok(());
                }
                Err(_) => return Err(InvalidUtf8),
            }
        }
        match simdutf8::compat::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) => match e.error_len() {
                Some(_) => Err(InvalidUtf8),
                None => {
                    let tail = &input[e.valid_up_to()..];
                    self.partial[..tail.len()].copy_from_slice(tail);
                    self.partial_len = tail.len() as u8;
                    Ok(())
                }
            },
        }
    }

    /// Checks that the message ended on a code point boundary, and resets.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.partial_len == 0;
        self.partial_len = 0;
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }

    /// Forgets any partial state.
    pub fn reset(&mut self) {
        self.partial_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_all_splits(bytes: &[u8]) -> bool {
        let expected = std::str::from_utf8(bytes).is_ok();
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                let mut v = Utf8Validator::new();
                let ok = v.feed(&bytes[..a]).is_ok()
                    && v.feed(&bytes[a..b]).is_ok()
                    && v.feed(&bytes[b..]).is_ok()
                    && v.finish().is_ok();
                assert_eq!(ok, expected, "{bytes:x?} split at {a},{b}");
            }
        }
        expected
    }

    #[test]
    fn agrees_with_std_for_every_three_way_split() {
        assert!(check_all_splits("Hello-µ@ßöäüàá-UTF-8!!".as_bytes()));
        assert!(check_all_splits("κόσμε 𝄞 €".as_bytes()));
        assert!(!check_all_splits(
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"
        ));
        assert!(!check_all_splits(b"\xf4\x90\x80\x80"));
        assert!(!check_all_splits(b"abc\xc0\xaf"));
        assert!(!check_all_splits(b"\xe0\x80"));
    }

    #[test]
    fn fails_fast_on_a_bad_prefix_before_the_message_ends() {
        // Autobahn 6.4.1: the first piece is valid, the second already cannot
        // be the start of a code point beyond U+10FFFF.
        let mut v = Utf8Validator::new();
        assert!(v
            .feed(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")
            .is_ok());
        assert_eq!(v.feed(b"\xf4\x90"), Err(InvalidUtf8));
        // A byte at a time.
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"\xf4").is_ok());
        assert_eq!(v.feed(b"\x90"), Err(InvalidUtf8));
    }

    #[test]
    fn an_unfinished_code_point_at_the_end_is_invalid() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"ok\xe2\x82").is_ok());
        assert_eq!(v.finish(), Err(InvalidUtf8));
        // And finish resets for the next message.
        assert!(v.feed(b"fine").is_ok());
        assert!(v.finish().is_ok());
    }
}
