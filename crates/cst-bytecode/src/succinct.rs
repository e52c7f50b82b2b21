//! Succinct structures read where they lie (format versions 4 and 5,
//! docs/FORMAT.md "Navigable tree"): a bit vector with a rank directory,
//! balanced parentheses with min-excess directories, and Elias–Fano
//! sequences.
//!
//! Every reader here works on borrowed little-endian bytes and is total: a
//! read past a section reads zeros, every search is bounded by the
//! directory's height and a block's width, and a structure that contradicts
//! itself (possible only in bytes whose checksum was not checked) gives a
//! wrong but bounded answer or `None`, never a panic or an unbounded loop.

/// Bits per rank block (8 words).
pub(crate) const BLOCK_BITS: usize = 512;
const BLOCK_WORDS: usize = BLOCK_BITS / 64;
/// Ones per select sample of an Elias–Fano upper-bits vector.
pub(crate) const SELECT_STRIDE: usize = 64;
/// Select samples per wide sample of a two-level directory (sequence kinds
/// 2 and 3): a u32 every 512th one, a u16 offset from it every 64th.
const PER_WIDE: usize = 8;

#[inline]
pub(crate) fn u64_at(b: &[u8], word: usize) -> u64 {
    match b.get(word.wrapping_mul(8)..word.wrapping_mul(8).wrapping_add(8)) {
        Some(s) => u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        None => 0,
    }
}

#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.wrapping_add(4)) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

#[inline]
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    match b.get(at..at.wrapping_add(2)) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

#[inline]
pub(crate) fn i32_at(b: &[u8], at: usize) -> i32 {
    u32_at(b, at) as i32
}

/// The `r`th set bit of `w` (0-based) as `Ok(position)`, or `Err(ones)`
/// with the number of set bits of `w` when it has `r` or fewer: one
/// select-or-count for a scan over words, where `count_ones` (a software
/// popcount on the baseline x86-64 target) and a select would count the
/// bytes twice. Broadword: byte popcounts, their prefix sums by one
/// multiplication, the byte holding the bit by a parallel comparison, then
/// a table.
#[inline]
fn select_or_count(w: u64, r: u32) -> Result<u32, u32> {
    const L8: u64 = 0x0101_0101_0101_0101;
    const H8: u64 = 0x8080_8080_8080_8080;
    let mut s = w - ((w >> 1) & 0x5555_5555_5555_5555);
    s = (s & 0x3333_3333_3333_3333) + ((s >> 2) & 0x3333_3333_3333_3333);
    s = (s + (s >> 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // Byte i: ones in bytes 0..=i (byte 7: all of them).
    let prefix = s.wrapping_mul(L8);
    let ones = (prefix >> 56) as u32;
    if r >= ones {
        return Err(ones);
    }
    // Bytes whose prefix is ≤ r: the byte holding the bit is the first other.
    let le = (((u64::from(r) * L8) | H8) - prefix) & H8;
    // One bit per byte of `le`: their count by a multiplication (no popcount).
    let byte = ((le >> 7).wrapping_mul(L8) >> 56) as u32;
    let before = if byte == 0 {
        0
    } else {
        ((prefix >> (8 * (byte - 1))) & 0xff) as u32
    };
    let b = ((w >> (8 * byte)) & 0xff) as usize;
    Ok(byte * 8 + u32::from(SELECT_IN_BYTE[b * 8 + (r - before) as usize]))
}

/// Position of the `r`th set bit of `w` (0-based); 64 if there is none.
#[inline]
fn select_in_word(w: u64, r: u32) -> u32 {
    select_or_count(w, r).unwrap_or(64)
}

/// `SELECT_IN_BYTE[b * 8 + k]`: position of the `k`th set bit of byte `b`.
static SELECT_IN_BYTE: [u8; 2048] = select_table();

const fn select_table() -> [u8; 2048] {
    let mut t = [8u8; 2048];
    let mut b = 0;
    while b < 256 {
        let (mut k, mut j) = (0, 0);
        while j < 8 {
            if (b >> j) & 1 != 0 {
                t[b * 8 + k] = j as u8;
                k += 1;
            }
            j += 1;
        }
        b += 1;
    }
    t
}

/// A bit vector (LSB first in little-endian words) with a rank directory:
/// one u32 per 512-bit block, the ones before it, plus the total.
#[derive(Clone, Copy)]
pub(crate) struct RankBits<'a> {
    pub words: &'a [u8],
    pub ranks: &'a [u8],
    pub len: usize,
}

impl RankBits<'_> {
    #[inline]
    pub fn word(&self, w: usize) -> u64 {
        u64_at(self.words, w)
    }
    /// The first set bit at or after `from` (the next open of a tree
    /// shape), if any.
    #[inline]
    pub fn next_one(&self, from: usize) -> Option<usize> {
        let words = self.len.div_ceil(64);
        let mut w = from / 64;
        let mut x = self.word(w) & (!0u64 << (from % 64));
        while x == 0 {
            w += 1;
            if w >= words {
                return None;
            }
            x = self.word(w);
        }
        Some(w * 64 + x.trailing_zeros() as usize)
    }
    #[inline]
    pub fn bit(&self, p: usize) -> bool {
        p < self.len && (self.word(p / 64) >> (p % 64)) & 1 != 0
    }
    fn blocks(&self) -> usize {
        self.len.div_ceil(BLOCK_BITS)
    }
    /// Ones in bits `0..p` (`p` clamped to the length).
    #[inline]
    pub fn rank1(&self, p: usize) -> usize {
        let p = p.min(self.len);
        let b = p / BLOCK_BITS;
        let mut r = u32_at(self.ranks, b * 4) as usize;
        let w = p / 64;
        for k in b * BLOCK_WORDS..w {
            r += self.word(k).count_ones() as usize;
        }
        if !p.is_multiple_of(64) {
            r += (self.word(w) & ((1u64 << (p % 64)) - 1)).count_ones() as usize;
        }
        r
    }
    /// Position of the `k`th one (0-based).
    pub fn select1(&self, k: usize) -> Option<usize> {
        let blocks = self.blocks();
        if blocks == 0 {
            return None;
        }
        // The last block whose rank is ≤ k.
        let (mut lo, mut hi) = (0usize, blocks);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if u32_at(self.ranks, mid * 4) as usize <= k {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let mut r = k.checked_sub(u32_at(self.ranks, lo * 4) as usize)?;
        for w in lo * BLOCK_WORDS..(lo + 1) * BLOCK_WORDS {
            let x = self.word(w);
            let c = x.count_ones() as usize;
            if r < c {
                let p = w * 64 + select_in_word(x, r as u32) as usize;
                return (p < self.len).then_some(p);
            }
            r -= c;
        }
        None
    }
}

/// Builds the rank directory of `words` (`len` bits).
pub(crate) fn build_ranks(words: &[u64], len: usize) -> Vec<u32> {
    let blocks = len.div_ceil(BLOCK_BITS);
    let mut out = Vec::with_capacity(blocks + 1);
    let mut r = 0u32;
    for b in 0..blocks {
        out.push(r);
        for w in words.iter().skip(b * BLOCK_WORDS).take(BLOCK_WORDS) {
            r += w.count_ones();
        }
    }
    out.push(r);
    out
}

/// Per byte value: the minimum prefix excess over its 1..=8 bits (LSB
/// first, +1 for a set bit, −1 for a clear one) and the total excess.
pub(crate) const BYTE_MIN: [i8; 256] = byte_tables().0;
pub(crate) const BYTE_EXCESS: [i8; 256] = byte_tables().1;

const fn byte_tables() -> ([i8; 256], [i8; 256]) {
    let mut min = [0i8; 256];
    let mut exc = [0i8; 256];
    let mut v = 0;
    while v < 256 {
        let mut e = 0i8;
        let mut m = i8::MAX;
        let mut j = 0;
        while j < 8 {
            e += if (v >> j) & 1 != 0 { 1 } else { -1 };
            if e < m {
                m = e;
            }
            j += 1;
        }
        min[v] = m;
        exc[v] = e;
        v += 1;
    }
    (min, exc)
}

/// `FIRST_BELOW[byte][r]`: the first bit `j` of `byte` after which `r`
/// plus the excess of bits `0..=j` is below zero (8 if none), for `r` in
/// `0..8`: where in a byte a forward search that reaches its target there
/// stops (`r + BYTE_MIN[byte] ≤ −1`).
static FIRST_BELOW: [[u8; 8]; 256] = first_below_table();

const fn first_below_table() -> [[u8; 8]; 256] {
    let mut t = [[8u8; 8]; 256];
    let mut v = 0;
    while v < 256 {
        let mut r = 0;
        while r < 8 {
            let mut e = r as i32;
            let mut j = 0;
            while j < 8 {
                e += if (v >> j) & 1 != 0 { 1 } else { -1 };
                if e <= -1 {
                    t[v][r] = j as u8;
                    break;
                }
                j += 1;
            }
            r += 1;
        }
        v += 1;
    }
    t
}

/// In word `x` from bit `from`, the first bit `j` after which the excess,
/// counted from `e` before bit `from`, is at most `t`; else the excess at
/// the word's end. Needs `e > t`: the bits before `from` are read as
/// closes from `e + from`, which stay above `t`.
#[inline]
pub(crate) fn word_fwd(x: u64, from: usize, e: i64, t: i64) -> Result<usize, i64> {
    let x = x & (!0u64 << (from % 64));
    let mut e = e + (from % 64) as i64;
    for k in 0..8 {
        let byte = ((x >> (8 * k)) & 0xff) as usize;
        if e + i64::from(BYTE_MIN[byte]) <= t {
            // 0 ≤ e − t − 1 < 8, as BYTE_MIN ≥ −8.
            let r = ((e - t - 1) as usize).min(7);
            return Ok(8 * k + usize::from(FIRST_BELOW[byte][r]));
        }
        e += i64::from(BYTE_EXCESS[byte]);
    }
    Err(e)
}

/// Minimum prefix excess (over 1..=64 bits) of a word.
pub(crate) fn word_min(w: u64) -> i8 {
    let (mut e, mut m) = (0i32, i32::MAX);
    for k in 0..8 {
        let byte = ((w >> (8 * k)) & 0xff) as usize;
        m = m.min(e + i32::from(BYTE_MIN[byte]));
        e += i32::from(BYTE_EXCESS[byte]);
    }
    m as i8
}

/// Balanced parentheses (1 = a node opens, 0 = it closes), preorder, with
/// a min-excess directory: the minimum prefix excess of every word, and a
/// complete binary tree over 512-bit blocks of the minimum absolute excess
/// in each range of blocks. `E(q)` is the excess after bit `q`
/// (`2 · rank1(q + 1) − (q + 1)`), and `E(−1) = 0`.
#[derive(Clone, Copy)]
pub(crate) struct Bp<'a> {
    pub bits: RankBits<'a>,
    pub word_mins: &'a [u8],
    /// `2 · leaves` i32s; leaf `b` at index `leaves + b`.
    pub tree: &'a [u8],
    pub leaves: usize,
}

