//! The `Sec-WebSocket-Extensions` offer parser: [`parse_offers`] reads the
//! client's header values into [`Offer`]s, each a name and its [`Param`]s.
//!
//! The parser is a single forward pass over the bytes: each byte is looked at
//! a bounded number of times, so hostile header values cost linear time, and
//! no input panics. A syntactically malformed extension is dropped (the same
//! outcome as a declined offer) and parsing resumes at the next top-level
//! comma.

/// Name of the extension, as registered by RFC 7692.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

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
    parse_into(header_values).0
}

/// [`parse_offers_bytes`], or `None` when any extension breaks the grammar:
/// for a server's answer, where an extension left out would go unnoticed.
pub(super) fn parse_offers_strict<'a, I>(header_values: I) -> Option<Vec<Offer>>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let (offers, well_formed) = parse_into(header_values);
    well_formed.then_some(offers)
}

/// The extensions parsed, and whether none was left out as malformed.
fn parse_into<'a, I>(header_values: I) -> (Vec<Offer>, bool)
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut offers = Vec::new();
    let mut well_formed = true;
    for value in header_values {
        well_formed &= Parser {
            s: value,
            i: 0,
            quoted: false,
        }
        .parse_list(&mut offers);
    }
    (offers, well_formed)
}

/// RFC 7230 `tchar`: a byte of a token.
pub(crate) fn is_tchar(b: u8) -> bool {
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

    /// Parses the list into `offers`; whether no extension was malformed.
    fn parse_list(&mut self, offers: &mut Vec<Offer>) -> bool {
        let mut well_formed = true;
        loop {
            self.skip_ows();
            match self.peek() {
                None => return well_formed,
                // An empty list element (RFC 7230 section 7).
                Some(b',') => self.i += 1,
                Some(_) => match self.parse_extension() {
                    Ok(offer) => offers.push(offer),
                    Err(Malformed) => {
                        well_formed = false;
                        self.recover();
                    }
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
