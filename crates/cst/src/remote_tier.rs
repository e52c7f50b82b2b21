//! The shared remote tier (feature `remote`): the store's records of each
//! content key, bundled, pushed to and pulled from a `cst_remote::Remote`
//! (docs/REMOTE.md, "Bundles").
//!
//! A push bundles, for every path under a directory, the records filed
//! under its content key — the tree, the source, the tags — with the
//! language, the grammar's fingerprint and the format version, and hands
//! the bundles and the dictionaries they were compressed with to the
//! remote (which writes what it lacks). A pull fetches the branch's signed
//! manifest, the dictionaries and the packs, and keeps a bundle only when
//! every check holds: the grammar and format are this build's, the source
//! hashes to the key, the tree opens (its structure checked), the tags
//! decode; and a sample of the trees (`verify_sample`) is parsed again and
//! compared node by node before a pack is kept — a difference refuses that
//! pack and every later one. Nothing is mapped to a path here: the next
//! index finds the content stored and parses nothing.
//!
//! Both report their progress, for a progress bar, through the
//! `*_with` variants ([`Cache::push_remote_with`],
//! [`Cache::pull_remote_with`]): a callback called on the caller's thread
//! with a [`RemoteProgress`] as bundles are made or packs are fetched.

use std::path::Path;

use bytes::Bytes;
use cst_bytecode::TreeView;
use cst_grammars::Grammar;
use cst_remote::{Fingerprint, Push, Remote, SigningKey};
use cst_tiers::Key;
use rustc_hash::FxHashSet;

use crate::keys::{StoreKey, TagsHash, content_keys};
use crate::{Cache, Error};

/// A bundle's first bytes.
const MAGIC: &[u8; 4] = b"CSTB";
/// The bundle layout's version.
const BUNDLE_VERSION: u8 = 1;
/// The refusal of a ref older than one seen before.
const ROLLBACK: &str = "older than a manifest seen before";
/// The refusal of a tree that differs from a fresh parse of its source.
const DIFFERS: &str = "differs from a fresh parse";
/// The label prefix of dictionaries in a manifest.
const DICT_LABEL: &str = "cst/dict/";

/// Progress of a push or a pull, for a progress bar (see
/// [`Cache::push_remote_with`] and [`Cache::pull_remote_with`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteProgress {
    /// Units handled so far: bundles made for a push, the manifest's packs
    /// looked at (fetched, present or refused) for a pull.
    pub done: u64,
    /// Units in all: the content keys to bundle, the manifest's packs.
    pub total: u64,
    /// Bytes transferred so far (uploaded for a push, downloaded for a
    /// pull), as the remote counts them.
    pub bytes: u64,
}

/// What [`Cache::push_remote`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PushSummary {
    /// Bundles made (one per distinct content key under the directory).
    pub bundles: u64,
    /// Paths whose records could not be read (not stored, damaged).
    pub skipped: u64,
    /// Of the bundles, those the remote held already.
    pub present: u64,
    /// Bundles written in new packs.
    pub pushed: u64,
    /// Dictionaries uploaded.
    pub dictionaries: u64,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Whether the branch's ref moved.
    pub ref_updated: bool,
    /// The push compacted: the manifest lists only its packs.
    pub compacted: bool,
    /// Packs the previous manifest listed that the new one does not.
    pub packs_dropped: u64,
}

/// What [`Cache::pull_remote`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PullSummary {
    /// Packs some of whose bundles were fetched and kept.
    pub packs: u64,
    /// Bundles the manifest lists (by their packs' indexes).
    pub bundles: u64,
    /// Bundles whose records were written to the local store.
    pub imported: u64,
    /// Bundles whose tree the local store held already.
    pub present: u64,
    /// Bundles refused, by reason (another grammar or format, a source
    /// that does not hash to its key, a tree that does not open…).
    pub rejected: std::collections::BTreeMap<String, u64>,
    /// Trees parsed again and compared (the sample).
    pub verified: u64,
    /// Packs refused: damaged, or after a sampled tree differed.
    pub packs_refused: u64,
    /// Dictionaries added to the local store.
    pub dictionaries: u64,
    /// Bytes downloaded (as the remote counts them).
    pub bytes: u64,
    /// Requests made.
    pub requests: u64,
    /// The branch's manifest is the one pulled last, whole: nothing else
    /// was fetched.
    pub up_to_date: bool,
    /// With [`PullOptions::only_for`]: the contents of the directory's
    /// files that an index would parse (the store lacks their trees), the
    /// only bundles fetched. `None`: every bundle the store lacks.
    pub wanted: Option<u64>,
    /// Bundles the store lacks that were not fetched: of no file wanted.
    pub not_wanted: u64,
}

