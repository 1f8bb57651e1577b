//! Where everything goes, in pixels, before anything is drawn: the header,
//! the legend in a band of its own under it (so that it never covers a
//! bar), and the grid of panels, each with room for its title, the value
//! labels over its tallest bars, its tick labels and its axis captions.

/// Space around the figure.
pub const MARGIN: f64 = 16.0;
/// The smallest value label drawn; a bar too narrow for it goes without.
pub const MIN_LABEL_PX: f64 = 8.0;
/// The size of value label a figure is laid out for: its bars are made
/// wide enough for their labels at this size at least.
pub const LABEL_PX: f64 = 9.0;
/// Line height, as a multiple of the font size.
const LINE: f64 = 1.5;
/// Between panels, and between the legend and the first row of them.
const GRID_GAP: f64 = 20.0;

/// The figure's fonts, each at a size plotters can write exactly
/// (`figure::font_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    /// The figure's title.
    Title,
    /// A panel's title.
    Head,
    /// The subtitle and the legend.
    Text,
    /// The groups' labels under their bars.
    Group,
    /// Tick labels, axis captions and value labels.
    Small,
}

impl Font {
    #[cfg(test)]
    pub const ALL: [Font; 5] = [
        Font::Title,
        Font::Head,
        Font::Text,
        Font::Group,
        Font::Small,
    ];

    /// The size, in pixels.
    pub const fn px(self) -> f64 {
        match self {
            Font::Title => 18.0,
            Font::Head => 14.0,
            Font::Text => 12.5,
            Font::Group => 12.0,
            Font::Small => 11.0,
        }
    }
}

/// A legend entry's room: its swatch, the space after the swatch and
/// after the text, and the height of a row of entries.
struct LegendRoom {
    swatch: f64,
    swatch_gap: f64,
    entry_gap: f64,
    row: f64,
}

const LEGEND: LegendRoom = LegendRoom {
    swatch: 14.0,
    swatch_gap: 6.0,
    entry_gap: 24.0,
    row: 20.0,
};

/// The room inside a panel around its plot: its title above, room for the
/// value label of a bar that reaches the top, the tick labels and the
/// value caption on the left, a little on the right, the group labels and
/// their caption below.
struct PanelRoom {
    title: f64,
    headroom: f64,
    y_axis: f64,
    right: f64,
    x_axis: f64,
}

const PANEL: PanelRoom = PanelRoom {
    title: 22.0,
    headroom: 16.0,
    y_axis: 58.0,
    right: 4.0,
    x_axis: 40.0,
};

/// The bars: the gap between two of a group, and between a value label
/// and its bar's edges; the share of a group's width its bars take (the
/// rest parts groups).
const BAR_GAP: f64 = 1.5;
const LABEL_ROOM: f64 = 3.0;
const BARS_SHARE: f64 = 0.84;

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
    let mut y = title_y + Font::Title.px() * LINE;
    let subtitle_y = (0..spec.subtitle_lines)
        .map(|i| y + i as f64 * Font::Text.px() * LINE)
        .collect();
    y += spec.subtitle_lines as f64 * Font::Text.px() * LINE + 4.0;

    // Legend entries flow left to right, onto a new row when the next one
    // would cross the right margin.
    let band_top = y;
    let (mut x, mut row) = (MARGIN, 0usize);
    let mut legend = Vec::new();
    for label in spec.legend {
        let w = LEGEND.swatch + LEGEND.swatch_gap + text_width(label, Font::Text.px());
        if x > MARGIN && x + w > spec.width - MARGIN {
            x = MARGIN;
            row += 1;
        }
        let top = band_top + row as f64 * LEGEND.row;
        let swatch = Rect {
            x,
            y: top + (LEGEND.row - LEGEND.swatch) / 2.0,
            w: LEGEND.swatch,
            h: LEGEND.swatch,
        };
        legend.push(LegendItem {
            swatch,
            text_at: (
                x + LEGEND.swatch + LEGEND.swatch_gap,
                top + LEGEND.row / 2.0,
            ),
            bounds: Rect {
                x,
                y: top,
                w,
                h: LEGEND.row,
            },
        });
        x += w + LEGEND.entry_gap;
    }
    let rows = if spec.legend.is_empty() { 0 } else { row + 1 };
    let legend_band = Rect {
        x: MARGIN,
        y: band_top,
        w: spec.width - 2.0 * MARGIN,
        h: rows as f64 * LEGEND.row,
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
                x: frame.x + PANEL.y_axis,
                y: frame.y + PANEL.title + PANEL.headroom,
                w: frame.w - PANEL.y_axis - PANEL.right,
                h: frame.h - PANEL.title - PANEL.headroom - PANEL.x_axis,
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
    let panel = PANEL.y_axis + PANEL.right + plot;
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
    let px = fit.min(Font::Small.px()).floor();
    (px >= MIN_LABEL_PX).then_some(px)
}
