//! `workspace/symbol`: definitions by name — exact, prefix, substring and
//! fuzzy matches, ranked. Case-insensitive matching folds ASCII letters
//! only (names keep their byte offsets).

use std::cmp::Ordering;

use serde::Serialize;

use crate::Symbol;
use crate::index::{Postings, SymbolIndex};

/// How a name matched a query; earlier variants rank first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The name is the query.
    Exact,
    /// The name is the query, ignoring ASCII case.
    CaseInsensitiveExact,
    /// The name starts with the query.
    Prefix,
    /// The name starts with the query, ignoring ASCII case.
    CaseInsensitivePrefix,
    /// The name contains the query (ignoring ASCII case).
    Substring,
    /// The query's characters appear in the name in order (ignoring ASCII
    /// case).
    Fuzzy,
}

/// One result of [`SymbolIndex::search`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolHit {
    /// The definition.
    pub symbol: Symbol,
    /// How its name matched.
    pub kind: MatchKind,
    /// Within a match kind, lower ranks first: for [`MatchKind::Fuzzy`],
    /// the bytes of the name between the first and the last matched
    /// character that are not matched (a tighter match is better); 0 for
    /// the other kinds.
    pub score: u32,
}

/// The search tables, built when first asked for: the names that have a
/// definition, sorted as they are and folded, and one blob of the folded
/// names (`\0`-separated) that substring and fuzzy matching scan.
#[derive(Debug, Default)]
pub(crate) struct SearchIndex {
    /// Name ids with at least one definition, sorted by name.
    by_name: Vec<u32>,
    /// Indexes of `entries` sorted by folded name.
    by_folded: Vec<u32>,
    /// The folded names of `entries`, each followed by `\0`.
    blob: Vec<u8>,
    /// Per entry: its name id and where its folded name starts in `blob`.
    entries: Vec<(u32, u32)>,
}

impl SearchIndex {
    pub(crate) fn build(index: &SymbolIndex, postings: &Postings) -> SearchIndex {
        let names = &index.names;
        let mut by_name: Vec<u32> = (0..names.len() as u32)
            .filter(|&id| !postings.defs_of(id).is_empty())
            .collect();
        by_name.sort_unstable_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
        let mut blob = Vec::new();
        let mut entries = Vec::with_capacity(by_name.len());
        for &id in &by_name {
            entries.push((id, blob.len() as u32));
            blob.extend(names[id as usize].bytes().map(|b| b.to_ascii_lowercase()));
            blob.push(0);
        }
        // Sorted by folded name through the blob (no second copy).
        let mut order: Vec<u32> = (0..entries.len() as u32).collect();
        let folded = |e: u32| -> &[u8] { entry_bytes(&blob, &entries, e as usize) };
        order.sort_unstable_by(|&a, &b| folded(a).cmp(folded(b)));
        SearchIndex {
            by_name,
            by_folded: order,
            blob,
            entries,
        }
    }
}

/// The folded name of entry `e` (without its `\0`).
fn entry_bytes<'b>(blob: &'b [u8], entries: &[(u32, u32)], e: usize) -> &'b [u8] {
    let start = entries.get(e).map_or(0, |x| x.1 as usize);
    let end = entries
        .get(e + 1)
        .map_or(blob.len(), |x| x.1 as usize)
        .saturating_sub(1);
    blob.get(start..end.max(start)).unwrap_or_default()
}

/// The range of `sorted` (ids, by `key`) whose keys start with `prefix`.
fn prefix_range<'a>(
    sorted: &[u32],
    key: impl Fn(u32) -> &'a [u8],
    prefix: &[u8],
) -> std::ops::Range<usize> {
    let start = sorted.partition_point(|&id| key(id) < prefix);
    let end = start + sorted[start..].partition_point(|&id| key(id).starts_with(prefix));
    start..end
}

impl SymbolIndex {
    /// Definitions whose name matches `query`, at most `limit`, best
    /// first: exact, then exact ignoring ASCII case, prefix, prefix
    /// ignoring case, substring (ignoring case), fuzzy (the query's
    /// characters in order, ignoring case; tighter first). Ties: shorter
    /// name, then path, then line. A name with several definitions gives
    /// one hit per definition. An empty query matches nothing.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SymbolHit> {
        if query.is_empty() || limit == 0 || query.contains('\0') {
            return Vec::new();
        }
        let s = self.search_index();
        let names = &self.names;
        let name_of =
            |id: u32| -> &[u8] { names.get(id as usize).map_or(&[][..], |n| n.as_bytes()) };
        let q = query.as_bytes();
        let folded: Vec<u8> = q.iter().map(|b| b.to_ascii_lowercase()).collect();
        let mut out: Vec<SymbolHit> = Vec::new();
        // Names already given a class.
        let mut seen: rustc_hash::FxHashSet<u32> = rustc_hash::FxHashSet::default();

