use wsup_core::deflate::Inflater;

use super::*;
use crate::MASK;

#[test]
fn the_compressed_first_frame_leaves_its_message_open_and_inflates_to_it() {
    let size = 1 << 20;
    let frame = compressed_first_frame(size);
    // FIN clear, RSV1 set, binary; masked, with a 16-bit or 64-bit length.
    assert_eq!(frame[0], 0x42);
    assert!(frame[1] & 0x80 != 0);
    let header = match frame[1] & 0x7f {
        126 => 4,
        127 => 10,
        _ => 2,
    };
    let payload: Vec<u8> = frame[header + 4..]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ MASK[i % 4])
        .collect();
    assert!(payload.len() * 50 < size, "{} bytes", payload.len());
    let mut inflated = BytesMut::new();
    Inflater::new(15, false)
        .decompress(&payload, false, &mut inflated, usize::MAX)
        .expect("inflates");
    assert_eq!(&inflated[..], &pattern(size)[..]);
}

#[test]
fn proc_status_fields_are_read_in_kib() {
    let pid = std::process::id();
    let rss = proc_status_kib(pid, "VmRSS").expect("VmRSS");
    let peak = proc_status_kib(pid, "VmHWM").expect("VmHWM");
    assert!(rss > 0 && peak >= rss, "rss {rss} peak {peak}");
    assert!(proc_status_kib(pid, "VmNothing").is_err());
}

/// Polls `ready` every few milliseconds for up to five seconds.
async fn eventually(mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if ready() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[test]
fn a_held_connection_answers_pings_counts_its_echo_and_reports_a_close() {
    use tokio::net::{TcpListener, TcpStream};

    crate::on_local_runtime(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let client = TcpStream::connect(addr).await.expect("connect");
        let (mut server, _) = listener.accept().await.expect("accept");
        let shared = Rc::new(Shared::default());
        // A ping's header came with the handshake's last read; its payload
        // follows.
        let conn = hold(client, vec![0x89, 0x02], Some(300), &shared);
        server.write_all(b"hi").await.expect("write");
        let mut pong = [0u8; 8];
        tokio::time::timeout(Duration::from_secs(5), server.read_exact(&mut pong))
            .await
            .expect("a pong in time")
            .expect("read");
        assert_eq!(pong[..2], [0x8a, 0x82]);
        let unmasked: Vec<u8> = pong[6..]
            .iter()
            .zip(&pong[2..6])
            .map(|(b, m)| b ^ m)
            .collect();
        assert_eq!(unmasked, b"hi");

        // The echo of a 300-byte message in two fragments, a ping between.
        let mut echo = vec![0x02, 100];
        echo.extend([7u8; 100]);
        echo.extend([0x89, 0x00, 0x80, 126, 0, 200]);
        echo.extend([7u8; 200]);
        server.write_all(&echo).await.expect("write");
        assert!(eventually(|| conn.echoed.get()).await, "echo not counted");
        assert_eq!(conn.echoed_bytes.get(), 300);
        assert!(shared.error.borrow().is_none());

        server
            .write_all(&[0x88, 0x02, 0x03, 0xe9])
            .await
            .expect("write");
        assert!(eventually(|| shared.error.borrow().is_some()).await);
        let error = shared.error.borrow().clone().expect("an error");
        assert!(error.contains("1001"), "{error}");
    });
}
