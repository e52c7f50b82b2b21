//! A compact, checked byte form of a file's tags, so a cache can keep them
//! beside the tree and answer `tags` again without running the query.
//!
//! Layout (all integers LEB128 varints unless said otherwise):
//!
//! | field | bytes |
//! |---|---|
//! | magic `CSTG` | 4 |
//! | version (u8, 1) | 1 |
//! | tag count | varint |
//! | per tag, in order: flags (bit 0 definition, bit 1 has docs) | 1 |
//! | syntax type id | varint |
//! | name start, as a delta from the previous tag's name start (zig-zag) | varint |
//! | name length | varint |
//! | range start below name start, range end past name end | 2 varints |
//! | line start below name start, line length | 2 varints |
//! | span: start row, start column, end row delta, end column | 4 varints |
//! | UTF-16 start column, length | 2 varints |
//! | docs length and UTF-8 bytes (if flagged) | varint + n |
//!
//! Decoding checks every range against the source length and every syntax
//! type against the configuration's, and rejects trailing bytes: damaged
//! bytes give an error (the caller computes the tags again), never a tag
//! pointing outside the source.

use std::ops::Range;

use cst_bytecode::Point;
use cst_bytecode::varint::{put, unzigzag, zigzag};

use crate::Tag;

const MAGIC: &[u8; 4] = b"CSTG";
const VERSION: u8 = 1;

