//! The packed form (`CSTK`) of a version-4 or version-5 tree: the same tree,
//! byte-aligned for a compressor, for storage on disk (docs/FORMAT.md,
//! "Packed tree").
//!
//! Versions 4 and 5 are laid out to be read in place: Elias–Fano positions
//! and bit-packed parentheses that a compressor cannot shrink much. The packed
//! form keeps every section that compresses well as it is and replaces the
//! others by what they are built from:
//! - the parentheses, the type bytes and the event positions (sections 1, 3
//!   and 7) become one stream, per event in order: a varint of the zig-zag
//!   delta from the previous event's byte, shifted left once, with bit 0 set
//!   for an open, and after an open its type byte — so a type and its
//!   token's length sit side by side, where a dictionary learns them;
//! - the directories over the parentheses (sections 4, 5, 6) are dropped:
//!   they are computed again;
//! - the line starts (section 8) become zig-zag delta varints.
//!
//! [`unpack`] rebuilds the tree's bytes with the writer's own functions (the
//! sequences in the kinds of the header's version) and checks them against
//! the header's checksum, which the packed form keeps verbatim: the result
//! is the original, byte for byte, or an error. [`pack`] refuses a tree
//! whose sequences would not be rebuilt as they are.

use crate::DecodeError;
use crate::format::{HEADER_LEN, Header, checksum};
use crate::layout::{EVENTS_STYLE, LINES_STYLE, SECTIONS, TABLE_LEN, V4, V5, sec};
use crate::succinct::{Seq, SeqStyle, build_bp_dirs, build_ranks, write_seq};
use crate::varint::{get, put, unzigzag, zigzag};

/// Magic bytes of a packed tree.
pub const PACKED_MAGIC: [u8; 4] = *b"CSTK";
/// Version of the packed form.
pub const PACKED_VERSION: u8 = 1;

/// Sections the packed form does not keep as they are.
fn derived(s: usize) -> bool {
    matches!(
        s,
        sec::TYPES
            | sec::BP
            | sec::BP_RANKS
            | sec::BP_WORD_MINS
            | sec::BP_TREE
            | sec::EVENTS
            | sec::LINES
    )
}

fn corrupt(what: &'static str) -> DecodeError {
    DecodeError::Corrupt { offset: 0, what }
}

/// The sections of a version-4 or version-5 tree (header checked,
/// checksum not).
fn sections(bytes: &[u8]) -> Result<(Header, Vec<&[u8]>), DecodeError> {
    let header = Header::parse_unchecked(bytes)?;
    if !(V4..=V5).contains(&header.version.get()) {
        return Err(DecodeError::UnsupportedVersion {
            found: header.version.get(),
            supported: V4..=V5,
        });
    }
    let body = bytes.get(HEADER_LEN..).ok_or(DecodeError::Truncated {
        needed: HEADER_LEN,
        available: bytes.len(),
    })?;
    if body.len() != header.body_len.get() as usize || body.len() < TABLE_LEN {
        return Err(corrupt("body length"));
    }
    let mut at = TABLE_LEN;
    let mut out = Vec::with_capacity(SECTIONS);
    for s in 0..SECTIONS {
        let len = u32::from_le_bytes(body[s * 4..s * 4 + 4].try_into().expect("4 bytes")) as usize;
        let part = body.get(at..at + len).ok_or(corrupt("section length"))?;
        out.push(part);
        at += len;
    }
    if at != body.len() {
        return Err(corrupt("section lengths"));
    }
    Ok((header, out))
}

