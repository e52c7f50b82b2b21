//! The symbol index: each file's tags read once from the store (or from an
//! open buffer) into compact records, the name table they point into, and
//! the postings by name, built when first asked for.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use cst_workspace::Workspace;
use cst_workspace::cst::{self, Cache, FileTags};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use crate::intern::Interner;
use crate::persist;
use crate::search::SearchIndex;
use crate::{Error, Symbol};

/// One tag, compact: ids into the index's name and kind tables, and the
/// places (rows and columns zero-based, columns in bytes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CTag {
    pub name: u32,
    pub kind: u16,
    pub def: bool,
    pub row: u32,
    pub col: u32,
    pub end_row: u32,
    pub end_col: u32,
    pub name_start: u32,
    pub name_end: u32,
    pub node_start: u32,
    pub node_end: u32,
}

/// What a file on disk looked like when its stored tags were read: a file
/// whose status differs later is read again. `None` in [`Origin::Stored`]:
/// the store did not hold what the disk held, always checked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) len: u64,
    pub(crate) modified: Option<SystemTime>,
    pub(crate) ino: u64,
}

/// Where a file's tags came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The store, with the file's status then.
    Stored(Option<Stamp>),
    /// An open buffer, with a hash of its text then.
    Buffer(u64),
}

/// One file of the index.
#[derive(Debug)]
pub(crate) struct FileData {
    pub path: PathBuf,
    /// The path relative to the root, `/`-separated as the OS gives it.
    pub rel: String,
    pub tags: Box<[CTag]>,
    origin: Origin,
    /// The file's text is ASCII (see [`Symbol::ascii`]).
    ascii: bool,
    /// The fingerprint of the stored tags read ([`cst::Cache::tags_fingerprint`],
    /// taken before reading them); `None` for a buffer or tags not read.
    fingerprint: Option<[u8; 32]>,
    /// The tags as [`Symbol`]s, made when first asked for.
    symbols: OnceLock<Box<[Symbol]>>,
}

/// Postings by name id: the (file, tag) pairs of its definitions and of
/// its references, in file order.
#[derive(Debug, Default)]
pub(crate) struct Postings {
    def_start: Vec<u32>,
    defs: Vec<(u32, u32)>,
    ref_start: Vec<u32>,
    refs: Vec<(u32, u32)>,
}

impl Postings {
    pub(crate) fn defs_of(&self, name: u32) -> &[(u32, u32)] {
        slice_of(&self.def_start, &self.defs, name)
    }
    pub(crate) fn refs_of(&self, name: u32) -> &[(u32, u32)] {
        slice_of(&self.ref_start, &self.refs, name)
    }
}

fn slice_of<'a>(start: &[u32], items: &'a [(u32, u32)], name: u32) -> &'a [(u32, u32)] {
    let i = name as usize;
    match (start.get(i), start.get(i + 1)) {
        (Some(&a), Some(&b)) => items.get(a as usize..b as usize).unwrap_or_default(),
        _ => &[],
    }
}

/// What [`SymbolIndex::refresh`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Files read again (changed in the store, opened, edited or closed
    /// buffers) or read for the first time (added).
    pub read: usize,
    /// Files new to the index.
    pub added: usize,
    /// Files gone from the index.
    pub removed: usize,
    /// Files whose status on disk was compared (0 when the workspace's
    /// generation had not moved: nothing was looked at).
    pub checked: usize,
    /// Files in the index after the refresh.
    pub files: usize,
    /// Whether anything in the index changed (its generation moved).
    pub changed: bool,
}

/// Index ids, so that a [`crate::Ranker`] never mistakes one index for
/// another.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Every definition and reference of a workspace, by file and by name
/// (see the crate documentation).
///
/// Per file it keeps the tags (a small fixed-size record each, names
/// interned into one table) and what the file was read at: the file's
/// status on disk for stored tags, a hash of the text for an open buffer.
/// The postings by name and the search tables are built when first needed
/// and dropped when a refresh changes the index.
#[derive(Debug)]
pub struct SymbolIndex {
    id: u64,
    /// Moves when a refresh changes anything.
    generation: u64,
    /// The workspace generation last read at.
    ws_generation: u64,
    root: PathBuf,
    pub(crate) files: Vec<FileData>,
    by_path: FxHashMap<PathBuf, u32>,
    /// Names by id.
    pub(crate) names: Vec<Box<str>>,
    interner: Interner,
    pub(crate) kinds: Vec<String>,
    kind_ids: FxHashMap<String, u16>,
    postings: OnceLock<Postings>,
    search: OnceLock<SearchIndex>,
    /// Files [`SymbolIndex::build`] took from the snapshot.
    from_snapshot: usize,
}