/// How [`Cache::push_remote_with`] pushes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PushOptions {
    /// Compact when the branch's manifest lists more packs than this: the
    /// push packs every bundle under the directory anew and the new
    /// manifest lists only these packs (see `cst_remote::Push`). `None`:
    /// never; `Some(0)`: always. Default `Some(64)`, as `[remote]
    /// compact_over`.
    pub compact_over: Option<usize>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            compact_over: Some(64),
        }
    }
}

impl PushOptions {
    /// Compacts over `packs` packs (`None`: never).
    pub fn compact_over(mut self, packs: Option<usize>) -> Self {
        self.compact_over = packs;
        self
    }
}

/// How [`Cache::pull_remote_with`] pulls.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct PullOptions {
    /// The share of fetched trees parsed again and compared (0 to 1).
    pub verify_sample: f64,
    /// Fetch only the bundles of the files under this directory that an
    /// index would parse now (read as the index reads them: files
    /// unchanged since they were indexed are not read). With none wanted,
    /// the remote is not asked at all. `None`: every bundle the manifest
    /// lists that the store lacks (a remote holds every version pushed,
    /// so this can be far more than a directory needs).
    pub only_for: Option<std::path::PathBuf>,
}

impl PullOptions {
    /// Every bundle the store lacks, `verify_sample` of them parsed again.
    pub fn new(verify_sample: f64) -> Self {
        PullOptions {
            verify_sample,
            only_for: None,
        }
    }

    /// Only what the files under `dir` need.
    pub fn only_for(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.only_for = Some(dir.into());
        self
    }
}

impl Cache {
    /// Pushes the records of every path indexed under `dir` to `remote`'s
    /// `branch`, signed with `key`: one delta pack of the bundles the
    /// remote lacks, the dictionaries they need, a new manifest and the
    /// ref (see the module documentation).
    pub fn push_remote(
        &self,
        remote: &Remote,
        branch: &str,
        key: &SigningKey,
        dir: &Path,
    ) -> Result<PushSummary, Error> {
        self.push_remote_with(remote, branch, key, dir, &PushOptions::default(), &|_| {})
    }

