//! A figure of grouped bars in small multiples, and its drawing: the
//! figures of the bench are all this one kind, filled from the results'
//! JSON (`throughput.rs`, `fanout/chart.rs`).
//!
//! A figure is a title and subtitle, a legend in a band of its own, and a
//! grid of panels. Every panel has the same groups along x (message sizes,
//! percentiles, subscriber counts) and in each group a bar per series (the
//! servers, or the message sizes), with the value over the bar, a whisker
//! for its range when there is one, and horizontal reference lines (1.0 =
//! raw TCP, an aim) behind the bars.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::layout::{self, bar_slots, label_px, text_width, Font, Layout, Rect, Spec};
use super::scale::Axis;

/// `0xRRGGBB`.
pub type Colour = u32;

/// A legend entry: a bar series or a kind of reference line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub label: String,
    pub colour: Colour,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A series of bars.
    Bars,
    /// A reference line, dashed or solid.
    Line { dashed: bool },
}

/// One bar: the median, and the range of the repeats when known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub value: f64,
    pub range: Option<(f64, f64)>,
}

impl Bar {
    /// The highest point it reaches, whisker included.
    pub fn top(&self) -> f64 {
        self.range.map_or(self.value, |(_, hi)| hi.max(self.value))
    }
}

/// A bar's value as drawn over it: the text, its size, and the box it
/// takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub group: usize,
    pub series: usize,
    pub text: String,
    pub px: f64,
    pub rect: Rect,
}

/// A horizontal line across a panel, drawn in the colour and style of
/// legend entry `entry`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefLine {
    pub value: f64,
    pub entry: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    /// `bars[group][series]`; `None` where nothing was measured.
    pub bars: Vec<Vec<Option<Bar>>>,
    pub lines: Vec<RefLine>,
}

#[derive(Debug, Clone)]
pub struct Figure {
    pub title: String,
    pub subtitle: Vec<String>,
    /// Legend entries: first the bar series, in the order of each group's
    /// bars, then the reference lines.
    pub entries: Vec<Entry>,
    /// The groups' labels along x, and what they are.
    pub groups: Vec<String>,
    pub x_caption: String,
    pub y_caption: String,
    pub panels: Vec<Panel>,
    pub columns: usize,
    pub width: f64,
    pub panel_height: f64,
    /// One value axis for every panel, so that they compare at a glance;
    /// else each panel fits its own.
    pub shared_axis: bool,
    /// Decimals of the value axis' labels, at least.
    pub axis_decimals: usize,
    /// A bar's value label.
    pub value_label: fn(f64) -> String,
}

/// Colours: text, the lighter text of captions, grid lines.
const INK: RGBColor = RGBColor(0x20, 0x20, 0x20);
const NOTE: RGBColor = RGBColor(0x5a, 0x5a, 0x5a);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const AXIS: RGBColor = RGBColor(0x90, 0x90, 0x90);
const WHISKER: RGBColor = RGBColor(0x40, 0x40, 0x40);

fn rgb(hex: Colour) -> RGBColor {
    let [_, r, g, b] = hex.to_be_bytes();
    RGBColor(r, g, b)
}

