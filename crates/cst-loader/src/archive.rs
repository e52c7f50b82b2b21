//! Unpacking grammar packages: `.crate`, npm `.tgz` and `.tar.gz` sdists
//! (all gzip-compressed tar). Only regular files and directories are
//! written; links are skipped, paths leaving the destination refused, and
//! the entry count and total size bounded.

use std::path::Path;

use crate::Error;

/// At most this many entries per archive.
const MAX_ENTRIES: usize = 100_000;
/// At most this many bytes unpacked per archive (the largest generated
/// parsers are ~60 MB of C).
const MAX_BYTES: u64 = 2 << 30;

/// Whether `path` names an archive this module unpacks.
pub(crate) fn is_archive(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    [".crate", ".tgz", ".tar.gz"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Unpacks the gzip-compressed tar `archive` into the directory `into`.
pub(crate) fn unpack(archive: &Path, into: &Path) -> Result<(), Error> {
    let bad = |reason: String| Error::Archive {
        path: archive.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(archive).map_err(Error::io(archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    tar.set_preserve_permissions(false);
    tar.set_overwrite(true);
    let (mut count, mut bytes) = (0usize, 0u64);
    for entry in tar.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(bad(format!("more than {MAX_ENTRIES} entries")));
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue; // links, devices, pax headers' leftovers
        }
        bytes = bytes.saturating_add(entry.size());
        if bytes > MAX_BYTES {
            return Err(bad(format!("more than {MAX_BYTES} bytes unpacked")));
        }
        let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        // `unpack_in` refuses `..` and absolute paths by returning false.
        let inside = entry
            .unpack_in(into)
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        if !inside {
            return Err(bad(format!(
                "entry {} leaves the destination",
                path.display()
            )));
        }
    }
    Ok(())
}
