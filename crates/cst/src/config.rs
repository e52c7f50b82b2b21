//! Configuration: defaults, `cst.toml`, and `CST_*` environment overrides.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How trees are kept in the cold tier and on disk (docs/BENCHMARKS.md,
/// "Codecs", has the measured sizes and read costs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Not compressed: the tree's own bytes, read in place (from a memory
    /// map on disk) with no copy and no decoding.
    None,
    /// LZ4: fast to read back (a decompression per read).
    Lz4,
    /// Zstandard at `zstd_level`: smallest, slowest to read back.
    Zstd,
}

impl Compression {
    fn parse(var: &'static str, v: String) -> Result<Compression, ConfigError> {
        match v.trim() {
            "none" => Ok(Compression::None),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd),
            _ => Err(ConfigError::Env {
                var,
                value: v,
                why: "expected none, lz4 or zstd",
            }),
        }
    }
}

/// Settings of a [`Cache`](crate::Cache). Every field has a default that
/// suits a workspace of about a million lines on a laptop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Budget of the hot tier (live trees, estimated bytes). Default 256 MiB
    /// (~250K lines of live trees).
    pub hot_bytes: u64,
    /// Budget of the warm tier (encoded trees). Default 64 MiB (~3.5M lines).
    pub warm_bytes: u64,
    /// Budget of the cold tier (compressed trees). Default 32 MiB (~6M lines).
    pub cold_bytes: u64,
    /// Codec of the cold tier (compressed trees in memory). Default lz4:
    /// cold gets 2.6–8.5× faster than with zstd for 1.2–1.3× the bytes
    /// (docs/BENCHMARKS.md, "Format v4", codecs).
    pub cold_compression: Compression,
    /// Codec of the trees on disk. Default zstd: the tree's packed form
    /// (`cst_bytecode::pack`, byte-aligned) compressed with the store's
    /// trained dictionary of the language once it has one (`dictionaries`),
    /// the smallest store (docs/BENCHMARKS.md, "The store at scale"); a read
    /// decompresses and lays the tree out again (linear). lz4 reads
    /// back 1.9–9.2× faster for 1.2–1.3× the bytes (it takes no
    /// dictionary); `none` reads the tree in place from the map, no copy,
    /// for 1.3–2.4× the bytes to fault in (docs/BENCHMARKS.md, "Format v4").
    /// Sources are always stored with zstd (and their own dictionary).
    pub disk_compression: Compression,
    /// Older setting: when given, the codec of both the cold tier and the
    /// disk (overriding `cold_compression` and `disk_compression`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// zstd level (1–22) of zstd-compressed trees and of sources. Default 9:
    /// 8–12% smaller than 3 for about the same indexing time (the parse
    /// dominates; docs/BENCHMARKS.md, "The store at scale").
    pub zstd_level: i32,
    /// Worker threads for indexing; 0 = one per core.
    pub threads: usize,
    /// Files larger than this are skipped by `index` (counted as
    /// `SkipReason::TooLarge`, without being read) and refused by `insert`
    /// and `edit` (`Error::TooLarge`), before any parsing (bytes). Default
    /// 64 MiB: editors open files that large (the Linux kernel has 29 files
    /// over 4 MiB, up to 24 MB). Parsing one costs tree-sitter's live tree
    /// for a moment (0.5–1 KB per line); what is kept obeys the budgets, and
    /// a tree larger than a tier's share lives on disk only.
    pub max_file_bytes: u64,
    /// Keep each file's source in the cache (true), or only its hash and
    /// read it from disk when needed, checking the hash (false).
    pub store_source: bool,
    /// Train zstd dictionaries from the workspace's own files, per language,
    /// for trees and for sources, and use them for new records. Default true.
    pub dictionaries: bool,
    /// Budget of the store on disk for trees, sources and tags no indexed
    /// path refers to any more (bytes; 0 = no limit). A path that goes away
    /// (a file deleted, a branch switched) leaves its tree on disk, so its
    /// content coming back parses nothing; when the live records exceed
    /// this budget, unreferenced ones are deleted, oldest written first.
    /// Records paths refer to are never deleted for the budget. Default
    /// 4 GiB. Dead bytes (replaced or deleted records) are compacted away
    /// in the background once they exceed a quarter of the store's files
    /// and 16 MiB.
    pub disk_bytes: u64,
    /// Dead bytes in the store past which a flush starts a background
    /// compaction (when they are also a quarter of its files). Default 16 MiB.
    pub compact_dead_bytes: u64,
    /// Size at which the store starts a new segment file (compaction
    /// rewrites whole segments, never the one being written). Default 64 MiB.
    pub segment_bytes: u64,
    /// The shared remote tier (`[remote]`; docs/REMOTE.md).
    pub remote: RemoteSettings,
}

