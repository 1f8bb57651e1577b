use serde_json::{json, Value};

use super::layout::{
    bar_slots, label_px, layout, text_width, width_for, Rect, Spec, MARGIN, MIN_LABEL_PX,
};
use super::scale::{decimals, round_step, Axis};
use super::throughput::{latency, throughput};
use super::*;
use crate::bench::assert_contains_all;
use crate::bench::redraw::redraw;
use crate::bench::report::{
    median, paired_ratios, Report, RunInfo, RuntimeResults, Sample, SERVERS,
};
use crate::bench::{Kind, Plan};
use crate::runtime::Runtime;

#[test]
fn steps_are_one_two_or_five_times_a_power_of_ten() {
    assert_eq!(round_step(0.266), 0.5);
    assert_eq!(round_step(0.2), 0.2);
    assert_eq!(round_step(0.21), 0.5);
    assert_eq!(round_step(84.0), 100.0);
    assert_eq!(round_step(8.4), 10.0);
    assert_eq!(round_step(0.0), 1.0);
    assert_eq!(decimals(0.2), 1);
    assert_eq!(decimals(0.05), 2);
    assert_eq!(decimals(100.0), 0);
}

#[test]
fn ratio_axes_read_like_ratios_and_end_on_a_tick() {
    let axis = Axis::fit(1.33, 5, 1);
    assert_eq!((axis.step, axis.top), (0.5, 1.5));
    let labels: Vec<String> = axis.ticks().iter().map(|&t| axis.label(t)).collect();
    assert_eq!(labels, ["0.0", "0.5", "1.0", "1.5"]);
    // A maximum on a tick ends the axis there.
    let axis = Axis::fit(1.0, 5, 1);
    assert_eq!(axis.top, 1.0);
    assert_eq!(axis.label(0.6000000000000001), "0.6");
    // A long ratio axis has no decimals to show.
    let axis = Axis::fit(42.04, 5, 1);
    assert_eq!((axis.step, axis.top), (10.0, 50.0));
    assert_eq!(axis.label(50.0), "50");
    let us = Axis::fit(377.0, 5, 0);
    let labels: Vec<String> = us.ticks().iter().map(|&t| us.label(t)).collect();
    assert_eq!(labels, ["0", "100", "200", "300", "400"]);
    assert_eq!(Axis::fit(f64::NAN, 5, 1).top, 1.0);
}

#[test]
fn the_axis_maps_zero_to_the_bottom_and_clamps() {
    let axis = Axis::fit(2.0, 4, 1);
    assert_eq!(axis.map(0.0, 300.0, 100.0), 300.0);
    assert_eq!(axis.map(1.0, 300.0, 100.0), 200.0);
    assert_eq!(axis.map(9.0, 300.0, 100.0), 100.0);
    assert_eq!(axis.map(-1.0, 300.0, 100.0), 300.0);
}

#[test]
fn every_font_size_is_written_as_it_is() {
    let fonts = super::layout::Font::ALL.map(|f| f.px());
    for px in fonts.into_iter().chain([10.0, 9.0, MIN_LABEL_PX]) {
        assert_eq!(super::figure::font_size(px) / 1.24, px);
    }
}

#[test]
fn counts_are_written_with_thousands_apart() {
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(15_000), "15,000");
    assert_eq!(thousands(1_000_000), "1,000,000");
    assert_eq!(counted(1, "connection"), "1 connection");
    assert_eq!(counted(100, "connection"), "100 connections");
}

/// The layout of `legend` entries over `panels` panels in `columns`.
fn laid_out(width: f64, legend: &[String], panels: usize, columns: usize) -> super::layout::Layout {
    layout(&Spec {
        width,
        subtitle_lines: 2,
        legend,
        panels,
        columns,
        panel_height: 250.0,
    })
}

