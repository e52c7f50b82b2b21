//! The name table: names interned concurrently by the workers that read
//! tags (sharded maps from a name's bytes to its id), ids handed out in
//! order of first sight.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::Mutex;
use rustc_hash::{FxHashMap, FxHasher};

/// Shards of the map (a power of two).
const SHARDS: usize = 64;

#[derive(Default)]
struct Shard {
    ids: FxHashMap<Box<[u8]>, u32>,
    /// Names interned since the last [`Interner::drain_into`].
    fresh: Vec<(u32, Box<str>)>,
}

/// Names to ids, shared by the reading threads.
pub(crate) struct Interner {
    shards: Box<[Mutex<Shard>]>,
    next: AtomicU32,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("names", &self.next.load(Ordering::Relaxed))
            .finish()
    }
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            next: AtomicU32::new(0),
        }
    }
}

/// The shard of `name`.
fn shard_of(name: &[u8]) -> usize {
    let mut h = FxHasher::default();
    name.hash(&mut h);
    (h.finish() >> 32) as usize & (SHARDS - 1)
}

impl Interner {
    fn shard(&self, name: &[u8]) -> &Mutex<Shard> {
        &self.shards[shard_of(name)]
    }

    /// The id of `name`, given one if it has none.
    pub(crate) fn intern(&self, name: &[u8]) -> u32 {
        let mut shard = self.shard(name).lock();
        if let Some(&id) = shard.ids.get(name) {
            return id;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        shard.ids.insert(name.into(), id);
        shard.fresh.push((
            id,
            String::from_utf8_lossy(name).into_owned().into_boxed_str(),
        ));
        id
    }

    /// The id of `name`, if it has one.
    pub(crate) fn get(&self, name: &[u8]) -> Option<u32> {
        self.shard(name).lock().ids.get(name).copied()
    }

    /// Interns `names` in order, as many [`Interner::intern`] calls would,
    /// but holding each shard's lock once and moving the bytes in (for a
    /// whole table read back at once). Their ids, in order.
    pub(crate) fn preload(&self, names: Vec<Box<[u8]>>) -> Vec<u32> {
        let mut shards: Vec<_> = self.shards.iter().map(|s| s.lock()).collect();
        let per_shard = names.len() / SHARDS + names.len() / (SHARDS * 8) + 1;
        for s in shards.iter_mut() {
            s.ids.reserve(per_shard);
            s.fresh.reserve(per_shard);
        }
        let mut ids = Vec::with_capacity(names.len());
        for name in names {
            let shard = &mut shards[shard_of(&name)];
            if let Some(&id) = shard.ids.get(&name[..]) {
                ids.push(id);
                continue;
            }
            let id = self.next.fetch_add(1, Ordering::Relaxed);
            shard.fresh.push((
                id,
                String::from_utf8_lossy(&name).into_owned().into_boxed_str(),
            ));
            shard.ids.insert(name, id);
            ids.push(id);
        }
        ids
    }

    /// Every name's bytes, by id.
    pub(crate) fn export(&self) -> Vec<Box<[u8]>> {
        let mut out: Vec<Box<[u8]>> =
            vec![Box::from(&b""[..]); self.next.load(Ordering::Acquire) as usize];
        for shard in self.shards.iter() {
            for (name, &id) in shard.lock().ids.iter() {
                if let Some(slot) = out.get_mut(id as usize) {
                    *slot = name.clone();
                }
            }
        }
        out
    }

    /// Moves the names interned since the last call into `names` (indexed
    /// by id).
    pub(crate) fn drain_into(&self, names: &mut Vec<Box<str>>) {
        let n = self.next.load(Ordering::Acquire) as usize;
        if names.len() < n {
            names.resize(n, Box::from(""));
        }
        for shard in self.shards.iter() {
            for (id, name) in shard.lock().fresh.drain(..) {
                if let Some(slot) = names.get_mut(id as usize) {
                    *slot = name;
                }
            }
        }
    }
}
