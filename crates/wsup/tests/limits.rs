//! Size limits: message size (whole and across fragments), frame size and
//! fragment count. At the limit is accepted; one byte (or fragment) over
//! closes with 1009 and reports the limit to the application.

mod harness;

use harness::raw::{OP_BINARY, OP_CONT, OP_TEXT};
use harness::*;
use wsup::{Error, ProtocolError};

fn assert_protocol<R: Rt>(err: &Error, expected: &ProtocolError) {
    match err {
        Error::Protocol(p) => assert_eq!(p, expected, "[{}]", R::NAME),
        other => panic!("[{}] expected {expected:?}, got {other:?}", R::NAME),
    }
}

/// Reads until the server's close frame, which must be 1009, and the
/// server's error, which must name the 1024-byte message limit. Returns the
/// messages before the close.
async fn closed_over_1024<R: Rt>(
    mut ws: Client<R>,
    server: BoxFut<Result<Option<wsup::CloseFrame>, Error>>,
) -> Vec<ClientMsg> {
    let (before, close) = client_until_close::<R>(&mut ws).await;
    assert_eq!(close.map(|c| c.0), Some(1009), "[{}]", R::NAME);
    drop(ws);
    let err = server.await.expect_err("connection fails");
    assert_protocol::<R>(&err, &ProtocolError::MessageTooLarge { limit: 1024 });
    before
}

/// async-tungstenite sends 1024 bytes (echoed) and then 2000 bytes against
/// `max_message_size(1024)`: it receives close code 1009.
async fn message_over_limit_closes_1009<R: Rt>() {
    for text in [false, true] {
        let (addr, server) =
            serve_ws::<R, _, _, _>(upgrader::<R>().max_message_size(1024), echo).await;
        let mut ws = connect::<R>(addr).await;
        let (ok, over) = if text {
            (
                ClientMsg::text(text_pattern(1024, 1)),
                ClientMsg::text(text_pattern(2000, 2)),
            )
        } else {
            (
                ClientMsg::binary(pattern(1024, 1)),
                ClientMsg::binary(pattern(2000, 2)),
            )
        };
        ws.send(ok.clone()).await.unwrap();
        assert_eq!(
            client_next::<R>(&mut ws).await,
            ok,
            "[{}] message at the limit",
            R::NAME
        );
        ws.send(over).await.unwrap();
        let before = closed_over_1024::<R>(ws, server).await;
        assert!(before.is_empty(), "[{}] text: {text}: {before:?}", R::NAME);
    }
}

/// Fragments each under the limit whose total passes it: 1009. A
/// fragmented message under the limit is echoed first.
async fn fragmented_message_over_limit_closes_1009<R: Rt>() {
    let bytes = [
        masked(false, OP_BINARY, &[1; 300]),
        masked(false, OP_CONT, &[2; 300]),
        masked(true, OP_CONT, &[3; 300]),
        masked(false, OP_TEXT, &[b'a'; 600]),
        masked(false, OP_CONT, &[b'b'; 600]),
        masked(true, OP_CONT, &[b'c'; 600]),
    ]
    .concat();
    let (before, err) = violation::<R>(upgrader::<R>().max_message_size(1024), bytes, 1009).await;
    assert_eq!(before.len(), 1, "[{}] {before:?}", R::NAME);
    assert_eq!(before[0].payload, [[1u8; 300], [2; 300], [3; 300]].concat());
    assert_protocol::<R>(&err, &ProtocolError::MessageTooLarge { limit: 1024 });
}

/// Also through async-tungstenite's own fragments: four of 600 bytes.
async fn fragmented_over_limit_from_client_library<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>().max_message_size(1024), echo).await;
    let mut ws = connect::<R>(addr).await;
    for i in 0..4 {
        let frame = fragment(i, Data::Binary, vec![i as u8; 600], i == 3);
        // The server may close before the last fragments: ignore send errors.
        let _ = ws.send(frame).await;
    }
    closed_over_1024::<R>(ws, server).await;
}

