//! HTTP heads read as text.

/// A header's value in a request or response head (the first line
/// skipped, the name compared ignoring case, the value trimmed).
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}
