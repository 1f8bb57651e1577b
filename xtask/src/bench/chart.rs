//! `throughput.svg`: echoed payload MB/s by message size, one line per
//! runtime and server, one panel per connection count; both axes log.

use std::path::Path;

use plotters::prelude::*;

use super::report::{median, size_name, Report};
use super::Kind;

/// Colours by server (wsup, its README loop, batched baseline, `send`
/// baseline, fastwebsockets, ceiling), darker to lighter by runtime.
const PALETTE: [[u32; 3]; Kind::ALL.len()] = [
    [0x1f4eb4, 0x4a7fe0, 0x8ab0f0],
    [0x6a2c9a, 0x9458c4, 0xc29ae4],
    [0xc05010, 0xe88030, 0xf5b070],
    [0x208040, 0x40b060, 0x90d8a0],
    [0xa01838, 0xd04060, 0xec90a4],
    [0x303030, 0x707070, 0xa8a8a8],
];

/// `0xRRGGBB` as a plotters colour.
fn rgb(hex: u32) -> RGBColor {
    let [_, r, g, b] = hex.to_be_bytes();
    RGBColor(r, g, b)
}

pub fn draw(path: &Path, report: &Report) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1200, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let conns = &report.plan.conns;
    let panels = root.split_evenly((1, conns.len().max(1)));
    let sizes = &report.plan.sizes;
    let (lo, hi) = (
        *sizes.first().unwrap_or(&16) as f64,
        *sizes.last().unwrap_or(&(1 << 20)) as f64,
    );

    // One y range for both panels, so they compare at a glance.
    let all = report
        .results
        .iter()
        .flat_map(|r| &r.throughput)
        .flat_map(|t| t.samples.iter().flatten())
        .map(|s| s.mb_per_sec)
        .filter(|&x| x > 0.0);
    let (ymin, ymax) = all.fold((f64::MAX, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    let (ymin, ymax) = if ymax > 0.0 {
        (ymin / 2.0, ymax * 2.0)
    } else {
        (0.1, 10_000.0)
    };

    for (panel, &n) in panels.iter().zip(conns) {
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("echo throughput, {n} connection(s)"),
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((lo / 1.5..hi * 1.5).log_scale(), (ymin..ymax).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("message size")
            .y_desc("payload MB/s")
            .x_label_formatter(&|x| size_name(x.round() as usize))
            .y_label_formatter(&|y| format!("{y:.3}"))
            .draw()?;
        for (ri, r) in report.results.iter().enumerate() {
            for (ki, kind) in Kind::ALL.iter().enumerate() {
                let points: Vec<(f64, f64)> = r
                    .throughput
                    .iter()
                    .filter(|t| t.conns == n)
                    .filter_map(|t| {
                        median(t.samples[ki].iter().map(|s| s.mb_per_sec))
                            .map(|m| (t.size as f64, m))
                    })
                    .collect();
                if points.is_empty() {
                    continue;
                }
                let color = rgb(PALETTE[ki][ri % 3]);
                chart
                    .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                    .label(format!("{} {}", r.runtime.name(), kind.name()))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
