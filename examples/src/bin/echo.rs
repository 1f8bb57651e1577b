//! Echo server: every text and binary message is sent back as received.
//!
//! Usage: `echo [ADDR]` (default `127.0.0.1:9001`); prints `listening on ADDR`
//! once it accepts. Conformance runs and benchmarks drive this program, on
//! the runtime chosen by the `runtime-*` features of `wsup-examples`.

use wsup::OriginPolicy;
use wsup_examples::{echo, echo_upgrader, rt};

fn main() -> std::io::Result<()> {
    #[cfg(feature = "count-allocs")]
    count_allocs::start();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    rt::block_on(async {
        let listener = rt::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        // Compression on for clients that offer it, with every message
        // compressed (no size threshold): the conformance runner checks
        // compressed echoes.
        let upgrader = rt::upgrader()
            .origin_policy(OriginPolicy::AllowAll)
            .compression(wsup::deflate::DeflateConfig::enabled().threshold(0));
        rt::serve(listener, echo_upgrader(upgrader), |ws, _| echo(ws)).await
    })
}

/// Bench builds only (`--features count-allocs`, used by `cargo xtask
/// bench`): a global allocator that counts, and a thread that answers each
/// line on stdin with `allocs COUNT BYTES`. Normal builds are untouched.
#[cfg(feature = "count-allocs")]
mod count_allocs {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::io::BufRead;
    use std::sync::atomic::{AtomicU64, Ordering};

    static ALLOCS: AtomicU64 = AtomicU64::new(0);
    static BYTES: AtomicU64 = AtomicU64::new(0);

    struct Counting;

    fn count(size: usize) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }

    // SAFETY: every method forwards to the system allocator with the
    // caller's arguments unchanged; counting touches only atomics.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
            unsafe { System.alloc(layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            // SAFETY: as for `alloc`.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count(new_size);
            // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
            unsafe { System.realloc(ptr, layout, new_size) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    pub fn start() {
        std::thread::spawn(|| {
            for _ in std::io::stdin().lock().lines().map_while(Result::ok) {
                println!(
                    "allocs {} {}",
                    ALLOCS.load(Ordering::Relaxed),
                    BYTES.load(Ordering::Relaxed)
                );
            }
        });
    }
}