/// A file's tags taken from the snapshot, with their fingerprint.
type Reuse = ([u8; 32], persist::SnapFile);

/// A file's tags as one worker read them: names interned, kinds local to
/// the file.
struct Read {
    kinds: Vec<String>,
    tags: Vec<CTag>,
    origin: Origin,
    fingerprint: Option<[u8; 32]>,
    ascii: bool,
}

impl SymbolIndex {
    /// Builds the index of `ws`: the tags of every file in the store's path
    /// map under the workspace root (read in parallel on the cache's worker
    /// threads, from the tags kept in the store: nothing is parsed), and of
    /// every open buffer, which shadows its file. A file whose tags cannot
    /// be read is logged and kept without tags (tried again by
    /// [`SymbolIndex::refresh`]).
    ///
    /// A snapshot of the index kept in the cache directory (written by
    /// the last build that read anything from the store) gives the tags of
    /// every file whose stored tags have not changed since
    /// ([`cst::Cache::tags_fingerprint`]), so a warm build reads no source.
    pub fn build(ws: &Workspace) -> Result<SymbolIndex, Error> {
        let mut index = SymbolIndex {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: 1,
            // Read first: a change made while the files are read moves it,
            // and the next refresh looks again.
            ws_generation: ws.generation(),
            root: ws.root().to_path_buf(),
            files: Vec::new(),
            by_path: FxHashMap::default(),
            names: Vec::new(),
            interner: Interner::default(),
            kinds: Vec::new(),
            kind_ids: FxHashMap::default(),
            postings: OnceLock::new(),
            search: OnceLock::new(),
            from_snapshot: 0,
        };
        let buffers = buffers_of(ws);
        let stored: Vec<PathBuf> = stored_paths(ws)
            .into_iter()
            .filter(|p| !buffers.contains(p))
            .collect();
        let started = std::time::Instant::now();
        // Each stored file's tags from the snapshot where its fingerprint
        // is unchanged; the others are read from the store.
        let snapshot_path = persist::path_of(ws);
        let mut snapshot = snapshot_path
            .as_deref()
            .and_then(|p| match persist::load(p, &index.root) {
                Ok(s) => Some(s),
                Err(persist::SnapshotError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    None
                }
                Err(e) => {
                    tracing::info!(path = %p.display(), error = %e, "symbol snapshot not used");
                    None
                }
            })
            .unwrap_or_default();
        tracing::debug!(elapsed = ?started.elapsed(), "snapshot loaded");
        let kind_map: Vec<u16> = std::mem::take(&mut snapshot.kinds)
            .into_iter()
            .map(|k| index.intern_kind(k))
            .collect();
        // The snapshot's names are interned on one thread while this one
        // compares fingerprints.
        let names = std::mem::take(&mut snapshot.names);
        let interner = &index.interner;
        let root = &index.root;
        let files = &mut snapshot.files;
        let mut to_read: Vec<PathBuf> = Vec::new();
        let (name_map, plan) = std::thread::scope(|scope| {
            let names = scope.spawn(move || interner.preload(names));
            let mut plan: Vec<(PathBuf, Option<Reuse>)> = Vec::with_capacity(stored.len());
            for path in stored {
                let reuse = match path.strip_prefix(root) {
                    Ok(rel) if !files.is_empty() => {
                        ws.cache().tags_fingerprint(&path).and_then(|fp| {
                            let f = files.remove(persist::os_bytes(rel))?;
                            (f.fingerprint == fp).then_some((fp, f))
                        })
                    }
                    _ => None,
                };
                if reuse.is_none() {
                    to_read.push(path.clone());
                }
                plan.push((path, reuse));
            }
            let name_map = names
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (name_map, plan)
        });
        let reused = plan.len() - to_read.len();
        index.from_snapshot = reused;
        tracing::debug!(elapsed = ?started.elapsed(), "fingerprints compared");
        // Files read from the store, or gone since the snapshot: write a
        // new one.
        let dirty = !to_read.is_empty() || !snapshot.files.is_empty();
        drop(snapshot.files);
        let mut reads = read_stored(ws.cache(), &index.interner, &to_read, false).into_iter();
        index.interner.drain_into(&mut index.names);
        tracing::debug!(elapsed = ?started.elapsed(), reused, read = to_read.len(), "tags read");
        for (path, reuse) in plan {
            match reuse {
                Some((fingerprint, f)) => {
                    let mut tags = f.tags;
                    for t in &mut tags {
                        // (Ids checked against both tables when read.)
                        t.name = name_map[t.name as usize];
                        t.kind = kind_map[usize::from(t.kind)];
                    }
                    index.insert(FileData {
                        rel: ws.rel(&path),
                        path,
                        tags: tags.into_boxed_slice(),
                        ascii: f.ascii,
                        origin: Origin::Stored(f.stamp),
                        fingerprint: Some(fingerprint),
                        symbols: OnceLock::new(),
                    });
                }
                None => {
                    if let Some(read) = reads.next().flatten() {
                        index.put(ws, path, read);
                    }
                }
            }
        }
        tracing::debug!(elapsed = ?started.elapsed(), names = index.names.len(), "names interned");
        if dirty && let Some(p) = &snapshot_path {
            index.save_snapshot(p);
        }
        let mut buffers: Vec<PathBuf> = buffers.into_iter().collect();
        buffers.sort();
        for path in buffers {
            if let Some(read) = read_buffer(ws, &index.interner, &path) {
                index.put(ws, path, read);
            }
        }
        index.interner.drain_into(&mut index.names);
        Ok(index)
    }

