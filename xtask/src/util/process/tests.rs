use super::*;

#[test]
fn a_command_past_its_deadline_is_killed() {
    let started = Instant::now();
    let result = run_with_timeout(Command::new("sleep").arg("30"), Duration::from_millis(200));
    assert!(result.unwrap_err().contains("did not finish"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_command_within_its_deadline_reports_its_status() {
    let status = run_with_timeout(&mut Command::new("false"), Duration::from_secs(30));
    assert_eq!(status.unwrap().code(), Some(1));
}

#[test]
fn a_server_is_ready_once_it_prints_its_listening_line() {
    let (tx, rx) = mpsc::channel();
    let mut command = Command::new("sh");
    command.args([
        "-c",
        "echo starting; echo 'listening on 127.0.0.1:1'; sleep 30",
    ]);
    let server = start_listening(&mut command, "sh", move |line| {
        let _ = tx.send(line);
    });
    assert!(server.is_ok());
    let lines: Vec<String> = rx.iter().take(2).collect();
    assert_eq!(lines, ["starting", "listening on 127.0.0.1:1"]);
}

#[test]
fn a_server_that_exits_before_listening_is_an_error() {
    let mut command = Command::new("true");
    let error = start_listening(&mut command, "true", drop).unwrap_err();
    assert!(error.contains("exited before listening"), "{error}");
}

#[test]
fn a_server_ready_on_stderr_hands_back_its_ready_line() {
    let mut command = Command::new("sh");
    command.args([
        "-c",
        "echo noise >&2; echo 'fuzzingserver listening on ws://127.0.0.1:5' >&2; sleep 30",
    ]);
    let ready = |text: &str| text.starts_with("fuzzingserver listening on");
    let (_server, line) = start_ready(&mut command, "sh", Pipe::Stderr, ready, drop).unwrap();
    assert_eq!(line, "fuzzingserver listening on ws://127.0.0.1:5");
}
