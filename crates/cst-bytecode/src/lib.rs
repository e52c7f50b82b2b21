//! # cst-bytecode — the cst tree format (placeholder)
//!
//! Will encode a tree-sitter tree into a compact, lossless byte format,
//! navigate it zero-copy, and verify it against the live tree. Reading needs
//! no tree-sitter. Nothing is implemented yet; the format issue fills this crate.
