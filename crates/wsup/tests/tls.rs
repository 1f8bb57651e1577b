//! `wss://`: the server's TLS acceptor on every runtime, with certificates
//! made by the test (a CA and a leaf it signs), against real TLS clients
//! (tokio-rustls, futures-rustls) carrying async-tungstenite or raw
//! frames. The TLS handshake runs in the connection's task: a client that
//! sends no TLS, or stalls in it, is dropped (under the handshake deadline,
//! one over TLS and the request head) while the server goes on serving;
//! the handshake caps count TLS handshakes; graceful shutdown closes with
//! 1001 and TLS's close_notify; over TLS the same origin is `https://`.

mod harness;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite;
use async_tungstenite::WebSocketStream;
use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_util::StreamExt;
use harness::raw::{header, read_http_head, status, upgrade_request, RawWs, OP_TEXT};
use harness::*;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use wsup::deflate::DeflateConfig;
use wsup::server::{Acceptor, Server, Shutdown, ShutdownSummary};
use wsup::tls::{server_config, server_config_from_pem, TlsConfigError};
use wsup_testkit::certs::{PemFile, TestCerts};

/// What a test needs for TLS on a runtime: the binding's acceptor, and a
/// client's TLS over the runtime's socket (`futures_io`, for
/// async-tungstenite's generic `client_async`).
trait TlsRt: Rt {
    type Tls: Acceptor<Self::ServerIo>;
    type TlsClient: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    fn acceptor(config: Arc<ServerConfig>) -> Self::Tls;
    fn tls_connect(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        io: Self::ClientIo,
    ) -> impl Future<Output = io::Result<Self::TlsClient>> + Send;
    /// The protocol ALPN settled on.
    fn alpn(io: &Self::TlsClient) -> Option<Vec<u8>>;
}

impl TlsRt for Tokio {
    type Tls = wsup_tokio::TlsAcceptor;
    type TlsClient = async_tungstenite::tokio::TokioAdapter<
        tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    >;

    fn acceptor(config: Arc<ServerConfig>) -> Self::Tls {
        wsup_tokio::TlsAcceptor::from(config)
    }

    async fn tls_connect(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        io: Self::ClientIo,
    ) -> io::Result<Self::TlsClient> {
        let connector = tokio_rustls::TlsConnector::from(config);
        let tls = connector.connect(name, io.into_inner()).await?;
        Ok(async_tungstenite::tokio::TokioAdapter::new(tls))
    }

    fn alpn(io: &Self::TlsClient) -> Option<Vec<u8>> {
        io.get_ref().get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
    }
}

/// smol and async-std: futures-rustls over their `futures_io` sockets.
macro_rules! futures_tls {
    ($rt:ty, $stream:ty) => {
        impl TlsRt for $rt {
            type Tls = wsup::tls::TlsAcceptor;
            type TlsClient = futures_rustls::client::TlsStream<$stream>;

            fn acceptor(config: Arc<ServerConfig>) -> Self::Tls {
                wsup::tls::TlsAcceptor::from(config)
            }

            fn tls_connect(
                config: Arc<ClientConfig>,
                name: ServerName<'static>,
                io: Self::ClientIo,
            ) -> impl Future<Output = io::Result<Self::TlsClient>> + Send {
                futures_rustls::TlsConnector::from(config).connect(name, io)
            }

            fn alpn(io: &Self::TlsClient) -> Option<Vec<u8>> {
                io.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
            }
        }
    };
}
futures_tls!(Smol, smol::net::TcpStream);
futures_tls!(AsyncStd, async_std::net::TcpStream);

runtime_tests! {
    echoes_text_and_binary_over_tls,
    client_without_tls_is_dropped_and_others_served,
    stalled_tls_handshake_is_dropped_at_the_handshake_deadline,
    handshake_cap_counts_tls_handshakes,
    graceful_shutdown_closes_with_1001_and_close_notify,
    shutdown_aborts_a_stalled_tls_handshake,
    run_connections_gets_the_tls_stream,
    deflate_over_tls,
    same_origin_over_tls_is_https,
}

/// A server's certificates and a client config that trusts their CA.
struct Pki {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

impl Pki {
    fn new() -> Self {
        let certs = TestCerts::generate();
        let server = server_config_from_pem(certs.cert_pem.as_bytes(), certs.key_pem.as_bytes())
            .expect("server config");
        Pki {
            server,
            client: certs.client_config(),
        }
    }

