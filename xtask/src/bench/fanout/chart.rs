//! `fanout.svg`: wsup's deliveries a second as ratios, small multiples: a
//! row per reference (the baseline, raw TCP), a column per message size,
//! a bar per subscriber count, the aim as an orange line. A header names the
//! servers and each panel says what it shows in its title, so there is no
//! legend to cover the bars.

use std::path::Path;

use plotters::prelude::*;

use super::report::{FanoutReport, TARGET_BASELINE, TARGET_CEILING};
use super::Fanout;
use crate::bench::report::{median, size_name};

const BAR: RGBColor = RGBColor(0x1f, 0x4e, 0xb4);
const AIM: RGBColor = RGBColor(0xd0, 0x60, 0x10);
const NOTE: RGBColor = RGBColor(0x60, 0x60, 0x60);

pub fn draw(path: &Path, report: &FanoutReport) -> Result<(), Box<dyn std::error::Error>> {
    let sizes = &report.plan.sizes;
    let root = SVGBackend::new(path, (520 * sizes.len().max(1) as u32, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let (header, body) = root.split_vertically(64);
    header.draw_text(
        "Fan-out: wsup hub's deliveries/s as a ratio to the baseline and to the ceiling",
        &("sans-serif", 19).into_font().color(&BLACK),
        (14, 10),
    )?;
    header.draw_text(
        &format!(
            "baseline: {}; ceiling: {}; one publisher; tokio, one thread",
            Fanout::Baseline.name(),
            Fanout::Ceiling.name(),
        ),
        &("sans-serif", 14).into_font().color(&NOTE),
        (14, 38),
    )?;
    let rows = [
        ("÷ baseline", Fanout::Baseline, TARGET_BASELINE),
        ("÷ raw TCP", Fanout::Ceiling, TARGET_CEILING),
    ];
    let panels = body.split_evenly((rows.len(), sizes.len().max(1)));
    let subscribers = &report.plan.subscribers;
    let n = subscribers.len();
    for (i, panel) in panels.iter().enumerate() {
        let (row, size) = (&rows[i / sizes.len()], sizes[i % sizes.len()]);
        let (title, other, aim) = *row;
        let bars: Vec<(f64, f64)> = subscribers
            .iter()
            .enumerate()
            .filter_map(|(j, &subs)| {
                let point = report
                    .points
                    .iter()
                    .find(|p| p.subscribers == subs && p.size == size)?;
                let ratios = point.ratios(Fanout::Wsup, other, |s| s.deliveries_per_sec);
                Some((j as f64, median(ratios)?))
            })
            .collect();
        let top = bars.iter().map(|b| b.1).fold(aim, f64::max) * 1.25;
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("{} messages: wsup {title} (aim ≥ {aim})", size_name(size)),
                ("sans-serif", 17),
            )
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(50)
            // Bar j centred on x = j.
            .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top)?;
        // Labels only at the bars, whatever steps the axis takes.
        let label = |x: &f64| match subscribers.get(x.round().max(0.0) as usize) {
            Some(s) if (x - x.round()).abs() < 1e-6 => s.to_string(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_desc("subscribers")
            .y_desc("ratio")
            .x_labels(n + 1)
            .x_label_formatter(&label)
            .y_label_formatter(&|y| format!("{y:.1}"))
            .draw()?;
        // The aim first, behind the bars.
        chart.draw_series(LineSeries::new(
            [(-0.5, aim), (n as f64 - 0.5, aim)],
            AIM.stroke_width(2),
        ))?;
        chart.draw_series(
            bars.iter()
                .map(|&(j, v)| Rectangle::new([(j - 0.32, 0.0), (j + 0.32, v)], BAR.filled())),
        )?;
        // The value inside the bar's top, in white, clear of the aim line;
        // above a bar too short to hold it.
        chart.draw_series(bars.iter().map(|&(j, v)| {
            let (y, color) = if v > top * 0.1 {
                (v - top * 0.02, WHITE)
            } else {
                (v + top * 0.07, BLACK)
            };
            Text::new(
                format!("{v:.2}"),
                (j - 0.08, y),
                ("sans-serif", 14).into_font().color(&color),
            )
        }))?;
    }
    root.present()?;
    Ok(())
}
