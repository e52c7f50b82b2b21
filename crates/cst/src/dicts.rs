//! Trained zstd dictionaries, per language, one for encoded trees and one for
//! sources, trained by the store from the workspace's own files.
//!
//! While a language has no dictionary of a kind, the files stored offer
//! samples (up to [`SAMPLE_BYTES`] of each); the first [`KEEP_BYTES`] of
//! them (from [`MIN_SAMPLES`] files at least) are kept. Once
//! [`TRAIN_BYTES`] were offered, a dictionary of at most [`DICT_BYTES`] is
//! trained from the kept samples (`zstd::dict::from_samples`), stored, and
//! used for every new record of that language and kind. Records written before
//! stay as they are: each compressed container names the dictionary it
//! needs by id (0 for none), and every dictionary ever stored stays readable.
//!
//! Records (docs/FORMAT.md, "Records the facade keeps"):
//! - `\0cst/dict/v1/<id as 8 hex digits>`: the dictionary's bytes (its id is
//!   their CRC-32C, so a record that does not match its key is not used);
//! - `\0cst/dicts/v1`: the directory, which dictionary is current for each
//!   (language, kind).

use std::sync::Arc;

use cst_bytecode::Dictionary;
use cst_tiers::FrozenStore;

use crate::keys::StoreKey;
use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;

/// Largest part of one file taken as a sample.
pub(crate) const SAMPLE_BYTES: usize = 64 << 10;
/// Sample bytes offered before training: a language with less gains less
/// from a dictionary than the dictionary takes (on the ci bench corpora a
/// dictionary saves 5.6–10% of the zstd-9 bytes of the files stored after
/// it; with 512 KiB the 64 KiB dictionaries of kotlin, lua and objc made
/// their stores 11–25% larger).
pub(crate) const TRAIN_BYTES: usize = 2 << 20;
/// Sample bytes kept to train from. A dictionary trained from the first
/// 512 KiB saves as much on the files after it as one trained from 2 MiB
/// (trees and sources of Python, C, Rust, Go and Java), in 40% of the time
/// (about 45 ms instead of 100–135 ms, which an index run spends once per
/// language and kind, on the thread storing the sample that reaches
/// [`TRAIN_BYTES`]).
pub(crate) const KEEP_BYTES: usize = 512 << 10;
/// Files sampled (and kept) at least before training.
pub(crate) const MIN_SAMPLES: usize = 48;
/// Largest dictionary trained.
pub(crate) const DICT_BYTES: usize = 64 << 10;

const DIRECTORY_MAGIC: [u8; 4] = *b"CSTD";
const DIRECTORY_VERSION: u16 = 1;

/// What a dictionary compresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// Encoded trees.
    Tree,
    /// Sources.
    Source,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Tree => 1,
            Kind::Source => 2,
        }
    }
    fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Tree),
            2 => Some(Kind::Source),
            _ => None,
        }
    }
}

#[derive(Default)]
struct Samples {
    /// The kept samples: the first files' until [`KEEP_BYTES`] from at
    /// least [`MIN_SAMPLES`] files.
    items: Vec<Vec<u8>>,
    kept: usize,
    /// Sample bytes offered, kept or not.
    bytes: usize,
    /// Files that offered one.
    files: usize,
    /// Taken by a thread that is training from them.
    training: bool,
}