impl Bp<'_> {
    #[inline]
    fn excess_before_word(&self, w: usize) -> i64 {
        let p = w * 64;
        2 * self.bits.rank1(p) as i64 - p as i64
    }
    /// `E(q)`.
    #[inline]
    pub fn excess(&self, q: usize) -> i64 {
        2 * self.bits.rank1(q + 1) as i64 - (q as i64 + 1)
    }
    #[inline]
    fn wmin(&self, w: usize) -> i64 {
        i64::from(self.word_mins.get(w).map_or(i8::MAX, |&b| b as i8))
    }
    #[inline]
    fn tree_min(&self, v: usize) -> i64 {
        if v >= 2 * self.leaves {
            return i64::MAX;
        }
        i64::from(i32_at(self.tree, v * 4))
    }

    /// Scans word `w` from bit `from` on, with `e` = the excess before bit
    /// `from`, for the first bit after which the excess is ≤ `t`.
    fn scan_word_fwd(&self, w: usize, from: usize, mut e: i64, t: i64) -> Result<usize, i64> {
        let x = self.bits.word(w);
        if e > t && from < 64 {
            return word_fwd(x, from, e, t).map(|j| w * 64 + j);
        }
        let mut j = from;
        // Up to a byte boundary bit by bit, then byte by byte.
        while j < 64 && !j.is_multiple_of(8) {
            e += if (x >> j) & 1 != 0 { 1 } else { -1 };
            if e <= t {
                return Ok(w * 64 + j);
            }
            j += 1;
        }
        while j < 64 {
            let byte = ((x >> j) & 0xff) as usize;
            if e + i64::from(BYTE_MIN[byte]) <= t {
                for k in 0..8 {
                    e += if (byte >> k) & 1 != 0 { 1 } else { -1 };
                    if e <= t {
                        return Ok(w * 64 + j + k);
                    }
                }
            }
            e += i64::from(BYTE_EXCESS[byte]);
            j += 8;
        }
        Err(e)
    }

    /// The first `q > p` with `E(q) ≤ t`, given `e = E(p)`.
    pub fn fwd_search(&self, p: usize, e: i64, t: i64) -> Option<usize> {
        let len = self.bits.len;
        if p + 1 >= len {
            return None;
        }
        let check = |q: usize| (q < len).then_some(q);
        let w0 = (p + 1) / 64;
        let mut e = match self.scan_word_fwd(w0, (p + 1) % 64, e, t) {
            Ok(q) => return check(q),
            Err(e) => e,
        };
        // The rest of the block, word by word.
        let b0 = w0 / BLOCK_WORDS;
        let words = len.div_ceil(64);
        for w in w0 + 1..((b0 + 1) * BLOCK_WORDS).min(words) {
            if e + self.wmin(w) <= t {
                return self.scan_word_fwd(w, 0, e, t).ok().and_then(check);
            }
            e += 2 * i64::from(self.bits.word(w).count_ones()) - 64;
        }
        // The first later block whose minimum is ≤ t.
        let mut v = self.leaves + b0;
        loop {
            if v <= 1 {
                return None;
            }
            if v.is_multiple_of(2) && self.tree_min(v + 1) <= t {
                v += 1;
                break;
            }
            v /= 2;
        }
        while v < self.leaves {
            v *= 2;
            if self.tree_min(v) > t {
                v += 1;
            }
        }
        let b = v - self.leaves;
        let mut e = self.excess_before_word(b * BLOCK_WORDS);
        for w in b * BLOCK_WORDS..((b + 1) * BLOCK_WORDS).min(words) {
            if e + self.wmin(w) <= t {
                return self.scan_word_fwd(w, 0, e, t).ok().and_then(check);
            }
            e += 2 * i64::from(self.bits.word(w).count_ones()) - 64;
        }
        None
    }

    /// Scans word `w` backwards from bit `from` (inclusive) down to bit 0,
    /// with `e` = `E(w·64 + from)`, for the last position `q` ≤ that with
    /// `E(q) ≤ t`; `Err(E(w·64 − 1))` if none.
    fn scan_word_bwd(&self, w: usize, from: usize, mut e: i64, t: i64) -> Result<usize, i64> {
        let x = self.bits.word(w);
        let mut j = from as i64;
        while j >= 0 {
            if e <= t {
                return Ok(w * 64 + j as usize);
            }
            e -= if (x >> j) & 1 != 0 { 1 } else { -1 };
            j -= 1;
        }
        Err(e)
    }

    /// The last `q < p` with `E(q) ≤ t` (`Some(None)` for `q = −1`, which
    /// qualifies when `t ≥ 0`), given `e = E(p)`.
    pub fn bwd_search(&self, p: usize, e: i64, t: i64) -> Option<Option<usize>> {
        if p == 0 || p > self.bits.len {
            return (p == 0 && t >= 0).then_some(None);
        }
        let bit = |q: usize| if self.bits.bit(q) { 1 } else { -1 };
        // E(p − 1) = E(p) − step(p).
        let q0 = p - 1;
        let e0 = e - bit(p);
        let w0 = q0 / 64;
        let mut e = match self.scan_word_bwd(w0, q0 % 64, e0, t) {
            Ok(q) => return Some(Some(q)),
            Err(e) => e, // E(w0·64 − 1)
        };
        let b0 = w0 / BLOCK_WORDS;
        // Earlier words of the block; `e` is the excess after word `w`.
        for w in (b0 * BLOCK_WORDS..w0).rev() {
            let base = e - (2 * i64::from(self.bits.word(w).count_ones()) - 64);
            if base + self.wmin(w) <= t {
                return Some(self.scan_word_bwd(w, 63, e, t).ok());
            }
            e = base;
        }
        if b0 == 0 {
            return (t >= 0).then_some(None);
        }
        // The last earlier block whose minimum is ≤ t.
        let mut v = self.leaves + b0;
        loop {
            if v <= 1 {
                return (t >= 0).then_some(None);
            }
            if v % 2 == 1 && self.tree_min(v - 1) <= t {
                v -= 1;
                break;
            }
            v /= 2;
        }
        while v < self.leaves {
            v = 2 * v + 1;
            if self.tree_min(v) > t {
                v -= 1;
            }
        }
        let b = v - self.leaves;
        let words = self.bits.len.div_ceil(64);
        let last = ((b + 1) * BLOCK_WORDS).min(words);
        let mut e = self.excess_before_word(last);
        for w in (b * BLOCK_WORDS..last).rev() {
            let base = e - (2 * i64::from(self.bits.word(w).count_ones()) - 64);
            if base + self.wmin(w) <= t {
                return Some(self.scan_word_bwd(w, 63, e, t).ok());
            }
            e = base;
        }
        None
    }

    /// The close matching the open at `p`.
    #[inline]
    pub fn find_close(&self, p: usize) -> Option<usize> {
        let len = self.bits.len;
        if self.bits.bit(p + 1) || p + 1 >= len {
            // Not a leaf (or the end): the rest of the open's word, counted
            // from `E(p)` (most subtrees end there), then the directories.
            if p + 1 >= len {
                return None;
            }
            let w = (p + 1) / 64;
            let rel = match word_fwd(self.bits.word(w), (p + 1) % 64, 0, -1) {
                Ok(j) => return (w * 64 + j < len).then_some(w * 64 + j),
                Err(rel) => rel,
            };
            let e = self.excess(p);
            let last = w * 64 + 63;
            if last + 1 >= len {
                return None;
            }
            return self.fwd_search(last, e + rel, e - 1);
        }
        Some(p + 1)
    }

    /// The open matching the close at `c`.
    pub fn find_open(&self, c: usize) -> Option<usize> {
        if c > 0 && self.bits.bit(c - 1) {
            return Some(c - 1);
        }
        let e = self.excess(c);
        match self.bwd_search(c, e, e)? {
            Some(q) => Some(q + 1),
            None => Some(0),
        }
    }

    /// The open of the parent of the node opening at `p`.
    pub fn enclose(&self, p: usize) -> Option<usize> {
        if p == 0 {
            return None;
        }
        if self.bits.bit(p - 1) {
            return Some(p - 1);
        }
        let e = self.excess(p);
        match self.bwd_search(p, e, e - 2)? {
            Some(q) => Some(q + 1),
            None => Some(0),
        }
    }
}