#[test]
fn the_legend_keeps_clear_of_the_panels_however_many_entries() {
    let names = [
        "wsup",
        "wsup, recv/send loop",
        "async-tungstenite, batched",
        "async-tungstenite, send",
        "fastwebsockets",
        "a server with a rather long name to wrap",
        "raw TCP = 1.0",
    ];
    for width in [500.0, 800.0, 1200.0] {
        for n in 1..=names.len() * 2 {
            let legend: Vec<String> = names
                .iter()
                .cycle()
                .take(n)
                .map(|s| s.to_string())
                .collect();
            for (panels, columns) in [(6, 2), (3, 3), (2, 2), (1, 1)] {
                let l = laid_out(width, &legend, panels, columns);
                let canvas = Rect {
                    x: 0.0,
                    y: 0.0,
                    w: l.width,
                    h: l.height,
                };
                for (i, item) in l.legend.iter().enumerate() {
                    assert!(
                        l.legend_band.contains(&item.bounds),
                        "{width} {n}: entry {i} out of its band"
                    );
                    assert!(
                        item.bounds.right() <= width - MARGIN + 0.01,
                        "{width} {n}: entry {i} past the margin"
                    );
                    assert!(item.bounds.contains(&item.swatch));
                    for other in &l.legend[..i] {
                        assert!(
                            !item.bounds.intersects(&other.bounds),
                            "{width} {n}: entries overlap"
                        );
                    }
                }
                for (i, p) in l.panels.iter().enumerate() {
                    assert!(
                        !p.frame.intersects(&l.legend_band),
                        "{width} {n}: panel {i} under the legend"
                    );
                    assert!(p.frame.contains(&p.plot) && canvas.contains(&p.frame));
                    assert!(p.plot.w > 0.0 && p.plot.h > 0.0);
                    for q in &l.panels[..i] {
                        assert!(!p.frame.intersects(&q.frame), "panels overlap");
                    }
                }
                let header = l.subtitle_y.last().copied().unwrap_or(l.title_y) + 13.0;
                assert!(header <= l.legend_band.y, "the legend under the subtitle");
            }
        }
    }
}

#[test]
fn bars_share_their_group_without_overlapping() {
    let plot = Rect {
        x: 50.0,
        y: 40.0,
        w: 500.0,
        h: 200.0,
    };
    for series in 1..=7 {
        for g in 0..4 {
            let slots = bar_slots(&plot, 4, series, g);
            assert_eq!(slots.len(), series);
            let group = (plot.x + g as f64 * 125.0, plot.x + (g + 1) as f64 * 125.0);
            for (i, &(x, w)) in slots.iter().enumerate() {
                assert!(
                    w > 0.0 && x >= group.0 && x + w <= group.1,
                    "bar {i} out of its group"
                );
                if let Some(&(next, _)) = slots.get(i + 1) {
                    assert!(x + w <= next, "bars {i} and {} overlap", i + 1);
                }
            }
        }
    }
}

#[test]
fn a_value_label_fits_its_bar_or_is_not_drawn() {
    assert_eq!(label_px("0.72", 40.0), Some(11.0));
    let px = label_px("0.72", 24.0).unwrap();
    assert!((MIN_LABEL_PX..11.0).contains(&px) && text_width("0.72", px) <= 21.0);
    assert_eq!(label_px("0.72", 18.0), None);
}

#[test]
fn servers_come_wsup_first_then_known_then_unknown() {
    let known: Vec<(&str, &str)> = Kind::ALL.iter().map(|k| (k.key(), k.name())).collect();
    let keys = [
        "ceiling",
        "zeta",
        "baseline_send",
        "wsup_loop",
        "wsup",
        "baseline",
        "fastwebsockets",
        "wsup",
    ];
    let got = servers(keys, &known);
    let order: Vec<&str> = got.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        order,
        [
            "wsup",
            "wsup_loop",
            "baseline",
            "baseline_send",
            "fastwebsockets",
            "ceiling",
            "zeta"
        ]
    );
    assert_eq!(got[0].name, "wsup");
    assert_eq!(got[2].name, "async-tungstenite, batched");
    assert_eq!(got[4].name, "fastwebsockets");
    assert!(got[1].wsup && !got[4].wsup);
    let colours = colours(&got, "ceiling");
    assert_eq!(colours[5], REFERENCE);
    let mut distinct = colours.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), colours.len(), "two servers share a colour");
}

