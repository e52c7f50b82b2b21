//! The memory tiers by name.

/// A memory tier, hottest first (`cst-policy` numbers tiers the same way,
/// from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Tier {
    /// Live tree-sitter trees (`HotEntry`).
    Hot,
    /// Encoded trees, read in place.
    Warm,
    /// Compressed trees.
    Cold,
}

impl Tier {
    /// Its number in `cst-policy` (and in [`crate::TIER_NAMES`]).
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The tier of a `cst-policy` number (`None` past the cold tier).
    pub(crate) fn of(index: usize) -> Option<Tier> {
        match index {
            0 => Some(Tier::Hot),
            1 => Some(Tier::Warm),
            2 => Some(Tier::Cold),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tier;

    #[test]
    fn tiers_are_numbered_as_the_policy_and_the_stats_number_them() {
        for (i, t) in [Tier::Hot, Tier::Warm, Tier::Cold].into_iter().enumerate() {
            assert_eq!(t.index(), i);
            assert_eq!(Tier::of(i), Some(t));
        }
        assert_eq!(Tier::of(3), None);
        assert_eq!(crate::TIER_NAMES[Tier::Cold.index()], "cold");
    }
}