/// The min-excess directory of balanced parentheses: per-word minima and the
/// block tree (as i32s), with the tree's leaf count.
pub(crate) fn build_bp_dirs(words: &[u64], len: usize) -> (Vec<i8>, Vec<i32>, usize) {
    let nwords = len.div_ceil(64);
    let mins: Vec<i8> = words.iter().take(nwords).map(|&w| word_min(w)).collect();
    let blocks = len.div_ceil(BLOCK_BITS).max(1);
    let leaves = blocks.next_power_of_two();
    let mut tree = vec![i32::MAX; 2 * leaves];
    let mut e = 0i32; // excess before the current word
    for (b, leaf) in tree[leaves..leaves + blocks].iter_mut().enumerate() {
        let mut m = i32::MAX;
        for w in b * BLOCK_WORDS..((b + 1) * BLOCK_WORDS).min(nwords) {
            m = m.min(e + i32::from(mins[w]));
            e += 2 * words[w].count_ones() as i32 - 64;
        }
        *leaf = m;
    }
    for v in (1..leaves).rev() {
        tree[v] = tree[2 * v].min(tree[2 * v + 1]);
    }
    (mins, tree, leaves)
}

/// A sequence of u32 values: Elias–Fano when non-decreasing, else plain.
#[derive(Clone, Copy)]
pub(crate) enum Seq<'a> {
    Ef(Ef<'a>),
    Plain { values: &'a [u8], len: usize },
}

/// Elias–Fano: `len` non-decreasing values; value `k` is
/// `((select1(hi, k) − k) << l) | lo[k]`.
#[derive(Clone, Copy)]
pub(crate) struct Ef<'a> {
    pub len: usize,
    pub l: u32,
    pub lo: &'a [u8],
    pub hi: &'a [u8],
    pub hi_len: usize,
    /// Position in `hi` of every [`SELECT_STRIDE`]th one.
    pub ones: Samples<'a>,
    /// Position in `hi` of every [`SELECT_STRIDE`]th zero; empty in a
    /// sequence without them (kind 2).
    pub zeros: Samples<'a>,
}

