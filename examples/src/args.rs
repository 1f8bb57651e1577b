//! The command line of the server examples: `PROGRAM [ADDR] [FLAGS]`, the
//! address first, flags as `--flag V` or `--flag=V`; seconds may be
//! decimal.

use std::future::Future;
use std::io;
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use wsup::server::ShutdownSummary;
use wsup::Upgrader;

use crate::rt;

/// What `echo` and `hello` take on their command line.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerArgs {
    /// Where to listen.
    pub addr: String,
    /// `--keepalive S`: ping after S seconds with nothing received, drop the
    /// peer when nothing arrives within S seconds after the ping; `0` turns
    /// it off. `None`: the library's default.
    pub keepalive: Option<Option<Duration>>,
    /// `--idle-timeout S`.
    pub idle_timeout: Option<Duration>,
    /// `--write-timeout S`.
    pub write_timeout: Option<Duration>,
    /// `--max-connections N`.
    pub max_connections: Option<usize>,
    /// `--shutdown-timeout S`: how long a graceful shutdown waits for
    /// connections to close.
    pub shutdown_timeout: Option<Duration>,
    /// `--tls CERT.pem KEY.pem`: serve `wss://` with this certificate
    /// chain and private key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `--max-message BYTES`: the largest message accepted, all fragments
    /// together (close 1009 beyond it). `None`: the library's default.
    pub max_message: Option<usize>,
    /// `--socket-buffer BYTES`: the kernel's send and receive buffers of
    /// every connection (set on the listener, which they inherit; the
    /// kernel then no longer grows them). `None`: the kernel's own sizing.
    pub socket_buffer: Option<usize>,
    /// `--hyper` (`echo` only): serve HTTP with hyper and upgrade through
    /// `wsup::hyper`, rather than wsup reading the request itself.
    pub hyper: bool,
}

/// The flags, for the usage line.
pub const USAGE_FLAGS: &str = "[--keepalive S] [--idle-timeout S] [--write-timeout S] \
     [--max-connections N] [--shutdown-timeout S] [--max-message BYTES] [--socket-buffer BYTES] \
     [--tls CERT.pem KEY.pem] [--hyper]";

