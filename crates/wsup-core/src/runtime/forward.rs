//! Write methods that only pass the call on, written once.
//!
//! Every IO newtype of the bindings (`wsup_tokio::TokioIo`,
//! `wsup_async_std::AsyncStdTcp`, `wsup_hyper`'s `UpgradedIo` and
//! `FuturesIo`) turns one runtime's write trait into another's. The write
//! traits of `futures_io`, tokio and hyper agree on `poll_write`,
//! `poll_write_vectored` and `poll_flush` to the letter, so those three are
//! the same forwarding in every newtype; only reads (each runtime's own
//! `ReadBuf`) and the close (`poll_close` or `poll_shutdown`) differ.

/// Inside an `impl` of a write trait (`futures_io::AsyncWrite`,
/// `tokio::io::AsyncWrite`, `hyper::rt::Write`): `poll_write`,
/// `poll_write_vectored` and `poll_flush` passed on to the field `$inner`,
/// which implements the same three methods (its own trait must be in scope,
/// or a bound of the impl). The impl writes its close itself.
///
/// ```
/// use std::io;
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
///
/// use futures_io::AsyncWrite;
///
/// /// A `futures_io` writer behind a newtype.
/// struct Wrapped<T> {
///     inner: T,
/// }
///
/// impl<T: AsyncWrite + Unpin> AsyncWrite for Wrapped<T> {
///     wsup_core::forward_write!(inner);
///
///     fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
///         Pin::new(&mut self.inner).poll_close(cx)
///     }
/// }
///
/// let mut w = Wrapped { inner: Sink(Vec::new()) };
/// # /// Keeps what is written.
/// # struct Sink(Vec<u8>);
/// # impl AsyncWrite for Sink {
/// #     fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
/// #         self.0.extend_from_slice(b);
/// #         Poll::Ready(Ok(b.len()))
/// #     }
/// #     fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> { Poll::Ready(Ok(())) }
/// #     fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> { Poll::Ready(Ok(())) }
/// # }
/// let mut cx = Context::from_waker(std::task::Waker::noop());
/// let n = Pin::new(&mut w).poll_write(&mut cx, b"passed on");
/// assert!(matches!(n, Poll::Ready(Ok(9))));
/// assert_eq!(w.inner.0, b"passed on");
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! forward_write {
    ($inner:ident) => {
        fn poll_write(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            ::std::pin::Pin::new(&mut self.$inner).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            bufs: &[::std::io::IoSlice<'_>],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            ::std::pin::Pin::new(&mut self.$inner).poll_write_vectored(cx, bufs)
        }

        fn poll_flush(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            ::std::pin::Pin::new(&mut self.$inner).poll_flush(cx)
        }
    };
}
