use super::*;
use crate::cli::{parsed, Task};

/// A `fuzz` command line through the whole parser.
fn parse_line(line: &str) -> Result<Task, String> {
    crate::cli::parse_line(&format!("fuzz {line}"))
}

#[test]
fn defaults_to_every_target_for_a_minute() {
    let options = parsed!(Fuzz, "fuzz");
    assert_eq!(
        options,
        Options {
            secs: DEFAULT_SECS,
            targets: vec![],
        }
    );
}

#[test]
fn takes_seconds_and_targets_in_any_order() {
    let options = parsed!(Fuzz, "fuzz utf8 --secs=20 mask");
    assert_eq!(options.secs, 20);
    assert_eq!(options.targets, ["utf8", "mask"]);
    let options = parsed!(Fuzz, "fuzz --secs 5");
    assert_eq!(options.secs, 5);
}

#[test]
fn refuses_a_bad_duration_or_flag() {
    assert!(parse_line("--secs 0")
        .unwrap_err()
        .contains("not a positive"));
    assert!(parse_line("--secs").unwrap_err().contains("needs a value"));
    assert!(parse_line("--quick").unwrap_err().contains("unexpected"));
    assert!(matches!(parse_line("mask --help"), Ok(Task::Help)));
}

#[test]
fn reads_executions_coverage_and_the_failing_input() {
    let mut o = Outcome::default();
    for line in [
        "#2\tINITED cov: 110 ft: 120 corp: 6/40b exec/s: 0 rss: 35Mb",
        "#65536\tpulse  cov: 120 ft: 130 corp: 7/44b lim: 4 exec/s: 32768 rss: 36Mb",
        "#70000\tNEW    cov: 121 ft: 131 corp: 8/48b lim: 4 exec/s: 35000 rss: 36Mb L: 4/4 MS: 1 CopyPart-",
        "==1== ERROR: libFuzzer: deadly signal",
        "artifact_prefix='/w/fuzz/artifacts/mask/'; Test unit written to /w/fuzz/artifacts/mask/crash-ab12",
        "stat::number_of_executed_units: 70001",
    ] {
        read_line(line, &mut o);
    }
    assert_eq!(o.executions, Some(70001));
    assert!(o
        .last_status
        .unwrap()
        .starts_with("#70000\tNEW    cov: 121"));
    assert_eq!(
        o.artifact.as_deref(),
        Some("/w/fuzz/artifacts/mask/crash-ab12")
    );
}