impl Figure {
    /// How many series of bars there are (the first entries).
    pub fn series(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::Bars))
            .count()
    }

    /// The layout, at `width` or wider: wide enough for bars that hold
    /// their value label.
    pub fn layout(&self) -> Layout {
        let legend: Vec<String> = self.entries.iter().map(|e| e.label.clone()).collect();
        let columns = self.columns.clamp(1, self.panels.len().max(1));
        let needed = self.width_for(columns);
        layout::layout(&Spec {
            width: self.width.max(needed),
            subtitle_lines: self.subtitle.len(),
            legend: &legend,
            panels: self.panels.len(),
            columns: self.columns,
            panel_height: self.panel_height,
        })
    }

    /// The width at which the bars hold the longest of their labels.
    fn width_for(&self, columns: usize) -> f64 {
        let longest = self
            .panels
            .iter()
            .flat_map(|p| p.bars.iter().flatten().flatten())
            .map(|b| (self.value_label)(b.value))
            .max_by_key(|l| l.chars().count())
            .unwrap_or_default();
        layout::width_for(columns, self.groups.len(), self.series(), &longest)
    }

    /// Fewer columns (panels in more rows) if the bars would otherwise be
    /// too narrow for their labels at `width`.
    pub fn fit_columns(mut self) -> Self {
        while self.columns > 1 && self.width_for(self.columns) > self.width {
            self.columns -= 1;
        }
        self
    }

    /// The value axis of each panel.
    pub fn axes(&self) -> Vec<Axis> {
        let highest = |p: &Panel| {
            let bars = p.bars.iter().flatten().flatten().map(Bar::top);
            let lines = p.lines.iter().map(|l| l.value);
            bars.chain(lines).fold(0.0, f64::max)
        };
        let fit = |max: f64| Axis::fit(max, 5, self.axis_decimals);
        if self.shared_axis {
            let max = self.panels.iter().map(highest).fold(0.0, f64::max);
            vec![fit(max); self.panels.len()]
        } else {
            self.panels.iter().map(|p| fit(highest(p))).collect()
        }
    }

    /// The value labels of `panel`, drawn in `plot` on `axis`: over each
    /// bar whose label fits its width (`layout` makes the figure wide
    /// enough for most), all in one size, the smallest any needs, so that
    /// the numbers read alike.
    pub fn labels(&self, plot: &Rect, axis: &Axis, panel: &Panel) -> Vec<Label> {
        let series = self.series();
        // The panels' bars are all as wide.
        let bar_w = bar_slots(plot, self.groups.len(), series, 0)
            .first()
            .map_or(0.0, |s| s.1);
        let uniform = self
            .panels
            .iter()
            .flat_map(|p| p.bars.iter().flatten().flatten())
            .filter_map(|b| label_px(&(self.value_label)(b.value), bar_w))
            .fold(Font::Small.px(), f64::min);
        let mut labels = Vec::new();
        for (g, bars) in panel.bars.iter().enumerate() {
            let slots = bar_slots(plot, self.groups.len(), series, g);
            for (s, (bar, &(x, w))) in bars.iter().zip(&slots).enumerate() {
                let Some(bar) = bar else { continue };
                let text = (self.value_label)(bar.value);
                if label_px(&text, w).is_none() {
                    continue;
                }
                let tw = text_width(&text, uniform);
                // Over the bar rather than its whisker, which the label's
                // patch interrupts: a label far above its bar reads as
                // another bar's.
                let bottom = axis.map(bar.value, plot.bottom(), plot.y) - 2.0;
                let rect = Rect {
                    x: x + (w - tw) / 2.0,
                    y: bottom - uniform - 1.0,
                    w: tw,
                    h: uniform + 1.0,
                };
                labels.push(Label {
                    group: g,
                    series: s,
                    text,
                    px: uniform,
                    rect,
                });
            }
        }
        labels
    }

    /// The SVG document.
    pub fn svg(&self) -> Result<String, String> {
        let layout = self.layout();
        let mut out = String::new();
        {
            let size = (layout.width as u32, layout.height as u32);
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            let mut canvas = Canvas { root };
            canvas
                .draw(self, &layout)
                .map_err(|e| format!("drawing: {e}"))?;
            canvas.root.present().map_err(|e| format!("drawing: {e}"))?;
        }
        Ok(out)
    }

    /// Writes the SVG to `path`.
    pub fn write(&self, path: &std::path::Path) -> Result<(), String> {
        std::fs::write(path, self.svg()?)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Drawing in pixels on the figure's SVG.
struct Canvas<'a> {
    root: Area<'a>,
}

/// The size to give plotters for text of `px` pixels: it writes size /
/// 1.24 into the SVG, so the size whose quotient is exactly `px`, for a
/// `font-size="13"` rather than `13.000000000000002`.
pub fn font_size(px: f64) -> f64 {
    let size = px * 1.24;
    [
        size,
        f64::from_bits(size.to_bits() + 1),
        f64::from_bits(size.to_bits() - 1),
    ]
    .into_iter()
    .find(|s| s / 1.24 == px)
    .unwrap_or(size)
}

fn at(x: f64, y: f64) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

