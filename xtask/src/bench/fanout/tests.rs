use serde_json::json;

use super::report::{FanoutReport, Point, Sample};
use super::{chart, Fanout, Plan};
use crate::bench::assert_contains_all;
use crate::bench::report::RunInfo;

/// A sample of `rate` deliveries a second in `round`.
fn sample(round: usize, rate: f64) -> Sample {
    Sample::from_json(
        &json!({
            "subscribers": 1000,
            "deliveries_per_sec": rate,
            "latency_us": {"p50": 1500.0, "p99": 3000.0},
            "loaded_latency_us": {"p50": 9000.0, "p99": 12000.0},
            "kib_per_subscriber": 6.5,
            "rss_before_kib": 2000,
            "rss_after_kib": 12000,
            "lost": 0,
            "server_cpu": 0.9,
            "client_cpu": 0.8,
        }),
        round,
    )
}

/// Two repeats; wsup at 3× the baseline's rate and the ceiling at twice
/// wsup's in both; one repeat of the ceiling failed at `failed`.
fn report(subscribers: &[usize], failed: Option<usize>) -> FanoutReport {
    let mut plan = Plan::new(false, 5_000);
    plan.subscribers = subscribers.to_vec();
    let mut points = Vec::new();
    for &n in subscribers {
        for size in [16, 1024] {
            let mut point = Point {
                subscribers: n,
                size,
                samples: Default::default(),
            };
            for round in 0..2 {
                let base = 100_000.0 * (round + 1) as f64;
                let wsup = 3.0 * base;
                point.samples[Fanout::Wsup.index()].push(sample(round, wsup));
                point.samples[Fanout::Baseline.index()].push(sample(round, base));
                if failed != Some(n) || round == 0 {
                    point.samples[Fanout::Ceiling.index()].push(sample(round, 2.0 * wsup));
                }
            }
            points.push(point);
        }
    }
    FanoutReport {
        run: RunInfo::fixed(),
        plan,
        points,
        notes: vec!["a note".to_owned()],
    }
}

#[test]
fn ratios_pair_the_repeats_and_skip_one_missing() {
    let r = report(&[1_000, 10_000], Some(10_000));
    let point = &r.points[2];
    assert_eq!(point.subscribers, 10_000);
    let rate = |s: &Sample| s.deliveries_per_sec;
    assert_eq!(
        point.ratios(Fanout::Wsup, Fanout::Baseline, rate),
        [3.0, 3.0]
    );
    assert_eq!(point.ratios(Fanout::Wsup, Fanout::Ceiling, rate), [0.5]);
    assert_eq!(point.median(Fanout::Baseline, rate), Some(150_000.0));
    let sample = &point.samples[0][0];
    assert_eq!(sample.kib_per_subscriber_after, 10.0);
    assert_eq!(sample.p99_us, 3000.0);
}

#[test]
fn the_markdown_judges_the_aims_at_ten_thousand_and_lists_every_server() {
    let md = report(&[1_000, 10_000], None).markdown();
    let rows = [
        "| deliveries/s ÷ baseline ≥ 2 | 16 B | 3.00 (3.00–3.00) | met |",
        "| deliveries/s ÷ raw TCP ≥ 0.8 | 1 KiB | 0.50 (0.50–0.50) | missed |",
        "| 10000 | wsup hub | 450k | 3.00 (3.00–3.00) | 0.50 (0.50–0.50) | 1.50 / 3.00 \
         | 9.00 / 12.00 | 6.50 | 10.00 | 0.90 | 500k |",
        "| 1000 | broadcast + tokio-tungstenite | 150k | 1.00 (1.00–1.00) | 0.17 (0.17–0.17) |",
    ];
    assert_contains_all(&md, &rows);
    assert!(md.contains("- a note"));
    let quick = report(&[1_000], None).markdown();
    assert!(quick.contains("not in this run"), "{quick}");
}

