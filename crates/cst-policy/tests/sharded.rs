//! The sharded wrapper from several threads: every admitted byte is either
//! resident or handed back as an eviction, and no shard exceeds its share.

use cst_policy::sim::Zipf;
use cst_policy::{Lru, S3Fifo, Sharded};

fn hammer<P: cst_policy::Policy<u64> + Send>(cache: &Sharded<u64, P>, threads: u64) {
    let totals: Vec<(u64, u64, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    // Disjoint keys per thread: a miss followed by an insert
                    // always admits a new entry.
                    let (mut admitted, mut evicted, mut hits) = (0u64, 0u64, 0u64);
                    for k in Zipf::new(0.9, 50_000, t + 1).take(200_000) {
                        let key = k * threads + t;
                        let w = 1 + key % 7;
                        if cache.access(&key) {
                            hits += 1;
                        } else {
                            admitted += w;
                            for e in cache.insert(key, w) {
                                assert_eq!(e.weight, 1 + e.key % 7);
                                evicted += e.weight;
                            }
                        }
                    }
                    (admitted, evicted, hits)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let admitted: u64 = totals.iter().map(|t| t.0).sum();
    let evicted: u64 = totals.iter().map(|t| t.1).sum();
    let hits: u64 = totals.iter().map(|t| t.2).sum();
    assert_eq!(admitted - evicted, cache.used());
    assert!(cache.used() <= cache.capacity());
    assert!(hits > 0);
}

#[test]
fn sharded_s3fifo_from_four_threads() {
    let cache: Sharded<u64, S3Fifo<u64>> = Sharded::new(40_000, 8);
    assert_eq!(cache.shards(), 8);
    assert_eq!(cache.capacity(), 40_000);
    hammer(&cache, 4);
    // Still usable from one thread afterwards.
    cache.insert(u64::MAX, 3);
    assert!(cache.contains(&u64::MAX));
    assert_eq!(cache.remove(&u64::MAX), Some(3));
}

#[test]
fn sharded_lru_from_four_threads() {
    let cache: Sharded<u64, Lru<u64>> = Sharded::new(10_001, 3);
    assert_eq!(cache.shards(), 4);
    assert_eq!(cache.capacity(), 10_001);
    hammer(&cache, 4);
}
