//! Write buffer pooling (gorilla's `WriteBufferPool`).
//!
//! A connection takes a write buffer when it has something to write and
//! gives it back once everything is flushed, so an idle connection holds no
//! write buffer at all. It takes it from the configured [`BufferPool`], or,
//! without one, from the few spare buffers its thread keeps
//! ([`ThreadSpares`]).

use std::fmt::Debug;
use std::sync::Mutex;

use bytes::BytesMut;

/// A source of write buffers shared by connections.
pub trait BufferPool: Debug + Send + Sync + 'static {
    /// A buffer, or `None` to have the connection allocate one.
    fn get(&self) -> Option<BytesMut>;
    /// Returns a buffer (empty, its capacity kept).
    fn put(&self, buf: BytesMut);
}

/// A bounded free list: keeps at most `max_buffers` buffers of at most
/// `max_capacity` bytes each; anything beyond is freed.
#[derive(Debug)]
pub struct DefaultBufferPool {
    free: Mutex<Vec<BytesMut>>,
    max_buffers: usize,
    max_capacity: usize,
}

impl DefaultBufferPool {
    /// A pool that keeps up to `max_buffers` buffers of up to `max_capacity` bytes.
    pub fn new(max_buffers: usize, max_capacity: usize) -> Self {
        DefaultBufferPool {
            free: Mutex::new(Vec::new()),
            max_buffers,
            max_capacity,
        }
    }

    /// Buffers currently held by the pool.
    pub fn idle(&self) -> usize {
        self.free.lock().map(|f| f.len()).unwrap_or(0)
    }
}

impl Default for DefaultBufferPool {
    fn default() -> Self {
        DefaultBufferPool::new(1024, 64 * 1024)
    }
}

impl BufferPool for DefaultBufferPool {
    fn get(&self) -> Option<BytesMut> {
        self.free.lock().ok()?.pop()
    }

    fn put(&self, mut buf: BytesMut) {
        if buf.capacity() > self.max_capacity {
            return;
        }
        buf.clear();
        if let Ok(mut free) = self.free.lock() {
            if free.len() < self.max_buffers {
                free.push(buf);
            }
        }
    }
}

/// The spare write buffers of the current thread: where a connection
/// with no [`BufferPool`] configured takes its write buffer from and gives
/// it back to, a bounded free list per thread, with no lock (see
/// [`Spares`]).
#[derive(Debug)]
pub(crate) struct ThreadSpares;

std::thread_local! {
    static SPARE_WRITE: Spares<BytesMut> = const { Spares::new() };
}

impl ThreadSpares {
    /// A spare buffer of this thread, if it has one.
    #[inline]
    pub(crate) fn get() -> Option<BytesMut> {
        Spares::take(&SPARE_WRITE)
    }

    /// Gives `buf` to this thread's spares (emptied); handed back if they
    /// are full or it is too large, for the connection to keep or free.
    #[inline]
    pub(crate) fn put(mut buf: BytesMut) -> Option<BytesMut> {
        if buf.capacity() > SPARE_CAPACITY {
            return Some(buf);
        }
        buf.clear();
        Spares::give(&SPARE_WRITE, buf)
    }

    /// How many spare buffers this thread holds.
    #[cfg(test)]
    pub(crate) fn count() -> usize {
        SPARE_WRITE.with(|s| s.peek(<[BytesMut]>::len))
    }

    /// Frees this thread's spare buffers.
    #[cfg(test)]
    pub(crate) fn clear() {
        while Self::get().is_some() {}
    }
}

