//! Byte layout shared by the encoder and the reader. See docs/FORMAT.md.

use zerocopy::byteorder::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::DecodeError;

/// Magic bytes of a navigable tree.
pub const MAGIC: [u8; 4] = *b"CSTT";
/// Current format version. Any layout change bumps it (docs/FORMAT.md, version log).
pub const VERSION: u16 = 5;
/// First version that stores query facts (hidden nodes, node statuses).
pub const QUERY_FACTS_VERSION: u16 = 3;
/// Oldest version this reader reads.
pub const MIN_VERSION: u16 = 1;
/// Header size in bytes.
pub const HEADER_LEN: usize = 48;

/// Header flag: the body ends with an error-character table.
pub(crate) const HF_ERROR_CHARS: u16 = 1;
/// Header flag: the body ends with an S-expression override table.
pub(crate) const HF_SEXP_OVERRIDES: u16 = 1 << 1;
/// Header flag: the body ends with a range-query exception table.
pub(crate) const HF_RANGE_EXCEPTIONS: u16 = 1 << 2;
/// Header flag: the body ends with the query-facts tables (hidden nodes
/// and node-status overrides; version 3 on).
pub(crate) const HF_QUERY_FACTS: u16 = 1 << 3;
/// Node-status override: `can_have_later_siblings_with_this_field` is true.
pub(crate) const QF_LATER_FIELD: u8 = 1;
/// Node-status override: the status field id differs from the cursor's (a varint follows).
pub(crate) const QF_FIELD: u8 = 1 << 1;
/// Node-status override: the supertype list differs from the derived one (a list follows).
pub(crate) const QF_SUPERTYPES: u8 = 1 << 2;
/// Node-status override: `has_later_siblings` is the opposite of the derived value.
pub(crate) const QF_FLIP_LATER: u8 = 1 << 3;
/// Node-status override: `has_later_named_siblings` is the opposite of the derived value.
pub(crate) const QF_FLIP_LATER_NAMED: u8 = 1 << 4;
/// Node-status override: the query cursor sees the parent with another
/// kind (a varint follows; tree-sitter's `ts_tree_cursor_parent_node`
/// applies the production's alias to an extra parent too).
pub(crate) const QF_PARENT_KIND: u8 = 1 << 5;
/// Node-status override bits this version defines.
pub(crate) const QF_KNOWN: u8 = 0x3f;
/// Range-query exception: an empty-range query at the node's position
/// passes over it (tree-sitter skips a hidden node that ends there and holds
/// it).
pub(crate) const RANGE_SKIP: u8 = 0;
/// Range-query exception: an empty-range query at the node's start stops
/// before it (tree-sitter enters a hidden node there with nothing visible in
/// reach).
pub(crate) const RANGE_STOP: u8 = 1;
/// Error-character value of an ERROR leaf that tree-sitter prints as a
/// plain `(ERROR)`: it has children of hidden kinds with nothing visible in
/// them, so it is not an `(UNEXPECTED c)` leaf (−1 is taken: an invalid
/// UTF-8 sequence).
pub(crate) const NOT_UNEXPECTED: i32 = -2;
/// Header flags versions 1 to 3 define.
pub(crate) const HF_KNOWN: u16 =
    HF_ERROR_CHARS | HF_SEXP_OVERRIDES | HF_RANGE_EXCEPTIONS | HF_QUERY_FACTS;

/// Node-type flag: the node is named.
pub(crate) const TF_NAMED: u8 = 1;
/// Node-type flag: the node is an extra (comment and the like).
pub(crate) const TF_EXTRA: u8 = 1 << 1;
/// Node-type flag: the node is MISSING (inserted by error recovery, zero width).
pub(crate) const TF_MISSING: u8 = 1 << 2;
/// Node-type flag: the node is an ERROR node.
pub(crate) const TF_ERROR: u8 = 1 << 3;
/// Node-type flag: the node or a descendant is an error (`Node::has_error`).
pub(crate) const TF_HAS_ERROR: u8 = 1 << 4;
/// Node-type flag: every node of this type has the same byte length, stored once.
pub(crate) const TF_FIXED_LEN: u8 = 1 << 5;
/// Node-type flag: internal node whose range is stored, not derived from its children.
pub(crate) const TF_EXPLICIT_RANGE: u8 = 1 << 6;
/// Flags this version defines.
pub(crate) const TF_KNOWN: u8 = 0x7f;

/// Arity value meaning "child count follows as a varint".
pub(crate) const ARITY_ESCAPE: u8 = 15;

