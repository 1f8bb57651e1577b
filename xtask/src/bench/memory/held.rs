//! `cargo xtask bench --memory --scenario held`: the echo server's
//! resident memory while every connection holds the most a hostile peer
//! can make it hold with messages of `--size` bytes (1 MiB by default).
//!
//! The echo runs with that message limit (`--max-message`; its write
//! backlog follows the limit, see the examples' `echo_upgrader`) and with
//! keepalive off, so that no timer gives anything back while the
//! connections hold it: what is measured is what the limits alone allow;
//! under a ping flood its sockets' kernel buffers are fixed at 32 KiB
//! ([`SOCKET_BUFFER`]).
//! For each pattern of the load generator's `held` (a frame all but its
//! last byte, a message in small fragments left unfinished, a compressed
//! message left unfinished, a ping flood that reads nothing, each of the
//! unfinished messages followed by the flood), on a fresh server: the connections are opened, each leaves
//! its pattern, [`WAVE`] at a time, and the server's VmRSS is read once
//! they all hold it, then once they are all closed; its VmHWM is the peak.
//! Results go to `target/wsup-bench/memory-held.md` and
//! `memory-held.json`; the run fails if a connection holds more than the
//! configuration's bound ([`bound_kib`]) or the peak reaches [`PEAK_LIMIT_KIB`].

use std::path::PathBuf;

use serde_json::{json, Value};

use super::{loadgen_args, report, Setup};

/// Connections by default.
pub const CONNS: usize = 2000;
/// The message limit, and the size of each pattern's message, by default.
pub const SIZE: usize = 1 << 20;
/// Connections starting their pattern at once.
const WAVE: usize = 64;
/// Seconds between the last wave and the held reading, and between the
/// closing and the released one.
const SETTLE: f64 = 3.0;
/// The load generator's patterns, in the table's order, each with what it
/// leaves the server holding.
const PATTERNS: [(&str, &str); 6] = [
    ("frame", "a frame all but its last byte"),
    ("fragments", "a message in 128-byte frames, unfinished"),
    ("deflate", "a compressed message, unfinished"),
    ("pings", "pings flooded, nothing read"),
    (
        "fragments-pings",
        "a message in 128-byte frames unfinished, then pings flooded",
    ),
    (
        "deflate-pings",
        "a compressed message unfinished, then pings flooded",
    ),
];
/// The kernel's send and receive buffers of each connection under a ping
/// flood, fixed (the echo's `--socket-buffer`): left to grow, those of
/// 2,000 floods take megabytes each, past the kernel's limit for all TCP
/// memory, and the run would measure the kernel's pressure instead. The
/// other patterns keep the kernel's sizing: small buffers would mean small
/// reads, and a read buffer that never grows.
const SOCKET_BUFFER: &str = "32768";
/// The peak the issue allows the server, 8 GiB.
pub const PEAK_LIMIT_KIB: u64 = 8 << 20;
/// The read buffer a connection keeps at most with a frame in progress:
/// its initial size (4 KiB) and two read windows (256 KiB each).
const READ_BUFFER_KIB: f64 = 4.0 + 512.0;
/// What SECURITY.md gives per connection keeping compression contexts.
const DEFLATE_KIB: f64 = 300.0;

/// The most one connection may hold with message limit `size`, in KiB, as
/// SECURITY.md counts it: a message gathered whole (the limit), the output
/// queued before the echo stops reading (its write backlog, the limit
/// again), the read buffer, and the compression contexts.
pub fn bound_kib(size: usize) -> f64 {
    2.0 * size as f64 / 1024.0 + READ_BUFFER_KIB + DEFLATE_KIB
}

