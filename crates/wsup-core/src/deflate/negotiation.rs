//! Negotiation of permessage-deflate (RFC 7692 section 7): [`negotiate`]
//! picks the first `permessage-deflate` [`Offer`] a [`DeflateConfig`] can
//! honour and returns what was [`Agreed`]; [`Agreed::response_header`] is the
//! `Sec-WebSocket-Extensions` value the 101 response states it with.

use std::fmt::Write as _;

use super::config::{clamp_bits, Agreed, DeflateConfig, MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use super::offer::{Offer, PERMESSAGE_DEFLATE};

/// Accepts the first permessage-deflate offer `config` can honour.
///
/// Offers with an unknown parameter, a repeated parameter, a value where none
/// is allowed or an invalid or out-of-range value are declined, as are offers
/// asking for a server window of 8 bits (zlib cannot compress raw deflate
/// with it) and, when `config` limits the client's window below 15, offers
/// without `client_max_window_bits`. Returns `None` when compression is
/// disabled or no offer is acceptable; that is never an error.
///
/// ```
/// use wsup_core::deflate::{negotiate, parse_offers, DeflateConfig};
///
/// let offers = parse_offers(&["permessage-deflate; client_max_window_bits"]);
/// let agreed = negotiate(&offers, &DeflateConfig::enabled()).unwrap();
/// assert_eq!(agreed.response_header(), "permessage-deflate");
/// ```
pub fn negotiate(offers: &[Offer], config: &DeflateConfig) -> Option<Agreed> {
    if !config.enabled {
        return None;
    }
    offers
        .iter()
        .filter(|o| o.is_permessage_deflate())
        .find_map(|o| accept(o, config))
}

/// A window-bits value: decimal, no leading zero, 8..=15 (RFC 7692 7.1.2).
fn parse_bits(v: &str) -> Option<u8> {
    match v.as_bytes() {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + d - b'0'),
        _ => None,
    }
}

/// What one offer asks for, once validated.
#[derive(Default)]
pub(super) struct Requested {
    pub(super) server_no_context_takeover: bool,
    pub(super) client_no_context_takeover: bool,
    pub(super) server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value.
    pub(super) client_max_window_bits: Option<Option<u8>>,
}

/// The parameters of one permessage-deflate offer (or answer): `None` for
/// an unknown or repeated parameter, or a missing, unexpected or invalid
/// value.
pub(super) fn read_offer(offer: &Offer) -> Option<Requested> {
    let mut r = Requested::default();
    // Parameters seen, for duplicates: one bit each.
    let mut seen = 0u8;
    for p in &offer.params {
        let name = p.name.as_str();
        let bit = if name.eq_ignore_ascii_case("server_no_context_takeover") {
            if p.value.is_some() {
                return None;
            }
            r.server_no_context_takeover = true;
            1
        } else if name.eq_ignore_ascii_case("client_no_context_takeover") {
            if p.value.is_some() {
                return None;
            }
            r.client_no_context_takeover = true;
            2
        } else if name.eq_ignore_ascii_case("server_max_window_bits") {
            r.server_max_window_bits = Some(parse_bits(p.value.as_deref()?)?);
            4
        } else if name.eq_ignore_ascii_case("client_max_window_bits") {
            r.client_max_window_bits = Some(match p.value.as_deref() {
                None => None,
                Some(v) => Some(parse_bits(v)?),
            });
            8
        } else {
            return None;
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
    }
    Some(r)
}

fn accept(offer: &Offer, config: &DeflateConfig) -> Option<Agreed> {
    let r = read_offer(offer)?;
    let cfg_server = clamp_bits(config.server_max_window_bits);
    let cfg_client = clamp_bits(config.client_max_window_bits);

    // The server must compress with at most what the client asked for.
    let server_bits = match r.server_max_window_bits {
        Some(n) if n < MIN_WINDOW_BITS => return None,
        Some(n) => n.min(cfg_server),
        None => cfg_server,
    };
    let state_server_bits = r.server_max_window_bits.is_some() || server_bits < MAX_WINDOW_BITS;

    let (client_bits, state_client_bits) = match r.client_max_window_bits {
        // The client did not say it can limit its window: it uses 15, and
        // the response must not mention the parameter.
        None if cfg_client < MAX_WINDOW_BITS => return None,
        None => (MAX_WINDOW_BITS, false),
        // The client can limit its window to whatever the server says.
        Some(None) => (cfg_client, cfg_client < MAX_WINDOW_BITS),
        // The client already limits itself to `n`; the server may ask for less.
        Some(Some(n)) => {
            let bits = n.min(cfg_client);
            (bits, bits < MAX_WINDOW_BITS)
        }
    };

    Some(Agreed {
        server_no_context_takeover: r.server_no_context_takeover
            || config.server_no_context_takeover,
        client_no_context_takeover: r.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
        state_server_bits,
        state_client_bits,
    })
}

impl Agreed {
    /// The `Sec-WebSocket-Extensions` response header value stating exactly
    /// what was agreed, e.g.
    /// `permessage-deflate; server_no_context_takeover; client_max_window_bits=12`.
    pub fn response_header(&self) -> String {
        let mut h = String::from(PERMESSAGE_DEFLATE);
        if self.server_no_context_takeover {
            h.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            h.push_str("; client_no_context_takeover");
        }
        if self.state_server_bits {
            let _ = write!(
                h,
                "; server_max_window_bits={}",
                self.server_max_window_bits
            );
        }
        if self.state_client_bits {
            let _ = write!(
                h,
                "; client_max_window_bits={}",
                self.client_max_window_bits
            );
        }
        h
    }
}
