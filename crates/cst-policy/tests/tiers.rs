//! Tier decisions: unit tests of each rule and a model-based property test
//! (budgets hold, every key is in exactly one tier or reported dropped, and
//! the moves returned account for every change).

use std::collections::HashMap;

use cst_policy::{Cause, Error, Lru, Move, TierConfig, TierPolicy};
use proptest::prelude::*;

fn mv(key: u32, from: usize, to: Option<usize>, weight: u64, cause: Cause) -> Move<u32> {
    Move {
        key,
        from,
        to,
        weight,
        cause,
    }
}

#[test]
fn rejects_bad_configurations() {
    assert_eq!(TierPolicy::<u32>::new(vec![]).err(), Some(Error::NoTiers));
    assert!(matches!(
        TierPolicy::<u32>::new(vec![TierConfig::new(1); 300]),
        Err(Error::TooManyTiers(300))
    ));
}

#[test]
fn eviction_demotes_then_drops() {
    // LRU tiers make the victims predictable.
    let mut t: TierPolicy<u32, Lru<u32>> =
        TierPolicy::new(vec![TierConfig::new(10), TierConfig::new(10)]).unwrap();
    assert!(t.insert(1, 6, 0).is_empty());
    assert_eq!(t.insert(2, 6, 1), [mv(1, 0, Some(1), 6, Cause::Budget)]);
    assert_eq!(
        t.insert(3, 6, 2),
        [
            mv(2, 0, Some(1), 6, Cause::Budget),
            mv(1, 1, None, 6, Cause::Budget),
        ]
    );
    assert_eq!(t.tier_of(&1), None);
    assert_eq!(t.tier_of(&2), Some(1));
    assert_eq!(t.tier_of(&3), Some(0));
    assert_eq!((t.used(0), t.used(1)), (6, 6));
}

#[test]
fn reweigh_sets_the_weight_in_the_new_tier() {
    let mut t: TierPolicy<u32, Lru<u32>> =
        TierPolicy::new(vec![TierConfig::new(10), TierConfig::new(10)])
            .unwrap()
            .with_reweigh(|_, w, from, to| if to > from { w / 4 } else { w * 4 });
    t.insert(1, 8, 0);
    assert_eq!(t.insert(2, 8, 0), [mv(1, 0, Some(1), 2, Cause::Budget)]);
    assert_eq!(t.used(1), 2);
    // The exact size, learnt later, may move things again.
    assert!(t.set_weight(&1, 3).is_empty());
    assert_eq!(t.used(1), 3);
    assert_eq!(t.set_weight(&1, 11), [mv(1, 1, None, 11, Cause::Budget)]);
}

#[test]
fn repeated_hits_promote_one_tier() {
    let mut t: TierPolicy<u32, Lru<u32>> = TierPolicy::new(vec![
        TierConfig::new(10),
        TierConfig::new(10).promote_after(2),
        TierConfig::new(10).promote_after(3),
    ])
    .unwrap();
    t.insert_at(7, 4, 2, 0);
    assert_eq!(t.access(&7, 1), (Some(2), vec![]));
    assert_eq!(t.access(&7, 2), (Some(2), vec![]));
    assert_eq!(
        t.access(&7, 3),
        (Some(2), vec![mv(7, 2, Some(1), 4, Cause::Promotion)])
    );
    assert_eq!(t.access(&7, 4), (Some(1), vec![]));
    assert_eq!(
        t.access(&7, 5),
        (Some(1), vec![mv(7, 1, Some(0), 4, Cause::Promotion)])
    );
    assert_eq!(t.access(&99, 6), (None, vec![]));
}

#[test]
fn promotion_displaces_downward() {
    let mut t: TierPolicy<u32, Lru<u32>> = TierPolicy::new(vec![
        TierConfig::new(10),
        TierConfig::new(10).promote_after(1),
    ])
    .unwrap();
    t.insert(1, 8, 0);
    t.insert_at(2, 8, 1, 0);
    let (tier, moves) = t.access(&2, 1);
    assert_eq!(tier, Some(1));
    assert_eq!(
        moves,
        [
            mv(2, 1, Some(0), 8, Cause::Promotion),
            mv(1, 0, Some(1), 8, Cause::Budget),
        ]
    );
}

