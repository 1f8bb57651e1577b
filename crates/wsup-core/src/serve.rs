//! The accept loop every binding shares, the layer above the upgrader: it
//! takes an [`Upgrader`] and a [`Runtime`] to spawn on, so neither of those
//! needs to know about it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

use crate::conn::WebSocket;
use crate::runtime::Runtime;
use crate::upgrader::Upgrader;

/// The accept loop every binding shares: accept, upgrade each connection in
/// its own task, hand it to `handler`. Accept errors (out of file
/// descriptors, say) pause the loop for 10 ms instead of spinning.
pub async fn serve<A, AF, T, H, HF>(
    runtime: Arc<dyn Runtime>,
    upgrader: Upgrader,
    mut accept: A,
    handler: H,
) -> io::Result<()>
where
    A: FnMut() -> AF,
    AF: Future<Output = io::Result<(T, SocketAddr)>>,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(WebSocket<T>, SocketAddr) -> HF + Send + Sync + 'static,
    HF: Future<Output = ()> + Send + 'static,
{
    let upgrader = Arc::new(upgrader);
    let handler = Arc::new(handler);
    loop {
        let (io, peer) = match accept().await {
            Ok(a) => a,
            Err(_) => {
                runtime.sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let upgrader = upgrader.clone();
        let handler = handler.clone();
        runtime.spawn(Box::pin(async move {
            if let Ok(ws) = upgrader.upgrade(io).await {
                handler(ws, peer).await;
            }
        }));
    }
}