/// The packed form of a version-4 or version-5 tree (`CSTT` bytes, as
/// `encode` writes). A tree whose positions or line starts are not laid out
/// as its version's writer lays them out is refused (`Corrupt`): its packed
/// form would not unpack.
pub fn pack(tree: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let (header, parts) = sections(tree)?;
    let n = header.node_count.get() as usize;
    let len = 2 * n;
    let types = parts[sec::TYPES];
    let bp = parts[sec::BP];
    if types.len() != n || bp.len() != len.div_ceil(64) * 8 {
        return Err(corrupt("shape or types length"));
    }
    let events = Seq::parse(parts[sec::EVENTS], len).ok_or(corrupt("positions"))?;
    let line_count = header.line_count.get() as usize;
    let lines = Seq::parse(parts[sec::LINES], line_count).ok_or(corrupt("lines"))?;
    let events: Vec<u32> = events.iter_from(0).take(len).collect();
    let lines: Vec<u32> = lines.iter_from(0).take(line_count).collect();
    // The packed form keeps the sequences' values, not their layout:
    // `unpack` lays them out as this version's writer does. A tree whose
    // sequences are laid out otherwise (readable, but not what the writer
    // makes: the kinds are a writer's choice) would unpack to a checksum
    // mismatch, so it is refused here rather than stored.
    let (events_style, lines_style) = styles(header.version.get());
    let mut canonical = Vec::with_capacity(parts[sec::EVENTS].len());
    write_seq(&mut canonical, &events, events_style);
    if canonical != parts[sec::EVENTS] {
        return Err(corrupt(
            "positions not laid out as the writer lays them out",
        ));
    }
    canonical.clear();
    write_seq(&mut canonical, &lines, lines_style);
    if canonical != parts[sec::LINES] {
        return Err(corrupt(
            "line starts not laid out as the writer lays them out",
        ));
    }

    let mut out = Vec::with_capacity(tree.len() / 2);
    out.extend_from_slice(&PACKED_MAGIC);
    out.push(PACKED_VERSION);
    out.extend_from_slice(&tree[..HEADER_LEN]);
    // The kept sections, length-prefixed.
    for (s, part) in parts.iter().enumerate() {
        if !derived(s) {
            put(&mut out, part.len() as u64);
            out.extend_from_slice(part);
        }
    }
    // Lines.
    let mut prev = 0i64;
    for &v in &lines {
        let v = i64::from(v);
        put(&mut out, zigzag(v - prev));
        prev = v;
    }
    // Events with their shape bits and, after each open, its type byte.
    let (mut prev, mut node) = (0i64, 0usize);
    for (p, &v) in events.iter().enumerate() {
        let open = bp[p / 8] >> (p % 8) & 1 == 1;
        let v = i64::from(v);
        put(&mut out, zigzag(v - prev) << 1 | u64::from(open));
        prev = v;
        if open {
            out.push(*types.get(node).ok_or(corrupt("more opens than nodes"))?);
            node += 1;
        }
    }
    if node != n {
        return Err(corrupt("fewer opens than nodes"));
    }
    Ok(out)
}

/// How the writer of `version` (4 or 5) lays out the positions and the
/// line starts.
fn styles(version: u16) -> (SeqStyle, SeqStyle) {
    if version == V4 {
        (SeqStyle::V4, SeqStyle::V4)
    } else {
        (EVENTS_STYLE, LINES_STYLE)
    }
}

/// Whether `bytes` are a packed tree.
pub fn is_packed(bytes: &[u8]) -> bool {
    bytes.starts_with(&PACKED_MAGIC)
}

