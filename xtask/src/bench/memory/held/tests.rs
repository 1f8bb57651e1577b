use super::*;
use crate::bench::memory::entry;
use crate::bench::memory::tests::rows;

fn result(pattern: &str, start: u64, held: u64, released: u64, peak: u64) -> Value {
    json!({
        "mode": "held",
        "pattern": pattern,
        "conns": 2000,
        "rss_start_kib": start,
        "rss_held_kib": held,
        "rss_released_kib": released,
        "rss_peak_kib": peak,
    })
}

#[test]
fn the_bound_is_two_messages_a_read_buffer_and_the_compression_contexts() {
    // 1 MiB: the message, the backlog, 516 KiB, 300 KiB.
    assert_eq!(bound_kib(1 << 20), 2048.0 + 516.0 + 300.0);
    assert_eq!(bound_kib(0), 816.0);
}

#[test]
fn the_table_has_a_line_per_pattern_per_server_against_the_bound() {
    let results = [
        entry(
            "tokio",
            result("frame", 2048, 2048 + 2000 * 286, 4096, 600_000),
        ),
        entry(
            "tokio",
            result("deflate-pings", 2048, 2048 + 2000 * 1432, 8192, 2_900_000),
        ),
    ];
    let table = markdown(2000, 1 << 20, &results);
    assert_eq!(
        rows(&table, "tokio"),
        [
            "| tokio | a frame all but its last byte | 560.6 | 286.0 | 10% | 4.0 | 585.9 |",
            "| tokio | a compressed message unfinished, then pings flooded | 2798.9 | 1432.0 | 50% | 8.0 | 2832.0 |",
        ]
    );
    assert!(table.contains("2000 connections"), "{table}");
    assert!(table.contains("2864 KiB"), "{table}");
    assert_eq!(verdict(1 << 20, &results), Ok(()));
}

#[test]
fn a_connection_past_the_bound_or_a_peak_at_the_limit_fails_the_run() {
    let over = [entry("smol", result("pings", 0, 2000 * 2865, 0, 6_000_000))];
    let error = verdict(1 << 20, &over).unwrap_err();
    assert!(
        error.contains("\"smol\"") && error.contains("\"pings\""),
        "{error}"
    );
    assert!(error.contains("2865 KiB per connection"), "{error}");

    let peak = [entry("tokio", result("frame", 0, 2000, 0, PEAK_LIMIT_KIB))];
    assert!(verdict(1 << 20, &peak).unwrap_err().contains("peak"));

    let missing = [entry("tokio", json!({ "pattern": "frame" }))];
    assert!(verdict(1 << 20, &missing).is_err());
}
