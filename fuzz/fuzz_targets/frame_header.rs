//! The frame header codec both ways: any header encodes to bytes that
//! parse back to it (or to the error its fields call for), and any bytes
//! that parse re-encode to themselves (lengths must be minimal), with
//! every strict prefix reported as incomplete.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wsup_core::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};

#[derive(Arbitrary, Debug)]
struct Header {
    fin: bool,
    rsv1: bool,
    rsv23: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload_len: u64,
}

// The settings are a header to encode; the bytes, one to parse.
fuzz_target!(|data: &[u8]| {
    let Some((h, bytes)) = wsup_fuzz::settings::<Header>(data) else {
        return;
    };

    // Encode, then parse.
    if let Some(opcode) = OpCode::from_u8(h.opcode & 0x0F) {
        let header = FrameHeader {
            fin: h.fin,
            rsv1: h.rsv1,
            rsv23: h.rsv23 & 0x3,
            opcode,
            mask: h.mask,
            payload_len: h.payload_len >> 1,
        };
        let mut out = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut out);
        let parsed = FrameHeader::parse(&out[..n]);
        let bad_control = opcode.is_control() && (!header.fin || header.payload_len > 125);
        match parsed {
            Ok(Some((p, used))) => {
                assert!(!bad_control, "{header:?} parsed");
                assert_eq!((p, used), (header, n));
            }
            Ok(None) => panic!("{header:?}: a whole header reported incomplete"),
            Err(e) => assert!(bad_control, "{header:?}: {e}"),
        }
        for cut in 0..n {
            assert!(FrameHeader::parse(&out[..cut]).unwrap().is_none());
        }
    }

    // Parse, then encode.
    if let Ok(Some((p, used))) = FrameHeader::parse(bytes) {
        let mut out = [0u8; MAX_HEADER_LEN];
        let n = p.encode(&mut out);
        assert_eq!(&out[..n], &bytes[..used], "{p:?}");
        for cut in 0..used {
            assert!(FrameHeader::parse(&bytes[..cut]).unwrap().is_none());
        }
    }
});
