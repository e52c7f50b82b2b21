//! Opening (docs/FORMAT.md, "Frozen store", "Opening (recovery)"): the
//! index snapshot, then every segment past what it covers.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::index::Index;
use super::record::{KIND_PUT, check_record, next_valid_record};
use super::segment::{SEGMENT_HEADER_LEN, Segment, Tail, check_header, read_tail};
use super::{Inner, Loc, Recovery, Result, io_err, snapshot};
use crate::TierStats;

/// Who is opening: the writer repairs what it finds, a reader changes
/// nothing on disk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Writer,
    Reader,
}

/// What loading found: the state, what it repaired, and (for the writer)
/// the torn tail of the last segment to cut, as (segment id, valid end).
pub(super) struct Loaded {
    pub(super) inner: Inner,
    pub(super) recovery: Recovery,
    pub(super) truncate: Option<(u32, u64)>,
    /// The snapshot has an older layout (a writer replaces it at open).
    pub(super) old_snapshot: bool,
}

/// The segment ids in `dir` (sorted). The writer also deletes snapshots
/// that a crash left before their rename.
fn list_segments(dir: &Path, mode: Mode) -> Result<Vec<u32>> {
    let mut ids = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        // A reader of a store that was never written: empty.
        Err(e) if mode == Mode::Reader && e.kind() == io::ErrorKind::NotFound => {
            return Ok(ids);
        }
        Err(e) => return Err(io_err("list", dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err("list", dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(digits) = name
            .strip_prefix("seg-")
            .and_then(|r| r.strip_suffix(".cst"))
        {
            // Only the names the store writes (`seg-{id:08}.cst`): a stray
            // `seg-1.cst` or `seg-+0000001.cst` would parse to an id whose
            // file is another one.
            if let Ok(id) = digits.parse::<u32>()
                && format!("{id:08}") == digits
            {
                ids.push(id);
            }
        } else if mode == Mode::Writer && name.starts_with("index.cst.tmp") {
            // A snapshot interrupted before its rename: never valid.
            let _ = fs::remove_file(entry.path());
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Which file the snapshot is (a new snapshot is renamed over the old one:
/// another inode on Unix), with its length and modification time.
fn snapshot_identity(path: &Path) -> Option<(u64, u64, Option<std::time::SystemTime>)> {
    let m = fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some((inode, m.len(), m.modified().ok()))
}

/// Loads the store in `dir`. `Ok(None)`: a reader raced a compaction (a
/// segment the snapshot names was unlinked under it); load again. With
/// `tolerate_missing`, a reader treats such a segment as the writer does
/// (its entries dropped, as damage): for a store that lost a segment.
pub(super) fn load(dir: &Path, mode: Mode, tolerate_missing: bool) -> Result<Option<Loaded>> {
    let mut recovery = Recovery::default();
    let mut inner = Inner {
        index: Index::default(),
        segments: BTreeMap::new(),
        active: None,
        next_seq: 1,
        stats: TierStats::default(),
        unflushed: 0,
    };

    // The snapshot first, then the listing: every segment it names was
    // there before the listing began, unless a compaction removed it since
    // (which wrote a newer snapshot first).
    let index_path = dir.join("index.cst");
    let identity = snapshot_identity(&index_path);
    let snapshot = snapshot::read(&index_path);
    let mut old_snapshot = false;
    let ids = list_segments(dir, mode)?;
    let covered = match snapshot {
        Ok(Some(snapshot)) => {
            old_snapshot = snapshot.version != snapshot::SNAPSHOT_VERSION;
            inner.next_seq = snapshot.next_seq;
            inner.index = snapshot.index;
            snapshot.covered
        }
        Ok(None) => BTreeMap::new(),
        Err(_) => {
            recovery.index_rebuilt = true;
            BTreeMap::new()
        }
    };
    if covered.is_empty() && !ids.is_empty() && !recovery.index_rebuilt {
        recovery.index_rebuilt = !index_path.exists();
    }
    for &id in &ids {
        let path = Segment::path_for(dir, id);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if mode == Mode::Reader && e.kind() == io::ErrorKind::NotFound => {
                if tolerate_missing {
                    continue;
                }
                return Ok(None);
            }
            Err(e) => return Err(io_err("open", &path)(e)),
        };
        let len = file.metadata().map_err(io_err("stat", &path))?.len();
        inner
            .segments
            .insert(id, Segment::new(id, path, len, Some(Arc::new(file))));
    }
    if mode == Mode::Reader
        && !tolerate_missing
        && covered.keys().any(|id| {
            !inner.segments.contains_key(id) && inner.index.iter().any(|(_, l)| l.segment == *id)
        })
    {
        return Ok(None);
    }

    // An index entry must point into a segment that exists and is long enough.
    let seg_lens: FxHashMap<u32, u64> = inner.segments.values().map(|s| (s.id, s.len)).collect();
    // (The snapshot's checksum held, and its writer indexed only records
    // inside the segments it names and covers: when it names some, each
    // still that long, no entry can fail this, and the pass is skipped.)
    let whole = (!covered.is_empty() || inner.index.len() == 0)
        && covered
            .iter()
            .all(|(id, c)| seg_lens.get(id).is_some_and(|l| l >= c));
    if !whole {
        let dropped = inner.index.retain(|k, loc| {
            let Some(end) = loc.offset.checked_add(loc.record_len(k.len())) else {
                return false;
            };
            seg_lens
                .get(&loc.segment)
                .is_some_and(|&l| end <= l && covered.get(&loc.segment).is_some_and(|&c| end <= c))
        });
        recovery.index_entries_dropped += dropped as u64;
    }

    // Every segment past what the snapshot covers, one at a time. Only the
    // newest listed segment can grow while a reader loads (a writer appends
    // to its newest segment only, and seals it before starting the next,
    // which this listing may not show), so the others are read whole as
    // they are. Only what lies past the snapshot is read: opening a clean
    // store reads each 16-byte header.
    let ids: Vec<u32> = ids
        .into_iter()
        .filter(|id| inner.segments.contains_key(id))
        .collect();
    let last_id = ids.last().copied();
    let mut truncate = None;
    for &id in &ids {
        let seg = &inner.segments[&id];
        // A segment shorter than the snapshot says lost its tail after the
        // snapshot: re-read all of it to find where its records end.
        let start = covered
            .get(&id)
            .copied()
            .filter(|&c| c <= seg.len)
            .unwrap_or(0);
        let file = seg.file.as_ref().expect("opened above");
        let tail = read_tail(file, &seg.path, start)?;
        let is_last = Some(id) == last_id;
        let seg_len = tail.base + tail.data.len() as u64;
        inner.segments.get_mut(&id).expect("listed").len = seg_len;
        if let Some(valid_end) = replay(&mut inner, id, &tail, is_last, &mut recovery)? {
            // An incomplete tail of the newest segment: a writer's torn
            // write (the writer cuts it), or, for a reader, perhaps one
            // being written right now (left alone, not served).
            match mode {
                Mode::Writer => {
                    recovery.torn_tail_bytes += seg_len - valid_end;
                    truncate = Some((id, valid_end));
                }
                Mode::Reader => recovery.unfinished_tail_bytes += seg_len - valid_end,
            }
            inner.segments.get_mut(&id).expect("listed").len = valid_end;
        }
    }
    if mode == Mode::Writer {
        // The writer maps its segments by path when it reads them: no file
        // handle per segment stays open.
        for s in inner.segments.values_mut() {
            s.file = None;
        }
    } else if !tolerate_missing && snapshot_identity(&index_path) != identity {
        // A new snapshot replaced the one read above while the segments
        // were listed and read (a compaction may have removed a segment
        // this listing never saw): load again.
        return Ok(None);
    }

    // Live bytes per segment and totals.
    let mut value_bytes = 0;
    for (k, loc) in inner.index.iter() {
        value_bytes += u64::from(loc.value_len);
        if let Some(s) = inner.segments.get_mut(&loc.segment) {
            s.live_bytes += loc.record_len(k.len());
        }
    }
    inner.stats.entries = inner.index.len() as u64;
    inner.stats.bytes = value_bytes;
    Ok(Some(Loaded {
        inner,
        recovery,
        truncate,
        old_snapshot,
    }))
}

/// The offset of the next intact record at or after `from` whose sequence
/// number is above `after`.
fn next_record_after(data: &[u8], mut from: usize, after: u64) -> Option<usize> {
    loop {
        let at = next_valid_record(data, from)?;
        match check_record(data, at) {
            Ok((h, _, _)) if h.seq > after => return Some(at),
            _ => from = at + 1,
        }
    }
}

/// Applies the records of segment `id`'s `tail` to the index. Returns
/// `Some(valid_end)` when the last segment ends in a torn or corrupt tail.
fn replay(
    inner: &mut Inner,
    id: u32,
    tail: &Tail,
    is_last: bool,
    rec: &mut Recovery,
) -> Result<Option<u64>> {
    let path = &inner.segments[&id].path;
    let (data, base) = (&tail.data, tail.base);
    if !check_header(path, &tail.header)? {
        // A segment whose header never made it to disk (or was destroyed).
        rec.corrupt_records += u64::from(base as usize + data.len() > SEGMENT_HEADER_LEN as usize);
        inner.index.retain(|_, l| l.segment != id);
        return Ok(if is_last { Some(0) } else { None });
    }
    // `off` indexes `data`, which starts at byte `base` of the segment.
    let mut off = (SEGMENT_HEADER_LEN.max(base) - base) as usize;
    // The highest sequence number read in this segment's tail so far.
    let mut last_seq = 0u64;
    while off < data.len() {
        match check_record(data, off) {
            Ok((h, key_start, value_start)) => {
                let key = &data[key_start..value_start];
                let current = inner.index.get(key).map(|l| l.seq);
                if current.is_none_or(|s| s < h.seq) {
                    if h.kind == KIND_PUT {
                        inner.index.insert(
                            key,
                            Loc {
                                segment: id,
                                offset: base + off as u64,
                                value_len: h.value_len as u32,
                                seq: h.seq,
                            },
                        );
                    } else {
                        inner.index.remove(key);
                    }
                }
                // `u64::MAX` (never written by us) leaves the store read-only.
                inner.next_seq = inner.next_seq.max(h.seq.saturating_add(1));
                last_seq = last_seq.max(h.seq);
                rec.records_replayed += 1;
                off = value_start + h.value_len;
            }
            // Resynchronise on the next intact record written after the
            // last one read (records are appended in sequence order): bytes
            // that only look like a record — a stored copy of a segment
            // inside a value cut short, say — carry older numbers.
            Err(_) => match next_record_after(data, off + 1, {
                // With the records of this segment the snapshot covers
                // (looked for only now: a clean open never gets here).
                let covered = inner.index.iter().filter(|(_, l)| l.segment == id);
                last_seq.max(covered.map(|(_, l)| l.seq).max().unwrap_or(0))
            }) {
                // Corruption in the middle: skip to the next intact record.
                Some(next) => {
                    rec.corrupt_records += 1;
                    let bad = base + off as u64..base + next as u64;
                    inner
                        .index
                        .retain(|_, l| !(l.segment == id && bad.contains(&l.offset)));
                    off = next;
                }
                // Nothing intact follows: a torn tail (in the last segment,
                // where writes end) or a damaged end of a sealed one.
                None => {
                    let at = base + off as u64;
                    inner
                        .index
                        .retain(|_, l| !(l.segment == id && l.offset >= at));
                    if is_last {
                        return Ok(Some(at));
                    }
                    rec.corrupt_records += 1;
                    return Ok(None);
                }
            },
        }
    }
    Ok(None)
}
