use super::*;

/// Asserts that each of `lines` is refused with an error that says `why`.
#[track_caller]
fn refused(why: &str, lines: &[&str]) {
    for line in lines {
        let error = parse_line(line).unwrap_err();
        assert!(error.contains(why), "{line}: {error}");
    }
}

#[test]
fn conformance_defaults_to_tokio_and_the_default_cases() {
    let options = parsed!(Conformance, "conformance");
    assert_eq!(options.selection, Selection::One(Runtime::Tokio));
    assert_eq!(options.cases, conformance::DEFAULT_CASES);
}

#[test]
fn conformance_client_takes_the_same_cases_and_maybe_a_program() {
    let options = parsed!(Conformance, "conformance --client --runtime smol --quick");
    assert_eq!(options.selection, Selection::One(Runtime::Smol));
    assert_eq!(options.cases, conformance::QUICK_CASES);
    assert_eq!(options.client.expect("client").program, None);

    let options = parsed!(
        Conformance,
        "conformance --client-bin=/tmp/c --cases 1.1.* --client"
    );
    assert_eq!(options.cases, ["1.1.*"]);
    let program = options.client.expect("client").program;
    assert_eq!(program, Some(PathBuf::from("/tmp/c")));

    let options = parsed!(Conformance, "conformance");
    assert!(options.client.is_none());
    refused("--client", &["conformance --client-bin /tmp/c"]);
}

#[test]
fn flags_take_their_value_inline_or_next() {
    let options = parsed!(
        Conformance,
        "conformance --runtime=all --cases 1.* --cases=5.*"
    );
    assert_eq!(options.selection, Selection::All);
    assert_eq!(options.cases, ["1.*", "5.*"]);

    let options = parsed!(Interop, "interop --runtime smol");
    assert_eq!(options.selection, Selection::One(Runtime::Smol));
    assert!(!options.client);

    let options = parsed!(Interop, "interop --client --runtime all");
    assert_eq!(options.selection, Selection::All);
    assert!(options.client);
}

#[test]
fn bench_runtimes_default_to_none_and_all_is_every_runtime() {
    let options = parsed!(Bench, "bench --quick");
    assert_eq!((options.runtimes, options.quick), (None, true));
    let options = parsed!(Bench, "bench --runtime all");
    assert_eq!(options.runtimes, Some(Runtime::ALL.to_vec()));
}

#[test]
fn bench_memory_takes_an_echo_binary_or_runtimes_and_a_count() {
    let options = parsed!(Bench, "bench --memory --echo=/tmp/echo --conns 200");
    let memory = options.memory.expect("memory");
    assert_eq!(memory.echo, Some(PathBuf::from("/tmp/echo")));
    assert_eq!(memory.conns, Some(200));
    let options = parsed!(Bench, "bench --memory --runtime smol");
    assert_eq!(options.runtimes, Some(vec![Runtime::Smol]));
    let memory = options.memory.expect("memory");
    assert_eq!((memory.echo, memory.conns), (None, None));
    assert_eq!(
        (memory.scenario, memory.size),
        (bench::Scenario::Burst, None)
    );
    let options = parsed!(
        Bench,
        "bench --memory --scenario=held --size 1048576 --conns 2000"
    );
    let memory = options.memory.expect("memory");
    assert_eq!(memory.scenario, bench::Scenario::Held);
    assert_eq!((memory.size, memory.conns), (Some(1 << 20), Some(2000)));
    let options = parsed!(Bench, "bench");
    assert!(options.memory.is_none());
}

#[test]
fn help_is_asked_for_anywhere() {
    for line in [
        "help",
        "--help",
        "bench -h",
        "conformance --quick --help",
        "interop --help",
    ] {
        assert!(matches!(parse_line(line), Ok(Task::Help)), "{line}");
    }
}

#[test]
fn mistakes_are_named() {
    for (line, error) in [
        ("", "no subcommand given"),
        ("run", "unknown subcommand `run`"),
        ("bench --runtime", "`--runtime` needs a value"),
        ("interop --runtime glommio", "unknown runtime `glommio`"),
        (
            "bench --quick=yes",
            "unexpected argument `--quick` for `bench`",
        ),
        (
            "bench --conns 10",
            "`--echo`, `--conns`, `--scenario` and `--size` go with `--memory`",
        ),
        (
            "bench --memory --conns 0",
            "`--conns 0`: not a positive count",
        ),
        (
            "bench --memory --scenario held --size 1M",
            "`--size 1M`: not a positive count",
        ),
        (
            "bench --memory --scenario hostile",
            "unknown scenario `hostile` (burst or held)",
        ),
        (
            "bench --scenario held",
            "`--echo`, `--conns`, `--scenario` and `--size` go with `--memory`",
        ),
        (
            "bench --memory --echo e --runtime all",
            "`--echo` and `--runtime` exclude each other",
        ),
        (
            "conformance --quick --cases 1.*",
            "`--quick` and `--cases` exclude each other",
        ),
    ] {
        assert_eq!(parse_line(line).unwrap_err(), error, "{line}");
    }
}

#[test]
fn bench_http_is_its_own_mode() {
    let options = parsed!(Bench, "bench --http --runtime smol");
    assert!(options.http && options.memory.is_none());
    assert_eq!(options.runtimes, Some(vec![Runtime::Smol]));
    let options = parsed!(Bench, "bench");
    assert!(!options.http);
    refused("exclude", &["bench --http --memory"]);
}

#[test]
fn bench_fanout_is_its_own_mode_and_takes_quick() {
    let options = parsed!(Bench, "bench --fanout --quick");
    assert!(options.fanout && options.quick && !options.http && options.memory.is_none());
    let options = parsed!(Bench, "bench --quick");
    assert!(!options.fanout);
    refused(
        "exclude",
        &["bench --fanout --http", "bench --memory --fanout"],
    );
}

#[test]
fn bench_against_takes_a_revision_and_runtimes() {
    let options = parsed!(Bench, "bench --against 5cb8baf --runtime smol --quick");
    assert_eq!(options.against.as_deref(), Some("5cb8baf"));
    assert_eq!(options.repeats, None);
    let repeated = parsed!(Bench, "bench --against HEAD --repeats=15");
    assert_eq!(repeated.repeats, Some(15));
    assert!(parse_line("bench --repeats 0").is_err());
    assert_eq!(options.runtimes, Some(vec![Runtime::Smol]));
    assert!(options.quick && !options.http && !options.fanout);
    refused(
        "exclude",
        &[
            "bench --against HEAD --http",
            "bench --fanout --against=HEAD",
        ],
    );
    refused("needs a value", &["bench --against"]);
}

#[test]
fn bench_redraw_takes_a_file_and_nothing_else() {
    let options = parsed!(Bench, "bench --redraw docs/bench/fanout.json");
    assert_eq!(
        options.redraw,
        Some(PathBuf::from("docs/bench/fanout.json"))
    );
    let options = parsed!(Bench, "bench");
    assert_eq!(options.redraw, None);
    refused(
        "no other flag",
        &[
            "bench --redraw r.json --quick",
            "bench --fanout --redraw=r.json",
        ],
    );
    refused("needs a value", &["bench --redraw"]);
}

#[test]
fn redis_and_browser_take_no_arguments() {
    assert!(matches!(parse_line("redis"), Ok(Task::Redis)));
    assert!(matches!(parse_line("browser"), Ok(Task::Browser)));
    assert!(matches!(parse_line("browser --help"), Ok(Task::Help)));
    refused("no argument", &["redis --quick"]);
}