/// The positions in `hi` of every [`SELECT_STRIDE`]th one (or zero): a u32
/// each (sequence kind 0), or two-level (kinds 2 and 3): a u32 for every
/// [`PER_WIDE`]th sample and a u16 per sample, its offset from that one.
#[derive(Clone, Copy, Default)]
pub(crate) struct Samples<'a> {
    wide: &'a [u8],
    narrow: &'a [u8],
    two_level: bool,
}

impl Samples<'_> {
    /// The position of the `i`th sampled bit (0 past the end).
    #[inline]
    fn at(&self, i: usize) -> usize {
        if self.two_level {
            u32_at(self.wide, (i / PER_WIDE) * 4) as usize + usize::from(u16_at(self.narrow, i * 2))
        } else {
            u32_at(self.wide, i * 4) as usize
        }
    }

    fn is_empty(&self) -> bool {
        self.wide.is_empty()
    }
}

/// How [`write_seq`] lays a sequence out: the kinds a format version has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeqStyle {
    /// Version 4: kind 0 (a u32 sample per 64th one and per 64th zero), or
    /// kind 1 (plain) for a sequence that is not non-decreasing.
    V4,
    /// Version 5: kind 2 (two-level samples of the ones, none of the
    /// zeros), or kind 3 with `zeros` (two-level samples of both) where
    /// that is smaller than kind 0; kind 0 where an offset does not fit in
    /// 16 bits, kind 1 as in version 4.
    V5 { zeros: bool },
}

/// Sequence header: kind (0, 2, 3 = Elias–Fano, 1 = plain), len, l, hi
/// bits.
pub(crate) const SEQ_HEADER: usize = 16;

/// Where the parts of a sequence section are, found once at open.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeqLayout {
    /// The sequence kind (0 to 3).
    kind: u32,
    len: u32,
    l: u32,
    hi_len: u32,
    /// Byte offsets in the section: low bits, high bits, one samples (wide,
    /// narrow), zero samples (wide, narrow), end.
    cuts: [u32; 7],
}

impl SeqLayout {
    /// The sequence over `section` (the bytes this layout was found in).
    #[inline]
    pub fn seq<'a>(&self, section: &'a [u8]) -> Seq<'a> {
        let part = |i: usize| {
            section
                .get(self.cuts[i] as usize..self.cuts[i + 1] as usize)
                .unwrap_or_default()
        };
        if self.kind == 1 {
            return Seq::Plain {
                values: part(0),
                len: self.len as usize,
            };
        }
        let two_level = self.kind != 0;
        Seq::Ef(Ef {
            len: self.len as usize,
            l: self.l,
            lo: part(0),
            hi: part(1),
            hi_len: self.hi_len as usize,
            ones: Samples {
                wide: part(2),
                narrow: part(3),
                two_level,
            },
            zeros: Samples {
                wide: part(4),
                narrow: part(5),
                two_level,
            },
        })
    }

    /// The sequence kind: 0 to 3 (docs/FORMAT.md, "Sequences").
    pub fn kind(&self) -> u32 {
        self.kind
    }
}

impl SeqLayout {
    /// Value `k` of the sequence over `section`, as `self.seq(section).get(k)`
    /// (0 past the end), read at the parts' offsets without slicing them
    /// first: one node's start or end byte is a single such read.
    #[inline]
    pub fn get(&self, section: &[u8], k: usize) -> u32 {
        if k >= self.len as usize {
            return 0;
        }
        let [lo, hi, wide, narrow, ..] = self.cuts.map(|c| c as usize);
        if self.kind == 1 {
            return u32_at(section, lo + k * 4);
        }
        // select1(hi, k): from the sampled position of every
        // SELECT_STRIDE-th one, then word by word.
        let i = k / SELECT_STRIDE;
        let pos = if self.kind == 0 {
            u32_at(section, wide + i * 4) as usize
        } else {
            u32_at(section, wide + (i / PER_WIDE) * 4) as usize
                + usize::from(u16_at(section, narrow + i * 2))
        };
        let mut r = (k % SELECT_STRIDE) as u32;
        let mut w = pos / 64;
        let words = (self.hi_len as usize).div_ceil(64);
        if w >= words {
            return 0;
        }
        let mut x = u64_at_byte(section, hi + w * 8) & (!0u64 << (pos % 64));
        let one = loop {
            match select_or_count(x, r) {
                Ok(bit) => break w * 64 + bit as usize,
                Err(c) => r -= c,
            }
            w += 1;
            if w >= words {
                return 0;
            }
            x = u64_at_byte(section, hi + w * 8);
        };
        let low = match self.l as usize {
            0 => 0,
            l => {
                let bit = k * l;
                let (w, off) = (bit / 64, bit % 64);
                let mut v = u64_at_byte(section, lo + w * 8) >> off;
                if off + l > 64 {
                    v |= u64_at_byte(section, lo + (w + 1) * 8) << (64 - off);
                }
                v & ((1u64 << l) - 1)
            }
        };
        (((one.wrapping_sub(k) as u64) << self.l) | low) as u32
    }
}