    /// Brings the index up to date with `ws`: re-reads only the files
    /// whose stored content changed (their status on disk moved since they
    /// were read, or the store did not hold the disk's content then), that
    /// were added to or removed from the store, and the buffers opened,
    /// edited or closed. When the workspace's generation has not moved
    /// (nothing was reconciled, no buffer changed) it looks at nothing;
    /// else it compares every file's status (one `stat` each, in
    /// parallel). A read-only workspace (beside another writer) is always
    /// compared, since the writer's changes do not move the generation.
    pub fn refresh(&mut self, ws: &Workspace) -> Result<RefreshReport, Error> {
        let generation = ws.generation();
        if generation == self.ws_generation && !ws.cache().is_read_only() {
            return Ok(RefreshReport {
                files: self.files.len(),
                ..RefreshReport::default()
            });
        }
        let buffers = buffers_of(ws);
        let stored: FxHashSet<PathBuf> = stored_paths(ws).into_iter().collect();
        // The status of every known stored file, now.
        let known_stored: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|f| matches!(f.origin, Origin::Stored(Some(_))))
            .filter(|f| stored.contains(&f.path) && !buffers.contains(&f.path))
            .map(|f| f.path.clone())
            .collect();
        let stamps: FxHashMap<&Path, Option<Stamp>> = known_stored
            .iter()
            .zip(ws.cache().par_each(&known_stored, |p| Ok(stamp_of(p))))
            .map(|(p, s)| (p.as_path(), s.ok().flatten()))
            .collect();
        let mut report = RefreshReport {
            checked: known_stored.len(),
            ..RefreshReport::default()
        };
        let mut remove: FxHashSet<PathBuf> = FxHashSet::default();
        let mut reread_stored: Vec<PathBuf> = Vec::new();
        let mut reread_buffers: Vec<PathBuf> = Vec::new();
        for f in &self.files {
            if buffers.contains(&f.path) {
                let text_hash = ws.with_buffer(&f.path, |b| hash_bytes(b.text()));
                if f.origin != Origin::Buffer(text_hash.unwrap_or(0)) {
                    reread_buffers.push(f.path.clone());
                }
            } else if stored.contains(&f.path) {
                let unchanged = match f.origin {
                    Origin::Stored(Some(s)) => stamps.get(f.path.as_path()) == Some(&Some(s)),
                    _ => false,
                };
                if !unchanged {
                    reread_stored.push(f.path.clone());
                }
            } else {
                remove.insert(f.path.clone());
            }
        }
        let mut added: Vec<PathBuf> = buffers
            .iter()
            .filter(|p| !self.by_path.contains_key(*p))
            .cloned()
            .collect();
        added.sort();
        let added_buffers = added.len();
        reread_buffers.extend(added);
        let mut added_stored: Vec<PathBuf> = stored
            .iter()
            .filter(|p| !self.by_path.contains_key(*p) && !buffers.contains(*p))
            .cloned()
            .collect();
        added_stored.sort();
        report.added = added_buffers + added_stored.len();
        reread_stored.extend(added_stored);