#[test]
fn ratios_pair_the_repeats_or_fall_back_to_the_medians() {
    let stats = |samples: &[f64]| report::stats_json(samples.to_vec());
    let a = stats(&[6.0, 4.0, 12.0]);
    let b = stats(&[2.0, 4.0, 3.0]);
    let none = Value::Null;
    assert_eq!(
        ratio(&a, &b, 3, &none),
        Some(Bar {
            value: 3.0,
            range: Some((1.0, 4.0))
        })
    );
    // One repeat failed on b: its samples no longer line up with a's.
    let short = stats(&[2.0, 3.0]);
    assert_eq!(
        ratio(&a, &short, 3, &none),
        Some(Bar {
            value: 6.0 / 2.5,
            range: None
        })
    );
    // Unless the run paired them itself.
    let paired = json!([3.0, 4.0]);
    assert_eq!(
        ratio(&a, &short, 3, &paired),
        Some(Bar {
            value: 3.5,
            range: Some((3.0, 4.0))
        })
    );
    assert_eq!(ratio(&a, &Value::Null, 3, &none), None);
    assert_eq!(ratio(&a, &stats(&[0.0, 0.0, 0.0]), 3, &none), None);
}

use crate::bench::report;

/// A run of `plan` on tokio and smol in which, at each point, wsup does
/// 0.9, 0.8, 1.0, ... of raw TCP's messages in its repeats and the
/// baselines half and a tenth of wsup's.
fn run(plan: &Plan) -> Report {
    let results = [Runtime::Tokio, Runtime::Smol]
        .into_iter()
        .map(|rt| {
            let mut r = RuntimeResults::new(rt, plan);
            for t in &mut r.throughput {
                for round in 0..plan.repeats {
                    let raw = 1e5 * (round + 1) as f64;
                    let wsup = raw * [0.9, 0.8, 1.0, 0.7, 0.95][round % 5];
                    for kind in Kind::ALL.into_iter().filter(|k| k.runs_on(rt)) {
                        let msgs = match kind {
                            Kind::Wsup => wsup,
                            Kind::WsupLoop => wsup * 0.9,
                            Kind::Baseline => wsup / 2.0,
                            Kind::BaselineSend => wsup / 10.0,
                            Kind::Fastwebsockets => wsup / 8.0,
                            Kind::Ceiling => raw,
                        };
                        let v =
                            json!({"msgs_per_sec": msgs, "mb_per_sec": msgs * t.size as f64 / 1e6});
                        t.samples[kind.index()].push(Sample::from_json(&v, round));
                    }
                }
            }
            for (i, latency) in r.latency.iter_mut().enumerate() {
                let p50 = 60.0 + i as f64;
                latency.push(report::Latency::from_json(
                    &json!({"p50_us": p50, "p99_us": 2.0 * p50, "p999_us": 4.0 * p50}),
                    0,
                ));
            }
            r
        })
        .collect();
    let mut report = Report::new(std::path::Path::new("."), plan, results, Vec::new());
    report.run = RunInfo::fixed();
    report
}

