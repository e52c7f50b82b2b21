//! The workspace: the store of a directory, the overlay of open buffers,
//! the watcher that keeps the store current, and the generation every
//! answer carries.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cst::{Cache, Config, Tree, grammars};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;

use crate::buffer::{Buffer, Change};
use crate::discover::{OpenOptions, open_cache};
use crate::text::Encoding;
use crate::{Error, reconcile};

/// Most buffers open at once.
pub const MAX_BUFFERS: usize = 1024;

/// Most bytes of text in all open buffers together.
pub const MAX_BUFFER_BYTES: usize = 1 << 30;

/// How to open a [`Workspace`].
#[derive(Debug, Clone)]
pub struct WorkspaceOptions {
    /// Where the cache is and how to open it.
    pub open: OpenOptions,
    /// Keep the store current as files change (`cst serve --watch`).
    pub watch: bool,
    /// The watcher's settings.
    pub watch_options: cst_watch::WatchOptions,
    /// Index the whole workspace when it opens (a reconcile: unchanged
    /// files are trusted by their status and not read).
    pub index_on_open: bool,
    /// The path map is written at most this often while changes come in
    /// (readers beside the server see changes after it).
    pub flush_delay: Duration,
    /// Work to do before the first index (with `index_on_open`).
    pub before_index: Option<BeforeIndex>,
    /// A check for grammars added while the workspace is open, made every
    /// [`GRAMMAR_POLL`] on the reconcile thread; when it says some were,
    /// the whole root is reconciled again (files of their languages were
    /// skipped as "no grammar").
    pub grammar_reload: Option<GrammarReload>,
}

/// How often [`WorkspaceOptions::grammar_reload`] is asked.
pub const GRAMMAR_POLL: Duration = Duration::from_secs(2);

/// Loads grammars approved since the last call (`cst grammar add` while
/// `cst serve`, `cst lsp` or `cst mcp` runs) into the process's registry
/// (`cst::grammars::register`). It is given the workspace's root (never a
/// place to load grammars from) and reports its own failures. Each
/// workspace then compares the registry with what it last saw, so that
/// several workspaces may share one.
#[derive(Clone)]
pub struct GrammarReload(Arc<dyn Fn(&Path) + Send + Sync>);

impl GrammarReload {
    /// `f(root)`: load what was approved since the last call.
    pub fn new(f: impl Fn(&Path) + Send + Sync + 'static) -> GrammarReload {
        GrammarReload(Arc::new(f))
    }

    pub(crate) fn poll(&self, root: &Path) {
        (self.0)(root)
    }
}

impl std::fmt::Debug for GrammarReload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GrammarReload(..)")
    }
}

/// Work run once on the reconcile thread before the first index, while
/// the workspace is not [ready](Workspace::is_ready) yet: e.g. a pull
/// from a shared remote (`cst serve`), so that what the remote holds is
/// not parsed. It reports its own failures: the index runs after it,
/// whatever it did.
#[derive(Clone)]
pub struct BeforeIndex(Arc<dyn Fn(&Cache) + Send + Sync>);

impl BeforeIndex {
    /// `f`, to be run with the workspace's cache.
    pub fn new(f: impl Fn(&Cache) + Send + Sync + 'static) -> BeforeIndex {
        BeforeIndex(Arc::new(f))
    }

    pub(crate) fn run(&self, cache: &Cache) {
        (self.0)(cache);
    }
}

impl std::fmt::Debug for BeforeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeforeIndex(..)")
    }
}

impl Default for WorkspaceOptions {
    fn default() -> Self {
        WorkspaceOptions {
            open: OpenOptions::default(),
            watch: true,
            watch_options: cst_watch::WatchOptions::default(),
            index_on_open: true,
            flush_delay: Duration::from_millis(500),
            before_index: None,
            grammar_reload: None,
        }
    }
}

/// What every answer carries: the generation it was computed at (it grows
/// with every change the workspace applies: a reconciled file, a buffer
/// opened, edited or closed) and the paths known to be stale (changed on
/// disk, not reconciled yet).
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    /// The generation.
    pub generation: u64,
    /// Stale paths relative to the root (at most 100 of them).
    pub stale: Vec<String>,
    /// How many paths are stale in all.
    pub stale_count: usize,
}