        let reads = read_stored(ws.cache(), &self.interner, &reread_stored, true);
        report.read = reread_stored.len() + reread_buffers.len();
        for (path, read) in reread_stored.into_iter().zip(reads) {
            match read {
                Some(read) => self.put(ws, path, read),
                None => {
                    remove.insert(path);
                }
            }
        }
        for path in reread_buffers {
            match read_buffer(ws, &self.interner, &path) {
                Some(read) => self.put(ws, path, read),
                None => {
                    remove.insert(path);
                }
            }
        }
        self.interner.drain_into(&mut self.names);
        if !remove.is_empty() {
            let before = self.files.len();
            self.files.retain(|f| !remove.contains(&f.path));
            report.removed = before - self.files.len();
            self.by_path = self
                .files
                .iter()
                .enumerate()
                .map(|(i, f)| (f.path.clone(), i as u32))
                .collect();
        }
        report.changed = report.read > 0 || report.removed > 0;
        if report.changed {
            self.generation += 1;
            self.postings = OnceLock::new();
            self.search = OnceLock::new();
        }
        self.ws_generation = generation;
        report.files = self.files.len();
        Ok(report)
    }

    /// Adds or replaces the file at `path` with what was read.
    fn put(&mut self, ws: &Workspace, path: PathBuf, read: Read) {
        let kinds: Vec<u16> = read
            .kinds
            .into_iter()
            .map(|k| self.intern_kind(k))
            .collect();
        let tags: Box<[CTag]> = read
            .tags
            .into_iter()
            .map(|mut t| {
                t.kind = kinds.get(t.kind as usize).copied().unwrap_or(0);
                t
            })
            .collect();
        self.insert(FileData {
            rel: ws.rel(&path),
            path,
            tags,
            ascii: read.ascii,
            origin: read.origin,
            fingerprint: read.fingerprint,
            symbols: OnceLock::new(),
        });
    }

    /// Adds or replaces a file.
    fn insert(&mut self, data: FileData) {
        match self.by_path.get(&data.path) {
            Some(&i) => self.files[i as usize] = data,
            None => {
                self.by_path
                    .insert(data.path.clone(), self.files.len() as u32);
                self.files.push(data);
            }
        }
    }

    /// Writes the snapshot of the stored files' tags to `path` (see
    /// `persist.rs`); a failure is logged (the snapshot is a cache).
    fn save_snapshot(&self, path: &Path) {
        let started = std::time::Instant::now();
        let names = self.interner.export();
        let files: Vec<persist::FileOut<'_>> = self
            .files
            .iter()
            .filter_map(|f| {
                let Origin::Stored(stamp) = f.origin else {
                    return None;
                };
                Some(persist::FileOut {
                    rel: persist::os_bytes(f.path.strip_prefix(&self.root).ok()?),
                    fingerprint: f.fingerprint?,
                    stamp,
                    ascii: f.ascii,
                    tags: &f.tags,
                })
            })
            .collect();
        let bytes = persist::encode(&self.root, &names, &self.kinds, &files);
        match persist::write(path, &bytes) {
            Ok(()) => tracing::debug!(
                path = %path.display(),
                bytes = bytes.len(),
                files = files.len(),
                elapsed = ?started.elapsed(),
                "symbol snapshot written"
            ),
            Err(e) => {
                tracing::info!(path = %path.display(), error = %e, "symbol snapshot not written")
            }
        }
    }

    /// The id of `name`, when some tag has it.
    pub(crate) fn name_id(&self, name: &str) -> Option<u32> {
        self.interner.get(name.as_bytes())
    }

    fn intern_kind(&mut self, kind: String) -> u16 {
        if let Some(&id) = self.kind_ids.get(&kind) {
            return id;
        }
        let id = u16::try_from(self.kinds.len()).unwrap_or(u16::MAX);
        if id < u16::MAX {
            self.kinds.push(kind.clone());
            self.kind_ids.insert(kind, id);
        }
        id
    }

    /// The files in the index (stored files under the root and open
    /// buffers, with tags or not: a language without a tags query has
    /// none).
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// The tags (definitions and references) in the index.
    pub fn symbols(&self) -> usize {
        self.files.iter().map(|f| f.tags.len()).sum()
    }

    /// How many files [`SymbolIndex::build`] took from the snapshot kept
    /// in the cache directory (their stored tags unchanged since it was
    /// written), rather than reading their tags from the store.
    pub fn built_from_snapshot(&self) -> usize {
        self.from_snapshot
    }

    /// The workspace root the index was built for.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A number that moves whenever a refresh changes the index (for
    /// caches of data derived from it).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Distinguishes indexes, with [`SymbolIndex::generation`].
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The file id of `path` (absolute, or relative to the root).
    pub(crate) fn file_id(&self, path: &Path) -> Option<u32> {
        let absolute;
        let path = if path.is_absolute() {
            path
        } else {
            absolute = self.root.join(path);
            &absolute
        };
        self.by_path.get(path).copied()
    }

    pub(crate) fn postings(&self) -> &Postings {
        self.postings.get_or_init(|| self.build_postings())
    }

    pub(crate) fn search_index(&self) -> &SearchIndex {
        self.search
            .get_or_init(|| SearchIndex::build(self, self.postings()))
    }

    fn build_postings(&self) -> Postings {
        let n = self.names.len();
        let mut def_count = vec![0u32; n + 1];
        let mut ref_count = vec![0u32; n + 1];
        for f in &self.files {
            for t in f.tags.iter() {
                let c = if t.def {
                    &mut def_count
                } else {
                    &mut ref_count
                };
                if let Some(c) = c.get_mut(t.name as usize + 1) {
                    *c += 1;
                }
            }
        }
        for i in 1..=n {
            def_count[i] += def_count[i - 1];
            ref_count[i] += ref_count[i - 1];
        }
        let mut defs = vec![(0u32, 0u32); def_count[n] as usize];
        let mut refs = vec![(0u32, 0u32); ref_count[n] as usize];
        let mut def_next = def_count.clone();
        let mut ref_next = ref_count.clone();
        for (fi, f) in self.files.iter().enumerate() {
            for (ti, t) in f.tags.iter().enumerate() {
                let (next, out) = if t.def {
                    (&mut def_next, &mut defs)
                } else {
                    (&mut ref_next, &mut refs)
                };
                if let Some(slot) = next.get_mut(t.name as usize) {
                    if let Some(o) = out.get_mut(*slot as usize) {
                        *o = (fi as u32, ti as u32);
                    }
                    *slot += 1;
                }
            }
        }
        Postings {
            def_start: def_count,
            defs,
            ref_start: ref_count,
            refs,
        }
    }

    /// The symbol of tag `tag` of file `file`.
    pub(crate) fn symbol(&self, file: u32, tag: u32) -> Option<&Symbol> {
        let f = self.files.get(file as usize)?;
        f.symbols
            .get_or_init(|| {
                f.tags
                    .iter()
                    .map(|t| self.make_symbol(f, t))
                    .collect::<Vec<_>>()
                    .into_boxed_slice()
            })
            .get(tag as usize)
    }

    /// A [`Symbol`] made from a compact tag of `f`.
    pub(crate) fn make_symbol(&self, f: &FileData, t: &CTag) -> Symbol {
        Symbol {
            name: self
                .names
                .get(t.name as usize)
                .map_or_else(String::new, |n| n.to_string()),
            kind: self.kinds.get(t.kind as usize).cloned().unwrap_or_default(),
            path: f.path.clone(),
            line: t.row.saturating_add(1),
            column: t.col,
            end_line: t.end_row.saturating_add(1),
            end_column: t.end_col,
            is_definition: t.def,
            bytes: t.name_start as usize..t.name_end as usize,
            node_bytes: t.node_start as usize..t.node_end as usize,
            ascii: f.ascii,
        }
    }

    /// The definitions of `name` (exactly that name), ranked by how close
    /// they are to `from` (absolute, or relative to the root): in the same
    /// file first, then in the same directory, then by the number of
    /// leading path components shared with it, then by path and line.
    /// Without `from`, by path and line. Syntactic: every definition of
    /// the name, whatever scope or module it belongs to.
    pub fn definitions(&self, name: &str, from: Option<&Path>) -> Vec<&Symbol> {
        self.by_name(name, from, true)
    }

    /// The references to `name`, ranked as [`SymbolIndex::definitions`]
    /// ranks definitions. Syntactic: every tagged use of the name.
    pub fn references(&self, name: &str, from: Option<&Path>) -> Vec<&Symbol> {
        self.by_name(name, from, false)
    }

    fn by_name(&self, name: &str, from: Option<&Path>, defs: bool) -> Vec<&Symbol> {
        let Some(id) = self.name_id(name) else {
            return Vec::new();
        };
        let postings = self.postings();
        let list = if defs {
            postings.defs_of(id)
        } else {
            postings.refs_of(id)
        };
        let from: Option<PathBuf> = from.map(|p| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                self.root.join(p)
            }
        });
        let mut ranked: Vec<((u8, usize), u32, u32)> = list
            .iter()
            .map(|&(f, t)| {
                let key = match (&from, self.files.get(f as usize)) {
                    (Some(from), Some(file)) => proximity(from, &file.path),
                    _ => (0, 0),
                };
                (key, f, t)
            })
            .collect();
        ranked.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| {
                    self.files[a.1 as usize]
                        .rel
                        .cmp(&self.files[b.1 as usize].rel)
                })
                .then_with(|| a.2.cmp(&b.2))
        });
        ranked
            .into_iter()
            .filter_map(|(_, f, t)| self.symbol(f, t))
            .collect()
    }
}