/// The little-endian u64 at byte offset `at` of `b` (0 when out of range).
#[inline]
fn u64_at_byte(b: &[u8], at: usize) -> u64 {
    match b.get(at..at.wrapping_add(8)) {
        Some(s) => u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        None => 0,
    }
}

impl<'a> Seq<'a> {
    /// The layout of a sequence section of exactly `bytes`, of `len` values.
    pub fn layout(bytes: &'a [u8], len: usize) -> Option<SeqLayout> {
        let base = |s: &[u8]| (s.as_ptr() as usize - bytes.as_ptr() as usize) as u32;
        let end = bytes.len() as u32;
        Some(match Seq::parse(bytes, len)? {
            Seq::Plain { values, len } => SeqLayout {
                kind: 1,
                len: len as u32,
                l: 0,
                hi_len: 0,
                cuts: [base(values), end, end, end, end, end, end],
            },
            Seq::Ef(ef) => SeqLayout {
                kind: u32_at(bytes, 0),
                len: ef.len as u32,
                l: ef.l,
                hi_len: ef.hi_len as u32,
                cuts: [
                    base(ef.lo),
                    base(ef.hi),
                    base(ef.ones.wide),
                    base(ef.ones.narrow),
                    base(ef.zeros.wide),
                    base(ef.zeros.narrow),
                    end,
                ],
            },
        })
    }

    /// Parses a sequence section of exactly `bytes`, of `len` values.
    pub fn parse(bytes: &'a [u8], len: usize) -> Option<Seq<'a>> {
        let kind = u32_at(bytes, 0);
        if u32_at(bytes, 4) as usize != len || bytes.len() < SEQ_HEADER {
            return None;
        }
        let body = &bytes[SEQ_HEADER..];
        match kind {
            0 | 2 | 3 => {
                let l = u32_at(bytes, 8);
                let hi_len = u32_at(bytes, 12) as usize;
                if l > 32 || hi_len < len {
                    return None;
                }
                let lo_len = (len * l as usize).div_ceil(64) * 8;
                let hi_bytes = hi_len.div_ceil(64) * 8;
                let ones = sample_bytes(kind, len);
                let zeros = if kind == 2 {
                    (0, 0)
                } else {
                    sample_bytes(kind, hi_len - len)
                };
                if body.len() != lo_len + hi_bytes + ones.0 + ones.1 + zeros.0 + zeros.1 {
                    return None;
                }
                let (lo, rest) = body.split_at(lo_len);
                let (hi, rest) = rest.split_at(hi_bytes);
                let (ones_wide, rest) = rest.split_at(ones.0);
                let (ones_narrow, rest) = rest.split_at(ones.1);
                let (zeros_wide, zeros_narrow) = rest.split_at(zeros.0);
                let two_level = kind != 0;
                Some(Seq::Ef(Ef {
                    len,
                    l,
                    lo,
                    hi,
                    hi_len,
                    ones: Samples {
                        wide: ones_wide,
                        narrow: ones_narrow,
                        two_level,
                    },
                    zeros: Samples {
                        wide: zeros_wide,
                        narrow: zeros_narrow,
                        two_level,
                    },
                }))
            }
            1 => (body.len() == len * 4).then_some(Seq::Plain { values: body, len }),
            _ => None,
        }
    }

    #[inline]
    pub fn get(&self, k: usize) -> u32 {
        match self {
            Seq::Ef(ef) => ef.get(k),
            Seq::Plain { values, .. } => u32_at(values, k * 4),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Seq::Ef(ef) => ef.len,
            Seq::Plain { len, .. } => *len,
        }
    }

    /// The number of values ≤ `x` (for a non-decreasing sequence).
    /// Elias–Fano: O(1) through the zero samples (the bucket of `x`, then
    /// its few values), or without them (kind 2) a binary search over the
    /// sampled values and at most [`SELECT_STRIDE`] values decoded after
    /// it; plain: a binary search.
    pub fn count_le(&self, x: u32) -> usize {
        if let Seq::Ef(ef) = self {
            return ef.count_le(x);
        }
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.get(mid) <= x {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Decodes values `from..` in order.
    pub fn iter_from(&self, from: usize) -> SeqIter<'a> {
        match *self {
            Seq::Ef(ef) if from < ef.len => {
                let pos = ef.select_hi(from).unwrap_or(ef.hi_len);
                let w = pos / 64;
                SeqIter::Ef {
                    ef,
                    k: from,
                    word: w,
                    bits: u64_at(ef.hi, w) & (!0u64 << (pos % 64)),
                }
            }
            Seq::Ef(ef) => SeqIter::Ef {
                ef,
                k: ef.len,
                word: 0,
                bits: 0,
            },
            Seq::Plain { values, len } => SeqIter::Plain {
                values,
                k: from,
                len,
            },
        }
    }
}

impl Ef<'_> {
    #[inline]
    pub(crate) fn low(&self, k: usize) -> u32 {
        if self.l == 0 {
            return 0;
        }
        let l = self.l as usize;
        let bit = k * l;
        let (w, off) = (bit / 64, bit % 64);
        let mut v = u64_at(self.lo, w) >> off;
        if off + l > 64 {
            v |= u64_at(self.lo, w + 1) << (64 - off);
        }
        (v & ((1u64 << l) - 1)) as u32
    }

    /// Position in `hi` of the `k`th one.
    #[inline]
    fn select_hi(&self, k: usize) -> Option<usize> {
        if k >= self.len {
            return None;
        }
        let pos = self.ones.at(k / SELECT_STRIDE);
        let mut r = (k % SELECT_STRIDE) as u32;
        let mut w = pos / 64;
        let mut x = u64_at(self.hi, w) & (!0u64 << (pos % 64));
        let words = self.hi_len.div_ceil(64);
        loop {
            match select_or_count(x, r) {
                Ok(bit) => return Some(w * 64 + bit as usize),
                Err(c) => r -= c,
            }
            w += 1;
            if w >= words {
                return None;
            }
            x = u64_at(self.hi, w);
        }
    }

    /// Position in `hi` of the `j`th zero.
    fn select_zero(&self, j: usize) -> Option<usize> {
        if j >= self.hi_len - self.len.min(self.hi_len) {
            return None;
        }
        let pos = self.zeros.at(j / SELECT_STRIDE);
        let mut r = (j % SELECT_STRIDE) as u32;
        let mut w = pos / 64;
        let mut x = !u64_at(self.hi, w) & (!0u64 << (pos % 64));
        let words = self.hi_len.div_ceil(64);
        loop {
            let c = x.count_ones();
            if r < c {
                let p = w * 64 + select_in_word(x, r) as usize;
                return (p < self.hi_len).then_some(p);
            }
            r -= c;
            w += 1;
            if w >= words {
                return None;
            }
            x = !u64_at(self.hi, w);
        }
    }

    /// The number of values ≤ `x`.
    fn count_le(&self, x: u32) -> usize {
        if self.zeros.is_empty() {
            return self.count_le_by_ones(x);
        }
        let bucket = (u64::from(x) >> self.l) as usize;
        // Bucket `b` starts after the `b`th zero (0-based `b − 1`).
        let start = if bucket == 0 {
            0
        } else {
            match self.select_zero(bucket - 1) {
                Some(p) => p + 1,
                None => return self.len,
            }
        };
        let Some(mut k) = start.checked_sub(bucket) else {
            return 0;
        };
        let low = if self.l == 0 {
            0
        } else {
            x & (((1u64 << self.l) - 1) as u32)
        };
        let mut pos = start;
        while k < self.len
            && pos < self.hi_len
            && (u64_at(self.hi, pos / 64) >> (pos % 64)) & 1 != 0
        {
            if self.low(k) > low {
                break;
            }
            k += 1;
            pos += 1;
        }
        k.min(self.len)
    }

    /// [`Ef::count_le`] without zero samples: the last sampled value (every
    /// [`SELECT_STRIDE`]th, read at its one sample) that is ≤ `x` by binary
    /// search, then the values after it in order. Bounded on any bytes: at
    /// most log2(samples) steps and [`SELECT_STRIDE`] values.
    fn count_le_by_ones(&self, x: u32) -> usize {
        let x = u64::from(x);
        let value = |i: usize| {
            let k = i * SELECT_STRIDE;
            ((self.ones.at(i).wrapping_sub(k) as u64) << self.l) | u64::from(self.low(k))
        };
        let samples = self.len.div_ceil(SELECT_STRIDE);
        if samples == 0 || value(0) > x {
            return 0;
        }
        // value(lo) ≤ x; the samples from `hi` on are past it.
        let (mut lo, mut hi) = (0, samples);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if value(mid) <= x {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let from = lo * SELECT_STRIDE;
        let below = Seq::Ef(*self)
            .iter_from(from)
            .take(SELECT_STRIDE)
            .take_while(|&v| u64::from(v) <= x)
            .count();
        from + below
    }

    #[inline]
    pub fn get(&self, k: usize) -> u32 {
        match self.select_hi(k) {
            Some(pos) => {
                ((((pos.wrapping_sub(k)) as u64) << self.l) | u64::from(self.low(k))) as u32
            }
            None => 0,
        }
    }
}

/// In-order decoding of a [`Seq`].
#[derive(Clone)]
pub(crate) enum SeqIter<'a> {
    Ef {
        ef: Ef<'a>,
        k: usize,
        word: usize,
        bits: u64,
    },
    Plain {
        values: &'a [u8],
        k: usize,
        len: usize,
    },
}

impl SeqIter<'_> {
    /// Passes over the next `n` values without decoding them (fewer if the
    /// sequence ends first): Elias–Fano counts the ones of its high bits a
    /// word at a time, then selects in the last word, instead of `n` calls
    /// of `next`.
    #[inline]
    pub(crate) fn pass(&mut self, n: usize) {
        match self {
            SeqIter::Ef { ef, k, word, bits } => {
                let n = n.min(ef.len.saturating_sub(*k));
                if n == 0 {
                    return;
                }
                *k += n;
                let words = ef.hi_len.div_ceil(64);
                let mut r = n;
                loop {
                    let c = bits.count_ones() as usize;
                    if r < c {
                        // Clear the `r` lowest ones: those below the
                        // `r`th.
                        let at = select_in_word(*bits, r as u32);
                        *bits &= !0u64 << at;
                        return;
                    }
                    r -= c;
                    *word += 1;
                    if *word >= words {
                        *bits = 0;
                        *k = ef.len;
                        return;
                    }
                    *bits = u64_at(ef.hi, *word);
                }
            }
            SeqIter::Plain { k, len, .. } => *k = (*k + n).min(*len),
        }
    }
}