/// The dictionaries of one store.
#[derive(Default)]
pub(crate) struct Dicts {
    /// Every dictionary read or trained, by id.
    by_id: RwLock<FxHashMap<u32, Arc<Dictionary>>>,
    /// The current one per (language, kind).
    current: RwLock<FxHashMap<(&'static str, Kind), u32>>,
    samples: Mutex<FxHashMap<(&'static str, Kind), Samples>>,
}

impl Dicts {
    /// The directory stored in `store` (an unreadable one is ignored, with a
    /// warning: new dictionaries are then trained, and old records still
    /// name theirs by id).
    pub(crate) fn load(store: &FrozenStore) -> Dicts {
        let dicts = Dicts::default();
        match store.get(&StoreKey::DictionaryDirectory.bytes()) {
            Ok(Some(b)) => match decode_directory(&b) {
                Some(entries) => *dicts.current.write() = entries.into_iter().collect(),
                None => tracing::warn!("dictionary directory unreadable: training new ones"),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "dictionary directory unreadable"),
        }
        dicts
    }

    /// Reads the directory again (a reader's refresh).
    pub(crate) fn reload(&self, store: &FrozenStore) {
        let fresh = Dicts::load(store);
        *self.current.write() = fresh.current.into_inner();
    }

    /// The dictionary `id`, from memory or the store.
    pub(crate) fn get(&self, store: Option<&FrozenStore>, id: u32) -> Option<Arc<Dictionary>> {
        if let Some(d) = self.by_id.read().get(&id) {
            return Some(d.clone());
        }
        let bytes = store?.get(&StoreKey::Dictionary(id).bytes()).ok()??;
        let d = Dictionary::from_bytes(bytes.to_vec());
        if d.id() != id {
            tracing::warn!(id, "stored dictionary does not match its id: not used");
            return None;
        }
        let d = Arc::new(d);
        self.by_id.write().insert(id, d.clone());
        Some(d)
    }

    /// The dictionary new records of `language` and `kind` are compressed with.
    pub(crate) fn current(
        &self,
        store: Option<&FrozenStore>,
        language: &'static str,
        kind: Kind,
    ) -> Option<Arc<Dictionary>> {
        let id = *self.current.read().get(&(language, kind))?;
        self.get(store, id)
    }

    /// Whether `language` and `kind` still collect samples (no dictionary yet).
    pub(crate) fn wants(&self, language: &'static str, kind: Kind) -> bool {
        !self.current.read().contains_key(&(language, kind))
    }

    /// Offers a sample of `language` and `kind` (while it has no dictionary);
    /// trains and stores one when enough are collected. Returns the new
    /// dictionary, if this call trained one.
    pub(crate) fn offer(
        &self,
        store: &FrozenStore,
        language: &'static str,
        kind: Kind,
        sample: &[u8],
    ) -> Option<Arc<Dictionary>> {
        if sample.is_empty() || self.current.read().contains_key(&(language, kind)) {
            return None;
        }
        let taken = {
            let mut all = self.samples.lock();
            let s = all.entry((language, kind)).or_default();
            if s.training {
                return None;
            }
            let part = &sample[..sample.len().min(SAMPLE_BYTES)];
            if s.kept < KEEP_BYTES || s.items.len() < MIN_SAMPLES {
                s.items.push(part.to_vec());
                s.kept += part.len();
            }
            s.bytes += part.len();
            s.files += 1;
            if s.bytes < TRAIN_BYTES || s.files < MIN_SAMPLES {
                return None;
            }
            s.training = true;
            std::mem::take(&mut s.items)
        };
        // Trained outside the lock: other threads store without a
        // dictionary meanwhile.
        let trained = Dictionary::train(&taken, DICT_BYTES);
        let mut all = self.samples.lock();
        let d = match trained {
            Ok(d) => Arc::new(d),
            Err(e) => {
                // Too little variety (zstd says so): give up on this
                // language and kind for this session.
                tracing::info!(language, ?kind, error = %e, "no dictionary trained");
                return None;
            }
        };
        if let Err(e) = store.put(&StoreKey::Dictionary(d.id()).bytes(), d.as_bytes()) {
            tracing::warn!(error = %e, "could not store a dictionary");
            all.remove(&(language, kind));
            return None;
        }
        self.by_id.write().insert(d.id(), d.clone());
        let directory = {
            let mut current = self.current.write();
            current.insert((language, kind), d.id());
            encode_directory(&current)
        };
        if let Err(e) = store.put(&StoreKey::DictionaryDirectory.bytes(), &directory) {
            tracing::warn!(error = %e, "could not store the dictionary directory");
        }
        all.remove(&(language, kind));
        tracing::info!(
            language,
            ?kind,
            id = d.id(),
            bytes = d.as_bytes().len(),
            "dictionary trained"
        );
        Some(d)
    }

    /// The current dictionaries: (language, kind, id, bytes).
    pub(crate) fn list(
        &self,
        store: Option<&FrozenStore>,
    ) -> Vec<(&'static str, Kind, u32, usize)> {
        let current: Vec<_> = self
            .current
            .read()
            .iter()
            .map(|(&(l, k), &id)| (l, k, id))
            .collect();
        let mut out: Vec<_> = current
            .into_iter()
            .map(|(l, k, id)| {
                let bytes = self.get(store, id).map_or(0, |d| d.as_bytes().len());
                (l, k, id, bytes)
            })
            .collect();
        out.sort_by_key(|e| (e.0, e.1.byte()));
        out
    }
}

fn encode_directory(current: &FxHashMap<(&'static str, Kind), u32>) -> Vec<u8> {
    let mut entries: Vec<_> = current.iter().collect();
    entries.sort_by_key(|((l, k), _)| (*l, k.byte()));
    let mut out = Vec::new();
    out.extend_from_slice(&DIRECTORY_MAGIC);
    out.extend_from_slice(&DIRECTORY_VERSION.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for ((language, kind), id) in entries {
        out.push(kind.byte());
        out.push(language.len() as u8);
        out.extend_from_slice(language.as_bytes());
        out.extend_from_slice(&id.to_le_bytes());
    }
    let sum = crc32c::crc32c(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// The directory's entries; `None` if it is damaged or of another version.
/// Languages this build lacks are skipped.
fn decode_directory(b: &[u8]) -> Option<Vec<((&'static str, Kind), u32)>> {
    if b.len() < 16 || b[..4] != DIRECTORY_MAGIC {
        return None;
    }
    let (body, sum) = b.split_at(b.len() - 4);
    if crc32c::crc32c(body) != u32::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    if u16::from_le_bytes([body[4], body[5]]) != DIRECTORY_VERSION {
        return None;
    }
    let n = u32::from_le_bytes(body[8..12].try_into().ok()?) as usize;
    let mut r = &body[12..];
    let mut out = Vec::new();
    for _ in 0..n {
        let (&kind, rest) = r.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let len = usize::from(len);
        if rest.len() < len + 4 {
            return None;
        }
        let name = std::str::from_utf8(&rest[..len]).ok()?;
        let id = u32::from_le_bytes(rest[len..len + 4].try_into().ok()?);
        r = &rest[len + 4..];
        let kind = Kind::from_byte(kind)?;
        if let Some(g) = cst_grammars::by_id(name) {
            out.push(((g.id(), kind), id));
        }
    }
    r.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Source-like text with some variety, `len` bytes, different per `seed`.
    fn sample(seed: usize, len: usize) -> Vec<u8> {
        let words = [
            "fn", "let", "match", "impl", "struct", "return", "self", "where",
        ];
        let mut out = Vec::with_capacity(len + 64);
        let mut i = seed;
        while out.len() < len {
            i = i
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let w = words[(i >> 33) % words.len()];
            out.extend_from_slice(
                format!("    {w} item_{}({});\n", (i >> 40) % 97, seed).as_bytes(),
            );
        }
        out.truncate(len);
        out
    }

    #[test]
    fn trains_once_enough_is_offered_from_what_it_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = FrozenStore::open(dir.path(), cst_tiers::FrozenOptions::default()).unwrap();
        let dicts = Dicts::default();
        // Small files: the first KEEP_BYTES are kept; large ones: the first
        // MIN_SAMPLES files'.
        for (language, part) in [("python", 8 << 10), ("rust", 40 << 10)] {
            let under = TRAIN_BYTES / part - 1;
            for i in 0..under {
                let offered = dicts.offer(&store, language, Kind::Source, &sample(i, part));
                assert!(offered.is_none(), "{language}: trained under TRAIN_BYTES");
            }
            assert!(dicts.wants(language, Kind::Source));
            {
                let all = dicts.samples.lock();
                let s = &all[&(language, Kind::Source)];
                assert_eq!((s.bytes, s.files), (under * part, under));
                let kept = MIN_SAMPLES.max(KEEP_BYTES.div_ceil(part));
                assert!(kept < under, "{language}: every sample kept");
                assert_eq!((s.items.len(), s.kept), (kept, kept * part), "{language}");
            }
            // The sample that reaches TRAIN_BYTES trains it; the samples go.
            let d = (under..under + 2)
                .find_map(|i| dicts.offer(&store, language, Kind::Source, &sample(i, part)))
                .expect("trained past TRAIN_BYTES");
            assert!(!dicts.wants(language, Kind::Source));
            let current = dicts.current(Some(&store), language, Kind::Source);
            assert_eq!(current.map(|c| c.id()), Some(d.id()));
            assert!(
                dicts
                    .samples
                    .lock()
                    .get(&(language, Kind::Source))
                    .is_none()
            );
            // Trees of the same language still collect their own.
            assert!(dicts.wants(language, Kind::Tree));
        }
    }

    #[test]
    fn directory_round_trips_and_damage_is_refused() {
        let mut m = FxHashMap::default();
        m.insert(("rust", Kind::Tree), 7);
        m.insert(("rust", Kind::Source), 9);
        m.insert(("python", Kind::Source), 11);
        let b = encode_directory(&m);
        let mut back = decode_directory(&b).unwrap();
        back.sort_by_key(|e| (e.0.0, e.0.1.byte()));
        assert_eq!(
            back,
            vec![
                (("python", Kind::Source), 11),
                (("rust", Kind::Tree), 7),
                (("rust", Kind::Source), 9)
            ]
        );
        for i in 0..b.len() {
            let mut d = b.clone();
            d[i] ^= 0x10;
            assert!(decode_directory(&d).is_none(), "flip at {i} accepted");
        }
        for n in 0..b.len() {
            assert!(
                decode_directory(&b[..n]).is_none(),
                "truncation to {n} accepted"
            );
        }
    }
}