#[test]
fn idle_entries_are_demoted_by_the_injected_clock() {
    let mut t: TierPolicy<u32> = TierPolicy::new(vec![
        TierConfig::new(100).idle_after(10),
        TierConfig::new(100).idle_after(100),
        TierConfig::new(100),
    ])
    .unwrap();
    t.insert(1, 5, 0);
    t.insert(2, 5, 0);
    t.insert(3, 5, 0);
    t.access(&2, 8);
    assert!(t.tick(9).is_empty());
    let m = t.tick(10);
    assert_eq!(
        m,
        [
            mv(1, 0, Some(1), 5, Cause::Idle),
            mv(3, 0, Some(1), 5, Cause::Idle)
        ]
    );
    // Long idle: several tiers at once.
    let m = t.tick(500);
    assert_eq!(
        m,
        [
            mv(2, 0, Some(1), 5, Cause::Idle),
            mv(1, 1, Some(2), 5, Cause::Idle),
            mv(3, 1, Some(2), 5, Cause::Idle),
            mv(2, 1, Some(2), 5, Cause::Idle),
        ]
    );
    assert_eq!(t.used(2), 15);
}

#[test]
fn idle_entries_leave_the_last_tier() {
    let mut t: TierPolicy<u32> = TierPolicy::new(vec![TierConfig::new(100).idle_after(5)]).unwrap();
    t.insert(1, 5, 0);
    assert_eq!(t.tick(5), [mv(1, 0, None, 5, Cause::Idle)]);
    assert!(t.is_empty());
}

#[test]
fn pinned_entries_stay_hot_and_count_toward_the_budget() {
    let mut t: TierPolicy<u32, Lru<u32>> = TierPolicy::new(vec![
        TierConfig::new(10).idle_after(1),
        TierConfig::new(100),
    ])
    .unwrap();
    t.insert_at(1, 6, 1, 0);
    t.insert(2, 3, 0);
    t.insert(3, 3, 0);
    assert_eq!(t.pin(&4), Err(Error::NotFound));
    // Pinning 1 brings it up; its 6 bytes push 2 down.
    assert_eq!(
        t.pin(&1).unwrap(),
        [
            mv(1, 1, Some(0), 6, Cause::Pin),
            mv(2, 0, Some(1), 3, Cause::Budget),
        ]
    );
    assert!(t.is_pinned(&1));
    assert_eq!(t.used(0), 9);
    // Never evicted, never idle-demoted.
    assert_eq!(t.tick(1000), [mv(3, 0, Some(1), 3, Cause::Idle)]);
    for k in 10..20 {
        t.insert(k, 4, 1000);
    }
    assert_eq!(t.tier_of(&1), Some(0));
    // Pins beyond the budget: reported, not resolved by evicting pins.
    assert_eq!(t.over_budget(), None);
    t.insert(5, 7, 1000);
    t.pin(&5).unwrap();
    assert_eq!(t.used(0), 13);
    assert_eq!(t.over_budget(), Some(3));
    // Unpinning makes it an ordinary entry again.
    let m = t.unpin(&5);
    assert_eq!(t.over_budget(), None);
    assert!(!t.is_pinned(&5));
    assert!(t.used(0) <= 10, "{m:?}");
}

// --- model-based property test ---

#[derive(Clone, Debug)]
enum Op {
    Insert(u32, u64, usize),
    Access(u32),
    Remove(u32),
    SetWeight(u32, u64),
    Pin(u32),
    Unpin(u32),
    Tick(u64),
    SetBudget(usize, u64),
}

const KEYS: u32 = 16;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..KEYS, 0u64..30, 0usize..3).prop_map(|(k, w, t)| Op::Insert(k, w, t)),
        6 => (0..KEYS).prop_map(Op::Access),
        1 => (0..KEYS).prop_map(Op::Remove),
        2 => (0..KEYS, 0u64..40).prop_map(|(k, w)| Op::SetWeight(k, w)),
        1 => (0..KEYS).prop_map(Op::Pin),
        1 => (0..KEYS).prop_map(Op::Unpin),
        2 => (0u64..8).prop_map(Op::Tick),
        1 => (0usize..3, 0u64..80).prop_map(|(t, b)| Op::SetBudget(t, b)),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Entry {
    tier: usize,
    weight: u64,
    pinned: bool,
    last: u64,
}

fn apply_moves(model: &mut HashMap<u32, Entry>, moves: &[Move<u32>]) -> Result<(), TestCaseError> {
    for m in moves {
        let e = model.get_mut(&m.key);
        prop_assert!(e.is_some(), "move of an untracked key: {:?}", m);
        let e = e.unwrap();
        prop_assert_eq!(e.tier, m.from, "move from the wrong tier: {:?}", m);
        prop_assert!(
            !e.pinned || m.cause == Cause::Pin,
            "pinned key moved: {:?}",
            m
        );
        match m.to {
            Some(t) => {
                prop_assert!(t + 1 == m.from || m.from + 1 == t || m.cause == Cause::Pin);
                e.tier = t;
                e.weight = m.weight;
            }
            None => {
                model.remove(&m.key);
            }
        }
    }
    Ok(())
}

