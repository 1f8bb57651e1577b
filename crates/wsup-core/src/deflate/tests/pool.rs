//! The codec pool: state lent for one message, bounded free lists.

use std::sync::Arc;

use super::*;
use crate::deflate::CodecPool;

#[test]
fn pool_lends_state_only_during_a_message() {
    let pool = Arc::new(CodecPool::new(2));
    let mut d = Deflater::new(6, 10, true).with_pool(pool.clone());
    let mut i = Inflater::new(10, true).with_pool(pool.clone());
    assert!(!d.holds_state() && !i.holds_state());

    let c = compress(&mut d, b"pooled message");
    assert!(!d.holds_state());
    assert_eq!(pool.idle_compressors(), 1);

    // Mid-message the inflater holds a state; at the end it gives it back.
    let mut out = BytesMut::new();
    i.decompress(&c[..3], false, &mut out, 100).unwrap();
    assert!(i.holds_state());
    assert_eq!(pool.idle_decompressors(), 0);
    i.decompress(&c[3..], true, &mut out, 100).unwrap();
    assert_eq!(&out[..], b"pooled message");
    assert!(!i.holds_state());
    assert_eq!(pool.idle_decompressors(), 1);

    // A message abandoned midway, then released.
    i.decompress(&c[..3], false, &mut out, 100).unwrap();
    i.release();
    assert!(!i.holds_state());
    assert_eq!(pool.idle_decompressors(), 1);

    // The free list is bounded.
    let many: Vec<Deflater> = (0..5)
        .map(|_| {
            let mut d = Deflater::new(6, 10, true).with_pool(pool.clone());
            // Mid-message, so holding a state from the pool.
            d.compress_part(b"unfinished", false, &mut BytesMut::new());
            d
        })
        .collect();
    assert_eq!(pool.idle_compressors(), 0);
    drop(many);
    assert_eq!(pool.idle_compressors(), 2);

    // A pooled compressor taken at another level still round-trips.
    let mut d9 = Deflater::new(9, 10, true).with_pool(pool.clone());
    let c = compress(&mut d9, b"other level");
    let mut out = BytesMut::new();
    i.decompress(&c, true, &mut out, 100).unwrap();
    assert_eq!(&out[..], b"other level");

    // Context takeover ignores the pool: the state is the connection's.
    let d = Deflater::new(6, 10, false).with_pool(pool.clone());
    assert!(format!("{d:?}").contains("pool: None"));
    assert!(format!("{pool:?}").contains("max_idle: 2"));
}
