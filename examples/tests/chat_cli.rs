//! The `chat` program as a browser and other clients use it: the page, a
//! room's messages to every member of it (the sender included, byte for
//! byte) and to no one else, the member count, the refusals (no room: 400;
//! another origin: 403). Two nodes over Redis (ignored here, they need a
//! redis-server): `cargo xtask redis`; and a real browser: `cargo xtask
//! browser`.

#![cfg(unix)]

mod common;

use common::{connect, frame, read_frame, Running};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use wsup_testkit::redis::RedisServer;

fn chat() -> (Running, String) {
    common::start(env!("CARGO_BIN_EXE_chat"), &[], false)
}

/// A chat node on the Redis at `url`.
fn chat_on(url: &str) -> (Running, String) {
    common::start(env!("CARGO_BIN_EXE_chat"), &["--redis", url], false)
}

/// Sends `request` and reads the response: status, lowercased head, body.
fn exchange(addr: &str, request: &str) -> (u16, String, String) {
    let mut s = connect(addr);
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head[9..12].parse().expect("a status");
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn get(addr: &str, path: &str) -> (u16, String, String) {
    exchange(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

fn upgrade_request(addr: &str, path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// A member of `room`: the socket after its 101.
fn join(addr: &str, room: &str) -> TcpStream {
    let mut s = connect(addr);
    s.write_all(upgrade_request(addr, &format!("/ws?room={room}"), "").as_bytes())
        .unwrap();
    wsup_testkit::read_switching(&mut s);
    s
}

fn say(s: &mut TcpStream, text: &str) {
    s.write_all(&frame(0x1, text.as_bytes())).unwrap();
}

fn hears(s: &mut TcpStream) -> String {
    let (b0, payload) = read_frame(s);
    assert_eq!(b0, 0x81, "a text frame");
    String::from_utf8(payload).unwrap()
}

/// `room` as the server names it, asked for as `query`.
fn members_as(addr: &str, query: &str, room: &str) -> usize {
    let (status, head, body) = get(addr, &format!("/presence?room={query}"));
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["room"], room);
    json["members"].as_u64().expect("a count") as usize
}

fn members(addr: &str, room: &str) -> usize {
    members_as(addr, room, room)
}

fn until_members(addr: &str, room: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while members(addr, room) != n {
        assert!(Instant::now() < deadline, "{room} never had {n} members");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn members_of_a_room_hear_each_other_and_no_one_else() {
    let (_chat, addr) = chat();
    let mut a = join(&addr, "one");
    let mut b = join(&addr, "one");
    let mut c = join(&addr, "two");
    until_members(&addr, "one", 2);
    until_members(&addr, "two", 1);
    let words = "héllo, wörld! 🎉 <b>not html</b>";
    say(&mut a, words);
    assert_eq!(hears(&mut a), words, "the sender hears itself");
    assert_eq!(hears(&mut b), words);
    say(&mut c, "in room two");
    assert_eq!(hears(&mut c), "in room two");
    say(&mut b, "from b");
    // Room one's next message is b's: nothing of room two's came between.
    assert_eq!(hears(&mut a), "from b");
    assert_eq!(hears(&mut b), "from b");
    // A binary message is no chat message: dropped.
    a.write_all(&frame(0x2, b"bin")).unwrap();
    say(&mut a, "after");
    assert_eq!(hears(&mut b), "after");
    drop(b);
    until_members(&addr, "one", 1);
    assert_eq!(members(&addr, "two"), 1);
    drop(a);
    drop(c);
    until_members(&addr, "one", 0);
    until_members(&addr, "two", 0);
}

#[test]
fn the_page_and_the_refusals() {
    let (_chat, addr) = chat();
    let (status, head, body) = get(&addr, "/");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(
        body.contains("<script>") && body.contains("new WebSocket("),
        "the page: {body}"
    );
    for path in ["/ws", "/ws?room=", "/ws?other=1", "/presence"] {
        let (status, _, _) = exchange(&addr, &upgrade_request(&addr, path, ""));
        assert_eq!(status, 400, "{path}");
    }
    assert_eq!(get(&addr, "/nope").0, 404);
    assert_eq!(members_as(&addr, "nobody%20here", "nobody here"), 0);
    // Another site's page may not join; this one's, and a client that says
    // no origin, may.
    let (status, _, _) = exchange(
        &addr,
        &upgrade_request(&addr, "/ws?room=x", "Origin: http://evil.example\r\n"),
    );
    assert_eq!(status, 403);
    let mut same = connect(&addr);
    let request = upgrade_request(&addr, "/ws?room=x", &format!("Origin: http://{addr}\r\n"));
    same.write_all(request.as_bytes()).unwrap();
    let mut first = [0u8; 12];
    same.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 101");
}

#[test]
#[ignore = "needs redis-server: cargo xtask redis"]
fn two_nodes_on_one_redis_share_rooms_and_survive_its_restart() {
    let redis = RedisServer::from_env();
    let (_a, addr_a) = chat_on(&redis.url());
    let (_b, addr_b) = chat_on(&redis.url());
    let mut on_a = join(&addr_a, "shared");
    let mut on_b = join(&addr_b, "shared");
    let mut elsewhere = join(&addr_b, "other");
    until_members(&addr_a, "shared", 1);
    until_members(&addr_b, "shared", 1);
    until_members(&addr_b, "other", 1);
    // Each member hears each message once, in the order said: the next
    // message heard is always the next one said.
    for (i, words) in ["from a", "from b", "again from a", "héllo 🎉"]
        .iter()
        .enumerate()
    {
        let (speaker, other) = if i % 2 == 0 {
            (&mut on_a, &mut on_b)
        } else {
            (&mut on_b, &mut on_a)
        };
        say(speaker, words);
        assert_eq!(hears(speaker), *words);
        assert_eq!(hears(other), *words);
    }

    let redis = redis.stop().restart();
    until_heard(&mut on_a, &mut on_b, "a");
    until_heard(&mut on_b, &mut on_a, "b");
    say(&mut on_a, "after the restart");
    assert_eq!(hears(&mut on_a), "after the restart");
    assert_eq!(hears(&mut on_b), "after the restart");
    // Nothing of room "shared" reached room "other", on either node.
    say(&mut elsewhere, "only here");
    assert_eq!(hears(&mut elsewhere), "only here");
    drop(redis);
}

/// Says numbered probes from `from` until one reaches `to`: while the
/// nodes reconnect to Redis (with a backoff), what is said is lost for the
/// other node. Then, up to a last message, `to` hears probes in the order
/// said, each once.
fn until_heard(from: &mut TcpStream, to: &mut TcpStream, tag: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut said = 0;
    loop {
        assert!(Instant::now() < deadline, "no message from {tag} crossed");
        let probe = format!("{tag} probe {said}");
        say(from, &probe);
        assert_eq!(hears(from), probe);
        said += 1;
        to.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let arrived = to.peek(&mut [0u8; 1]).is_ok();
        to.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        if arrived {
            break;
        }
    }
    let last = format!("{tag} crossed");
    say(from, &last);
    assert_eq!(hears(from), last);
    let mut next = 0;
    loop {
        let heard = hears(to);
        if heard == last {
            return;
        }
        let n: usize = heard
            .strip_prefix(&format!("{tag} probe "))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{heard:?}: not a probe of {tag}"));
        assert!(n >= next && n < said, "probe {n} after {next}, {said} said");
        next = n + 1;
    }
}
