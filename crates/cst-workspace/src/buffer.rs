//! Open buffers: the text an editor holds for a file, its version, its live
//! tree and its line index. A buffer shadows the file on disk for every
//! answer and is never written to the store as the file's content (see
//! `Workspace::close`).

use std::sync::Arc;

use cst::tree_sitter::{InputEdit, Point};
use cst::{Detached, grammars::Grammar};
use serde::Deserialize;

use crate::Error;
use crate::text::{Encoding, LineIndex, Position};

/// A range of a buffer's text, in lines and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Range {
    /// Where it starts.
    pub start: Position,
    /// Where it ends (exclusive).
    pub end: Position,
}

/// One change of a buffer's text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Change {
    /// Bytes `start_byte..old_end_byte` replaced by `text` (tree-sitter's
    /// `InputEdit`, with the new text instead of the new end).
    Bytes {
        /// The first byte replaced.
        start_byte: usize,
        /// The end of the replaced bytes.
        old_end_byte: usize,
        /// The new text.
        text: String,
    },
    /// A range in lines and columns (LSP's `TextDocumentContentChangeEvent`,
    /// columns in the request's encoding) replaced by `text`.
    Range {
        /// The range.
        range: Range,
        /// LSP's deprecated `rangeLength` (UTF-16 units), accepted and
        /// ignored: the range says it.
        #[serde(default, rename = "rangeLength")]
        range_length: Option<u64>,
        /// The new text.
        text: String,
    },
    /// The whole text replaced.
    Full {
        /// The new text.
        text: String,
    },
}

/// An open buffer.
#[derive(Debug)]
pub struct Buffer {
    /// The client's version (increasing), when it sends one.
    pub(crate) version: Option<i64>,
    pub(crate) tree: Detached,
    pub(crate) lines: LineIndex,
}

impl Buffer {
    pub(crate) fn new(tree: Detached, version: Option<i64>) -> Buffer {
        let lines = LineIndex::new(tree.source());
        Buffer {
            version,
            tree,
            lines,
        }
    }

    /// The current text.
    pub fn text(&self) -> &Arc<[u8]> {
        self.tree.source()
    }

    /// The client's version.
    pub fn version(&self) -> Option<i64> {
        self.version
    }

    /// The language.
    pub fn language(&self) -> &'static Grammar {
        self.tree.language()
    }

    /// The line index of the current text.
    pub fn lines(&self) -> &LineIndex {
        &self.lines
    }

    /// The detached tree.
    pub fn tree(&self) -> &Detached {
        &self.tree
    }

    /// Checks that `version` (when given) is newer than the buffer's.
    pub(crate) fn check_version(&self, version: Option<i64>) -> Result<(), Error> {
        if let (Some(have), Some(got)) = (self.version, version)
            && got <= have
        {
            return Err(Error::StaleVersion { have, got });
        }
        Ok(())
    }

    /// Applies `changes` in order (each against the text the previous one
    /// left) with one incremental reparse. All or nothing: a change that
    /// does not fit the text leaves the buffer as it was.
    pub(crate) fn apply(
        &mut self,
        changes: &[Change],
        encoding: Encoding,
        version: Option<i64>,
    ) -> Result<(), Error> {
        self.check_version(version)?;
        let mut text: Vec<u8> = self.text().to_vec();
        let mut lines = self.lines.clone();
        let edits = splice_changes(&mut text, &mut lines, changes, encoding)?;
        self.tree.edit(&edits, text)?;
        self.lines = lines;
        if version.is_some() {
            self.version = version;
        }
        Ok(())
    }

    /// Replaces the whole text (as one incremental edit of the part that
    /// differs).
    pub(crate) fn replace(&mut self, new: String, version: Option<i64>) -> Result<(), Error> {
        self.apply(&[Change::Full { text: new }], Encoding::Utf8, version)
    }
}

