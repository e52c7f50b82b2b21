//! Finding a workspace and opening its cache: the root of a path, the
//! configuration, the cache directory, and the open-to-write-or-read
//! fallback. Every front end (the command, the HTTP server, the language
//! server) opens a workspace this way and no other.

use std::path::{Path, PathBuf};

use cst::{Cache, Config};

use crate::Error;

/// The workspace of `path`: the nearest ancestor (or itself) with a cache
/// in the default cache location (unless `explicit_cache_dir`: then the
/// cache says nothing about the root), else with `.git` or `cst.toml`,
/// else the directory itself (a file's parent).
pub fn find_root(path: &Path, explicit_cache_dir: bool) -> PathBuf {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("/"))
    };
    if !explicit_cache_dir
        && let Some(a) = dir.ancestors().find(|a| cst::default_cache_dir(a).exists())
    {
        return a.to_path_buf();
    }
    dir.ancestors()
        .find(|d| d.join(".git").exists() || d.join("cst.toml").exists())
        .unwrap_or(dir)
        .to_path_buf()
}

/// The configuration of the workspace at `root`: `explicit` (which must
/// exist), else `root/cst.toml` when present, else the defaults; `CST_*`
/// variables apply on top.
pub fn load_config(explicit: Option<&Path>, root: &Path) -> Result<Config, Error> {
    if let Some(p) = explicit
        && !p.is_file()
    {
        return Err(Error::NotFound(p.to_path_buf()));
    }
    let default = root.join("cst.toml");
    let path = explicit.map(Path::to_path_buf).unwrap_or(default);
    Ok(Config::load(Some(&path)).map_err(cst::Error::from)?)
}

/// How to open a workspace's cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// To write; fails with a busy error while another process writes it.
    #[default]
    Write,
    /// To write, waiting for another writer to close it first.
    WriteWaiting,
    /// To write if no other process does, else to read beside the writer
    /// (what is computed is then kept in memory only).
    WriteOrRead,
    /// To read, beside any writer.
    Read,
}

/// Where and how to open a workspace.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The cache directory (default: [`cst::default_cache_dir`] of the root).
    pub cache_dir: Option<PathBuf>,
    /// The configuration file (default: `cst.toml` in the root, if any).
    pub config_file: Option<PathBuf>,
    /// How to open the cache.
    pub access: Access,
}

impl OpenOptions {
    /// The cache directory of the workspace at `root`.
    pub fn cache_dir_of(&self, root: &Path) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| cst::default_cache_dir(root))
    }
}

/// A cache as opened, and whether it fell back to reading.
#[derive(Debug)]
pub struct Opened {
    /// The cache.
    pub cache: Cache,
    /// [`Access::WriteOrRead`] found another writer and opened to read.
    pub fell_back_to_read: bool,
}

/// Opens the cache of the workspace at `root` (whose configuration is
/// `config`) as `options` says.
pub fn open_cache(root: &Path, config: Config, options: &OpenOptions) -> Result<Opened, Error> {
    let dir = options.cache_dir_of(root);
    let (cache, fell_back_to_read) = match options.access {
        Access::Read => (Cache::open_read_only(&dir, config)?, false),
        Access::WriteWaiting => (Cache::open_waiting(&dir, config)?, false),
        Access::Write => (Cache::open(&dir, config)?, false),
        Access::WriteOrRead => match Cache::open(&dir, config.clone()) {
            Err(e) if e.kind() == cst::ErrorKind::Busy => {
                (Cache::open_read_only(&dir, config)?, true)
            }
            other => (other?, false),
        },
    };
    Ok(Opened {
        cache,
        fell_back_to_read,
    })
}

