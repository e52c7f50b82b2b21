//! Tags: definitions and references, with `tree-sitter-tags` semantics.
//!
//! The rules below are tree-sitter-tags 0.26.13's (`crates/tags/src/tags.rs`
//! in the tree-sitter repository); the differential test and
//! `cargo xtask verify-tags` hold this module to that crate's output, field
//! by field:
//!
//! - one query is compiled from `locals + tags`; the patterns that start in
//!   the locals part record scopes (`@local.scope`, never popped; looked up
//!   by range containment, innermost first) and local definitions
//!   (`@local.definition`, put in the innermost scope that contains them);
//! - a tags match needs a `@name` (or `@ignore`) node and a
//!   `@definition.<kind>` / `@reference.<kind>` node; a name node with an
//!   error inside is skipped;
//! - `(#is-not? local)`: the name must not be a local definition visible
//!   from its scope (walking out until a scope set with
//!   `(#set! local.scope-inherits false)`);
//! - docs: the `@doc` nodes, cut to those adjacent (row by row) to the
//!   `#select-adjacent!` node, each with its `#strip!` regex removed, joined
//!   by `\n`;
//! - one tag per name range, the lowest pattern wins; `@ignore` claims a
//!   range and is never emitted;
//! - tags come out ordered by name range end (then start) as matches
//!   allow, exactly as tree-sitter-tags' queue releases them;
//! - the line of a tag is the name's line, trimmed of ASCII whitespace, at
//!   most 180 bytes, cut at the first invalid UTF-8; UTF-16 columns count a
//!   replacement character for each invalid sequence.

use std::collections::VecDeque;
use std::ops::Range;

use cst_bytecode::{Node, Point};
use cst_query::{Query, QueryCursor, QueryPredicateArg};
use regex::Regex;

/// The longest line (in bytes) a tag carries, as tree-sitter-tags has it.
pub const MAX_LINE_LEN: usize = 180;

/// Why a tags configuration could not be built or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The query did not compile, or the tree cannot be queried.
    #[error(transparent)]
    Query(#[from] cst_query::Error),
    /// A `#strip!` pattern is not a valid regular expression.
    #[error("invalid #strip! pattern: {0}")]
    Regex(#[from] regex::Error),
    /// A capture name tree-sitter-tags does not know.
    #[error(
        "invalid capture @{0}: expected one of @definition.*, @reference.*, @doc, @name, @ignore, @local.(scope|definition|reference)"
    )]
    InvalidCapture(String),
}

/// What a capture of the tags query stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Name,
    Ignore,
    Doc,
    LocalScope,
    LocalDefinition,
    None,
    Tag {
        syntax_type_id: u32,
        is_definition: bool,
    },
}

#[derive(Debug, Default)]
struct PatternInfo {
    docs_adjacent_capture: Option<u32>,
    local_scope_inherits: bool,
    name_must_be_non_local: bool,
    doc_strip_regex: Option<Regex>,
}

/// A compiled tags configuration for one language: `locals.scm` and
/// `tags.scm` in one query, as `tree_sitter_tags::TagsConfiguration`.
#[derive(Debug)]
pub struct TagsConfig {
    query: Query,
    roles: Vec<Role>,
    syntax_type_names: Vec<String>,
    tags_pattern_index: usize,
    patterns: Vec<PatternInfo>,
}

