//! The value axis: from zero to a round top, ticks at a round step (1, 2
//! or 5 times a power of ten), each labelled with the decimals the step
//! needs and no more.

/// A value axis from 0 to `top`, a tick every `step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub top: f64,
    pub step: f64,
    /// Decimals every label has at least on an axis up to 5: 1 for ratios,
    /// which then read `0.5` and `1.0` whatever the step (but `10`, not
    /// `10.0`, on a longer axis).
    pub min_decimals: usize,
}

impl Axis {
    /// The axis that holds `max` in about `intervals` steps; a max that is
    /// not a positive number gets an axis to 1.
    pub fn fit(max: f64, intervals: usize, min_decimals: usize) -> Self {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let step = round_step(max / intervals.max(1) as f64);
        // A hair of tolerance, so that a maximum on a tick ends the axis
        // there instead of a step above.
        let top = (max / step - 1e-9).ceil().max(1.0) * step;
        Axis {
            top,
            step,
            min_decimals,
        }
    }

    /// The tick values, from 0 to `top`.
    pub fn ticks(&self) -> Vec<f64> {
        let n = (self.top / self.step).round() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    /// A tick's label: `0.5`, `1.0`, `250`.
    pub fn label(&self, value: f64) -> String {
        let least = if self.top <= 5.0 {
            self.min_decimals
        } else {
            0
        };
        let decimals = decimals(self.step).max(least);
        format!("{value:.decimals$}")
    }

    /// Where `value` falls between `bottom` (0) and `top_px` (the axis'
    /// top), clamped to them.
    pub fn map(&self, value: f64, bottom: f64, top_px: f64) -> f64 {
        let t = (value / self.top).clamp(0.0, 1.0);
        bottom + (top_px - bottom) * t
    }
}

/// The least of 1, 2, 5 times a power of ten that is at least `raw`.
pub fn round_step(raw: f64) -> f64 {
    let raw = if raw.is_finite() && raw > 0.0 {
        raw
    } else {
        1.0
    };
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// The decimals that write every multiple of `step` exactly: 1 for 0.2,
/// 2 for 0.05, 0 for 100.
pub fn decimals(step: f64) -> usize {
    let mut d = 0;
    while d < 6
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-6
    {
        d += 1;
    }
    d
}

/// `1,000`, `15,000`: a count with thousands separated.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
