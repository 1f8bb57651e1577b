use super::*;

#[test]
fn every_pattern_is_parsed_back_from_its_name() {
    for pattern in Pattern::ALL {
        assert_eq!(Pattern::parse(pattern.name()), Ok(pattern));
    }
    assert!(Pattern::parse("nothing").unwrap_err().contains("nothing"));
}

#[test]
fn the_frame_is_sent_all_but_its_last_byte() {
    let size = 1 << 20;
    let whole = client_frame(size);
    let prefix = Pattern::Frame.prefix(size);
    assert_eq!(prefix.len(), whole.len() - 1);
    assert_eq!(prefix[..], whole[..whole.len() - 1]);
    // FIN and binary; a 64-bit length that promises the whole size.
    assert_eq!(prefix[..2], [0x82, 0x80 | 127]);
    assert_eq!(prefix[2..10], (size as u64).to_be_bytes());
}

#[test]
fn the_fragments_leave_a_message_one_frame_short_of_its_size() {
    let size = 64 * FRAGMENT;
    let prefix = Pattern::Fragments.prefix(size);
    // Each frame: two bytes, a 16-bit length, the key, the payload.
    let frame = 2 + 2 + 4 + FRAGMENT;
    assert_eq!(prefix.len(), 63 * frame);
    for (i, frame) in prefix.chunks(frame).enumerate() {
        // FIN clear; binary first, continuations after.
        assert_eq!(frame[0], if i == 0 { 0x02 } else { 0x00 }, "frame {i}");
        assert_eq!(frame[1], 0x80 | 126);
        assert_eq!(frame[2..4], (FRAGMENT as u16).to_be_bytes());
    }
    assert!(Pattern::Pings.prefix(size).is_empty());
    assert_eq!(Pattern::FragmentsPings.prefix(size), prefix);
    assert_eq!(
        Pattern::DeflatePings.prefix(size),
        Pattern::Deflate.prefix(size)
    );
}

#[test]
fn a_flood_writes_until_its_peer_stops_reading_then_closes() {
    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpSocket};

    crate::on_local_runtime(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_send_buffer_size(SOCKET_BUFFER).expect("buffer");
        let client = socket
            .connect(listener.local_addr().expect("address"))
            .await
            .expect("connect");
        // The peer reads nothing until the flood has stalled.
        let (mut server, _) = listener.accept().await.expect("accept");
        let flood = Rc::new(Flood {
            sent: Cell::new(None),
            last_write: Cell::new(Instant::now()),
            written: Cell::new(0),
            task: RefCell::new(None),
        });
        let shared = Rc::new(Shared::default());
        let prefix = Rc::new(vec![0x82, 0x80, 1, 2, 3, 4]);
        let pings = Rc::new(masked_frame(0x89, &[0x5a; 125]).repeat(PING_BATCH));
        let task = tokio::task::spawn_local(run_flood(
            client,
            prefix,
            pings,
            Rc::clone(&flood),
            Rc::clone(&shared),
        ));
        *flood.task.borrow_mut() = Some(task.abort_handle());
        let mut holder = Holder::Flooding(Rc::clone(&flood), None);
        let started = Instant::now();
        while !holder.done() {
            assert!(started.elapsed() < Duration::from_secs(10), "never stalled");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let written = holder.written();
        assert!(written > 6, "{written} bytes");
        assert!(shared.error.borrow().is_none());

        // What the peer reads is the prefix, then whole pings.
        let mut head = [0u8; 8];
        server.read_exact(&mut head).await.expect("read");
        assert_eq!(head[..6], [0x82, 0x80, 1, 2, 3, 4]);
        assert_eq!(head[6..], [0x89, 0x80 | 125]);

        holder.close();
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), server.read_to_end(&mut rest))
            .await
            .expect("closed in time")
            .expect("read");
        assert_eq!(8 + read as u64, written);
    });
}
