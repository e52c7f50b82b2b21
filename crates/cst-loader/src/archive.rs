//! Unpacking grammar packages: `.crate`, npm `.tgz` and `.tar.gz` sdists
//! (all gzip-compressed tar). Only regular files and directories are
//! written; links are skipped, paths leaving the destination refused, and
//! the entry count and total size bounded.

use std::path::Path;

use crate::Error;

/// At most this many entries per archive.
const MAX_ENTRIES: usize = 100_000;
/// At most this many bytes unpacked per archive, and read from its
/// decompressed stream (headers included: the tar crate reads a GNU long
/// name or a PAX record whole). The largest generated parsers are ~60 MB of
/// C; whole grammar packages stay well below.
const MAX_BYTES: u64 = 256 << 20;

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
    // The decompressed stream itself is bounded: headers (GNU long names,
    // PAX records) are read whole by the tar crate before any entry is seen.
    let stream = std::io::Read::take(flate2::read::GzDecoder::new(file), MAX_BYTES + (16 << 20));
    let mut tar = tar::Archive::new(stream);
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
        // Quote at most 200 characters of a name in an error.
        let shown: String = path.display().to_string().chars().take(200).collect();
        // `unpack_in` refuses `..` and absolute paths by returning false.
        let inside = entry
            .unpack_in(into)
            .map_err(|e| bad(format!("{shown}: {e}")))?;
        if !inside {
            return Err(bad(format!("entry {shown} leaves the destination")));
        }
    }
    Ok(())
}
