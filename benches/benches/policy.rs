//! Per-operation cost of the cst-policy replacement policies, single-threaded
//! (target: ≤ 100 ns per operation), plus the sharded wrapper under
//! contention from several threads.
//!
//! - `hit`: lookups of resident keys drawn from Zipf(0.99) (the hit path).
//! - `miss_insert`: lookups of never-seen keys, each followed by an insert
//!   that evicts (the miss path at steady state).
//! - `zipf_replay`: a Zipf(0.99) stream over 1M keys through a cache of 10%
//!   of them: lookup, insert on miss (the mixed path).
//! - `sharded`: the same replay on `Sharded<S3Fifo>` from 1 and 2 threads.
//!
//! Each iteration runs a batch of `BATCH` operations; criterion's throughput
//! (elements/s) gives operations per second, i.e. 1e9 / (ns per op).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use cst_policy::sim::Zipf;
use cst_policy::{Eviction, Lru, Policy, S3Fifo, Sharded};

const BATCH: usize = 10_000;
const KEYS: u64 = 1_000_000;

fn filled<P: Policy<u64>>(cap: u64) -> P {
    let mut p = P::with_capacity(cap);
    let mut ev = Vec::new();
    for k in 0..cap {
        p.insert(k, 1, &mut ev);
        ev.clear();
    }
    p
}

fn bench_policy<P: Policy<u64>>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group("policy");
    g.throughput(Throughput::Elements(BATCH as u64));

    // Hit path: every key of the stream is resident.
    let cap = 100_000;
    let hits: Vec<u64> = Zipf::new(0.99, cap, 1).take(BATCH).collect();
    let mut p: P = filled(cap);
    g.bench_function(BenchmarkId::new("hit", name), |b| {
        b.iter(|| {
            let mut n = 0u32;
            for k in &hits {
                n += u32::from(p.access(black_box(k)));
            }
            assert_eq!(n as usize, BATCH);
        })
    });

    // Miss + insert + eviction: fresh keys only.
    let mut p: P = filled(cap);
    let mut next = 1u64 << 40;
    let mut ev: Vec<Eviction<u64>> = Vec::with_capacity(8);
    g.bench_function(BenchmarkId::new("miss_insert", name), |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                next += 1;
                if !p.access(black_box(&next)) {
                    p.insert(next, 1, &mut ev);
                    ev.clear();
                }
            }
        })
    });

    // Mixed: Zipf over 1M keys, cache of 10%.
    let stream: Vec<u64> = Zipf::new(0.99, KEYS, 2).take(BATCH * 100).collect();
    let mut p = P::with_capacity(KEYS / 10);
    let mut at = 0usize;
    g.bench_function(BenchmarkId::new("zipf_replay", name), |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                let k = stream[at];
                at = (at + 1) % stream.len();
                if !p.access(black_box(&k)) {
                    p.insert(k, 1, &mut ev);
                    ev.clear();
                }
            }
        })
    });
    g.finish();
}

fn policies(c: &mut Criterion) {
    bench_policy::<S3Fifo<u64>>(c, "s3fifo");
    bench_policy::<Lru<u64>>(c, "lru");
    bench_policy::<cst_policy::Arc<u64>>(c, "arc");
}

fn sharded(c: &mut Criterion) {
    let mut g = c.benchmark_group("sharded");
    let stream: Vec<u64> = Zipf::new(0.99, KEYS, 3).take(BATCH * 10).collect();
    let cache: Sharded<u64, S3Fifo<u64>> = Sharded::new(KEYS / 10, 16);
    for threads in [1usize, 2] {
        g.throughput(Throughput::Elements((BATCH * threads) as u64));
        g.bench_function(BenchmarkId::new("zipf_replay", threads), |b| {
            b.iter(|| {
                std::thread::scope(|s| {
                    for t in 0..threads {
                        let (cache, stream) = (&cache, &stream);
                        s.spawn(move || {
                            let start = t * BATCH;
                            for &k in &stream[start..start + BATCH] {
                                if !cache.access(black_box(&k)) {
                                    drop(cache.insert(k, 1));
                                }
                            }
                        });
                    }
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, policies, sharded);
criterion_main!(benches);
