use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::pool::DefaultBufferPool;

#[test]
fn the_builder_starts_from_the_defaults() {
    let built = WebSocketConfig::builder().build();
    let default = WebSocketConfig::default();
    assert_eq!(built.read_buffer_size(), default.read_buffer_size());
    assert_eq!(built.write_buffer_size(), default.write_buffer_size());
    assert_eq!(built.write_flush_threshold(), 128 * 1024);
    assert_eq!(built.write_backlog_limit(), 0);
    assert_eq!(built.max_frame_size(), default.max_frame_size());
    assert_eq!(built.max_frame_size(), (1 << 20) + 1024 + 64);
    assert_eq!(built.max_message_size(), 1 << 20);
    assert_eq!(built.max_fragments(), 1 << 17);
    assert_eq!(built.close_timeout(), Duration::from_secs(5));
    assert!(built.write_buffer_pool().is_none());
}

#[test]
fn every_limit_is_settable() {
    let c = WebSocketConfig::builder()
        .read_buffer_size(8192)
        .write_buffer_size(1024)
        .write_flush_threshold(16 * 1024)
        .write_backlog_limit(1 << 20)
        .max_frame_size(1000)
        .max_message_size(5000)
        .max_fragments(4)
        .close_timeout(Duration::from_millis(300))
        .write_buffer_pool(Arc::new(DefaultBufferPool::default()))
        .build();
    assert_eq!(c.read_buffer_size(), 8192);
    assert_eq!(c.write_buffer_size(), 1024);
    assert_eq!(c.write_flush_threshold(), 16 * 1024);
    assert_eq!(c.write_backlog_limit(), 1 << 20);
    assert_eq!(c.max_frame_size(), 1000);
    assert_eq!(c.max_message_size(), 5000);
    assert_eq!(c.max_fragments(), 4);
    assert_eq!(c.close_timeout(), Duration::from_millis(300));
    assert!(c.write_buffer_pool().is_some());
    // A builder from a config keeps what it does not change.
    let d = c.to_builder().max_fragments(8).build();
    assert_eq!((d.max_fragments(), d.max_frame_size()), (8, 1000));
}

#[test]
fn the_frame_limit_follows_the_message_limit_unless_set() {
    // A thousandth and 64 bytes over: room for what deflate adds to an
    // incompressible message.
    let raised = WebSocketConfig::builder().max_message_size(4 << 20).build();
    assert_eq!(raised.max_frame_size(), (4 << 20) + 4096 + 64);
    let lowered = raised.to_builder().max_message_size(1000).build();
    assert_eq!(lowered.max_frame_size(), 1000 + 64);
    // Set, in either order, it stays as set, through a later builder too.
    let set = WebSocketConfig::builder()
        .max_frame_size(2000)
        .max_message_size(1 << 30)
        .build();
    assert_eq!(set.max_frame_size(), 2000);
    let again = set.to_builder().max_message_size(10).build();
    assert_eq!(again.max_frame_size(), 2000);
    assert_eq!(
        WebSocketConfig::builder()
            .max_message_size(usize::MAX)
            .build()
            .max_frame_size(),
        usize::MAX
    );
}

#[test]
fn build_raises_what_cannot_work_and_keeps_the_rest() {
    let c = WebSocketConfig::builder()
        .read_buffer_size(0)
        .write_buffer_size(1)
        .max_fragments(0)
        .write_flush_threshold(0)
        .max_frame_size(0)
        .max_message_size(0)
        .close_timeout(Duration::ZERO)
        .build();
    assert_eq!(c.read_buffer_size(), 128);
    assert_eq!(c.write_buffer_size(), 128);
    assert_eq!(c.max_fragments(), 1);
    assert_eq!(c.write_flush_threshold(), 0);
    assert_eq!(c.max_frame_size(), 0);
    assert_eq!(c.max_message_size(), 0);
    assert_eq!(c.close_timeout(), Duration::ZERO);
}

#[test]
fn backpressure_starts_at_the_threshold_unless_the_limit_is_higher() {
    let at = |threshold, limit| {
        WebSocketConfig::builder()
            .write_flush_threshold(threshold)
            .write_backlog_limit(limit)
            .build()
            .backlog_limit()
    };
    assert_eq!(at(1000, 0), 1000);
    assert_eq!(at(1000, 500), 1000);
    assert_eq!(at(1000, 5000), 5000);
}