impl ServerArgs {
    /// Parses `args` (without the program name); `default_addr` when no
    /// address is given.
    pub fn parse<I>(args: I, default_addr: &str) -> Result<ServerArgs, String>
    where
        I: IntoIterator<Item = String>,
    {
        let mut parsed = ServerArgs {
            addr: default_addr.to_owned(),
            keepalive: None,
            idle_timeout: None,
            write_timeout: None,
            max_connections: None,
            shutdown_timeout: None,
            tls: None,
            max_message: None,
            socket_buffer: None,
            hyper: false,
        };
        let mut args = args.into_iter().peekable();
        if let Some(first) = args.next_if(|a| !a.starts_with("--")) {
            parsed.addr = first;
        }
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (arg, None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--hyper" if inline.is_none() => parsed.hyper = true,
                "--keepalive" => {
                    let s = seconds(&flag, &value()?)?;
                    parsed.keepalive = Some((!s.is_zero()).then_some(s));
                }
                "--idle-timeout" => parsed.idle_timeout = Some(seconds(&flag, &value()?)?),
                "--write-timeout" => parsed.write_timeout = Some(seconds(&flag, &value()?)?),
                "--shutdown-timeout" => parsed.shutdown_timeout = Some(seconds(&flag, &value()?)?),
                "--max-connections" => parsed.max_connections = Some(count(&flag, &value()?)?),
                "--max-message" => parsed.max_message = Some(count(&flag, &value()?)?),
                "--socket-buffer" => parsed.socket_buffer = Some(count(&flag, &value()?)?),
                "--tls" => {
                    let cert = value()?;
                    let key = args
                        .next()
                        .ok_or_else(|| format!("{flag} needs a certificate and a key"))?;
                    parsed.tls = Some((cert.into(), key.into()));
                }
                _ => return Err(format!("unknown argument: {flag}")),
            }
        }
        Ok(parsed)
    }

    /// The program's own command line; on a mistake, prints the usage and
    /// exits with status 2.
    pub fn from_env(program: &str, default_addr: &str) -> ServerArgs {
        match ServerArgs::parse(std::env::args().skip(1), default_addr) {
            Ok(args) => args,
            Err(e) => {
                eprintln!("{program}: {e}\nusage: {program} [ADDR] {USAGE_FLAGS}");
                std::process::exit(2);
            }
        }
    }

    /// What the HTTP programs (`hello`, `hello-raw`, `hello-axum`) share
    /// around their own part: logs to stderr, reads the command line
    /// (`program [ADDR] [FLAGS]`, 127.0.0.1:8888 by default) and the
    /// `--tls` files (a mistake ends the program with status 2), then, on
    /// this build's runtime, binds and says where ([`listen_http`]), and
    /// hands `main` the [`server`] with its upgrader (the flags applied,
    /// then `configure`) and the TLS acceptor. Reports the shutdown's
    /// summary when `main` ends.
    ///
    /// [`listen_http`]: Self::listen_http
    /// [`server`]: Self::server
    pub fn run_http<F, Fut>(
        program: &str,
        configure: impl FnOnce(Upgrader) -> Upgrader,
        main: F,
    ) -> io::Result<()>
    where
        F: FnOnce(rt::Server, Upgrader, Option<rt::TlsAcceptor>) -> Fut,
        Fut: Future<Output = io::Result<ShutdownSummary>>,
    {
        crate::log_to_stderr();
        let args = ServerArgs::from_env(program, "127.0.0.1:8888");
        let tls = args.tls_acceptor_or_exit(program);
        rt::block_on(async {
            let listener = args.listen_http().await?;
            let upgrader = configure(args.apply(rt::upgrader()));
            let server = args.server(listener, upgrader.clone());
            report_shutdown(main(server, upgrader, tls).await?);
            Ok(())
        })
    }

    /// The server the programs run: on `listener`, upgrading with
    /// `upgrader`, shutting down gracefully on SIGINT or SIGTERM, with the
    /// shutdown timeout and the cap given on the command line.
    pub fn server(&self, listener: rt::TcpListener, upgrader: Upgrader) -> rt::Server {
        let mut server =
            rt::Server::new(listener, upgrader).with_graceful_shutdown(rt::shutdown_signal());
        if let Some(timeout) = self.shutdown_timeout {
            server = server.shutdown_timeout(timeout);
        }
        if let Some(max) = self.max_connections {
            server = server.max_connections(max);
        }
        server
    }

    /// Binds the address, with the kernel buffers `--socket-buffer` asks
    /// for.
    pub async fn bind(&self) -> io::Result<rt::TcpListener> {
        let Some(size) = self.socket_buffer else {
            return rt::bind(&self.addr).await;
        };
        let addr = self
            .addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::other(format!("no address for {}", self.addr)))?;
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        // As the runtimes' own `bind` does: a restarted server rebinds at
        // once.
        #[cfg(unix)]
        socket.set_reuse_address(true)?;
        socket.set_send_buffer_size(size)?;
        socket.set_recv_buffer_size(size)?;
        socket.bind(&addr.into())?;
        socket.listen(1024)?;
        socket.set_nonblocking(true)?;
        rt::listener_from_std(socket.into())
    }

    /// The TLS acceptor `--tls` asks for, its files read now (an error names
    /// the file and what is wrong with it).
    pub fn tls_acceptor(&self) -> io::Result<Option<rt::TlsAcceptor>> {
        let Some((cert, key)) = &self.tls else {
            return Ok(None);
        };
        let config = wsup::tls::server_config(cert, key)?;
        Ok(Some(rt::TlsAcceptor::from(config)))
    }

    /// [`tls_acceptor`](Self::tls_acceptor), or the error on stderr and
    /// exit status 2, before the program listens.
    pub fn tls_acceptor_or_exit(&self, program: &str) -> Option<rt::TlsAcceptor> {
        self.tls_acceptor().unwrap_or_else(|e| {
            eprintln!("{program}: --tls: {e}");
            std::process::exit(2)
        })
    }

    /// Binds the address and says `listening on http://ADDR` (`https://`
    /// with TLS): the HTTP programs' first line.
    pub async fn listen_http(&self) -> io::Result<rt::TcpListener> {
        let listener = rt::bind(&self.addr).await?;
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        println!("listening on {scheme}://{}", listener.local_addr()?);
        Ok(listener)
    }

    /// `upgrader` with the timeouts and the message limit given on the
    /// command line.
    pub fn apply(&self, mut upgrader: Upgrader) -> Upgrader {
        if let Some(max) = self.max_message {
            upgrader = upgrader.max_message_size(max);
        }
        if let Some(keepalive) = self.keepalive {
            upgrader = upgrader.keepalive_interval(keepalive);
            if let Some(every) = keepalive {
                upgrader = upgrader.keepalive_timeout(every);
            }
        }
        if let Some(d) = self.idle_timeout {
            upgrader = upgrader.idle_timeout(Some(d));
        }
        if let Some(d) = self.write_timeout {
            upgrader = upgrader.write_timeout(Some(d));
        }
        upgrader
    }
}

