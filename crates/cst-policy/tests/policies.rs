//! Semantics of each replacement policy, the OPT oracle, scan resistance,
//! and model-based property tests of the `Policy` contract.

use std::collections::{HashMap, HashSet};

use cst_policy::sim::{SplitMix64, Zipf, replay};
use cst_policy::{Arc, Eviction, Lru, Policy, S3Fifo, belady_hits, belady_hits_bypass};
use proptest::prelude::*;

fn ins<P: Policy<u32>>(p: &mut P, k: u32, w: u64) -> Vec<Eviction<u32>> {
    let mut ev = Vec::new();
    p.insert(k, w, &mut ev);
    ev
}

fn keys(ev: &[Eviction<u32>]) -> Vec<u32> {
    ev.iter().map(|e| e.key).collect()
}

#[test]
fn lru_evicts_least_recently_used() {
    let mut l = Lru::new(3);
    for k in [1, 2, 3] {
        assert!(ins(&mut l, k, 1).is_empty());
    }
    assert!(l.access(&1));
    assert_eq!(l.keys_lru_first().copied().collect::<Vec<_>>(), [2, 3, 1]);
    assert_eq!(keys(&ins(&mut l, 4, 1)), [2]);
    assert!(!l.access(&2));
    assert_eq!(l.keys_lru_first().copied().collect::<Vec<_>>(), [3, 1, 4]);
}

#[test]
fn lru_is_weighted_in_bytes() {
    let mut l = Lru::new(10);
    ins(&mut l, 1, 4);
    ins(&mut l, 2, 4);
    // 3 needs 4 bytes: 1 (oldest) goes.
    assert_eq!(ins(&mut l, 3, 4), [Eviction { key: 1, weight: 4 }]);
    // Heavier than the whole capacity: refused, reported at once.
    assert_eq!(ins(&mut l, 9, 11), [Eviction { key: 9, weight: 11 }]);
    assert!(!l.contains(&9));
    // Growing a resident entry evicts others, never silently.
    assert_eq!(keys(&ins(&mut l, 2, 7)), [3]);
    assert_eq!(l.used(), 7);
    assert_eq!(l.remove(&2), Some(7));
    assert_eq!(l.used(), 0);
}

#[test]
fn arc_keeps_frequent_entries_through_a_scan() {
    let mut a = Arc::new(4);
    for k in [1, 2] {
        ins(&mut a, k, 1);
        assert!(a.access(&k)); // now in T2
    }
    for k in 100..140 {
        assert!(!a.access(&k));
        ins(&mut a, k, 1);
    }
    assert!(a.contains(&1) && a.contains(&2));
}

#[test]
fn arc_adapts_its_target_to_ghost_hits() {
    let mut a = Arc::new(4);
    // 1 and 2 are seen twice (T2); 3..=6 once (T1), so 3 and 4 are
    // replaced into the ghost list B1.
    for k in [1, 2] {
        ins(&mut a, k, 1);
        assert!(a.access(&k));
    }
    for k in 3..=6 {
        ins(&mut a, k, 1);
    }
    assert!(!a.contains(&3) && !a.contains(&4));
    assert_eq!(a.target_t1(), 0.0);
    // A B1 hit: a larger T1 would have hit, so T1's target grows.
    ins(&mut a, 3, 1);
    assert!(a.contains(&3));
    let grown = a.target_t1();
    assert!(grown > 0.0, "p = {grown}");
    // With T1 at its target, REPLACE now takes T2's LRU (key 1) into B2.
    ins(&mut a, 7, 1);
    assert!(!a.contains(&1));
    // A B2 hit: a larger T2 would have hit, so T1's target shrinks.
    ins(&mut a, 1, 1);
    assert!(a.contains(&1));
    assert!(a.target_t1() < grown, "{} !< {grown}", a.target_t1());
}

#[test]
fn s3fifo_quickly_demotes_one_hit_wonders() {
    let mut s = S3Fifo::new(10);
    for k in 0..10 {
        ins(&mut s, k, 1);
    }
    // Keys 0..5 are hit twice (the promotion threshold); 5..10 once.
    for k in 0..5 {
        assert!(s.access(&k));
        assert!(s.access(&k));
    }
    for k in 5..10 {
        assert!(s.access(&k));
    }
    let mut evicted = Vec::new();
    for k in 10..15 {
        evicted.extend(keys(&ins(&mut s, k, 1)));
    }
    // The keys hit only once left first; the others moved to main.
    assert_eq!(evicted, [5, 6, 7, 8, 9]);
    for k in 0..5 {
        assert!(s.in_main(&k), "{k} in main");
    }
    for k in 5..10 {
        assert!(s.in_ghost(&k), "{k} remembered by the ghost");
    }
}