    /// A TLS client connected to `addr`, checking the server's certificate
    /// for `name` (`localhost` or `127.0.0.1`).
    async fn connect<R: TlsRt>(&self, addr: SocketAddr, name: &str) -> R::TlsClient {
        let name = ServerName::try_from(name.to_owned()).expect("server name");
        let io = R::connect(addr).await;
        within::<R, _>(
            Duration::from_secs(5),
            "TLS handshake",
            R::tls_connect(self.client.clone(), name, io),
        )
        .await
        .unwrap_or_else(|e| panic!("[{}] TLS handshake failed: {e}", R::NAME))
    }

    /// async-tungstenite over TLS to `wss://localhost:port/`.
    async fn wss<R: TlsRt>(
        &self,
        addr: SocketAddr,
    ) -> Result<WebSocketStream<R::TlsClient>, tungstenite::Error> {
        let tls = self.connect::<R>(addr, "localhost").await;
        let url = format!("wss://localhost:{}/", addr.port());
        async_tungstenite::client_async(url, tls)
            .await
            .map(|(ws, _)| ws)
    }
}

/// A TLS echo server on 127.0.0.1 with `upgrader`, its builder set up by
/// `configure`; returns its address, shutdown handle and what `run` will
/// return.
async fn start<R: TlsRt>(
    pki: &Pki,
    upgrader: wsup::Upgrader,
    configure: impl FnOnce(Server<R::Binding>) -> Server<R::Binding>,
) -> (
    SocketAddr,
    Shutdown,
    Arc<wsup::ServerStats>,
    BoxFut<io::Result<ShutdownSummary>>,
) {
    let (server, addr) = server::<R>(upgrader).await;
    let server = configure(server).acceptor(R::acceptor(pki.server.clone()));
    let (handle, stats) = (server.shutdown_handle(), server.stats());
    let running = spawn::<R, _>(server.run(|ws, _| async move {
        let _ = echo(ws).await;
    }));
    (addr, handle, stats, running)
}

/// A client gets through: text echoed over `wss://`.
async fn served<R: TlsRt>(pki: &Pki, addr: SocketAddr) {
    let mut ws = pki.wss::<R>(addr).await.expect("wss handshake");
    ws.send(ClientMsg::text("still serving"))
        .await
        .expect("send");
    let echoed = within::<R, _>(Duration::from_secs(5), "echo", ws.next()).await;
    assert_eq!(
        echoed.map(|m| m.expect("echo")),
        Some(ClientMsg::text("still serving")),
        "[{}]",
        R::NAME
    );
}

/// Reads until the stream ends (EOF, or an error such as a reset or a TLS
/// alert): the server dropped the connection.
async fn read_to_end(io: &mut (impl AsyncRead + Unpin)) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = io.read(&mut buf).await {
        let _ = n;
    }
}

async fn echoes_text_and_binary_over_tls<R: TlsRt>() {
    let pki = Pki::new();
    let (addr, handle, _, running) = start::<R>(&pki, upgrader::<R>(), |s| s).await;

    // By IP: the certificate names 127.0.0.1 too; ALPN settles on http/1.1.
    let tls = pki.connect::<R>(addr, "127.0.0.1").await;
    assert_eq!(
        R::alpn(&tls).as_deref(),
        Some(&b"http/1.1"[..]),
        "[{}]",
        R::NAME
    );
    let (mut ws, _) =
        async_tungstenite::client_async(format!("wss://127.0.0.1:{}/", addr.port()), tls)
            .await
            .expect("wss handshake");
    // A binary message over several TLS records (16 KiB each at most).
    let big = pattern(100_000, 7);
    for msg in [
        ClientMsg::text("hello over tls"),
        ClientMsg::binary(big),
        ClientMsg::text(text_pattern(20_000, 3)),
    ] {
        ws.send(msg.clone()).await.expect("send");
        let echoed =
            within::<R, _>(Duration::from_secs(5), "echo", client_next::<R>(&mut ws)).await;
        assert_eq!(echoed, msg, "[{}]", R::NAME);
    }
    client_close_echoed::<R>(&mut ws, 1000, "done").await;
    drop(ws);
    let summary = stop::<R>(handle, running).await;
    assert_eq!(summary.aborted, 0, "[{}] {summary:?}", R::NAME);
}

