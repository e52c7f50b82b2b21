//! One module per concern; each computes its answer from a [`Snapshot`]
//! (and the workspace, for the outline).
//!
//! [`Snapshot`]: crate::syntax::Snapshot

pub(crate) mod diagnostics;
pub(crate) mod folding;
pub(crate) mod highlight;
pub(crate) mod selection;
pub(crate) mod semantic;
pub(crate) mod symbols;
