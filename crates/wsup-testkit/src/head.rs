//! HTTP heads, read from a blocking stream and looked at as text.

use std::io::Read;

/// A header's value in a request or response head (the first line
/// skipped, the name compared ignoring case, the value trimmed).
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads an HTTP head from `s` up to and including its blank line, or what
/// came before the stream ended (check with `ends_with("\r\n\r\n")`). Byte
/// by byte, so that nothing after the head (a body, the first frames) is
/// taken from the stream. Panics on a read error (a timeout among them).
pub fn read_head(s: &mut impl Read) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte).expect("an HTTP head") {
            0 => break,
            _ => head.push(byte[0]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Reads a whole HTTP head from `s`, as [`read_head`]; panics if the stream
/// ended before its blank line.
pub fn read_whole_head(s: &mut impl Read) -> String {
    let head = read_head(s);
    assert!(head.ends_with("\r\n\r\n"), "head cut short: {head:?}");
    head
}

/// Reads the response to a WebSocket upgrade from `s` and checks that it
/// switched protocols (101); returns its head.
pub fn read_switching(s: &mut impl Read) -> String {
    let head = read_whole_head(s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    head
}
