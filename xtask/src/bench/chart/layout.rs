//! Where everything goes, in pixels, before anything is drawn: the header,
//! the legend in a band of its own under it (so that it never covers a
//! bar), and the grid of panels, each with room for its title, the value
//! labels over its tallest bars, its tick labels and its axis captions.

/// Space around the figure.
pub const MARGIN: f64 = 16.0;
/// Font sizes, in pixels: the title, the panels' titles, the subtitle and
/// legend, the groups' labels, tick and value labels. Each one plotters
/// can write exactly (`figure::font_size`).
pub const TITLE_PX: f64 = 18.0;
pub const HEAD_PX: f64 = 14.0;
pub const TEXT_PX: f64 = 12.5;
pub const GROUP_PX: f64 = 12.0;
pub const SMALL_PX: f64 = 11.0;
/// The smallest value label drawn; a bar too narrow for it goes without.
pub const MIN_LABEL_PX: f64 = 8.0;
/// Line height, as a multiple of the font size.
const LINE: f64 = 1.5;
/// A legend entry's swatch, the space after it and after its text.
pub const SWATCH: f64 = 14.0;
const SWATCH_GAP: f64 = 6.0;
const ENTRY_GAP: f64 = 24.0;
const LEGEND_ROW: f64 = 20.0;
/// Between panels, and between the legend and the first row of them.
const GRID_GAP: f64 = 20.0;
/// Inside a panel: its title above the plot, room for the value label of
/// a bar that reaches the top, the tick labels and the value caption on
/// the left, the group labels and their caption below.
const PANEL_TITLE: f64 = 22.0;
const HEADROOM: f64 = 16.0;
pub const Y_AXIS: f64 = 58.0;
const PLOT_RIGHT: f64 = 4.0;
/// Between two bars of a group; between a value label and its bar's edges.
const BAR_GAP: f64 = 1.5;
const LABEL_ROOM: f64 = 3.0;
const X_AXIS: f64 = 40.0;
/// The share of a group's width its bars take; the rest parts groups.
const BARS_SHARE: f64 = 0.84;
/// The size of value label a figure is laid out for: its bars are made
/// wide enough for their labels at this size at least.
pub const LABEL_PX: f64 = 9.0;

/// A rectangle; y grows downwards, as in SVG.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
}

#[cfg(test)]
impl Rect {
    /// Whether the two share any area (touching edges do not count).
    pub fn intersects(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    pub fn contains(&self, other: &Rect) -> bool {
        self.x <= other.x
            && self.y <= other.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }
}

/// The width `text` takes at `px`, a little generous: 0.6 em a character
/// is wider than sans-serif's digits and most of its letters.
pub fn text_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * px * 0.6
}

/// What the layout needs to know of a figure.
#[derive(Debug)]
pub struct Spec<'a> {
    pub width: f64,
    pub subtitle_lines: usize,
    /// The legend's labels, in order.
    pub legend: &'a [String],
    pub panels: usize,
    pub columns: usize,
    pub panel_height: f64,
}

/// One legend entry: its swatch, and where its text starts (left end,
/// vertical middle).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LegendItem {
    pub swatch: Rect,
    pub text_at: (f64, f64),
    /// Swatch and text together.
    pub bounds: Rect,
}

/// A panel: its whole frame, and the plot inside it, where the bars go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelBox {
    pub frame: Rect,
    pub plot: Rect,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// Top of the title's line, then of each subtitle line.
    pub title_y: f64,
    pub subtitle_y: Vec<f64>,
    pub legend: Vec<LegendItem>,
    /// The band the legend has to itself, between the header and the
    /// panels.
    pub legend_band: Rect,
    pub panels: Vec<PanelBox>,
}