fn run_model(cfgs: Vec<TierConfig>, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut t: TierPolicy<u32> =
        TierPolicy::new(cfgs.clone())
            .unwrap()
            .with_reweigh(|k, w, from, to| {
                // Deterministic, key-dependent size changes between tiers.
                if to > from {
                    w * 2 / 3 + u64::from(k % 2)
                } else {
                    w + 1
                }
            });
    let mut budgets: Vec<u64> = cfgs.iter().map(|c| c.budget).collect();
    let mut model: HashMap<u32, Entry> = HashMap::new();
    let mut now = 0u64;
    for op in ops {
        let moves = match op {
            Op::Insert(k, w, tier) => {
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
            Op::Access(k) => {
                let (tier, m) = t.access(&k, now);
                prop_assert_eq!(tier, model.get(&k).map(|e| e.tier));
                if let Some(e) = model.get_mut(&k) {
                    e.last = now;
                }
                m
            }
            Op::Remove(k) => {
                let r = t.remove(&k);
                prop_assert_eq!(r, model.remove(&k).map(|e| (e.tier, e.weight)));
                vec![]
            }
            Op::SetWeight(k, w) => {
                let m = t.set_weight(&k, w);
                if let Some(e) = model.get_mut(&k) {
                    e.weight = w;
                }
                m
            }
            Op::Pin(k) => match t.pin(&k) {
                Ok(m) => {
                    // The Pin move (if any) comes first; mark after it.
                    apply_moves(&mut model, &m)?;
                    model.get_mut(&k).unwrap().pinned = true;
                    vec![]
                }
                Err(e) => {
                    prop_assert_eq!(e, Error::NotFound);
                    prop_assert!(!model.contains_key(&k));
                    vec![]
                }
            },
            Op::Unpin(k) => {
                if let Some(e) = model.get_mut(&k) {
                    e.pinned = false;
                }
                t.unpin(&k)
            }
            Op::Tick(d) => {
                now += d;
                t.tick(now)
            }
            Op::SetBudget(tier, b) => {
                budgets[tier] = b;
                t.set_budget(tier, b)
            }
        };
        apply_moves(&mut model, &moves)?;
        if matches!(op, Op::Tick(_)) {
            for (k, e) in &model {
                if let Some(idle) = cfgs[e.tier].idle_after {
                    prop_assert!(
                        e.pinned || now - e.last < idle,
                        "{} idle in tier {}",
                        k,
                        e.tier
                    );
                }
            }
        }
        // Every key in exactly one tier, as the model says.
        prop_assert_eq!(t.len(), model.len());
        for k in 0..KEYS {
            let e = model.get(&k);
            prop_assert_eq!(t.tier_of(&k), e.map(|e| e.tier), "key {}", k);
            prop_assert_eq!(t.weight_of(&k), e.map(|e| e.weight), "key {}", k);
            prop_assert_eq!(t.is_pinned(&k), e.is_some_and(|e| e.pinned), "key {}", k);
        }
        // Budgets hold; the only exception is pins alone over tier 0's.
        let pinned: u64 = model.values().filter(|e| e.pinned).map(|e| e.weight).sum();
        prop_assert_eq!(t.pinned_bytes(), pinned);
        for (tier, &budget) in budgets.iter().enumerate() {
            let used: u64 = model
                .values()
                .filter(|e| e.tier == tier)
                .map(|e| e.weight)
                .sum();
            prop_assert_eq!(t.used(tier), used, "tier {}", tier);
            if tier == 0 && pinned > budget {
                prop_assert_eq!(used, pinned, "over budget by pins: only pins in tier 0");
                prop_assert_eq!(t.over_budget(), Some(pinned - budget));
            } else {
                prop_assert!(used <= budget, "tier {} holds {} > {}", tier, used, budget);
            }
        }
        if pinned <= budgets[0] {
            prop_assert_eq!(t.over_budget(), None);
        }
    }
    Ok(())
}

fn tier_cfg() -> impl Strategy<Value = TierConfig> {
    (0u64..80, prop::option::of(1u64..20), 0u32..4).prop_map(|(b, idle, p)| TierConfig {
        budget: b,
        idle_after: idle,
        promote_after: p,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tiers_follow_the_model(
        cfgs in prop::collection::vec(tier_cfg(), 3),
        ops in prop::collection::vec(op(), 1..150),
    ) {
        run_model(cfgs, ops)?;
    }
}