async fn client_without_tls_is_dropped_and_others_served<R: TlsRt>() {
    let pki = Pki::new();
    // The handshake deadline is far: the connection must end on the TLS
    // error, not on the deadline.
    let upgrader = upgrader::<R>().handshake_timeout(Duration::from_secs(30));
    let (addr, handle, _, running) = start::<R>(&pki, upgrader, |s| s).await;

    let mut plain = R::connect(addr).await;
    let request = raw::upgrade_request(addr, "");
    plain.write_all(request.as_bytes()).await.expect("write");
    let began = Instant::now();
    within::<R, _>(
        Duration::from_secs(5),
        "plain client dropped",
        read_to_end(&mut plain),
    )
    .await;
    assert!(began.elapsed() < Duration::from_secs(5), "[{}]", R::NAME);

    // A client that sends bytes that are not a ClientHello at all.
    let mut garbage = R::connect(addr).await;
    garbage.write_all(&[0xff; 64]).await.expect("write");
    within::<R, _>(
        Duration::from_secs(5),
        "garbage client dropped",
        read_to_end(&mut garbage),
    )
    .await;

    served::<R>(&pki, addr).await;
    stop::<R>(handle, running).await;
}

async fn stalled_tls_handshake_is_dropped_at_the_handshake_deadline<R: TlsRt>() {
    let pki = Pki::new();
    let deadline = Duration::from_secs(1);
    let upgrader = upgrader::<R>().handshake_timeout(deadline);
    let (addr, handle, _, running) = start::<R>(&pki, upgrader, |s| s).await;

    // Half a TLS record header, then nothing.
    let stalled = spawn::<R, _>(async move {
        let mut io = R::connect(addr).await;
        let began = Instant::now();
        io.write_all(&[0x16, 0x03]).await.expect("write");
        read_to_end(&mut io).await;
        began.elapsed()
    });
    // The TLS handshake done late, then no request head: the one deadline
    // runs from accept, over both.
    let late = {
        let client = pki.client.clone();
        spawn::<R, _>(async move {
            let io = R::connect(addr).await;
            let began = Instant::now();
            R::sleep(Duration::from_millis(600)).await;
            let name = ServerName::try_from("localhost").expect("name");
            let mut tls = R::tls_connect(client, name, io)
                .await
                .expect("TLS handshake");
            read_to_end(&mut tls).await;
            began.elapsed()
        })
    };
    let stalled = within::<R, _>(Duration::from_secs(5), "stalled client dropped", stalled).await;
    assert_took::<R>(
        stalled,
        deadline - Duration::from_millis(100),
        deadline * 3,
        "stalled TLS",
    );
    let late = within::<R, _>(Duration::from_secs(5), "late client dropped", late).await;
    assert_took::<R>(
        late,
        deadline - Duration::from_millis(100),
        deadline + Duration::from_millis(500),
        "TLS done late, no head",
    );

    served::<R>(&pki, addr).await;
    stop::<R>(handle, running).await;
}

async fn handshake_cap_counts_tls_handshakes<R: TlsRt>() {
    let pki = Pki::new();
    let (addr, handle, stats, running) =
        start::<R>(&pki, upgrader::<R>(), |s| s.max_handshakes(1)).await;

    // Holds the one handshake place, in its TLS handshake.
    let mut stalled = R::connect(addr).await;
    R::sleep(Duration::from_millis(100)).await;

    // Over the cap: answered 503, over TLS.
    match pki.wss::<R>(addr).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503, "[{}]", R::NAME);
        }
        other => panic!("[{}] expected a 503, got {:?}", R::NAME, other.map(drop)),
    }
    assert_eq!(stats.snapshot().refused_with(503), 1, "[{}]", R::NAME);

    // The stalled client goes; its place frees when its task ends.
    R::shutdown_write(&mut stalled).await;
    drop(stalled);
    let began = Instant::now();
    loop {
        match pki.wss::<R>(addr).await {
            Ok(mut ws) => {
                client_close_echoed::<R>(&mut ws, 1000, "").await;
                break;
            }
            Err(tungstenite::Error::Http(r)) if r.status() == 503 => {
                assert!(
                    began.elapsed() < Duration::from_secs(3),
                    "[{}] place never freed",
                    R::NAME
                );
                R::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("[{}] {e}", R::NAME),
        }
    }
    stop::<R>(handle, running).await;
}

