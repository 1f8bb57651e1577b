//! `Sec-WebSocket-Extensions`, both sides. The server's: arbitrary header
//! values parsed into offers and negotiated under several configurations;
//! what is agreed, stated in the response header and parsed again, is
//! what was agreed, and within what was offered and configured. The
//! client's: the offer a configuration makes, negotiated by a server,
//! comes back through the client's check of the answer as the very same
//! agreement; and arbitrary answers are checked without a panic, any
//! accepted one within the offer.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wsup_core::deflate::{
    negotiate, parse_offers, parse_offers_bytes, Agreed, DeflateConfig, Offer,
};
use wsup_core::fuzzing::{accept_answer, offer_header};
use wsup_fuzz::settings;

#[derive(Arbitrary, Debug)]
struct Config {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// 15 down to 8 (clamped to 9).
    server_bits: u8,
    client_bits: u8,
}

impl Config {
    fn deflate(&self) -> DeflateConfig {
        DeflateConfig::enabled()
            .server_no_context_takeover(self.server_no_context_takeover)
            .client_no_context_takeover(self.client_no_context_takeover)
            .server_max_window_bits(15 - self.server_bits % 8)
            .client_max_window_bits(15 - self.client_bits % 8)
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    server: Config,
    client: Config,
}

/// The parameters the response header states, read independently of the
/// negotiation's own reader.
fn stated(header: &str) -> (bool, bool, Option<u8>, Option<u8>) {
    let offers = parse_offers(&[header]);
    let [offer] = offers.as_slice() else {
        panic!("{header}: not one extension")
    };
    assert!(offer.is_permessage_deflate(), "{header}");
    let (mut snct, mut cnct, mut sbits, mut cbits) = (false, false, None, None);
    for p in &offer.params {
        let value = || {
            p.value
                .as_deref()
                .map(|v| v.parse::<u8>().expect("a number"))
        };
        match p.name.as_str() {
            "server_no_context_takeover" if !snct && p.value.is_none() => snct = true,
            "client_no_context_takeover" if !cnct && p.value.is_none() => cnct = true,
            "server_max_window_bits" if sbits.is_none() => sbits = value(),
            "client_max_window_bits" if cbits.is_none() => cbits = value(),
            _ => panic!("{header}: parameter {p:?}"),
        }
    }
    (snct, cnct, sbits, cbits)
}

/// Whether `offer` carries parameter `name`.
fn has(offer: &Offer, name: &str) -> bool {
    offer
        .params
        .iter()
        .any(|p| p.name.eq_ignore_ascii_case(name))
}

/// What `agreed`, answering `offers` under `config`, must be.
fn check_agreed(agreed: &Agreed, offers: &[Offer], config: &DeflateConfig) {
    let header = agreed.response_header();
    let (snct, cnct, sbits, cbits) = stated(&header);
    assert_eq!(snct, agreed.server_no_context_takeover, "{header}");
    assert_eq!(cnct, agreed.client_no_context_takeover, "{header}");
    assert_eq!(
        sbits.unwrap_or(15),
        agreed.server_max_window_bits,
        "{header}"
    );
    assert_eq!(
        cbits.unwrap_or(15),
        agreed.client_max_window_bits,
        "{header}"
    );
    assert!((9..=config.server_max_window_bits).contains(&agreed.server_max_window_bits));
    assert!(agreed.client_max_window_bits <= config.client_max_window_bits);
    assert!(agreed.server_no_context_takeover >= config.server_no_context_takeover);
    assert!(agreed.client_no_context_takeover >= config.client_no_context_takeover);
    // The offer accepted: the first permessage-deflate one that can be.
    let accepted = offers
        .iter()
        .filter(|o| o.is_permessage_deflate())
        .find(|o| negotiate(std::slice::from_ref(o), config).is_some())
        .expect("an offer was accepted");
    assert_eq!(
        negotiate(std::slice::from_ref(accepted), config).as_ref(),
        Some(agreed)
    );
    // client_max_window_bits only in answer to an offer of it (RFC 7692 7.1.2.2).
    if cbits.is_some() {
        assert!(has(accepted, "client_max_window_bits"), "{header}");
    }
    // server_max_window_bits stated whenever it was offered (7.1.2.1).
    if has(accepted, "server_max_window_bits") {
        assert!(sbits.is_some(), "{header}");
    }
    // server_no_context_takeover agreed when offered (7.1.1.1).
    if has(accepted, "server_no_context_takeover") {
        assert!(snct, "{header}");
    }
}

// The bytes are header values, one a line: the offers a client sends,
// and the answers a server sends.
fuzz_target!(|data: &[u8]| {
    let Some((input, bytes)) = settings::<Input>(data) else {
        return;
    };
    let values: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let server = input.server.deflate();
    let client = input.client.deflate();

    // The server's side over arbitrary offers.
    let offers = parse_offers_bytes(values.iter().copied());
    for config in [&server, &client, &DeflateConfig::enabled()] {
        if let Some(agreed) = negotiate(&offers, config) {
            check_agreed(&agreed, &offers, config);
        }
    }

    // The client's offer, a server's answer, the client's check.
    let offer = offer_header(&client).expect("compression is on");
    let client_offers = parse_offers(&[&offer]);
    if let Some(agreed) = negotiate(&client_offers, &server) {
        check_agreed(&agreed, &client_offers, &server);
        let header = agreed.response_header();
        let back = accept_answer(&client, [header.as_bytes()]);
        assert_eq!(back, Ok(Some(agreed)), "{offer} -> {header}");
    }

    // Arbitrary answers to that offer.
    if let Ok(Some(a)) = accept_answer(&client, values.iter().copied()) {
        assert!((9..=15).contains(&a.server_max_window_bits));
        if client.server_max_window_bits < 15 {
            assert!(a.server_max_window_bits <= client.server_max_window_bits);
        }
        // 8 is agreed too (the client then sends uncompressed).
        assert!((8..=client.client_max_window_bits).contains(&a.client_max_window_bits));
        assert!(a.server_no_context_takeover >= client.server_no_context_takeover);
        assert!(a.client_no_context_takeover >= client.client_no_context_takeover);
    }
    assert_eq!(
        accept_answer(&DeflateConfig::disabled(), std::iter::empty()),
        Ok(None)
    );
});