impl Iterator for SeqIter<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            SeqIter::Ef { ef, k, word, bits } => {
                if *k >= ef.len {
                    return None;
                }
                let words = ef.hi_len.div_ceil(64);
                while *bits == 0 {
                    *word += 1;
                    if *word >= words {
                        *k = ef.len;
                        return None;
                    }
                    *bits = u64_at(ef.hi, *word);
                }
                let pos = *word * 64 + bits.trailing_zeros() as usize;
                *bits &= *bits - 1;
                let v = ((pos.wrapping_sub(*k) as u64) << ef.l) | u64::from(ef.low(*k));
                *k += 1;
                Some(v as u32)
            }
            SeqIter::Plain { values, k, len } => {
                if *k >= *len {
                    return None;
                }
                *k += 1;
                Some(u32_at(values, (*k - 1) * 4))
            }
        }
    }
}

/// Writes `values` as a sequence section in `style`.
pub(crate) fn write_seq(out: &mut Vec<u8>, values: &[u32], style: SeqStyle) {
    let n = values.len();
    let monotone = values.windows(2).all(|w| w[0] <= w[1]);
    if !monotone {
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&(n as u32).to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        return;
    }
    let u = values.last().map_or(0, |&v| u64::from(v) + 1);
    let mut l = 0u32;
    while n > 0 && (u >> (l + 1)) >= n as u64 && l < 32 {
        l += 1;
    }
    let hi_len = n + (u >> l) as usize + 1;
    let mut lo = vec![0u64; (n * l as usize).div_ceil(64)];
    let mut hi = vec![0u64; hi_len.div_ceil(64)];
    let mut samples = Vec::with_capacity(n.div_ceil(SELECT_STRIDE));
    for (k, &v) in values.iter().enumerate() {
        if l > 0 {
            let low = u64::from(v) & ((1u64 << l) - 1);
            let bit = k * l as usize;
            lo[bit / 64] |= low << (bit % 64);
            if bit % 64 + l as usize > 64 {
                lo[bit / 64 + 1] |= low >> (64 - bit % 64);
            }
        }
        let pos = (u64::from(v) >> l) as usize + k;
        hi[pos / 64] |= 1 << (pos % 64);
        if k % SELECT_STRIDE == 0 {
            samples.push(pos as u32);
        }
    }
    // Version 5 samples the ones in two levels where the offsets fit (kind
    // 2), and with `zeros` the zeros too where that takes fewer bytes than
    // kind 0 (not so for 128 values or fewer) and their offsets fit (kind
    // 3); anything else is kind 0.
    let ones = match style {
        SeqStyle::V4 => None,
        SeqStyle::V5 { .. } => two_level(&samples),
    };
    let without_zeros = matches!((style, &ones), (SeqStyle::V5 { zeros: false }, Some(_)));
    let zero_samples = if without_zeros {
        Vec::new()
    } else {
        zero_samples(&hi, hi_len)
    };
    let bytes = |kind: u32| {
        let [(a, b), (c, d)] = [n, hi_len - n].map(|count| sample_bytes(kind, count));
        a + b + c + d
    };
    let zeros = match (style, &ones) {
        (SeqStyle::V5 { zeros: true }, Some(_)) if bytes(3) < bytes(0) => two_level(&zero_samples),
        _ => None,
    };
    let kind: u32 = match (&ones, &zeros) {
        (Some(_), _) if without_zeros => 2,
        (Some(_), Some(_)) => 3,
        _ => 0,
    };
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&l.to_le_bytes());
    out.extend_from_slice(&(hi_len as u32).to_le_bytes());
    for w in lo.iter().chain(&hi) {
        out.extend_from_slice(&w.to_le_bytes());
    }
    match (kind, ones) {
        (2 | 3, Some(ones)) => {
            for (wide, narrow) in std::iter::once(ones).chain(zeros) {
                for w in wide {
                    out.extend_from_slice(&w.to_le_bytes());
                }
                for o in narrow {
                    out.extend_from_slice(&o.to_le_bytes());
                }
            }
        }
        _ => {
            for s in samples.iter().chain(&zero_samples) {
                out.extend_from_slice(&s.to_le_bytes());
            }
        }
    }
}

