//! Semantic tokens from the grammars' highlights queries.
//!
//! **Legend.** The standard LSP token types [`LEGEND_TYPES`] and
//! modifiers [`LEGEND_MODIFIERS`]. A capture maps by its first component
//! (`function.method` → `function`; [`token_type_of`]); a capture whose
//! name has a `builtin` component adds the `defaultLibrary` modifier, and
//! `constant` maps to `variable` + `readonly`. Captures with no mapping
//! (`punctuation`, `embedded`, `spell`, …) give no token.
//!
//! **Overlaps**, as tree-sitter-highlight resolves them: an inner node's
//! capture wins over the node that contains it, for its bytes; of several
//! captures of the same node, the first pattern's wins. The result is
//! painted byte by byte over the range asked for, then cut into tokens:
//! maximal runs of one token kind, split at line ends (a multi-line token
//! becomes one token per line; line breaks are never part of a token).
//!
//! **Range** requests paint whole lines, so a range's tokens are exactly
//! the full answer's tokens on the lines the range touches. **Delta**:
//! the last full answer of each document is kept with its result id; a
//! delta request against it gets one edit, the differing middle after the
//! common prefix and suffix of the two token arrays.

use std::ops::Range;

use lsp_types::{SemanticTokenModifier, SemanticTokenType};

use crate::convert::TextLines;
use crate::syntax::{CompiledQuery, Snapshot};

/// The token types of the legend, in order (their index is the encoded
/// type).
pub const LEGEND_TYPES: [SemanticTokenType; 23] = [
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::TYPE,
    SemanticTokenType::CLASS,
    SemanticTokenType::ENUM,
    SemanticTokenType::INTERFACE,
    SemanticTokenType::STRUCT,
    SemanticTokenType::TYPE_PARAMETER,
    SemanticTokenType::PARAMETER,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::EVENT,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::METHOD,
    SemanticTokenType::MACRO,
    SemanticTokenType::KEYWORD,
    SemanticTokenType::MODIFIER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::REGEXP,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::DECORATOR,
];

/// The token modifiers of the legend, in order (bit `i` is modifier `i`).
pub const LEGEND_MODIFIERS: [SemanticTokenModifier; 3] = [
    SemanticTokenModifier::READONLY,
    SemanticTokenModifier::DEFAULT_LIBRARY,
    SemanticTokenModifier::DEPRECATED,
];

const READONLY: u32 = 1;
const DEFAULT_LIBRARY: u32 = 2;

fn type_index(t: &SemanticTokenType) -> u32 {
    LEGEND_TYPES.iter().position(|x| x == t).unwrap_or(0) as u32
}

/// The token type index and modifier bits of a capture name, or `None`
/// when the capture gives no token.
pub fn token_type_of(capture: &str) -> Option<(u32, u32)> {
    use SemanticTokenType as T;
    let mut parts = capture.split('.');
    let first = parts.next().unwrap_or("");
    let mut modifiers = if capture.split('.').any(|p| p == "builtin") {
        DEFAULT_LIBRARY
    } else {
        0
    };
    let t = match first {
        "namespace" | "module" => T::NAMESPACE,
        "type" | "tag" => T::TYPE,
        "class" | "constructor" => T::CLASS,
        "enum" => T::ENUM,
        "interface" => T::INTERFACE,
        "struct" => T::STRUCT,
        "parameter" => T::PARAMETER,
        "variable" | "label" => T::VARIABLE,
        "constant" => {
            modifiers |= READONLY;
            T::VARIABLE
        }
        "property" | "field" | "attribute" => T::PROPERTY,
        "function" => T::FUNCTION,
        "method" => T::METHOD,
        "macro" => T::MACRO,
        "keyword" | "conditional" | "repeat" | "include" | "exception" | "boolean" => T::KEYWORD,
        "storageclass" | "modifier" => T::MODIFIER,
        "comment" => T::COMMENT,
        "string" | "character" | "escape" => T::STRING,
        "number" | "float" => T::NUMBER,
        "regexp" | "regex" => T::REGEXP,
        "operator" => T::OPERATOR,
        "decorator" => T::DECORATOR,
        _ => return None,
    };
    Some((type_index(&t), modifiers))
}

/// A compiled highlights query and each capture's token.
pub(crate) struct Highlights {
    pub(crate) query: CompiledQuery,
    pub(crate) tokens: Vec<Option<(u32, u32)>>,
}

impl Highlights {
    pub(crate) fn new(query: CompiledQuery) -> Highlights {
        let tokens = query
            .capture_names()
            .iter()
            .map(|n| token_type_of(n))
            .collect();
        Highlights { query, tokens }
    }
}

