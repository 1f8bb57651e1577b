//! Echo server: every text and binary message is sent back as received.
//!
//! Usage: `echo [ADDR]` (default `127.0.0.1:9001`); prints `listening on ADDR`
//! once it accepts. Conformance runs and benchmarks drive this program, on
//! the runtime chosen by the `runtime-*` features of `wsup-examples`.

/// Compression on for clients that offer it, with every message compressed
/// (no size threshold): the conformance runner checks compressed echoes.
#[cfg(any(
    feature = "runtime-tokio",
    feature = "runtime-smol",
    feature = "runtime-async-std"
))]
fn conformance_deflate() -> wsup::deflate::DeflateConfig {
    wsup::deflate::DeflateConfig::enabled().threshold(0)
}

fn main() -> std::io::Result<()> {
    #[cfg(feature = "count-allocs")]
    wsup_testkit::answer_alloc_counts_on_stdin();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    run(addr)
}

#[cfg(feature = "runtime-tokio")]
fn run(addr: String) -> std::io::Result<()> {
    use wsup::tokio::{serve, upgrader};
    use wsup::OriginPolicy;
    use wsup_examples::{echo, echo_upgrader};
    // One thread: the benchmarks measure per-core efficiency.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        serve(
            listener,
            echo_upgrader(
                upgrader()
                    .origin_policy(OriginPolicy::AllowAll)
                    .compression(conformance_deflate()),
            ),
            |ws, _| echo(ws),
        )
        .await
    })
}

#[cfg(all(feature = "runtime-smol", not(feature = "runtime-tokio")))]
fn run(addr: String) -> std::io::Result<()> {
    use wsup::smol::{serve, upgrader};
    use wsup::OriginPolicy;
    use wsup_examples::{echo, echo_upgrader};
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        serve(
            listener,
            echo_upgrader(
                upgrader()
                    .origin_policy(OriginPolicy::AllowAll)
                    .compression(conformance_deflate()),
            ),
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
    use wsup_examples::{echo, echo_upgrader};
    async_std::task::block_on(async {
        let listener = async_std::net::TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        serve(
            listener,
            echo_upgrader(
                upgrader()
                    .origin_policy(OriginPolicy::AllowAll)
                    .compression(conformance_deflate()),
            ),
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

/// Bench builds only (`--features count-allocs`, used by `cargo xtask
/// bench`): a global allocator that counts, and a thread that answers each
/// line on stdin with `allocs COUNT BYTES`. Normal builds are untouched.
#[cfg(feature = "count-allocs")]
#[global_allocator]
static GLOBAL: wsup_testkit::CountingAlloc = wsup_testkit::CountingAlloc;