impl TagsConfig {
    /// Compiles `locals_query` followed by `tags_query` for `language`.
    pub fn new(
        language: &tree_sitter::Language,
        tags_query: &str,
        locals_query: &str,
    ) -> Result<TagsConfig, Error> {
        let query = Query::new(language, &format!("{locals_query}{tags_query}"))?;
        let tags_pattern_index = (0..query.pattern_count())
            .filter(|&i| query.start_byte_for_pattern(i) < locals_query.len())
            .count();

        let mut syntax_type_names: Vec<String> = Vec::new();
        let mut roles = Vec::with_capacity(query.capture_names().len());
        for name in query.capture_names() {
            let role = match *name {
                "name" => Role::Name,
                "ignore" => Role::Ignore,
                "doc" => Role::Doc,
                "local.scope" => Role::LocalScope,
                "local.definition" => Role::LocalDefinition,
                "local.reference" | "" => Role::None,
                other => {
                    // tree-sitter-tags strips every repetition of the prefix.
                    let (kind, is_definition) = if other.starts_with("definition.") {
                        (other.trim_start_matches("definition."), true)
                    } else if other.starts_with("reference.") {
                        (other.trim_start_matches("reference."), false)
                    } else {
                        return Err(Error::InvalidCapture(other.to_string()));
                    };
                    if kind.contains('\0') {
                        // tree-sitter-tags keeps kinds as C strings and drops these.
                        Role::None
                    } else {
                        let id = match syntax_type_names.iter().position(|n| n == kind) {
                            Some(i) => i,
                            None => {
                                syntax_type_names.push(kind.to_string());
                                syntax_type_names.len() - 1
                            }
                        } as u32;
                        Role::Tag {
                            syntax_type_id: id,
                            is_definition,
                        }
                    }
                }
            };
            roles.push(role);
        }
        let doc_capture = roles.iter().position(|r| *r == Role::Doc).map(|i| i as u32);

        let mut patterns = Vec::with_capacity(query.pattern_count());
        for p in 0..query.pattern_count() {
            let mut info = PatternInfo {
                local_scope_inherits: true,
                ..PatternInfo::default()
            };
            for (property, is_positive) in query.property_predicates(p) {
                if !is_positive && property.key.as_ref() == "local" {
                    info.name_must_be_non_local = true;
                }
            }
            for property in query.property_settings(p) {
                if property.key.as_ref() == "local.scope-inherits"
                    && property.value.as_deref() == Some("false")
                {
                    info.local_scope_inherits = false;
                }
            }
            if let Some(doc) = doc_capture {
                for predicate in query.general_predicates(p) {
                    if predicate.args.first() != Some(&QueryPredicateArg::Capture(doc)) {
                        continue;
                    }
                    match (predicate.operator.as_ref(), predicate.args.get(1)) {
                        ("select-adjacent!", Some(QueryPredicateArg::Capture(i))) => {
                            info.docs_adjacent_capture = Some(*i);
                        }
                        ("strip!", Some(QueryPredicateArg::String(re))) => {
                            info.doc_strip_regex = Some(Regex::new(re)?);
                        }
                        _ => {}
                    }
                }
            }
            patterns.push(info);
        }
        Ok(TagsConfig {
            query,
            roles,
            syntax_type_names,
            tags_pattern_index,
            patterns,
        })
    }

    /// The name of a syntax type (`function`, `class`, `call`, …).
    pub fn syntax_type_name(&self, id: u32) -> &str {
        self.syntax_type_names
            .get(id as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// All syntax type names, by id.
    pub fn syntax_type_names(&self) -> &[String] {
        &self.syntax_type_names
    }

    /// The compiled query (locals patterns first).
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The tags of the tree under `root` (normally a tree's root), whose
    /// source is `source`, in tree-sitter-tags' order.
    pub fn tags(&self, root: Node<'_>, source: &[u8]) -> Result<Vec<Tag>, Error> {
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(&self.query, root, source)?;
        let mut run = Run {
            config: self,
            source,
            scopes: vec![Scope {
                range: 0..source.len(),
                inherits: false,
                defs: Vec::new(),
            }],
            queue: VecDeque::new(),
            prev_line: None,
            out: Vec::new(),
        };
        while let Some(m) = matches.next_match() {
            run.add(m);
        }
        while let Some((tag, _)) = run.queue.pop_front() {
            if !tag.is_ignored() {
                run.out.push(tag);
            }
        }
        Ok(run.out)
    }
}

/// A definition or a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The tagged node's byte range joined with the name's.
    pub range: Range<usize>,
    /// The name's byte range.
    pub name_range: Range<usize>,
    /// The name's line, trimmed, at most [`MAX_LINE_LEN`] bytes.
    pub line_range: Range<usize>,
    /// The name's start and end points (rows and byte columns).
    pub span: Range<Point>,
    /// The name's columns counted in UTF-16 code units.
    pub utf16_column_range: Range<usize>,
    /// Documentation gathered by `@doc` captures.
    pub docs: Option<String>,
    /// A definition (`@definition.*`) rather than a reference.
    pub is_definition: bool,
    /// The syntax type, see [`TagsConfig::syntax_type_name`].
    pub syntax_type_id: u32,
}

impl Tag {
    fn ignored(name_range: Range<usize>) -> Tag {
        Tag {
            range: usize::MAX..usize::MAX,
            name_range,
            line_range: 0..0,
            span: Point::default()..Point::default(),
            utf16_column_range: 0..0,
            docs: None,
            is_definition: false,
            syntax_type_id: 0,
        }
    }

    fn is_ignored(&self) -> bool {
        self.range.start == usize::MAX
    }

    /// The tag's name in `source`, lossily decoded.
    pub fn name<'s>(&self, source: &'s [u8]) -> std::borrow::Cow<'s, str> {
        String::from_utf8_lossy(source.get(self.name_range.clone()).unwrap_or_default())
    }

    /// The tag's line in `source`, lossily decoded.
    pub fn line<'s>(&self, source: &'s [u8]) -> std::borrow::Cow<'s, str> {
        String::from_utf8_lossy(source.get(self.line_range.clone()).unwrap_or_default())
    }
}

