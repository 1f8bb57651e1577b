use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::accept::{AcceptError, Backoff};
use super::Shutdown;

fn os_error(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

#[test]
fn errors_of_one_connection_are_skipped() {
    for kind in [
        io::ErrorKind::ConnectionAborted,
        io::ErrorKind::ConnectionReset,
        io::ErrorKind::ConnectionRefused,
        io::ErrorKind::Interrupted,
    ] {
        assert_eq!(
            AcceptError::classify(&kind.into()),
            AcceptError::Connection,
            "{kind:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn os_errors_are_classified_as_hyper_does() {
    for code in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
        assert_eq!(
            AcceptError::classify(&os_error(code)),
            AcceptError::Resources,
            "{code}"
        );
    }
    for code in [
        libc::ECONNABORTED,
        libc::ECONNRESET,
        libc::EINTR,
        libc::EPROTO,
    ] {
        assert_eq!(
            AcceptError::classify(&os_error(code)),
            AcceptError::Connection,
            "{code}"
        );
    }
    // The listener itself is broken: no retry would help.
    for code in [libc::EBADF, libc::EINVAL, libc::ENOTSOCK, libc::EFAULT] {
        assert_eq!(
            AcceptError::classify(&os_error(code)),
            AcceptError::Fatal,
            "{code}"
        );
    }
}

#[test]
fn errors_without_an_os_code_are_fatal_unless_known() {
    assert_eq!(
        AcceptError::classify(&io::Error::other("listener gone")),
        AcceptError::Fatal
    );
    assert_eq!(
        AcceptError::classify(&io::ErrorKind::OutOfMemory.into()),
        AcceptError::Resources
    );
}

#[test]
fn backoff_doubles_up_to_a_second_and_resets() {
    let mut b = Backoff::new();
    let pauses: Vec<_> = (0..10).map(|_| b.pause().as_millis()).collect();
    assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    b.reset();
    assert_eq!(b.pause(), Backoff::FIRST);
}

/// Counts its wakes.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn started_completes_on_trigger_and_wakes_each_waiter_once() {
    let shutdown = Shutdown::new();
    let handle = shutdown.clone();
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut a = pin!(shutdown.started());
    let mut b = pin!(handle.started());
    // Polled again and again while waiting (as in a select loop): each
    // future keeps one waker, not one per poll.
    for _ in 0..100 {
        assert!(a.as_mut().poll(&mut cx).is_pending());
    }
    assert!(b.as_mut().poll(&mut cx).is_pending());
    assert_eq!(shutdown.waiting_len(), 2);
    assert!(!handle.is_started());

    handle.trigger();
    assert!(shutdown.is_started());
    assert_eq!(counter.0.load(Ordering::SeqCst), 2);
    assert_eq!(a.as_mut().poll(&mut cx), Poll::Ready(()));
    assert_eq!(b.as_mut().poll(&mut cx), Poll::Ready(()));
    // Once begun, `started` is ready at once; triggering again is harmless.
    handle.trigger();
    assert_eq!(pin!(handle.started()).poll(&mut cx), Poll::Ready(()));
}

#[test]
fn a_dropped_started_future_leaves_no_waker_behind() {
    let shutdown = Shutdown::new();
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    for _ in 0..10 {
        let mut started = pin!(shutdown.started());
        assert!(started.as_mut().poll(&mut cx).is_pending());
    }
    assert!(shutdown.waiting_len() == 0);
}
