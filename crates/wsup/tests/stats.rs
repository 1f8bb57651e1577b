//! Counters over real sockets: a connection's `stats` after an echo with an
//! independent client, and the server's counters of an upgrader given
//! `ServerStats` (accepted, refused by status, closed by code).

mod harness;

use harness::raw::{http_exchange, status};
use harness::*;
use wsup::ServerStats;

async fn an_echo_counts_its_messages_and_bytes_and_the_server_its_connection<R: Rt>() {
    let stats = ServerStats::new();
    let up = upgrader::<R>().server_stats(stats.clone());
    let (addr, server) = serve_ws::<R, _, _, _>(up, |mut ws| async move {
        while let Ok(msg) = ws.recv().await {
            if msg.is_data() {
                ws.send(msg).await.unwrap();
            }
        }
        ws.stats()
    })
    .await;
    let mut client = connect::<R>(addr).await;
    let sent = [
        ClientMsg::text("a"),
        ClientMsg::binary(vec![1u8; 1000]),
        ClientMsg::Ping(vec![9u8; 3].into()),
        ClientMsg::text("ccc"),
    ];
    for m in sent {
        client.send(m).await.unwrap();
    }
    let mut echoed = 0;
    while echoed < 3 {
        if matches!(
            client_next::<R>(&mut client).await,
            ClientMsg::Text(_) | ClientMsg::Binary(_)
        ) {
            echoed += 1;
        }
    }
    client_close::<R>(&mut client, 1000, "done").await;
    let s = within::<R, _>(std::time::Duration::from_secs(5), "server end", server).await;
    assert_eq!(
        (
            s.messages_received,
            s.bytes_received,
            s.messages_sent,
            s.bytes_sent
        ),
        (3, 1004, 3, 1004),
        "[{}] {s:?}",
        R::NAME
    );
    assert!(s.age() > std::time::Duration::ZERO);
    let now = stats.snapshot();
    assert_eq!((now.accepted, now.open), (1, 0), "[{}] {now:?}", R::NAME);
    assert_eq!(now.closed_with(1000), 1, "[{}] {now:?}", R::NAME);
}

async fn a_refused_handshake_is_counted_by_its_status<R: Rt>() {
    let stats = ServerStats::new();
    let up = upgrader::<R>().server_stats(stats.clone());
    let (addr, server) = serve_one::<R, _, _, _>(up, |res| async move { res.is_err() }).await;
    let response = http_exchange::<R>(addr, b"POST / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status(&response), 405, "[{}] {response}", R::NAME);
    assert!(server.await, "[{}] refused", R::NAME);
    let now = stats.snapshot();
    assert_eq!(
        (now.refused_with(405), now.refused_total()),
        (1, 1),
        "[{}] {now:?}",
        R::NAME
    );
    assert_eq!((now.accepted, now.open), (0, 0));
}

runtime_tests!(
    an_echo_counts_its_messages_and_bytes_and_the_server_its_connection,
    a_refused_handshake_is_counted_by_its_status,
);