/// How close `path` is to `from`, smaller first: the same file, the same
/// directory, then more leading components in common.
fn proximity(from: &Path, path: &Path) -> (u8, usize) {
    if from == path {
        return (0, 0);
    }
    if from.parent().is_some() && from.parent() == path.parent() {
        return (1, 0);
    }
    let common = from
        .components()
        .zip(path.components())
        .take_while(|(a, b)| a == b)
        .filter(|(a, _)| matches!(a, Component::Normal(_)))
        .count();
    (2, usize::MAX - common)
}

/// The stored paths under the root of `ws`.
fn stored_paths(ws: &Workspace) -> Vec<PathBuf> {
    let root = ws.root();
    ws.cache()
        .paths()
        .into_iter()
        .filter(|p| p.starts_with(root))
        .collect()
}

/// The open buffers under the root of `ws`.
fn buffers_of(ws: &Workspace) -> FxHashSet<PathBuf> {
    let root = ws.root();
    ws.buffers()
        .into_iter()
        .filter(|p| p.starts_with(root))
        .collect()
}

fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = FxHasher::default();
    h.write(b);
    h.write_usize(b.len());
    h.finish()
}

/// The status of a file on disk (`None`: it cannot be read).
fn stamp_of(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        ino,
    })
}

/// Reads the stored tags of `paths` in parallel. `None` for a path no
/// longer indexed. With `exact`, the disk's content is compared with the
/// store's (else only its length).
fn read_stored(
    cache: &Cache,
    names: &Interner,
    paths: &[PathBuf],
    exact: bool,
) -> Vec<Option<Read>> {
    cache
        .par_each(paths, |path| Ok(read_one(cache, names, path, exact)))
        .into_iter()
        .map(|r| r.ok().flatten())
        .collect()
}

