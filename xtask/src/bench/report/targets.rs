//! The targets, and their verdicts on the figures of a runtime.

use super::format::{fixed2, size_name, small};
use super::stats::{paired, spread};
use super::{Alloc, Kind, Plan, Runtime, RuntimeResults, Sample, Turns, WSUP};

impl RuntimeResults {
    /// The targets, judged on these figures; allocations at the
    /// sizes of `plan` whose frames fit the read buffer.
    pub fn targets(&self, plan: &Plan) -> Vec<Target> {
        let throughput = |size: usize, conns: usize, of, to, get: fn(&Sample) -> f64| {
            self.throughput
                .iter()
                .find(|t| t.size == size && t.conns == conns)
                .map_or_else(Vec::new, |t| paired(&t.samples, of, to, get))
        };
        let ratio = |name: String, comparison, bound, ratios| Target {
            name,
            comparison,
            bound: Some(bound),
            bound_from: None,
            figure: Figure::Paired(ratios),
            fmt: fixed2,
        };
        let mut targets = Vec::new();
        for size in [16, 1 << 10] {
            for kind in [Kind::BaselineSend, Kind::Baseline] {
                targets.push(ratio(
                    format!(
                        "{} × 100 conn, msg/s: wsup ÷ {}",
                        size_name(size),
                        whose(kind)
                    ),
                    Comparison::AtLeast,
                    2.0,
                    throughput(size, 100, Kind::Wsup, kind, |s| s.msgs_per_sec),
                ));
            }
        }
        // What the README teaches, against what most users of
        // async-tungstenite write.
        targets.push(ratio(
            format!(
                "16 B × 100 conn, msg/s: {} ÷ {}",
                whose(Kind::WsupLoop),
                whose(Kind::BaselineSend)
            ),
            Comparison::AtLeast,
            3.0,
            throughput(16, 100, Kind::WsupLoop, Kind::BaselineSend, |s| {
                s.msgs_per_sec
            }),
        ));
        for size in [64 << 10, 1 << 20] {
            for conns in [1, 100] {
                targets.push(ratio(
                    format!("{} × {conns} conn, MB/s: wsup ÷ raw TCP", size_name(size)),
                    Comparison::AtLeast,
                    0.9,
                    throughput(size, conns, Kind::Wsup, Kind::Ceiling, |s| s.mb_per_sec),
                ));
            }
        }
        // The performance issue's bar for every point: messages a second
        // divided by the server's measured CPU use, wsup's over raw TCP's,
        // measured in turns (see `Turns`).
        for size in [16, 1 << 10, 64 << 10, 1 << 20] {
            for conns in [1, 100] {
                let turns = self
                    .throughput
                    .iter()
                    .find(|t| t.size == size && t.conns == conns)
                    .map_or_else(Vec::new, |t| t.turns.iter().map(Turns::ratio).collect());
                targets.push(ratio(
                    format!(
                        "{} × {conns} conn, msg per server CPU-second: wsup ÷ raw TCP",
                        size_name(size)
                    ),
                    Comparison::AtLeast,
                    0.9,
                    turns,
                ));
            }
        }
        targets.push(ratio(
            "latency 16 B × 1 conn, p99: wsup ÷ raw TCP".to_owned(),
            Comparison::AtMost,
            1.2,
            paired(&self.latency, Kind::Wsup, Kind::Ceiling, |l| l.p99),
        ));
        targets.push(Target {
            name: "RSS per idle connection, wsup, KiB".to_owned(),
            comparison: Comparison::AtMost,
            bound: Some(8.0),
            bound_from: None,
            figure: Figure::Value(self.idle[WSUP].map(|i| i.per_conn_kib())),
            fmt: fixed2,
        });
        let per_message = |list: &[Alloc], size: usize| {
            list.iter().find(|a| a.size == size).map(Alloc::per_message)
        };
        for &size in plan.alloc_sizes.iter().filter(|&&s| s <= FITS_READ_BUFFER) {
            // Off tokio, the async-io reactor allocates for both servers.
            let (comparison, bound, bound_from) = if self.runtime == Runtime::Tokio {
                (Comparison::Below, Some(0.01), None)
            } else {
                (
                    Comparison::AtMost,
                    per_message(&self.allocs[1], size).map(|b| b * ALLOC_TOLERANCE),
                    Some(Kind::Baseline),
                )
            };
            targets.push(Target {
                name: format!(
                    "allocations per message, {} × 1 conn, wsup",
                    size_name(size)
                ),
                comparison,
                bound,
                bound_from,
                figure: Figure::Value(per_message(&self.allocs[0], size)),
                fmt: small,
            });
        }
        targets
    }
}

