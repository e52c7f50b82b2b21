//! Placement: which tier holds a key, and the moves between tiers (a
//! demotion encodes or compresses, a promotion decompresses), under the
//! policy of `cst-policy`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cst_bytecode::{Codec, Symbols, TreeView};
use cst_grammars::Grammar;
use cst_tiers::Key;
use parking_lot::{Mutex, MutexGuard};

use crate::cache::{COLD, HOT, WARM};
use crate::hot::HotEntry;
use crate::{Cache, Compression, Config, Error};

/// Smallest per-shard budget of any tier: below it, sharding would make
/// large files spill out of a shard that is too small for them.
pub(crate) const MIN_SHARD_BYTES: u64 = 4 << 20;

/// Number of policy shards for `config`: a power of two, at most 16, such
/// that every tier's share stays at least [`MIN_SHARD_BYTES`] (so small
/// budgets, as in tests, keep one exact policy).
pub(crate) fn policy_shards(config: &Config) -> usize {
    let smallest = config
        .hot_bytes
        .min(config.warm_bytes)
        .min(config.cold_bytes);
    let n = (smallest / MIN_SHARD_BYTES).clamp(1, 16);
    1 << n.ilog2()
}

/// One policy shard: the configured budgets divided by `shards`.
pub(crate) fn new_policy(config: &Config, shards: usize) -> cst_policy::TierPolicy<Key> {
    let share = |b: u64| b / shards as u64;
    // Hot entries are the trees parsed or edited here; nothing is promoted
    // into hot (that would need a parse). Two hits in cold promote an entry
    // to warm.
    let tiers = vec![
        cst_policy::TierConfig::new(share(config.hot_bytes)),
        cst_policy::TierConfig::new(share(config.warm_bytes)).promote_after(0),
        cst_policy::TierConfig::new(share(config.cold_bytes)).promote_after(2),
    ];
    // Estimated weight in the next tier until the exact size is known
    // (encoded ≈ 1/50 of a live tree, compressed ≈ 1/3 of encoded; see
    // docs/BENCHMARKS.md), then `set_weight` applies the exact size.
    cst_policy::TierPolicy::new(tiers)
        .expect("three tiers")
        .with_reweigh(|_, w, from, to| match (from, to) {
            (HOT, WARM) => (w / 50).max(64),
            (WARM, COLD) => (w / 3).max(32),
            (COLD, WARM) => w.saturating_mul(3),
            _ => w,
        })
}

/// What a batch of moves freed, dropped once the policy lock is released.
#[derive(Default)]
pub(crate) struct Freed {
    trees: Vec<HotEntry>,
    bytes: Vec<bytes::Bytes>,
}