/// The tree a packed form was made from, checked against its checksum.
pub fn unpack(packed: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if !is_packed(packed) {
        return Err(DecodeError::BadMagic);
    }
    let rest = packed.get(5..).ok_or(DecodeError::Truncated {
        needed: 5,
        available: packed.len(),
    })?;
    if packed[4] != PACKED_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            found: u16::from(packed[4]),
            supported: 1..=1,
        });
    }
    let header_bytes = rest.get(..HEADER_LEN).ok_or(DecodeError::Truncated {
        needed: 5 + HEADER_LEN,
        available: packed.len(),
    })?;
    use zerocopy::FromBytes;
    let header = Header::read_from_bytes(header_bytes).map_err(|_| corrupt("header"))?;
    let version = header.version.get();
    if header.magic != crate::format::MAGIC || !(V4..=V5).contains(&version) {
        return Err(corrupt("packed header"));
    }
    let n = header.node_count.get() as usize;
    let len = 2 * n;
    let line_count = header.line_count.get() as usize;
    let body_len = header.body_len.get() as usize;
    let data = &rest[HEADER_LEN..];
    // Every node takes at least two bytes of the stream: no count can make
    // this allocate much more than its input.
    if len > data.len() || line_count > data.len() || body_len > 64 * data.len() + 4096 {
        return Err(corrupt("counts larger than the input"));
    }
    let mut at = 0usize;
    let mut parts: Vec<Vec<u8>> = vec![Vec::new(); SECTIONS];
    for (s, part) in parts.iter_mut().enumerate() {
        if derived(s) {
            continue;
        }
        let l = get(data, &mut at).ok_or(corrupt("section length"))? as usize;
        let bytes = data
            .get(at..at.saturating_add(l))
            .ok_or(corrupt("section"))?;
        part.extend_from_slice(bytes);
        at += l;
    }
    let value = |d: u64, prev: i64| -> Result<u32, DecodeError> {
        prev.checked_add(unzigzag(d))
            .and_then(|v| u32::try_from(v).ok())
            .ok_or(corrupt("position"))
    };
    let mut lines = Vec::with_capacity(line_count);
    let mut prev = 0i64;
    for _ in 0..line_count {
        let v = value(get(data, &mut at).ok_or(corrupt("lines"))?, prev)?;
        lines.push(v);
        prev = i64::from(v);
    }
    let mut words = vec![0u64; len.div_ceil(64)];
    let mut events = Vec::with_capacity(len);
    let mut types = Vec::with_capacity(n);
    let mut prev = 0i64;
    for p in 0..len {
        let t = get(data, &mut at).ok_or(corrupt("events"))?;
        let v = value(t >> 1, prev)?;
        events.push(v);
        prev = i64::from(v);
        if t & 1 == 1 {
            words[p / 64] |= 1 << (p % 64);
            types.push(*data.get(at).ok_or(corrupt("type"))?);
            at += 1;
        }
    }
    if at != data.len() || types.len() != n {
        return Err(corrupt("stream length"));
    }
    let ranks = build_ranks(&words, len);
    let (mins, tree, _) = build_bp_dirs(&words, len);
    parts[sec::TYPES] = types;
    parts[sec::BP] = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    parts[sec::BP_RANKS] = ranks.iter().flat_map(|w| w.to_le_bytes()).collect();
    parts[sec::BP_WORD_MINS] = mins.iter().map(|&m| m as u8).collect();
    parts[sec::BP_TREE] = tree.iter().flat_map(|w| w.to_le_bytes()).collect();
    let (events_style, lines_style) = styles(version);
    write_seq(&mut parts[sec::EVENTS], &events, events_style);
    write_seq(&mut parts[sec::LINES], &lines, lines_style);
    if TABLE_LEN + parts.iter().map(Vec::len).sum::<usize>() != body_len {
        return Err(corrupt("body length"));
    }
    let mut body = Vec::with_capacity(body_len);
    for p in &parts {
        body.extend_from_slice(&(p.len() as u32).to_le_bytes());
    }
    for p in &parts {
        body.extend_from_slice(p);
    }
    let expected = header.checksum.get();
    let actual = checksum(&header_bytes[..HEADER_LEN - 4], &body);
    if body.len() != body_len || expected != actual {
        return Err(DecodeError::ChecksumMismatch { expected, actual });
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(header_bytes);
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tree` with section `s` replaced by `part` (the table and the body
    /// length updated, the checksum left as it was: `pack` does not read
    /// it).
    fn with_section(tree: &[u8], s: usize, part: &[u8]) -> Vec<u8> {
        let (_, parts) = sections(tree).unwrap();
        let parts: Vec<&[u8]> = (0..SECTIONS)
            .map(|i| if i == s { part } else { parts[i] })
            .collect();
        let mut body = Vec::new();
        for p in &parts {
            body.extend_from_slice(&(p.len() as u32).to_le_bytes());
        }
        for p in &parts {
            body.extend_from_slice(p);
        }
        let mut out = tree[..HEADER_LEN].to_vec();
        out[40..44].copy_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn sequences_laid_out_otherwise_are_refused() {
        for (tree, own, other) in [
            (
                &include_bytes!("../tests/golden/v5/rust.cst")[..],
                EVENTS_STYLE,
                SeqStyle::V4,
            ),
            (
                &include_bytes!("../tests/golden/v4/rust.cst")[..],
                SeqStyle::V4,
                EVENTS_STYLE,
            ),
        ] {
            assert_eq!(unpack(&pack(tree).unwrap()).unwrap(), tree);
            let (header, parts) = sections(tree).unwrap();
            let len = 2 * header.node_count.get() as usize;
            let values: Vec<u32> = Seq::parse(parts[sec::EVENTS], len)
                .unwrap()
                .iter_from(0)
                .collect();
            let mut same = Vec::new();
            write_seq(&mut same, &values, own);
            assert_eq!(same, parts[sec::EVENTS]);
            // The same values in the other version's kind: readable, but
            // not what this version's writer makes.
            let mut relaid = Vec::new();
            write_seq(&mut relaid, &values, other);
            assert_ne!(relaid, parts[sec::EVENTS]);
            let changed = with_section(tree, sec::EVENTS, &relaid);
            assert!(Seq::parse(&relaid, len).is_some());
            assert!(matches!(
                pack(&changed),
                Err(DecodeError::Corrupt { what, .. }) if what.starts_with("positions")
            ));
        }
    }
}
