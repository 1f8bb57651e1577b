//! Write buffer pooling (gorilla's `WriteBufferPool`).
//!
//! With a pool, a connection takes a write buffer when it has something to
//! write and gives it back once everything is flushed, so an idle connection
//! holds no write buffer at all.

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

#[cfg(test)]
mod tests {
    use super::*;

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
