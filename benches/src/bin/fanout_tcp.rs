//! The ceiling of `cargo xtask bench --fanout`: a raw TCP fan-out with no
//! WebSocket at all. Whatever the publisher sends is written, as read, to
//! every subscriber's socket: straight from the publisher's task while the
//! socket takes it, the rest queued (shared `Bytes`, no copy) for a writer
//! task of that subscriber. The publisher is not read while a subscriber
//! has more than [`BACKLOG`] bytes queued, so nothing is dropped.
//!
//! Usage: `fanout_tcp ADDR`; prints `listening on ADDR` once it accepts. A
//! client's first byte says whether it is the publisher or a subscriber
//! (`wsup_benches::fanout`). tokio on one thread, as the other servers.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use wsup_benches::fanout::{self, PUBLISHER, SUBSCRIBER};

/// A subscriber's queued bytes past which the publisher waits.
const BACKLOG: usize = 1 << 20;
/// The publisher's read buffer.
const READ: usize = 256 * 1024;

fn main() -> io::Result<()> {
    fanout::serve_on_tokio("fanout_tcp", |listener| async move {
        let subscribers: Rc<RefCell<Vec<Rc<Subscriber>>>> = Rc::default();
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    tokio::task::spawn_local(serve(stream, Rc::clone(&subscribers)));
                }
            })
            .await
    })
}

/// One subscriber's socket and what is queued for it.
struct Subscriber {
    stream: TcpStream,
    queue: RefCell<VecDeque<Bytes>>,
    queued: Cell<usize>,
    /// Wakes its writer: something was queued.
    more: Notify,
    /// Wakes the publisher: the queue went under the backlog.
    drained: Notify,
    dead: Cell<bool>,
}

impl Subscriber {
    /// Writes what it can of `chunk` now, queueing the rest.
    fn offer(&self, chunk: &Bytes) {
        if self.dead.get() {
            return;
        }
        let mut chunk = chunk.clone();
        if self.queued.get() == 0 {
            match self.stream.try_write(&chunk) {
                Ok(n) if n == chunk.len() => return,
                Ok(n) => chunk = chunk.slice(n..),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return self.dead.set(true),
            }
        }
        self.queued.set(self.queued.get() + chunk.len());
        self.queue.borrow_mut().push_back(chunk);
        self.more.notify_one();
    }

    /// Writes the queue out as the socket takes it, until the socket fails.
    async fn write_queue(&self) {
        while !self.dead.get() {
            let Some(mut chunk) = self.queue.borrow_mut().pop_front() else {
                self.more.notified().await;
                continue;
            };
            while !chunk.is_empty() {
                if self.stream.writable().await.is_err() {
                    return self.dead.set(true);
                }
                match self.stream.try_write(&chunk) {
                    Ok(n) => {
                        chunk = chunk.slice(n..);
                        self.queued.set(self.queued.get() - n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return self.dead.set(true),
                }
            }
            if self.queued.get() <= BACKLOG {
                self.drained.notify_waiters();
            }
        }
    }
}

async fn serve(mut stream: TcpStream, subscribers: Rc<RefCell<Vec<Rc<Subscriber>>>>) {
    let mut role = [0u8];
    if stream.read_exact(&mut role).await.is_err() {
        return;
    }
    match role[0] {
        PUBLISHER => publish(stream, &subscribers).await,
        SUBSCRIBER => {
            let subscriber = Rc::new(Subscriber {
                stream,
                queue: RefCell::default(),
                queued: Cell::new(0),
                more: Notify::new(),
                drained: Notify::new(),
                dead: Cell::new(false),
            });
            subscribers.borrow_mut().push(Rc::clone(&subscriber));
            // Subscribers send nothing more: their socket is only written.
            subscriber.write_queue().await;
            subscriber.drained.notify_waiters();
            subscribers
                .borrow_mut()
                .retain(|s| !Rc::ptr_eq(s, &subscriber));
        }
        _ => {}
    }
}

/// Reads the publisher and hands each read to every subscriber.
async fn publish(mut stream: TcpStream, subscribers: &RefCell<Vec<Rc<Subscriber>>>) {
    let mut buf = BytesMut::with_capacity(READ);
    loop {
        buf.reserve(READ);
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let chunk = buf.split().freeze();
        let all = subscribers.borrow().clone();
        for subscriber in &all {
            subscriber.offer(&chunk);
        }
        for subscriber in &all {
            while subscriber.queued.get() > BACKLOG && !subscriber.dead.get() {
                subscriber.drained.notified().await;
            }
        }
    }
}
