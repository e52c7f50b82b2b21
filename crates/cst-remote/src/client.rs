//! [`Remote`]: the synchronous client, with its own small tokio runtime.
//!
//! Reading: [`Remote::fetch_ref`] (the ref's signature, then the manifest's
//! hash) → [`Remote::fetch_index`] per pack (hash, structure) →
//! [`Remote::fetch_records`] (coalesced range reads, each frame checked
//! against the index) or [`Remote::fetch_pack`] (whole, hash-checked).
//! Writing: [`Remote::push`] — packs and their indexes, dictionaries, the
//! manifest, and the ref last, so a push that dies halfway leaves the old
//! ref, whose objects are all still there.
//!
//! Every call goes through the breaker and a bound on its time; every
//! failure is counted and returned as an [`Error`], a miss for the caller.

use std::collections::HashSet;
use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _};
use object_store::path::Path;
use object_store::{
    ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload, UpdateVersion,
};

use crate::breaker::{Breaker, BreakerState};
use crate::config::{self, Location, RemoteConfig};
use crate::error::{Error, ErrorKind, Reject};
use crate::keys::{PublicKey, SigningKey};
use crate::layout::{self, Layout};
use crate::manifest::{self, DictEntry, Fingerprint, Manifest, PackEntry, Ref};
use crate::pack::{self, IndexEntry, Pack, PackIndex, PackWriter};
use crate::stats::{Stats, StatsSnapshot};
use crate::{Digest, Key, digest, to_hex};

/// The largest manifest read (about 800,000 packs).
pub const MAX_MANIFEST: u64 = 64 << 20;

/// A manifest reached from a branch's ref whose signature verified, and
/// whose bytes hash to the name the ref gives.
#[derive(Debug, Clone)]
pub struct VerifiedManifest {
    /// The branch.
    pub branch: String,
    /// The manifest's digest (its name).
    pub digest: Digest,
    /// The manifest.
    pub manifest: Manifest,
    e_tag: Option<String>,
    version: Option<String>,
}

/// A whole pack whose bytes hash to its name and whose index is the one
/// the manifest lists.
#[derive(Debug, Clone)]
pub struct VerifiedPack {
    /// The manifest's entry for it.
    pub entry: PackEntry,
    /// The pack (each record is checked again as it is read).
    pub pack: Pack,
}

impl VerifiedPack {
    /// The body of `key`'s record; `None` if the pack lacks it or the
    /// record fails its check.
    pub fn get(&self, key: &Key) -> Option<Bytes> {
        self.pack.get(key).ok().flatten()
    }
}

/// What to push besides the records.
#[derive(Debug, Clone, Copy)]
pub struct Push<'a> {
    /// The branch whose ref moves.
    pub branch: &'a str,
    /// The records' format version (the caller's).
    pub format: u32,
    /// Grammar fingerprints of the records (added to the manifest's).
    pub fingerprints: &'a [Fingerprint],
    /// Trained dictionaries, as (label, blob) (added to the manifest's).
    pub dicts: &'a [(String, Bytes)],
    /// The key the ref is signed with.
    pub signing_key: &'a SigningKey,
    /// Compacts when the branch's manifest lists more packs than this
    /// (each push adds one delta, so a CI pushing every commit grows it
    /// without end): every record given is packed anew, and the new
    /// manifest lists these packs only. The old packs stay in the bucket
    /// for readers of older refs until [`Remote::gc`] removes them.
    /// `None`: never; `Some(0)`: always.
    pub compact_over: Option<usize>,
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PushReport {
    /// Records the caller gave (repeats included).
    pub records_given: u64,
    /// Of them, records the remote's manifest already held.
    pub records_present: u64,
    /// Records written in new packs.
    pub records_pushed: u64,
    /// The push compacted (see [`Push::compact_over`]): the manifest lists
    /// only its packs.
    pub compacted: bool,
    /// Packs the previous manifest listed that the new one does not.
    pub packs_dropped: u64,
    /// The new packs.
    #[serde(skip)]
    pub packs: Vec<PackEntry>,
    /// Dictionaries uploaded (not already listed).
    pub dicts_pushed: u64,
    /// Bytes uploaded (packs, indexes, dictionaries, manifest, ref).
    pub bytes_uploaded: u64,
    /// Whether the ref moved (not when nothing was new).
    pub ref_updated: bool,
    /// The manifest the ref names now.
    #[serde(skip)]
    pub manifest: Digest,
    /// Its generation.
    pub generation: u64,
    /// Ref writes tried (more than 1 after concurrent pushes).
    pub ref_attempts: u32,
}

