//! `cargo xtask bench --http`: the echo served behind hyper (`echo
//! --hyper`, its connections upgraded through `wsup::hyper`) and over TLS
//! (`echo --tls`, the load generator speaking `wss://`) against the same
//! echo on plain TCP with wsup reading the request itself, in the same
//! run, as ratios.
//!
//! For each runtime (tokio by default): one `echo` build started three
//! times (the TLS certificate made for the run), measured side by side as
//! `compare.rs` does, per second and per second of the server's CPU (TLS
//! costs the load generator too, which can then be what limits the rate).
//! Results go to `target/wsup-bench/http.md` and `http.json`.

use super::compare::{self, Comparison, Variant};
use super::{build_echo, build_loadgen, output_dirs, Options, Plan};
use crate::runtime::Runtime;
use crate::util::Workspace;
use wsup_testkit::certs::{PemFile, TestCerts};

pub fn run(options: &Options) -> Result<(), String> {
    let workspace = Workspace::load()?;
    let (_, bin_dir) = output_dirs(&workspace)?;
    let runtimes = options.runtimes_or(&[Runtime::Tokio]);
    let comparison = Comparison {
        stem: "http",
        intro: "# wsup behind hyper and over TLS\n\n`cargo xtask bench --http`: throughput of the \
                `echo` example behind hyper (`echo --hyper`) and over TLS (`echo --tls`, rustls \
                with ring, the load generator a tokio-rustls client) as ratios to the same echo \
                on plain TCP with wsup reading the request itself; the three run side by side, \
                each ratio taken within a repeat (median, min–max), of messages a second and of \
                messages per second of the server's CPU.\n"
            .to_owned(),
        plan: Plan::of(options).with_sizes(&[16, 64 << 10], &[16, 1024, 64 << 10]),
    };
    let loadgen = build_loadgen(&workspace)?;
    let certs = TestCerts::generate();
    let (ca, cert, key) = (
        PemFile::new("bench-ca.pem", &certs.ca_pem),
        PemFile::new("bench-cert.pem", &certs.cert_pem),
        PemFile::new("bench-key.pem", &certs.key_pem),
    );
    let path = |pem: &PemFile| pem.path().display().to_string();
    compare::run(&comparison, &loadgen, &runtimes, |rt| {
        let echo = build_echo(&workspace, &bin_dir, rt, false)?;
        let variant = |name, flags: Vec<String>, client: Vec<String>| Variant {
            flags,
            client,
            ..Variant::plain(name, echo.clone())
        };
        Ok(vec![
            variant("echo", vec![], vec![]),
            variant("echo --hyper", vec!["--hyper".to_owned()], vec![]),
            variant(
                "echo --tls",
                vec!["--tls".to_owned(), path(&cert), path(&key)],
                vec!["--tls".to_owned(), path(&ca)],
            ),
        ])
    })
    .map(drop)
}
