//! `fanout.svg`: wsup's hub's deliveries a second as a ratio to each other
//! server's (the baseline, raw TCP), a panel for each, a group of bars per
//! subscriber count, a bar per message size; the aim dashed, 1.0 (as fast
//! as the other server) solid. Drawn from the run's JSON, so that a saved
//! `fanout.json` can be drawn again (`cargo xtask bench --redraw`).

use std::path::Path;

use serde_json::Value;

use super::report::FanoutReport;
use super::Fanout;
use crate::bench::chart::{
    distinct, ratio, run_line, servers, thousands, Entry, EntryKind, Figure, Panel, RefLine, AIM,
    REFERENCE,
};
use crate::bench::report::size_name;

/// The bars' blues, by message size.
const SIZES: [u32; 3] = [0x1f4eb4, 0x6f9be8, 0xaec8f2];

pub fn draw(path: &Path, report: &FanoutReport) -> Result<(), String> {
    draw_json(path, &report.json())
}

/// `fanout.svg` of a `fanout.json`.
pub fn draw_json(path: &Path, json: &Value) -> Result<(), String> {
    figure(json)?.write(path)
}

pub fn figure(json: &Value) -> Result<Figure, String> {
    let points = json["points"]
        .as_array()
        .ok_or("no `points` in the fan-out results")?;
    let repeats = json["settings"]["repeats"].as_u64().unwrap_or(0) as usize;
    let wsup = Fanout::Wsup.key();
    let known: Vec<(&str, &str)> = Fanout::ALL.iter().map(|k| (k.key(), k.name())).collect();
    let others = servers(
        points
            .iter()
            .flat_map(|p| p["servers"].as_object().into_iter().flatten())
            .map(|(k, _)| k.as_str())
            .filter(|&k| k != wsup),
        &known,
    );
    let (sizes, subscribers) = (distinct(points, "size"), distinct(points, "subscribers"));

    let mut entries: Vec<Entry> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| Entry {
            label: format!("{} messages", size_name(size as usize)),
            colour: SIZES[i % SIZES.len()],
            kind: EntryKind::Bars,
        })
        .collect();
    let (aim, even) = (entries.len(), entries.len() + 1);
    entries.push(Entry {
        label: "aim".to_owned(),
        colour: AIM,
        kind: EntryKind::Line { dashed: true },
    });
    entries.push(Entry {
        label: "1.0 = as fast as the other server".to_owned(),
        colour: REFERENCE,
        kind: EntryKind::Line { dashed: false },
    });

    let panels = others
        .iter()
        .map(|other| {
            let target = json["targets"][format!("{wsup}_to_{}_at_least", other.key)].as_f64();
            let mut lines = vec![RefLine {
                value: 1.0,
                entry: even,
            }];
            lines.extend(target.map(|value| RefLine { value, entry: aim }));
            let bars = subscribers
                .iter()
                .map(|&n| {
                    sizes
                        .iter()
                        .map(|&size| {
                            let point = points.iter().find(|p| {
                                p["subscribers"].as_u64() == Some(n)
                                    && p["size"].as_u64() == Some(size)
                            })?;
                            let of = |key: &str| &point["servers"][key]["deliveries_per_sec"];
                            let paired =
                                &point["paired_ratios"][format!("{wsup}_to_{}", other.key)];
                            ratio(of(wsup), of(&other.key), repeats, paired)
                        })
                        .collect()
                })
                .collect();
            Panel {
                title: match target {
                    Some(t) => format!("÷ {} (aim ≥ {t})", other.name),
                    None => format!("÷ {}", other.name),
                },
                bars,
                lines,
            }
        })
        .collect();
    Ok(Figure {
        title: format!(
            "Fan-out: the {}'s deliveries a second as a ratio to each other server's; higher is better",
            Fanout::Wsup.name()
        ),
        subtitle: vec![
            format!(
                "One publisher, its messages sent to every subscriber; tokio, one thread. Each ratio within a repeat: the median of {repeats} repeats, the whisker their range."
            ),
            run_line(json),
        ],
        entries,
        groups: subscribers.iter().map(|&n| thousands(n)).collect(),
        x_caption: "subscribers".to_owned(),
        y_caption: "ratio".to_owned(),
        columns: others.len().max(1),
        panels,
        width: 1000.0,
        panel_height: 280.0,
        shared_axis: false,
        axis_decimals: 1,
        value_label: |v| format!("{v:.2}"),
    })
}