struct Scope<'s> {
    range: Range<usize>,
    inherits: bool,
    defs: Vec<&'s [u8]>,
}

struct LineInfo {
    position: Point,
    byte: usize,
    utf16_column: usize,
    line_range: Range<usize>,
}

struct Run<'c, 's> {
    config: &'c TagsConfig,
    source: &'s [u8],
    scopes: Vec<Scope<'s>>,
    /// Pending tags sorted by (name end, name start), with their pattern.
    queue: VecDeque<(Tag, usize)>,
    prev_line: Option<LineInfo>,
    out: Vec<Tag>,
}

impl<'s> Run<'_, 's> {
    /// Releases the queued tags that no later match can displace, then
    /// handles one match (the order of tree-sitter-tags' iterator).
    fn add(&mut self, m: &cst_query::QueryMatch<'_>) {
        self.release();
        let config = self.config;
        let pattern = &config.patterns[m.pattern_index];
        if m.pattern_index < config.tags_pattern_index {
            for c in &m.captures {
                let range = c.node.byte_range();
                match config.roles[c.index as usize] {
                    Role::LocalScope => self.scopes.push(Scope {
                        range,
                        inherits: pattern.local_scope_inherits,
                        defs: Vec::new(),
                    }),
                    Role::LocalDefinition => {
                        let source = self.source;
                        if let Some(scope) = self
                            .scopes
                            .iter_mut()
                            .rev()
                            .find(|s| s.range.start <= range.start && s.range.end >= range.end)
                        {
                            scope.defs.push(source.get(range).unwrap_or_default());
                        }
                    }
                    _ => {}
                }
            }
            return;
        }

        let mut name_node: Option<Node<'_>> = None;
        let mut doc_nodes = Vec::new();
        let mut tag_node: Option<Node<'_>> = None;
        let mut syntax_type_id = 0;
        let mut is_definition = false;
        let mut adjacent: Option<Node<'_>> = None;
        let mut is_ignored = false;
        for c in &m.captures {
            let role = config.roles[c.index as usize];
            if role == Role::Ignore {
                is_ignored = true;
                name_node = Some(c.node);
            }
            if Some(c.index) == pattern.docs_adjacent_capture {
                adjacent = Some(c.node);
            }
            match role {
                Role::Name => name_node = Some(c.node),
                Role::Doc => doc_nodes.push(c.node),
                _ => {}
            }
            if let Role::Tag {
                syntax_type_id: id,
                is_definition: def,
            } = role
            {
                tag_node = Some(c.node);
                syntax_type_id = id;
                is_definition = def;
            }
        }
        let Some(name_node) = name_node else { return };
        let name_range = name_node.byte_range();
        let tag = if let Some(tag_node) = tag_node {
            if name_node.has_error() {
                return;
            }
            if pattern.name_must_be_non_local && self.is_local(name_range.clone()) {
                return;
            }
            let docs = self.docs(pattern, adjacent, &doc_nodes);
            let node_range = tag_node.byte_range();
            let range = node_range.start.min(name_range.start)..node_range.end.max(name_range.end);
            let span = name_node.start_position()..name_node.end_position();
            let (line_range, utf16_column_range) = self.line_of(&name_range, &span);
            Tag {
                range,
                name_range,
                line_range,
                span,
                utf16_column_range,
                docs,
                is_definition,
                syntax_type_id,
            }
        } else if is_ignored {
            Tag::ignored(name_range)
        } else {
            return;
        };
        let key = (tag.name_range.end, tag.name_range.start);
        match self
            .queue
            .binary_search_by_key(&key, |(t, _)| (t.name_range.end, t.name_range.start))
        {
            Ok(i) => {
                let (existing, p) = &mut self.queue[i];
                if *p > m.pattern_index {
                    *p = m.pattern_index;
                    *existing = tag;
                }
            }
            Err(i) => self.queue.insert(i, (tag, m.pattern_index)),
        }
    }

    /// tree-sitter-tags pops the front of its queue, before looking at the
    /// next match, while the queue holds more than one tag and the front ends
    /// before the back starts.
    fn release(&mut self) {
        while self.queue.len() > 1 {
            let (front, back) = (&self.queue[0].0, &self.queue[self.queue.len() - 1].0);
            if front.name_range.end >= back.name_range.start {
                break;
            }
            if let Some((tag, _)) = self.queue.pop_front()
                && !tag.is_ignored()
            {
                self.out.push(tag);
            }
        }
    }

    fn is_local(&self, name: Range<usize>) -> bool {
        let text = self.source.get(name.clone()).unwrap_or_default();
        for scope in self.scopes.iter().rev() {
            if scope.range.start <= name.start && scope.range.end >= name.end {
                if scope.defs.contains(&text) {
                    return true;
                }
                if !scope.inherits {
                    break;
                }
            }
        }
        false
    }

    fn docs(
        &self,
        pattern: &PatternInfo,
        adjacent: Option<Node<'_>>,
        doc_nodes: &[Node<'_>],
    ) -> Option<String> {
        let mut first = 0;
        if let Some(adjacent) = adjacent
            && !doc_nodes.is_empty()
        {
            first = doc_nodes.len();
            let mut start_row = adjacent.start_position().row;
            while first > 0 {
                let doc = &doc_nodes[first - 1];
                if doc.end_position().row + 1 >= start_row {
                    first -= 1;
                    start_row = doc.start_position().row;
                } else {
                    break;
                }
            }
        }
        let mut docs: Option<String> = None;
        for doc in &doc_nodes[first..] {
            let Some(Ok(text)) = self.source.get(doc.byte_range()).map(std::str::from_utf8) else {
                continue;
            };
            let text = match &pattern.doc_strip_regex {
                Some(re) => re.replace_all(text, "").into_owned(),
                None => text.to_string(),
            };
            match &mut docs {
                None => docs = Some(text),
                Some(d) => {
                    d.push('\n');
                    d.push_str(&text);
                }
            }
        }
        docs
    }

    /// The line range and UTF-16 columns of a name, reusing the previous
    /// tag's line when it was on the same row (as tree-sitter-tags does,
    /// including its reuse of that tag's line range).
    fn line_of(
        &mut self,
        name: &Range<usize>,
        span: &Range<Point>,
    ) -> (Range<usize>, Range<usize>) {
        let mut prev_utf16 = 0;
        let mut prev_byte = name.start - span.start.column;
        let line_range = match self
            .prev_line
            .as_ref()
            .filter(|l| l.position.row == span.start.row)
        {
            Some(l) => {
                if l.position.column <= span.start.column {
                    prev_byte = l.byte;
                    prev_utf16 = l.utf16_column;
                }
                l.line_range.clone()
            }
            None => line_range(self.source, name.start, span.start, MAX_LINE_LEN),
        };
        let start =
            prev_utf16 + utf16_len(self.source.get(prev_byte..name.start).unwrap_or_default());
        let end = start + utf16_len(self.source.get(name.clone()).unwrap_or_default());
        self.prev_line = Some(LineInfo {
            position: span.end,
            byte: name.end,
            utf16_column: end,
            line_range: line_range.clone(),
        });
        (line_range, start..end)
    }
}

