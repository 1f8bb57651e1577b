//! The client's side of permessage-deflate (RFC 7692 section 7): the offer
//! a [`DeflateConfig`] makes ([`offer_header`]) and the server's answer,
//! checked against that offer, turned into what was [`Agreed`]
//! ([`accept_answer`]).
//!
//! On the client the config's fields read from the other end: the
//! `server_*` ones are asked of the server, the `client_*` ones are what
//! the client promises. The offer always carries `client_max_window_bits`
//! (bare at 15, `=N` below), so the server may limit the client's window.

use std::fmt::Write as _;

use super::config::{clamp_bits, Agreed, DeflateConfig, MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use super::negotiation::read_offer;
use super::offer::{parse_offers_strict, PERMESSAGE_DEFLATE};

/// The `Sec-WebSocket-Extensions` value that offers permessage-deflate as
/// `config` asks, or `None` when compression is off.
///
/// Window bits are clamped to 9..=15: an offer below 9 is never made, as
/// zlib cannot compress raw deflate with a 256-byte window.
pub(crate) fn offer_header(config: &DeflateConfig) -> Option<String> {
    if !config.enabled {
        return None;
    }
    let mut h = String::from(PERMESSAGE_DEFLATE);
    if config.server_no_context_takeover {
        h.push_str("; server_no_context_takeover");
    }
    if config.client_no_context_takeover {
        h.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = server_bits_asked(config) {
        let _ = write!(h, "; server_max_window_bits={bits}");
    }
    match clamp_bits(config.client_max_window_bits) {
        MAX_WINDOW_BITS => h.push_str("; client_max_window_bits"),
        bits => {
            let _ = write!(h, "; client_max_window_bits={bits}");
        }
    }
    Some(h)
}

/// The server window the offer asks for: only a limit below 15 is said.
fn server_bits_asked(config: &DeflateConfig) -> Option<u8> {
    Some(clamp_bits(config.server_max_window_bits)).filter(|&b| b < MAX_WINDOW_BITS)
}

/// Checks the server's `Sec-WebSocket-Extensions` values against the offer
/// [`offer_header`] made from `config`: `Ok(None)` when there are none,
/// the parameters agreed when the answer is one permessage-deflate the
/// offer allows, and why not otherwise.
///
/// Refused: any answer to a client that offered nothing; a malformed value,
/// another extension or more than one; an unknown or repeated parameter, a
/// missing or invalid value; `server_max_window_bits` missing or above the
/// offer when the offer asked for it; `server_no_context_takeover` missing
/// when the offer asked for it; `client_max_window_bits` without a value,
/// or above the offer.
///
/// A server window of 8 bits is accepted, and inflated with 9 bits (a
/// larger window reads a stream made with a smaller one). A client window
/// of 8 is accepted too (RFC 7692 allows the server to ask for it): zlib
/// cannot compress within 256 bytes, so the client then sends every
/// message uncompressed, which the extension allows.
pub(crate) fn accept_answer<'a, I>(
    config: &DeflateConfig,
    header_values: I,
) -> Result<Option<Agreed>, &'static str>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut values = header_values.into_iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    if !config.enabled {
        return Err("no extension was offered");
    }
    let answers = parse_offers_strict(values).ok_or("malformed extension list")?;
    let answer = match answers.as_slice() {
        [answer] => answer,
        [] => return Err("empty extension list"),
        _ => return Err("more than one extension"),
    };
    if !answer.is_permessage_deflate() {
        return Err("an extension other than permessage-deflate");
    }
    let r = read_offer(answer).ok_or("invalid permessage-deflate parameters")?;
    if config.server_no_context_takeover && !r.server_no_context_takeover {
        return Err("server_no_context_takeover was asked for and not agreed");
    }
    let server_bits = match (server_bits_asked(config), r.server_max_window_bits) {
        (Some(_), None) => return Err("server_max_window_bits was asked for and not agreed"),
        (Some(asked), Some(n)) if n > asked => {
            return Err("server_max_window_bits above the offer")
        }
        (_, Some(n)) => n,
        (None, None) => MAX_WINDOW_BITS,
    };
    let offered_client_bits = clamp_bits(config.client_max_window_bits);
    let client_bits = match r.client_max_window_bits {
        None => offered_client_bits,
        Some(None) => return Err("client_max_window_bits without a value"),
        Some(Some(n)) if n > offered_client_bits => {
            return Err("client_max_window_bits above the offer")
        }
        Some(Some(n)) => n,
    };
    Ok(Some(Agreed {
        server_no_context_takeover: r.server_no_context_takeover,
        client_no_context_takeover: r.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: server_bits.max(MIN_WINDOW_BITS),
        client_max_window_bits: client_bits,
        state_server_bits: r.server_max_window_bits.is_some(),
        state_client_bits: r.client_max_window_bits.is_some(),
    }))
}