/// The position of every [`SELECT_STRIDE`]th zero of the `hi_len` bits of
/// `hi`, a word at a time.
fn zero_samples(hi: &[u64], hi_len: usize) -> Vec<u32> {
    let mut out = Vec::new();
    let mut zeros = 0usize; // zeros before the current word
    for (w, &word) in hi.iter().enumerate() {
        let valid = (hi_len - w * 64).min(64);
        let mask = if valid == 64 {
            !0u64
        } else {
            (1u64 << valid) - 1
        };
        let z = !word & mask;
        let c = z.count_ones() as usize;
        // Samples falling in this word: zero numbers k·64 in zeros..zeros + c.
        let mut next = zeros.div_ceil(SELECT_STRIDE) * SELECT_STRIDE;
        while next < zeros + c {
            let bit = select_in_word(z, (next - zeros) as u32) as usize;
            out.push((w * 64 + bit) as u32);
            next += SELECT_STRIDE;
        }
        zeros += c;
    }
    out
}

/// The (wide, narrow) bytes of the select samples of `count` bits in a
/// sequence of `kind` (0, 2 or 3).
fn sample_bytes(kind: u32, count: usize) -> (usize, usize) {
    match kind {
        0 => (count.div_ceil(SELECT_STRIDE) * 4, 0),
        _ => (
            count.div_ceil(SELECT_STRIDE * PER_WIDE) * 4,
            count.div_ceil(SELECT_STRIDE) * 2,
        ),
    }
}

