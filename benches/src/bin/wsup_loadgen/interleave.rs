//! `interleave`: two servers' messages per CPU second, measured in turns.
//!
//! The connections to both servers are opened at once, and only one group
//! sends at a time: the turn passes between them every `--slice` seconds
//! (A B, then B A, and so on), each group getting `--duration` seconds in
//! all. A server's figure is the messages echoed to its group ÷ the CPU
//! time its process used over the whole measurement, in which it is idle
//! but for its turns.
//!
//! Measured one after the other, a second each, two servers' figures on
//! this shared machine differ by about a tenth from one measurement to the
//! next, and so do two copies of the same server: the machine's speed
//! drifts over seconds. Taking turns a tenth of a second long, both see
//! the same drift.
//!
//! The measurement starts and ends with nothing in flight (every message
//! sent has come back), so each echoed message and the CPU time it took
//! fall in the same window.

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::throughput::{open, Gate, Shared, Turn};
use super::{process_cpu, Args};

/// The turn no group has: every writer waits.
const NOBODY: usize = 2;

/// How long in-flight messages may take to come back when the turns stop.
const DRAIN: Duration = Duration::from_secs(10);

pub async fn interleave(args: &Args) -> Result<String, String> {
    let (Some(versus), Some(pid_a), Some(pid_b)) = (args.versus, args.server_pid, args.versus_pid)
    else {
        return Err("interleave needs --versus, --server-pid and --versus-pid".to_owned());
    };
    if !args.slice.is_finite() || args.slice <= 0.0 {
        return Err("--slice must be positive".to_owned());
    }
    let b_args = Args {
        addr: versus,
        raw: args.versus_raw,
        ..args.clone()
    };
    let (gate, groups) = open_both(args, &b_args).await?;
    let pids = [pid_a, pid_b];
    let slice = Duration::from_secs_f64(args.slice);
    let turns = (args.duration / args.slice).round().max(1.0) as u32;

    // Each warms up in its own turn, then both wait with nothing in flight.
    for group in [0, 1] {
        gate.give(group);
        tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    }
    gate.give(NOBODY);
    drained(&groups).await?;
    let before = snapshot(&groups, pids)?;
    for k in 0..turns {
        let order = if k % 2 == 0 { [0, 1] } else { [1, 0] };
        for group in order {
            gate.give(group);
            tokio::time::sleep(slice).await;
        }
    }
    gate.give(NOBODY);
    drained(&groups).await?;
    let after = snapshot(&groups, pids)?;

    let active = f64::from(turns) * args.slice;
    let figure = |i: usize| {
        let messages = after.messages[i] - before.messages[i];
        let cpu = after.cpu[i] - before.cpu[i];
        (messages, cpu, messages as f64 / cpu)
    };
    let (a, b) = (figure(0), figure(1));
    if a.0 == 0 || b.0 == 0 || a.1 <= 0.0 || b.1 <= 0.0 {
        return Err(format!(
            "nothing measured: {} and {} messages, {:.4} and {:.4} CPU seconds",
            a.0, b.0, a.1, b.1
        ));
    }
    let json = |(messages, cpu, per_cpu): (u64, f64, f64)| {
        format!(
            "{{\"messages\":{messages},\"cpu_seconds\":{cpu:.6},\
             \"msgs_per_cpu_second\":{per_cpu:.3},\"msgs_per_sec\":{:.3}}}",
            messages as f64 / active
        )
    };
    Ok(format!(
        "{{\"a\":{},\"b\":{},\"ratio\":{:.6},\"turns\":{turns},\"slice\":{}}}",
        json(a),
        json(b),
        a.2 / b.2,
        args.slice
    ))
}

/// Opens the connections of group 0 (`a`) and group 1 (`b`), neither of
/// which may send until [`Gate::give`] gives it the turn.
async fn open_both(a: &Args, b: &Args) -> Result<(Rc<Gate>, [Rc<Shared>; 2]), String> {
    let gate = Rc::new(Gate::default());
    gate.give(NOBODY);
    let turn = |group| {
        Some(Turn {
            gate: Rc::clone(&gate),
            group,
        })
    };
    let groups = [open(a, turn(0)).await?, open(b, turn(1)).await?];
    Ok((gate, groups))
}