#[test]
fn s3fifo_readmits_ghost_hits_into_main() {
    let mut s = S3Fifo::new(10);
    for k in 0..15 {
        ins(&mut s, k, 1);
    }
    assert!(!s.contains(&0));
    assert!(s.in_ghost(&0));
    ins(&mut s, 0, 1);
    assert!(s.in_main(&0));
    assert!(!s.in_ghost(&0));
    // A key the ghost never saw goes to the small FIFO.
    ins(&mut s, 1000, 1);
    assert!(s.contains(&1000) && !s.in_main(&1000));
}

#[test]
fn s3fifo_main_reinserts_entries_with_credit() {
    let mut s = S3Fifo::new(10);
    for k in 0..15 {
        ins(&mut s, k, 1);
    }
    // 0..5 left the small FIFO unseen; readmitted, they enter main.
    for k in 0..5 {
        ins(&mut s, k, 1);
        assert!(s.in_main(&k));
    }
    // Key 0 keeps being hit; 1..5 never are. New keys, each hit twice,
    // earn their way into main and squeeze it.
    for k in 100..140 {
        ins(&mut s, k, 1);
        s.access(&k);
        s.access(&k);
        s.access(&0);
    }
    assert!(s.in_main(&0));
    assert!((1..5).all(|k| !s.contains(&k)));
}

fn scan_after_hot_set<P: Policy<u64>>(mut p: P, hot: u64, capacity: u64) -> f64 {
    for _ in 0..10 {
        for k in 0..hot {
            if !p.access(&k) {
                p.insert(k, 1, &mut Vec::new());
            }
        }
    }
    for k in 1_000_000..1_000_000 + 10 * capacity {
        if !p.access(&k) {
            p.insert(k, 1, &mut Vec::new());
        }
    }
    (0..hot).filter(|k| p.contains(k)).count() as f64 / hot as f64
}

#[test]
fn s3fifo_is_scan_resistant() {
    for (hot, cap) in [(500, 1000), (800, 1000), (5000, 10_000)] {
        let kept = scan_after_hot_set(S3Fifo::new(cap), hot, cap);
        assert!(kept >= 0.9, "hot {hot}, capacity {cap}: kept {kept}");
    }
    // LRU, for contrast, loses the whole hot set.
    assert_eq!(scan_after_hot_set(Lru::new(1000), 500, 1000), 0.0);
}

#[test]
fn s3fifo_is_scan_resistant_with_byte_weights() {
    let cap = 1 << 20;
    let mut s = S3Fifo::new(cap);
    let mut rng = SplitMix64::new(7);
    let hot: Vec<(u64, u64)> = (0..400).map(|k| (k, 500 + rng.next_u64() % 1500)).collect();
    let hot_bytes: u64 = hot.iter().map(|h| h.1).sum();
    assert!(hot_bytes < cap * 6 / 10);
    for _ in 0..5 {
        for &(k, w) in &hot {
            if !s.access(&k) {
                s.insert(k, w, &mut Vec::new());
            }
        }
    }
    let mut scanned = 0;
    let mut k = 1_000_000u64;
    while scanned < 10 * cap {
        let w = 500 + rng.next_u64() % 1500;
        s.insert(k, w, &mut Vec::new());
        scanned += w;
        k += 1;
    }
    let kept = hot.iter().filter(|(k, _)| s.contains(k)).count();
    assert!(kept * 10 >= hot.len() * 9, "kept {kept} of {}", hot.len());
}

#[test]
fn s3fifo_beats_lru_on_zipf() {
    // Zipf 1.0 with the cache at 1% of the keys (the foyer anchor:
    // S3-FIFO ~51%, LRU ~39%).
    let trace: Vec<u64> = Zipf::new(1.0, 100_000, 42).take(500_000).collect();
    let s3 = replay(&mut S3Fifo::new(1000), trace.iter().copied()).hit_ratio();
    let lru = replay(&mut Lru::new(1000), trace.iter().copied()).hit_ratio();
    assert!(s3 >= lru + 7.0, "s3fifo {s3:.2} lru {lru:.2}");
}

/// Exhaustive optimum over every eviction choice (and, with `bypass`, the
/// choice not to admit).
fn brute_force(trace: &[u8], cap: usize, bypass: bool) -> u64 {
    fn go(trace: &[u8], cap: usize, bypass: bool, cache: &mut Vec<u8>) -> u64 {
        let Some((&k, rest)) = trace.split_first() else {
            return 0;
        };
        if cache.contains(&k) {
            return 1 + go(rest, cap, bypass, cache);
        }
        if cache.len() < cap {
            cache.push(k);
            let r = go(rest, cap, bypass, cache);
            cache.pop();
            return r;
        }
        let mut best = if bypass {
            go(rest, cap, bypass, cache)
        } else {
            0
        };
        for i in 0..cache.len() {
            let old = std::mem::replace(&mut cache[i], k);
            best = best.max(go(rest, cap, bypass, cache));
            cache[i] = old;
        }
        best
    }
    go(trace, cap, bypass, &mut Vec::new())
}