    /// [`Cache::push_remote`], calling `progress` (on this thread) as
    /// bundles are made and handed to the remote, and once at the end.
    pub fn push_remote_with(
        &self,
        remote: &Remote,
        branch: &str,
        key: &SigningKey,
        dir: &Path,
        options: &PushOptions,
        progress: &dyn Fn(RemoteProgress),
    ) -> Result<PushSummary, Error> {
        let before = remote.stats().bytes_out;
        let store = self.inner.store.as_ref().ok_or(Error::NoStore)?;
        let mut summary = PushSummary::default();
        // The distinct content keys under `dir`, and their grammars.
        let mut seen: FxHashSet<Key> = FxHashSet::default();
        let mut keys: Vec<(Key, &'static Grammar)> = Vec::new();
        let mut fingerprints: Vec<Fingerprint> = Vec::new();
        let mut languages: FxHashSet<&'static str> = FxHashSet::default();
        for path in self.paths() {
            if !path.starts_with(dir) {
                continue;
            }
            let Some((k, g)) = self.record_of(&path) else {
                continue;
            };
            if !seen.insert(k) {
                continue;
            }
            if languages.insert(g.id()) {
                fingerprints.push(Fingerprint {
                    id: g.id().to_string(),
                    fingerprint: g.fingerprint()?.0,
                });
            }
            keys.push((k, g));
        }
        // Every dictionary of the store (a record names the one it needs;
        // the remote lists each once).
        let mut dicts: Vec<(String, Bytes)> = Vec::new();
        let mut ids: Vec<u32> = store
            .keys()
            .iter()
            .filter_map(|k| crate::keys::dictionary_id_of(k))
            .collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(d) = store.get(&StoreKey::Dictionary(id).bytes())? {
                dicts.push((format!("{DICT_LABEL}{id:08x}"), d));
            }
        }
        // Bundled as the client takes them (it writes pack by pack): the
        // store's records are never all in memory at once.
        let skipped = std::cell::Cell::new(0u64);
        let made = std::cell::Cell::new(0u64);
        let total = keys.len() as u64;
        let tick = |done: u64| {
            progress(RemoteProgress {
                done,
                total,
                bytes: remote.stats().bytes_out.saturating_sub(before),
            });
        };
        tick(0);
        let bundles = keys
            .iter()
            .enumerate()
            .map(|(i, kg)| {
                // `i` bundles handled (0 was said before the remote read
                // its old packs' indexes).
                if i > 0 {
                    tick(i as u64);
                }
                kg
            })
            .filter_map(|(k, g)| match self.bundle_of(store, k, g) {
                Ok(Some(b)) => {
                    made.set(made.get() + 1);
                    Some((k.0, b))
                }
                Ok(None) => {
                    skipped.set(skipped.get() + 1);
                    None
                }
                Err(e) => {
                    tracing::warn!(error = %e, "records not pushed");
                    skipped.set(skipped.get() + 1);
                    None
                }
            });
        let report = remote.push(
            &Push {
                branch,
                format: u32::from(cst_bytecode::VERSION),
                fingerprints: &fingerprints,
                dicts: &dicts,
                signing_key: key,
                compact_over: options.compact_over,
            },
            bundles,
        )?;
        summary.bundles = made.get();
        summary.skipped = skipped.get();
        summary.present = report.records_present;
        summary.pushed = report.records_pushed;
        summary.dictionaries = report.dicts_pushed;
        summary.bytes = report.bytes_uploaded;
        summary.ref_updated = report.ref_updated;
        summary.compacted = report.compacted;
        summary.packs_dropped = report.packs_dropped;
        tick(total);
        Ok(summary)
    }

    /// The bundle of content key `k` in `g`; `None` when its tree or
    /// source is not in the store.
    fn bundle_of(
        &self,
        store: &cst_tiers::FrozenStore,
        k: &Key,
        g: &'static Grammar,
    ) -> Result<Option<Bytes>, Error> {
        let Some(tree) = store.get(&StoreKey::Tree(*k).bytes())? else {
            return Ok(None);
        };
        let (source_kind, source) = match store.get(&StoreKey::Source(*k).bytes())? {
            Some(s) => (b'Z', s),
            None => match store.get(&StoreKey::RawSource(*k).bytes())? {
                Some(s) => (b'S', s),
                None => return Ok(None),
            },
        };
        let hash = self.tags_hash(g);
        let tags = store.get(&StoreKey::Tags(*k, hash).bytes())?;
        let mut b = Vec::with_capacity(tree.len() + source.len() + 64);
        b.extend_from_slice(MAGIC);
        b.push(BUNDLE_VERSION);
        b.push(g.id().len() as u8);
        b.extend_from_slice(g.id().as_bytes());
        b.extend_from_slice(&g.fingerprint()?.0);
        b.extend_from_slice(&cst_bytecode::VERSION.to_le_bytes());
        let mut entries: Vec<(u8, Option<TagsHash>, &[u8])> =
            vec![(b'R', None, &tree), (source_kind, None, &source)];
        if let Some(t) = &tags {
            entries.push((b'G', Some(hash), t));
        }
        b.push(entries.len() as u8);
        for (kind, hash, bytes) in entries {
            b.push(kind);
            if let Some(h) = hash {
                b.extend_from_slice(&h);
            }
            b.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            b.extend_from_slice(bytes);
        }
        Ok(Some(Bytes::from(b)))
    }

