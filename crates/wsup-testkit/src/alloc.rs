//! A global allocator that counts, for the allocation figures of the
//! benchmark servers.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering};

/// The system allocator, counting allocations and their bytes (a `realloc`
/// counts as one, of its new size) once [`answer_alloc_counts_on_stdin`]
/// turns counting on; until then the cost is one relaxed load per
/// allocation.
///
/// ```
/// #[global_allocator]
/// static GLOBAL: wsup_testkit::CountingAlloc = wsup_testkit::CountingAlloc;
///
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

fn count(size: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to the system allocator with the caller's
// arguments unchanged; counting touches only atomics and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
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

/// Allocations and bytes counted so far by [`CountingAlloc`].
pub fn alloc_counts() -> (u64, u64) {
    (
        ALLOCS.load(Ordering::Relaxed),
        ALLOC_BYTES.load(Ordering::Relaxed),
    )
}

/// Turns counting on and, from a thread, answers each line on stdin with
/// `allocs COUNT BYTES` (what `cargo xtask bench` reads before and after a
/// run). Meaningful only where [`CountingAlloc`] is the global allocator.
pub fn answer_alloc_counts_on_stdin() {
    COUNTING.store(true, Ordering::Relaxed);
    std::thread::spawn(|| {
        for _ in std::io::stdin().lock().lines().map_while(Result::ok) {
            let (allocs, bytes) = alloc_counts();
            println!("allocs {allocs} {bytes}");
        }
    });
}

/// The system allocator, keeping for each thread the bytes it holds live
/// (allocated there and not yet freed) and their peak, so that a test run
/// on one thread (over [`Mem`](crate::Mem), with a local executor) can
/// measure the most memory an operation holds at once, whatever other
/// tests do on their threads. [`live_bytes`] and [`reset_peak`] read it.
///
/// ```
/// #[global_allocator]
/// static GLOBAL: wsup_testkit::LiveAlloc = wsup_testkit::LiveAlloc;
///
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct LiveAlloc;

thread_local! {
    // Const-initialised and without destructors: touching them never
    // allocates, as an allocator requires.
    static LIVE: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
    static PEAK: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

fn live_add(delta: isize) {
    // `try_with`: the thread may be tearing its locals down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

/// Bytes this thread holds live now, as counted by [`LiveAlloc`] (memory
/// freed on another thread than it was allocated on makes this drift, so
/// tests keep to one thread).
pub fn live_bytes() -> isize {
    LIVE.with(|l| l.get())
}

/// Starts a new peak at the bytes held now; returns the peak since the
/// last reset, as counted by [`LiveAlloc`].
pub fn reset_peak() -> isize {
    let now = live_bytes();
    PEAK.with(|p| p.replace(now))
}

/// Implements `GlobalAlloc` for `$ty`: the system allocator, with every
/// change in bytes held reported to `$add`.
macro_rules! live_counting {
    ($ty:ty, $add:path) => {
        // SAFETY: every method forwards to the system allocator with the
        // caller's arguments unchanged; counting touches only const thread
        // locals or atomics, which never allocate.
        unsafe impl GlobalAlloc for $ty {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
                let p = unsafe { System.alloc(layout) };
                if !p.is_null() {
                    $add(layout.size() as isize);
                }
                p
            }

            unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
                // SAFETY: as for `alloc`.
                let p = unsafe { System.alloc_zeroed(layout) };
                if !p.is_null() {
                    $add(layout.size() as isize);
                }
                p
            }

            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
                // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
                let p = unsafe { System.realloc(ptr, layout, new_size) };
                if !p.is_null() {
                    $add(new_size as isize - layout.size() as isize);
                }
                p
            }

            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                $add(-(layout.size() as isize));
                // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
                unsafe { System.dealloc(ptr, layout) }
            }
        }
    };
}

live_counting!(LiveAlloc, live_add);
live_counting!(ProcessLiveAlloc, process_live_add);

/// The system allocator, counting the bytes the whole process holds (every
/// thread, as a multi-threaded runtime's tasks allocate), and their peak:
/// for tests of what a connection holds over real sockets.
/// [`process_live_bytes`] and [`process_reset_peak`] read it. A test binary
/// that uses it runs its measurements one at a time.
///
/// ```
/// #[global_allocator]
/// static GLOBAL: wsup_testkit::ProcessLiveAlloc = wsup_testkit::ProcessLiveAlloc;
///
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct ProcessLiveAlloc;

static PROCESS_LIVE: AtomicIsize = AtomicIsize::new(0);
static PROCESS_PEAK: AtomicIsize = AtomicIsize::new(0);

fn process_live_add(delta: isize) {
    let now = PROCESS_LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    PROCESS_PEAK.fetch_max(now, Ordering::Relaxed);
}

/// Bytes the process holds now, as counted by [`ProcessLiveAlloc`].
pub fn process_live_bytes() -> isize {
    PROCESS_LIVE.load(Ordering::Relaxed)
}

/// Starts a new peak at the bytes held now; returns the peak since the
/// last reset, as counted by [`ProcessLiveAlloc`].
pub fn process_reset_peak() -> isize {
    PROCESS_PEAK.swap(process_live_bytes(), Ordering::Relaxed)
}