/// `max_frame_size(1000)`: a 1500-byte message in 500-byte frames passes;
/// a single 1001-byte frame closes with 1009.
async fn frame_over_limit_closes_1009<R: Rt>() {
    let bytes = [
        masked(false, OP_BINARY, &[7; 500]),
        masked(false, OP_CONT, &[8; 500]),
        masked(true, OP_CONT, &[9; 500]),
        masked(true, OP_BINARY, &[0; 1000]),
        masked(true, OP_BINARY, &[0; 1001]),
    ]
    .concat();
    let (before, err) = violation::<R>(upgrader::<R>().max_frame_size(1000), bytes, 1009).await;
    assert_eq!(before.len(), 2, "[{}] {before:?}", R::NAME);
    assert_eq!(before[0].payload, [[7u8; 500], [8; 500], [9; 500]].concat());
    assert_eq!(before[1].payload.len(), 1000);
    assert_protocol::<R>(
        &err,
        &ProtocolError::FrameTooLarge {
            len: 1001,
            limit: 1000,
        },
    );
}

/// `max_fragments(4)`: four fragments pass, five close with 1009.
async fn too_many_fragments_closes_1009<R: Rt>() {
    let frames = |n: usize, byte: u8| -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                masked(
                    i + 1 == n,
                    if i == 0 { OP_BINARY } else { OP_CONT },
                    &[byte; 10],
                )
            })
            .collect()
    };
    let bytes = [frames(4, 1), frames(5, 2)].concat();
    let (before, err) = violation::<R>(upgrader::<R>().max_fragments(4), bytes, 1009).await;
    assert_eq!(before.len(), 1, "[{}] {before:?}", R::NAME);
    assert_eq!(before[0].payload, vec![1u8; 40]);
    assert_protocol::<R>(&err, &ProtocolError::TooManyFragments { limit: 4 });
}

/// A header declaring a terabyte payload is refused on sight (1009), with
/// no payload sent and nothing allocated for it.
async fn huge_declared_length_closes_1009_at_once<R: Rt>() {
    let len: u64 = 1 << 40;
    let mut bytes = vec![0x82, 0x80 | 127];
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    let (_, err) = violation::<R>(upgrader::<R>(), bytes, 1009).await;
    assert_protocol::<R>(
        &err,
        &ProtocolError::FrameTooLarge {
            len,
            limit: 16 << 20,
        },
    );
}

/// The binding's own upgrader, no limit set: a 1 MiB message passes, in
/// one frame or in fragments; a message of two 600 KiB fragments is over
/// the default message limit (1009), and so is a single frame of 1 MiB and
/// one byte; a frame past the default frame limit (the message limit and
/// the room compression needs) is refused from its header.
async fn the_defaults_take_1_mib_and_refuse_more<R: Rt>() {
    let mib = 1 << 20;
    let half = vec![5u8; mib / 2];
    let fragments = [
        masked(false, OP_BINARY, &half),
        masked(true, OP_CONT, &half),
    ]
    .concat();
    let bytes = [
        masked(true, OP_BINARY, &vec![4u8; mib]),
        fragments,
        masked(false, OP_BINARY, &vec![6u8; 600 << 10]),
        masked(true, OP_CONT, &vec![7u8; 600 << 10]),
    ]
    .concat();
    let (before, err) = violation::<R>(R::upgrader(), bytes, 1009).await;
    assert_eq!(before.len(), 2, "[{}]", R::NAME);
    assert!(
        before.iter().all(|f| f.payload.len() == mib),
        "[{}]",
        R::NAME
    );
    assert_protocol::<R>(&err, &ProtocolError::MessageTooLarge { limit: mib });

    let bytes = masked(true, OP_BINARY, &vec![8u8; mib + 1]);
    let (before, err) = violation::<R>(R::upgrader(), bytes, 1009).await;
    assert!(before.is_empty(), "[{}]", R::NAME);
    assert_protocol::<R>(&err, &ProtocolError::MessageTooLarge { limit: mib });

    let frame_limit = R::upgrader().websocket_config().max_frame_size();
    assert_eq!(frame_limit, mib + 1024 + 64, "[{}]", R::NAME);
    let bytes = masked(true, OP_BINARY, &vec![9u8; frame_limit + 1]);
    let (before, err) = violation::<R>(R::upgrader(), bytes, 1009).await;
    assert!(before.is_empty(), "[{}]", R::NAME);
    assert_protocol::<R>(
        &err,
        &ProtocolError::FrameTooLarge {
            len: frame_limit as u64 + 1,
            limit: frame_limit,
        },
    );
}

runtime_tests!(
    the_defaults_take_1_mib_and_refuse_more,
    message_over_limit_closes_1009,
    fragmented_message_over_limit_closes_1009,
    fragmented_over_limit_from_client_library,
    frame_over_limit_closes_1009,
    too_many_fragments_closes_1009,
    huge_declared_length_closes_1009_at_once,
);