#[test]
fn the_throughput_figure_reads_what_the_report_writes() {
    let plan = Plan::new(false);
    let report = run(&plan);
    let figure = throughput(&report.json()).unwrap();
    let titles: Vec<&str> = figure.panels.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "tokio, 1 connection",
            "tokio, 100 connections",
            "smol, 1 connection",
            "smol, 100 connections"
        ]
    );
    assert_eq!(figure.groups, ["16 B", "1 KiB", "64 KiB", "1 MiB"]);
    assert_eq!(figure.columns, 2);
    let names: Vec<&str> = figure.entries.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        names,
        [
            "wsup",
            "wsup, README loop",
            "async-tungstenite, batched",
            "async-tungstenite, send",
            "fastwebsockets",
            "raw TCP = 1.0"
        ]
    );
    // wsup's bar is the report's paired median, with its range.
    let t = &report.results[1].throughput[5];
    let by_round = |k: Kind| -> Vec<(usize, f64)> {
        t.samples[k.index()]
            .iter()
            .map(|s| (s.round, s.msgs_per_sec))
            .collect()
    };
    let paired = paired_ratios(&by_round(Kind::Wsup), &by_round(Kind::Ceiling));
    let bar = figure.panels[3].bars[1][0].unwrap();
    assert!((bar.value - median(paired).unwrap()).abs() < 1e-12);
    assert_eq!(bar.range, Some((0.7, 1.0)));
    let batched = figure.panels[3].bars[1][2].unwrap();
    assert!((batched.value - bar.value / 2.0).abs() < 1e-12);
    assert_eq!(figure.series(), SERVERS - 1);
    let svg = figure.svg().unwrap();
    assert_contains_all(
        &svg,
        &[
            "16 B",
            "1 MiB",
            "÷ raw TCP",
            "1.0",
            "0.90",
            "smol, 100 connections",
        ],
    );
}

#[test]
fn a_server_the_chart_does_not_know_is_drawn_too() {
    let plan = Plan::new(true);
    let mut json = run(&plan).json();
    // Another baseline, as a later run may hold: three times raw TCP.
    for rt in json["runtimes"].as_array_mut().unwrap() {
        for point in rt["throughput"].as_array_mut().unwrap() {
            let raw = point["servers"]["ceiling"]["msgs_per_sec"]["median"]
                .as_f64()
                .unwrap();
            point["servers"]["another_peer"] =
                json!({"msgs_per_sec": report::stats_json(vec![3.0 * raw])});
        }
    }
    let figure = throughput(&json).unwrap();
    let last = figure.series() - 1;
    assert_eq!(figure.entries[last].label, "another_peer");
    assert_eq!(
        figure.panels[0].bars[0][last],
        Some(Bar {
            value: 3.0,
            range: None
        })
    );
    assert!(figure.svg().unwrap().contains("another_peer"));
}

#[test]
fn the_latency_figure_has_a_panel_per_runtime_and_raw_tcp_last() {
    let figure = latency(&run(&Plan::new(true)).json()).unwrap();
    let titles: Vec<&str> = figure.panels.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["tokio", "smol"]);
    assert_eq!(figure.groups, ["p50", "p99", "p99.9"]);
    let last = figure.entries.last().unwrap();
    assert_eq!((last.label.as_str(), last.colour), ("raw TCP", REFERENCE));
    // p99.9 of raw TCP: four times its p50 of 63 µs.
    assert_eq!(
        figure.panels[0].bars[2][3],
        Some(Bar {
            value: 252.0,
            range: None
        })
    );
    assert!(figure.svg().unwrap().contains("\n252\n"));
}

/// The labels of every panel of `figure`, checked: none covers another or
/// a bar. Returns how many there are, and how many of wsup's.
fn checked_labels(figure: &Figure) -> (usize, usize) {
    let layout = figure.layout();
    let (mut all, mut wsup) = (0, 0);
    for ((panel, boxed), axis) in figure.panels.iter().zip(&layout.panels).zip(figure.axes()) {
        let plot = boxed.plot;
        let labels = figure.labels(&plot, &axis, panel);
        for (g, bars) in panel.bars.iter().enumerate() {
            let slots = bar_slots(&plot, figure.groups.len(), figure.series(), g);
            for (bar, (x, w)) in bars.iter().zip(slots) {
                let Some(bar) = bar else { continue };
                let top = axis.map(bar.value, plot.bottom(), plot.y);
                let rect = Rect {
                    x,
                    y: top,
                    w,
                    h: plot.bottom() - top,
                };
                for l in &labels {
                    assert!(
                        !l.rect.intersects(&rect),
                        "`{}` covers a bar of {}",
                        l.text,
                        panel.title
                    );
                }
            }
        }
        for (i, l) in labels.iter().enumerate() {
            assert!(
                boxed.frame.contains(&l.rect),
                "`{}` out of its panel",
                l.text
            );
            for other in &labels[..i] {
                assert!(
                    !l.rect.intersects(&other.rect),
                    "`{}` covers `{}`",
                    l.text,
                    other.text
                );
            }
        }
        all += labels.len();
        wsup += labels.iter().filter(|l| l.series == 0).count();
    }
    (all, wsup)
}