/// Echo counts and server CPU seconds of both groups at one moment.
struct Snapshot {
    messages: [u64; 2],
    cpu: [f64; 2],
}

fn snapshot(groups: &[Rc<Shared>; 2], pids: [u32; 2]) -> Result<Snapshot, String> {
    let cpu = |pid: u32| process_cpu(pid).ok_or_else(|| format!("no CPU time of process {pid}"));
    Ok(Snapshot {
        messages: [groups[0].messages.get(), groups[1].messages.get()],
        cpu: [cpu(pids[0])?, cpu(pids[1])?],
    })
}

/// Returns once every message sent to either group has come back.
async fn drained(groups: &[Rc<Shared>; 2]) -> Result<(), String> {
    let deadline = Instant::now() + DRAIN;
    loop {
        for shared in groups {
            if let Some(error) = shared.error.borrow().clone() {
                return Err(error);
            }
        }
        if groups.iter().all(|s| s.messages.get() >= s.sent.get()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("messages still in flight after {DRAIN:?}"));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use serde_json::Value;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A raw TCP echo server on this thread: every byte read is sent back.
    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::task::spawn_local(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::task::spawn_local(async move {
                    let mut buf = vec![0u8; 64 << 10];
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn args(words: &[&str]) -> Args {
        crate::parse_from(words.iter().map(|w| (*w).to_owned())).expect("arguments")
    }

    async fn pause() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    #[test]
    fn a_group_sends_only_in_its_turn_and_its_echoes_are_its_own() {
        crate::on_local_runtime(async {
            let (a, b) = (echo_server().await, echo_server().await);
            let a_args = args(&[
                "interleave",
                &a.to_string(),
                "--raw",
                "--size",
                "16",
                "--conns",
                "2",
                "--window",
                "4",
            ]);
            let b_args = Args {
                addr: b,
                ..a_args.clone()
            };
            let (gate, groups) = open_both(&a_args, &b_args).await.expect("groups");
            let sent = |i: usize| groups[i].sent.get();
            pause().await;
            assert_eq!((sent(0), sent(1)), (0, 0), "nobody's turn");

            gate.give(0);
            pause().await;
            assert!(groups[0].messages.get() > 8, "a echoed in its turn");
            assert_eq!(sent(1), 0, "b waits");

            gate.give(NOBODY);
            drained(&groups).await.expect("drained");
            let a_sent = sent(0);
            assert_eq!(groups[0].messages.get(), a_sent);
            gate.give(1);
            pause().await;
            assert!(groups[1].messages.get() > 8, "b echoed in its turn");
            assert_eq!(sent(0), a_sent, "a waits");
            assert!(groups.iter().all(|g| g.error.borrow().is_none()));
        });
    }

    #[test]
    fn interleave_reports_both_servers_in_turns() {
        crate::on_local_runtime(async {
            let (a, b) = (echo_server().await, echo_server().await);
            // Both servers are this process: each figure is its echoed
            // messages over the same CPU time.
            let pid = std::process::id().to_string();
            let args = args(&[
                "interleave",
                &a.to_string(),
                "--raw",
                "--versus",
                &b.to_string(),
                "--versus-raw",
                "--server-pid",
                &pid,
                "--versus-pid",
                &pid,
                "--size",
                "1024",
                "--window",
                "8",
                "--warmup",
                "0.05",
                "--duration",
                "0.2",
                "--slice",
                "0.02",
            ]);
            let out = interleave(&args).await.expect("interleave");
            let v: Value = serde_json::from_str(&out).expect("JSON");
            assert_eq!(v["turns"], 10);
            let figure = |g: &str, key: &str| v[g][key].as_f64().expect(key);
            for g in ["a", "b"] {
                assert!(figure(g, "messages") > 0.0, "{out}");
                assert!(figure(g, "cpu_seconds") > 0.0, "{out}");
            }
            let ratio = v["ratio"].as_f64().expect("ratio");
            let expected = figure("a", "messages") / figure("b", "messages");
            assert!((ratio / expected - 1.0).abs() < 1e-3, "{out}");

            let missing = Args {
                versus: None,
                ..args.clone()
            };
            let err = interleave(&missing).await.expect_err("no second server");
            assert!(err.contains("--versus"), "{err}");
        });
    }
}
