//! # cst — the facade
//!
//! The crate applications embed. It composes the plumbing crates
//! ([`grammars`], [`bytecode`], [`tiers`], [`policy`]); it is the only crate
//! that does. Today it exposes the language registry; the cache (`Cache`,
//! indexing, persistence) arrives with the facade issue.

pub use cst_bytecode as bytecode;
pub use cst_grammars as grammars;
pub use cst_policy as policy;
pub use cst_tiers as tiers;
