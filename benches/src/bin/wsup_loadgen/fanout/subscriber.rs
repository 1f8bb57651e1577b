//! `fanout-sub`: a child of `fanout` holding some of the subscribers.
//!
//! One task per connection waits for its socket to be readable and reads
//! into one buffer all of them share (a task never holds it across an
//! await), so that thousands of connections cost no buffer each; only a
//! frame cut by a read is kept, per connection, until the rest comes.
//! Pings are answered, so that a server's keepalive keeps its subscribers.

use std::cell::{Cell, RefCell};
use std::io::{BufRead, Write};
use std::rc::Rc;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use wsup_benches::fanout::{monotonic_ns, SUBSCRIBER};

use super::wire::{next_frame, Frame};
use crate::frames::masked_frame;
use crate::{connect_all, own_cpu, Args, READ_BUFFER};

/// What the connections of this process have received.
struct Received {
    /// Per message: connections that received it, or a later one first.
    accounted: RefCell<Vec<u32>>,
    /// Per message: the latest delivery's latency, in nanoseconds.
    latency: RefCell<Vec<u64>>,
    /// Messages a connection skipped.
    lost: Cell<u64>,
    conns: u32,
    /// Wakes the command loop: a message reached every connection, or a
    /// connection failed.
    progress: Notify,
    error: RefCell<Option<String>>,
    /// The read buffer all the connections share.
    buf: RefCell<Vec<u8>>,
}

impl Received {
    fn new(messages: usize, conns: u32) -> Self {
        Received {
            accounted: RefCell::new(vec![0; messages]),
            latency: RefCell::new(vec![0; messages]),
            lost: Cell::new(0),
            conns,
            progress: Notify::new(),
            error: RefCell::default(),
            buf: RefCell::new(vec![0; READ_BUFFER]),
        }
    }

    fn fail(&self, message: String) {
        self.error.borrow_mut().get_or_insert(message);
        self.progress.notify_one();
    }

    /// A connection whose last message was `last` received `seq`, sent at
    /// `sent_ns`.
    fn record(&self, last: Option<u64>, seq: u64, sent_ns: u64) -> Result<(), String> {
        let mut accounted = self.accounted.borrow_mut();
        let expected = last.map_or(0, |l| l + 1);
        if seq < expected || seq as usize >= accounted.len() {
            return Err(format!("message {seq} after message {last:?}"));
        }
        let latency = monotonic_ns().saturating_sub(sent_ns);
        let slot = &mut self.latency.borrow_mut()[seq as usize];
        *slot = (*slot).max(latency);
        for s in expected..=seq {
            let count = &mut accounted[s as usize];
            *count += 1;
            if *count == self.conns {
                self.progress.notify_one();
            }
        }
        self.lost.set(self.lost.get() + (seq - expected));
        Ok(())
    }
}

pub async fn subscribe(args: &Args) -> Result<String, String> {
    let mut opened = connect_all(args).await?;
    if args.raw {
        for (stream, _) in &mut opened {
            stream
                .write_all(&[SUBSCRIBER])
                .await
                .map_err(|e| format!("subscribe: {e}"))?;
        }
    }
    let received = Rc::new(Received::new(args.messages, opened.len() as u32));
    for (stream, leftover) in opened {
        let received = Rc::clone(&received);
        let (raw, size) = (args.raw, args.size);
        tokio::task::spawn_local(async move {
            if let Err(e) = read(&stream, leftover, &received, raw, size).await {
                received.fail(e);
            }
        });
    }
    println!("{}", json!({ "opened": received.conns }));
    let _ = std::io::stdout().flush();

    let (tx, mut commands) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    while let Some(command) = commands.recv().await {
        if command == "report" {
            let latency = received.latency.borrow();
            return Ok(json!({ "lost": received.lost.get(), "latency_ns": *latency }).to_string());
        }
        let seq = command
            .strip_prefix("wait ")
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&s| s < args.messages)
            .ok_or_else(|| format!("unknown command `{command}`"))?;
        while received.accounted.borrow()[seq] < received.conns {
            if let Some(e) = received.error.borrow().clone() {
                return Err(e);
            }
            received.progress.notified().await;
        }
        println!("reached {seq} {:.4}", own_cpu());
        let _ = std::io::stdout().flush();
    }
    Err("stdin closed before `report`".to_owned())
}

/// Reads one connection's frames until it fails.
async fn read(
    stream: &TcpStream,
    mut pending: Vec<u8>,
    received: &Received,
    raw: bool,
    size: usize,
) -> Result<(), String> {
    let mut last = None;
    let mut handle = |buf: &[u8]| -> Result<usize, String> {
        let mut used = 0;
        while let Some((n, frame)) = next_frame(&buf[used..], raw, size)? {
            match frame {
                Frame::Message { seq, sent_ns } => {
                    received.record(last, seq, sent_ns)?;
                    last = Some(seq);
                }
                // A pong is 2 + 4 + at most 125 bytes: the socket takes it.
                Frame::Ping(payload) => drop(stream.try_write(&masked_frame(0x8a, payload))),
                Frame::Pong => {}
            }
            used += n;
        }
        Ok(used)
    };
    let used = handle(&pending)?;
    pending.drain(..used);
    loop {
        stream.readable().await.map_err(|e| e.to_string())?;
        let mut buf = received.buf.borrow_mut();
        let n = match stream.try_read(&mut buf) {
            Ok(0) => return Err("the server closed a subscriber's connection".to_owned()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(format!("read: {e}")),
        };
        if pending.is_empty() {
            let used = handle(&buf[..n])?;
            pending.extend_from_slice(&buf[used..n]);
        } else {
            pending.extend_from_slice(&buf[..n]);
            let used = handle(&pending)?;
            pending.drain(..used);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_message_counts_as_lost_and_as_accounted_for() {
        let received = Received::new(4, 2);
        let sent = monotonic_ns();
        received.record(None, 0, sent).unwrap();
        received.record(Some(0), 1, sent).unwrap();
        // The second connection misses message 0.
        received.record(None, 1, sent).unwrap();
        assert_eq!(*received.accounted.borrow(), [2, 2, 0, 0]);
        assert_eq!(received.lost.get(), 1);
        assert!(received.latency.borrow()[1] > 0);
        assert_eq!(
            received.latency.borrow()[0],
            received.latency.borrow()[0].max(1)
        );
    }

    #[test]
    fn a_repeated_or_unknown_message_is_an_error() {
        let received = Received::new(2, 1);
        received.record(None, 0, 0).unwrap();
        assert!(received.record(Some(0), 0, 0).is_err());
        assert!(received.record(Some(0), 2, 0).is_err());
    }
}
