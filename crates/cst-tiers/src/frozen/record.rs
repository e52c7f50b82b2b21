//! Records (docs/FORMAT.md, "Frozen store", "Record"): the unit every
//! segment holds, a 28-byte header, the key and the value, CRC-32C checked.

use super::{MAX_KEY_LEN, MAX_VALUE_LEN, STORE_VERSION};

pub(super) const RECORD_MAGIC: [u8; 4] = *b"CSTR";
pub(super) const RECORD_HEADER_LEN: usize = 28;
pub(super) const KIND_PUT: u8 = 1;
pub(super) const KIND_DELETE: u8 = 2;

/// A record header, little-endian:
/// magic[4] version u16 kind u8 reserved u8 key_len u32 value_len u32 seq u64 checksum u32.
pub(super) struct RecordHeader {
    pub(super) kind: u8,
    pub(super) key_len: usize,
    pub(super) value_len: usize,
    pub(super) seq: u64,
    pub(super) checksum: u32,
}

pub(super) fn encode_record(kind: u8, key: &[u8], value: &[u8], seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(RECORD_HEADER_LEN + key.len() + value.len());
    out.extend_from_slice(&RECORD_MAGIC);
    out.extend_from_slice(&STORE_VERSION.to_le_bytes());
    out.push(kind);
    out.push(0);
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    let sum = record_checksum(&out, key, value);
    out.extend_from_slice(&sum.to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(value);
    out
}

fn record_checksum(header_prefix: &[u8], key: &[u8], value: &[u8]) -> u32 {
    let c = crc32c::crc32c(header_prefix);
    let c = crc32c::crc32c_append(c, key);
    crc32c::crc32c_append(c, value)
}

fn parse_record_header(b: &[u8]) -> Result<RecordHeader, &'static str> {
    if b.len() < RECORD_HEADER_LEN {
        return Err("truncated record header");
    }
    if b[..4] != RECORD_MAGIC {
        return Err("bad record magic");
    }
    if u16::from_le_bytes([b[4], b[5]]) != STORE_VERSION {
        return Err("unsupported record version");
    }
    let kind = b[6];
    if !(kind == KIND_PUT || kind == KIND_DELETE) || b[7] != 0 {
        return Err("bad record kind");
    }
    let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let key_len = u32_at(8) as usize;
    let value_len = u32_at(12) as usize;
    if key_len == 0 || key_len > MAX_KEY_LEN || value_len > MAX_VALUE_LEN {
        return Err("bad record length");
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&b[16..24]);
    Ok(RecordHeader {
        kind,
        key_len,
        value_len,
        seq: u64::from_le_bytes(seq),
        checksum: u32_at(24),
    })
}

/// Validates the record at `offset` of `data`; returns its header and key/value ranges.
pub(super) fn check_record(
    data: &[u8],
    offset: usize,
) -> Result<(RecordHeader, usize, usize), &'static str> {
    let h = parse_record_header(data.get(offset..).ok_or("offset past end")?)?;
    let key_start = offset + RECORD_HEADER_LEN;
    let value_start = key_start + h.key_len;
    let end = value_start + h.value_len;
    if end > data.len() {
        return Err("record runs past the end of the segment");
    }
    let sum = record_checksum(
        &data[offset..offset + 24],
        &data[key_start..value_start],
        &data[value_start..end],
    );
    if sum != h.checksum {
        return Err("record checksum mismatch");
    }
    Ok((h, key_start, value_start))
}

/// The offset of the next intact record at or after `from`.
pub(super) fn next_valid_record(data: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = data.get(at..)?.windows(4).position(|w| w == RECORD_MAGIC) {
        if check_record(data, at + i).is_ok() {
            return Some(at + i);
        }
        at += i + 1;
    }
    None
}