/// What the workspace is doing.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The root.
    pub root: String,
    /// The generation and stale paths.
    #[serde(flatten)]
    pub meta: Meta,
    /// The first index has finished.
    pub ready: bool,
    /// `indexing` or `idle`.
    pub state: &'static str,
    /// Files of the index run in progress done, and their total.
    pub progress: [u64; 2],
    /// The last index or reconcile run.
    pub last_run: Option<RunSummary>,
    /// Reconcile batches applied since the workspace opened.
    pub reconciles: u64,
    /// The cache was opened read-only (another process writes it).
    pub read_only: bool,
    /// Open buffers.
    pub buffers: usize,
    /// The watcher, when one runs.
    pub watch: Option<WatchInfo>,
}

/// The watcher's state.
#[derive(Debug, Clone, Serialize)]
pub struct WatchInfo {
    /// `native` or `polling`.
    pub mode: &'static str,
    /// Directories watched natively.
    pub watched_dirs: usize,
    /// The watch budget.
    pub max_watches: usize,
    /// Why it polls, when it does.
    pub polling_reason: Option<String>,
    /// Batches of changes received.
    pub batches: u64,
    /// Batches that asked for a whole reconcile.
    pub rescans: u64,
    /// Event queue overflows.
    pub overflows: u64,
    /// Watch errors.
    pub errors: u64,
}

/// A summary of an index or reconcile run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Files indexed.
    pub files: u64,
    /// Parsed (new or changed content).
    pub parsed: u64,
    /// Found stored.
    pub hits: u64,
    /// Paths forgotten (deleted, now ignored).
    pub removed: u64,
    /// Files skipped (binary, too large, unknown language…).
    pub skipped: u64,
    /// Wall time in milliseconds.
    pub millis: u64,
}

impl From<&cst::IndexReport> for RunSummary {
    fn from(r: &cst::IndexReport) -> Self {
        RunSummary {
            files: r.files(),
            parsed: r.parsed,
            hits: r.hits,
            removed: r.removed,
            skipped: r.skipped.values().sum(),
            millis: r.elapsed.as_millis() as u64,
        }
    }
}

/// A file's tree as an answer sees it: from its open buffer, or stored.
#[derive(Debug, Clone)]
pub struct FileTree {
    /// The canonical path.
    pub path: PathBuf,
    /// The path relative to the root, as answers show it.
    pub rel: String,
    /// The tree (with its source).
    pub tree: Tree,
    /// The buffer's version, when the tree is an open buffer's.
    pub buffer_version: Option<Option<i64>>,
}

/// A buffer's state after a change.
#[derive(Debug, Clone, Serialize)]
pub struct BufferState {
    /// The path relative to the root.
    pub path: String,
    /// The language id.
    pub language: &'static str,
    /// The client's version.
    pub version: Option<i64>,
    /// Bytes of text.
    pub bytes: usize,
    /// Lines of text.
    pub lines: usize,
    /// Whether the tree has ERROR or MISSING nodes.
    pub has_error: bool,
}

pub(crate) struct Shared {
    pub(crate) root: PathBuf,
    pub(crate) cache: Cache,
    pub(crate) read_only: bool,
    pub(crate) buffers: RwLock<HashMap<PathBuf, Arc<Mutex<Buffer>>>>,
    generation: AtomicU64,
    pub(crate) stale: Mutex<BTreeSet<PathBuf>>,
    pub(crate) ready: AtomicBool,
    pub(crate) indexing: AtomicBool,
    pub(crate) progress: [AtomicU64; 2],
    pub(crate) last_run: Mutex<Option<RunSummary>>,
    pub(crate) reconciles: AtomicU64,
    /// The path map changed since it was last written.
    pub(crate) dirty: AtomicBool,
    pub(crate) watcher: Mutex<Option<cst_watch::Watcher>>,
    pub(crate) stop: AtomicBool,
    /// One index run at a time (a whole reconcile and a file's are not
    /// interleaved; readers never wait for it).
    pub(crate) index_lock: Mutex<()>,
    pub(crate) flush_delay: Duration,
}

/// Texts from this size up have their trees freed on another thread
/// ([`drop_trees_of`]).
const DROP_ELSEWHERE_BYTES: usize = 64 << 10;

/// Drops `value`, which holds the trees of a text of `text_len` bytes:
/// for a large text on a short-lived thread of its own (freeing its trees
/// takes milliseconds, which the caller's next message would wait behind),
/// else here. Here too when no thread can be started (the refused closure
/// drops it).
pub fn drop_trees_of<T: Send + 'static>(text_len: usize, value: T) {
    if text_len < DROP_ELSEWHERE_BYTES {
        return drop(value);
    }
    let _ = std::thread::Builder::new()
        .name("cst-drop".into())
        .spawn(move || drop(value));
}

