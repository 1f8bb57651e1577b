//! `cargo xtask bench --http`: the echo served behind hyper (`echo
//! --hyper`, its connections upgraded through `wsup::hyper`) and over TLS
//! (`echo --tls`, the load generator speaking `wss://`) against the same
//! echo on plain TCP with wsup reading the request itself, in the same
//! run, as ratios.
//!
//! For each runtime (tokio by default): one `echo` build started three
//! times, pinned as for the rest of the bench (the TLS certificate made
//! for the run); at each point (message size × connections) the load
//! generator runs against each, the order rotating from one repeat to the
//! next; each ratio is taken within a repeat and its median reported with
//! its range, for messages a second and for messages per second of the
//! server's CPU (TLS costs the load generator too, which can then be what
//! limits the rate). Results go to `target/wsup-bench/http.md` and
//! `http.json`.

use std::process::Command;
use std::time::Instant;

use serde_json::json;

use super::report::{median, size_name};
use super::server::Server;
use super::{
    build_echo, build_loadgen, one_thread, output_dirs, write, Options, Plan, SERVER_CORE,
};
use crate::runtime::Runtime;
use crate::util::Workspace;
use wsup_testkit::certs::{PemFile, TestCerts};

/// The servers compared, by name; the first is the reference.
const VARIANTS: [&str; 3] = ["echo", "echo --hyper", "echo --tls"];

/// One measurement: messages a second, and per second of server CPU.
#[derive(Debug, Clone, Copy)]
struct Sample {
    rate: f64,
    per_cpu: f64,
}

/// One point's samples per repeat, per variant.
struct Point {
    size: usize,
    conns: usize,
    samples: [Vec<Sample>; VARIANTS.len()],
}

