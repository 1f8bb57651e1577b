use super::*;

/// The rows of server `name` in `table`.
pub(super) fn rows<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let start = format!("| {name} |");
    table.lines().filter(|l| l.starts_with(&start)).collect()
}

#[test]
fn the_table_has_the_idle_line_then_one_per_burst_for_each_server() {
    let result = |mode: &str, after: u64, per_conn: f64| {
        json!({
            "mode": mode,
            "rss_idle_kib": 10_240,
            "idle_per_conn_kib": 8.5,
            "rss_after_kib": after,
            "per_conn_after_kib": per_conn,
            "rss_peak_kib": 2_097_152,
        })
    };
    let results = [
        entry("tokio", result("message", 20_480, 10.25)),
        entry("tokio", result("deflate_fragment", 1_034_240, 1024.0)),
    ];
    let table = markdown(1000, 16 << 20, &results);
    assert_eq!(
        rows(&table, "tokio"),
        [
            "| tokio | idle | 10.0 | 8.50 | – |",
            "| tokio | after one message each, idle | 20.0 | +10.25 | 2048.0 |",
            "| tokio | holding an unfinished compressed message | 1010.0 | +1024.00 | 2048.0 |",
        ]
    );
    assert!(table.starts_with("Resident memory of the echo server, 1000 connections"));
}
