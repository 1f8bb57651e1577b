//! Medians, spreads and paired ratios: each repeat measures the servers
//! back to back, so a ratio is taken within a round and the median over
//! the rounds.

use super::{Kind, Latency, Sample, SERVERS};

/// Median, min and max; `None` when empty.
pub fn spread(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64, f64)> {
    let mut v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((median, v[0], v[n - 1]))
}

pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    spread(values).map(|(m, _, _)| m)
}

/// A measurement taken in a numbered round, which pairs it with the other
/// servers' measurements of the same round.
pub trait Round {
    fn round(&self) -> usize;
}

impl Round for Sample {
    fn round(&self) -> usize {
        self.round
    }
}

impl Round for Latency {
    fn round(&self) -> usize {
        self.round
    }
}

/// `a ÷ b` for each round present in both, as `(round, value)` pairs, in
/// `a`'s order; a round where `b` is not positive is skipped.
pub fn paired_ratios(a: &[(usize, f64)], b: &[(usize, f64)]) -> Vec<f64> {
    a.iter()
        .filter_map(|&(round, x)| {
            let &(_, y) = b.iter().find(|&&(r, _)| r == round)?;
            (y > 0.0).then(|| x / y)
        })
        .collect()
}

/// Server `of`'s figure ÷ server `to`'s, one ratio per round measured on
/// both.
pub fn paired<T: Round>(
    samples: &[Vec<T>; SERVERS],
    of: Kind,
    to: Kind,
    get: impl Fn(&T) -> f64,
) -> Vec<f64> {
    let by_round = |v: &[T]| v.iter().map(|s| (s.round(), get(s))).collect::<Vec<_>>();
    paired_ratios(
        &by_round(&samples[of.index()]),
        &by_round(&samples[to.index()]),
    )
}
