//! permessage-deflate in the client role: a client connection and a server
//! connection made from the same agreement, in memory, each reading what
//! the other wrote. Each side must compress with its own window and context
//! takeover, which shows on the wire: a repeat further back than the window
//! stays uncompressed, and a message sent again compresses to almost
//! nothing only where the context is kept.

use crate::role::Role;
use bytes::Bytes;
use futures_executor::block_on;
use wsup_testkit::{noise, parse_frames, Frame, OP_BINARY, OP_CONT, OP_TEXT, RSV1};

use super::client_tests::client_frames;
use super::{MessageKind, WebSocket};
use crate::config::WebSocketConfig;
use crate::deflate::{negotiate, parse_offers, Agreed, DeflateConfig};
use crate::message::Message;
use crate::prepared::PreparedMessage;

type Mem = wsup_testkit::Mem;

/// A client and a server that agreed on `offer` under `config`.
fn pair(offer: &str, config: &DeflateConfig) -> (WebSocket<Mem>, WebSocket<Mem>, Agreed) {
    let agreed = negotiate(&parse_offers(&[offer]), config).expect("offer accepted");
    let mem = || Mem::new(Vec::new(), 4096);
    let cfg = WebSocketConfig::default;
    let mut client = WebSocket::from_raw(mem(), Role::Client, Bytes::new(), cfg(), None);
    client.enable_deflate(agreed, config, None);
    let mut server = WebSocket::from_raw(mem(), Role::Server, Bytes::new(), cfg(), None);
    server.enable_deflate(agreed, config, None);
    (client, server, agreed)
}

/// Hands what `from` wrote to `to` as input; returns it.
fn deliver(from: &mut WebSocket<Mem>, to: &mut WebSocket<Mem>) -> Vec<u8> {
    let out = std::mem::take(&mut from.get_mut().output);
    to.get_mut().input.extend_from_slice(&out);
    out
}

/// Sends `msgs` from `from`, delivers them, and checks `to` receives them
/// as sent; returns the frames on the wire.
fn exchange(from: &mut WebSocket<Mem>, to: &mut WebSocket<Mem>, msgs: &[Message]) -> Vec<u8> {
    block_on(async {
        for m in msgs {
            from.send(m.clone()).await.unwrap();
        }
    });
    let wire = deliver(from, to);
    for m in msgs {
        assert_eq!(&block_on(to.recv()).unwrap(), m);
    }
    wire
}

/// The server's frames: never masked.
fn server_frames(out: &[u8]) -> Vec<Frame> {
    let frames = parse_frames(out);
    assert!(frames.iter().all(|f| !f.masked), "a server frame masked");
    frames
}

/// What each side's codec was built with: (compressor window, no
/// takeover), (decompressor window, no takeover).
type Codec = ((u8, bool), (u8, bool));

fn codec(ws: &mut WebSocket<Mem>) -> Codec {
    let proto = &mut ws.driver.proto;
    let i = proto.inflater().expect("deflate on");
    let inflate = (i.window_bits(), i.no_context_takeover());
    let d = &proto.deflate_mut().expect("deflate on").deflater;
    ((d.window_bits(), d.no_context_takeover()), inflate)
}

/// Two copies of 3000 bytes that do not compress: a window of 4 KiB finds
/// the second copy, one of 1 KiB cannot.
fn repeat_at_3000() -> Vec<u8> {
    let block = noise(3000);
    [&block[..], &block[..]].concat()
}

#[test]
fn each_side_compresses_with_its_own_window() {
    let config = DeflateConfig::enabled().threshold(0);
    let offer = "permessage-deflate; client_max_window_bits=10; server_max_window_bits=12";
    let (mut client, mut server, agreed) = pair(offer, &config);
    assert_eq!(
        (agreed.client_max_window_bits, agreed.server_max_window_bits),
        (10, 12)
    );
    assert_eq!(codec(&mut client), ((10, false), (12, false)));
    assert_eq!(codec(&mut server), ((12, false), (10, false)));

    let data = Message::binary(repeat_at_3000());
    let text = Message::text("the same words again and again; ".repeat(100));
    let msgs = [data, text.clone(), text];

    let wire = exchange(&mut client, &mut server, &msgs);
    let frames = client_frames(&wire);
    assert!(frames.iter().all(|f| f.rsv & RSV1 != 0), "{frames:?}");
    // The client's 1 KiB window cannot reach the repeat.
    assert!(
        frames[0].payload.len() > 5500,
        "{}",
        frames[0].payload.len()
    );

    let wire = exchange(&mut server, &mut client, &msgs);
    let frames = server_frames(&wire);
    assert!(frames.iter().all(|f| f.rsv & RSV1 != 0));
    // The server's 4 KiB window does.
    assert!(
        frames[0].payload.len() < 3500,
        "{}",
        frames[0].payload.len()
    );

    // A message the client streams is compressed frame by frame, masked.
    block_on(async {
        use futures_util::AsyncWriteExt;
        let mut w = client.message_writer(MessageKind::Text, 1000);
        w.write_all("streamed text, streamed text. ".repeat(100).as_bytes())
            .await
            .unwrap();
        w.close().await.unwrap();
    });
    let wire = deliver(&mut client, &mut server);
    let frames = client_frames(&wire);
    assert_eq!(frames.len(), 3);
    assert_eq!((frames[0].opcode, frames[0].rsv), (OP_TEXT, RSV1));
    assert!(frames[1..]
        .iter()
        .all(|f| f.opcode == OP_CONT && f.rsv == 0));
    assert_eq!(
        block_on(server.recv()).unwrap(),
        Message::text("streamed text, streamed text. ".repeat(100))
    );
}