/// `[remote]`: where a team's shared trees are and how they are trusted.
/// Credentials and the endpoint come from the usual `AWS_*` variables; the
/// private signing key only from `CST_REMOTE_SIGNING_KEY_FILE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteSettings {
    /// `s3://BUCKET/PREFIX` (or `file:///DIR`); none: no remote.
    /// `CST_REMOTE_URL`.
    pub url: Option<String>,
    /// The public key (64 hex digits) whose signature a ref must carry.
    /// `CST_REMOTE_PUBLIC_KEY`.
    pub public_key: Option<String>,
    /// The branch whose ref is read and moved. Default `main`.
    /// `CST_REMOTE_BRANCH`.
    pub branch: String,
    /// The share of fetched trees parsed again and compared node by node
    /// before a pack is kept (any difference refuses the rest of the
    /// manifest). Default 0.01. `CST_REMOTE_VERIFY_SAMPLE`.
    pub verify_sample: f64,
    /// `cst index` pushes what it indexed (with the signing key in
    /// `CST_REMOTE_SIGNING_KEY_FILE`): for the CI that feeds the remote.
    /// Default false. `CST_REMOTE_WRITE`.
    pub write: bool,
    /// A pushed pack is closed once it holds this many MiB (1 to 1024).
    /// Larger packs mean fewer requests and objects; smaller ones, less
    /// read for a few missing files. Default 16. `CST_REMOTE_PACK_MIB`.
    pub pack_mib: u64,
    /// A push compacts when the branch's manifest lists more packs than
    /// this (each push adds one): it packs everything anew and the
    /// manifest lists only the new packs (`cst remote gc` later deletes
    /// the old ones). 0: every push compacts. Default 64.
    /// `CST_REMOTE_COMPACT_OVER`.
    pub compact_over: u64,
}