/// The indexed files under `paths` (canonical files or directories),
/// indexing first the ones nothing is indexed under (all of them with
/// `reindex`): a directory by an index run, a file by reading it.
pub fn select(cache: &Cache, paths: &[PathBuf], reindex: bool) -> Result<Vec<PathBuf>, Error> {
    let mut indexed = cache.paths();
    let mut changed = false;
    for p in paths {
        let known = indexed.iter().any(|f| f.starts_with(p));
        if known && !reindex {
            continue;
        }
        if p.is_dir() {
            cache.index(p, &|_| {})?;
        } else {
            let source = std::fs::read(p).map_err(|source| Error::Io {
                path: p.clone(),
                source,
            })?;
            cache.insert(p, source)?;
        }
        changed = true;
    }
    if changed {
        cache.flush()?;
        indexed = cache.paths();
    }
    Ok(indexed
        .into_iter()
        .filter(|f| paths.iter().any(|p| f.starts_with(p)))
        .collect())
}

/// The stored tree of `file`, indexed again first if the file's content is
/// not the indexed one (or nothing is indexed for it).
pub fn fresh_tree(cache: &Cache, file: &Path) -> Result<cst::Tree, Error> {
    let source = std::fs::read(file).map_err(|source| Error::Io {
        path: file.to_path_buf(),
        source,
    })?;
    match cache.get(file) {
        Ok(Some(t)) if t.source() == Some(&source[..]) => Ok(t),
        _ => {
            cache.insert(file, source)?;
            if !cache.is_read_only() {
                cache.flush()?;
            }
            cache
                .get(file)?
                .ok_or_else(|| Error::NotFound(file.to_path_buf()))
        }
    }
}

/// The file a running server leaves in its cache directory so that other
/// `cst` commands find it (`server` in the cache directory): its address,
/// its token (the file is readable by its owner only) and its process id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFile {
    /// `ip:port` or `unix:/path`.
    pub addr: String,
    /// The bearer token, when the server has one.
    pub token: Option<String>,
    /// The server's process id.
    pub pid: u32,
}

impl ServerFile {
    /// Its path in the cache directory `cache_dir`.
    pub fn path(cache_dir: &Path) -> PathBuf {
        cache_dir.join("server")
    }

    /// Writes it (atomically, owner-only) into `cache_dir`.
    pub fn write(&self, cache_dir: &Path) -> std::io::Result<()> {
        let mut text = format!("addr={}\npid={}\n", self.addr, self.pid);
        if let Some(t) = &self.token {
            text.push_str(&format!("token={t}\n"));
        }
        let path = Self::path(cache_dir);
        let tmp = path.with_extension("tmp");
        {
            // A new file, never one left (or planted) there: it holds the
            // token, so it is created owner-only and not followed if a link.
            let _ = std::fs::remove_file(&tmp);
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            let mut f = o.open(&tmp)?;
            std::io::Write::write_all(&mut f, text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)
    }

    /// Reads the file in `cache_dir`, when there is one and it parses.
    pub fn read(cache_dir: &Path) -> Option<ServerFile> {
        let text = std::fs::read_to_string(Self::path(cache_dir)).ok()?;
        let (mut addr, mut token, mut pid) = (None, None, None);
        for line in text.lines() {
            match line.split_once('=') {
                Some(("addr", v)) => addr = Some(v.to_string()),
                Some(("token", v)) => token = Some(v.to_string()),
                Some(("pid", v)) => pid = v.parse().ok(),
                _ => {}
            }
        }
        Some(ServerFile {
            addr: addr?,
            token,
            pid: pid?,
        })
    }

    /// Whether its process still runs (on Linux; elsewhere assumed).
    pub fn is_alive(&self) -> bool {
        if cfg!(target_os = "linux") {
            Path::new(&format!("/proc/{}", self.pid)).exists()
        } else {
            true
        }
    }

    /// Removes the file of `cache_dir` if it is this server's.
    pub fn remove(&self, cache_dir: &Path) {
        if Self::read(cache_dir).as_ref() == Some(self) {
            let _ = std::fs::remove_file(Self::path(cache_dir));
        }
    }
}
