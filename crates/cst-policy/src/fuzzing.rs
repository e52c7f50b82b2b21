//! The harness of the `policy` fuzz target (`fuzz/`), shared with the test
//! that replays its findings, so both run exactly the same code.
//!
//! An input is a policy and a sequence of operations on it, run against a
//! reference model; any departure from the model panics.
//!
//! Byte 0 picks the subject: bits 0–1 the replacement policy (LRU, S3-FIFO,
//! S3-FIFO with parameters from the input, ARC), bit 2 whether it is used
//! alone (the [`Policy`] contract: insert, access, remove, set_capacity) or
//! as the per-tier policy of a [`TierPolicy`] (insert_at, access, remove,
//! set_weight, pin, unpin, tick, set_budget; with or without a reweigh
//! function). Weights are mostly small, sometimes close to `u64::MAX`.

use std::collections::{HashMap, HashSet};

use crate::{
    Arc, Cause, Error, Lru, MAX_CAPACITY, Move, Policy, S3Fifo, S3FifoConfig, TierConfig,
    TierPolicy,
};

/// Keys are `0..KEYS`.
const KEYS: u32 = 24;

/// Reads the input from the front; runs dry into zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn key(&mut self) -> u32 {
        u32::from(self.u8()) % KEYS
    }

    /// A weight, budget or capacity: mostly small, sometimes medium,
    /// sometimes near `u64::MAX`.
    fn weight(&mut self) -> u64 {
        match self.u8() {
            b @ 0..0xE0 => u64::from(b),
            b @ 0xE0..0xF0 => u64::from(b - 0xDF) * 256 + u64::from(self.u8()),
            b => u64::MAX >> (4 * (b - 0xF0)),
        }
    }
}

/// Runs one input (see the module docs).
pub fn policy(data: &[u8]) {
    let mut input = Input(data);
    let subject = input.u8();
    let tiered = subject & 4 != 0;
    match (subject & 3, tiered) {
        (0, false) => {
            let cap = input.weight();
            check_contract(Lru::new(cap), &mut input);
        }
        (1, false) => {
            let cap = input.weight();
            check_contract(S3Fifo::new(cap), &mut input);
        }
        (2, false) => {
            let cap = input.weight();
            let cfg = S3FifoConfig {
                small_ratio: f64::from(input.u8()) / 255.0,
                ghost_ratio: f64::from(input.u8()) / 64.0,
                max_freq: input.u8() % 8,
                promote_threshold: input.u8() % 8,
            };
            check_contract(S3Fifo::with_config(cap, cfg), &mut input);
        }
        (3, false) => {
            let cap = input.weight();
            check_contract(Arc::new(cap), &mut input);
        }
        (0, true) => check_tiers::<Lru<u32>>(&mut input),
        (1 | 2, true) => check_tiers::<S3Fifo<u32>>(&mut input),
        _ => check_tiers::<Arc<u32>>(&mut input),
    }
}