impl Default for RemoteSettings {
    fn default() -> Self {
        RemoteSettings {
            url: None,
            public_key: None,
            branch: "main".into(),
            verify_sample: 0.01,
            write: false,
            pack_mib: 16,
            compact_over: 64,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hot_bytes: 256 << 20,
            warm_bytes: 64 << 20,
            cold_bytes: 32 << 20,
            cold_compression: Compression::Lz4,
            disk_compression: Compression::Zstd,
            compression: None,
            zstd_level: 9,
            threads: 0,
            max_file_bytes: 64 << 20,
            store_source: true,
            dictionaries: true,
            disk_bytes: 4 << 30,
            compact_dead_bytes: 16 << 20,
            segment_bytes: 64 << 20,
            remote: RemoteSettings::default(),
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error.
        source: toml::de::Error,
    },
    /// An environment variable has a bad value.
    #[error("environment variable {var}={value}: {why}")]
    Env {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
}

impl Config {
    /// Defaults, overridden by `path` (a `cst.toml`) if it exists, then by
    /// `CST_HOT_BYTES`, `CST_WARM_BYTES`, `CST_COLD_BYTES`, `CST_COMPRESSION`,
    /// `CST_COLD_COMPRESSION`, `CST_DISK_COMPRESSION`, `CST_ZSTD_LEVEL`,
    /// `CST_THREADS`, `CST_MAX_FILE_BYTES`, `CST_DISK_BYTES`, `CST_STORE_SOURCE`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match path {
            Some(p) if p.exists() => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: p.to_path_buf(),
                    source,
                })?
            }
            _ => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// Applies `CST_*` overrides from `get` (the environment, or a map in tests).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn num<T: std::str::FromStr>(var: &'static str, v: String) -> Result<T, ConfigError> {
            v.trim().parse().map_err(|_| ConfigError::Env {
                var,
                value: v,
                why: "not a number",
            })
        }
        if let Some(v) = get("CST_HOT_BYTES") {
            self.hot_bytes = num("CST_HOT_BYTES", v)?;
        }
        if let Some(v) = get("CST_WARM_BYTES") {
            self.warm_bytes = num("CST_WARM_BYTES", v)?;
        }
        if let Some(v) = get("CST_COLD_BYTES") {
            self.cold_bytes = num("CST_COLD_BYTES", v)?;
        }
        if let Some(v) = get("CST_ZSTD_LEVEL") {
            self.zstd_level = num("CST_ZSTD_LEVEL", v)?;
        }
        if let Some(v) = get("CST_THREADS") {
            self.threads = num("CST_THREADS", v)?;
        }
        if let Some(v) = get("CST_DISK_BYTES") {
            self.disk_bytes = num("CST_DISK_BYTES", v)?;
        }
        if let Some(v) = get("CST_MAX_FILE_BYTES") {
            self.max_file_bytes = num("CST_MAX_FILE_BYTES", v)?;
        }
        if let Some(v) = get("CST_COMPRESSION") {
            self.compression = Some(Compression::parse("CST_COMPRESSION", v)?);
        }
        if let Some(v) = get("CST_COLD_COMPRESSION") {
            self.cold_compression = Compression::parse("CST_COLD_COMPRESSION", v)?;
        }
        if let Some(v) = get("CST_DISK_COMPRESSION") {
            self.disk_compression = Compression::parse("CST_DISK_COMPRESSION", v)?;
        }
        if let Some(v) = get("CST_STORE_SOURCE") {
            self.store_source = match v.trim() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => {
                    return Err(ConfigError::Env {
                        var: "CST_STORE_SOURCE",
                        value: v,
                        why: "expected true or false",
                    });
                }
            };
        }
        if let Some(v) = get("CST_REMOTE_URL") {
            self.remote.url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("CST_REMOTE_PUBLIC_KEY") {
            self.remote.public_key = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("CST_REMOTE_BRANCH") {
            self.remote.branch = v;
        }
        if let Some(v) = get("CST_REMOTE_WRITE") {
            self.remote.write = match v.trim() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" | "" => false,
                _ => {
                    return Err(ConfigError::Env {
                        var: "CST_REMOTE_WRITE",
                        value: v,
                        why: "expected true or false",
                    });
                }
            };
        }
        if let Some(v) = get("CST_REMOTE_VERIFY_SAMPLE") {
            self.remote.verify_sample = v.trim().parse().map_err(|_| ConfigError::Env {
                var: "CST_REMOTE_VERIFY_SAMPLE",
                value: v.clone(),
                why: "a number from 0 to 1",
            })?;
        }
        if let Some(v) = get("CST_REMOTE_COMPACT_OVER") {
            self.remote.compact_over = v.trim().parse().map_err(|_| ConfigError::Env {
                var: "CST_REMOTE_COMPACT_OVER",
                value: v.clone(),
                why: "a whole number of packs",
            })?;
        }
        if let Some(v) = get("CST_REMOTE_PACK_MIB") {
            self.remote.pack_mib = v.trim().parse().map_err(|_| ConfigError::Env {
                var: "CST_REMOTE_PACK_MIB",
                value: v.clone(),
                why: "a whole number of MiB from 1 to 1024",
            })?;
        }
        if !(1..=1024).contains(&self.remote.pack_mib) {
            return Err(ConfigError::Env {
                var: "CST_REMOTE_PACK_MIB",
                value: self.remote.pack_mib.to_string(),
                why: "a whole number of MiB from 1 to 1024",
            });
        }
        if !(0.0..=1.0).contains(&self.remote.verify_sample) {
            return Err(ConfigError::Env {
                var: "CST_REMOTE_VERIFY_SAMPLE",
                value: self.remote.verify_sample.to_string(),
                why: "a number from 0 to 1",
            });
        }
        if !(1..=22).contains(&self.zstd_level) {
            return Err(ConfigError::Env {
                var: "CST_ZSTD_LEVEL",
                value: self.zstd_level.to_string(),
                why: "1..=22",
            });
        }
        Ok(())
    }

    /// The codec of the cold tier (`compression` if given, else `cold_compression`).
    pub fn cold_codec(&self) -> Compression {
        self.compression.unwrap_or(self.cold_compression)
    }

    /// The codec of the disk (`compression` if given, else `disk_compression`).
    pub fn disk_codec(&self) -> Compression {
        self.compression.unwrap_or(self.disk_compression)
    }

    /// Indexing threads (resolving 0 to the number of cores).
    pub fn worker_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cst.toml");
        std::fs::write(&path, "hot_bytes = 1000\ncompression = \"lz4\"\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut c: Config = toml::from_str(&text).unwrap();
        assert_eq!(
            (c.hot_bytes, c.cold_codec(), c.disk_codec(), c.warm_bytes),
            (
                1000,
                Compression::Lz4,
                Compression::Lz4,
                Config::default().warm_bytes
            )
        );
        c.apply_env(|k| (k == "CST_DISK_COMPRESSION").then(|| "none".to_owned()))
            .unwrap();
        assert_eq!(c.disk_codec(), Compression::Lz4, "the older key still wins");
        c.compression = None;
        assert_eq!(
            (c.cold_codec(), c.disk_codec()),
            (Compression::Lz4, Compression::None)
        );
        let err = c
            .apply_env(|k| (k == "CST_COLD_COMPRESSION").then(|| "brotli".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("none, lz4 or zstd"), "{err}");
        c.apply_env(|k| (k == "CST_HOT_BYTES").then(|| "2000".to_owned()))
            .unwrap();
        assert_eq!(c.hot_bytes, 2000);
        let err = c
            .apply_env(|k| (k == "CST_THREADS").then(|| "many".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("CST_THREADS"), "{err}");
        std::fs::write(&path, "hot_bytez = 1\n").unwrap();
        assert!(
            matches!(Config::load(Some(&path)), Err(ConfigError::Parse { .. })),
            "unknown keys are refused"
        );
    }
}