/// Why stored tags could not be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("stored tags are damaged: {0}")]
pub struct RecordError(&'static str);

/// The tags in the record form.
pub fn encode_tags(tags: &[Tag]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + tags.len() * 16);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    put(&mut out, tags.len() as u64);
    let mut prev = 0i64;
    for t in tags {
        let flags = u8::from(t.is_definition) | (u8::from(t.docs.is_some()) << 1);
        out.push(flags);
        put(&mut out, u64::from(t.syntax_type_id));
        let start = t.name_range.start as i64;
        put(&mut out, zigzag(start - prev));
        prev = start;
        put(&mut out, (t.name_range.end - t.name_range.start) as u64);
        put(&mut out, (t.name_range.start - t.range.start) as u64);
        put(&mut out, (t.range.end - t.name_range.end) as u64);
        put(
            &mut out,
            zigzag(t.name_range.start as i64 - t.line_range.start as i64),
        );
        put(&mut out, (t.line_range.end - t.line_range.start) as u64);
        put(&mut out, t.span.start.row as u64);
        put(&mut out, t.span.start.column as u64);
        put(&mut out, (t.span.end.row - t.span.start.row) as u64);
        put(&mut out, t.span.end.column as u64);
        put(&mut out, t.utf16_column_range.start as u64);
        put(
            &mut out,
            (t.utf16_column_range.end - t.utf16_column_range.start) as u64,
        );
        if let Some(d) = &t.docs {
            put(&mut out, d.len() as u64);
            out.extend_from_slice(d.as_bytes());
        }
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, RecordError> {
        let b = *self.bytes.get(self.pos).ok_or(RecordError("truncated"))?;
        self.pos += 1;
        Ok(b)
    }
    fn varint(&mut self) -> Result<u64, RecordError> {
        cst_bytecode::varint::get(self.bytes, &mut self.pos)
            .ok_or(RecordError("truncated or overlong varint"))
    }
    fn usize(&mut self) -> Result<usize, RecordError> {
        usize::try_from(self.varint()?).map_err(|_| RecordError("number too large"))
    }
}

/// Reads tags written by [`encode_tags`] for a source of `source_len`
/// bytes and a configuration with `syntax_types` syntax types.
pub fn decode_tags(
    bytes: &[u8],
    source_len: usize,
    syntax_types: usize,
) -> Result<Vec<Tag>, RecordError> {
    if bytes.len() < 5 || &bytes[..4] != MAGIC {
        return Err(RecordError("bad magic"));
    }
    if bytes[4] != VERSION {
        return Err(RecordError("unknown version"));
    }
    let mut r = Reader { bytes, pos: 5 };
    let count = r.usize()?;
    // Each tag takes at least 14 bytes: a count beyond that is damage.
    if count > bytes.len() / 14 + 1 {
        return Err(RecordError("tag count exceeds the record"));
    }
    let mut tags = Vec::with_capacity(count);
    let mut prev = 0i64;
    let within = |r: &Range<usize>| r.start <= r.end && r.end <= source_len;
    for _ in 0..count {
        let flags = r.byte()?;
        if flags & !3 != 0 {
            return Err(RecordError("unknown flags"));
        }
        let syntax_type_id = u32::try_from(r.varint()?).map_err(|_| RecordError("syntax type"))?;
        if syntax_type_id as usize >= syntax_types {
            return Err(RecordError("syntax type out of range"));
        }
        let start = prev
            .checked_add(unzigzag(r.varint()?))
            .filter(|s| *s >= 0)
            .ok_or(RecordError("name start"))?;
        prev = start;
        let start = start as usize;
        let name_range = start..start.checked_add(r.usize()?).ok_or(RecordError("name"))?;
        let before = r.usize()?;
        let after = r.usize()?;
        let range = start.checked_sub(before).ok_or(RecordError("range"))?
            ..name_range
                .end
                .checked_add(after)
                .ok_or(RecordError("range"))?;
        let line_start = (start as i64)
            .checked_sub(unzigzag(r.varint()?))
            .filter(|s| *s >= 0)
            .ok_or(RecordError("line"))? as usize;
        let line_range = line_start
            ..line_start
                .checked_add(r.usize()?)
                .ok_or(RecordError("line"))?;
        let span_start = Point {
            row: r.usize()?,
            column: r.usize()?,
        };
        let span_end = Point {
            row: span_start
                .row
                .checked_add(r.usize()?)
                .ok_or(RecordError("span"))?,
            column: r.usize()?,
        };
        let u16_start = r.usize()?;
        let utf16_column_range = u16_start
            ..u16_start
                .checked_add(r.usize()?)
                .ok_or(RecordError("utf16"))?;
        let docs = if flags & 2 != 0 {
            let n = r.usize()?;
            let end = r.pos.checked_add(n).ok_or(RecordError("docs"))?;
            let text = bytes.get(r.pos..end).ok_or(RecordError("truncated docs"))?;
            r.pos = end;
            Some(
                std::str::from_utf8(text)
                    .map_err(|_| RecordError("docs are not UTF-8"))?
                    .to_string(),
            )
        } else {
            None
        };
        if !within(&name_range) || !within(&range) || !within(&line_range) {
            return Err(RecordError("range outside the source"));
        }
        // Rows and columns cannot exceed the source's length either.
        let bounded = |p: &Point| p.row <= source_len && p.column <= source_len;
        if !bounded(&span_start) || !bounded(&span_end) || utf16_column_range.end > source_len {
            return Err(RecordError("span outside the source"));
        }
        tags.push(Tag {
            range,
            name_range,
            line_range,
            span: span_start..span_end,
            utf16_column_range,
            docs,
            is_definition: flags & 1 != 0,
            syntax_type_id,
        });
    }
    if r.pos != bytes.len() {
        return Err(RecordError("trailing bytes"));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: Range<usize>, docs: Option<&str>) -> Tag {
        Tag {
            range: name.start.saturating_sub(3)..name.end + 5,
            name_range: name.clone(),
            line_range: name.start.saturating_sub(3)..name.end + 1,
            span: Point { row: 2, column: 4 }..Point { row: 2, column: 9 },
            utf16_column_range: 4..9,
            docs: docs.map(str::to_string),
            is_definition: docs.is_some(),
            syntax_type_id: 1,
        }
    }

    #[test]
    fn round_trip_and_every_truncation_or_flip_is_caught_or_in_bounds() {
        let tags = vec![
            tag(10..15, Some("Docs ❤")),
            tag(4..8, None),
            tag(40..41, None),
        ];
        let bytes = encode_tags(&tags);
        assert_eq!(decode_tags(&bytes, 100, 2), Ok(tags.clone()));
        for n in 0..bytes.len() {
            assert!(
                decode_tags(&bytes[..n], 100, 2).is_err(),
                "truncated to {n}"
            );
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                if let Ok(decoded) = decode_tags(&b, 100, 2) {
                    for t in decoded {
                        assert!(
                            t.range.end <= 100
                                && t.name_range.end <= 100
                                && t.line_range.end <= 100
                        );
                        assert!(t.syntax_type_id < 2);
                    }
                }
            }
        }
        assert!(decode_tags(&bytes, 30, 2).is_err(), "source too short");
        assert!(
            decode_tags(&bytes, 100, 1).is_err(),
            "syntax type out of range"
        );
        assert_eq!(decode_tags(&encode_tags(&[]), 0, 0), Ok(vec![]));
    }
}