/// A workspace (see the crate documentation). Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Workspace {
    pub(crate) shared: Arc<Shared>,
    /// The reconcile thread, joined when the last handle goes.
    _thread: Arc<reconcile::ThreadGuard>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("root", &self.shared.root)
            .finish()
    }
}

impl Workspace {
    /// Opens the workspace at `root` (a directory), loads its configuration
    /// (`config`, or `cst.toml` in the root) and its cache, and, as
    /// `options` says, indexes it (in the background: [`Status::ready`]
    /// tells when it is done) and starts watching it.
    pub fn open(
        root: &Path,
        config: Option<Config>,
        options: WorkspaceOptions,
    ) -> Result<Workspace, Error> {
        let root = root.canonicalize().map_err(|source| Error::Io {
            path: root.to_path_buf(),
            source,
        })?;
        if !root.is_dir() {
            return Err(Error::NotADirectory(root));
        }
        let config = match config {
            Some(c) => c,
            None => crate::discover::load_config(options.open.config_file.as_deref(), &root)?,
        };
        let opened = open_cache(&root, config, &options.open)?;
        let read_only = opened.cache.is_read_only();
        let shared = Arc::new(Shared {
            root,
            cache: opened.cache,
            read_only,
            buffers: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(1),
            stale: Mutex::new(BTreeSet::new()),
            ready: AtomicBool::new(!options.index_on_open),
            indexing: AtomicBool::new(false),
            progress: Default::default(),
            last_run: Mutex::new(None),
            reconciles: AtomicU64::new(0),
            dirty: AtomicBool::new(false),
            watcher: Mutex::new(None),
            stop: AtomicBool::new(false),
            index_lock: Mutex::new(()),
            flush_delay: options.flush_delay,
        });
        let thread = reconcile::start(shared.clone(), &options)?;
        Ok(Workspace {
            shared,
            _thread: Arc::new(thread),
        })
    }

    /// The root (canonical).
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    /// The cache.
    pub fn cache(&self) -> &Cache {
        &self.shared.cache
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    pub(crate) fn bump(shared: &Shared) -> u64 {
        shared.generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The generation and the stale paths, now.
    pub fn meta(&self) -> Meta {
        let generation = self.generation();
        let stale = self.shared.stale.lock();
        Meta {
            generation,
            stale: stale.iter().take(100).map(|p| self.rel(p)).collect(),
            stale_count: stale.len(),
        }
    }

    /// Whether the first index has finished.
    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::Acquire)
    }

    /// What the workspace is doing.
    pub fn status(&self) -> Status {
        let s = &self.shared;
        let watch = s.watcher.lock().as_ref().map(|w| {
            let st = w.status();
            WatchInfo {
                mode: match st.mode {
                    cst_watch::Mode::Native => "native",
                    cst_watch::Mode::Polling => "polling",
                },
                watched_dirs: st.watched_dirs,
                max_watches: st.max_watches,
                polling_reason: st.polling_reason,
                batches: st.batches,
                rescans: st.rescans,
                overflows: st.overflows,
                errors: st.errors,
            }
        });
        Status {
            root: s.root.to_string_lossy().into_owned(),
            meta: self.meta(),
            ready: self.is_ready(),
            state: if s.indexing.load(Ordering::Acquire) {
                "indexing"
            } else {
                "idle"
            },
            progress: [
                s.progress[0].load(Ordering::Relaxed),
                s.progress[1].load(Ordering::Relaxed),
            ],
            last_run: s.last_run.lock().clone(),
            reconciles: s.reconciles.load(Ordering::Relaxed),
            read_only: s.read_only,
            buffers: s.buffers.read().len(),
            watch,
        }
    }

