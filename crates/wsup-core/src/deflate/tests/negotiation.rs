//! Negotiation: the config, offers accepted or declined, and the response.

use super::*;

#[test]
fn default_is_disabled_and_enabled_has_documented_values() {
    let d = DeflateConfig::default();
    assert!(!d.enabled);
    assert_eq!(response("permessage-deflate", &d), None);
    let e = DeflateConfig::enabled();
    assert!(e.enabled);
    assert_eq!(e.level, 1);
    assert_eq!(e.server_max_window_bits, 15);
    assert_eq!(e.client_max_window_bits, 15);
    assert_eq!(e.threshold, 128);
    assert_eq!(DeflateConfig::enabled().level(42).level, 9);
    assert_eq!(
        DeflateConfig::enabled()
            .server_max_window_bits(3)
            .server_max_window_bits,
        9
    );
}

#[test]
fn browser_default_offer_is_accepted() {
    let a = agree("permessage-deflate; client_max_window_bits", &on()).unwrap();
    assert_eq!(a.server_max_window_bits, 15);
    assert_eq!(a.client_max_window_bits, 15);
    assert!(!a.server_no_context_takeover && !a.client_no_context_takeover);
    assert_eq!(a.response_header(), "permessage-deflate");
    // Firefox sends the same; Safari has been seen with no parameter.
    assert_eq!(
        response("permessage-deflate", &on()).as_deref(),
        Some("permessage-deflate")
    );
}

#[test]
fn first_declined_second_accepted() {
    let config = on();
    for first in [
        "permessage-deflate; x_unknown",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=8",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; client_no_context_takeover=1",
    ] {
        let header = format!("{first}, permessage-deflate; server_max_window_bits=12");
        let a = agree(&header, &config).unwrap_or_else(|| panic!("declined all: {header}"));
        assert_eq!(a.server_max_window_bits, 12, "{header}");
        assert_eq!(
            a.response_header(),
            "permessage-deflate; server_max_window_bits=12"
        );
        // Alone, the first offer is declined, never an error.
        assert_eq!(agree(first, &config), None, "{first}");
    }
}

#[test]
fn only_permessage_deflate_offers_count() {
    let a = agree(
        "x-webkit-deflate-frame, PerMessage-Deflate; Client_Max_Window_Bits=9",
        &on(),
    );
    assert_eq!(
        a.unwrap().response_header(),
        "permessage-deflate; client_max_window_bits=9"
    );
}

#[test]
fn quoted_values_are_tokens_too() {
    let a = agree("permessage-deflate; server_max_window_bits=\"10\"", &on()).unwrap();
    assert_eq!(a.server_max_window_bits, 10);
    let a = agree("permessage-deflate; client_max_window_bits=\"11\"", &on()).unwrap();
    assert_eq!(a.client_max_window_bits, 11);
    assert_eq!(
        agree("permessage-deflate; server_max_window_bits=\"1 0\"", &on()),
        None
    );
}

#[test]
fn server_window_request_is_honoured_and_stated() {
    assert_eq!(
        response("permessage-deflate; server_max_window_bits=15", &on()).unwrap(),
        "permessage-deflate; server_max_window_bits=15"
    );
    let a = agree("permessage-deflate; server_max_window_bits=9", &on()).unwrap();
    assert_eq!(a.server_max_window_bits, 9);
    // The config's smaller window wins, and is stated even unasked.
    let small = on().server_max_window_bits(10);
    assert_eq!(
        agree("permessage-deflate; server_max_window_bits=12", &small)
            .unwrap()
            .server_max_window_bits,
        10
    );
    assert_eq!(
        response("permessage-deflate", &small).unwrap(),
        "permessage-deflate; server_max_window_bits=10"
    );
}

#[test]
fn client_window_limits() {
    let limit = on().client_max_window_bits(10);
    // The client can be limited: it is told so.
    assert_eq!(
        response("permessage-deflate; client_max_window_bits", &limit).unwrap(),
        "permessage-deflate; client_max_window_bits=10"
    );
    // The client limits itself further: keep its value.
    let a = agree("permessage-deflate; client_max_window_bits=9", &limit).unwrap();
    assert_eq!(a.client_max_window_bits, 9);
    assert_eq!(
        a.response_header(),
        "permessage-deflate; client_max_window_bits=9"
    );
    // The client cannot be limited: declined under a limit, fine without.
    assert_eq!(agree("permessage-deflate", &limit), None);
    // 8 bits from the client is fine: a 9-bit inflater reads it.
    let a = agree("permessage-deflate; client_max_window_bits=8", &on()).unwrap();
    assert_eq!(a.client_max_window_bits, 8);
    assert_eq!(a.client_inflate_window_bits(), 9);
    assert_eq!(
        a.response_header(),
        "permessage-deflate; client_max_window_bits=8"
    );
}

#[test]
fn context_takeover_knobs_are_reflected() {
    let cfg = on().server_no_context_takeover(true);
    let a = agree("permessage-deflate", &cfg).unwrap();
    assert!(a.server_no_context_takeover && !a.client_no_context_takeover);
    assert_eq!(
        a.response_header(),
        "permessage-deflate; server_no_context_takeover"
    );

    let cfg = on().client_no_context_takeover(true);
    assert_eq!(
        response("permessage-deflate", &cfg).unwrap(),
        "permessage-deflate; client_no_context_takeover"
    );
    // Requested by the client, granted even if the config does not ask.
    assert_eq!(
        response(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            &on()
        )
        .unwrap(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    );
    let all = on()
        .server_no_context_takeover(true)
        .client_no_context_takeover(true)
        .server_max_window_bits(11)
        .client_max_window_bits(12);
    assert_eq!(
        response("permessage-deflate; client_max_window_bits", &all).unwrap(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=11; client_max_window_bits=12"
    );
}

#[test]
fn response_header_round_trips_through_the_parser() {
    let all = on()
        .server_no_context_takeover(true)
        .server_max_window_bits(11)
        .client_max_window_bits(12);
    let a = agree("permessage-deflate; client_max_window_bits", &all).unwrap();
    let back = parse_offers(&[&a.response_header()]);
    assert_eq!(back.len(), 1);
    assert!(back[0].is_permessage_deflate());
    assert_eq!(back[0].params.len(), 3);
}