impl Cache {
    /// A tree's bytes as `codec` keeps them: the tree itself (`None`, read
    /// in place) or a dense container.
    pub(crate) fn pack(
        &self,
        raw: &bytes::Bytes,
        codec: Compression,
        language: Option<&'static str>,
        path: &Path,
    ) -> Result<bytes::Bytes, Error> {
        let (codec, dict) = match codec {
            Compression::None => return Ok(raw.clone()),
            Compression::Lz4 => (Codec::Lz4, None),
            Compression::Zstd => (
                Codec::Zstd(self.inner.config.zstd_level),
                language.and_then(|l| self.dictionary_for(l, crate::dicts::Kind::Tree)),
            ),
        };
        // zstd compresses the packed form (byte-aligned, several times
        // smaller compressed); lz4 the tree as it is (the fastest to read).
        let packed;
        let input: &[u8] = if codec == Codec::Lz4 {
            raw
        } else {
            packed = cst_bytecode::pack(raw).map_err(|e| Error::Decode {
                path: path.to_path_buf(),
                source: e,
            })?;
            &packed
        };
        cst_bytecode::compress(input, codec, dict.as_deref())
            .map(bytes::Bytes::from)
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// A source as stored: a zstd container, with the language's source
    /// dictionary once one is trained.
    pub(crate) fn pack_source(
        &self,
        language: &'static str,
        source: &[u8],
        path: &Path,
    ) -> Result<Vec<u8>, Error> {
        let dict = self.dictionary_for(language, crate::dicts::Kind::Source);
        cst_bytecode::compress(
            source,
            Codec::Zstd(self.inner.config.zstd_level),
            dict.as_deref(),
        )
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The current dictionary of `language` and `kind`, when the cache
    /// uses dictionaries.
    pub(crate) fn dictionary_for(
        &self,
        language: &'static str,
        kind: crate::dicts::Kind,
    ) -> Option<Arc<cst_bytecode::Dictionary>> {
        if !self.inner.config.dictionaries {
            return None;
        }
        self.inner
            .dicts
            .current(self.inner.store.as_deref(), language, kind)
    }

    /// The bytes of a compressed container, decompressed with the
    /// dictionary it names (read from the store when not yet in memory).
    pub(crate) fn decompress(&self, dense: &[u8]) -> Result<Vec<u8>, cst_bytecode::DecodeError> {
        let id = cst_bytecode::dictionary_id(dense)?;
        let dict = match id {
            0 => None,
            id => self.inner.dicts.get(self.inner.store.as_deref(), id),
        };
        cst_bytecode::decompress(dense, dict.as_deref())
    }

    /// The tree bytes of a record of the cold tier or the disk: the tree
    /// itself (codec `none`) or a dense container, decompressed (its
    /// checksum checked).
    pub(crate) fn unpack(
        &self,
        record: &bytes::Bytes,
    ) -> Result<bytes::Bytes, cst_bytecode::DecodeError> {
        if record.starts_with(&cst_bytecode::MAGIC) {
            return Ok(record.clone());
        }
        let raw = self.decompress(record)?;
        if cst_bytecode::is_packed(&raw) {
            return cst_bytecode::unpack(&raw).map(bytes::Bytes::from);
        }
        Ok(raw.into())
    }

    /// Opens a record of the cold tier or the disk: in place for codec
    /// `none` (no copy), else decompressed. A record read from disk is
    /// checked as bytes crossing a trust boundary are (checksum, shape
    /// directories, palette: `TreeView::from_bytes`); one of the cold tier
    /// was checked when it entered memory.
    pub(crate) fn open_record(
        &self,
        record: &bytes::Bytes,
        symbols: Arc<Symbols>,
        from_disk: bool,
    ) -> Result<TreeView, cst_bytecode::DecodeError> {
        let raw = self.unpack(record)?;
        if from_disk {
            TreeView::from_bytes(raw, symbols)
        } else {
            TreeView::from_trusted_bytes(raw, symbols)
        }
    }

    /// Node count of `key` if it is cached in any tier (a hit).
    pub(crate) fn cached_node_count(
        &self,
        key: &Key,
        grammar: &'static Grammar,
    ) -> Result<Option<u64>, Error> {
        if let Some(e) = self.inner.hot.get(key) {
            self.touch(key)?;
            return Ok(Some(e.tree.root_node().descendant_count() as u64));
        }
        match self.load_view(key, grammar, Path::new(""))? {
            Some(view) => Ok(Some(view.node_count() as u64)),
            None => Ok(None),
        }
    }

    /// Records an access with the policy and carries out any promotion.
    pub(crate) fn touch(&self, key: &Key) -> Result<(), Error> {
        let now = self.tick();
        let mut policy = self.policy(key).lock();
        let (_, moves) = policy.access(key, now);
        self.apply(policy, moves)
    }

    /// The policy shard that decides for `key`.
    pub(crate) fn policy(&self, key: &Key) -> &Mutex<cst_policy::TierPolicy<Key>> {
        let p = &self.inner.policies;
        // Keys are BLAKE3 digests: any byte is uniform.
        &p[usize::from(key.as_bytes()[0]) & (p.len() - 1)]
    }

    pub(crate) fn tick(&self) -> u64 {
        self.inner.clock.fetch_add(1, Ordering::Relaxed)
    }

    /// The decoded tree of `key` from the warm, cold or frozen tier, or
    /// `None`. A hit is recorded with the policy (which may promote it); an
    /// entry read from disk enters the cold tier.
    pub(crate) fn load_view(
        &self,
        key: &Key,
        grammar: &'static Grammar,
        path: &Path,
    ) -> Result<Option<TreeView>, Error> {
        let symbols = self.symbols(grammar)?;
        let decode_err = |source| Error::Decode {
            path: path.to_path_buf(),
            source,
        };
        if self.inner.warm.contains(key) || self.inner.cold.contains(key) {
            self.touch(key)?;
        }
        if let Some(bytes) = self.inner.warm.get(key) {
            // Checked when it entered memory: opened in place, in O(1).
            return Ok(Some(
                TreeView::from_trusted_bytes(bytes, symbols).map_err(decode_err)?,
            ));
        }
        let dense = match self.inner.cold.get(key) {
            Some(d) => d,
            None => {
                let Some(store) = &self.inner.store else {
                    return Ok(None);
                };
                let dense = match store.get(key.as_bytes()) {
                    Ok(Some(v)) => v,
                    Ok(None) => return Ok(None),
                    // A corrupt record is counted by the store and treated
                    // as a miss: the file is parsed again.
                    Err(e @ cst_tiers::FrozenError::Corrupt { .. }) => {
                        tracing::warn!(path = %path.display(), error = %e, "corrupt stored tree: parsing again");
                        return Ok(None);
                    }
                    Err(e) => return Err(e.into()),
                };
                // The record's checksum held; check that it opens before
                // admitting it to memory.
                let Ok(view) = self.open_record(&dense, symbols, true) else {
                    return Ok(None);
                };
                self.inner.languages.write().insert(*key, grammar.id());
                let now = self.tick();
                let mut policy = self.policy(key).lock();
                // Another thread may have brought it in meanwhile.
                if policy.tier_of(key).is_none() {
                    self.inner.cold.insert(*key, dense.clone());
                    let moves = policy.insert_at(*key, dense.len() as u64, COLD, now);
                    self.inner.promotions[COLD].fetch_add(1, Ordering::Relaxed);
                    self.apply(policy, moves)?;
                }
                return Ok(Some(view));
            }
        };
        Ok(Some(
            self.open_record(&dense, symbols, false)
                .map_err(decode_err)?,
        ))
    }

    /// Carries out the policy's moves, in order: a demotion re-encodes or
    /// compresses the entry for its new tier, a promotion from cold
    /// decompresses it, a drop frees it. Exact sizes go back to the policy,
    /// whose further moves are carried out after.
    ///
    /// Runs under the key's policy shard lock (`policy`), so moves of
    /// concurrent operations on a shard cannot interleave. What the moves
    /// free (live trees, buffers) is dropped after the lock is released.
    pub(crate) fn apply(
        &self,
        mut policy: MutexGuard<'_, cst_policy::TierPolicy<Key>>,
        moves: Vec<cst_policy::Move<Key>>,
    ) -> Result<(), Error> {
        let mut freed = Freed::default();
        let result = self.apply_moves(&mut policy, moves, &mut freed);
        drop(policy);
        drop(freed);
        result
    }

    pub(crate) fn apply_moves(
        &self,
        policy: &mut cst_policy::TierPolicy<Key>,
        moves: Vec<cst_policy::Move<Key>>,
        freed: &mut Freed,
    ) -> Result<(), Error> {
        let mut queue: std::collections::VecDeque<cst_policy::Move<Key>> = moves.into();
        while let Some(m) = queue.pop_front() {
            let key = m.key;
            let exact = match (m.from, m.to) {
                (HOT, Some(WARM)) => {
                    let Some(entry) = self.inner.hot.remove(&key) else {
                        continue;
                    };
                    let encoded = match entry.encoded.clone() {
                        Some(e) => e,
                        None => {
                            let lang = self.inner.languages.read().get(&key).copied();
                            let Some(g) = lang.and_then(cst_grammars::by_id) else {
                                continue;
                            };
                            cst_bytecode::encode(&entry.tree, &entry.source, g.fingerprint()?.0)?
                                .into()
                        }
                    };
                    freed.trees.push(entry);
                    let weight = encoded.len() as u64;
                    self.inner.warm.insert(key, encoded);
                    self.inner.demotions[HOT].fetch_add(1, Ordering::Relaxed);
                    Some(weight)
                }
                (WARM, Some(COLD)) => {
                    let Some(raw) = self.inner.warm.remove(&key) else {
                        continue;
                    };
                    let language = self.inner.languages.read().get(&key).copied();
                    let dense = self.pack(
                        &raw,
                        self.inner.config.cold_codec(),
                        language,
                        Path::new(""),
                    )?;
                    freed.bytes.push(raw);
                    let weight = dense.len() as u64;
                    self.inner.cold.insert(key, dense);
                    self.inner.demotions[WARM].fetch_add(1, Ordering::Relaxed);
                    Some(weight)
                }
                (COLD, Some(WARM)) => {
                    let Some(dense) = self.inner.cold.remove(&key) else {
                        continue;
                    };
                    let raw = match self.unpack(&dense) {
                        Ok(raw) => raw,
                        Err(_) => {
                            // Unreadable: forget it (disk or a parse restores it).
                            policy.remove(&key);
                            continue;
                        }
                    };
                    freed.bytes.push(dense);
                    let weight = raw.len() as u64;
                    self.inner.warm.insert(key, raw);
                    self.inner.promotions[WARM].fetch_add(1, Ordering::Relaxed);
                    Some(weight)
                }
                (from, None) => {
                    match from {
                        HOT => freed.trees.extend(self.inner.hot.remove(&key)),
                        WARM => freed.bytes.extend(self.inner.warm.remove(&key)),
                        _ => freed.bytes.extend(self.inner.cold.remove(&key)),
                    }
                    // Out of memory, the source goes too: a persistent
                    // cache reads it back from the store (or the file).
                    // Kept, the sources of every version ever cached grew
                    // without bound (and the language of every key).
                    self.inner.sources.write().remove(&key);
                    self.inner.languages.write().remove(&key);
                    self.inner.evictions[from.min(COLD)].fetch_add(1, Ordering::Relaxed);
                    None
                }
                _ => None,
            };
            if let Some(w) = exact
                && w != m.weight
            {
                queue.extend(policy.set_weight(&key, w));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hot::tree_key;

    #[test]
    fn policy_shards_follow_the_smallest_budget() {
        // Defaults: cold is 32 MiB → 8 shards of ≥ 4 MiB per tier.
        assert_eq!(policy_shards(&Config::default()), 8);
        let cfg = |hot, warm, cold| Config {
            hot_bytes: hot,
            warm_bytes: warm,
            cold_bytes: cold,
            ..Config::default()
        };
        // Small budgets (tests, embedded uses) keep one exact policy.
        assert_eq!(policy_shards(&cfg(1 << 30, 1 << 30, 0)), 1);
        assert_eq!(policy_shards(&cfg(1 << 30, 7 << 20, 1 << 30)), 1);
        assert_eq!(policy_shards(&cfg(1 << 30, 12 << 20, 1 << 30)), 2);
        // At most 16, always a power of two.
        assert_eq!(policy_shards(&cfg(1 << 40, 1 << 40, 1 << 40)), 16);
        assert_eq!(policy_shards(&cfg(1 << 30, 1 << 30, 40 << 20)), 8);
    }

    #[test]
    fn shards_split_budgets_and_every_key_has_one_shard() {
        let cache = Cache::in_memory(Config::default());
        let n = cache.inner.policies.len();
        assert_eq!(n, 8);
        let total: u64 = cache
            .inner
            .policies
            .iter()
            .map(|p| p.lock().config(WARM).budget)
            .sum();
        assert!(total <= Config::default().warm_bytes);
        assert!(total > Config::default().warm_bytes - n as u64);
        // The shard of a key is a function of the key.
        let key = tree_key(b"fn main() {}", "rust", [0; 16], 1);
        assert!(std::ptr::eq(cache.policy(&key), cache.policy(&key)));
    }
}
