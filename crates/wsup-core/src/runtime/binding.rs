//! The face every runtime binding shows, written once.
//!
//! `wsup-tokio`, `wsup-smol` and `wsup-async-std` differ only in their
//! runtime's spawner and timers (wsup's `ThreadTimer` on smol and
//! async-std; on tokio a `TimerSet` fired from the reactor), their TCP
//! types and the function that gives an accepted stream `futures_io`'s
//! traits. Everything else (the
//! [`Listen`](crate::server::Listen) and [`Connect`](crate::client::Connect)
//! impls, the type aliases, `upgrader`, `serve`, `upgrade`, `dialer`,
//! `connect`, `connect_with`) is the same code over those types, so it is
//! generated here rather than kept in three copies that drift apart.

/// Implements wsup's runtime seams for a binding's runtime and defines the
/// binding's public face (see the module docs). For binding crates; its
/// expansion names `wsup_core` in doc links, so the crate must depend on it
/// under that name.
///
/// ```text
/// wsup_core::runtime_binding! {
///     runtime: TokioRuntime,          // a unit struct of the binding crate
///     name: "tokio",                  // for the docs
///     sleep: ThreadTimer::after,      // fn(Duration) -> impl Sleep (or the runtime's own)
///     reactor_tick: None,             // Runtime::reactor_tick (Some(..) on async-io)
///     spawn: |task| { tokio::spawn(task); },
///     listener: TcpListener,          // `accept()` and the stream's `set_nodelay`
///     tcp: TcpStream,                 // `connect((host, port))`
///     io: TokioIo<TcpStream>,         // the stream as `futures_io`
///     wrap: TokioIo::new,             // tcp -> io (accepted, dialled, upgraded)
/// }
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! runtime_binding {
    (
        runtime: $rt:ident,
        name: $name:literal,
        sleep: $sleep:expr,
        reactor_tick: $tick:expr,
        spawn: $spawn:expr,
        listener: $listener:ty,
        tcp: $tcp:ty,
        io: $io:ty,
        wrap: $wrap:expr $(,)?
    ) => {
        pub use $crate::server::{Shutdown, ShutdownSummary};

        impl $crate::Runtime for $rt {
            fn sleep(
                &self,
                duration: ::std::time::Duration,
            ) -> ::std::pin::Pin<::std::boxed::Box<dyn $crate::runtime::Sleep>> {
                ::std::boxed::Box::pin(($sleep)(duration))
            }

            fn spawn(&self, task: $crate::runtime::BoxTask) {
                ($spawn)(task)
            }

            fn reactor_tick(&self) -> ::std::option::Option<$crate::runtime::ReactorTick> {
                $tick
            }
        }

        impl $crate::server::Listen for $rt {
            type Listener = $listener;
            type Io = $io;

            async fn accept(
                listener: &$listener,
            ) -> ::std::io::Result<($io, ::std::net::SocketAddr)> {
                let (stream, peer) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                Ok((($wrap)(stream), peer))
            }
        }

        impl $crate::client::Connect for $rt {
            type Stream = $io;

            fn connect<'a>(
                &'a self,
                host: &'a str,
                port: u16,
            ) -> $crate::client::ConnectFuture<'a, $io> {
                ::std::boxed::Box::pin(async move {
                    // The runtime resolves the name and tries each address
                    // in turn.
                    let stream = <$tcp>::connect((host, port)).await?;
                    let _ = stream.set_nodelay(true);
                    Ok(($wrap)(stream))
                })
            }
        }

        #[doc = concat!("An [`Upgrader`](wsup_core::Upgrader) with ", $name, "'s timers.")]
        pub fn upgrader() -> $crate::Upgrader {
            $crate::Upgrader::new().runtime(::std::sync::Arc::new($rt))
        }

        #[doc = concat!("A WebSocket over a ", $name, " TCP stream.")]
        pub type WebSocket = $crate::WebSocket<$io>;

        #[doc = concat!("The server on a ", $name, " TCP listener:")]
        /// `Server::new(listener, upgrader).with_graceful_shutdown(signal).run(handler)`
        /// (see [`wsup_core::server::Server`]); `A` is its
        /// [`Acceptor`](wsup_core::server::Acceptor), none by default (with
        /// the `tls` feature, `.acceptor(TlsAcceptor::from(config))` serves
        /// `wss://`).
        pub type Server<A = $crate::server::Plain> = $crate::server::Server<$rt, A>;

        /// Accepts connections on `listener` until a fatal accept error,
        /// upgrading each in its own task and handing the connection to
        /// `handler`: the short form of [`Server`], with no shutdown signal.
        pub async fn serve<F, Fut>(
            listener: $listener,
            upgrader: $crate::Upgrader,
            handler: F,
        ) -> ::std::io::Result<()>
        where
            F: Fn(WebSocket, ::std::net::SocketAddr) -> Fut + Send + Sync + 'static,
            Fut: ::std::future::Future<Output = ()> + Send + 'static,
        {
            Server::new(listener, upgrader).run(handler).await.map(drop)
        }

        /// Upgrades one accepted TCP stream.
        pub async fn upgrade(
            upgrader: &$crate::Upgrader,
            stream: $tcp,
        ) -> ::std::result::Result<WebSocket, $crate::HandshakeError> {
            upgrader.upgrade(($wrap)(stream)).await
        }

        /// A client connection over this runtime's TCP (TLS over it for
        /// `wss://`).
        pub type ClientWebSocket = $crate::WebSocket<$crate::client::MaybeTls<$io>>;

        /// A [`Dialer`](wsup_core::client::Dialer) with this runtime's
        /// timers (the handshake deadline, keepalive, the close timeout).
        pub fn dialer() -> $crate::client::Dialer {
            $crate::client::Dialer::new().runtime(::std::sync::Arc::new($rt))
        }

        /// Opens a client connection to `url` (`ws://` or `wss://`) with the
        /// default [`dialer`]: the connection and the server's `101`.
        pub async fn connect(
            url: &str,
        ) -> ::std::result::Result<
            (ClientWebSocket, $crate::http::Response<()>),
            $crate::client::ClientError,
        > {
            dialer().connect(&$rt, url).await
        }

        /// Opens a client connection to `url` with `dialer`'s settings, on
        /// this runtime (its timers, unless the dialer has a runtime).
        pub async fn connect_with(
            dialer: &$crate::client::Dialer,
            url: &str,
        ) -> ::std::result::Result<
            (ClientWebSocket, $crate::http::Response<()>),
            $crate::client::ClientError,
        > {
            dialer.connect_on::<$rt>(url).await
        }
    };
}