/// The fixed 48-byte header, little-endian.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Header {
    pub magic: [u8; 4],
    pub version: U16,
    pub flags: U16,
    pub fingerprint: [u8; 16],
    pub node_count: U32,
    pub source_len: U32,
    pub line_count: U32,
    pub palette_len: U32,
    pub body_len: U32,
    pub checksum: U32,
}

const _: () = assert!(size_of::<Header>() == HEADER_LEN);

impl Header {
    /// Reads the header of `bytes` and checks its magic, its version and
    /// the body length (not the checksum).
    pub(crate) fn parse_unchecked(bytes: &[u8]) -> Result<Header, DecodeError> {
        if bytes.len() < 4 || bytes[..4] != MAGIC {
            if bytes.len() < 4 && MAGIC.starts_with(bytes) {
                return Err(DecodeError::Truncated {
                    needed: HEADER_LEN,
                    available: bytes.len(),
                });
            }
            return Err(DecodeError::BadMagic);
        }
        let (header, body) =
            Header::read_from_prefix(bytes).map_err(|_| DecodeError::Truncated {
                needed: HEADER_LEN,
                available: bytes.len(),
            })?;
        let version = header.version.get();
        if !(MIN_VERSION..=VERSION).contains(&version) {
            return Err(DecodeError::UnsupportedVersion {
                found: version,
                supported: MIN_VERSION..=VERSION,
            });
        }
        let body_len = header.body_len.get() as usize;
        if body.len() < body_len {
            return Err(DecodeError::Truncated {
                needed: HEADER_LEN + body_len,
                available: bytes.len(),
            });
        }
        if body.len() > body_len {
            return Err(DecodeError::Corrupt {
                offset: HEADER_LEN + body_len,
                what: "trailing bytes after the body",
            });
        }
        Ok(header)
    }

    /// Checks the checksum of `bytes` (a tree whose header parsed).
    pub(crate) fn check_sum(bytes: &[u8]) -> Result<(), DecodeError> {
        if bytes.len() < HEADER_LEN {
            return Err(DecodeError::Truncated {
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        let expected = u32::from_le_bytes([bytes[44], bytes[45], bytes[46], bytes[47]]);
        let actual = checksum(&bytes[..HEADER_LEN - 4], &bytes[HEADER_LEN..]);
        if expected != actual {
            return Err(DecodeError::ChecksumMismatch { expected, actual });
        }
        Ok(())
    }
}

/// CRC-32C over the header (without its checksum field) and the body.
pub(crate) fn checksum(header_prefix: &[u8], body: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(header_prefix), body)
}

pub(crate) use crate::varint::unzigzag;

/// A bounds-checked reader over the body. Offsets in errors are absolute
/// (from the start of the encoded tree).
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], base: usize) -> Self {
        Reader {
            bytes,
            pos: 0,
            base,
        }
    }

    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::Corrupt {
            offset: self.offset(),
            what,
        })?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn bytes(
        &mut self,
        len: usize,
        what: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        let out = self
            .bytes
            .get(self.pos..self.pos + len)
            .ok_or(DecodeError::Corrupt {
                offset: self.offset(),
                what,
            })?;
        self.pos += len;
        Ok(out)
    }

    /// A LEB128 value of at most `max_bits` significant bits.
    #[inline]
    pub(crate) fn varint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        // Fast path: one byte.
        if let Some(&b) = self.bytes.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        let start = self.offset();
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = *self.bytes.get(self.pos).ok_or(DecodeError::Corrupt {
                offset: start,
                what,
            })?;
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(DecodeError::Corrupt {
                    offset: start,
                    what,
                });
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err(DecodeError::Corrupt {
                    offset: start,
                    what,
                });
            }
        }
    }

    /// A varint that must fit in a u32.
    #[inline]
    pub(crate) fn varint_u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let start = self.offset();
        let v = self.varint(what)?;
        u32::try_from(v).map_err(|_| DecodeError::Corrupt {
            offset: start,
            what,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overlong() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            crate::varint::put(&mut out, v);
            assert_eq!(Reader::new(&out, 0).varint("v").unwrap(), v);
        }
        assert!(Reader::new(&[0x80; 11], 0).varint("v").is_err());
        assert!(Reader::new(&[0xff; 9], 0).varint("v").is_err(), "truncated");
        let mut big = Vec::new();
        crate::varint::put(&mut big, u64::from(u32::MAX) + 1);
        assert!(Reader::new(&big, 0).varint_u32("v").is_err());
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -300] {
            assert_eq!(unzigzag(crate::varint::zigzag(v)), v);
        }
    }
}
