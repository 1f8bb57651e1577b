//! Support code for the wsup benchmarks: the in-memory transport they run
//! over, so the criterion benches measure the codec, not the kernel
//! (tungstenite's habit), and their payloads; and the accept loop of the
//! baseline servers ([`baseline`]); what the fan-out servers and the load
//! generator agree on ([`fanout`]). Masked client frames come from
//! `wsup_testkit::client_frame`.

use wsup_testkit::Mem;

pub mod baseline;
pub mod fanout;

/// tokio on one thread, or on its multi-thread scheduler with
/// `WSUP_THREADS` workers (`cargo xtask bench --threads`).
pub fn tokio_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let threads = std::env::var("WSUP_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1);
    let mut builder = match threads {
        0 | 1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
    };
    builder.enable_all().build()
}

/// Serves its input once in reads of at most `chunk` bytes, then EOF; counts
/// what is written (`output`) and throws it away.
pub type Replay<'a> = Mem<&'a [u8], usize>;

/// Text-like payload of `len` bytes (ASCII words with some two-byte letters).
pub fn text_payload(len: usize) -> String {
    let words = [
        "wsup ",
        "frame ",
        "größe ",
        "message ",
        "socket ",
        "données ",
    ];
    let mut s = String::with_capacity(len + 16);
    let mut i = 0;
    while s.len() < len {
        s.push_str(words[i % words.len()]);
        i += 1;
    }
    while s.len() > len {
        s.pop();
    }
    s
}