fn read_one(cache: &Cache, names: &Interner, path: &Path, exact: bool) -> Option<Read> {
    let stamp = stamp_of(path);
    // Before the tags: a change between the two then shows as a
    // fingerprint that no longer matches (read again), never as old tags
    // under a new fingerprint.
    let fingerprint = cache.tags_fingerprint(path);
    match cache.tags(path) {
        Ok(Some(ft)) => {
            let source = ft.source();
            let current = match stamp {
                Some(s) if s.len == source.len() as u64 => {
                    !exact || std::fs::read(path).is_ok_and(|d| d[..] == *source)
                }
                _ => false,
            };
            let stamp = if current { stamp } else { None };
            let mut read = compact(&ft, names, Origin::Stored(stamp));
            read.fingerprint = fingerprint;
            Some(read)
        }
        Ok(None) => None,
        Err(cst::Error::NoTagsQuery(_)) => Some(Read {
            kinds: Vec::new(),
            tags: Vec::new(),
            origin: Origin::Stored(stamp),
            fingerprint,
            ascii: false,
        }),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "tags not read");
            Some(Read {
                kinds: Vec::new(),
                tags: Vec::new(),
                origin: Origin::Stored(None),
                fingerprint: None,
                ascii: false,
            })
        }
    }
}

/// Reads the tags of the open buffer of `path` (through the workspace, so
/// the buffer wins). `None`: no tree for it any more.
fn read_buffer(ws: &Workspace, names: &Interner, path: &Path) -> Option<Read> {
    let text_hash: u64 = ws.with_buffer(path, |b| hash_bytes(b.text()))?;
    let file = match ws.file_at(path) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "buffer not read");
            return None;
        }
    };
    match ws.cache().tags_for(file.tree) {
        Ok(ft) => Some(compact(&ft, names, Origin::Buffer(text_hash))),
        Err(e) => {
            if !matches!(e, cst::Error::NoTagsQuery(_)) {
                tracing::warn!(path = %path.display(), error = %e, "buffer tags not read");
            }
            Some(Read {
                kinds: Vec::new(),
                tags: Vec::new(),
                origin: Origin::Buffer(text_hash),
                fingerprint: None,
                ascii: false,
            })
        }
    }
}

