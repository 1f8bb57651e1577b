//! Peers on 127.0.0.1 for client tests, on std threads (no runtime): a
//! one-shot `ping` → `pong` server, and an HTTP `CONNECT` proxy.
//!
//! Every socket has a read timeout, so a test that goes wrong ends its
//! threads by itself.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

/// How long a peer waits for bytes before giving up.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts one connection on 127.0.0.1, reads `ping`, answers `pong`. The
/// handle returns what was read, or the error.
pub fn pong_once() -> (SocketAddr, JoinHandle<io::Result<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(PEER_TIMEOUT))?;
        let mut ping = [0; 4];
        stream.read_exact(&mut ping)?;
        stream.write_all(b"pong")?;
        Ok(ping.to_vec())
    });
    (addr, peer)
}

/// Writes `ping` to `io` and reads 4 bytes back: the other side of
/// [`pong_once`], over any `futures_io` stream (TLS included). An error
/// unless they are `pong`.
pub async fn ping_pong<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S) -> io::Result<()> {
    let mut sent = 0;
    while sent < 4 {
        sent += poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, &b"ping"[sent..])).await?;
    }
    poll_fn(|cx| Pin::new(&mut *io).poll_flush(cx)).await?;
    let mut pong = [0; 4];
    let mut got = 0;
    while got < 4 {
        match poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut pong[got..])).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    match &pong {
        b"pong" => Ok(()),
        other => Err(io::Error::other(format!("expected pong, read {other:?}"))),
    }
}

/// Checks a binding's TCP connect: to `127.0.0.1` and to `localhost`
/// (which may resolve to `::1` first, where nothing listens: the next
/// address must be tried), each stream with `TCP_NODELAY` set (`nodelay`
/// reads it) and answering a [`ping_pong`].
pub async fn connects_by_address_and_by_name<S, F, Fut>(connect: F, nodelay: impl Fn(&S) -> bool)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: Fn(&'static str, u16) -> Fut,
    Fut: std::future::Future<Output = io::Result<S>>,
{
    for host in ["127.0.0.1", "localhost"] {
        let (addr, peer) = pong_once();
        let mut io = connect(host, addr.port()).await.expect("connect");
        assert!(nodelay(&io), "{host}: TCP_NODELAY");
        ping_pong(&mut io).await.expect("ping, pong");
        assert_eq!(peer.join().unwrap().unwrap(), b"ping");
    }
}

/// A port of 127.0.0.1 where nothing listens, held for as long as the
/// value lives: a TCP socket bound to it and not listening, so that a
/// connection is refused and no other test is given the port meanwhile.
#[derive(Debug)]
pub struct ClosedPort {
    _socket: socket2::Socket,
    port: u16,
}

impl ClosedPort {
    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A [`ClosedPort`]: keep it alive until the connection was refused.
pub fn closed_port() -> ClosedPort {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("TCP socket");
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    socket.bind(&any.into()).expect("bind 127.0.0.1");
    let port = socket
        .local_addr()
        .expect("local address")
        .as_socket()
        .expect("an IP address")
        .port();
    ClosedPort {
        _socket: socket,
        port,
    }
}

/// An HTTP proxy on 127.0.0.1 that serves `CONNECT` (each connection in
/// its own thread, until the proxy is dropped), or refuses every request
/// with a given status line.
#[derive(Debug)]
pub struct ConnectProxy {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// A proxy that dials the target of each `CONNECT`, answers
    /// `200 Connection established`, and copies bytes both ways.
    pub fn start() -> ConnectProxy {
        ConnectProxy::serve(None)
    }

    /// A proxy that answers every request with `status_line` (such as
    /// `407 Proxy Authentication Required`) and closes.
    pub fn refusing(status_line: &'static str) -> ConnectProxy {
        ConnectProxy::serve(Some(status_line))
    }

    fn serve(refusal: Option<&'static str>) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&heads);
        // Ends with the test process; each connection's threads end when
        // either side closes or goes quiet for PEER_TIMEOUT.
        thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let seen = Arc::clone(&seen);
                thread::spawn(move || {
                    let _ = tunnel(client, refusal, &seen);
                });
            }
        });
        ConnectProxy { addr, heads }
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request heads received so far, each as text.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("heads").clone()
    }
}

fn tunnel(
    mut client: TcpStream,
    refusal: Option<&str>,
    heads: &Mutex<Vec<String>>,
) -> io::Result<()> {
    client.set_read_timeout(Some(PEER_TIMEOUT))?;
    // Byte by byte, so that nothing past the head is taken from the client.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        if client.read(&mut byte)? == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    heads.lock().expect("heads").push(head.clone());
    if let Some(status) = refusal {
        return client
            .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes());
    }
    let target = match head
        .strip_prefix("CONNECT ")
        .and_then(|rest| rest.split(' ').next())
    {
        Some(target) => target.to_owned(),
        None => return client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n"),
    };
    let server = match TcpStream::connect(&target) {
        Ok(server) => server,
        Err(_) => return client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n"),
    };
    server.set_read_timeout(Some(PEER_TIMEOUT))?;
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let (client_in, server_out) = (client.try_clone()?, server.try_clone()?);
    let up = thread::spawn(move || copy(client_in, server_out));
    copy(server, client);
    let _ = up.join();
    Ok(())
}

/// Copies until end of stream (or an error, or the timeout), then passes
/// the end on.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}
