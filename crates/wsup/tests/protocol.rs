//! Protocol violations from the client, written as raw frames: each must
//! fail the connection with the right close code (1007 for invalid UTF-8,
//! 1002 for the rest) and report the matching error to the application.

mod harness;

use harness::raw::{encode_frame, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT};
use harness::*;
use wsup::{Error, ProtocolError};

fn assert_protocol<R: Rt>(err: &Error, expected: &ProtocolError) {
    match err {
        Error::Protocol(p) => assert_eq!(p, expected, "[{}]", R::NAME),
        other => panic!("[{}] expected {expected:?}, got {other:?}", R::NAME),
    }
}

/// Invalid UTF-8 in text: in one frame, across fragments, cut short at the
/// end, as an encoded surrogate, as an overlong form.
async fn invalid_utf8_text_closes_1007<R: Rt>() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("single frame", masked(true, OP_TEXT, b"ok\xFF")),
        (
            "second fragment",
            [
                masked(false, OP_TEXT, b"abc"),
                masked(true, OP_CONT, b"\xC0\xAF"),
            ]
            .concat(),
        ),
        (
            "split sequence, bad continuation",
            [
                masked(false, OP_TEXT, b"\xE2"),
                masked(true, OP_CONT, b"\x28\xA1"),
            ]
            .concat(),
        ),
        (
            "truncated at the end",
            masked(true, OP_TEXT, b"euro \xE2\x82"),
        ),
        ("surrogate", masked(true, OP_TEXT, b"\xED\xA0\x80")),
    ];
    for (what, bytes) in cases {
        let (before, err) = violation::<R>(upgrader::<R>(), bytes, 1007).await;
        assert!(before.is_empty(), "[{}] {what}: {before:?}", R::NAME);
        assert_protocol::<R>(&err, &ProtocolError::InvalidUtf8);
    }
}

/// Fail fast: invalid UTF-8 in a non-final fragment closes the connection
/// at once, without waiting for the message to end.
async fn invalid_utf8_fails_fast_mid_message<R: Rt>() {
    let bytes = masked(
        false,
        OP_TEXT,
        b"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80",
    );
    let (_, err) = violation::<R>(upgrader::<R>(), bytes, 1007).await;
    assert_protocol::<R>(&err, &ProtocolError::InvalidUtf8);
}

/// A close reason that is not UTF-8.
async fn invalid_utf8_close_reason_closes_1007<R: Rt>() {
    let (_, err) = violation::<R>(
        upgrader::<R>(),
        masked(true, OP_CLOSE, b"\x03\xE8\xFF\xFE"),
        1007,
    )
    .await;
    assert_protocol::<R>(&err, &ProtocolError::InvalidUtf8);
}

/// Valid text just before a violation is still delivered: the check is per
/// message, not a blanket refusal.
async fn valid_text_before_violation_is_echoed<R: Rt>() {
    let bytes = [
        masked(true, OP_TEXT, "ünïcödé €😀".as_bytes()),
        masked(true, OP_TEXT, b"\xFF"),
    ]
    .concat();
    let (before, _) = violation::<R>(upgrader::<R>(), bytes, 1007).await;
    assert_eq!(before.len(), 1, "[{}] {before:?}", R::NAME);
    assert_eq!(before[0].payload, "ünïcödé €😀".as_bytes());
}

async fn unmasked_frame_closes_1002<R: Rt>() {
    let bytes = encode_frame(true, 0, OP_TEXT, None, b"not masked");
    let (_, err) = violation::<R>(upgrader::<R>(), bytes, 1002).await;
    assert_protocol::<R>(&err, &ProtocolError::UnmaskedFrame);
}

/// RSV1, RSV2, RSV3 with no extension negotiated, on data and control frames.
async fn reserved_bits_close_1002<R: Rt>() {
    for (rsv, opcode) in [
        (4u8, OP_TEXT),
        (2, OP_BINARY),
        (1, OP_TEXT),
        (7, OP_BINARY),
        (4, OP_PING),
    ] {
        let bytes = encode_frame(true, rsv, opcode, Some([9, 8, 7, 6]), b"x");
        let (_, err) = violation::<R>(upgrader::<R>(), bytes, 1002).await;
        assert_protocol::<R>(&err, &ProtocolError::ReservedBits);
    }
}

async fn unknown_opcodes_close_1002<R: Rt>() {
    for op in [0x3u8, 0x7, 0xB, 0xF] {
        let (_, err) = violation::<R>(upgrader::<R>(), masked(true, op, b""), 1002).await;
        assert_protocol::<R>(&err, &ProtocolError::UnknownOpcode(op));
    }
}

async fn continuation_without_start_closes_1002<R: Rt>() {
    let (_, err) = violation::<R>(upgrader::<R>(), masked(true, OP_CONT, b"orphan"), 1002).await;
    assert_protocol::<R>(&err, &ProtocolError::UnexpectedContinuation);
}

async fn new_message_inside_fragmented_closes_1002<R: Rt>() {
    let bytes = [
        masked(false, OP_TEXT, b"start"),
        masked(true, OP_BINARY, b"intruder"),
    ]
    .concat();
    let (_, err) = violation::<R>(upgrader::<R>(), bytes, 1002).await;
    assert_protocol::<R>(&err, &ProtocolError::ExpectedContinuation);
}

async fn fragmented_control_frame_closes_1002<R: Rt>() {
    let (_, err) = violation::<R>(upgrader::<R>(), masked(false, OP_PING, b"half"), 1002).await;
    assert_protocol::<R>(&err, &ProtocolError::FragmentedControl);
}

async fn control_frame_over_125_closes_1002<R: Rt>() {
    let (_, err) = violation::<R>(upgrader::<R>(), masked(true, OP_PING, &[0u8; 126]), 1002).await;
    assert_protocol::<R>(&err, &ProtocolError::ControlTooLong);
}

/// Close frames with a one-byte payload or a code that may not be sent.
async fn invalid_close_frames_close_1002<R: Rt>() {
    let (_, err) = violation::<R>(upgrader::<R>(), masked(true, OP_CLOSE, &[0x03]), 1002).await;
    assert_protocol::<R>(&err, &ProtocolError::InvalidClosePayload);
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
        let (_, err) = violation::<R>(
            upgrader::<R>(),
            masked(true, OP_CLOSE, &code.to_be_bytes()),
            1002,
        )
        .await;
        assert_protocol::<R>(&err, &ProtocolError::InvalidCloseCode(code));
    }
}

/// A 16-bit length used for a payload that fits in 7 bits.
async fn non_minimal_length_closes_1002<R: Rt>() {
    let mut bytes = vec![0x81, 0x80 | 126, 0, 5, 1, 2, 3, 4];
    bytes.extend(
        b"hello"
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ [1u8, 2, 3, 4][i % 4]),
    );
    let (_, err) = violation::<R>(upgrader::<R>(), bytes, 1002).await;
    assert_protocol::<R>(&err, &ProtocolError::NonMinimalLength);
}

runtime_tests!(
    invalid_utf8_text_closes_1007,
    invalid_utf8_fails_fast_mid_message,
    invalid_utf8_close_reason_closes_1007,
    valid_text_before_violation_is_echoed,
    unmasked_frame_closes_1002,
    reserved_bits_close_1002,
    unknown_opcodes_close_1002,
    continuation_without_start_closes_1002,
    new_message_inside_fragmented_closes_1002,
    fragmented_control_frame_closes_1002,
    control_frame_over_125_closes_1002,
    invalid_close_frames_close_1002,
    non_minimal_length_closes_1002,
);
