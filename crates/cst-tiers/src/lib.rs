//! # cst-tiers — tiered storage for cst (placeholder)
//!
//! Will hold the hot (live trees), warm (encoded), cold (compressed) and
//! frozen (on-disk, memory-mapped) tiers. It stores opaque encoded bytes plus
//! its own record headers. Nothing is implemented yet; the tiers/policy issue
//! fills this crate.