        // Exact.
        let mut class: Vec<(u32, u32)> = Vec::new();
        if let Some(id) = self.name_id(query) {
            class.push((id, 0));
        }
        if self.emit(&mut out, &mut seen, class, MatchKind::Exact, limit) {
            return out;
        }
        // Exact and prefix ignoring case: a range of the folded order.
        let ci = prefix_range(
            &s.by_folded,
            |e| entry_bytes(&s.blob, &s.entries, e as usize),
            &folded,
        );
        let ci_range: Vec<u32> = s.by_folded[ci]
            .iter()
            .filter_map(|&e| s.entries.get(e as usize).map(|x| x.0))
            .collect();
        let class: Vec<(u32, u32)> = ci_range
            .iter()
            .filter(|&&id| name_of(id).len() == q.len())
            .map(|&id| (id, 0))
            .collect();
        if self.emit(
            &mut out,
            &mut seen,
            class,
            MatchKind::CaseInsensitiveExact,
            limit,
        ) {
            return out;
        }
        let prefix = prefix_range(&s.by_name, |id| name_of(id), q);
        let class: Vec<(u32, u32)> = s.by_name[prefix].iter().map(|&id| (id, 0)).collect();
        if self.emit(&mut out, &mut seen, class, MatchKind::Prefix, limit) {
            return out;
        }
        let class: Vec<(u32, u32)> = ci_range.iter().map(|&id| (id, 0)).collect();
        if self.emit(
            &mut out,
            &mut seen,
            class,
            MatchKind::CaseInsensitivePrefix,
            limit,
        ) {
            return out;
        }
        // Substring: one scan of the folded blob.
        let mut class: Vec<(u32, u32)> = Vec::new();
        let finder = memchr::memmem::Finder::new(&folded);
        let mut from = 0usize;
        while let Some(pos) = finder.find(s.blob.get(from..).unwrap_or_default()) {
            let at = from + pos;
            // The entry holding `at`, and on past it.
            let e = s.entries.partition_point(|x| x.1 as usize <= at) - 1;
            let Some(&(id, _)) = s.entries.get(e) else {
                break;
            };
            class.push((id, 0));
            from = s.entries.get(e + 1).map_or(s.blob.len(), |x| x.1 as usize);
        }
        if self.emit(&mut out, &mut seen, class, MatchKind::Substring, limit) {
            return out;
        }
        // Fuzzy: jump to each occurrence of the query's first byte (names
        // without it are skipped by memchr), then match the rest greedily
        // within that name (which ends at its `\0`).
        let mut class: Vec<(u32, u32)> = Vec::new();
        let (mut pos, mut e) = (0usize, 0usize);
        while let Some(off) = memchr::memchr(folded[0], s.blob.get(pos..).unwrap_or_default()) {
            let i = pos + off;
            while s.entries.get(e + 1).is_some_and(|x| x.1 as usize <= i) {
                e += 1;
            }
            let end = s
                .entries
                .get(e + 1)
                .map_or(s.blob.len(), |x| x.1 as usize)
                .saturating_sub(1);
            let (mut qi, mut j, mut last) = (1usize, i + 1, i);
            while qi < folded.len() {
                match memchr::memchr(folded[qi], s.blob.get(j..end).unwrap_or_default()) {
                    Some(o) => {
                        last = j + o;
                        j = last + 1;
                        qi += 1;
                    }
                    None => break,
                }
            }
            if qi == folded.len()
                && let Some(&(id, _)) = s.entries.get(e)
            {
                class.push((id, (last + 1 - i - folded.len()) as u32));
            }
            pos = end + 1;
        }
        self.emit(&mut out, &mut seen, class, MatchKind::Fuzzy, limit);
        out
    }

    /// Appends the definitions of the names in `class` not seen before,
    /// ranked (score, shorter name, path, line), up to `limit` hits in
    /// all. Returns whether `out` is full.
    fn emit(
        &self,
        out: &mut Vec<SymbolHit>,
        seen: &mut rustc_hash::FxHashSet<u32>,
        class: Vec<(u32, u32)>,
        kind: MatchKind,
        limit: usize,
    ) -> bool {
        let postings = self.postings();
        let mut hits: Vec<(u32, usize, u32, u32)> = Vec::new();
        for (id, score) in class {
            if !seen.insert(id) {
                continue;
            }
            let len = self.names.get(id as usize).map_or(0, |n| n.len());
            for &(f, t) in postings.defs_of(id) {
                hits.push((score, len, f, t));
            }
        }
        let room = limit.saturating_sub(out.len());
        let cmp = |a: &(u32, usize, u32, u32), b: &(u32, usize, u32, u32)| -> Ordering {
            a.0.cmp(&b.0)
                .then(a.1.cmp(&b.1))
                .then_with(|| {
                    let fa = self.files.get(a.2 as usize).map(|f| f.rel.as_str());
                    let fb = self.files.get(b.2 as usize).map(|f| f.rel.as_str());
                    fa.cmp(&fb)
                })
                .then(a.3.cmp(&b.3))
        };
        if hits.len() > room && room > 0 {
            hits.select_nth_unstable_by(room - 1, cmp);
            hits.truncate(room);
        }
        hits.sort_unstable_by(cmp);
        hits.truncate(room);
        for (score, _, f, t) in hits {
            if let Some(symbol) = self.symbol(f, t) {
                out.push(SymbolHit {
                    symbol: symbol.clone(),
                    kind,
                    score,
                });
            }
        }
        out.len() >= limit
    }
}
