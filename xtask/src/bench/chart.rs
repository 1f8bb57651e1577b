//! The bench's figures, drawn from the JSON a run writes, so that a saved
//! run can be drawn again (`cargo xtask bench --redraw FILE`, `redraw.rs`):
//! `throughput.svg` and `latency.svg` from `results.json`; `fanout.svg`
//! from `fanout.json` is drawn with these parts by `fanout/chart.rs`.
//!
//! Each is a grid of small panels of grouped bars (`figure.rs`) with the
//! legend in its own band above them. The servers are whatever the JSON
//! holds: the known ones get their names and their place (wsup's servers
//! first), any other is drawn under its key, after them.

use std::path::Path;

use serde_json::Value;

use super::report::spread;

mod figure;
mod layout;
mod scale;
#[cfg(test)]
mod tests;
mod throughput;

pub use figure::{Bar, Entry, EntryKind, Figure, Panel, RefLine};
pub use scale::thousands;

/// Writes `throughput.svg` and `latency.svg` of `results` (a
/// `results.json`) into `dir`; returns their names.
pub fn draw(dir: &Path, results: &Value) -> Result<Vec<&'static str>, String> {
    throughput::throughput(results)?.write(&dir.join("throughput.svg"))?;
    throughput::latency(results)?.write(&dir.join("latency.svg"))?;
    Ok(vec!["throughput.svg", "latency.svg"])
}

/// A server of a run, as the figures show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Its key in the JSON.
    pub key: String,
    pub name: String,
    /// One of wsup's servers: drawn first, in blues.
    pub wsup: bool,
}

/// The servers of `keys` in the order to draw them: wsup's first, then the
/// others; known ones (`known`: key and name, in order) before unknown
/// ones, which keep their key as name and come in alphabetical order.
pub fn servers<'a>(keys: impl IntoIterator<Item = &'a str>, known: &[(&str, &str)]) -> Vec<Server> {
    let mut keys: Vec<&str> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    let mut servers: Vec<(usize, Server)> = keys
        .into_iter()
        .map(|key| {
            let found = known.iter().position(|&(k, _)| k == key);
            let name = found.map_or(key, |i| known[i].1).to_owned();
            let wsup = key.starts_with("wsup") || name.starts_with("wsup");
            let server = Server {
                key: key.to_owned(),
                name,
                wsup,
            };
            (found.unwrap_or(known.len()), server)
        })
        .collect();
    // Stable: unknown keys stay alphabetical among themselves.
    servers.sort_by_key(|(rank, s)| (!s.wsup, *rank));
    servers.into_iter().map(|(_, s)| s).collect()
}

/// Blues for wsup's servers, then distinct colours for the others, and
/// grey for the reference (raw TCP), in the order given.
pub fn colours(servers: &[Server], reference: &str) -> Vec<u32> {
    const WSUP: [u32; 3] = [0x1f4eb4, 0x5d8fe3, 0x9cbcef];
    const OTHERS: [u32; 6] = [0xe07b1f, 0x2e9a4b, 0x8a5cc2, 0xc23b3b, 0x1a9c9c, 0xb38b16];
    let (mut w, mut o) = (0, 0);
    servers
        .iter()
        .map(|s| {
            if s.key == reference {
                REFERENCE
            } else if s.wsup {
                w += 1;
                WSUP[(w - 1) % WSUP.len()]
            } else {
                o += 1;
                OTHERS[(o - 1) % OTHERS.len()]
            }
        })
        .collect()
}

/// The grey of raw TCP, bar or line.
pub const REFERENCE: u32 = 0x6e6e6e;
/// The orange of an aim.
pub const AIM: u32 = 0xd0601a;

/// `a ÷ b` of two `{"median", "samples"}` objects of the JSON, with the
/// range over the repeats: the run's own paired ratios when it wrote them
/// (`paired`, an array; wsup's against each other server), else paired
/// here within each repeat when both hold all `repeats` samples (they are
/// in repeat order), else (a repeat failed on one of them, which leaves
/// no way to pair) the ratio of the medians, with no range.
pub fn ratio(a: &Value, b: &Value, repeats: usize, paired: &Value) -> Option<Bar> {
    let numbers = |v: &Value| -> Vec<f64> {
        v.as_array()
            .map(|s| s.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let with_range = |ratios: Vec<f64>| {
        let n = ratios.len();
        spread(ratios).map(|(value, lo, hi)| Bar {
            value,
            range: (n > 1).then_some((lo, hi)),
        })
    };
    let given = numbers(paired);
    if !given.is_empty() {
        return with_range(given);
    }
    let (sa, sb) = (numbers(&a["samples"]), numbers(&b["samples"]));
    if repeats > 0 && sa.len() == repeats && sb.len() == repeats {
        let ratios = sa.iter().zip(&sb).filter(|&(_, &y)| y > 0.0);
        if let Some(bar) = with_range(ratios.map(|(x, y)| x / y).collect()) {
            return Some(bar);
        }
    }
    let (ma, mb) = (a["median"].as_f64()?, b["median"].as_f64()?);
    (mb > 0.0).then(|| Bar {
        value: ma / mb,
        range: None,
    })
}

/// The sorted distinct values of `field` over `items` (the sizes, the
/// connection or subscriber counts of a run's points).
pub fn distinct<'a>(items: impl IntoIterator<Item = &'a Value>, field: &str) -> Vec<u64> {
    let mut values: Vec<u64> = items
        .into_iter()
        .filter_map(|p| p[field].as_u64())
        .collect();
    values.sort_unstable();
    values.dedup();
    values
}

/// `1,000 subscribers`, `1 connection`: a count and its noun.
pub fn counted(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// The run's line under the title: when, where, which revision.
pub fn run_line(json: &Value) -> String {
    let revision: String = json["git_revision"]
        .as_str()
        .unwrap_or("?")
        .chars()
        .take(7)
        .collect();
    let dirty = if json["git_dirty"].as_bool() == Some(true) {
        " (modified)"
    } else {
        ""
    };
    format!(
        "Run of {}, revision {revision}{dirty}, {} ({} cores), {} mode.",
        json["date"]
            .as_str()
            .unwrap_or("?")
            .split('T')
            .next()
            .unwrap_or("?"),
        json["cpu_model"].as_str().unwrap_or("?"),
        json["cores"].as_u64().unwrap_or(0),
        json["mode"].as_str().unwrap_or("?"),
    )
}
