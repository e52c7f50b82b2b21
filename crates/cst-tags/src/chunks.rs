//! AST-aware chunks for retrieval: cAST's split-then-merge over a stored tree.
//!
//! The file is cut at node boundaries only. Going down from the root, the
//! children of a node split its extent into segments, each running from a
//! child's start to the next child's start (the first from the extent's
//! start, the last to its end), so the whitespace and comments between two
//! children belong to the first. A segment that fits the budget is kept
//! whole; adjacent segments are merged while the merge fits; a segment that
//! does not fit is split by its node's children in turn. A leaf (a token)
//! that alone exceeds the budget becomes one chunk marked `oversized`:
//! chunks never cut a token. (Its segment, like any, runs to the next
//! sibling's start, so the text after it — whitespace, or text its parent
//! owns between children — is part of that chunk.)
//!
//! Two refinements of cAST keep chunks from being tiny: the last pieces of
//! a node that had to be split go on merging with the node's following
//! siblings (a closing `}` is not a chunk of its own), and a node that must
//! be split starts a new chunk only when the chunk being filled holds at
//! least a quarter of the budget (a short header such as `impl Cache` leads
//! the node's first chunk instead).
//!
//! So the chunks **tile** the source: each byte is in exactly one chunk's
//! `range`, in order, and each chunk's text is the exact byte slice. With
//! [`ChunkOptions::overlap_lines`], a chunk also carries a `context` range
//! that starts that many lines earlier (the tiling is unaffected).
//!
//! A chunk's id is a hash of the language, the chunk's symbol path and its
//! text (with an ordinal when the same text and path occur more than once in
//! the file), not of its position: editing one function leaves the ids of
//! the other chunks unchanged.

use std::ops::Range;

use cst_bytecode::{Node, Point, TreeView};

use crate::outline::{OutlineItem, enclosing};

/// What a chunk budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Unit {
    /// Characters other than Unicode whitespace (cAST's measure).
    #[default]
    NonWhitespace,
    /// Bytes.
    Bytes,
    /// BPE tokens of OpenAI's `cl100k_base` (feature `tokens`).
    #[cfg(feature = "tokens")]
    Tokens,
}

impl std::str::FromStr for Unit {
    type Err = String;
    fn from_str(s: &str) -> Result<Unit, String> {
        match s {
            "nws" | "non-whitespace" => Ok(Unit::NonWhitespace),
            "bytes" => Ok(Unit::Bytes),
            #[cfg(feature = "tokens")]
            "tokens" => Ok(Unit::Tokens),
            #[cfg(not(feature = "tokens"))]
            "tokens" => Err("token budgets need cst-tags' `tokens` feature".into()),
            other => Err(format!("unknown unit `{other}` (nws, bytes, tokens)")),
        }
    }
}

/// How to chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkOptions {
    /// The budget per chunk, in `unit`s (default 1500).
    pub max: usize,
    /// What the budget counts (default non-whitespace characters).
    pub unit: Unit,
    /// Lines of preceding text each chunk's `context` range adds (default 0).
    pub overlap_lines: usize,
}

impl Default for ChunkOptions {
    fn default() -> ChunkOptions {
        ChunkOptions {
            max: 1500,
            unit: Unit::NonWhitespace,
            overlap_lines: 0,
        }
    }
}

/// One piece of a definition's symbol path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The syntax type (`class`, `function`, …).
    pub kind: String,
    /// The name.
    pub name: String,
}

/// A chunk: an exact byte slice of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The bytes of the chunk; chunks tile the file.
    pub range: Range<usize>,
    /// `range` widened by [`ChunkOptions::overlap_lines`] lines before it.
    pub context: Range<usize>,
    /// Where `range` starts (zero-based row, byte column).
    pub start: Point,
    /// Where `range` ends.
    pub end: Point,
    /// Its size in the budget's unit.
    pub size: usize,
    /// A single token larger than the budget (it cannot be cut).
    pub oversized: bool,
    /// The definitions that contain the chunk's text, outermost first.
    pub symbol_path: Vec<Symbol>,
    /// A stable id: 16 hex digits of a hash of language, path and text.
    pub id: String,
}

impl Chunk {
    /// The symbol path as text: `class Cache > method get`.
    pub fn symbol_path_string(&self) -> String {
        path_string(&self.symbol_path)
    }