/// A message sent twice: with its context kept, the second copy is a
/// reference to the first.
fn sizes_of_a_repeat(from: &mut WebSocket<Mem>, to: &mut WebSocket<Mem>) -> (usize, usize) {
    let msg = Message::binary(noise(2000));
    let wire = exchange(from, to, &[msg.clone(), msg]);
    let frames = parse_frames(&wire);
    assert!(frames
        .iter()
        .all(|f| f.opcode == OP_BINARY && f.rsv == RSV1));
    (frames[0].payload.len(), frames[1].payload.len())
}

#[test]
fn client_no_context_takeover_resets_the_client_only() {
    let config = DeflateConfig::enabled().threshold(0);
    let offer = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
    let (mut client, mut server, agreed) = pair(offer, &config);
    assert!(agreed.client_no_context_takeover && !agreed.server_no_context_takeover);
    assert_eq!(codec(&mut client), ((15, true), (15, false)));
    assert_eq!(codec(&mut server), ((15, false), (15, true)));

    let (first, second) = sizes_of_a_repeat(&mut client, &mut server);
    assert!(
        second >= first,
        "client kept its context: {first} then {second}"
    );
    let (first, second) = sizes_of_a_repeat(&mut server, &mut client);
    assert!(second < first / 10, "server reset: {first} then {second}");

    // A prepared message is compressed once for no-context-takeover
    // senders: the client's copy is masked, the prepared frame untouched.
    let prepared = PreparedMessage::text("prepared, prepared, prepared. ".repeat(50));
    block_on(client.send_prepared(&prepared)).unwrap();
    block_on(client.send_prepared(&prepared)).unwrap();
    let frames = client_frames(&deliver(&mut client, &mut server));
    assert!(frames.iter().all(|f| f.rsv == RSV1));
    assert_eq!(frames[0].payload, frames[1].payload);
    for _ in 0..2 {
        let got = block_on(server.recv()).unwrap();
        assert_eq!(
            got,
            Message::text("prepared, prepared, prepared. ".repeat(50))
        );
    }
}

#[test]
fn server_no_context_takeover_resets_the_server_only() {
    let config = DeflateConfig::enabled().threshold(0);
    let offer = "permessage-deflate; server_no_context_takeover; server_max_window_bits=11";
    let (mut client, mut server, agreed) = pair(offer, &config);
    assert!(!agreed.client_no_context_takeover && agreed.server_no_context_takeover);
    assert_eq!(codec(&mut client), ((15, false), (11, true)));
    assert_eq!(codec(&mut server), ((11, true), (15, false)));

    let (first, second) = sizes_of_a_repeat(&mut client, &mut server);
    assert!(second < first / 10, "client reset: {first} then {second}");
    let (first, second) = sizes_of_a_repeat(&mut server, &mut client);
    assert!(
        second >= first,
        "server kept its context: {first} then {second}"
    );

    // With its context kept, a prepared message is compressed in the
    // client's stream (bytes it has not sent before: noise reversed).
    let fresh: Vec<u8> = noise(2000).into_iter().rev().collect();
    let prepared = PreparedMessage::binary(fresh.clone());
    block_on(client.send_prepared(&prepared)).unwrap();
    block_on(client.send_prepared(&prepared)).unwrap();
    let frames = client_frames(&deliver(&mut client, &mut server));
    assert!(frames[1].payload.len() < frames[0].payload.len() / 10);
    for _ in 0..2 {
        assert_eq!(
            block_on(server.recv()).unwrap(),
            Message::binary(fresh.clone())
        );
    }
}

/// A client held to an 8-bit window (which zlib cannot compress with)
/// sends its messages uncompressed, and still reads the server's.
#[test]
fn a_client_window_of_8_bits_sends_uncompressed() {
    let config = DeflateConfig::enabled().threshold(0);
    let offer = "permessage-deflate; client_max_window_bits=8";
    let (mut client, mut server, agreed) = pair(offer, &config);
    assert_eq!(agreed.client_max_window_bits, 8);
    client.set_write_compression(true);
    let text = Message::text("eight bits, eight bits, eight bits. ".repeat(20));
    let wire = exchange(&mut client, &mut server, std::slice::from_ref(&text));
    assert_eq!(client_frames(&wire)[0].rsv, 0);
    let wire = exchange(&mut server, &mut client, &[text]);
    assert_eq!(server_frames(&wire)[0].rsv, RSV1);
}
