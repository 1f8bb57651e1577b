//! A server on smol keeps async-io's reactor turning while it runs
//! (`wsup_core::runtime::ReactorTicks`): idle, async-io's fallback thread
//! keeps finding it turned, so it naps in steps of up to 10 ms rather than
//! waiting on the reactor's lock, from where it would take the reactor
//! when input next arrives and hand every batch to the executor thread.
//!
//! Its own test binary: the threads counted are this process's, and no
//! other test's traffic may turn the reactor meanwhile.
#![cfg(target_os = "linux")]

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use smol::net::TcpListener;

const CLIENTS: usize = 4;
const IDLE: Duration = Duration::from_millis(300);

/// Voluntary context switches of this process's threads named `name`.
fn switches(name: &str) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("a thread").path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if comm.trim_end() != name {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        total += status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .map_or(0, |n| n.trim().parse::<u64>().expect("a count"));
    }
    total
}

/// A client on a blocking socket (no async-io of its own): the handshake,
/// then the stream.
fn client(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("request");
    wsup_testkit::read_switching(&mut stream);
    stream
}

/// Shuts the server down when dropped.
struct StopOnDrop(wsup_core::server::Shutdown);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.trigger();
    }
}

#[test]
fn an_idle_server_keeps_the_reactor_turning() {
    let (tx, rx) = std::sync::mpsc::channel();
    let clients = std::thread::spawn(move || {
        let (addr, shutdown) = rx.recv().expect("the server");
        // The server stops whatever happens here, a failed assertion too.
        let _stop = StopOnDrop(shutdown);
        let clients: Vec<TcpStream> = (0..CLIENTS).map(|_| client(addr)).collect();
        std::thread::sleep(Duration::from_millis(50));
        let before = switches("async-io");
        std::thread::sleep(IDLE);
        let woke = switches("async-io") - before;
        drop(clients);
        woke
    });
    // The server as a `main` runs it: its accept loop in `block_on` on this
    // thread, the connections on smol's executor thread.
    smol::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = wsup_smol::Server::new(listener, wsup_smol::upgrader());
        tx.send((addr, server.shutdown_handle()))
            .expect("the clients");
        server
            .run(|mut ws, _| async move { while ws.recv().await.is_ok() {} })
            .await
            .expect("the server");
    });
    let woke = clients.join().expect("the clients");
    // The ticks end the reactor's wait every 5 ms, whichever thread holds
    // it, and the fallback thread's naps find it turned: it wakes every
    // 10 ms or sooner, 30 times or more. Without them it ends up waiting
    // (on the reactor's lock, or holding the reactor in its poll) for the
    // whole idle spell: no wake at all.
    let naps = (IDLE.as_millis() / 10) as u64;
    assert!(
        woke >= naps / 3,
        "async-io's thread woke {woke} times in {IDLE:?} idle"
    );
}