pub fn run(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    let workspace = Workspace::load()?;
    let (out_dir, bin_dir) = output_dirs(&workspace)?;
    let runtimes = options.runtimes.clone().unwrap_or(vec![Runtime::Tokio]);
    let repeats = if options.quick { 1 } else { 5 };
    let sizes: &[usize] = if options.quick {
        &[16, 64 << 10]
    } else {
        &[16, 1024, 64 << 10]
    };
    let (warmup, duration) = if options.quick {
        (0.2, 0.5)
    } else {
        (0.3, 1.0)
    };

    let loadgen = build_loadgen(&workspace)?;

    let mut markdown = String::from(
        "# wsup behind hyper and over TLS\n\n`cargo xtask bench --http`: throughput of the \
         `echo` example behind hyper (`echo --hyper`) and over TLS (`echo --tls`, rustls with \
         ring, the load generator a tokio-rustls client) as ratios to the same echo on plain \
         TCP with wsup reading the request itself; the three run side by side, each ratio \
         taken within a repeat (median, min–max), of messages a second and of messages per \
         second of the server's CPU.\n",
    );
    let certs = TestCerts::generate();
    let (ca, cert, key) = (
        PemFile::new("bench-ca.pem", &certs.ca_pem),
        PemFile::new("bench-cert.pem", &certs.cert_pem),
        PemFile::new("bench-key.pem", &certs.key_pem),
    );
    let (cert, key) = (
        cert.path().display().to_string(),
        key.path().display().to_string(),
    );
    let server_flags: [Vec<&str>; VARIANTS.len()] =
        [vec![], vec!["--hyper"], vec!["--tls", &cert, &key]];
    let tls_client = ["--tls".to_owned(), ca.path().display().to_string()];
    let mut json_runtimes = Vec::new();
    for rt in runtimes {
        let echo = build_echo(&workspace, &bin_dir, rt, false)?;
        let servers = VARIANTS
            .iter()
            .zip(&server_flags)
            .map(|(&name, flags)| {
                Server::start_with(
                    one_thread(Command::new(&echo)),
                    name,
                    SERVER_CORE,
                    false,
                    flags,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut points: Vec<Point> = sizes
            .iter()
            .flat_map(|&size| {
                [1, 100].map(|conns| Point {
                    size,
                    conns,
                    samples: Default::default(),
                })
            })
            .collect();
        for repeat in 0..repeats {
            for point in &mut points {
                let args = [
                    "--size".to_owned(),
                    point.size.to_string(),
                    "--conns".to_owned(),
                    point.conns.to_string(),
                    "--window".to_owned(),
                    Plan::window(point.size).to_string(),
                    "--warmup".to_owned(),
                    warmup.to_string(),
                    "--duration".to_owned(),
                    duration.to_string(),
                ];
                let mut line = String::new();
                for k in 0..servers.len() {
                    let i = (k + repeat) % servers.len();
                    let mut args = args.to_vec();
                    if VARIANTS[i] == "echo --tls" {
                        args.extend(tls_client.iter().cloned());
                    }
                    let v = loadgen.run("throughput", &servers[i], false, &args)?;
                    let rate = v["msgs_per_sec"].as_f64().unwrap_or(0.0);
                    let cpu = v["server_cpu"].as_f64().unwrap_or(0.0);
                    let per_cpu = if cpu > 0.0 { rate / cpu } else { 0.0 };
                    point.samples[i].push(Sample { rate, per_cpu });
                    line.push_str(&format!(
                        " {}: {:.0} msg/s ({:.0} per CPU s);",
                        VARIANTS[i], rate, per_cpu
                    ));
                    servers[i].check_alive()?;
                }
                println!(
                    "[{} {}/{repeats}] {} x {}:{line}",
                    rt.name(),
                    repeat + 1,
                    size_name(point.size),
                    point.conns
                );
            }
        }
        drop(servers);
        markdown.push_str(&format!(
            "\n## {}\n\n| point | echo msg/s | behind hyper | over TLS | hyper per CPU s | TLS per CPU s |\n|---|---|---|---|---|---|\n",
            rt.name()
        ));
        let mut json_points = Vec::new();
        for p in &points {
            let rate = |i: usize| median(p.samples[i].iter().map(|s| s.rate)).unwrap_or(0.0);
            let hyper = ratio(&p.samples[1], &p.samples[0], |s| s.rate);
            let tls = ratio(&p.samples[2], &p.samples[0], |s| s.rate);
            let hyper_cpu = ratio(&p.samples[1], &p.samples[0], |s| s.per_cpu);
            let tls_cpu = ratio(&p.samples[2], &p.samples[0], |s| s.per_cpu);
            markdown.push_str(&format!(
                "| {} × {} | {:.0} | {} | {} | {} | {} |\n",
                size_name(p.size),
                p.conns,
                rate(0),
                hyper.text(),
                tls.text(),
                hyper_cpu.text(),
                tls_cpu.text(),
            ));
            json_points.push(json!({
                "size": p.size,
                "conns": p.conns,
                "msgs_per_sec": VARIANTS.iter().zip(&p.samples)
                    .map(|(v, s)| (v.to_string(), json!(s.iter().map(|s| s.rate).collect::<Vec<_>>())))
                    .collect::<serde_json::Map<_, _>>(),
                "ratio_hyper": hyper.median,
                "ratio_tls": tls.median,
                "ratio_hyper_per_cpu": hyper_cpu.median,
                "ratio_tls_per_cpu": tls_cpu.median,
            }));
        }
        json_runtimes.push(json!({ "runtime": rt.name(), "points": json_points }));
    }
    println!("\n{markdown}");
    write(&out_dir.join("http.md"), &markdown)?;
    let json = json!({ "repeats": repeats, "runtimes": json_runtimes });
    write(
        &out_dir.join("http.json"),
        &serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?,
    )?;
    println!(
        "==> wrote {} in {:.0} s",
        out_dir.join("http.md").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A ratio over the repeats: its median and range.
struct Ratio {
    median: f64,
    low: f64,
    high: f64,
}

impl Ratio {
    fn text(&self) -> String {
        format!("{:.2} ({:.2}–{:.2})", self.median, self.low, self.high)
    }
}

/// `a ÷ b` of `get`, repeat by repeat.
fn ratio(a: &[Sample], b: &[Sample], get: impl Fn(&Sample) -> f64) -> Ratio {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(_, b)| get(b) > 0.0)
        .map(|(a, b)| get(a) / get(b))
        .collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ratio {
        median: median(ratios).unwrap_or(0.0),
        low,
        high,
    }
}
