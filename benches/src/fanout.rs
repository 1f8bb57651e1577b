//! What the fan-out servers (`fanout_wsup`, `fanout_tungstenite`,
//! `fanout_tcp`) and the load generator's `fanout` mode agree on.
//!
//! A WebSocket client asking for [`PUBLISHER_PATH`] is the publisher; any
//! other path is a subscriber. On the raw TCP server, whose clients send no
//! request, the first byte a client sends says which it is
//! ([`PUBLISHER`] or [`SUBSCRIBER`]). Each message starts with a
//! stamp ([`stamp`]): its sequence number and the publisher's send time on
//! `CLOCK_MONOTONIC`, which every process of the machine reads alike.

use std::future::Future;
use std::io;

use tokio::net::TcpListener;

/// The request path of the publisher's WebSocket.
pub const PUBLISHER_PATH: &str = "/pub";
/// The first byte a publisher sends to the raw TCP server.
pub const PUBLISHER: u8 = b'P';
/// The first byte a subscriber sends to the raw TCP server.
pub const SUBSCRIBER: u8 = b'S';
/// The bytes of a stamp: the smallest message size.
pub const STAMP: usize = 16;

/// Writes `seq` and `sent_ns` at the start of `payload` (little-endian).
///
/// # Panics
///
/// If `payload` is shorter than [`STAMP`].
pub fn stamp(payload: &mut [u8], seq: u64, sent_ns: u64) {
    payload[..8].copy_from_slice(&seq.to_le_bytes());
    payload[8..STAMP].copy_from_slice(&sent_ns.to_le_bytes());
}

/// `(seq, sent_ns)` from the start of `payload`; `None` if it is shorter
/// than a stamp.
pub fn read_stamp(payload: &[u8]) -> Option<(u64, u64)> {
    let seq = u64::from_le_bytes(payload.get(..8)?.try_into().ok()?);
    let sent = u64::from_le_bytes(payload.get(8..STAMP)?.try_into().ok()?);
    Some((seq, sent))
}

/// Nanoseconds on `CLOCK_MONOTONIC`: comparable between the processes of
/// one machine, which `Instant` does not promise.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes the timespec it is given, a valid local.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit: a server
/// holds one descriptor per subscriber, a load generator one per
/// connection.
pub fn raise_nofile_limit() {
    // SAFETY: get then set this process's own limit through valid pointers.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// The `main` of a fan-out server: takes `ADDR` from the command line,
/// raises the descriptor limit, binds on a tokio runtime of this thread
/// alone (or of `WSUP_THREADS` workers, see [`crate::tokio_runtime`]),
/// prints `listening on ADDR` (what `cargo xtask bench` waits for)
/// and runs `serve` on the listener.
pub fn serve_on_tokio<F>(program: &str, serve: impl FnOnce(TcpListener) -> F) -> io::Result<()>
where
    F: Future<Output = io::Result<()>>,
{
    let Some(addr) = std::env::args().nth(1) else {
        eprintln!("usage: {program} ADDR");
        std::process::exit(2);
    };
    raise_nofile_limit();
    crate::tokio_runtime()?.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        serve(listener).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_and_a_short_payload_has_none() {
        let mut payload = vec![0xaau8; 1024];
        stamp(&mut payload, 7, u64::MAX - 3);
        assert_eq!(read_stamp(&payload), Some((7, u64::MAX - 3)));
        assert_eq!(payload[STAMP], 0xaa);
        assert_eq!(read_stamp(&payload[..STAMP - 1]), None);
    }

    #[test]
    fn the_monotonic_clock_does_not_go_back() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(a > 0 && b >= a);
    }
}