#[test]
fn the_json_has_the_run_the_figures_and_the_paired_ratios() {
    let v = report(&[1_000], None).json();
    assert_eq!(v["git_revision"], "0000000");
    assert_eq!(v["host"], "test");
    let point = &v["points"][1];
    assert_eq!(point["size"], 1024);
    assert_eq!(
        point["paired_ratios"]["wsup_to_baseline"],
        json!([3.0, 3.0])
    );
    assert_eq!(
        point["servers"]["baseline"]["deliveries_per_sec"]["samples"],
        json!([100_000.0, 200_000.0])
    );
    assert_eq!(point["window"], 64);
}

#[test]
fn the_json_has_each_server_s_figures_with_their_samples() {
    let v = report(&[1_000], None).json();
    let stats = |median: f64, min: f64, max: f64, samples: &[f64]| json!({"median": median, "min": min, "max": max, "samples": samples});
    let same = |value: f64| stats(value, value, value, &[value; 2]);
    let per_cpu = [300_000.0 / 0.9, 600_000.0 / 0.9];
    assert_eq!(
        v["points"][1]["servers"]["wsup"],
        json!({
            "deliveries_per_sec": stats(450_000.0, 300_000.0, 600_000.0, &[300_000.0, 600_000.0]),
            "latency_p50_us": same(1500.0),
            "latency_p99_us": same(3000.0),
            "loaded_latency_p50_us": same(9000.0),
            "loaded_latency_p99_us": same(12000.0),
            "rss_kib_per_subscriber": same(6.5),
            "rss_kib_per_subscriber_after": same(10.0),
            "server_cpu": same(0.9),
            "deliveries_per_server_cpu_sec": stats(500_000.0, per_cpu[0], per_cpu[1], &per_cpu),
            "client_cpu": same(0.8),
            "lost": 0,
        })
    );
}

#[test]
fn the_plan_bounds_messages_and_windows() {
    let plan = Plan::new(false, 5_000);
    assert_eq!(plan.messages(1_000), 2_000);
    assert_eq!(plan.messages(15_000), 200);
    assert_eq!(Plan::window(1_000), 64);
    assert_eq!(Plan::window(15_000), 6);
    assert_eq!(plan.latency_messages(15_000), 66);
    let quick = Plan::new(true, 5_000);
    assert_eq!(quick.subscribers, [1_000]);
    assert_eq!(quick.messages(1_000), 1_000);
}

#[test]
fn the_chart_has_a_panel_per_reference_and_a_group_per_subscriber_count() {
    let dir = std::env::temp_dir().join(format!("wsup-fanout-chart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fanout.svg");
    chart::draw(
        &path,
        &report(&[1_000, 5_000, 10_000, 15_000], Some(15_000)),
    )
    .unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    // The quick run's one subscriber count: one bar a panel.
    chart::draw(&dir.join("quick.svg"), &report(&[1_000], None)).unwrap();
    let quick = std::fs::read_to_string(dir.join("quick.svg")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(quick.contains("1,000") && !quick.contains("15,000"));
    assert_contains_all(
        &svg,
        &[
            "÷ broadcast + tokio-tungstenite (aim ≥ 2)",
            "÷ raw TCP (aim ≥ 0.8)",
            "16 B messages",
            "1 KiB messages",
            "15,000",
            "3.00",
            "0.50",
            "subscribers",
        ],
    );
}

#[test]
fn the_chart_takes_the_run_s_own_pairing() {
    let figure = chart::figure(&report(&[1_000, 15_000], Some(15_000)).json()).unwrap();
    assert_eq!(figure.groups, ["1,000", "15,000"]);
    let [baseline, ceiling] = &figure.panels[..] else {
        panic!("{} panels", figure.panels.len());
    };
    // 16 B at 15,000 subscribers: the ceiling's second repeat failed, so
    // the one repeat both have, not the medians' 0.75.
    let bar = ceiling.bars[1][0].unwrap();
    assert_eq!((bar.value, bar.range), (0.5, None));
    assert_eq!(baseline.bars[1][0].unwrap().range, Some((3.0, 3.0)));
    let lines: Vec<f64> = ceiling.lines.iter().map(|l| l.value).collect();
    assert_eq!(lines, [1.0, 0.8]);
}
