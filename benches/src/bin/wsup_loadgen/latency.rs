//! `latency`: one connection, one message in flight: the round trip.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::conn::connect_stream;
use super::frames::{client_frame, Parser};
use super::{own_cpu, process_cpu, Args, READ_BUFFER};

pub async fn latency(args: &Args) -> Result<String, String> {
    let frame = client_frame(args.size);
    let (mut stream, leftover) = connect_stream(args, 0).await?;
    if !leftover.is_empty() {
        return Err("unexpected bytes after the handshake".to_owned());
    }
    let mut parser = Parser::new(args.size, args.raw);
    let mut buf = vec![0u8; READ_BUFFER];
    let mut samples = Vec::with_capacity(1 << 20);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let end = measure_from + Duration::from_secs_f64(args.duration);
    let (mut c0, mut s0) = (None, None);
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        if sent >= measure_from && c0.is_none() {
            c0 = Some(own_cpu());
            s0 = args.server_pid.and_then(process_cpu);
        }
        stream
            .write_all(&frame)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut filled = 0;
        loop {
            let n = stream
                .read(&mut buf[filled..])
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("server closed the connection".to_owned());
            }
            filled += n;
            let (used, done) = parser.feed(&buf[..filled])?;
            buf.copy_within(used..filled, 0);
            filled -= used;
            if done > 0 {
                if done > 1 || filled > 0 {
                    return Err("more echoed than sent".to_owned());
                }
                break;
            }
        }
        if sent >= measure_from {
            samples.push(sent.elapsed().as_nanos() as u64);
        }
    }
    let secs = end.duration_since(measure_from).as_secs_f64();
    if samples.is_empty() {
        return Err("no round trip in the measurement window".to_owned());
    }
    let client_cpu = (own_cpu() - c0.unwrap_or(0.0)) / secs;
    let server_cpu = match (s0, args.server_pid.and_then(process_cpu)) {
        (Some(a), Some(b)) => format!("{:.4}", (b - a) / secs),
        _ => "null".to_owned(),
    };
    samples.sort_unstable();
    let pct = |p: f64| {
        let i = ((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i] as f64 / 1e3
    };
    Ok(format!(
        "{{\"round_trips\":{},\"p50_us\":{:.3},\"p99_us\":{:.3},\"p999_us\":{:.3},\
         \"max_us\":{:.3},\"client_cpu\":{client_cpu:.4},\"server_cpu\":{server_cpu}}}",
        samples.len(),
        pct(0.5),
        pct(0.99),
        pct(0.999),
        pct(1.0),
    ))
}
