//! The seed program: an HTTP server on 127.0.0.1:8888 where `GET /` answers
//! `Hello World` and `/ws` upgrades to an echo WebSocket.
//!
//! Plain requests are answered by a small fallback handler on the raw path;
//! this is not a general HTTP server. Usage: `hello [ADDR]`.

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8888".to_owned());
    run(addr)
}

#[cfg(feature = "runtime-tokio")]
fn run(addr: String) -> std::io::Result<()> {
    use std::sync::Arc;
    use wsup::tokio::{upgrader, TokioIo};
    use wsup::RawStream;
    use wsup_examples::hello;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let upgrader = Arc::new(upgrader());
        loop {
            let (stream, _) = listener.accept().await?;
            let upgrader = upgrader.clone();
            tokio::spawn(
                async move { hello(&upgrader, RawStream::new(TokioIo::new(stream))).await },
            );
        }
    })
}

#[cfg(all(feature = "runtime-smol", not(feature = "runtime-tokio")))]
fn run(addr: String) -> std::io::Result<()> {
    use std::sync::Arc;
    use wsup::smol::upgrader;
    use wsup::RawStream;
    use wsup_examples::hello;
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind(&addr).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let upgrader = Arc::new(upgrader());
        loop {
            let (stream, _) = listener.accept().await?;
            let upgrader = upgrader.clone();
            smol::spawn(async move { hello(&upgrader, RawStream::new(stream)).await }).detach();
        }
    })
}

#[cfg(all(
    feature = "runtime-async-std",
    not(any(feature = "runtime-tokio", feature = "runtime-smol"))
))]
fn run(addr: String) -> std::io::Result<()> {
    use std::sync::Arc;
    use wsup::async_std::upgrader;
    use wsup::RawStream;
    use wsup_examples::hello;
    async_std::task::block_on(async {
        let listener = async_std::net::TcpListener::bind(&addr).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let upgrader = Arc::new(upgrader());
        loop {
            let (stream, _) = listener.accept().await?;
            let upgrader = upgrader.clone();
            async_std::task::spawn(async move {
                hello(
                    &upgrader,
                    RawStream::new(wsup::async_std::AsyncStdTcp::new(stream)),
                )
                .await
            });
        }
    })
}

#[cfg(not(any(
    feature = "runtime-tokio",
    feature = "runtime-smol",
    feature = "runtime-async-std"
)))]
fn run(_addr: String) -> std::io::Result<()> {
    eprintln!("hello: built without a runtime; enable one of the runtime-* features");
    std::process::exit(2)
}
