//! Negotiation of permessage-deflate (RFC 7692 section 7).
//!
//! [`parse_offers`] reads the client's `Sec-WebSocket-Extensions` header
//! values into [`Offer`]s; [`negotiate`] picks the first `permessage-deflate`
//! offer a [`DeflateConfig`] can honour and returns what was [`Agreed`],
//! including the response header value.
//!
//! The parser is a single forward pass over the bytes: each byte is looked at
//! a bounded number of times, so hostile header values cost linear time, and
//! no input panics. A syntactically malformed extension is dropped (the same
//! outcome as a declined offer) and parsing resumes at the next top-level
//! comma.

use std::fmt::Write as _;

/// Name of the extension, as registered by RFC 7692.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// Smallest LZ77 window (base-2 logarithm) wsup compresses or decompresses
/// with: zlib cannot produce raw deflate streams with a window of 2^8.
pub const MIN_WINDOW_BITS: u8 = 9;

/// Largest LZ77 window (base-2 logarithm) DEFLATE allows, and the default.
pub const MAX_WINDOW_BITS: u8 = 15;

/// The server's permessage-deflate settings.
///
/// [`Default`] is **disabled**: compression costs CPU and memory per
/// connection (and has a history of side-channel attacks when secrets and
/// attacker-controlled data share a message), so it is opt-in.
/// [`DeflateConfig::enabled`] gives the recommended settings with
/// compression on: level 1, full windows, context takeover in both
/// directions, threshold 128 bytes.
///
/// Window bits outside `9..=15` and levels above 9 are clamped where used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Whether permessage-deflate is offered to clients at all.
    pub enabled: bool,
    /// Compression level, 0 (store) to 9 (best); 6 is zlib's default.
    pub level: u32,
    /// The server refuses to keep its compression context between messages
    /// (`server_no_context_takeover` is always sent). Saves memory on idle
    /// connections (see [`CodecPool`](super::CodecPool)) at the cost of
    /// ratio.
    pub server_no_context_takeover: bool,
    /// The server demands that the client not keep its compression context
    /// (`client_no_context_takeover` is always sent), so the server need not
    /// keep a decompression context either.
    pub client_no_context_takeover: bool,
    /// Largest LZ77 window the server compresses with, 9..=15.
    pub server_max_window_bits: u8,
    /// Largest LZ77 window the server lets the client compress with, 9..=15.
    /// Below 15 the server needs the client's offer to carry
    /// `client_max_window_bits`; an offer without it cannot be limited and
    /// is declined.
    pub client_max_window_bits: u8,
    /// Messages shorter than this many bytes are sent uncompressed (RFC 7692
    /// allows mixing). Deflate rarely saves more than it costs on tiny
    /// payloads.
    pub threshold: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            enabled: false,
            // gorilla's default: on a server, CPU per message matters more
            // than the last few percent of ratio (level 6 costs ~3x the CPU
            // on Autobahn 12.2's bitmap for little gain).
            level: 1,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_max_window_bits: MAX_WINDOW_BITS,
            threshold: 128,
        }
    }
}

impl DeflateConfig {
    /// Compression on, with level 1, 15-bit windows both ways, context
    /// takeover both ways and a threshold of 128 bytes: [`Default`] with
    /// `enabled` set.
    pub fn enabled() -> Self {
        DeflateConfig {
            enabled: true,
            ..DeflateConfig::default()
        }
    }

    /// Compression off (the same as [`Default`]).
    pub fn disabled() -> Self {
        DeflateConfig::default()
    }

    /// Sets the compression level (0..=9; higher values are clamped to 9).
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Sets [`server_no_context_takeover`](Self#structfield.server_no_context_takeover).
    pub fn server_no_context_takeover(mut self, yes: bool) -> Self {
        self.server_no_context_takeover = yes;
        self
    }

    /// Sets [`client_no_context_takeover`](Self#structfield.client_no_context_takeover).
    pub fn client_no_context_takeover(mut self, yes: bool) -> Self {
        self.client_no_context_takeover = yes;
        self
    }

    /// Sets the server's largest window (clamped to 9..=15).
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = clamp_bits(bits);
        self
    }

    /// Sets the largest window the client may use (clamped to 9..=15).
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = clamp_bits(bits);
        self
    }

    /// Sets the size below which messages go out uncompressed.
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }
}

fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// One extension offered by the client: a name and its parameters, in the
/// order they were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The extension token, as written (compare case-insensitively).
    pub name: String,
    /// The parameters, in order.
    pub params: Vec<Param>,
}

/// One extension parameter: `name` or `name=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The parameter token, as written.
    pub name: String,
    /// The value, unquoted and unescaped if it was a quoted-string.
    pub value: Option<String>,
}

impl Offer {
    /// Whether this offer is for permessage-deflate.
    pub fn is_permessage_deflate(&self) -> bool {
        self.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE)
    }
}

/// Parses every extension offered in one or more `Sec-WebSocket-Extensions`
/// header values, in order.
///
/// Grammar (RFC 6455 section 9.1, RFC 7230 section 3.2.6):
/// `extension *( "," extension )`, `extension = token *( ";" token [ "="
/// ( token / quoted-string ) ] )`, with optional whitespace around the
/// separators and empty list elements allowed. An extension that breaks the
/// grammar is left out; the rest are kept. Linear time, never panics.
///
/// ```
/// use wsup_core::deflate::parse_offers;
///
/// let offers = parse_offers(&["permessage-deflate; client_max_window_bits, x-foo; a=\"b,c\""]);
/// assert_eq!(offers.len(), 2);
/// assert_eq!(offers[1].params[0].value.as_deref(), Some("b,c"));
/// ```
pub fn parse_offers(header_values: &[&str]) -> Vec<Offer> {
    parse_offers_bytes(header_values.iter().map(|v| v.as_bytes()))
}

