//! # cst-tags — tags, outlines and chunks from stored trees
//!
//! What code-navigation and retrieval tools compute from syntax trees,
//! computed from trees stored by cst (a [`cst_bytecode::TreeView`]) with
//! cst-query, without parsing again:
//!
//! - [`TagsConfig::tags`]: definitions and references with
//!   `tree-sitter-tags` semantics (the same tags, field for field; a
//!   differential test and `cargo xtask verify-tags` check it);
//! - [`outline`]: the definitions of a file nested as the tree nests them;
//! - [`chunks`]: AST-aware chunks for retrieval (cAST's split-then-merge)
//!   that tile the file, with symbol paths and ids that survive edits
//!   elsewhere in the file;
//! - [`bundled`]: tags queries cst writes for grammars that ship none;
//! - [`encode_tags`] / [`decode_tags`]: a checked byte form of a file's
//!   tags, for caches that keep them beside the tree.
//!
//! ```no_run
//! # fn demo(language: &tree_sitter::Language, view: &cst_bytecode::TreeView, source: &[u8], tags_scm: &str) -> Result<(), cst_tags::Error> {
//! let config = cst_tags::TagsConfig::new(language, tags_scm, "")?;
//! for tag in config.tags(view.root(), source)? {
//!     println!("{} {}", config.syntax_type_name(tag.syntax_type_id), tag.name(source));
//! }
//! # Ok(()) }
//! ```
//!
//! Layering: this crate reads views (through cst-query); it composes no
//! storage or cache.

pub mod bundled;
mod chunks;
#[cfg(feature = "differential")]
pub mod differential;
mod outline;
mod record;
mod tags;

pub use chunks::{Chunk, ChunkError, ChunkOptions, Symbol, Unit, chunks};
pub use outline::{OutlineItem, enclosing, outline, outline_with};
pub use record::{RecordError, decode_tags, encode_tags};
pub use tags::{Error, MAX_LINE_LEN, Tag, TagsConfig};
