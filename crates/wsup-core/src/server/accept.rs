//! What an accept error means for the accept loop, as hyper and axum
//! decide it: the error of one connection is skipped, running out of file
//! descriptors or memory pauses the loop (backing off), anything else
//! (the listener itself is broken) stops the server.
//!
//! These are errors of `accept` only. A TLS handshake (the server's
//! [`Acceptor`](super::Acceptor)) runs after it, in the connection's own
//! task: its errors are the connection's
//! ([`HandshakeError::Transport`](crate::HandshakeError::Transport), or
//! `Timeout`), logged at DEBUG like a refused handshake, and never reach
//! the accept loop.

use std::io;
use std::time::Duration;

/// What the accept loop does about an accept error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AcceptError {
    /// One connection failed before it was accepted (reset, aborted, a
    /// network error pending on it): accept the next at once.
    Connection,
    /// Out of file descriptors, socket buffers or memory: pause, since
    /// accepting again at once would fail the same way (and spin), until
    /// connections end and free some.
    Resources,
    /// The listener is broken: stop serving, return the error.
    Fatal,
}

impl AcceptError {
    pub(crate) fn classify(e: &io::Error) -> Self {
        use io::ErrorKind::*;
        match e.kind() {
            ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
            | TimedOut => return AcceptError::Connection,
            OutOfMemory => return AcceptError::Resources,
            _ => {}
        }
        match e.raw_os_error() {
            Some(code) if os::RESOURCES.contains(&code) => AcceptError::Resources,
            Some(code) if os::CONNECTION.contains(&code) => AcceptError::Connection,
            _ => AcceptError::Fatal,
        }
    }
}

#[cfg(unix)]
mod os {
    /// Out of descriptors (the process's, the system's), buffers, memory.
    pub(super) const RESOURCES: &[i32] = &[libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM];

    /// Errors of the connection being accepted: Linux's accept(2) passes
    /// pending network errors on the new socket back as its own, and its
    /// manual says to retry on these. EPERM: a firewall rule refused it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(super) const CONNECTION: &[i32] = &[
        libc::ENETDOWN,
        libc::EPROTO,
        libc::ENOPROTOOPT,
        libc::EHOSTDOWN,
        libc::ENONET,
        libc::EHOSTUNREACH,
        libc::EOPNOTSUPP,
        libc::ENETUNREACH,
        libc::EPERM,
    ];
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(super) const CONNECTION: &[i32] = &[libc::EPROTO, libc::ENETDOWN, libc::ENETUNREACH];
}

#[cfg(windows)]
mod os {
    /// WSAEMFILE, WSAENOBUFS.
    pub(super) const RESOURCES: &[i32] = &[10024, 10055];
    /// WSAENETDOWN.
    pub(super) const CONNECTION: &[i32] = &[10050];
}

#[cfg(not(any(unix, windows)))]
mod os {
    pub(super) const RESOURCES: &[i32] = &[];
    pub(super) const CONNECTION: &[i32] = &[];
}

/// The pause after running out of resources: doubles from [`Self::FIRST`]
/// to [`Self::MAX`] while accepting keeps failing, back to the first on a
/// success. Short at first, as a connection ending frees a descriptor at
/// once; bounded, so that the server accepts again within a second of
/// resources coming back.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) const FIRST: Duration = Duration::from_millis(5);
    pub(crate) const MAX: Duration = Duration::from_secs(1);

    pub(crate) fn new() -> Self {
        Backoff { next: Self::FIRST }
    }

    /// The pause to make now.
    pub(crate) fn pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (pause * 2).min(Self::MAX);
        pause
    }

    /// Accepting worked again.
    pub(crate) fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}