/// What [`Remote::gc`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GcReport {
    /// Branches whose refs were read (and verified).
    pub branches: Vec<String>,
    /// Objects a current manifest names (manifests, packs, indexes,
    /// dictionaries), kept.
    pub referenced: u64,
    /// Objects no current manifest names, younger than the grace period:
    /// kept (a reader of an older ref may still be reading them).
    pub young: u64,
    /// Objects deleted (or, in a dry run, that would be).
    pub deleted: u64,
    /// Their bytes.
    pub deleted_bytes: u64,
}

/// What a push extends.
struct Base {
    /// The previous manifest's digest and generation, if any.
    prev: Option<(Digest, u64)>,
    /// Its content, if of the pushed format (its packs are carried on).
    carried: Option<Manifest>,
    /// How to write the ref: `Create` if there was none, `Update` of what
    /// was read, `Overwrite` of a ref that was refused.
    mode: PutMode,
}

/// A client of one remote. Synchronous: each call runs on the client's
/// runtime and returns when done. Do not call it from inside an async task
/// (use a blocking thread); it may be shared between threads.
pub struct Remote {
    store: Arc<dyn ObjectStore>,
    layout: Layout,
    config: RemoteConfig,
    rt: Option<tokio::runtime::Runtime>,
    breaker: Breaker,
    stats: Stats,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("url", &self.config.url)
            .field("store", &self.store.to_string())
            .field("breaker", &self.breaker.state())
            .finish_non_exhaustive()
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        // Never blocks, so a client may be dropped anywhere.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn rejected(object: &Path, reason: Reject, detail: impl ToString) -> Error {
    Error::Rejected {
        object: object.to_string(),
        reason,
        detail: detail.to_string(),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Groups the entries' frames into ranges: entries closer than `gap` share
/// one range, which never grows past `max` (unless one frame is larger).
/// Returns each range with the positions in `entries` it serves.
pub(crate) fn coalesce(
    entries: &[IndexEntry],
    gap: u64,
    max: u64,
) -> Vec<(Range<u64>, Vec<usize>)> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_unstable_by_key(|&i| entries[i].offset);
    let mut out: Vec<(Range<u64>, Vec<usize>)> = Vec::new();
    for i in order {
        let r = entries[i].range();
        if let Some((cur, members)) = out.last_mut() {
            let end = cur.end.max(r.end);
            if r.start <= cur.end.saturating_add(gap) && end - cur.start <= max {
                cur.end = end;
                members.push(i);
                continue;
            }
        }
        out.push((r, vec![i]));
    }
    out
}

impl Remote {
    /// Opens the remote `config.url` names: S3 (endpoint and credentials
    /// from the `AWS_*` variables, with the config's timeouts and retries),
    /// a directory (created if missing), or a new store in memory. Nothing
    /// is requested yet.
    pub fn open(config: RemoteConfig) -> Result<Self, Error> {
        let (store, prefix): (Arc<dyn ObjectStore>, String) = match config.location()? {
            Location::S3 { bucket, prefix } => {
                use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
                use object_store::{BackoffConfig, ClientConfigKey, RetryConfig};
                let ms = |d: Duration| format!("{}ms", d.as_millis());
                let s3 = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_config(
                        AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                        ms(config.connect_timeout),
                    )
                    .with_config(
                        AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                        ms(config.request_timeout),
                    )
                    .with_retry(RetryConfig {
                        backoff: BackoffConfig {
                            init_backoff: config.init_backoff,
                            max_backoff: config.max_backoff,
                            base: 2.0,
                        },
                        max_retries: config.max_retries,
                        retry_timeout: config.retry_timeout,
                    })
                    .build()
                    .map_err(|e| config::Error::Store(e.to_string()))?;
                (Arc::new(s3), prefix)
            }
            Location::File(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| config::Error::Store(format!("{}: {e}", dir.display())))?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| config::Error::Store(e.to_string()))?;
                (Arc::new(fs), String::new())
            }
            Location::Memory(prefix) => (Arc::new(object_store::memory::InMemory::new()), prefix),
        };
        Self::with_store(store, &prefix, config)
    }

    /// A client of `store` under `prefix` (tests, and stores this crate
    /// does not build). `config.url` is used only in messages.
    pub fn with_store(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        config: RemoteConfig,
    ) -> Result<Self, Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(4)
            .thread_name("cst-remote")
            .enable_all()
            .build()
            .map_err(|e| config::Error::Store(format!("cannot start the runtime: {e}")))?;
        Ok(Remote {
            store,
            layout: Layout::new(prefix),
            breaker: Breaker::new(
                config.breaker_threshold,
                config.breaker_cooldown,
                config.url.clone(),
            ),
            config,
            rt: Some(rt),
            stats: Stats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RemoteConfig {
        &self.config
    }

    /// The object names.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats
            .snapshot(self.breaker.state(), self.breaker.trips())
    }

    /// The breaker's state.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Why calls are refused without a request, if they are.
    pub fn disabled_reason(&self) -> Option<String> {
        self.breaker.reason()
    }

    /// Runs one operation: through the breaker, bounded in time, counted.
    /// Called from inside an async runtime (which must not block), the
    /// operation runs on a scoped thread of its own instead of panicking.
    fn run<T: Send>(
        &self,
        write: bool,
        what: &str,
        fut: impl Future<Output = Result<T, Error>> + Send,
    ) -> Result<T, Error> {
        if let Err(e) = self.breaker.admit(write) {
            self.stats.error(ErrorKind::Disabled);
            return Err(e);
        }
        let limit = self.config.op_timeout;
        let rt = self.rt.as_ref().expect("the runtime lives until drop");
        let go = move || {
            rt.block_on(async {
                match tokio::time::timeout(limit, fut).await {
                    Ok(r) => r,
                    Err(_) => Err(Error::Timeout(format!(
                        "{what}: no answer within {limit:?}"
                    ))),
                }
            })
        };
        let out = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| s.spawn(go).join())
                .unwrap_or_else(|_| Err(Error::Other(format!("{what}: panicked"))))
        } else {
            go()
        };
        self.breaker.record(out.as_ref().map(|_| ()), write);
        if let Err(e) = &out {
            self.stats.error(e.kind());
            if let Error::Rejected { reason, .. } = e {
                self.stats.rejected(*reason);
            }
            tracing::debug!("{}: {what}: {e}", self.config.url);
        }
        out
    }

    // --- Requests -------------------------------------------------------

    /// GETs a whole object, refusing one larger than `limit` unread.
    async fn get(
        &self,
        path: &Path,
        limit: u64,
    ) -> Result<(Bytes, object_store::ObjectMeta), Error> {
        self.stats.request();
        let r = self.store.get(path).await.map_err(Error::from_store)?;
        if r.meta.size > limit {
            return Err(rejected(
                path,
                Reject::Malformed,
                format!("{} bytes, at most {limit} expected", r.meta.size),
            ));
        }
        let meta = r.meta.clone();
        let bytes = r.bytes().await.map_err(Error::from_store)?;
        self.stats.bytes_in(bytes.len() as u64);
        Ok((bytes, meta))
    }

    /// GETs an immutable object of known size and digest, checked.
    async fn get_named(&self, path: &Path, size: u64, name: &Digest) -> Result<Bytes, Error> {
        let (bytes, _) = self.get(path, size).await?;
        if bytes.len() as u64 != size {
            return Err(rejected(
                path,
                Reject::Hash,
                format!("{} bytes, the manifest says {size}", bytes.len()),
            ));
        }
        if digest(&bytes) != *name {
            return Err(rejected(
                path,
                Reject::Hash,
                "bytes do not hash to the name",
            ));
        }
        Ok(bytes)
    }

    async fn get_range(&self, path: &Path, range: Range<u64>) -> Result<Bytes, Error> {
        self.stats.request();
        let b = self
            .store
            .get_range(path, range)
            .await
            .map_err(Error::from_store)?;
        self.stats.bytes_in(b.len() as u64);
        Ok(b)
    }

    async fn get_range_at(
        &self,
        path: &Path,
        g: usize,
        range: Range<u64>,
    ) -> Result<(usize, Bytes), Error> {
        self.get_range(path, range).await.map(|b| (g, b))
    }

    async fn put(
        &self,
        path: &Path,
        bytes: Bytes,
        mode: PutMode,
    ) -> Result<(), object_store::Error> {
        self.stats.request();
        let n = bytes.len() as u64;
        let opts = PutOptions {
            mode,
            ..Default::default()
        };
        self.store
            .put_opts(path, PutPayload::from_bytes(bytes), opts)
            .await?;
        self.stats.bytes_out(n);
        Ok(())
    }

    async fn put_object(&self, path: &Path, bytes: Bytes) -> Result<u64, Error> {
        let n = bytes.len() as u64;
        self.put(path, bytes, PutMode::Overwrite)
            .await
            .map_err(Error::from_store)?;
        Ok(n)
    }

    /// Writes a ref conditionally; a store without conditional updates
    /// (a directory) overwrites.
    async fn put_ref(&self, path: &Path, bytes: Bytes, mode: PutMode) -> Result<u64, Error> {
        let n = bytes.len() as u64;
        match self.put(path, bytes.clone(), mode).await {
            Ok(()) => Ok(n),
            Err(
                object_store::Error::NotImplemented { .. }
                | object_store::Error::NotSupported { .. },
            ) => {
                self.put(path, bytes, PutMode::Overwrite)
                    .await
                    .map_err(Error::from_store)?;
                Ok(n)
            }
            Err(e) => Err(Error::from_store(e)),
        }
    }

    // --- Reading --------------------------------------------------------

    /// The manifest named `name`: its bytes checked against the name, then
    /// decoded.
    async fn load_manifest(&self, name: &Digest) -> Result<Manifest, Error> {
        let path = self.layout.manifest(name);
        let (bytes, _) = self.get(&path, MAX_MANIFEST).await?;
        if digest(&bytes) != *name {
            return Err(rejected(
                &path,
                Reject::Hash,
                "bytes do not hash to the name",
            ));
        }
        Manifest::decode(&bytes).map_err(|e| rejected(&path, Reject::of_manifest(&e), e))
    }

    async fn load_ref(
        &self,
        branch: &str,
        key: &PublicKey,
        expected_format: Option<u32>,
    ) -> Result<Option<VerifiedManifest>, Error> {
        let path = self.layout.branch_ref(branch)?;
        let (bytes, meta) = match self.get(&path, manifest::REF_LEN as u64).await {
            Err(Error::NotFound(_)) => return Ok(None),
            r => r?,
        };
        let r = Ref::decode(&bytes)
            .and_then(|r| r.verify(branch, key).map(|()| r))
            .map_err(|e| rejected(&path, Reject::of_manifest(&e), e))?;
        let manifest = self.load_manifest(&r.manifest).await?;
        let mpath = self.layout.manifest(&r.manifest);
        if let Some(f) = expected_format {
            manifest
                .check_format(f)
                .map_err(|e| rejected(&mpath, Reject::Version, e))?;
        }
        Ok(Some(VerifiedManifest {
            branch: branch.to_owned(),
            digest: r.manifest,
            manifest,
            e_tag: meta.e_tag,
            version: meta.version,
        }))
    }

    /// The manifest `branch`'s ref names, after checking the ref's signature
    /// against the configured public key, the manifest's bytes against the
    /// digest the ref signs, its layout version and (if configured) its
    /// records' format. `Ok(None)`: the branch has no ref.
    pub fn fetch_ref(&self, branch: &str) -> Result<Option<VerifiedManifest>, Error> {
        let Some(key) = self.config.public_key else {
            self.stats.error(ErrorKind::Config);
            return Err(Error::NoPublicKey);
        };
        self.run(
            false,
            "fetch ref",
            self.load_ref(branch, &key, self.config.expected_format),
        )
    }

    async fn load_index(&self, pack: &PackEntry) -> Result<PackIndex, Error> {
        let path = self.layout.index(&pack.index);
        let bytes = self
            .get_named(&path, u64::from(pack.index_size), &pack.index)
            .await?;
        let index = PackIndex::parse(bytes).map_err(|e| rejected(&path, Reject::of_pack(&e), e))?;
        let pack_size = index.data_end() + u64::from(pack.index_size) + pack::TRAILER as u64;
        if index.len() != pack.records as usize || pack_size != pack.size {
            return Err(rejected(
                &path,
                Reject::Malformed,
                "index disagrees with the manifest (records or pack size)",
            ));
        }
        Ok(index)
    }

    /// A pack's index (checked: hash, structure, agreement with `pack`).
    pub fn fetch_index(&self, pack: &PackEntry) -> Result<PackIndex, Error> {
        self.run(false, "fetch index", self.load_index(pack))
    }

    async fn load_pack(&self, entry: &PackEntry) -> Result<VerifiedPack, Error> {
        let path = self.layout.pack(&entry.pack);
        let bytes = self.get_named(&path, entry.size, &entry.pack).await?;
        let pack = Pack::parse(bytes).map_err(|e| rejected(&path, Reject::of_pack(&e), e))?;
        if digest(pack.index().as_bytes()) != entry.index
            || pack.index().len() != entry.records as usize
        {
            return Err(rejected(
                &path,
                Reject::Malformed,
                "the pack's index is not the one the manifest lists",
            ));
        }
        Ok(VerifiedPack {
            entry: *entry,
            pack,
        })
    }

    /// A whole pack (checked: hash, structure, its index the manifest's).
    pub fn fetch_pack(&self, pack: &PackEntry) -> Result<VerifiedPack, Error> {
        let p = self.run(false, "fetch pack", self.load_pack(pack))?;
        self.stats.records(u64::from(pack.records));
        Ok(p)
    }

    /// A dictionary's blob (checked: size and hash).
    pub fn fetch_dict(&self, dict: &DictEntry) -> Result<Bytes, Error> {
        let path = self.layout.dict(&dict.digest);
        self.run(
            false,
            "fetch dictionary",
            self.get_named(&path, dict.size, &dict.digest),
        )
    }

    /// The bodies of `entries`' records (entries of `pack`'s checked index),
    /// in their order. Each is checked against its entry; one that fails is
    /// `None` and counted. Frames closer than `coalesce_gap` are read in one
    /// range request, `parallel_reads` at a time; when at least
    /// `whole_pack_fraction` of the pack is wanted, the whole pack is read
    /// and checked against its name instead.
    pub fn fetch_records(
        &self,
        pack: &PackEntry,
        entries: &[IndexEntry],
    ) -> Result<Vec<Option<Bytes>>, Error> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: u64 = entries.iter().map(|e| u64::from(e.len)).sum();
        let mut out: Vec<Option<Bytes>> = vec![None; entries.len()];
        if wanted as f64 >= self.config.whole_pack_fraction * pack.size as f64 {
            let p = self.run(false, "fetch pack", self.load_pack(pack))?;
            for (slot, e) in out.iter_mut().zip(entries) {
                *slot = match p.pack.record(e) {
                    Ok(body) => {
                        self.stats.records(1);
                        Some(body)
                    }
                    Err(err) => {
                        self.reject_record(e, &err.to_string());
                        None
                    }
                };
            }
        } else {
            let path = self.layout.pack(&pack.pack);
            // A frame outside the pack is refused unread.
            let mut inside = Vec::with_capacity(entries.len());
            for (i, e) in entries.iter().enumerate() {
                if e.range().end <= pack.size {
                    inside.push(i);
                } else {
                    self.reject_record(e, "frame outside the pack");
                }
            }
            let sub: Vec<IndexEntry> = inside.iter().map(|&i| entries[i]).collect();
            let groups = coalesce(&sub, self.config.coalesce_gap, self.config.max_range);
            let ranges: Vec<Range<u64>> = groups.iter().map(|(r, _)| r.clone()).collect();
            let parallel = self.config.parallel_reads.max(1);
            let reads = self.run(false, "fetch records", async {
                futures::stream::iter(ranges.into_iter().enumerate())
                    .map(|(g, r)| self.get_range_at(&path, g, r))
                    .buffer_unordered(parallel)
                    .try_collect::<Vec<(usize, Bytes)>>()
                    .await
            })?;
            for (g, bytes) in reads {
                let (r, members) = &groups[g];
                for &m in members {
                    let e = &sub[m];
                    let from = (e.offset - r.start) as usize;
                    let to = from + e.len as usize;
                    let frame = (to <= bytes.len()).then(|| bytes.slice(from..to));
                    out[inside[m]] = self.checked(&frame, e);
                }
            }
        }
        Ok(out)
    }

    fn checked(&self, frame: &Option<Bytes>, e: &IndexEntry) -> Option<Bytes> {
        let Some(frame) = frame else {
            self.reject_record(e, "short read");
            return None;
        };
        match pack::verify_frame(frame, e) {
            Ok(body) => {
                self.stats.records(1);
                Some(body)
            }
            Err(err) => {
                self.reject_record(e, &err.to_string());
                None
            }
        }
    }

    fn reject_record(&self, e: &IndexEntry, why: &str) {
        self.stats.rejected(Reject::Record);
        tracing::warn!(
            "{}: record {} refused: {why}",
            self.config.url,
            to_hex(&e.key)
        );
    }

    // --- Writing --------------------------------------------------------

    async fn read_base(&self, branch: &str, key: &PublicKey, format: u32) -> Result<Base, Error> {
        match self.load_ref(branch, key, None).await {
            Ok(None) => Ok(Base {
                prev: None,
                carried: None,
                mode: PutMode::Create,
            }),
            Ok(Some(v)) => {
                let mode = if v.e_tag.is_some() || v.version.is_some() {
                    PutMode::Update(UpdateVersion {
                        e_tag: v.e_tag,
                        version: v.version,
                    })
                } else {
                    PutMode::Overwrite
                };
                Ok(Base {
                    prev: Some((v.digest, v.manifest.generation)),
                    carried: (v.manifest.format == format).then_some(v.manifest),
                    mode,
                })
            }
            Err(e @ Error::Rejected { .. }) => {
                tracing::warn!(
                    "{}: the ref of {branch} is refused ({e}); replacing it",
                    self.config.url
                );
                self.stats.error(ErrorKind::Rejected);
                if let Error::Rejected { reason, .. } = e {
                    self.stats.rejected(reason);
                }
                Ok(Base {
                    prev: None,
                    carried: None,
                    mode: PutMode::Overwrite,
                })
            }
            Err(e) => Err(e),
        }
    }

    fn upload_pack(&self, writer: PackWriter, report: &mut PushReport) -> Result<PackEntry, Error> {
        let f = writer.finish();
        let entry = PackEntry {
            pack: f.pack_digest,
            size: f.pack.len() as u64,
            records: f.records,
            index: f.index_digest,
            index_size: u32::try_from(f.index.len()).expect("index under 4 GiB"),
        };
        let n = self.run(true, "push pack", async {
            let a = self
                .put_object(&self.layout.pack(&entry.pack), f.pack)
                .await?;
            let b = self
                .put_object(&self.layout.index(&entry.index), f.index)
                .await?;
            Ok(a + b)
        })?;
        report.bytes_uploaded += n;
        report.records_pushed += u64::from(entry.records);
        report.packs.push(entry);
        Ok(entry)
    }

    /// Pushes `records` to `push.branch`: one delta of the records the
    /// remote's manifest lacks, in packs closed at `pack_target` bytes (in
    /// the order given), their indexes, the dictionaries not listed yet,
    /// a manifest listing the old packs and the new, and the signed ref
    /// **last**, written only if it still names the manifest read (up to 3
    /// tries, re-reading it). Nothing new: nothing written.
    ///
    /// The old packs' indexes are read (and checked) to know what the
    /// remote holds; a pack whose index is missing or refused is dropped
    /// from the new manifest. A ref that is refused is replaced.
    pub fn push(
        &self,
        push: &Push<'_>,
        records: impl IntoIterator<Item = (Key, Bytes)>,
    ) -> Result<PushReport, Error> {
        layout::check_branch(push.branch)?;
        let public = push.signing_key.public();
        let mut base = self.run(
            false,
            "push: read ref",
            self.read_base(push.branch, &public, push.format),
        )?;

        // A compacting push packs every record anew and carries no pack.
        let compact = push
            .compact_over
            .is_some_and(|over| base.carried.as_ref().is_some_and(|m| m.packs.len() > over));
        let mut report = PushReport {
            compacted: compact,
            ..PushReport::default()
        };
        if compact && let Some(m) = &mut base.carried {
            report.packs_dropped = m.packs.len() as u64;
            m.packs.clear();
        }

        // What the remote holds.
        let mut present: HashSet<Key> = HashSet::new();
        if let Some(m) = &mut base.carried {
            let mut kept = Vec::with_capacity(m.packs.len());
            for p in &m.packs {
                match self.fetch_index(p) {
                    Ok(index) => {
                        present.extend(index.iter().map(|e| e.key));
                        kept.push(*p);
                    }
                    Err(e @ (Error::Rejected { .. } | Error::NotFound(_))) => {
                        tracing::warn!(
                            "{}: pack {} dropped from the manifest: {e}",
                            self.config.url,
                            to_hex(&p.pack)
                        );
                    }
                    Err(e) => return Err(e),
                }
            }
            m.packs = kept;
        }

        // The delta, in packs of about `pack_target` bytes.
        let mut seen: HashSet<Key> = HashSet::new();
        let mut writer = PackWriter::new();
        for (key, body) in records {
            report.records_given += 1;
            if present.contains(&key) {
                report.records_present += 1;
                continue;
            }
            if !seen.insert(key) {
                continue;
            }
            writer
                .add(key, &body)
                .map_err(|e| Error::Other(format!("record {}: {e}", to_hex(&key))))?;
            if writer.size() >= self.config.pack_target {
                self.upload_pack(std::mem::take(&mut writer), &mut report)?;
            }
        }
        if !writer.is_empty() {
            self.upload_pack(writer, &mut report)?;
        }

        // Dictionaries not listed yet.
        let listed: HashSet<Digest> = base
            .carried
            .iter()
            .flat_map(|m| m.dicts.iter().map(|d| d.digest))
            .collect();
        let mut new_dicts = Vec::with_capacity(push.dicts.len());
        for (name, blob) in push.dicts {
            let d = DictEntry {
                name: name.clone(),
                digest: digest(blob),
                size: blob.len() as u64,
            };
            if !listed.contains(&d.digest) {
                let path = self.layout.dict(&d.digest);
                report.bytes_uploaded += self.run(
                    true,
                    "push dictionary",
                    self.put_object(&path, blob.clone()),
                )?;
                report.dicts_pushed += 1;
            }
            new_dicts.push(d);
        }

        // Nothing new: the ref stays.
        if let Some(m) = &base.carried {
            let fps: HashSet<&Fingerprint> = m.fingerprints.iter().collect();
            let dicts: HashSet<&DictEntry> = m.dicts.iter().collect();
            if report.packs.is_empty()
                && push.fingerprints.iter().all(|f| fps.contains(f))
                && new_dicts.iter().all(|d| dicts.contains(d))
                && let Some((digest, generation)) = base.prev
            {
                report.manifest = digest;
                report.generation = generation;
                // Nothing was compacted either: the manifest stays.
                report.compacted = false;
                report.packs_dropped = 0;
                return Ok(report);
            }
        }

        // The manifest, then the ref, last.
        let ref_path = self.layout.branch_ref(push.branch)?;
        loop {
            report.ref_attempts += 1;
            let mut carried = base.carried.clone().unwrap_or_default();
            if compact {
                // After a concurrent push too: this push's packs only.
                carried.packs.clear();
            }
            let mut manifest = Manifest {
                format: push.format,
                generation: base.prev.map_or(1, |(_, g)| g + 1),
                created: now_secs(),
                parent: base.prev.map(|(d, _)| d),
                fingerprints: carried.fingerprints,
                packs: carried.packs,
                dicts: carried.dicts,
            };
            manifest.fingerprints.extend_from_slice(push.fingerprints);
            manifest.packs.extend_from_slice(&report.packs);
            manifest.dicts.extend(new_dicts.iter().cloned());
            manifest.normalize();
            let bytes = Bytes::from(manifest.encode().map_err(|e| Error::Other(e.to_string()))?);
            let name = digest(&bytes);
            let r = Ref::sign(push.branch, name, push.signing_key)
                .map_err(|e| Error::Other(e.to_string()))?;
            let mode = std::mem::replace(&mut base.mode, PutMode::Overwrite);
            let wrote = self.run(true, "push manifest and ref", async {
                let a = self.put_object(&self.layout.manifest(&name), bytes).await?;
                let b = self
                    .put_ref(&ref_path, Bytes::copy_from_slice(&r.encode()), mode)
                    .await?;
                Ok(a + b)
            });
            match wrote {
                Ok(n) => {
                    report.bytes_uploaded += n;
                    report.ref_updated = true;
                    report.manifest = name;
                    report.generation = manifest.generation;
                    tracing::info!(
                        "{}: pushed {} of {} records in {} packs to {} (generation {})",
                        self.config.url,
                        report.records_pushed,
                        report.records_given,
                        report.packs.len(),
                        push.branch,
                        manifest.generation
                    );
                    return Ok(report);
                }
                Err(Error::Conflict(why)) if report.ref_attempts < 3 => {
                    tracing::info!(
                        "{}: ref of {} moved ({why}); merging",
                        self.config.url,
                        push.branch
                    );
                    // Another push won: extend its manifest instead (our
                    // packs may repeat some of its records; that is harmless).
                    base = self.run(
                        false,
                        "push: reread ref",
                        self.read_base(push.branch, &public, push.format),
                    )?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Deletes the objects no branch's manifest names (old packs after a
    /// compacting push, manifests of older generations, an interrupted
    /// push's packs) once older than `grace`. A manifest that stopped being
    /// current within `grace` (its successor, along the `parent` chain
    /// from the ref, was created since) still counts, with what it names,
    /// so a reader that read an older ref within `grace` finds what it
    /// names. Every ref must verify against the public key, and every
    /// manifest of the chain read must be whole, or nothing is deleted.
    /// Needs write access (the signing key holder's job, like a push).
    /// `dry_run`: count only.
    pub fn gc(&self, grace: std::time::Duration, dry_run: bool) -> Result<GcReport, Error> {
        use futures::TryStreamExt;
        let Some(key) = self.config.public_key else {
            self.stats.error(ErrorKind::Config);
            return Err(Error::NoPublicKey);
        };
        let mut report = GcReport::default();
        // Every branch's ref, verified, and what its manifest names.
        let refs_dir = self.layout.root().clone().join("refs");
        let refs: Vec<object_store::ObjectMeta> = self.run(false, "gc: list refs", async {
            self.store
                .list(Some(&refs_dir))
                .try_collect()
                .await
                .map_err(Error::from_store)
        })?;
        let cutoff = now_secs().saturating_sub(grace.as_secs()) as i64;
        let mut keep: HashSet<Path> = HashSet::new();
        let keep_manifest = |keep: &mut HashSet<Path>, digest: &Digest, m: &Manifest| {
            keep.insert(self.layout.manifest(digest));
            for p in &m.packs {
                keep.insert(self.layout.pack(&p.pack));
                keep.insert(self.layout.index(&p.index));
            }
            for d in &m.dicts {
                keep.insert(self.layout.dict(&d.digest));
            }
        };
        for r in refs {
            let Some(name) = r.location.filename() else {
                continue;
            };
            let branch = name.replace(',', "/");
            let Some(m) = self.run(false, "gc: read ref", self.load_ref(&branch, &key, None))?
            else {
                continue;
            };
            keep.insert(r.location.clone());
            keep_manifest(&mut keep, &m.digest, &m.manifest);
            // The manifests this one replaced within the grace period stay,
            // with what they name: a reader (or a pusher) that read the
            // older ref then may still be reading them. A successor's
            // `created` is when its parent stopped being current.
            let (mut successor_created, mut parent) = (m.manifest.created, m.manifest.parent);
            let mut steps = 0;
            while let Some(d) = parent
                && (successor_created as i64) > cutoff
                && steps < 100_000
            {
                steps += 1;
                let pm = match self.run(false, "gc: read manifest", self.load_manifest(&d)) {
                    Ok(m) => m,
                    Err(Error::NotFound(_)) => break,
                    Err(e) => return Err(e),
                };
                keep_manifest(&mut keep, &d, &pm);
                (successor_created, parent) = (pm.created, pm.parent);
            }
            report.branches.push(branch);
        }
        for dir in ["manifests", "packs", "index", "dicts"] {
            let prefix = self.layout.root().clone().join(dir);
            let objects: Vec<object_store::ObjectMeta> =
                self.run(false, "gc: list objects", async {
                    self.store
                        .list(Some(&prefix))
                        .try_collect()
                        .await
                        .map_err(Error::from_store)
                })?;
            for o in objects {
                if keep.contains(&o.location) {
                    report.referenced += 1;
                } else if o.last_modified.timestamp() > cutoff {
                    report.young += 1;
                } else {
                    if !dry_run {
                        self.run(true, "gc: delete", async {
                            match self.store.delete(&o.location).await {
                                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                                Err(e) => Err(Error::from_store(e)),
                            }
                        })?;
                    }
                    report.deleted += 1;
                    report.deleted_bytes += o.size;
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset: u64, len: u32) -> IndexEntry {
        IndexEntry {
            key: [0; 32],
            offset,
            len,
            check: [0; 16],
        }
    }

    #[test]
    fn coalescing_merges_near_frames_up_to_the_cap() {
        let e = [at(500, 60), at(8, 100), at(108, 52), at(10_000, 60)];
        // Gap 0: the adjacent frames at 8 and 108 merge; 500 and 10,000 alone.
        let g = coalesce(&e, 0, 1 << 20);
        assert_eq!(
            g,
            vec![
                (8..160, vec![1, 2]),
                (500..560, vec![0]),
                (10_000..10_060, vec![3])
            ]
        );
        // Gap 1,000: all but the last.
        let g = coalesce(&e, 1000, 1 << 20);
        assert_eq!(g, vec![(8..560, vec![1, 2, 0]), (10_000..10_060, vec![3])]);
        // Capped at 200 bytes: 500 cannot join.
        let g = coalesce(&e, 1000, 200);
        assert_eq!(g.len(), 3);
        // The same frame twice: one range, both served.
        let g = coalesce(&[at(8, 60), at(8, 60)], 0, 100);
        assert_eq!(g, vec![(8..68, vec![0, 1])]);
    }
}
