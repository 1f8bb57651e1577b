//! The client's side: the offer each config makes, and the server's
//! answers accepted or refused against it.

use super::super::{accept_answer, offer_header};
use super::*;

fn answer(config: &DeflateConfig, values: &[&str]) -> Result<Option<Agreed>, &'static str> {
    accept_answer(config, values.iter().map(|v| v.as_bytes()))
}

fn agreed(config: &DeflateConfig, value: &str) -> Agreed {
    answer(config, &[value])
        .unwrap_or_else(|e| panic!("{value}: {e}"))
        .expect("agreed")
}

#[test]
fn the_offer_states_the_config() {
    assert_eq!(offer_header(&DeflateConfig::disabled()), None);
    for (config, offer) in [
        (on(), "permessage-deflate; client_max_window_bits"),
        (
            on().client_max_window_bits(10),
            "permessage-deflate; client_max_window_bits=10",
        ),
        // Never offered below 9, which zlib cannot compress with.
        (
            on().client_max_window_bits(8),
            "permessage-deflate; client_max_window_bits=9",
        ),
        (
            on().server_max_window_bits(12),
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits",
        ),
        (
            on().server_no_context_takeover(true)
                .client_no_context_takeover(true)
                .server_max_window_bits(9)
                .client_max_window_bits(11),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=9; client_max_window_bits=11",
        ),
    ] {
        assert_eq!(offer_header(&config).as_deref(), Some(offer), "{config:?}");
    }
}

#[test]
fn the_offer_is_what_wsup_as_a_server_accepts() {
    // The offer parses, and wsup's own server negotiation takes it.
    for config in [
        on(),
        on().client_max_window_bits(9).server_max_window_bits(10),
        on().server_no_context_takeover(true)
            .client_no_context_takeover(true),
    ] {
        let offer = offer_header(&config).unwrap();
        let server = agree(&offer, &on()).expect("the server accepts");
        let client = agreed(&config, &server.response_header());
        assert_eq!(client, server, "{offer}");
    }
}

#[test]
fn no_answer_is_no_compression() {
    assert_eq!(answer(&on(), &[]), Ok(None));
    assert_eq!(answer(&DeflateConfig::disabled(), &[]), Ok(None));
}

#[test]
fn a_bare_answer_keeps_the_offered_client_window() {
    let a = agreed(&on(), "permessage-deflate");
    assert_eq!(
        (a.server_max_window_bits, a.client_max_window_bits),
        (15, 15)
    );
    assert!(!a.server_no_context_takeover && !a.client_no_context_takeover);
    assert_eq!(a.response_header(), "permessage-deflate");
    let a = agreed(&on().client_max_window_bits(10), "PerMessage-Deflate");
    assert_eq!(a.client_max_window_bits, 10);
}

#[test]
fn the_server_may_limit_both_windows_and_reset_contexts() {
    let a = agreed(
        &on(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=\"12\"",
    );
    assert!(a.server_no_context_takeover && a.client_no_context_takeover);
    assert_eq!(
        (a.server_max_window_bits, a.client_max_window_bits),
        (10, 12)
    );
    // The client keeps its own promise when the server does not repeat it.
    let a = agreed(&on().client_no_context_takeover(true), "permessage-deflate");
    assert!(a.client_no_context_takeover);
}

#[test]
fn a_server_window_of_8_is_inflated_with_9() {
    let a = agreed(&on(), "permessage-deflate; server_max_window_bits=8");
    assert_eq!(a.server_max_window_bits, 9);
    let a = agreed(
        &on().server_max_window_bits(9),
        "permessage-deflate; server_max_window_bits=8",
    );
    assert_eq!(a.server_max_window_bits, 9);
}

#[test]
fn each_bad_answer_is_refused() {
    let asks_all = on()
        .server_no_context_takeover(true)
        .server_max_window_bits(10)
        .client_max_window_bits(12);
    for (config, values, why) in [
        (
            DeflateConfig::disabled(),
            &["permessage-deflate"][..],
            "not offered",
        ),
        (on(), &["x-webkit-deflate-frame"], "another extension"),
        (on(), &["permessage-deflate, permessage-deflate"], "two"),
        (
            on(),
            &["permessage-deflate", "permessage-deflate"],
            "two headers",
        ),
        (on(), &["permessage-deflate, x-foo"], "one too many"),
        (on(), &[""], "empty"),
        (on(), &["permessage-deflate; a=\"unterminated"], "malformed"),
        (on(), &["permessage-deflate, ;"], "a malformed second"),
        (on(), &["permessage-deflate; foo"], "unknown parameter"),
        (
            on(),
            &["permessage-deflate; server_no_context_takeover; server_no_context_takeover"],
            "repeated",
        ),
        (
            on(),
            &["permessage-deflate; server_no_context_takeover=1"],
            "value",
        ),
        (
            on(),
            &["permessage-deflate; server_max_window_bits"],
            "no value",
        ),
        (
            on(),
            &["permessage-deflate; server_max_window_bits=16"],
            "16",
        ),
        (
            on(),
            &["permessage-deflate; server_max_window_bits=010"],
            "zero",
        ),
        (
            on(),
            &["permessage-deflate; client_max_window_bits"],
            "bare client bits",
        ),
        (
            on(),
            &["permessage-deflate; client_max_window_bits=7"],
            "client 7",
        ),
        (
            asks_all.clone(),
            &["permessage-deflate; server_max_window_bits=10"],
            "no server_no_context_takeover",
        ),
        (
            asks_all.clone(),
            &["permessage-deflate; server_no_context_takeover"],
            "no server_max_window_bits",
        ),
        (
            asks_all.clone(),
            &["permessage-deflate; server_no_context_takeover; server_max_window_bits=11"],
            "server bits above the offer",
        ),
        (
            asks_all.clone(),
            &[
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
               client_max_window_bits=13",
            ],
            "client bits above the offer",
        ),
    ] {
        assert!(
            answer(&config, values).is_err(),
            "{why}: {values:?} accepted"
        );
    }
    // The same config accepts a compliant answer.
    let a = agreed(
        &asks_all,
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; \
         client_max_window_bits=12",
    );
    assert_eq!(
        (a.server_max_window_bits, a.client_max_window_bits),
        (9, 12)
    );
}

#[test]
fn a_client_window_of_8_is_agreed_and_the_client_sends_uncompressed() {
    // RFC 7692 lets the server answer any value from 8 to 15: agreed, and
    // the engine, unable to compress within 256 bytes, sends plain frames.
    let agreed = answer(
        &DeflateConfig::enabled(),
        &["permessage-deflate; client_max_window_bits=8"],
    )
    .unwrap()
    .unwrap();
    assert_eq!(agreed.client_max_window_bits, 8);
}