async fn graceful_shutdown_closes_with_1001_and_close_notify<R: TlsRt>() {
    let pki = Pki::new();
    let (addr, handle, _, running) = start::<R>(&pki, upgrader::<R>(), |s| s).await;
    let mut ws = pki.wss::<R>(addr).await.expect("wss handshake");
    ws.send(ClientMsg::text("up")).await.expect("send");
    assert_eq!(client_next::<R>(&mut ws).await, ClientMsg::text("up"));

    handle.trigger();
    let (before, close) = within::<R, _>(
        Duration::from_secs(5),
        "server's close",
        client_until_close::<R>(&mut ws),
    )
    .await;
    assert!(before.is_empty(), "[{}] {before:?}", R::NAME);
    assert_eq!(close.map(|c| c.0), Some(1001), "[{}]", R::NAME);
    // async-tungstenite answers the close; then the server ends TLS with
    // close_notify: a clean end of stream, not an unexpected EOF.
    let _ = within::<R, _>(Duration::from_secs(5), "client stream ends", ws.next()).await;
    let end = read_to_end_within::<R, _>(ws.get_mut(), "close_notify").await;
    assert!(end.is_ok(), "[{}] no close_notify: {end:?}", R::NAME);

    let summary = run_returns::<R>(running).await;
    assert_eq!(
        (summary.closed, summary.aborted),
        (1, 0),
        "[{}] {summary:?}",
        R::NAME
    );
}

async fn shutdown_aborts_a_stalled_tls_handshake<R: TlsRt>() {
    let pki = Pki::new();
    // A handshake deadline far past the shutdown timeout: the stalled TLS
    // handshake ends by the abort, like any task.
    let upgrader = upgrader::<R>().handshake_timeout(Duration::from_secs(60));
    let (addr, handle, _, running) = start::<R>(&pki, upgrader, |s| {
        s.shutdown_timeout(Duration::from_millis(300))
    })
    .await;
    let mut stalled = R::connect(addr).await;
    stalled.write_all(&[0x16, 0x03]).await.expect("write");
    R::sleep(Duration::from_millis(100)).await;

    let summary = stop::<R>(handle, running).await;
    assert_eq!(
        (summary.closed, summary.aborted),
        (0, 1),
        "[{}] {summary:?}",
        R::NAME
    );
    within::<R, _>(
        Duration::from_secs(2),
        "stalled client dropped",
        read_to_end(&mut stalled),
    )
    .await;
}

async fn run_connections_gets_the_tls_stream<R: TlsRt>() {
    let pki = Pki::new();
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let server = server.acceptor(R::acceptor(pki.server.clone()));
    let handle = server.shutdown_handle();
    // The handler speaks its own protocol over the TLS stream (HTTP, for
    // hyper): here, one line and the end of the stream.
    let running = spawn::<R, _>(server.run_connections(|mut io, _| async move {
        let _ = io.write_all(b"over tls\n").await;
        let _ = io.close().await;
    }));
    let mut tls = pki.connect::<R>(addr, "localhost").await;
    let got = read_to_end_within::<R, _>(&mut tls, "the line")
        .await
        .expect("a clean end, with close_notify");
    assert_eq!(got, b"over tls\n", "[{}]", R::NAME);

    // A client without TLS never reaches the handler.
    let mut plain = R::connect(addr).await;
    plain
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .await
        .expect("write");
    let got = read_what_comes::<R, _>(&mut plain, "plain dropped").await;
    assert!(!got.windows(8).any(|w| w == b"over tls"), "[{}]", R::NAME);
    stop::<R>(handle, running).await;
}