/// Says on stderr how a graceful shutdown went.
pub fn report_shutdown(summary: ShutdownSummary) {
    eprintln!(
        "shut down: {} connections closed, {} aborted",
        summary.closed, summary.aborted
    );
}

fn count(flag: &str, v: &str) -> Result<usize, String> {
    v.parse().map_err(|_| format!("{flag}: not a count: {v}"))
}

fn seconds(flag: &str, v: &str) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{flag}: not a number of seconds: {v}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ServerArgs, String> {
        ServerArgs::parse(args.iter().map(|s| s.to_string()), "127.0.0.1:9001")
    }

    #[test]
    fn address_first_then_flags_either_way() {
        let a = parse(&[
            "0.0.0.0:1",
            "--keepalive",
            "1.5",
            "--idle-timeout=30",
            "--write-timeout",
            "0.25",
            "--max-connections=10",
            "--shutdown-timeout",
            "2",
            "--max-message=1048576",
            "--socket-buffer",
            "32768",
        ])
        .unwrap();
        assert_eq!(a.addr, "0.0.0.0:1");
        assert_eq!(a.keepalive, Some(Some(Duration::from_millis(1500))));
        assert_eq!(a.idle_timeout, Some(Duration::from_secs(30)));
        assert_eq!(a.write_timeout, Some(Duration::from_millis(250)));
        assert_eq!(a.max_connections, Some(10));
        assert_eq!(a.shutdown_timeout, Some(Duration::from_secs(2)));
        assert_eq!(a.max_message, Some(1 << 20));
        assert_eq!(a.socket_buffer, Some(32 << 10));
        assert_eq!(a.tls, None);
        let up = a.apply(Upgrader::new());
        assert_eq!(up.websocket_config().max_message_size(), 1 << 20);
        let a = parse(&["--tls", "c.pem", "k.pem", "--keepalive=0"]).unwrap();
        assert_eq!(a.tls, Some(("c.pem".into(), "k.pem".into())));
        assert_eq!(a.keepalive, Some(None));
    }

    #[test]
    fn defaults_and_keepalive_off() {
        let a = parse(&[]).unwrap();
        assert_eq!(a.addr, "127.0.0.1:9001");
        assert_eq!(a.keepalive, None);
        assert_eq!((a.max_message, a.socket_buffer), (None, None));
        assert!(!a.hyper);
        let a = parse(&["--keepalive=0", "--hyper"]).unwrap();
        assert_eq!(a.addr, "127.0.0.1:9001");
        assert_eq!(a.keepalive, Some(None));
        assert!(a.hyper);
        let up = a.apply(Upgrader::new());
        assert_eq!(up.websocket_config().keepalive_interval(), None);
    }

    #[test]
    fn mistakes_are_named() {
        let cases: &[(&[&str], &str)] = &[
            (&["--keepalive"], "needs a value"),
            (&["--keepalive", "x"], "seconds"),
            (&["--keepalive", "-1"], "seconds"),
            (&["--max-connections=1.5"], "count"),
            (&["--max-message", "1M"], "count"),
            (&["--tls", "c.pem"], "a certificate and a key"),
            (&["--nope"], "unknown"),
            (&["a", "b"], "unknown"),
        ];
        for (args, named) in cases {
            let e = parse(args).unwrap_err();
            assert!(e.contains(named), "{args:?}: {e}");
        }
    }
}
