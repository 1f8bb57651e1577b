//! A place for a log subscriber to write to, read back by the test.

use std::io;
use std::sync::{Arc, Mutex};

/// Bytes written through any of its clones, kept for the test to read
/// (a `tracing_subscriber` writer: `.with_writer(move || buf.clone())`).
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// Forgets what was written.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The one line of `text` that holds `what`, checked to hold each of
/// `fields` as well.
#[track_caller]
pub fn line_with<'a>(text: &'a str, what: &str, fields: &[&str]) -> &'a str {
    let found: Vec<_> = text.lines().filter(|l| l.contains(what)).collect();
    assert_eq!(found.len(), 1, "one {what:?} in {text}");
    for field in fields {
        assert!(found[0].contains(field), "{field:?} in {}", found[0]);
    }
    found[0]
}
