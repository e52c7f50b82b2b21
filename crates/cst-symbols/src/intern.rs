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

impl Interner {
    fn shard(&self, name: &[u8]) -> &Mutex<Shard> {
        let mut h = FxHasher::default();
        name.hash(&mut h);
        &self.shards[(h.finish() >> 32) as usize & (SHARDS - 1)]
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