    /// Pulls `remote`'s `branch` into the local store (see the module
    /// documentation): the ref's signature is checked against the
    /// remote's public key, every pack and record against the manifest,
    /// every bundle against this build; a share `verify_sample` (from 0
    /// to 1) of the trees is parsed again. A remote that fails is an error
    /// the caller treats as a miss (index locally); what was kept stays.
    pub fn pull_remote(
        &self,
        remote: &Remote,
        branch: &str,
        verify_sample: f64,
    ) -> Result<PullSummary, Error> {
        self.pull_remote_with(remote, branch, &PullOptions::new(verify_sample), &|_| {})
    }

    /// [`Cache::pull_remote`] with `options`, calling `progress` (on this
    /// thread) before each of the manifest's packs is looked at, and once
    /// after the last.
    pub fn pull_remote_with(
        &self,
        remote: &Remote,
        branch: &str,
        options: &PullOptions,
        progress: &dyn Fn(RemoteProgress),
    ) -> Result<PullSummary, Error> {
        let store = self.writable_store().ok_or(Error::NoStore)?;
        let verify_sample = options.verify_sample;
        let mut summary = PullSummary::default();
        let wanted_keys = match &options.only_for {
            Some(dir) => {
                let w = crate::walk::wanted_keys(self, dir)?;
                summary.wanted = Some(w.len() as u64);
                if w.is_empty() {
                    // Every file is a hit: nothing to ask the remote for.
                    return Ok(summary);
                }
                Some(w)
            }
            None => None,
        };
        let before = remote.stats();
        let Some(manifest) = remote.fetch_ref(branch)? else {
            return Ok(summary);
        };
        let state = |ext: &str| {
            self.dir().map(|d| {
                d.join("remote")
                    .join(format!("{}.{ext}", cst_remote::to_hex(branch.as_bytes())))
            })
        };
        // A validly signed ref older than one seen before (a ref written
        // back: a rollback) is refused; the highest generation is kept.
        let generation = manifest.manifest.generation;
        if let Some(g) = state("generation") {
            let seen: u64 = std::fs::read_to_string(&g)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            if generation < seen {
                tracing::warn!(
                    branch,
                    generation,
                    seen,
                    "the remote's ref is older than one seen before: refused"
                );
                *summary.rejected.entry(ROLLBACK.into()).or_default() += 1;
                return Ok(summary);
            }
            if generation > seen {
                if let Some(dir) = g.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                if let Err(e) = std::fs::write(&g, generation.to_string()) {
                    tracing::debug!(error = %e, "remote generation not remembered");
                }
            }
        }
        // The manifest pulled last, whole: nothing new to look at.
        let mark = state("pulled");
        let digest = cst_remote::to_hex(&manifest.digest);
        if let Some(m) = &mark
            && std::fs::read_to_string(m).is_ok_and(|s| s.trim() == digest)
        {
            summary.up_to_date = true;
            let after = remote.stats();
            summary.requests = after.requests.saturating_sub(before.requests);
            summary.bytes = after.bytes_in.saturating_sub(before.bytes_in);
            return Ok(summary);
        }
        for d in &manifest.manifest.dicts {
            let Some(id) = d
                .name
                .strip_prefix(DICT_LABEL)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
            else {
                continue;
            };
            let key = StoreKey::Dictionary(id).bytes();
            if store.contains(&key) {
                continue;
            }
            let bytes = remote.fetch_dict(d)?;
            // A dictionary's id is the CRC-32C of its bytes.
            if cst_bytecode::Dictionary::from_bytes(bytes.to_vec()).id() != id {
                *summary.rejected.entry("dictionary".into()).or_default() += 1;
                continue;
            }
            store.put(&key, &bytes)?;
            summary.dictionaries += 1;
        }
        let threshold = (verify_sample.clamp(0.0, 1.0) * 65536.0) as u32;
        let total = manifest.manifest.packs.len() as u64;
        let tick = |done: u64| {
            progress(RemoteProgress {
                done,
                total,
                bytes: remote.stats().bytes_in.saturating_sub(before.bytes_in),
            });
        };
        'packs: for (i, entry) in manifest.manifest.packs.iter().enumerate() {
            tick(i as u64);
            // The pack's index first (small): only the bundles this store
            // lacks are read, by range or, when most are wanted, whole.
            let index = match remote.fetch_index(entry) {
                Ok(i) => i,
                Err(e) => {
                    tracing::warn!(error = %e, "remote pack index refused");
                    summary.packs_refused += 1;
                    continue;
                }
            };
            let mut wanted = Vec::new();
            for e in index.iter() {
                summary.bundles += 1;
                if store.contains(&StoreKey::Tree(Key(e.key)).bytes()) {
                    summary.present += 1;
                } else if wanted_keys.as_ref().is_some_and(|w| !w.contains(&e.key)) {
                    summary.not_wanted += 1;
                } else {
                    wanted.push(e);
                }
            }
            if wanted.is_empty() {
                continue;
            }
            let bodies = match remote.fetch_records(entry, &wanted) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "remote pack refused");
                    summary.packs_refused += 1;
                    continue;
                }
            };
            // Every bundle of the pack checked before any is kept.
            let mut keep: Vec<Vec<(StoreKey, Bytes)>> = Vec::new();
            for (e, body) in wanted.iter().zip(bodies) {
                let Some(body) = body else {
                    *summary.rejected.entry("record".into()).or_default() += 1;
                    continue;
                };
                let k = Key(e.key);
                let sample = u32::from(u16::from_le_bytes([k.0[0], k.0[1]])) < threshold;
                match self.check_bundle(&k, &body, sample)? {
                    Checked::Keep(records) => {
                        summary.verified += u64::from(sample);
                        keep.push(records);
                    }
                    Checked::Refuse(reason) => {
                        *summary.rejected.entry(reason.into()).or_default() += 1;
                    }
                }
            }
            if summary.rejected.contains_key(DIFFERS) {
                summary.packs_refused += 1;
                tracing::warn!(
                    "a sampled tree differs from a fresh parse: the rest of the manifest is refused"
                );
                break 'packs;
            }
            for records in keep {
                // The source before the tree, as a local index writes them.
                for (sk, bytes) in &records {
                    store.put(&sk.bytes(), bytes)?;
                }
                summary.imported += 1;
            }
            summary.packs += 1;
        }
        tick(total);
        if summary.imported > 0 || summary.dictionaries > 0 {
            store.flush()?;
        }
        // Remembered only when every pack was taken whole (and the
        // store's records are on disk): a later pull of the same manifest
        // then reads the ref and the manifest, and no pack. (A pull for a
        // directory's files took only some.)
        if summary.packs_refused == 0
            && summary.rejected.is_empty()
            && wanted_keys.is_none()
            && let Some(m) = &mark
        {
            if let Some(dir) = m.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Err(e) = std::fs::write(m, &digest) {
                tracing::debug!(error = %e, "pulled manifest not remembered");
            }
        }
        let after = remote.stats();
        summary.bytes = after.bytes_in.saturating_sub(before.bytes_in);
        summary.requests = after.requests.saturating_sub(before.requests);
        Ok(summary)
    }

    /// Checks one bundle against this build (see the module docs).
    fn check_bundle(&self, k: &Key, body: &[u8], sample: bool) -> Result<Checked, Error> {
        let Some(b) = Bundle::parse(body) else {
            return Ok(Checked::Refuse("malformed bundle"));
        };
        let Some(g) = cst_grammars::by_id(b.language).filter(|g| g.is_available()) else {
            return Ok(Checked::Refuse("language not in this build"));
        };
        let fingerprint = g.fingerprint()?.0;
        if b.fingerprint != fingerprint {
            return Ok(Checked::Refuse("another grammar version"));
        }
        if b.format != cst_bytecode::VERSION {
            return Ok(Checked::Refuse("another format version"));
        }
        let (Some(tree), Some((source_kind, source_record))) = (b.tree, b.source) else {
            return Ok(Checked::Refuse("malformed bundle"));
        };
        let source: Vec<u8> = if source_kind == b'Z' {
            match self.inner.decompress(source_record) {
                Ok(s) => s,
                Err(_) => return Ok(Checked::Refuse("source does not decompress")),
            }
        } else {
            source_record.to_vec()
        };
        if content_keys(&source, g.id(), fingerprint, cst_bytecode::VERSION).0 != *k {
            return Ok(Checked::Refuse("source does not hash to its key"));
        }
        let tree_bytes = Bytes::copy_from_slice(tree);
        let view = match self.inner.unpack(&tree_bytes) {
            Ok(raw) => match TreeView::from_bytes(raw, self.symbols(g)?) {
                Ok(v) => v,
                Err(_) => return Ok(Checked::Refuse("tree does not open")),
            },
            Err(_) => return Ok(Checked::Refuse("tree does not decompress")),
        };
        if view.source_len() != source.len() {
            return Ok(Checked::Refuse("tree does not span its source"));
        }
        if sample {
            let fresh = g
                .parser()?
                .parse(&source, None)
                .ok_or_else(|| Error::Parse("<remote>".into()))?;
            if cst_bytecode::verify(&fresh, &view).is_err() {
                return Ok(Checked::Refuse(DIFFERS));
            }
        }
        let source_key = if source_kind == b'Z' {
            StoreKey::Source(*k)
        } else {
            StoreKey::RawSource(*k)
        };
        let mut records = vec![
            (source_key, Bytes::copy_from_slice(source_record)),
            (StoreKey::Tree(*k), tree_bytes),
        ];
        // Tags only for this build's tags query, and only when they decode.
        if let Some((hash, tags)) = b.tags
            && hash == self.tags_hash(g)
            && let Ok(Some(config)) = self.tags_config(g)
            && cst_tags::decode_tags(tags, source.len(), config.syntax_type_names().len()).is_ok()
        {
            records.push((StoreKey::Tags(*k, hash), Bytes::copy_from_slice(tags)));
        }
        Ok(Checked::Keep(records))
    }
}