/// Runs every pattern on every server; returns the table's path.
pub fn run(setup: &Setup, size: usize) -> Result<PathBuf, String> {
    let conns = setup.conns;
    let max_message = size.to_string();
    let args = loadgen_args(conns, size, WAVE, SETTLE);
    let results = setup.run_each(
        "held",
        &PATTERNS,
        |(pattern, _)| {
            let mut flags = vec!["--keepalive", "0", "--max-message", &max_message];
            if pattern.ends_with("pings") {
                flags.extend(["--socket-buffer", SOCKET_BUFFER]);
            }
            let mut run_args = args.to_vec();
            run_args.extend(["--pattern".to_owned(), pattern.to_owned()]);
            (flags.into_iter().map(str::to_owned).collect(), run_args)
        },
        |(pattern, _), v| {
            format!(
                "{pattern}: {conns} connections, RSS {} KiB held ({} per connection \
                 over idle), {} KiB released, peak {} KiB, {} s to hold",
                v["rss_held_kib"],
                v["held_per_conn_kib"],
                v["rss_released_kib"],
                v["rss_peak_kib"],
                v["hold_seconds"],
            )
        },
    )?;

    let markdown = markdown(conns, size, &results);
    let verdict = verdict(size, &results);
    let mut report = report(conns, size, WAVE, SETTLE, results);
    report["bound_per_conn_kib"] = json!(bound_kib(size));
    report["peak_limit_kib"] = json!(PEAK_LIMIT_KIB);
    let table = setup.write_report("memory-held", &markdown, &report)?;
    match verdict {
        Ok(()) => Ok(table),
        Err(e) => Err(format!("{e} (results in {})", table.display())),
    }
}

/// One result's figures, in KiB.
struct Figures {
    /// Held, per connection, over the server before any connection.
    per_conn: f64,
    held: f64,
    released: f64,
    peak: f64,
}

impl Figures {
    fn of(result: &Value) -> Figures {
        let kib = |key: &str| result[key].as_f64().unwrap_or(f64::NAN);
        let conns = kib("conns");
        Figures {
            per_conn: (kib("rss_held_kib") - kib("rss_start_kib")) / conns,
            held: kib("rss_held_kib"),
            released: kib("rss_released_kib"),
            peak: kib("rss_peak_kib"),
        }
    }
}

/// Past the bound per connection, or at the peak limit: the first such
/// result, named.
fn verdict(size: usize, results: &[Value]) -> Result<(), String> {
    let bound = bound_kib(size);
    for entry in results {
        let r = &entry["result"];
        let f = Figures::of(r);
        let what = format!("[{}] {}", entry["server"], r["pattern"]);
        // A figure missing is NaN, and fails both.
        if f.per_conn.is_nan() || f.per_conn > bound {
            return Err(format!(
                "{what}: {:.0} KiB per connection, past the bound of {bound:.0} KiB",
                f.per_conn
            ));
        }
        if f.peak.is_nan() || f.peak >= PEAK_LIMIT_KIB as f64 {
            return Err(format!("{what}: a peak of {:.0} KiB", f.peak));
        }
    }
    Ok(())
}

/// A table: per server, a line per pattern.
fn markdown(conns: usize, size: usize, results: &[Value]) -> String {
    let bound = bound_kib(size);
    let mut out = format!(
        "Resident memory of the echo server (message limit {size} bytes, write backlog the \
         same, keepalive off), {conns} connections each holding what the pattern leaves, \
         {WAVE} at a time; the bound per connection the configuration implies is \
         {bound:.0} KiB (a message gathered whole, the write backlog, a read buffer of \
         {READ_BUFFER_KIB:.0} KiB, compression contexts of {DEFLATE_KIB:.0} KiB). Per \
         connection: held RSS over the server's before any connection, divided by the \
         connections.\n\n\
         | server | pattern | held RSS, MiB | per connection, KiB | of the bound | \
         released RSS, MiB | peak RSS, MiB |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let mib = |kib: f64| kib / 1024.0;
    for entry in results {
        let (name, r) = (&entry["server"], &entry["result"]);
        let name = name.as_str().unwrap_or("?");
        let pattern = r["pattern"].as_str().unwrap_or("?");
        let what = PATTERNS
            .iter()
            .find(|(p, _)| *p == pattern)
            .map_or(pattern, |(_, what)| what);
        let f = Figures::of(r);
        out.push_str(&format!(
            "| {name} | {what} | {:.1} | {:.1} | {:.0}% | {:.1} | {:.1} |\n",
            mib(f.held),
            f.per_conn,
            100.0 * f.per_conn / bound,
            mib(f.released),
            mib(f.peak),
        ));
    }
    out
}

#[cfg(test)]
mod tests;