#[test]
fn opt_is_optimal_on_small_traces() {
    let mut rng = SplitMix64::new(3);
    for _ in 0..300 {
        let len = 4 + (rng.next_u64() % 9) as usize;
        let keys = 2 + rng.next_u64() % 4;
        let cap = 1 + (rng.next_u64() % 3) as usize;
        let trace: Vec<u8> = (0..len).map(|_| (rng.next_u64() % keys) as u8).collect();
        assert_eq!(
            belady_hits(&trace, cap),
            brute_force(&trace, cap, false),
            "{trace:?} cap {cap}"
        );
        assert_eq!(
            belady_hits_bypass(&trace, cap),
            brute_force(&trace, cap, true),
            "{trace:?} cap {cap} (bypass)"
        );
    }
}

#[test]
fn opt_bounds_every_policy() {
    let trace: Vec<u64> = Zipf::new(0.8, 5000, 9).take(50_000).collect();
    for cap in [10u64, 100, 1000] {
        let opt = belady_hits(&trace, cap as usize);
        for hits in [
            replay(&mut Lru::new(cap), trace.iter().copied()).hits,
            replay(&mut Arc::new(cap), trace.iter().copied()).hits,
            replay(&mut S3Fifo::new(cap), trace.iter().copied()).hits,
        ] {
            assert!(hits <= opt, "{hits} > OPT {opt} at {cap}");
        }
    }
}

// --- model-based property tests of the Policy contract ---

#[derive(Clone, Debug)]
enum Op {
    Access(u32),
    Insert(u32, u64),
    Remove(u32),
    SetCapacity(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..24).prop_map(Op::Access),
        4 => (0u32..24, 0u64..40).prop_map(|(k, w)| Op::Insert(k, w)),
        1 => (0u32..24).prop_map(Op::Remove),
        1 => (0u64..160).prop_map(Op::SetCapacity),
    ]
}

fn check_contract<P: Policy<u32>>(mut p: P, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model: HashMap<u32, u64> = HashMap::new();
    for op in ops {
        let mut ev = Vec::new();
        match *op {
            Op::Access(k) => {
                prop_assert_eq!(p.access(&k), model.contains_key(&k));
            }
            Op::Insert(k, w) => {
                p.insert(k, w, &mut ev);
                model.insert(k, w);
            }
            Op::Remove(k) => {
                prop_assert_eq!(p.remove(&k), model.remove(&k));
            }
            Op::SetCapacity(c) => p.set_capacity(c, &mut ev),
        }
        let mut seen = HashSet::new();
        for e in &ev {
            // Every eviction is of a key the model holds, with its weight,
            // reported once.
            prop_assert_eq!(model.remove(&e.key), Some(e.weight), "{:?}", e);
            prop_assert!(seen.insert(e.key));
        }
        prop_assert!(p.used() <= p.capacity());
        prop_assert_eq!(p.used(), model.values().sum::<u64>());
        prop_assert_eq!(p.len(), model.len());
        for k in 0..24 {
            prop_assert_eq!(p.weight_of(&k), model.get(&k).copied());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lru_keeps_the_contract(cap in 0u64..160, ops in prop::collection::vec(op(), 1..200)) {
        check_contract(Lru::new(cap), &ops)?;
    }

    #[test]
    fn s3fifo_keeps_the_contract(cap in 0u64..160, ops in prop::collection::vec(op(), 1..200)) {
        check_contract(S3Fifo::new(cap), &ops)?;
    }

    #[test]
    fn arc_keeps_the_contract(cap in 0u64..160, ops in prop::collection::vec(op(), 1..200)) {
        check_contract(Arc::new(cap), &ops)?;
    }

    /// With unit weights, a cache of capacity c holds exactly the last c
    /// distinct keys under LRU.
    #[test]
    fn lru_holds_the_most_recent_keys(cap in 1u64..8, trace in prop::collection::vec(0u32..12, 1..100)) {
        let mut l = Lru::new(cap);
        for &k in &trace {
            if !l.access(&k) {
                l.insert(k, 1, &mut Vec::new());
            }
        }
        let mut recent = Vec::new();
        for &k in trace.iter().rev() {
            if !recent.contains(&k) {
                recent.push(k);
            }
        }
        recent.truncate(cap as usize);
        recent.reverse();
        prop_assert_eq!(l.keys_lru_first().copied().collect::<Vec<_>>(), recent);
    }
}
