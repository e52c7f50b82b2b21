//! Positions in a text: lines, and columns counted in UTF-8 bytes (what
//! tree-sitter counts) or UTF-16 code units (what LSP clients count unless
//! told otherwise).
//!
//! A line ends after `\n`; a `\r` before it belongs to the line break, not
//! to the line (so a column past the line's text stops before `\r\n`, as
//! the LSP says: "if the character value is greater than the line length
//! it defaults back to the line length"). A lone `\r` is an ordinary
//! character, as tree-sitter sees it: its rows count `\n` only.

use cst::tree_sitter;
use serde::{Deserialize, Serialize};

/// How a column is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Encoding {
    /// Bytes of UTF-8 (tree-sitter's columns; LSP `utf-8`).
    #[default]
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// UTF-16 code units (LSP's default, `utf-16`): a character outside
    /// the Basic Multilingual Plane counts 2.
    #[serde(rename = "utf-16", alias = "utf16")]
    Utf16,
}

/// A zero-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    /// Line, from 0.
    pub line: u32,
    /// Column, from 0, in the units of an [`Encoding`].
    pub character: u32,
}

/// Where each line of a text starts, kept in step with the text by
/// [`LineIndex::splice`] (an edit shifts the starts after it; it does not
/// scan the text again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset of each line's first byte; `starts[0] == 0`.
    starts: Vec<u32>,
    len: u32,
}

impl LineIndex {
    /// The index of `text`. Texts are at most 4 GiB (the format's limit).
    pub fn new(text: &[u8]) -> LineIndex {
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        starts.extend(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        LineIndex {
            starts,
            len: text.len() as u32,
        }
    }

    /// The number of lines (a text ending in `\n` has an empty last line).
    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// The byte range of line `line`'s text, without its line break (`\n`
    /// or `\r\n`); `None` past the last line.
    pub fn line_range(&self, text: &[u8], line: usize) -> Option<std::ops::Range<usize>> {
        let start = *self.starts.get(line)? as usize;
        let mut end = self
            .starts
            .get(line + 1)
            .map_or(self.len as usize, |&n| n as usize - 1);
        if end > start && line + 1 < self.starts.len() && text.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        Some(start..end)
    }

    /// The byte offset of `pos`. A column past the end of its line stops at
    /// the line's end; a line past the last line is the end of the text
    /// (both as the LSP asks). A column inside a UTF-8 sequence (or, in
    /// UTF-16, between the two halves of a surrogate pair) is refused.
    pub fn offset(&self, text: &[u8], pos: Position, encoding: Encoding) -> Result<usize, String> {
        let Some(range) = self.line_range(text, pos.line as usize) else {
            return Ok(text.len());
        };
        let line = &text[range.clone()];
        let want = pos.character as usize;
        match encoding {
            Encoding::Utf8 => {
                if want >= line.len() {
                    return Ok(range.end);
                }
                // A column in the middle of a UTF-8 sequence is not a place
                // in the text (continuation bytes are 0b10xxxxxx).
                if line[want] & 0xC0 == 0x80 && std::str::from_utf8(line).is_ok() {
                    return Err(format!(
                        "line {} column {}: inside a UTF-8 character",
                        pos.line, pos.character
                    ));
                }
                Ok(range.start + want)
            }
            Encoding::Utf16 => {
                let mut units = 0usize;
                let mut i = 0usize;
                while i < line.len() {
                    if units >= want {
                        break;
                    }
                    let (ch_len, ch_units) = utf8_char(&line[i..]);
                    if units + ch_units > want {
                        return Err(format!(
                            "line {} column {}: inside a surrogate pair",
                            pos.line, pos.character
                        ));
                    }
                    units += ch_units;
                    i += ch_len;
                }
                Ok(range.start + i)
            }
        }
    }

    /// The position of byte `offset` (clamped to the text), its column in
    /// `encoding`'s units.
    pub fn position(&self, text: &[u8], offset: usize, encoding: Encoding) -> Position {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.starts[line] as usize;
        let character = match encoding {
            Encoding::Utf8 => offset - start,
            Encoding::Utf16 => utf16_len(&text[start..offset]),
        };
        Position {
            line: line as u32,
            character: character as u32,
        }
    }

    /// tree-sitter's point of byte `offset`: row, and column in bytes.
    pub fn point(&self, offset: usize) -> tree_sitter::Point {
        let offset = offset.min(self.len as usize);
        let line = self.starts.partition_point(|&s| s as usize <= offset) - 1;
        tree_sitter::Point {
            row: line,
            column: offset - self.starts[line] as usize,
        }
    }

    /// Keeps the index in step with replacing bytes `start..old_end` by
    /// `inserted`: the line starts inside the old range go, the inserted
    /// text's come in, and the later ones move by the length difference.
    pub fn splice(&mut self, start: usize, old_end: usize, inserted: &[u8]) {
        let (start32, old_end32) = (start as u32, old_end as u32);
        // Line starts s with start < s <= old_end began after a `\n` that
        // was replaced.
        let first = self.starts.partition_point(|&s| s <= start32);
        let last = self.starts.partition_point(|&s| s <= old_end32);
        let delta = inserted.len() as i64 - (old_end - start) as i64;
        let new: Vec<u32> = inserted
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| (start + i + 1) as u32)
            .collect();
        for s in &mut self.starts[last..] {
            *s = (*s as i64 + delta) as u32;
        }
        self.starts.splice(first..last, new);
        self.len = (self.len as i64 + delta) as u32;
    }
}