/// [`parse_offers`] over raw header value bytes (such as
/// `http::HeaderValue::as_bytes`). Bytes that are not valid UTF-8 inside a
/// quoted-string are replaced by U+FFFD; elsewhere they make the extension
/// malformed.
pub fn parse_offers_bytes<'a, I>(header_values: I) -> Vec<Offer>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut offers = Vec::new();
    for value in header_values {
        Parser {
            s: value,
            i: 0,
            quoted: false,
        }
        .parse_list(&mut offers);
    }
    offers
}

/// RFC 7230 `tchar`.
fn is_tchar(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'#'
            | b'$'
            | b'%'
            | b'&'
            | b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~'
    ) || b.is_ascii_alphanumeric()
}

/// A cursor over one header value. Every method only moves `i` forward.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// The cursor is inside a quoted-string (for [`Parser::recover`]).
    quoted: bool,
}

/// The extension at the cursor breaks the grammar.
struct Malformed;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn parse_list(&mut self, offers: &mut Vec<Offer>) {
        loop {
            self.skip_ows();
            match self.peek() {
                None => return,
                // An empty list element (RFC 7230 section 7).
                Some(b',') => self.i += 1,
                Some(_) => match self.parse_extension() {
                    Ok(offer) => offers.push(offer),
                    Err(Malformed) => self.recover(),
                },
            }
        }
    }

    /// Skips past the next comma that is not inside a quoted-string. Shares
    /// the forward-only cursor with the parser, so the whole value is still
    /// scanned once.
    fn recover(&mut self) {
        let mut in_quotes = std::mem::take(&mut self.quoted);
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\\' if in_quotes => self.i += 1,
                b',' if !in_quotes => return,
                _ => {}
            }
        }
    }

    fn parse_token(&mut self) -> Result<String, Malformed> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        if self.i == start {
            return Err(Malformed);
        }
        // tchar is ASCII, so this is valid UTF-8.
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A quoted-string, with the cursor on the opening quote.
    fn parse_quoted(&mut self) -> Result<String, Malformed> {
        self.i += 1;
        self.quoted = true;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(Malformed),
                Some(b'"') => {
                    self.i += 1;
                    self.quoted = false;
                    return Ok(String::from_utf8_lossy(&value).into_owned());
                }
                Some(b'\\') => {
                    // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                    match self.s.get(self.i + 1).copied() {
                        Some(c) if c == b'\t' || (c >= 0x20 && c != 0x7f) => {
                            value.push(c);
                            self.i += 2;
                        }
                        _ => return Err(Malformed),
                    }
                }
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                Some(c) if c == b'\t' || (c >= 0x20 && c != 0x7f) => {
                    value.push(c);
                    self.i += 1;
                }
                Some(_) => return Err(Malformed),
            }
        }
    }

    fn parse_extension(&mut self) -> Result<Offer, Malformed> {
        let name = self.parse_token()?;
        let mut params = Vec::new();
        loop {
            self.skip_ows();
            match self.peek() {
                None => break,
                Some(b',') => {
                    self.i += 1;
                    break;
                }
                Some(b';') => {
                    self.i += 1;
                    self.skip_ows();
                    let name = self.parse_token()?;
                    self.skip_ows();
                    let value = if self.peek() == Some(b'=') {
                        self.i += 1;
                        self.skip_ows();
                        Some(if self.peek() == Some(b'"') {
                            self.parse_quoted()?
                        } else {
                            self.parse_token()?
                        })
                    } else {
                        None
                    };
                    params.push(Param { name, value });
                }
                Some(_) => return Err(Malformed),
            }
        }
        Ok(Offer { name, params })
    }
}

/// The parameters agreed for one connection: what each side compresses with.
///
/// Built by [`negotiate`]; [`Agreed::response_header`] is the value of the
/// `Sec-WebSocket-Extensions` response header that states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message, so the server
    /// may reset its decompressor too.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window (9..=15).
    pub server_max_window_bits: u8,
    /// The client's LZ77 window: at most this (8..=15). A decompressor
    /// needs at least 9 bits, which also reads 8-bit streams.
    pub client_max_window_bits: u8,
    /// Whether `server_max_window_bits` is stated in the response (it must
    /// be when the offer carried it, and is when it is below 15).
    state_server_bits: bool,
    /// Whether `client_max_window_bits` is stated in the response (only
    /// allowed when the offer carried it; done when it is below 15).
    state_client_bits: bool,
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

    /// The window the server's decompressor needs for the client's stream.
    pub fn client_inflate_window_bits(&self) -> u8 {
        self.client_max_window_bits.max(MIN_WINDOW_BITS)
    }
}

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
struct Requested {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value.
    client_max_window_bits: Option<Option<u8>>,
}

fn read_offer(offer: &Offer) -> Option<Requested> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn agree(header: &str, config: &DeflateConfig) -> Option<Agreed> {
        negotiate(&parse_offers(&[header]), config)
    }

    fn response(header: &str, config: &DeflateConfig) -> Option<String> {
        agree(header, config).map(|a| a.response_header())
    }

    fn on() -> DeflateConfig {
        DeflateConfig::enabled()
    }

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
}