async fn deflate_over_tls<R: TlsRt>() {
    use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

    let pki = Pki::new();
    let upgrader = upgrader::<R>().compression(DeflateConfig::enabled());
    let (addr, handle, _, running) = start::<R>(&pki, upgrader, |s| s).await;
    let tls = pki.connect::<R>(addr, "localhost").await;
    let (mut ws, head) = RawWs::handshake(
        tls,
        addr,
        "Sec-WebSocket-Extensions: permessage-deflate\r\n",
    )
    .await;
    assert!(
        header(&head, "sec-websocket-extensions")
            .is_some_and(|v| v.starts_with("permessage-deflate")),
        "[{}] {head}",
        R::NAME
    );

    // Both ways with context takeover: the second message leans on the
    // first's window.
    let (mut deflate, mut inflate) = (
        Compress::new(Compression::default(), false),
        Decompress::new(false),
    );
    let mut buf = Vec::new();
    for round in 0..2u8 {
        let text = format!(
            "{} round {round}",
            "compressible text over tls, ".repeat(200)
        );
        let mut compressed = Vec::with_capacity(text.len() + 64);
        deflate
            .compress_vec(text.as_bytes(), &mut compressed, FlushCompress::Sync)
            .expect("deflate");
        assert!(compressed.ends_with(&[0, 0, 0xff, 0xff]));
        compressed.truncate(compressed.len() - 4);
        ws.send_with(true, 4, OP_TEXT, &compressed).await;

        let frame = within::<R, _>(Duration::from_secs(5), "compressed echo", async {
            loop {
                if let Some((frame, n)) = wsup_testkit::parse_frame(&buf) {
                    buf.drain(..n);
                    break frame;
                }
                let mut chunk = [0u8; 16 * 1024];
                let n = ws.io.read(&mut chunk).await.expect("read");
                assert!(n > 0, "[{}] end of stream before the echo", R::NAME);
                buf.extend_from_slice(&chunk[..n]);
            }
        })
        .await;
        assert_eq!(
            (frame.fin, frame.rsv, frame.opcode),
            (true, 4, OP_TEXT),
            "[{}]",
            R::NAME
        );
        assert!(
            frame.payload.len() < text.len() / 4,
            "[{}] barely compressed",
            R::NAME
        );
        let mut input = frame.payload.clone();
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut plain = Vec::with_capacity(text.len() + 1024);
        inflate
            .decompress_vec(&input, &mut plain, FlushDecompress::Sync)
            .expect("inflate");
        assert_eq!(plain, text.as_bytes(), "[{}] round {round}", R::NAME);
    }
    ws.send_close(1000, "").await;
    drop(ws);
    stop::<R>(handle, running).await;
}

/// Over TLS the server knows its scheme: its own origin is
/// `https://host:port`, and `http://` (or `ws://`) at the same host and
/// port is another, refused with 403.
async fn same_origin_over_tls_is_https<R: TlsRt>() {
    let pki = Pki::new();
    let (addr, handle, stats, running) = start::<R>(&pki, upgrader::<R>(), |s| s).await;
    let origin = |scheme: &str| format!("Origin: {scheme}://{addr}\r\n");

    let tls = pki.connect::<R>(addr, "localhost").await;
    let (mut ws, _) = RawWs::handshake(tls, addr, &origin("https")).await;
    ws.send(true, OP_TEXT, b"same origin").await;
    let echoed = within::<R, _>(Duration::from_secs(5), "echo", ws.read_frame()).await;
    assert_frame::<R>(&echoed.expect("echo"), true, OP_TEXT, b"same origin");
    ws.close_normally().await;

    for other in ["http", "ws"] {
        let mut tls = pki.connect::<R>(addr, "localhost").await;
        let request = upgrade_request(addr, &origin(other));
        tls.write_all(request.as_bytes()).await.expect("write");
        let (head, _) =
            within::<R, _>(Duration::from_secs(5), "response", read_http_head(&mut tls))
                .await
                .unwrap_or_else(|| panic!("[{}] no response to {other}://", R::NAME));
        assert_eq!(status(&head), 403, "[{}] {other}:// {head}", R::NAME);
    }
    assert_eq!(stats.snapshot().refused_with(403), 2, "[{}]", R::NAME);
    stop::<R>(handle, running).await;
}

#[test]
fn server_config_reads_pem_files_and_says_what_is_wrong() {
    let certs = TestCerts::generate();
    let cert = PemFile::new("cert.pem", &certs.cert_pem);
    let key = PemFile::new("key.pem", &certs.key_pem);
    let config = server_config(cert.path(), key.path()).expect("config from files");
    assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);

    let missing = cert.path().with_extension("missing");
    match server_config(&missing, key.path()) {
        Err(TlsConfigError::Read { path, source }) => {
            assert_eq!(
                (path, source.kind()),
                (missing.clone(), io::ErrorKind::NotFound)
            );
        }
        other => panic!("{other:?}"),
    }
    let err = io::Error::from(server_config(&missing, key.path()).unwrap_err());
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert!(err.to_string().contains("missing"), "{err}");

    // The key where the certificates should be, and the other way round.
    assert!(matches!(
        server_config(key.path(), key.path()),
        Err(TlsConfigError::NoCertificate(what)) if what.ends_with("key.pem")
    ));
    assert!(matches!(
        server_config(cert.path(), cert.path()),
        Err(TlsConfigError::NoPrivateKey(what)) if what.ends_with("cert.pem")
    ));
    let broken = PemFile::new("broken.pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n");
    assert!(matches!(
        server_config(broken.path(), key.path()),
        Err(TlsConfigError::Pem { .. })
    ));
    let err = io::Error::from(server_config(broken.path(), key.path()).unwrap_err());
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
}
