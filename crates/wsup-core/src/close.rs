//! Close codes and close frames, RFC 6455 sections 5.5.1 and 7.4: the one
//! place where a close payload is parsed, checked, encoded, and its reason
//! truncated. Which close code a protocol error is answered with is the
//! error's own business ([`crate::ProtocolError::close_code`]).

use std::fmt;

/// A close status code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: going away (server shutting down, page navigated away).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED: CloseCode = CloseCode(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: the connection was lost without a close frame (never sent).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: data inconsistent with the message type (invalid UTF-8 text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: policy violation.
    pub const POLICY: CloseCode = CloseCode(1008);
    /// 1009: message too big.
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: an unexpected condition on the server.
    pub const INTERNAL: CloseCode = CloseCode(1011);
    /// 1012: service restart.
    pub const RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later.
    pub const AGAIN: CloseCode = CloseCode(1013);

    /// Whether this code may appear in a close frame on the wire: the codes
    /// defined by RFC 6455 and registered with IANA (1000-1003, 1007-1014) and
    /// the ranges for libraries and applications (3000-4999).
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u16> for CloseCode {
    fn from(v: u16) -> Self {
        CloseCode(v)
    }
}

impl From<CloseCode> for u16 {
    fn from(c: CloseCode) -> u16 {
        c.0
    }
}

/// The body of a close frame: a code and a UTF-8 reason of at most 123 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// Why, for people; may be empty.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with `code` and `reason`.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<String>) -> Self {
        CloseFrame {
            code: code.into(),
            reason: reason.into(),
        }
    }
}

/// Longest reason a close frame can carry: a control frame's 125 bytes less
/// the two of the code.
pub(crate) const MAX_REASON_LEN: usize = 123;

/// Longest close payload: a control frame's.
pub(crate) const MAX_PAYLOAD_LEN: usize = 125;

/// Why a received close payload is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvalidClose {
    /// One byte: half a code.
    OneByte,
    /// A code that may not be sent.
    Code(u16),
    /// The reason is not UTF-8.
    Utf8,
}

impl CloseFrame {
    /// Parses and checks a received close payload; `None` for an empty one.
    pub(crate) fn decode(payload: &[u8]) -> Result<Option<CloseFrame>, InvalidClose> {
        match payload {
            [] => Ok(None),
            [_] => Err(InvalidClose::OneByte),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_sendable() {
                    return Err(InvalidClose::Code(code.0));
                }
                let reason = std::str::from_utf8(reason).map_err(|_| InvalidClose::Utf8)?;
                Ok(Some(CloseFrame::new(code, reason)))
            }
        }
    }

    /// Whether the application may send `frame`: a sendable code and a
    /// reason that fits. `Err` says why not.
    pub(crate) fn check_sendable(frame: Option<&CloseFrame>) -> Result<(), &'static str> {
        match frame {
            Some(f) if !f.code.is_sendable() => Err("close code may not be sent"),
            Some(f) if f.reason.len() > MAX_REASON_LEN => Err("close reason over 123 bytes"),
            _ => Ok(()),
        }
    }

    /// Encodes the payload of a close frame into `out`, returning its
    /// length: nothing for `None`; a code that may not be sent becomes 1000,
    /// and a reason too long is cut at a character boundary.
    pub(crate) fn encode(frame: Option<&CloseFrame>, out: &mut [u8; MAX_PAYLOAD_LEN]) -> usize {
        let Some(f) = frame else { return 0 };
        let code = if f.code.is_sendable() {
            f.code
        } else {
            CloseCode::NORMAL
        };
        out[..2].copy_from_slice(&code.0.to_be_bytes());
        let reason = truncate_utf8(&f.reason, MAX_REASON_LEN);
        out[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
        2 + reason.len()
    }
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl fmt::Display for CloseFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} ({})", self.code, self.reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_follow_the_registry() {
        for ok in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
            4000, 4999,
        ] {
            assert!(CloseCode(ok).is_sendable(), "{ok}");
        }
        for bad in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!CloseCode(bad).is_sendable(), "{bad}");
        }
    }

    #[test]
    fn payloads_decode_encode_and_check() {
        assert_eq!(CloseFrame::decode(&[]), Ok(None));
        assert_eq!(CloseFrame::decode(&[3]), Err(InvalidClose::OneByte));
        assert_eq!(CloseFrame::decode(&[3, 237]), Err(InvalidClose::Code(1005)));
        assert_eq!(CloseFrame::decode(&[3, 232, 0xff]), Err(InvalidClose::Utf8));
        let frame = CloseFrame::new(CloseCode::GOING_AWAY, "bye");
        let mut out = [0u8; MAX_PAYLOAD_LEN];
        let n = CloseFrame::encode(Some(&frame), &mut out);
        assert_eq!(CloseFrame::decode(&out[..n]), Ok(Some(frame.clone())));
        assert_eq!(CloseFrame::encode(None, &mut out), 0);
        assert!(CloseFrame::check_sendable(Some(&frame)).is_ok());
        assert!(CloseFrame::check_sendable(Some(&CloseFrame::new(1006, ""))).is_err());
        // A reason too long to send is refused, and cut when encoded anyway
        // (at a character boundary: "é" is two bytes).
        let long = CloseFrame::new(CloseCode::NORMAL, "é".repeat(62));
        assert!(CloseFrame::check_sendable(Some(&long)).is_err());
        let n = CloseFrame::encode(Some(&long), &mut out);
        assert_eq!(n, 2 + 122);
        assert!(std::str::from_utf8(&out[2..n]).is_ok());
    }
}