    /// First and last line (one-based, inclusive) of the chunk's text.
    pub fn lines(&self) -> (usize, usize) {
        let last = if self.end.column == 0 && self.end.row > self.start.row {
            self.end.row
        } else {
            self.end.row + 1
        };
        (self.start.row + 1, last)
    }
}

fn path_string(path: &[Symbol]) -> String {
    let mut s = String::new();
    for (i, p) in path.iter().enumerate() {
        if i > 0 {
            s.push_str(" > ");
        }
        s.push_str(&p.kind);
        s.push(' ');
        s.push_str(&p.name);
    }
    s
}

/// Why chunking failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// A budget of zero.
    #[error("the chunk budget must be at least 1")]
    ZeroBudget,
    /// The tree does not cover this source (another version of the file).
    #[error("the tree covers {tree} bytes, the source has {source_len}")]
    SourceMismatch {
        /// Bytes the tree covers.
        tree: usize,
        /// Bytes of the source.
        source_len: usize,
    },
}

/// Measures ranges of one source.
struct Sizer<'s> {
    #[cfg_attr(not(feature = "tokens"), allow(dead_code))]
    source: &'s [u8],
    kind: SizerKind,
}

enum SizerKind {
    /// Prefix counts of non-whitespace characters, one entry per byte.
    Prefix(Vec<u32>),
    Bytes,
    #[cfg(feature = "tokens")]
    Tokens(&'static tiktoken_rs::CoreBPE),
}

impl<'s> Sizer<'s> {
    fn new(unit: Unit, source: &'s [u8]) -> Sizer<'s> {
        let kind = match unit {
            Unit::NonWhitespace => {
                let mut prefix = Vec::with_capacity(source.len() + 1);
                prefix.push(0u32);
                let mut n = 0u32;
                match std::str::from_utf8(source) {
                    Ok(text) => {
                        // A character counts at its first byte.
                        for c in text.chars() {
                            if !c.is_whitespace() {
                                n = n.saturating_add(1);
                            }
                            for _ in 0..c.len_utf8() {
                                prefix.push(n);
                            }
                        }
                    }
                    Err(_) => {
                        // Not UTF-8: count the bytes that are not ASCII whitespace.
                        for &b in source {
                            if !b.is_ascii_whitespace() {
                                n = n.saturating_add(1);
                            }
                            prefix.push(n);
                        }
                    }
                }
                SizerKind::Prefix(prefix)
            }
            Unit::Bytes => SizerKind::Bytes,
            #[cfg(feature = "tokens")]
            Unit::Tokens => SizerKind::Tokens(tokenizer()),
        };
        Sizer { source, kind }
    }

    fn size(&self, r: &Range<usize>) -> usize {
        match &self.kind {
            SizerKind::Prefix(p) => (p[r.end] - p[r.start]) as usize,
            SizerKind::Bytes => r.end - r.start,
            #[cfg(feature = "tokens")]
            SizerKind::Tokens(bpe) => {
                let text = String::from_utf8_lossy(&self.source[r.clone()]);
                bpe.encode_ordinary(&text).len()
            }
        }
    }
}

#[cfg(feature = "tokens")]
fn tokenizer() -> &'static tiktoken_rs::CoreBPE {
    static BPE: std::sync::OnceLock<tiktoken_rs::CoreBPE> = std::sync::OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::cl100k_base().expect("cl100k_base is built in"))
}

struct Frame<'t> {
    /// The next child to place.
    next: Option<Node<'t>>,
    /// Where that child's segment starts.
    pos: usize,
    /// Where the node's extent ends.
    hi: usize,
}

