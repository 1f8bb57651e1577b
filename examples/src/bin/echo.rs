//! Echo server: every text and binary message is sent back as received.
//!
//! Usage: `echo [ADDR]` (default `127.0.0.1:9001`); prints `listening on ADDR`
//! once it accepts. Conformance runs and benchmarks drive this program, on
//! the runtime chosen by the `runtime-*` features of `wsup-examples`.

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    run(addr)
}

#[cfg(feature = "runtime-tokio")]
fn run(addr: String) -> std::io::Result<()> {
    use wsup::tokio::{serve, upgrader};
    use wsup::OriginPolicy;
    use wsup_examples::echo;
    // One thread: the benchmarks measure per-core efficiency.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        serve(
            listener,
            upgrader().origin_policy(OriginPolicy::AllowAll),
            |ws, _| echo(ws),
        )
        .await
    })
}

#[cfg(all(feature = "runtime-smol", not(feature = "runtime-tokio")))]
fn run(addr: String) -> std::io::Result<()> {
    use wsup::smol::{serve, upgrader};
    use wsup::OriginPolicy;
    use wsup_examples::echo;
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        serve(
            listener,
            upgrader().origin_policy(OriginPolicy::AllowAll),
            |ws, _| echo(ws),
        )
        .await
    })
}

#[cfg(all(
    feature = "runtime-async-std",
    not(any(feature = "runtime-tokio", feature = "runtime-smol"))
))]
fn run(addr: String) -> std::io::Result<()> {
    use wsup::async_std::{serve, upgrader};
    use wsup::OriginPolicy;
    use wsup_examples::echo;
    async_std::task::block_on(async {
        let listener = async_std::net::TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        serve(
            listener,
            upgrader().origin_policy(OriginPolicy::AllowAll),
            |ws, _| echo(ws),
        )
        .await
    })
}

#[cfg(not(any(
    feature = "runtime-tokio",
    feature = "runtime-smol",
    feature = "runtime-async-std"
)))]
fn run(_addr: String) -> std::io::Result<()> {
    eprintln!("echo: built without a runtime; enable one of the runtime-* features");
    std::process::exit(2)
}
