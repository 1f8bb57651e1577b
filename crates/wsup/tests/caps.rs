//! The server's connection caps: over a cap a client reads a whole 503
//! (with `Retry-After` and `Connection: close`, then the end of the
//! stream, not a reset), and a place frees when its connection ends; the
//! per-IP caps count the client a trusted proxy forwards (and the origin
//! check the scheme it forwards); slow handshakes hold their places until
//! the handshake deadline.

mod harness;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use harness::raw::{header, read_http_head, status, upgrade_request, RawWs, OP_TEXT};
use harness::*;
use wsup::server::{Server, ShutdownSummary, TrustedProxies};

/// The `Retry-After` the tests set.
const RETRY_AFTER: Duration = Duration::from_secs(7);

/// Runs `server` with an echo handler; returns its shutdown handle and
/// what `run` will return. The raw clients the tests hold do not answer
/// the server's close at shutdown: a short shutdown timeout ends them.
fn run_echo<R: Rt>(
    server: Server<R::Binding>,
) -> (
    wsup::server::Shutdown,
    BoxFut<std::io::Result<ShutdownSummary>>,
) {
    let server = server
        .retry_after(RETRY_AFTER)
        .shutdown_timeout(Duration::from_millis(300));
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(|ws, _| async move {
        let _ = echo(ws).await;
    }));
    (handle, running)
}

/// An upgrade request to `addr` with `extra` header lines; the server must
/// answer 101, and echo.
async fn served<R: Rt>(addr: SocketAddr, extra: &str) -> RawWs<R::ClientIo> {
    let io = R::connect(addr).await;
    let (mut ws, _) = within::<R, _>(
        Duration::from_secs(5),
        "101",
        RawWs::handshake(io, addr, extra),
    )
    .await;
    ws.send(true, OP_TEXT, b"served").await;
    let echoed = within::<R, _>(Duration::from_secs(5), "echo", ws.read_frame()).await;
    assert_frame::<R>(&echoed.expect("echo"), true, OP_TEXT, b"served");
    ws
}

/// Sends `request` on a fresh connection and reads until the server ends
/// the stream, which it must do cleanly (a reset fails); returns the
/// response head and body.
async fn response<R: Rt>(addr: SocketAddr, request: &[u8]) -> (String, Vec<u8>) {
    let mut io = R::connect(addr).await;
    io.write_all(request).await.expect("write request");
    within::<R, _>(
        Duration::from_secs(5),
        "response and end of stream",
        async {
            let (head, mut body) = read_http_head(&mut io)
                .await
                .unwrap_or_else(|| panic!("[{}] the stream ended before a response head", R::NAME));
            if let Err(e) = io.read_to_end(&mut body).await {
                panic!("[{}] not a clean end after {head}: {e}", R::NAME);
            }
            (head, body)
        },
    )
    .await
}

/// An upgrade request with `extra` header lines must be refused with a
/// whole 503, then the end of the stream.
async fn refused<R: Rt>(addr: SocketAddr, extra: &str) {
    refused_with::<R>(addr, upgrade_request(addr, extra).into_bytes()).await;
}

