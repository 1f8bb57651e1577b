//! The offer parser: grammar, recovery from malformed extensions, and
//! linear time on hostile input.

use std::time::{Duration, Instant};

use super::*;
use crate::deflate::{parse_offers_bytes, Param};

#[test]
fn parses_names_params_and_order() {
    let offers = parse_offers(&[
        "permessage-deflate ; client_max_window_bits ; server_max_window_bits = 10, x-webkit-deflate-frame",
        " , foo;bar=\"a;b,c\\\"d\"",
    ]);
    assert_eq!(offers.len(), 3);
    assert_eq!(offers[0].name, "permessage-deflate");
    assert_eq!(
        offers[0].params,
        vec![
            Param {
                name: "client_max_window_bits".into(),
                value: None
            },
            Param {
                name: "server_max_window_bits".into(),
                value: Some("10".into())
            },
        ]
    );
    assert_eq!(offers[1].name, "x-webkit-deflate-frame");
    assert!(offers[1].params.is_empty());
    assert_eq!(offers[2].name, "foo");
    assert_eq!(offers[2].params[0].value.as_deref(), Some("a;b,c\"d"));
}

#[test]
fn malformed_extension_is_dropped_and_parsing_resumes() {
    let offers = parse_offers(&["a;;b, c; d=\"x,y\" junk, e=f, g; h=\"unterminated, i"]);
    let names: Vec<_> = offers.iter().map(|o| o.name.as_str()).collect();
    // `a;;b` (empty param), `c ... junk`, `e=f` (value on a name) and
    // `g; h="...` (unterminated quote swallows the rest) are malformed.
    assert_eq!(names, Vec::<&str>::new());
    let offers = parse_offers(&["a;;b, ok1, c; d=\"x,y\" junk, ok2;p=1"]);
    let names: Vec<_> = offers.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["ok1", "ok2"]);
    // A control character inside quotes: recovery knows it is in quotes.
    let offers = parse_offers(&["a; b=\"x\u{1},y\", ok3"]);
    let names: Vec<_> = offers.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["ok3"]);
}

fn bounded<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    // Generous: linear parsing of these inputs takes well under 10 ms
    // even unoptimised; a quadratic parser would take minutes.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    out
}

#[test]
fn hostile_inputs_parse_in_bounded_time_without_panic() {
    let semis = format!("permessage-deflate{}", ";".repeat(100_000));
    assert!(bounded(|| parse_offers(&[&semis])).is_empty());
    let commas = ",".repeat(100_000);
    assert!(bounded(|| parse_offers(&[&commas])).is_empty());
    let quotes = format!("a; b=\"{}", "\\\"".repeat(50_000));
    assert!(bounded(|| parse_offers(&[&quotes])).is_empty());
    let many_params = format!("permessage-deflate{}", "; x".repeat(30_000));
    let offers = bounded(|| parse_offers(&[&many_params]));
    assert_eq!(offers[0].params.len(), 30_000);
    assert_eq!(negotiate(&offers, &on()), None);
    let many_offers =
        "permessage-deflate; server_max_window_bits=8, ".repeat(10_000) + "permessage-deflate";
    assert!(bounded(|| agree(&many_offers, &on())).is_some());
    let escapes = format!("a; b=\"{}\", permessage-deflate", "\\,;".repeat(30_000));
    assert_eq!(bounded(|| parse_offers(&[&escapes])).len(), 2);
    for weird in [
        "permessage-deflate; server_max_window_bits=\"1",
        "permessage-déflate",
        "permessage-deflate; ünïcode=\"ok\"",
        "p; a=\"ü\\",
        "\"",
        "\\",
        "=",
        ";",
        "a=",
        "a;b=",
        "a;b=\"\"",
        "permessage-deflate\u{0}",
        "permessage-deflate; client_max_window_bits=\u{1F600}",
    ] {
        let offers = parse_offers(&[weird]);
        let _ = negotiate(&offers, &on());
    }
    assert_eq!(
        parse_offers(&["p; a=\"ü\""])[0].params[0].value.as_deref(),
        Some("ü")
    );
    // Arbitrary bytes, including invalid UTF-8.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let _ = bounded(|| parse_offers_bytes([bytes.as_slice(), b"a; b=\"\xff\xfe\"".as_slice()]));
    let offers = parse_offers_bytes([b"a; b=\"\xff\"".as_slice()]);
    assert_eq!(offers[0].params[0].value.as_deref(), Some("\u{FFFD}"));
}
