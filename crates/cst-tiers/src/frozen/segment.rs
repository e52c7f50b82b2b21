//! Segments (docs/FORMAT.md, "Frozen store", "Segment"): append-only files
//! of records after a 16-byte header, read through one memory map each.
//! The store's only `unsafe` is here (one of the three files of the
//! workspace allowed it, a tidy test keeps the list): the item that needs
//! it says `#[allow(unsafe_code)]`, and its block says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use super::{FrozenError, Result, STORE_VERSION, io_err};

pub(super) const SEGMENT_MAGIC: [u8; 4] = *b"CSTS";
pub(super) const SEGMENT_HEADER_LEN: u64 = 16;

pub(super) struct Segment {
    pub(super) id: u32,
    pub(super) path: PathBuf,
    pub(super) len: u64,
    pub(super) live_bytes: u64,
    /// The file as opened when the store (or a reader's snapshot) was
    /// loaded: a reader maps this handle, so a segment that compaction
    /// unlinks meanwhile stays readable for it. `None`: open `path` when
    /// first mapped (the writer's own segments).
    pub(super) file: Option<Arc<File>>,
    pub(super) map: RwLock<Option<Arc<memmap2::Mmap>>>,
}

impl Segment {
    pub(super) fn new(id: u32, path: PathBuf, len: u64, file: Option<Arc<File>>) -> Segment {
        Segment {
            id,
            path,
            len,
            live_bytes: 0,
            file,
            map: RwLock::new(None),
        }
    }

    pub(super) fn path_for(dir: &Path, id: u32) -> PathBuf {
        dir.join(format!("seg-{id:08}.cst"))
    }

    /// A map covering at least `end` bytes (remapping after appends).
    pub(super) fn map_covering(&self, end: u64) -> Result<Arc<memmap2::Mmap>> {
        if let Some(m) = self.map.read().as_ref()
            && m.len() as u64 >= end
        {
            return Ok(m.clone());
        }
        let mut slot = self.map.write();
        if let Some(m) = slot.as_ref()
            && m.len() as u64 >= end
        {
            return Ok(m.clone());
        }
        let map = match &self.file {
            Some(f) => map_file(f),
            None => {
                let file = File::open(&self.path).map_err(io_err("open", &self.path))?;
                map_file(&file)
            }
        }
        .map_err(io_err("mmap", &self.path))?;
        let map = Arc::new(map);
        if (map.len() as u64) < end {
            return Err(FrozenError::Corrupt {
                path: self.path.clone(),
                offset: end,
                what: "record past end of file",
            });
        }
        *slot = Some(map.clone());
        Ok(map)
    }
}

/// The bytes of the index snapshot at `path`: mapped on Unix, read whole
/// elsewhere (Windows cannot rename a new snapshot over a mapped one).
pub(super) fn snapshot_bytes(path: &Path) -> io::Result<bytes::Bytes> {
    #[cfg(unix)]
    {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(bytes::Bytes::new());
        }
        Ok(bytes::Bytes::from_owner(map_file(&file)?))
    }
    #[cfg(not(unix))]
    {
        std::fs::read(path).map(bytes::Bytes::from)
    }
}

/// Maps a segment, or the index snapshot, read-only.
#[allow(unsafe_code)]
fn map_file(file: &File) -> io::Result<memmap2::Mmap> {
    // SAFETY: segments are append-only: bytes inside a mapping are never
    // rewritten, by this process or another one. A mapping is only ever
    // read at records that were complete and intact when they were indexed
    // (their checksum held). The one truncation, of a torn tail at a
    // writer's open, cuts bytes past the last intact record, which no
    // reader indexed (a record intact for a reader is intact for the writer:
    // both see the same page cache), so no read touches a page past the new
    // end of file. Compaction writes new segments and unlinks old ones; an
    // unlinked file stays valid for existing mappings and open handles.
    // Writers are excluded from each other by the lock file; a reader still
    // validates every record's checksum before use.
    // The index snapshot is never written after it is renamed into place
    // (a new one is written to a temporary file and renamed over it; the
    // old file stays valid for its maps), and nothing truncates it.
    unsafe { memmap2::Mmap::map(file) }
}

/// An owner for `Bytes::from_owner`: a slice of a mapped segment.
pub(super) struct MappedSlice {
    pub(super) map: Arc<memmap2::Mmap>,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl AsRef<[u8]> for MappedSlice {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.start..self.end]
    }
}

/// The 16-byte header of segment `id`.
pub(super) fn encode_header(id: u32) -> Vec<u8> {
    let mut header = Vec::with_capacity(SEGMENT_HEADER_LEN as usize);
    header.extend_from_slice(&SEGMENT_MAGIC);
    header.extend_from_slice(&STORE_VERSION.to_le_bytes());
    header.extend_from_slice(&[0, 0]);
    header.extend_from_slice(&id.to_le_bytes());
    header.extend_from_slice(&crc32c::crc32c(&header).to_le_bytes());
    header
}

/// What a segment header says: `Ok(true)` a header of this version,
/// `Ok(false)` no intact header (corruption, or a header never written),
/// `Err` an intact header of another version.
pub(super) fn check_header(path: &Path, header: &[u8]) -> Result<bool> {
    // Its layout is the same in every version, so only a header whose
    // checksum holds tells another version; a header whose checksum fails
    // is corruption, whatever its version field says (a flipped bit must
    // not make the whole store unopenable).
    let ok = header.len() >= SEGMENT_HEADER_LEN as usize
        && header[..4] == SEGMENT_MAGIC
        && crc32c::crc32c(&header[..12])
            == u32::from_le_bytes([header[12], header[13], header[14], header[15]]);
    if ok && u16::from_le_bytes([header[4], header[5]]) != STORE_VERSION {
        return Err(FrozenError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: u16::from_le_bytes([header[4], header[5]]),
        });
    }
    Ok(ok)
}

/// A segment's header and tail, as read at open.
pub(super) struct Tail {
    /// Up to 16 bytes.
    pub(super) header: Vec<u8>,
    /// The bytes from `base` to the end of the file.
    pub(super) data: Vec<u8>,
    /// Where `data` starts in the segment (0 when `start` was within the
    /// header: then `data` is the whole file).
    pub(super) base: u64,
}

/// Reads the segment's header and its bytes from `start` on, through `file`.
pub(super) fn read_tail(file: &File, path: &Path, start: u64) -> Result<Tail> {
    let mut f = file;
    f.seek(SeekFrom::Start(0)).map_err(io_err("seek", path))?;
    if start <= SEGMENT_HEADER_LEN {
        let mut data = Vec::new();
        f.read_to_end(&mut data).map_err(io_err("read", path))?;
        let header = data[..data.len().min(SEGMENT_HEADER_LEN as usize)].to_vec();
        return Ok(Tail {
            header,
            data,
            base: 0,
        });
    }
    let mut header = Vec::with_capacity(SEGMENT_HEADER_LEN as usize);
    f.take(SEGMENT_HEADER_LEN)
        .read_to_end(&mut header)
        .map_err(io_err("read", path))?;
    f.seek(SeekFrom::Start(start))
        .map_err(io_err("seek", path))?;
    let mut data = Vec::new();
    f.read_to_end(&mut data).map_err(io_err("read", path))?;
    Ok(Tail {
        header,
        data,
        base: start,
    })
}