/// The byte length and UTF-16 length of the character starting `bytes`
/// (an invalid byte counts as one byte and one unit, as a replacement
/// character would).
fn utf8_char(bytes: &[u8]) -> (usize, usize) {
    let b = bytes[0];
    let len = match b {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    };
    if len > bytes.len() || std::str::from_utf8(&bytes[..len]).is_err() {
        return (1, 1);
    }
    (len, if len == 4 { 2 } else { 1 })
}

/// UTF-16 code units of `bytes` (see [`utf8_char`] for invalid bytes).
pub fn utf16_len(bytes: &[u8]) -> usize {
    if bytes.is_ascii() {
        return bytes.len();
    }
    let (mut i, mut units) = (0, 0);
    while i < bytes.len() {
        let (l, u) = utf8_char(&bytes[i..]);
        i += l;
        units += u;
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn crlf_astral_and_clamping() {
        let text = "a😀b\r\nxyz\n\nlast".as_bytes();
        let ix = LineIndex::new(text);
        assert_eq!(ix.lines(), 4);
        assert_eq!(ix.line_range(text, 0), Some(0..6));
        assert_eq!(ix.offset(text, pos(0, 3), Encoding::Utf16), Ok(5));
        assert!(ix.offset(text, pos(0, 2), Encoding::Utf16).is_err());
        assert!(ix.offset(text, pos(0, 2), Encoding::Utf8).is_err());
        assert_eq!(ix.offset(text, pos(0, 5), Encoding::Utf8), Ok(5));
        // Past the end of the line: before `\r\n`.
        assert_eq!(ix.offset(text, pos(0, 99), Encoding::Utf16), Ok(6));
        assert_eq!(ix.offset(text, pos(1, 1), Encoding::Utf8), Ok(9));
        assert_eq!(ix.offset(text, pos(9, 0), Encoding::Utf8), Ok(text.len()));
        assert_eq!(ix.position(text, 5, Encoding::Utf16), pos(0, 3));
        assert_eq!(ix.position(text, 5, Encoding::Utf8), pos(0, 5));
        assert_eq!(ix.position(text, 12, Encoding::Utf8), pos(2, 0));
        assert_eq!(ix.point(9), tree_sitter::Point { row: 1, column: 1 });
    }

    #[test]
    fn splice_matches_a_fresh_index() {
        let mut text = b"one\ntwo\r\nthree\nfour".to_vec();
        let mut ix = LineIndex::new(&text);
        for (s, e, ins) in [
            (2usize, 6usize, &b"X\nY\nZ"[..]),
            (0, 0, b"\n"),
            (5, 9, b""),
            (3, 3, b"\r\n\r\n"),
        ] {
            text.splice(s..e, ins.iter().copied());
            ix.splice(s, e, ins);
            assert_eq!(ix, LineIndex::new(&text));
        }
    }
}