/// The two-level form of `samples` (see [`Samples`]): every [`PER_WIDE`]th
/// as a u32, each as its offset from that one; `None` if an offset does not
/// fit in 16 bits.
fn two_level(samples: &[u32]) -> Option<(Vec<u32>, Vec<u16>)> {
    let wide: Vec<u32> = samples.iter().step_by(PER_WIDE).copied().collect();
    let narrow = samples
        .iter()
        .enumerate()
        .map(|(i, &s)| u16::try_from(s - wide[i / PER_WIDE]).ok())
        .collect::<Option<Vec<u16>>>()?;
    Some((wide, narrow))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le_words(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
    fn le_u32(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
    fn le_i32(v: &[i32]) -> Vec<u8> {
        v.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// Random balanced parentheses of `n` nodes from a seed.
    fn random_bp(n: usize, mut seed: u64) -> Vec<bool> {
        let mut bits = Vec::new();
        let mut open = 0usize;
        let mut left = n;
        while left > 0 || open > 0 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let go_down = left > 0 && (open == 0 || seed % 100 < 52);
            if go_down {
                bits.push(true);
                open += 1;
                left -= 1;
            } else {
                bits.push(false);
                open -= 1;
            }
        }
        bits
    }

    #[test]
    fn bp_searches_match_a_stack() {
        for (n, seed) in [(1, 1), (2, 5), (40, 7), (700, 11), (5000, 13), (20000, 17)] {
            // A single tree: wrap in a root.
            let mut bits = vec![true];
            bits.extend(random_bp(n, seed));
            bits.push(false);
            let len = bits.len();
            let mut words = vec![0u64; len.div_ceil(64)];
            for (i, &b) in bits.iter().enumerate() {
                if b {
                    words[i / 64] |= 1 << (i % 64);
                }
            }
            let ranks = build_ranks(&words, len);
            let (mins, tree, leaves) = build_bp_dirs(&words, len);
            let (wb, rb, tb) = (le_words(&words), le_u32(&ranks), le_i32(&tree));
            let mb: Vec<u8> = mins.iter().map(|&m| m as u8).collect();
            let bp = Bp {
                bits: RankBits {
                    words: &wb,
                    ranks: &rb,
                    len,
                },
                word_mins: &mb,
                tree: &tb,
                leaves,
            };
            let mut close = vec![usize::MAX; len];
            let mut open_of = vec![usize::MAX; len];
            let mut parent = vec![None; len];
            let mut stack = Vec::new();
            for (i, &b) in bits.iter().enumerate() {
                if b {
                    parent[i] = stack.last().copied();
                    stack.push(i);
                } else {
                    let o = stack.pop().unwrap();
                    close[o] = i;
                    open_of[i] = o;
                }
            }
            let mut ones = 0;
            for i in 0..len {
                if bits[i] {
                    assert_eq!(bp.find_close(i), Some(close[i]), "n {n} close of {i}");
                    assert_eq!(bp.enclose(i), parent[i], "n {n} parent of {i}");
                    assert_eq!(bp.bits.select1(ones), Some(i));
                    assert_eq!(bp.bits.rank1(i), ones);
                    ones += 1;
                } else {
                    assert_eq!(bp.find_open(i), Some(open_of[i]), "n {n} open of {i}");
                }
            }
            assert_eq!(bp.bits.select1(ones), None);
        }
    }

    /// `find_close` (which scans the open's word before computing an
    /// excess) and the forward search find the first position whose
    /// excess is below the open's, on any bits: balanced or not, and
    /// never closed.
    #[test]
    fn find_close_is_the_forward_search() {
        let mut seed = 0x853c_49e6_748f_ea9b_u64;
        for len in [1usize, 2, 63, 64, 65, 130, 700, 5000] {
            for density in [2u64, 3, 4] {
                let mut words = vec![0u64; len.div_ceil(64)];
                for i in 0..len {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Ones with probability 1/2, 2/3 or 3/4.
                    if !seed.is_multiple_of(density) {
                        words[i / 64] |= 1 << (i % 64);
                    }
                }
                let ranks = build_ranks(&words, len);
                let (mins, tree, leaves) = build_bp_dirs(&words, len);
                let (wb, rb, tb) = (le_words(&words), le_u32(&ranks), le_i32(&tree));
                let mb: Vec<u8> = mins.iter().map(|&m| m as u8).collect();
                let bp = Bp {
                    bits: RankBits {
                        words: &wb,
                        ranks: &rb,
                        len,
                    },
                    word_mins: &mb,
                    tree: &tb,
                    leaves,
                };
                // E(q), by a scan.
                let excess: Vec<i64> = (0..len)
                    .scan(0i64, |e, q| {
                        *e += if bp.bits.bit(q) { 1 } else { -1 };
                        Some(*e)
                    })
                    .collect();
                for p in (0..len).filter(|&p| bp.bits.bit(p)) {
                    let want = (p + 1..len).find(|&q| excess[q] < excess[p]);
                    assert_eq!(bp.find_close(p), want, "len {len} close of {p}");
                    let e = excess[p];
                    assert_eq!(
                        bp.fwd_search(p, e, e - 1),
                        want,
                        "len {len} search from {p}"
                    );
                }
            }
        }
    }

    #[test]
    fn select_in_word_matches_a_scan() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for w in [x, x & (x >> 3), !x, 1 << (x % 64), u64::MAX, 0] {
                let ones: Vec<u32> = (0..64).filter(|&j| (w >> j) & 1 != 0).collect();
                for (r, &want) in ones.iter().enumerate() {
                    assert_eq!(select_in_word(w, r as u32), want, "{w:#x} {r}");
                    assert_eq!(select_or_count(w, r as u32), Ok(want), "{w:#x} {r}");
                }
                assert_eq!(select_in_word(w, ones.len() as u32), 64);
                for r in ones.len() as u32..ones.len() as u32 + 2 {
                    assert_eq!(select_or_count(w, r), Err(ones.len() as u32));
                }
            }
        }
    }

    #[test]
    fn sequences_round_trip() {
        let cases: Vec<Vec<u32>> = vec![
            vec![0],
            vec![5, 5, 5],
            (0..1000).map(|i| i * 3 + (i % 7)).collect(),
            (0..300).map(|i| i * i * 11).collect(),
            vec![0, u32::MAX],
            vec![9, 3, 7],
            vec![7; 200],
            (0..500)
                .map(|i| if i < 250 { i } else { 1_000_000 + i })
                .collect(),
            (0..5000).map(|i| i / 3).collect(),
            // A gap of more than 2^16 zeros between two samples of one wide
            // sample: version 5 falls back to kind 0.
            (0..60_000u32)
                .map(|i| if i < 59_000 { i } else { 3_000_000_000 + i })
                .collect(),
        ];
        let styles = [
            SeqStyle::V4,
            SeqStyle::V5 { zeros: false },
            SeqStyle::V5 { zeros: true },
        ];
        for (values, style) in cases
            .iter()
            .flat_map(|v| styles.iter().map(move |s| (v.clone(), *s)))
        {
            let mut out = Vec::new();
            write_seq(&mut out, &values, style);
            let monotone = values.windows(2).all(|w| w[0] <= w[1]);
            let kind = u32_at(&out, 0);
            let fits = values.len() < 60_000;
            let want = match style {
                _ if !monotone => 1,
                SeqStyle::V5 { zeros: false } if fits => 2,
                SeqStyle::V5 { zeros: true } if fits && values.len() > 128 => 3,
                _ => 0,
            };
            assert_eq!(kind, want, "{style:?} of {} values", values.len());
            let seq = Seq::parse(&out, values.len()).unwrap();
            let layout = Seq::layout(&out, values.len()).unwrap();
            assert_eq!(layout.kind(), kind);
            for (k, &v) in values.iter().enumerate() {
                assert_eq!(seq.get(k), v, "{k}");
                assert_eq!(layout.get(&out, k), v, "layout {k}");
            }
            for k in values.len()..values.len() + 3 {
                assert_eq!(layout.get(&out, k), seq.get(k), "past the end {k}");
            }
            let all: Vec<u32> = seq.iter_from(0).collect();
            assert_eq!(all, values);
            for x in [
                0u32,
                1,
                2,
                3,
                5,
                100,
                1000,
                3000,
                50_000,
                u32::MAX - 1,
                u32::MAX,
            ] {
                let want = values.iter().filter(|&&v| v <= x).count();
                if monotone {
                    assert_eq!(seq.count_le(x), want, "count_le({x}), {style:?}");
                }
            }
            // Around every 97th value, exactly.
            if monotone {
                for &v in values.iter().step_by(97) {
                    for x in [v.saturating_sub(1), v, v.saturating_add(1)] {
                        let want = values.partition_point(|&w| w <= x);
                        assert_eq!(seq.count_le(x), want, "count_le({x}), {style:?}");
                    }
                }
            }
            let tail: Vec<u32> = seq.iter_from(values.len() / 2).collect();
            assert_eq!(tail, values[values.len() / 2..]);
            // Skipping from every start by every length (a sample of them
            // for long sequences) lands where `next` calls would.
            let step = (values.len() / if values.len() > 10_000 { 8 } else { 64 }).max(1);
            for from in (0..=values.len()).step_by(step) {
                for n in (0..=values.len() - from + 2).step_by(if values.len() > 10_000 {
                    step
                } else {
                    step.min(7)
                }) {
                    let mut it = seq.iter_from(from);
                    it.pass(n);
                    let rest: Vec<u32> = it.collect();
                    let at = (from + n).min(values.len());
                    assert_eq!(rest, values[at..], "skip {n} from {from}");
                }
            }
            assert!(Seq::parse(&out, values.len() + 1).is_none());
        }
    }
}