/// Applies `changes` in order to `text` (each against the text the
/// previous one left), keeping `lines` in step; the edits as tree-sitter
/// describes them. All or nothing for the caller: on an error `text` and
/// `lines` may be half-changed (callers work on copies).
fn splice_changes(
    text: &mut Vec<u8>,
    lines: &mut LineIndex,
    changes: &[Change],
    encoding: Encoding,
) -> Result<Vec<InputEdit>, Error> {
    let mut edits = Vec::with_capacity(changes.len());
    for change in changes {
        let (start, old_end, new) = match change {
            Change::Bytes {
                start_byte,
                old_end_byte,
                text: new,
            } => {
                if start_byte > old_end_byte || *old_end_byte > text.len() {
                    return Err(Error::BadEdit(format!(
                        "bytes {start_byte}..{old_end_byte} are not a range of the {} bytes of the text",
                        text.len()
                    )));
                }
                (*start_byte, *old_end_byte, new.as_str())
            }
            Change::Range {
                range, text: new, ..
            } => {
                let s = lines
                    .offset(text, range.start, encoding)
                    .map_err(Error::BadEdit)?;
                let e = lines
                    .offset(text, range.end, encoding)
                    .map_err(Error::BadEdit)?;
                if s > e {
                    return Err(Error::BadEdit(format!(
                        "the range ends ({}:{}) before it starts ({}:{})",
                        range.end.line,
                        range.end.character,
                        range.start.line,
                        range.start.character
                    )));
                }
                (s, e, new.as_str())
            }
            Change::Full { text: new } => {
                // The common prefix and suffix: a client that sends the
                // whole text per keystroke still gets an incremental
                // reparse.
                let (s, e) = differing_range(text, new.as_bytes());
                (s, e, &new[s..new.len() - (text.len() - e)])
            }
        };
        edits.push(input_edit(lines, start, old_end, new.as_bytes()));
        lines.splice(start, old_end, new.as_bytes());
        text.splice(start..old_end, new.bytes());
    }
    Ok(edits)
}

/// `text` with `changes` applied in order (each against the text the
/// previous one left), as an open buffer would apply them: for a client's
/// first changes to a document whose buffer is made only then.
pub fn apply_changes(
    text: &[u8],
    changes: &[Change],
    encoding: Encoding,
) -> Result<Vec<u8>, Error> {
    let mut text = text.to_vec();
    let mut lines = LineIndex::new(&text);
    splice_changes(&mut text, &mut lines, changes, encoding)?;
    Ok(text)
}

/// The bytes of `old` that `new` replaces, `start..old_end`, found as the
/// common prefix and suffix (not overlapping).
fn differing_range(old: &[u8], new: &[u8]) -> (usize, usize) {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    // Cut at a character boundary of `new` (the inserted part is text).
    let mut start = prefix;
    while start > 0 && !is_char_boundary(new, start) {
        start -= 1;
    }
    let mut new_end = new.len() - suffix;
    while new_end < new.len() && !is_char_boundary(new, new_end) {
        new_end += 1;
    }
    let old_end = old.len() - (new.len() - new_end);
    (start, old_end.max(start))
}

fn is_char_boundary(s: &[u8], i: usize) -> bool {
    i == 0 || i >= s.len() || s[i] & 0xC0 != 0x80
}

/// tree-sitter's description of replacing `start..old_end` (in the text
/// `lines` indexes) by `inserted`.
fn input_edit(lines: &LineIndex, start: usize, old_end: usize, inserted: &[u8]) -> InputEdit {
    let start_position = lines.point(start);
    let old_end_position = lines.point(old_end);
    let breaks = inserted.iter().filter(|&&b| b == b'\n').count();
    let new_end_position = if breaks == 0 {
        Point {
            row: start_position.row,
            column: start_position.column + inserted.len(),
        }
    } else {
        let last = inserted.iter().rposition(|&b| b == b'\n').expect("a break");
        Point {
            row: start_position.row + breaks,
            column: inserted.len() - last - 1,
        }
    };
    InputEdit {
        start_byte: start,
        old_end_byte: old_end,
        new_end_byte: start + inserted.len(),
        start_position,
        old_end_position,
        new_end_position,
    }
}

#[cfg(test)]
mod tests {
    use super::differing_range;

    #[test]
    fn differing_range_is_minimal_and_on_char_boundaries() {
        assert_eq!(differing_range(b"abc", b"abc"), (3, 3));
        assert_eq!(differing_range(b"abc", b"abXc"), (2, 2));
        assert_eq!(differing_range(b"aaa", b"aa"), (2, 3));
        assert_eq!(differing_range(b"", b"x"), (0, 0));
        // é (c3 a9) replaced by è (c3 a8): the whole character differs.
        let (s, e) = differing_range("é".as_bytes(), "è".as_bytes());
        assert_eq!((s, e), (0, 2));
    }
}
