//! Codec micro-benchmarks (filled in by the benchmark issue).
use criterion::{criterion_group, criterion_main, Criterion};
use wsup_core::frame::{apply_mask, apply_mask_plain};

fn mask(c: &mut Criterion) {
    let mut buf = vec![7u8; 64 * 1024];
    let mut g = c.benchmark_group("unmask_64k");
    g.throughput(criterion::Throughput::Bytes(buf.len() as u64));
    g.bench_function("word", |b| b.iter(|| apply_mask(&mut buf, [1, 2, 3, 4], 0)));
    g.bench_function("plain_baseline", |b| {
        b.iter(|| apply_mask_plain(&mut buf, [1, 2, 3, 4]))
    });
    g.finish();
}

criterion_group!(benches, mask);
criterion_main!(benches);
