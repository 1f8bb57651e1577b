//! Accepting with no file descriptor left: the server pauses (backing off)
//! instead of failing or spinning, and serves the waiting connections once
//! descriptors are free again.
//!
//! A test binary of its own, with one test running the three runtimes one
//! after the other: it lowers this process's descriptor limit and fills
//! the table, which would break any test running beside it.
#![cfg(target_os = "linux")]

// The runtimes are run one after the other, not by `runtime_tests!`.
#[allow(unused_macros, unused_imports)]
mod harness;

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use futures_util::FutureExt;
use harness::raw::{upgrade_request, OP_TEXT};
use harness::*;
use wsup::server::Server;

/// The descriptor limit, lowered to just above the descriptors open now and
/// the table filled up to it; restored when dropped.
struct Exhausted {
    original: libc::rlimit,
    filler: Vec<File>,
}

impl Exhausted {
    fn now() -> Self {
        let mut original = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `rlimit` through the valid pointer.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut original) },
            0
        );
        let highest = std::fs::read_dir("/proc/self/fd")
            .expect("/proc/self/fd")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
            .max()
            .expect("open descriptors");
        let lowered = libc::rlimit {
            rlim_cur: highest + 8,
            rlim_max: original.rlim_max,
        };
        // SAFETY: setrlimit reads one `rlimit` through the valid pointer.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) }, 0);
        let mut filler = Vec::new();
        loop {
            match File::open("/dev/null") {
                Ok(f) => filler.push(f),
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
                Err(e) => panic!("filling the descriptor table: {e}"),
            }
        }
        Exhausted { original, filler }
    }
}

impl Drop for Exhausted {
    fn drop(&mut self) {
        self.filler.clear();
        // SAFETY: setrlimit reads one `rlimit` through the valid pointer.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &self.original) };
    }
}

/// A client that sent its upgrade request and one text frame; the
/// server's answer is read later.
fn client(addr: SocketAddr) -> TcpStream {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.write_all(upgrade_request(addr, "").as_bytes())
        .expect("request");
    c.write_all(&masked(true, OP_TEXT, b"after EMFILE"))
        .expect("frame");
    c
}

/// Reads the 101 and the echo of the frame (blocking, bounded).
fn read_answer(mut c: TcpStream) -> io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            assert!(buf.starts_with(b"HTTP/1.1 101"), "{buf:?}");
            if let Some((frame, _)) = wsup_testkit::parse_frame(&buf[p + 4..]) {
                assert_eq!(
                    (frame.opcode, frame.payload.as_slice()),
                    (OP_TEXT, &b"after EMFILE"[..])
                );
                return Ok(());
            }
        }
        let n = c.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn accept_survives_running_out_of_descriptors<R: Rt>() {
    let (listener, addr) = R::listen().await;
    // Connected (the kernel completes the TCP handshake on the listen
    // backlog) before the table fills; accepted only after.
    let clients: Vec<_> = (0..3).map(|_| client(addr)).collect();
    let exhausted = Exhausted::now();
    let server = Server::<R::Binding>::new(listener, upgrader::<R>());
    let handle = server.shutdown_handle();
    let mut running = spawn::<R, _>(server.run(|ws, _| async move {
        let _ = echo(ws).await;
    }));
    // Accept fails with EMFILE meanwhile: no answer, and the server runs on.
    R::sleep(Duration::from_millis(300)).await;
    for c in &clients {
        c.set_nonblocking(true).expect("nonblocking");
        let mut probe = [0u8; 1];
        let res = (&*c).read(&mut probe);
        assert!(
            matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
            "[{}] answered with no descriptor free: {res:?}",
            R::NAME
        );
        c.set_nonblocking(false).expect("blocking");
    }
    assert!(
        (&mut running).now_or_never().is_none(),
        "[{}] the server stopped on EMFILE",
        R::NAME
    );
    drop(exhausted);

    // Descriptors free again: the waiting connections are served (within
    // the longest pause, a second, and then some).
    let (tx, rx) = futures_channel::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(clients.into_iter().map(read_answer).collect::<Vec<_>>());
    });
    let answers = within::<R, _>(Duration::from_secs(10), "answers", rx)
        .await
        .expect("reader thread");
    for answer in answers {
        answer.unwrap_or_else(|e| panic!("[{}] not served after EMFILE: {e}", R::NAME));
    }
    handle.trigger();
    within::<R, _>(Duration::from_secs(15), "run returns", running)
        .await
        .expect("run");
}

#[test]
fn accept_survives_running_out_of_descriptors_on_every_runtime() {
    run::<Tokio, _>(accept_survives_running_out_of_descriptors::<Tokio>());
    run::<Smol, _>(accept_survives_running_out_of_descriptors::<Smol>());
    run::<AsyncStd, _>(accept_survives_running_out_of_descriptors::<AsyncStd>());
}