/// The largest message whose frame fits wsup's default 4 KiB read buffer,
/// with the largest client frame header (14 bytes): up to it, an echo
/// needs no allocation of its own.
const FITS_READ_BUFFER: usize = (4 << 10) - 14;

/// Off tokio, wsup's allocations per message may exceed the baseline's by
/// this factor: both are the reactor's, one per turn, and the turns a run
/// takes vary.
const ALLOC_TOLERANCE: f64 = 1.05;

/// How a target's figure must compare with its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    AtLeast,
    AtMost,
    /// Strictly below.
    Below,
}

impl Comparison {
    /// Whether `x` meets `bound`.
    pub fn holds(self, x: f64, bound: f64) -> bool {
        match self {
            Comparison::AtLeast => x >= bound,
            Comparison::AtMost => x <= bound,
            Comparison::Below => x < bound,
        }
    }

    /// Its name in `results.json`.
    pub fn key(self) -> &'static str {
        match self {
            Comparison::AtLeast => "at_least",
            Comparison::AtMost => "at_most",
            Comparison::Below => "below",
        }
    }

    /// Its sign in `results.md`.
    pub(super) fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => "≥",
            Comparison::AtMost => "≤",
            Comparison::Below => "<",
        }
    }
}

/// What a target is judged on.
#[derive(Debug, Clone)]
pub enum Figure {
    /// wsup (or its README loop) ÷ another server, one ratio per round
    /// measured on both.
    Paired(Vec<f64>),
    /// A single figure of wsup's; `None` if its measurement failed.
    Value(Option<f64>),
}

/// One target of the issue on one runtime, and the figure that decides it.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub comparison: Comparison,
    /// `None` when the bound is another server's figure, and that failed.
    pub bound: Option<f64>,
    /// Whose figure the bound is, when it is not a fixed number.
    pub bound_from: Option<Kind>,
    pub figure: Figure,
    /// How the figure is written.
    pub fmt: fn(f64) -> String,
}

impl Target {
    /// Median, min and max of the figure; `None` without data.
    pub fn spread(&self) -> Option<(f64, f64, f64)> {
        match &self.figure {
            Figure::Paired(ratios) => spread(ratios.iter().copied()),
            Figure::Value(value) => value.map(|v| (v, v, v)),
        }
    }

    /// Whether the median meets the bound; `None` without data.
    pub fn met(&self) -> Option<bool> {
        let (median, _, _) = self.spread()?;
        Some(self.comparison.holds(median, self.bound?))
    }

    /// Rounds meeting the bound, and rounds; `None` for a single figure.
    pub fn rounds_met(&self) -> Option<(usize, usize)> {
        match &self.figure {
            Figure::Paired(ratios) => {
                let met = self.bound.map_or(0, |bound| {
                    ratios
                        .iter()
                        .filter(|&&x| self.comparison.holds(x, bound))
                        .count()
                });
                Some((met, ratios.len()))
            }
            Figure::Value(_) => None,
        }
    }
}

/// How a server is called in the targets.
pub(super) fn whose(kind: Kind) -> &'static str {
    match kind {
        Kind::Wsup => "wsup",
        Kind::WsupLoop => "README loop",
        Kind::Baseline => "batched baseline",
        Kind::BaselineSend => "send baseline",
        Kind::Fastwebsockets => "fastwebsockets",
        Kind::Ceiling => "raw TCP",
    }
}