/// Chunks `source` by the tree `view`, with the symbol paths of `outline`
/// (empty for none) and ids salted with `language`.
pub fn chunks(
    view: &TreeView,
    source: &[u8],
    outline: &[OutlineItem],
    language: &str,
    options: &ChunkOptions,
) -> Result<Vec<Chunk>, ChunkError> {
    if options.max == 0 {
        return Err(ChunkError::ZeroBudget);
    }
    if view.source_len() != source.len() {
        return Err(ChunkError::SourceMismatch {
            tree: view.source_len(),
            source_len: source.len(),
        });
    }
    let sizer = Sizer::new(options.unit, source);
    let max = options.max;
    let mut ranges: Vec<(Range<usize>, bool)> = Vec::new();
    let whole = 0..source.len();
    if !source.is_empty() {
        if sizer.size(&whole) <= max {
            ranges.push((whole, false));
        } else {
            split(view.root(), whole, &sizer, max, &mut ranges);
        }
    }

    let mut out: Vec<Chunk> = Vec::with_capacity(ranges.len());
    let mut seen: std::collections::HashMap<[u8; 32], u32> = std::collections::HashMap::new();
    for (range, oversized) in ranges {
        let text = &source[range.clone()];
        let trimmed = trim(text, range.start);
        let symbol_path: Vec<Symbol> = enclosing(outline, &trimmed)
            .into_iter()
            .map(|it| Symbol {
                kind: it.kind.clone(),
                name: it.name.clone(),
            })
            .collect();
        let path = path_string(&symbol_path);
        let mut h = blake3::Hasher::new();
        for part in [language.as_bytes(), path.as_bytes(), text] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
        let base = *h.finalize().as_bytes();
        let n = seen.entry(base).or_insert(0);
        *n += 1;
        if *n > 1 {
            h.update(&n.to_le_bytes());
        }
        let id = h.finalize().to_hex()[..16].to_string();
        let start = view.point_for_byte(range.start);
        let context_start = if options.overlap_lines == 0 {
            range.start
        } else {
            let row = start.row.saturating_sub(options.overlap_lines);
            view.byte_for_point(Point { row, column: 0 })
                .min(range.start)
        };
        out.push(Chunk {
            context: context_start..range.end,
            start,
            end: view.point_for_byte(range.end),
            size: sizer.size(&range),
            oversized,
            symbol_path,
            id,
            range,
        });
    }
    Ok(out)
}

/// `range` without its leading and trailing whitespace (or the range's
/// start, empty, when it is all whitespace).
fn trim(text: &[u8], offset: usize) -> Range<usize> {
    let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return offset..offset;
    };
    let last = text
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .unwrap_or(first);
    offset + first..offset + last + 1
}

/// Tiles `extent` (which contains `node`) with chunks of at most `max`,
/// splitting by children; iterative, so deep trees cannot overflow the stack.
fn split(
    node: Node<'_>,
    extent: Range<usize>,
    sizer: &Sizer<'_>,
    max: usize,
    out: &mut Vec<(Range<usize>, bool)>,
) {
    let mut stack: Vec<Frame<'_>> = Vec::new();
    // The chunk being filled. Segments come in byte order and tile the
    // extent, so it always ends where the next segment starts.
    let mut current: Option<Range<usize>> = None;
    let flush = |current: &mut Option<Range<usize>>, out: &mut Vec<(Range<usize>, bool)>| {
        if let Some(r) = current.take().filter(|r| !r.is_empty()) {
            out.push((r, false));
        }
    };
    match node.first_child() {
        None => {
            out.push((extent, true));
            return;
        }
        Some(first) => stack.push(Frame {
            next: Some(first),
            pos: extent.start,
            hi: extent.end,
        }),
    }
    while let Some(frame) = stack.last_mut() {
        let Some(child) = frame.next else {
            // The node is done; what is being filled goes on with the
            // node's following siblings (a closing `}` is not a chunk).
            stack.pop();
            continue;
        };
        let sibling = child.next_sibling();
        let end = match sibling {
            Some(s) => s.start_byte().clamp(frame.pos, frame.hi),
            None => frame.hi,
        };
        let segment = frame.pos..end;
        frame.next = sibling;
        frame.pos = end;
        if sizer.size(&segment) <= max {
            match &mut current {
                Some(c) if sizer.size(&(c.start..segment.end)) <= max => c.end = segment.end,
                _ => {
                    flush(&mut current, out);
                    current = Some(segment);
                }
            }
            continue;
        }
        match child.first_child() {
            None => {
                // A token larger than the budget: a chunk of its own.
                flush(&mut current, out);
                out.push((segment, true));
            }
            Some(first) => {
                // A node that must be split starts a chunk of its own,
                // unless what is being filled is small (a header such as
                // `impl Cache`, which then leads the node's first chunk).
                if current.as_ref().is_some_and(|c| sizer.size(c) >= max / 4) {
                    flush(&mut current, out);
                }
                stack.push(Frame {
                    next: Some(first),
                    pos: segment.start,
                    hi: segment.end,
                });
            }
        }
    }
    flush(&mut current, out);
}
