//! `cargo xtask bench --redraw FILE`: the figures of a saved run drawn
//! again, beside it: a `results.json` gets `throughput.svg` and
//! `latency.svg` (`chart.rs`), a `fanout.json` gets `fanout.svg`
//! (`fanout/chart.rs`).

use std::path::Path;

use serde_json::Value;

use super::{chart, fanout};

/// `cargo xtask bench --redraw FILE`: the figures of a saved
/// `results.json` or `fanout.json`, written beside it.
pub fn redraw(file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let written = if json.get("runtimes").is_some() {
        chart::draw(dir, &json)?
    } else if json.get("points").is_some() {
        fanout::chart::draw_json(&dir.join("fanout.svg"), &json)?;
        vec!["fanout.svg"]
    } else {
        return Err(format!(
            "{}: neither a results.json (no `runtimes`) nor a fanout.json (no `points`)",
            file.display()
        ));
    };
    println!("==> wrote {} in {}", written.join(" and "), dir.display());
    Ok(())
}