impl Canvas<'_> {
    fn text(&self, text: &str, (x, y): (f64, f64), px: f64, colour: RGBColor, pos: Pos) -> Drawn {
        let style = ("sans-serif", font_size(px))
            .into_font()
            .color(&colour)
            .pos(pos);
        self.root
            .draw(&Text::new(text.to_owned(), at(x, y), style))?;
        Ok(())
    }

    fn rect(&self, r: Rect, colour: RGBColor) -> Drawn {
        let corners = [at(r.x, r.y), at(r.right(), r.bottom())];
        self.root.draw(&Rectangle::new(corners, colour.filled()))?;
        Ok(())
    }

    fn line(
        &self,
        from: (f64, f64),
        to: (f64, f64),
        colour: RGBColor,
        width: u32,
        dashed: bool,
    ) -> Drawn {
        let style = colour.stroke_width(width);
        if dashed {
            let path = [at(from.0, from.1), at(to.0, to.1)];
            self.root.draw(&DashedPathElement::new(path, 6, 4, style))?;
        } else {
            self.root.draw(&PathElement::new(
                vec![at(from.0, from.1), at(to.0, to.1)],
                style,
            ))?;
        }
        Ok(())
    }

    fn draw(&mut self, figure: &Figure, layout: &Layout) -> Drawn {
        self.root.fill(&WHITE)?;
        let left_top = Pos::new(HPos::Left, VPos::Top);
        self.text(
            &figure.title,
            (layout::MARGIN, layout.title_y),
            Font::Title.px(),
            INK,
            left_top,
        )?;
        for (line, &y) in figure.subtitle.iter().zip(&layout.subtitle_y) {
            self.text(line, (layout::MARGIN, y), Font::Text.px(), NOTE, left_top)?;
        }
        for (entry, item) in figure.entries.iter().zip(&layout.legend) {
            let colour = rgb(entry.colour);
            let s = item.swatch;
            match entry.kind {
                EntryKind::Bars => self.rect(s, colour)?,
                EntryKind::Line { dashed } => {
                    let y = s.y + s.h / 2.0;
                    self.line((s.x, y), (s.right(), y), colour, 2, dashed)?;
                }
            }
            let pos = Pos::new(HPos::Left, VPos::Center);
            self.text(&entry.label, item.text_at, Font::Text.px(), INK, pos)?;
        }
        for ((panel, boxed), axis) in figure.panels.iter().zip(&layout.panels).zip(figure.axes()) {
            self.panel(figure, panel, &boxed.frame, &boxed.plot, &axis)?;
        }
        Ok(())
    }

    fn panel(
        &self,
        figure: &Figure,
        panel: &Panel,
        frame: &Rect,
        plot: &Rect,
        axis: &Axis,
    ) -> Drawn {
        let y_of = |v: f64| axis.map(v, plot.bottom(), plot.y);
        let centre = Pos::new(HPos::Center, VPos::Top);
        let title_at = (plot.x + plot.w / 2.0, frame.y);
        self.text(&panel.title, title_at, Font::Head.px(), INK, centre)?;

        // Grid and tick labels, then the captions.
        for tick in axis.ticks() {
            let y = y_of(tick);
            self.line((plot.x, y), (plot.right(), y), GRID, 1, false)?;
            let pos = Pos::new(HPos::Right, VPos::Center);
            self.text(
                &axis.label(tick),
                (plot.x - 6.0, y),
                Font::Small.px(),
                NOTE,
                pos,
            )?;
        }
        let caption = ("sans-serif", font_size(Font::Small.px()))
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(&NOTE)
            .pos(Pos::new(HPos::Center, VPos::Top));
        let caption_at = at(frame.x, plot.y + plot.h / 2.0);
        self.root
            .draw(&Text::new(figure.y_caption.clone(), caption_at, caption))?;
        let groups = figure.groups.len().max(1);
        let group_w = plot.w / groups as f64;
        for (g, label) in figure.groups.iter().enumerate() {
            let x = plot.x + (g as f64 + 0.5) * group_w;
            self.text(
                label,
                (x, plot.bottom() + 5.0),
                Font::Group.px(),
                INK,
                centre,
            )?;
        }
        let x_caption_at = (plot.x + plot.w / 2.0, plot.bottom() + 23.0);
        self.text(
            &figure.x_caption,
            x_caption_at,
            Font::Small.px(),
            NOTE,
            centre,
        )?;

        // Reference lines behind the bars.
        for line in &panel.lines {
            let entry = &figure.entries[line.entry];
            let dashed = matches!(entry.kind, EntryKind::Line { dashed: true });
            let y = y_of(line.value);
            self.line((plot.x, y), (plot.right(), y), rgb(entry.colour), 2, dashed)?;
        }

        let series = figure.series();
        for (g, bars) in panel.bars.iter().enumerate() {
            let slots = bar_slots(plot, groups, series, g);
            for (s, bar) in bars.iter().enumerate() {
                let (Some(bar), Some(&(x, w))) = (bar, slots.get(s)) else {
                    continue;
                };
                let top = y_of(bar.value);
                let colour = rgb(figure.entries[s].colour);
                self.rect(
                    Rect {
                        x,
                        y: top,
                        w,
                        h: plot.bottom() - top,
                    },
                    colour,
                )?;
                if let Some((lo, hi)) = bar.range {
                    let mid = x + w / 2.0;
                    let cap = (w / 4.0).clamp(2.0, 5.0);
                    self.line((mid, y_of(lo)), (mid, y_of(hi)), WHISKER, 1, false)?;
                    for v in [lo, hi] {
                        self.line(
                            (mid - cap, y_of(v)),
                            (mid + cap, y_of(v)),
                            WHISKER,
                            1,
                            false,
                        )?;
                    }
                }
            }
        }
        // Value labels last, each on a white patch over any line under it.
        for label in figure.labels(plot, axis, panel) {
            self.rect(label.rect, WHITE)?;
            let pos = Pos::new(HPos::Center, VPos::Bottom);
            let at = (label.rect.x + label.rect.w / 2.0, label.rect.bottom() - 1.0);
            self.text(&label.text, at, label.px, INK, pos)?;
        }
        // The axis line over the bars' feet.
        self.line(
            (plot.x, plot.bottom()),
            (plot.right(), plot.bottom()),
            AXIS,
            1,
            false,
        )?;
        Ok(())
    }
}
