//! Bélády's OPT (MIN): the offline optimum for unit weights.

use std::collections::BinaryHeap;
use std::hash::Hash;

use rustc_hash::FxHashMap;

const NEVER: u32 = u32::MAX;

/// Hits of Bélády's MIN replaying `trace` through a cache of `capacity`
/// entries of unit weight: on a miss with a full cache, the resident entry
/// whose next use lies furthest in the future is evicted, and the missed key
/// is always admitted (demand paging).
///
/// This is the OPT of the published ARC-trace tables (53.61% on OLTP at
/// 1,000 entries), and the optimum for caches that must admit every miss.
/// Runs in O(n log c) time and O(n) memory; it needs the whole trace up
/// front, so it is an oracle for the simulator and tests, not a policy.
///
/// # Panics
/// If the trace has 2^32 − 1 accesses or more.
pub fn belady_hits<K: Hash + Eq>(trace: &[K], capacity: usize) -> u64 {
    belady_impl(trace, capacity, false)
}

/// Like [`belady_hits`], but a missed key whose next use is later than every
/// resident key's is not admitted at all (MIN with bypass): the optimum when
/// admission may be refused, never below [`belady_hits`].
///
/// # Panics
/// If the trace has 2^32 − 1 accesses or more.
pub fn belady_hits_bypass<K: Hash + Eq>(trace: &[K], capacity: usize) -> u64 {
    belady_impl(trace, capacity, true)
}

fn belady_impl<K: Hash + Eq>(trace: &[K], capacity: usize, bypass: bool) -> u64 {
    assert!(
        trace.len() < NEVER as usize,
        "trace too long for the OPT oracle"
    );
    if capacity == 0 || trace.is_empty() {
        return 0;
    }
    // Dense ids.
    let mut ids: FxHashMap<&K, u32> = FxHashMap::default();
    let dense: Vec<u32> = trace
        .iter()
        .map(|k| {
            let n = ids.len() as u32;
            *ids.entry(k).or_insert(n)
        })
        .collect();
    let n_ids = ids.len();
    drop(ids);
    // next[i]: position of the next access of trace[i]'s key, or NEVER.
    let mut next = vec![NEVER; dense.len()];
    let mut last = vec![NEVER; n_ids];
    for (i, &id) in dense.iter().enumerate().rev() {
        next[i] = last[id as usize];
        last[id as usize] = i as u32;
    }
    // cur[id]: the next use recorded for a resident id, NEVER+absent marker.
    let mut resident = vec![false; n_ids];
    let mut cur = last; // reuse the allocation
    let mut heap: BinaryHeap<(u32, u32)> = BinaryHeap::with_capacity(capacity + 1);
    let mut len = 0usize;
    let mut hits = 0u64;
    for (i, &id) in dense.iter().enumerate() {
        let nx = next[i];
        let id_us = id as usize;
        if resident[id_us] {
            hits += 1;
            cur[id_us] = nx;
            heap.push((nx, id));
            continue;
        }
        if len == capacity {
            // Find the live entry with the furthest next use.
            let (far, victim) = loop {
                let top = *heap.peek().expect("a full cache has heap entries");
                if resident[top.1 as usize] && cur[top.1 as usize] == top.0 {
                    break top;
                }
                heap.pop();
            };
            if bypass && nx >= far {
                continue; // not worth caching
            }
            heap.pop();
            resident[victim as usize] = false;
            len -= 1;
        }
        resident[id_us] = true;
        cur[id_us] = nx;
        heap.push((nx, id));
        len += 1;
        // Keep stale heap entries bounded.
        if heap.len() > 4 * capacity + 1024 {
            heap.retain(|&(n, id)| resident[id as usize] && cur[id as usize] == n);
        }
    }
    hits
}