    /// `path` relative to the root, as answers show it.
    pub fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.shared.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    /// The canonical path of `p` — relative to the root, or absolute inside
    /// it — refused when it leaves the workspace: `..` above the root, an
    /// absolute path elsewhere, or a symbolic link that points outside.
    /// The path need not exist (a new buffer).
    pub fn resolve(&self, p: &str) -> Result<PathBuf, Error> {
        if p.is_empty() || p.contains('\0') {
            return Err(Error::BadPath(p.to_string()));
        }
        let root = &self.shared.root;
        let given = Path::new(p);
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            root.join(given)
        };
        // Lexically first: `..` never climbs above the root.
        let mut lexical = PathBuf::new();
        for c in joined.components() {
            match c {
                Component::ParentDir => {
                    if !lexical.pop() {
                        return Err(Error::OutsideWorkspace(p.to_string()));
                    }
                }
                Component::CurDir => {}
                other => lexical.push(other),
            }
        }
        if !lexical.starts_with(root) {
            return Err(Error::OutsideWorkspace(p.to_string()));
        }
        // Then through the links: the longest part that exists, resolved.
        let mut existing = lexical.as_path();
        let mut rest = Vec::new();
        let canonical = loop {
            match existing.canonicalize() {
                Ok(c) => break c,
                Err(_) => {
                    let Some(parent) = existing.parent() else {
                        return Err(Error::OutsideWorkspace(p.to_string()));
                    };
                    if let Some(name) = existing.file_name() {
                        rest.push(name.to_os_string());
                    }
                    existing = parent;
                }
            }
        };
        if !canonical.starts_with(root) {
            return Err(Error::OutsideWorkspace(p.to_string()));
        }
        let mut out = canonical;
        for name in rest.into_iter().rev() {
            out.push(name);
        }
        Ok(out)
    }

    /// The tree of `p` (see [`Workspace::resolve`]): its open buffer's, or
    /// the stored one — the file indexed first when nothing is stored for
    /// it or it is known to have changed.
    pub fn file(&self, p: &str) -> Result<FileTree, Error> {
        let path = self.resolve(p)?;
        self.file_at(&path)
    }

    /// [`Workspace::file`] for a resolved path.
    pub fn file_at(&self, path: &Path) -> Result<FileTree, Error> {
        let rel = self.rel(path);
        if let Some(b) = self.buffer(path) {
            let b = b.lock();
            return Ok(FileTree {
                path: path.to_path_buf(),
                rel,
                tree: b.tree.tree()?,
                buffer_version: Some(b.version),
            });
        }
        let cache = &self.shared.cache;
        let stale = self.shared.stale.lock().contains(path);
        if !stale && let Some(tree) = cache.get(path)? {
            return Ok(FileTree {
                path: path.to_path_buf(),
                rel,
                tree,
                buffer_version: None,
            });
        }
        // Not indexed, or changed on disk and not reconciled yet: this file
        // now.
        let meta = std::fs::metadata(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound(PathBuf::from(&rel))
            } else {
                Error::Io {
                    path: PathBuf::from(&rel),
                    source,
                }
            }
        })?;
        if !meta.is_file() {
            return Err(Error::NotAFile(rel));
        }
        reconcile::paths(&self.shared, &[path.to_path_buf()])?;
        match cache.get(path)? {
            Some(tree) => Ok(FileTree {
                path: path.to_path_buf(),
                rel,
                tree,
                buffer_version: None,
            }),
            None => Err(Error::NotIndexed(rel)),
        }
    }

    fn buffer(&self, path: &Path) -> Option<Arc<Mutex<Buffer>>> {
        self.shared.buffers.read().get(path).cloned()
    }

    /// The open buffers' paths, sorted.
    pub fn buffers(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.shared.buffers.read().keys().cloned().collect();
        v.sort();
        v
    }

    /// Opens a buffer for `path` (resolved) with `text`, in `language` (an
    /// id, name or alias) or the one detected from the path and text, or
    /// replaces the text of the open one (an incremental reparse of the part
    /// that differs). The buffer shadows the file for every answer until
    /// [`Workspace::close`].
    pub fn open_buffer(
        &self,
        path: &Path,
        text: String,
        version: Option<i64>,
        language: Option<&str>,
    ) -> Result<BufferState, Error> {
        if let Some(b) = self.buffer(path) {
            let mut b = b.lock();
            b.replace(text, version)?;
            Self::bump(&self.shared);
            return Ok(self.state_of(path, &b));
        }
        let grammar = match language {
            Some(l) => grammars::by_id(l)
                .or_else(|| grammars::by_name(l))
                .ok_or_else(|| Error::UnknownLanguage(l.to_string()))?,
            None => {
                let head = &text.as_bytes()[..text.len().min(8192)];
                grammars::detect(path, head)
                    .ok_or_else(|| Error::UnknownLanguage(self.rel(path)))?
            }
        };
        {
            let buffers = self.shared.buffers.read();
            let bytes: usize = buffers.values().map(|b| b.lock().text().len()).sum();
            if buffers.len() >= MAX_BUFFERS || bytes + text.len() > MAX_BUFFER_BYTES {
                return Err(Error::Invalid(format!(
                    "too many open buffers ({} of at most {MAX_BUFFERS}, {bytes} bytes of at most {MAX_BUFFER_BYTES}): close some",
                    buffers.len()
                )));
            }
        }
        let new_text = text.clone();
        let tree = self
            .shared
            .cache
            .detached(grammar, text.into_bytes().into_boxed_slice())?;
        let buffer = Buffer::new(tree, version);
        let mut buffers = self.shared.buffers.write();
        if let Some(open) = buffers.get(path).cloned() {
            // Opened by another request meanwhile: this text replaces its
            // (with its version check), never its later edits silently.
            drop(buffers);
            let mut b = open.lock();
            b.replace(new_text, version)?;
            Self::bump(&self.shared);
            return Ok(self.state_of(path, &b));
        }
        Self::bump(&self.shared);
        let state = self.state_of(path, &buffer);
        buffers.insert(path.to_path_buf(), Arc::new(Mutex::new(buffer)));
        Ok(state)
    }

    /// Applies `changes` to the open buffer of `path`, in order, with one
    /// incremental reparse (nothing else happens on this path: no hashing,
    /// encoding or storing).
    pub fn edit_buffer(
        &self,
        path: &Path,
        changes: &[Change],
        encoding: Encoding,
        version: Option<i64>,
    ) -> Result<BufferState, Error> {
        let b = self
            .buffer(path)
            .ok_or_else(|| Error::NotOpen(self.rel(path)))?;
        let mut b = b.lock();
        b.apply(changes, encoding, version)?;
        Self::bump(&self.shared);
        Ok(self.state_of(path, &b))
    }

    /// Runs `f` on the open buffer of `path`.
    pub fn with_buffer<T>(&self, path: &Path, f: impl FnOnce(&Buffer) -> T) -> Option<T> {
        let b = self.buffer(path)?;
        let b = b.lock();
        Some(f(&b))
    }

    /// Closes the buffer of `path`: answers come from the file again. When
    /// the file on disk holds the buffer's text (the client saved it), the
    /// buffer's tree is stored as the file's, so it is not parsed again.
    /// Returns whether a buffer was open.
    pub fn close(&self, path: &Path) -> Result<bool, Error> {
        let Some(buffer) = self.shared.buffers.write().remove(path) else {
            return Ok(false);
        };
        Self::bump(&self.shared);
        let b = buffer.lock();
        if !self.shared.read_only
            && let Ok(on_disk) = std::fs::read(path)
            && on_disk[..] == b.text()[..]
        {
            let stored = self.shared.cache.get(path).ok().flatten();
            if stored.as_ref().and_then(|t| t.source()) != Some(&on_disk[..]) {
                b.tree.store_as(path)?;
                self.shared.dirty.store(true, Ordering::Release);
            }
        }
        let len = b.text().len();
        drop(b);
        drop_trees_of(len, buffer);
        Ok(true)
    }

    fn state_of(&self, path: &Path, b: &Buffer) -> BufferState {
        BufferState {
            path: self.rel(path),
            language: b.language().id(),
            version: b.version,
            bytes: b.text().len(),
            lines: b.lines.lines(),
            has_error: b.tree.live().root_node().has_error(),
        }
    }

    /// Reconciles the whole workspace with the disk now (what `cst index`
    /// beside a server asks for): an index run that trusts unchanged files
    /// by their status. Returns its summary.
    pub fn reconcile(&self) -> Result<RunSummary, Error> {
        reconcile::all(&self.shared)
    }

    /// Reconciles `paths` (files or directories; gone ones are forgotten).
    pub fn reconcile_paths(&self, paths: &[PathBuf]) -> Result<(), Error> {
        reconcile::paths(&self.shared, paths)
    }

    /// Writes what changed to disk (the path map): readers beside the
    /// server see it after this.
    pub fn flush(&self) -> Result<(), Error> {
        if !self.shared.read_only {
            self.shared.cache.flush()?;
        }
        Ok(())
    }

    /// Stops watching and reconciling, and flushes. Called by the last
    /// handle's drop too; calling it first reports a flush error.
    pub fn shutdown(&self) -> Result<(), Error> {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.watcher.lock().take();
        self.flush()
    }

    /// Waits until the first index has finished (or `timeout` passed);
    /// returns whether it has.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        while !self.is_ready() {
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }
}
