//! permessage-deflate throughput: wsup's codec (flate2 on zlib-rs) against
//! miniz_oxide, flate2's default pure-Rust backend, as the same-run
//! baseline, at 1 KiB, 64 KiB and 1 MiB of text-like and random data.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use wsup_benches::text_payload;
use wsup_core::deflate::{Deflater, Inflater};
use wsup_core::Bytes;

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for size in [1024usize, 64 * 1024, 1 << 20] {
        v.push((format!("text/{size}"), text_payload(size).into_bytes()));
        v.push((format!("random/{size}"), wsup_testkit::noise(size)));
    }
    v
}

fn compress(c: &mut Criterion) {
    let mut g = c.benchmark_group("deflate_compress");
    g.sample_size(20);
    for (name, data) in inputs() {
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("wsup_zlib_rs_level1", &name),
            &data,
            |b, d| {
                let mut deflater = Deflater::new(1, 15, true);
                let mut out = bytes::BytesMut::new();
                b.iter(|| {
                    out.clear();
                    deflater.compress(black_box(d), &mut out);
                    out.len()
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("miniz_oxide_level1_baseline", &name),
            &data,
            |b, d| b.iter(|| miniz_oxide::deflate::compress_to_vec(black_box(d), 1).len()),
        );
    }
    g.finish();
}

fn decompress(c: &mut Criterion) {
    let mut g = c.benchmark_group("deflate_decompress");
    g.sample_size(20);
    for (name, data) in inputs() {
        let mut compressed = bytes::BytesMut::new();
        Deflater::new(1, 15, true).compress(&data, &mut compressed);
        let compressed = Bytes::from(compressed);
        let zlib_free = miniz_oxide::deflate::compress_to_vec(&data, 1);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("wsup_zlib_rs", &name),
            &compressed,
            |b, cmp| {
                let mut inflater = Inflater::new(15, true);
                let mut out = bytes::BytesMut::new();
                b.iter(|| {
                    out.clear();
                    inflater
                        .decompress(black_box(cmp), true, &mut out, 64 << 20)
                        .unwrap();
                    out.len()
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("miniz_oxide_baseline", &name),
            &zlib_free,
            |b, cmp| {
                b.iter(|| {
                    miniz_oxide::inflate::decompress_to_vec(black_box(cmp))
                        .unwrap()
                        .len()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, compress, decompress);
criterion_main!(benches);