/// The trimmed line holding `start_byte` (at `start_point`), at most
/// `max_len` bytes, cut at a newline or the first invalid UTF-8.
fn line_range(text: &[u8], start_byte: usize, start_point: Point, max_len: usize) -> Range<usize> {
    let mut start = start_byte
        .saturating_sub(start_point.column)
        .min(text.len());
    while start < text.len() && text[start].is_ascii_whitespace() {
        start += 1;
    }
    let max_len = max_len.min(text.len() - start);
    let window = &text[start..start + max_len];
    let len = match window.iter().position(|&b| b == b'\n') {
        Some(n) => n,
        None => match std::str::from_utf8(window) {
            Ok(_) => max_len,
            Err(e) => e.valid_up_to(),
        },
    };
    let mut end = start + len;
    while end > start && text[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    start..end
}

/// UTF-16 code units of `bytes`, one per replacement character for each
/// invalid sequence (tree-sitter's `LossyUtf8`).
fn utf16_len(bytes: &[u8]) -> usize {
    tree_sitter::LossyUtf8::new(bytes)
        .flat_map(|chunk| chunk.chars().map(char::len_utf16))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_cut_and_bounded() {
        let text = "abc\ndefg❤hij\nklmno".as_bytes();
        assert_eq!(line_range(text, 5, Point { row: 1, column: 1 }, 30), 4..14);
        // 6 bytes from "defg" end inside the 3-byte heart: cut before it.
        assert_eq!(line_range(text, 5, Point { row: 1, column: 1 }, 6), 4..8);
        assert_eq!(
            line_range(text, 17, Point { row: 2, column: 2 }, 30),
            15..20
        );
        assert_eq!(
            line_range(b"\t func foo \nbar\n", 0, Point { row: 0, column: 0 }, 14),
            2..10
        );
    }

    #[test]
    fn utf16_counts_surrogates_and_replacements() {
        assert_eq!(utf16_len("a😀".as_bytes()), 3);
        assert_eq!(utf16_len(b"a\xffb"), 3);
    }
}