/// A bundle's verdict.
enum Checked {
    Keep(Vec<(StoreKey, Bytes)>),
    Refuse(&'static str),
}

/// A bundle, parsed (docs/REMOTE.md, "Bundles").
struct Bundle<'a> {
    language: &'a str,
    fingerprint: [u8; 16],
    format: u16,
    tree: Option<&'a [u8]>,
    source: Option<(u8, &'a [u8])>,
    tags: Option<(TagsHash, &'a [u8])>,
}

impl<'a> Bundle<'a> {
    fn parse(b: &'a [u8]) -> Option<Bundle<'a>> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Option<&'a [u8]> {
            let s = b.get(at..at.checked_add(n)?)?;
            at += n;
            Some(s)
        };
        if take(4)? != MAGIC || take(1)?[0] != BUNDLE_VERSION {
            return None;
        }
        let n = usize::from(take(1)?[0]);
        let language = std::str::from_utf8(take(n)?).ok()?;
        let fingerprint: [u8; 16] = take(16)?.try_into().ok()?;
        let format = u16::from_le_bytes(take(2)?.try_into().ok()?);
        let count = take(1)?[0];
        let mut bundle = Bundle {
            language,
            fingerprint,
            format,
            tree: None,
            source: None,
            tags: None,
        };
        for _ in 0..count {
            let kind = take(1)?[0];
            let hash: Option<TagsHash> = match kind {
                b'G' => Some(take(16)?.try_into().ok()?),
                _ => None,
            };
            let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            let bytes = take(len)?;
            match (kind, hash) {
                (b'R', _) if bundle.tree.is_none() => bundle.tree = Some(bytes),
                (b'Z' | b'S', _) if bundle.source.is_none() => bundle.source = Some((kind, bytes)),
                (b'G', Some(h)) if bundle.tags.is_none() => bundle.tags = Some((h, bytes)),
                _ => return None,
            }
        }
        (at == b.len()).then_some(bundle)
    }
}