/// The encoded tokens (LSP's five integers per token) of the whole lines
/// `lines_from..=lines_to` (all lines when `None`).
pub(crate) fn tokens(
    snap: &Snapshot,
    hl: &Highlights,
    lines: TextLines<'_>,
    line_range: Option<(u32, u32)>,
) -> Result<Vec<u32>, String> {
    let text = lines.text;
    let window: Range<usize> = match line_range {
        None => 0..text.len(),
        Some((a, b)) => {
            let start = lines
                .lines
                .line_range(text, a as usize)
                .map_or(text.len(), |r| r.start);
            let end = match lines.lines.line_range(text, b as usize + 1) {
                Some(r) => r.start,
                None => text.len(),
            };
            start..end.max(start)
        }
    };
    if window.is_empty() {
        return Ok(Vec::new());
    }
    let mut captures = snap.captures(&hl.query, window.clone())?;
    // Outer nodes first (start ascending, end descending), and of one
    // node's captures the first pattern last: each paints over the ones
    // before it.
    captures.sort_by_key(|c| {
        (
            c.range.0,
            std::cmp::Reverse(c.range.1),
            std::cmp::Reverse(c.pattern),
        )
    });
    // 0: no token; else 1 + (type | modifiers << 8).
    let mut paint = vec![0u32; window.len()];
    for c in &captures {
        let Some(Some((t, m))) = hl.tokens.get(c.capture as usize) else {
            continue;
        };
        let s = c.range.0.clamp(window.start, window.end) - window.start;
        let e = c.range.1.clamp(window.start, window.end) - window.start;
        if s < e {
            paint[s..e].fill(1 + (t | (m << 8)));
        }
    }
    // Runs of one value, cut at line breaks.
    let mut data = Vec::new();
    let (mut prev_line, mut prev_col) = (0u32, 0u32);
    let mut i = 0;
    while i < paint.len() {
        let v = paint[i];
        let at = window.start + i;
        if v == 0 || text[at] == b'\n' || (text[at] == b'\r' && text.get(at + 1) == Some(&b'\n')) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < paint.len()
            && paint[j] == v
            && text[window.start + j] != b'\n'
            && !(text[window.start + j] == b'\r' && text.get(window.start + j + 1) == Some(&b'\n'))
        {
            j += 1;
        }
        let start = lines.position(at);
        let length = match lines.encoding {
            cst_workspace::Encoding::Utf8 => (j - i) as u32,
            cst_workspace::Encoding::Utf16 => {
                cst_workspace::text::utf16_len(&text[at..window.start + j]) as u32
            }
        };
        let delta_line = start.line - prev_line;
        let delta_start = if delta_line == 0 {
            start.character - prev_col
        } else {
            start.character
        };
        let v = v - 1;
        data.extend_from_slice(&[delta_line, delta_start, length, v & 0xFF, v >> 8]);
        prev_line = start.line;
        prev_col = start.character;
        i = j;
    }
    Ok(data)
}

/// The one edit that turns `old` into `new`: `(start, delete_count,
/// inserted)`, in integers, over the common prefix and suffix (kept to
/// whole tokens: five integers each).
pub(crate) fn delta(old: &[u32], new: &[u32]) -> (u32, u32, Vec<u32>) {
    let prefix_tokens = old
        .chunks(5)
        .zip(new.chunks(5))
        .take_while(|(a, b)| a == b)
        .count();
    let prefix = prefix_tokens * 5;
    let max_suffix = (old.len().min(new.len()) - prefix) / 5;
    let suffix_tokens = old[prefix..]
        .rchunks(5)
        .zip(new[prefix..].rchunks(5))
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = suffix_tokens * 5;
    (
        prefix as u32,
        (old.len() - prefix - suffix) as u32,
        new[prefix..new.len() - suffix].to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_names_map_by_first_component() {
        let f = type_index(&SemanticTokenType::FUNCTION);
        assert_eq!(token_type_of("function.method"), Some((f, 0)));
        assert_eq!(
            token_type_of("function.builtin"),
            Some((f, DEFAULT_LIBRARY))
        );
        assert_eq!(
            token_type_of("constant.builtin"),
            Some((
                type_index(&SemanticTokenType::VARIABLE),
                READONLY | DEFAULT_LIBRARY
            ))
        );
        assert_eq!(token_type_of("punctuation.bracket"), None);
    }

    #[test]
    fn delta_is_one_middle_edit() {
        let old = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        let new = [1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 11, 12, 13, 14, 15];
        assert_eq!(delta(&old, &new), (5, 5, vec![0, 0, 0, 0, 0]));
        assert_eq!(delta(&old, &old), (15, 0, vec![]));
        assert_eq!(delta(&[], &old[..5]), (0, 0, old[..5].to_vec()));
        // Equal tokens on both sides of a removed one.
        let mut applied = old[..5].to_vec();
        applied.extend_from_slice(&old[10..]);
        let (s, d, ins) = delta(&old, &applied);
        let mut got = old.to_vec();
        got.splice(s as usize..(s + d) as usize, ins);
        assert_eq!(got, applied);
    }
}