#[test]
fn every_bar_has_its_label_however_many_servers_and_no_label_covers_another() {
    let mut json = run(&Plan::new(false)).json();
    let figure = throughput(&json).unwrap();
    let bars = figure.panels.len() * figure.groups.len();
    // Every bar drawn (fastwebsockets runs on tokio only: none on smol).
    let drawn = |figure: &Figure| -> usize {
        let all = figure.panels.iter().flat_map(|p| p.bars.iter().flatten());
        all.filter(|b| b.is_some()).count()
    };
    assert_eq!(checked_labels(&figure), (drawn(&figure), bars));
    assert_eq!(drawn(&figure), bars * figure.series() - 8);
    // Six servers: at least the width asked for, wider if the labels
    // need it.
    let base = figure.layout().width;
    assert!(base >= 1200.0, "{base}");
    // Three more servers: the figure widens to keep its labels.
    for rt in json["runtimes"].as_array_mut().unwrap() {
        for point in rt["throughput"].as_array_mut().unwrap() {
            for (key, share) in [("a", 0.8), ("b", 1.2), ("c", 0.6)] {
                let wsup = point["servers"]["wsup"]["msgs_per_sec"]["samples"].clone();
                let samples: Vec<f64> = wsup
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() * share)
                    .collect();
                point["servers"][key] = json!({"msgs_per_sec": report::stats_json(samples)});
            }
        }
    }
    for width in [1200.0, 800.0] {
        let mut figure = throughput(&json).unwrap();
        figure.width = width;
        assert_eq!(
            checked_labels(&figure),
            (drawn(&figure), bars),
            "at {width}"
        );
        assert!(figure.layout().width > base.max(width));
    }
}

#[test]
fn many_servers_put_the_latency_panels_on_more_rows() {
    let mut json = run(&Plan::new(true)).json();
    let two = latency(&json).unwrap();
    assert_eq!((two.columns, two.layout().width), (2, 1200.0));
    for rt in json["runtimes"].as_array_mut().unwrap() {
        let wsup = rt["latency_16b_1conn_w1"]["wsup"].clone();
        for key in ["a", "b", "c", "d", "e", "f"] {
            rt["latency_16b_1conn_w1"][key] = wsup.clone();
        }
    }
    let many = latency(&json).unwrap();
    assert_eq!((many.columns, many.layout().width), (1, 1200.0));
    assert!(width_for(3, 3, 4, "377") <= 1200.0 && width_for(3, 3, 6, "377") > 1200.0);
}

#[test]
fn redraw_writes_the_figures_beside_the_json() {
    let dir = std::env::temp_dir().join(format!("wsup-chart-redraw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("results.json");
    std::fs::write(&file, run(&Plan::new(true)).json().to_string()).unwrap();
    let other = dir.join("other.json");
    std::fs::write(&other, "{\"host\": \"x\"}").unwrap();
    let redrawn = redraw(&file);
    let written = ["throughput.svg", "latency.svg"].map(|f| dir.join(f).is_file());
    let refused = redraw(&other);
    let missing = redraw(&dir.join("none.json"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(redrawn, Ok(()));
    assert_eq!(written, [true, true]);
    assert!(refused.unwrap_err().contains("neither"));
    assert!(missing.unwrap_err().contains("cannot read"));
}