/// The [`Policy`] contract against a map of resident keys to weights.
fn check_contract<P: Policy<u32>>(mut p: P, input: &mut Input<'_>) {
    let mut model: HashMap<u32, u64> = HashMap::new();
    while !input.is_empty() {
        let mut ev = Vec::new();
        match input.u8() % 8 {
            0..=2 => {
                let k = input.key();
                assert_eq!(p.access(&k), model.contains_key(&k), "access {k}");
            }
            3..=5 => {
                let (k, w) = (input.key(), input.weight());
                p.insert(k, w, &mut ev);
                model.insert(k, w);
            }
            6 => {
                let k = input.key();
                assert_eq!(p.remove(&k), model.remove(&k), "remove {k}");
            }
            _ => {
                let c = input.weight();
                p.set_capacity(c, &mut ev);
                assert_eq!(p.capacity(), c.min(MAX_CAPACITY));
            }
        }
        let mut seen = HashSet::new();
        for e in &ev {
            // Every eviction is of a key the model holds, with its weight,
            // reported once.
            assert_eq!(model.remove(&e.key), Some(e.weight), "{e:?}");
            assert!(seen.insert(e.key), "{e:?} reported twice");
        }
        let used: u128 = model.values().map(|&w| u128::from(w)).sum();
        assert_eq!(u128::from(p.used()), used, "used");
        assert!(p.used() <= p.capacity(), "{} > {}", p.used(), p.capacity());
        assert_eq!(p.len(), model.len(), "len");
        assert_eq!(p.is_empty(), model.is_empty());
        for k in 0..KEYS {
            assert_eq!(p.weight_of(&k), model.get(&k).copied(), "weight of {k}");
            assert_eq!(p.contains(&k), model.contains_key(&k), "contains {k}");
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    tier: usize,
    weight: u64,
    pinned: bool,
    last: u64,
}

fn apply_moves(model: &mut HashMap<u32, Entry>, moves: &[Move<u32>], tiers: usize) {
    for m in moves {
        let e = model
            .get_mut(&m.key)
            .unwrap_or_else(|| panic!("move of an untracked key: {m:?}"));
        assert_eq!(e.tier, m.from, "move from the wrong tier: {m:?}");
        assert!(
            !e.pinned || m.cause == Cause::Pin,
            "pinned key moved: {m:?}"
        );
        match m.to {
            Some(t) => {
                assert!(
                    t + 1 == m.from || m.from + 1 == t || m.cause == Cause::Pin,
                    "moved more than one tier: {m:?}"
                );
                e.tier = t;
                e.weight = m.weight;
            }
            None => {
                assert_eq!(m.from + 1, tiers, "dropped from a tier but the last: {m:?}");
                model.remove(&m.key);
            }
        }
    }
}

/// [`TierPolicy`] against a model of each key's tier, weight and pin.
fn check_tiers<P: Policy<u32>>(input: &mut Input<'_>) {
    let n = 1 + usize::from(input.u8() % 4);
    let cfgs: Vec<TierConfig> = (0..n)
        .map(|_| {
            let budget = input.weight();
            let idle = input.u8();
            TierConfig {
                budget,
                idle_after: (idle != 0).then(|| u64::from(idle % 32)),
                promote_after: u32::from(input.u8() % 5),
            }
        })
        .collect();
    let mut t: TierPolicy<u32, P> = TierPolicy::new(cfgs.clone()).expect("1 to 4 tiers");
    if input.u8() & 1 == 1 {
        // Deterministic, key-dependent size changes between tiers.
        t = t.with_reweigh(|k, w, from, to| {
            if to > from {
                (w / 3).saturating_mul(2) + u64::from(k % 2)
            } else {
                w.saturating_add(1)
            }
        });
    }
    let mut budgets: Vec<u64> = cfgs.iter().map(|c| c.budget).collect();
    let mut model: HashMap<u32, Entry> = HashMap::new();
    let mut now = 0u64;
    while !input.is_empty() {
        let op = input.u8() % 10;
        let moves = match op {
            0 | 1 => {
                let (k, w, tier) = (input.key(), input.weight(), usize::from(input.u8()) % n);
                let m = t.insert_at(k, w, tier, now);
                match model.get_mut(&k) {
                    Some(e) if e.pinned => {
                        e.weight = w;
                        e.last = now;
                    }
                    _ => {
                        model.insert(
                            k,
                            Entry {
                                tier,
                                weight: w,
                                pinned: false,
                                last: now,
                            },
                        );
                    }
                }
                m
            }
            2 | 3 => {
                let k = input.key();
                let (tier, m) = t.access(&k, now);
                assert_eq!(tier, model.get(&k).map(|e| e.tier), "access {k}");
                if let Some(e) = model.get_mut(&k) {
                    e.last = now;
                }
                m
            }
            4 => {
                let k = input.key();
                let r = t.remove(&k);
                assert_eq!(
                    r,
                    model.remove(&k).map(|e| (e.tier, e.weight)),
                    "remove {k}"
                );
                vec![]
            }
            5 => {
                let (k, w) = (input.key(), input.weight());
                let m = t.set_weight(&k, w);
                if let Some(e) = model.get_mut(&k) {
                    e.weight = w;
                }
                m
            }
            6 => {
                let k = input.key();
                match t.pin(&k) {
                    Ok(m) => {
                        // The Pin move (if any) comes first; mark after it.
                        apply_moves(&mut model, &m, n);
                        model.get_mut(&k).expect("pinned a tracked key").pinned = true;
                        vec![]
                    }
                    Err(e) => {
                        assert_eq!(e, Error::NotFound);
                        assert!(!model.contains_key(&k), "pin {k}: {e}");
                        vec![]
                    }
                }
            }
            7 => {
                let k = input.key();
                if let Some(e) = model.get_mut(&k) {
                    e.pinned = false;
                }
                t.unpin(&k)
            }
            8 => {
                now = now.saturating_add(u64::from(input.u8() % 16));
                t.tick(now)
            }
            _ => {
                let (tier, b) = (usize::from(input.u8()) % n, input.weight());
                budgets[tier] = b;
                t.set_budget(tier, b)
            }
        };
        apply_moves(&mut model, &moves, n);
        if op == 8 {
            for (k, e) in &model {
                if let Some(idle) = cfgs[e.tier].idle_after {
                    assert!(
                        e.pinned || now - e.last < idle,
                        "{k} idle in tier {}",
                        e.tier
                    );
                }
            }
        }
        // Every key in exactly one tier, as the model says.
        assert_eq!(t.len(), model.len(), "len");
        assert_eq!(t.is_empty(), model.is_empty());
        for k in 0..KEYS {
            let e = model.get(&k);
            assert_eq!(t.tier_of(&k), e.map(|e| e.tier), "tier of {k}");
            assert_eq!(t.weight_of(&k), e.map(|e| e.weight), "weight of {k}");
            assert_eq!(t.is_pinned(&k), e.is_some_and(|e| e.pinned), "pinned {k}");
        }
        // Budgets hold; the only exception is pins alone over tier 0's.
        let pinned: u128 = model
            .values()
            .filter(|e| e.pinned)
            .map(|e| u128::from(e.weight))
            .sum();
        // Byte counts saturate at u64::MAX.
        let sat = |x: u128| x.min(u128::from(u64::MAX));
        assert_eq!(u128::from(t.pinned_bytes()), sat(pinned), "pinned bytes");
        for (tier, &budget) in budgets.iter().enumerate() {
            let used: u128 = model
                .values()
                .filter(|e| e.tier == tier)
                .map(|e| u128::from(e.weight))
                .sum();
            assert_eq!(u128::from(t.used(tier)), sat(used), "used in tier {tier}");
            if tier == 0 && pinned > u128::from(budget) {
                assert_eq!(used, pinned, "over budget by pins: only pins in tier 0");
                assert_eq!(
                    t.over_budget().map(u128::from),
                    Some(sat(pinned - u128::from(budget)))
                );
            } else {
                assert!(
                    used <= u128::from(budget),
                    "tier {tier} holds {used} > {budget}"
                );
            }
        }
        if pinned <= u128::from(budgets[0]) {
            assert_eq!(t.over_budget(), None);
        }
    }
}