/// A thread's spare buffers of one kind (write buffers here, read buffers
/// in `read_buf.rs`): a connection takes one when it has something to
/// write or to read and none of its own, and gives it back when the batch
/// is written out, or when its read would wait with nothing buffered.
///
/// Shared this way, the buffer a batch is read into or copied into is the
/// one the previous connection's batch just used, still in the cache. Each
/// connection keeping its own, 100 connections echoing 1 KiB messages went
/// through 100 read and 100 write buffers of 16 to 32 KiB each, which do
/// not stay in the cache from one connection's turn to its next
/// (`docs/bench`); and a connection kept what a burst grew its buffers to
/// until it had been idle for a keepalive interval. As uWebSockets shares
/// one receive and one send buffer per event loop, the connections of a
/// thread share a few here (more than one when several hold a batch at
/// once: a write that waits, a frame that arrived in part).
///
/// Bounded: at most [`SPARES`] buffers per thread and kind, write buffers
/// of at most [`SPARE_CAPACITY`] bytes, read buffers of at most 64 KiB (a
/// buffer grown by larger frames stays with its connection: see
/// `read_buf.rs`); a buffer refused is handed back, and the connection
/// keeps it as it did before (within its own limits). A spare read buffer
/// may share its allocation with messages split off it that are still
/// alive; its own part is its alone. A task that moves to another thread
/// gives its buffer back to that thread.
/// Re-entered on the same thread (a buffer given back from inside a
/// destructor that runs while one is taken), it refuses rather than fail.
#[derive(Debug)]
pub(crate) struct Spares<T>(std::cell::RefCell<Vec<T>>);

/// Most buffers of a kind a thread keeps spare.
pub(crate) const SPARES: usize = 4;
/// Largest write buffer a thread keeps spare: a batch up to the default
/// flush threshold fits.
pub(crate) const SPARE_CAPACITY: usize = 256 * 1024;

impl<T> Spares<T> {
    pub(crate) const fn new() -> Self {
        Spares(std::cell::RefCell::new(Vec::new()))
    }

    /// One of this thread's spares, if it has one.
    #[inline]
    pub(crate) fn take(key: &'static std::thread::LocalKey<Self>) -> Option<T> {
        // Not reachable (the thread is ending): none.
        key.try_with(|s| s.0.try_borrow_mut().ok()?.pop())
            .ok()
            .flatten()
    }

    /// Gives `item` to this thread's spares; handed back if they are full
    /// (or not reachable).
    #[inline]
    pub(crate) fn give(key: &'static std::thread::LocalKey<Self>, item: T) -> Option<T> {
        let mut item = Some(item);
        let _ = key.try_with(|s| {
            if let Ok(mut spares) = s.0.try_borrow_mut() {
                if spares.len() < SPARES {
                    spares.extend(item.take());
                }
            }
        });
        item
    }

    #[cfg(test)]
    pub(crate) fn peek<R>(&self, f: impl FnOnce(&[T]) -> R) -> R {
        f(&self.0.borrow())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_spares_are_bounded_in_count_and_size_and_per_thread() {
        std::thread::spawn(|| {
            assert!(ThreadSpares::get().is_none());
            let big = ThreadSpares::put(BytesMut::with_capacity(SPARE_CAPACITY + 1));
            assert!(big.is_some_and(|b| b.capacity() > SPARE_CAPACITY));
            assert_eq!(ThreadSpares::count(), 0);
            let mut b = BytesMut::with_capacity(100);
            b.extend_from_slice(b"left over");
            assert!(ThreadSpares::put(b).is_none());
            let b = ThreadSpares::get().expect("the spare just given");
            assert!(b.is_empty() && b.capacity() >= 100);
            let refused = (0..SPARES + 3)
                .filter_map(|_| ThreadSpares::put(BytesMut::with_capacity(64)))
                .count();
            assert_eq!((ThreadSpares::count(), refused), (SPARES, 3));
            std::thread::spawn(|| assert!(ThreadSpares::get().is_none()))
                .join()
                .unwrap();
            assert_eq!(ThreadSpares::count(), SPARES);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn pool_is_bounded_in_count_and_size() {
        let pool = DefaultBufferPool::new(2, 100);
        pool.put(BytesMut::with_capacity(10));
        pool.put(BytesMut::with_capacity(1000));
        pool.put(BytesMut::with_capacity(10));
        pool.put(BytesMut::with_capacity(10));
        assert_eq!(pool.idle(), 2);
        let b = pool.get().unwrap();
        assert!(b.is_empty() && b.capacity() >= 10);
        assert_eq!(pool.idle(), 1);
    }
}