pub fn layout(spec: &Spec<'_>) -> Layout {
    let title_y = MARGIN;
    let mut y = title_y + TITLE_PX * LINE;
    let subtitle_y = (0..spec.subtitle_lines)
        .map(|i| y + i as f64 * TEXT_PX * LINE)
        .collect();
    y += spec.subtitle_lines as f64 * TEXT_PX * LINE + 4.0;

    // Legend entries flow left to right, onto a new row when the next one
    // would cross the right margin.
    let band_top = y;
    let (mut x, mut row) = (MARGIN, 0usize);
    let mut legend = Vec::new();
    for label in spec.legend {
        let w = SWATCH + SWATCH_GAP + text_width(label, TEXT_PX);
        if x > MARGIN && x + w > spec.width - MARGIN {
            x = MARGIN;
            row += 1;
        }
        let top = band_top + row as f64 * LEGEND_ROW;
        let swatch = Rect {
            x,
            y: top + (LEGEND_ROW - SWATCH) / 2.0,
            w: SWATCH,
            h: SWATCH,
        };
        legend.push(LegendItem {
            swatch,
            text_at: (x + SWATCH + SWATCH_GAP, top + LEGEND_ROW / 2.0),
            bounds: Rect {
                x,
                y: top,
                w,
                h: LEGEND_ROW,
            },
        });
        x += w + ENTRY_GAP;
    }
    let rows = if spec.legend.is_empty() { 0 } else { row + 1 };
    let legend_band = Rect {
        x: MARGIN,
        y: band_top,
        w: spec.width - 2.0 * MARGIN,
        h: rows as f64 * LEGEND_ROW,
    };

    let columns = spec.columns.clamp(1, spec.panels.max(1));
    let top = legend_band.bottom() + GRID_GAP / 2.0;
    let pw = (spec.width - 2.0 * MARGIN - (columns - 1) as f64 * GRID_GAP) / columns as f64;
    let ph = spec.panel_height;
    let panels: Vec<PanelBox> = (0..spec.panels)
        .map(|i| {
            let (r, c) = (i / columns, i % columns);
            let frame = Rect {
                x: MARGIN + c as f64 * (pw + GRID_GAP),
                y: top + r as f64 * (ph + GRID_GAP),
                w: pw,
                h: ph,
            };
            let plot = Rect {
                x: frame.x + Y_AXIS,
                y: frame.y + PANEL_TITLE + HEADROOM,
                w: frame.w - Y_AXIS - PLOT_RIGHT,
                h: frame.h - PANEL_TITLE - HEADROOM - X_AXIS,
            };
            PanelBox { frame, plot }
        })
        .collect();
    let bottom = panels
        .iter()
        .map(|p| p.frame.bottom())
        .fold(legend_band.bottom(), f64::max);
    Layout {
        width: spec.width,
        height: (bottom + MARGIN).ceil(),
        title_y,
        subtitle_y,
        legend,
        legend_band,
        panels,
    }
}

/// The figure width at which `columns` panels, each with `groups` groups
/// of `series` bars, have bars wide enough for `label` at `LABEL_PX`.
pub fn width_for(columns: usize, groups: usize, series: usize, label: &str) -> f64 {
    let slot = text_width(label, LABEL_PX) + LABEL_ROOM + BAR_GAP;
    let plot = (groups * series) as f64 * slot / BARS_SHARE;
    let panel = Y_AXIS + PLOT_RIGHT + plot;
    let columns = columns.max(1) as f64;
    (2.0 * MARGIN + (columns - 1.0) * GRID_GAP + columns * panel).ceil()
}

/// The bars of group `g` of `groups` in `plot`: `series` slots side by side
/// in the middle of the group's width, as (left, width).
pub fn bar_slots(plot: &Rect, groups: usize, series: usize, g: usize) -> Vec<(f64, f64)> {
    let group_w = plot.w / groups.max(1) as f64;
    let bars_w = group_w * BARS_SHARE;
    let slot = bars_w / series.max(1) as f64;
    let left = plot.x + g as f64 * group_w + (group_w - bars_w) / 2.0;
    // A pixel between neighbours, so that bars of one colour stay apart.
    let gap = if slot > 6.0 { BAR_GAP } else { 0.0 };
    (0..series)
        .map(|s| (left + s as f64 * slot + gap / 2.0, slot - gap))
        .collect()
}

/// The font size for `label` over a bar `bar_w` wide: the usual small size
/// if it fits with a little space either side (neighbours' labels touching
/// read as one number), smaller down to `MIN_LABEL_PX`, else `None`.
pub fn label_px(label: &str, bar_w: f64) -> Option<f64> {
    let fit = (bar_w - LABEL_ROOM) / text_width(label, 1.0);
    let px = fit.min(SMALL_PX).floor();
    (px >= MIN_LABEL_PX).then_some(px)
}