/// As [`refused`], for `request` as given.
async fn refused_with<R: Rt>(addr: SocketAddr, request: Vec<u8>) {
    let (head, body) = response::<R>(addr, &request).await;
    assert_eq!(status(&head), 503, "[{}] {head}", R::NAME);
    assert_eq!(
        header(&head, "retry-after"),
        Some("7"),
        "[{}] {head}",
        R::NAME
    );
    assert_eq!(
        header(&head, "connection"),
        Some("close"),
        "[{}] {head}",
        R::NAME
    );
    let length: usize = header(&head, "content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("[{}] no content-length: {head}", R::NAME));
    assert_eq!(body.len(), length, "[{}] {head}", R::NAME);
    assert!(
        String::from_utf8_lossy(&body).starts_with("over capacity"),
        "[{}] {body:?}",
        R::NAME
    );
}

/// A client that sends frames right after its request, and goes on
/// sending after the 503, is not reset: the server reads its input for a
/// while after the response (a reset could discard the response from the
/// client's buffer before it is read, and fails the client's writes).
async fn an_eager_client_is_drained_not_reset<R: Rt>(addr: SocketAddr) {
    let frame = masked(true, OP_TEXT, &[b'x'; 8 * 1024]);
    let mut request = upgrade_request(addr, "").into_bytes();
    request.extend_from_slice(&frame);
    let mut io = R::connect(addr).await;
    io.write_all(&request).await.expect("write request");
    let (head, mut body) = within::<R, _>(Duration::from_secs(5), "503", async {
        read_http_head(&mut io).await.expect("response head")
    })
    .await;
    assert_eq!(status(&head), 503, "[{}] {head}", R::NAME);
    within::<R, _>(
        Duration::from_secs(5),
        "end of stream",
        io.read_to_end(&mut body),
    )
    .await
    .unwrap_or_else(|e| panic!("[{}] not a clean end: {e}", R::NAME));
    for _ in 0..3 {
        // Were the socket closed, the first write would draw a reset and
        // the next fail.
        R::sleep(Duration::from_millis(30)).await;
        if let Err(e) = io.write_all(&frame).await {
            panic!("[{}] reset while the server should drain: {e}", R::NAME);
        }
    }
}

/// A client let in once a place frees: the place is given back when the
/// connection's task ends, just after the client sees its connection end,
/// so a 503 meanwhile is retried, for up to 3 s.
async fn served_once_freed<R: Rt>(addr: SocketAddr) -> RawWs<R::ClientIo> {
    let request = upgrade_request(addr, "");
    within::<R, _>(Duration::from_secs(3), "a freed place", async {
        loop {
            let mut io = R::connect(addr).await;
            io.write_all(request.as_bytes()).await.expect("write");
            let (head, rest) = read_http_head(&mut io).await.expect("response head");
            match status(&head) {
                101 => return RawWs::from_parts(io, rest),
                503 => R::sleep(Duration::from_millis(20)).await,
                other => panic!("[{}] status {other}: {head}", R::NAME),
            }
        }
    })
    .await
}

/// With two connections at most, a third client reads a whole 503; once
/// one of the two closes, a new client is served.
async fn a_client_over_the_connection_cap_reads_a_503_until_a_place_frees<R: Rt>() {
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let (handle, running) = run_echo::<R>(server.max_connections(2));
    let mut first = served::<R>(addr, "").await;
    let _second = served::<R>(addr, "").await;
    refused::<R>(addr, "").await;
    an_eager_client_is_drained_not_reset::<R>(addr).await;
    // Whatever the request: the server is full.
    let (head, _) = response::<R>(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status(&head), 503, "[{}] {head}", R::NAME);

    first.close_normally().await;
    let mut next = served_once_freed::<R>(addr).await;
    next.send(true, OP_TEXT, b"next").await;
    let echoed = within::<R, _>(Duration::from_secs(5), "echo", next.read_frame()).await;
    assert_frame::<R>(&echoed.expect("echo"), true, OP_TEXT, b"next");
    refused::<R>(addr, "").await;
    stop::<R>(handle, running).await;
}

/// An echo server with one connection per client IP, `proxy` trusted
/// for its `X-Forwarded-For`; its shutdown handle, `run`, its address.
async fn one_per_ip<R: Rt>(
    proxy: IpAddr,
) -> (
    wsup::server::Shutdown,
    BoxFut<std::io::Result<ShutdownSummary>>,
    SocketAddr,
) {
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let server = server
        .max_connections_per_ip(1)
        .trusted_proxies(TrustedProxies::x_forwarded_for([proxy]));
    let (handle, running) = run_echo::<R>(server);
    (handle, running, addr)
}

/// Behind a trusted proxy each forwarded client has its own place; a
/// third request forwarded for a client already connected is refused,
/// even with another address prepended (the proxy appends the real one).
async fn the_per_ip_cap_counts_the_client_a_trusted_proxy_forwards<R: Rt>() {
    let (handle, running, addr) = one_per_ip::<R>(IpAddr::from([127, 0, 0, 1])).await;
    let _a = served::<R>(addr, "X-Forwarded-For: 203.0.113.1\r\n").await;
    let _b = served::<R>(addr, "X-Forwarded-For: 203.0.113.2\r\n").await;
    refused::<R>(addr, "X-Forwarded-For: 203.0.113.1\r\n").await;
    refused::<R>(addr, "X-Forwarded-For: 198.51.100.9, 203.0.113.1\r\n").await;
    // Not forwarded: the proxy's own place.
    let _proxy = served::<R>(addr, "").await;
    stop::<R>(handle, running).await;
}

/// A peer that is not a trusted proxy is the client, whatever its header
/// says: two requests "forwarded" for different clients share its place.
async fn an_untrusted_peers_forwarding_header_is_ignored<R: Rt>() {
    let (handle, running, addr) = one_per_ip::<R>(IpAddr::from([10, 0, 0, 1])).await;
    let _a = served::<R>(addr, "X-Forwarded-For: 203.0.113.1\r\n").await;
    refused::<R>(addr, "X-Forwarded-For: 203.0.113.2\r\n").await;
    stop::<R>(handle, running).await;
}

/// A trusted proxy's `X-Forwarded-Proto` is the server's scheme for the
/// same-origin check: `https` admits `https://host:port` only, `http`
/// admits `http://` only. Without it (and from a peer that is not
/// trusted) the scheme is unknown and either is admitted.
async fn the_scheme_a_trusted_proxy_forwards_is_the_same_origins<R: Rt>() {
    let origin = |scheme: &str, addr| format!("Origin: {scheme}://{addr}\r\n");
    let (built, addr) = server::<R>(upgrader::<R>()).await;
    let proxies = TrustedProxies::x_forwarded_for([IpAddr::from([127, 0, 0, 1])]);
    let (handle, running) = run_echo::<R>(built.trusted_proxies(proxies));
    for (proto, same, other) in [("https", "https", "http"), ("http", "http", "https")] {
        let forwarded = format!("X-Forwarded-For: 203.0.113.1\r\nX-Forwarded-Proto: {proto}\r\n");
        served::<R>(addr, &(forwarded.clone() + &origin(same, addr)))
            .await
            .close_normally()
            .await;
        let request = upgrade_request(addr, &(forwarded + &origin(other, addr)));
        let (head, _) = response::<R>(addr, request.as_bytes()).await;
        assert_eq!(
            status(&head),
            403,
            "[{}] {proto}, {other}:// {head}",
            R::NAME
        );
    }
    for scheme in ["http", "https"] {
        served::<R>(addr, &origin(scheme, addr))
            .await
            .close_normally()
            .await;
    }
    stop::<R>(handle, running).await;

    // The same header from a peer that is not trusted: not believed.
    let (built, addr) = server::<R>(upgrader::<R>()).await;
    let proxies = TrustedProxies::x_forwarded_for([IpAddr::from([10, 0, 0, 1])]);
    let (handle, running) = run_echo::<R>(built.trusted_proxies(proxies));
    let extra = format!("X-Forwarded-Proto: https\r\n{}", origin("http", addr));
    served::<R>(addr, &extra).await.close_normally().await;
    stop::<R>(handle, running).await;
}

/// Two clients that send half a request hold both handshake places: the
/// next is answered 503 once its head arrives. At the handshake deadline
/// the slow ones are closed and their places free.
async fn slow_handshakes_hold_their_places_until_the_deadline<R: Rt>() {
    let deadline = Duration::from_millis(800);
    let (server, addr) = server::<R>(upgrader::<R>().handshake_timeout(deadline)).await;
    let (handle, running) = run_echo::<R>(server.max_handshakes(2));
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut io = R::connect(addr).await;
        io.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        slow.push(io);
    }
    refused::<R>(addr, "").await;
    for io in &mut slow {
        let rest = read_to_end_within::<R, _>(io, "the slow client is closed at the deadline")
            .await
            .expect("clean end");
        assert!(rest.is_empty(), "[{}] {rest:?}", R::NAME);
    }
    let _next = served_once_freed::<R>(addr).await;
    stop::<R>(handle, running).await;
}

runtime_tests!(
    a_client_over_the_connection_cap_reads_a_503_until_a_place_frees,
    the_per_ip_cap_counts_the_client_a_trusted_proxy_forwards,
    an_untrusted_peers_forwarding_header_is_ignored,
    the_scheme_a_trusted_proxy_forwards_is_the_same_origins,
    slow_handshakes_hold_their_places_until_the_deadline,
);