/// A file's tags, compact: names interned in `names`, kinds local to the
/// file.
fn compact(ft: &FileTags, names: &Interner, origin: Origin) -> Read {
    let source = ft.source();
    // The file's names: the shared interner is asked once per name.
    let mut local: FxHashMap<&[u8], u32> = FxHashMap::default();
    let mut kinds: Vec<String> = Vec::new();
    let mut tags = Vec::with_capacity(ft.tags().len());
    for t in ft.tags() {
        let Some(bytes) = source.get(t.name_range.clone()) else {
            continue;
        };
        if bytes.is_empty() {
            continue;
        }
        let u = |v: usize| u32::try_from(v).ok();
        let (
            Some(row),
            Some(col),
            Some(end_row),
            Some(end_col),
            Some(name_start),
            Some(name_end),
            Some(node_start),
            Some(node_end),
        ) = (
            u(t.span.start.row),
            u(t.span.start.column),
            u(t.span.end.row),
            u(t.span.end.column),
            u(t.name_range.start),
            u(t.name_range.end),
            u(t.range.start),
            u(t.range.end),
        )
        else {
            continue;
        };
        let name = *local.entry(bytes).or_insert_with(|| names.intern(bytes));
        let kind_name = ft.kind(t);
        let kind = match kinds.iter().position(|k| k == kind_name) {
            Some(k) => k,
            None => {
                kinds.push(kind_name.to_string());
                kinds.len() - 1
            }
        };
        tags.push(CTag {
            name,
            kind: u16::try_from(kind).unwrap_or(u16::MAX),
            def: t.is_definition,
            row,
            col,
            end_row,
            end_col,
            name_start,
            name_end,
            node_start,
            node_end,
        });
    }
    Read {
        kinds,
        tags,
        origin,
        fingerprint: None,
        ascii: source.is_ascii(),
    }
}

/// The source of a file of the index: its open buffer's text, or the
/// stored source.
pub(crate) fn source_of(ws: &Workspace, f: &FileData) -> Option<Arc<[u8]>> {
    if let Origin::Buffer(_) = f.origin
        && let Some(text) = ws.with_buffer(&f.path, |b| b.text().clone())
    {
        return Some(text);
    }
    ws.cache().source(&f.path).ok().flatten()
}
