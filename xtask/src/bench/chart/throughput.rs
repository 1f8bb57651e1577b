//! The figures of `results.json`: `throughput.svg`, each server's echo
//! throughput as a ratio to raw TCP's, a panel per runtime and connection
//! count, a group of bars per message size; and `latency.svg`, each
//! server's round-trip percentiles, a panel per runtime.

use serde_json::Value;

use super::{
    colours, counted, distinct, ratio, run_line, servers, Bar, Entry, EntryKind, Figure, Panel,
    RefLine, Server, REFERENCE,
};
use crate::bench::report::size_name;
use crate::bench::Kind;

/// The known servers' keys and names, in `Kind::ALL` order.
fn known() -> Vec<(&'static str, &'static str)> {
    Kind::ALL.iter().map(|k| (k.key(), k.name())).collect()
}

/// The runtimes of the results, each with its name.
fn runtimes(json: &Value) -> Result<Vec<(&str, &Value)>, String> {
    let runtimes = json["runtimes"]
        .as_array()
        .ok_or("no `runtimes` in the results")?;
    Ok(runtimes
        .iter()
        .map(|r| (r["runtime"].as_str().unwrap_or("?"), r))
        .collect())
}

fn bar_entries(servers: &[Server], reference: &str) -> Vec<Entry> {
    servers
        .iter()
        .zip(colours(servers, reference))
        .map(|(s, colour)| Entry {
            label: s.name.clone(),
            colour,
            kind: EntryKind::Bars,
        })
        .collect()
}

fn ratio_label(v: f64) -> String {
    format!("{v:.2}")
}

fn whole_label(v: f64) -> String {
    format!("{v:.0}")
}

pub fn throughput(json: &Value) -> Result<Figure, String> {
    let runtimes = runtimes(json)?;
    let repeats = json["settings"]["repeats"].as_u64().unwrap_or(0) as usize;
    let ceiling = Kind::Ceiling.key();
    let points: Vec<&Value> = runtimes
        .iter()
        .flat_map(|(_, r)| r["throughput"].as_array().into_iter().flatten())
        .collect();
    let keys = points
        .iter()
        .flat_map(|p| p["servers"].as_object().into_iter().flatten())
        .map(|(k, _)| k.as_str())
        .filter(|&k| k != ceiling);
    let servers = servers(keys, &known());
    let sizes = distinct(points.iter().copied(), "size");
    let conns = distinct(points.iter().copied(), "conns");

    let mut entries = bar_entries(&servers, ceiling);
    let raw = entries.len();
    entries.push(Entry {
        label: "raw TCP = 1.0".to_owned(),
        colour: REFERENCE,
        kind: EntryKind::Line { dashed: false },
    });
    let mut panels = Vec::new();
    for (name, r) in &runtimes {
        let measured = r["throughput"].as_array().map_or(&[][..], Vec::as_slice);
        for &c in &conns {
            let bars = sizes
                .iter()
                .map(|&size| {
                    let point = measured.iter().find(|p| {
                        p["size"].as_u64() == Some(size) && p["conns"].as_u64() == Some(c)
                    });
                    servers
                        .iter()
                        .map(|s| {
                            let point = point?;
                            let of = |key: &str| &point["servers"][key]["msgs_per_sec"];
                            // The run paired wsup's with each other server's.
                            let paired = match s.key == Kind::Wsup.key() {
                                true => &point["paired_ratios"][ceiling],
                                false => &Value::Null,
                            };
                            ratio(of(&s.key), of(ceiling), repeats, paired)
                        })
                        .collect()
                })
                .collect();
            panels.push(Panel {
                title: format!("{name}, {}", counted(c, "connection")),
                bars,
                lines: vec![RefLine {
                    value: 1.0,
                    entry: raw,
                }],
            });
        }
    }

    // The messages in flight of each size, as the run had them.
    let windows: Vec<String> = sizes
        .iter()
        .filter_map(|&size| {
            let p = points.iter().find(|p| p["size"].as_u64() == Some(size))?;
            Some(format!(
                "{} at {}",
                p["window"].as_u64()?,
                size_name(size as usize)
            ))
        })
        .collect();
    Ok(Figure {
        title: "Echo throughput as a ratio to a raw TCP echo's (1.0); higher is better".to_owned(),
        subtitle: vec![
            format!(
                "Each server's messages a second ÷ the raw TCP echo's in the same repeat: the median of {repeats} repeats, the whisker their lowest and highest."
            ),
            format!(
                "Binary messages kept in flight per connection: {}. One server thread pinned to one core, the load generator on the other.",
                windows.join(", ")
            ),
            run_line(json),
        ],
        entries,
        groups: sizes.iter().map(|&s| size_name(s as usize)).collect(),
        x_caption: "message size".to_owned(),
        y_caption: "÷ raw TCP".to_owned(),
        columns: conns.len().max(1),
        panels,
        width: 1200.0,
        panel_height: 250.0,
        shared_axis: true,
        axis_decimals: 1,
        value_label: ratio_label,
    })
}

/// The percentiles drawn, by their key in the JSON.
const PERCENTILES: [(&str, &str); 3] = [("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9")];

pub fn latency(json: &Value) -> Result<Figure, String> {
    let runtimes = runtimes(json)?;
    let field = "latency_16b_1conn_w1";
    let ceiling = Kind::Ceiling.key();
    let keys = runtimes
        .iter()
        .flat_map(|(_, r)| r[field].as_object().into_iter().flatten())
        .map(|(k, _)| k.as_str());
    // Raw TCP is a server like the others here, drawn last.
    let mut servers = servers(keys, &known());
    if let Some(i) = servers.iter().position(|s| s.key == ceiling) {
        let raw = servers.remove(i);
        servers.push(raw);
    }
    let panels = runtimes
        .iter()
        .map(|(name, r)| Panel {
            title: (*name).to_owned(),
            bars: PERCENTILES
                .iter()
                .map(|(key, _)| {
                    servers
                        .iter()
                        .map(|s| {
                            let value = r[field][&s.key][*key]["median"].as_f64()?;
                            Some(Bar { value, range: None })
                        })
                        .collect()
                })
                .collect(),
            lines: Vec::new(),
        })
        .collect();
    let settings = &json["settings"];
    let rounds = settings["repeats"].as_u64().unwrap_or(0)
        * settings["latency_rounds_per_repeat"].as_u64().unwrap_or(0);
    Ok(Figure {
        title: "Round-trip latency, one 16-byte message at a time on one connection; lower is better".to_owned(),
        subtitle: vec![
            format!(
                "Each bar: the median over {rounds} rounds of 1 s per server (the servers taking turns) of that round's percentile, in µs. Ranges in results.md."
            ),
            run_line(json),
        ],
        entries: bar_entries(&servers, ceiling),
        groups: PERCENTILES.iter().map(|(_, name)| (*name).to_owned()).collect(),
        x_caption: "percentile".to_owned(),
        y_caption: "µs".to_owned(),
        columns: runtimes.len(),
        panels,
        width: 1200.0,
        panel_height: 250.0,
        shared_axis: true,
        axis_decimals: 0,
        value_label: whole_label,
    }
    // A row of runtimes, unless there are so many servers that their bars
    // would be too narrow for their labels.
    .fit_columns())
}
