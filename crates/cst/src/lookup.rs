//! Finding the tree of a content key: in the memory tiers, else on disk
//! (entering the cold tier), with each hit told to the policy.

use std::path::Path;
use std::sync::Arc;

use cst_bytecode::{Symbols, TreeView};
use cst_grammars::Grammar;
use cst_tiers::Key;

use crate::keys::StoreKey;
use crate::{Cache, Error};

impl Cache {
    /// Opens a record of the cold tier or the disk: in place for codec
    /// `none` (no copy), else decompressed. A record read from disk is
    /// checked as bytes crossing a trust boundary are (checksum, shape
    /// directories, palette: `TreeView::from_bytes`); one of the cold tier
    /// was checked when it entered memory.
    pub(crate) fn open_record(
        &self,
        record: &bytes::Bytes,
        symbols: Arc<Symbols>,
        from_disk: bool,
    ) -> Result<TreeView, cst_bytecode::DecodeError> {
        let raw = self.inner.unpack(record)?;
        if from_disk {
            TreeView::from_bytes(raw, symbols)
        } else {
            TreeView::from_trusted_bytes(raw, symbols)
        }
    }

    /// Node count of `key` if it is cached in any tier (a hit).
    pub(crate) fn cached_node_count(
        &self,
        key: &Key,
        grammar: &'static Grammar,
    ) -> Result<Option<u64>, Error> {
        if let Some(e) = self.inner.placement.hot.get(key) {
            self.touch(key)?;
            return Ok(Some(e.tree.root_node().descendant_count() as u64));
        }
        match self.load_view(key, grammar, Path::new(""))? {
            Some(view) => Ok(Some(view.node_count() as u64)),
            None => Ok(None),
        }
    }

    /// Records an access with the policy and carries out any promotion.
    pub(crate) fn touch(&self, key: &Key) -> Result<(), Error> {
        self.inner.placement.touch(key, &*self.inner)
    }

    /// The decoded tree of `key` from the warm, cold or frozen tier, or
    /// `None`. A hit is recorded with the policy (which may promote it); an
    /// entry read from disk enters the cold tier.
    pub(crate) fn load_view(
        &self,
        key: &Key,
        grammar: &'static Grammar,
        path: &Path,
    ) -> Result<Option<TreeView>, Error> {
        let symbols = self.symbols(grammar)?;
        let decode_err = |source| Error::Decode {
            path: path.to_path_buf(),
            source,
        };
        let placement = &self.inner.placement;
        if placement.warm.contains(key) || placement.cold.contains(key) {
            self.touch(key)?;
        }
        if let Some(bytes) = placement.warm.get(key) {
            // Checked when it entered memory: opened in place, in O(1).
            return Ok(Some(
                TreeView::from_trusted_bytes(bytes, symbols).map_err(decode_err)?,
            ));
        }
        let dense = match placement.cold.get(key) {
            Some(d) => d,
            None => {
                let Some(store) = &self.inner.store else {
                    return Ok(None);
                };
                let dense = match store.get(&StoreKey::Tree(*key).bytes()) {
                    Ok(Some(v)) => v,
                    Ok(None) => return Ok(None),
                    // A corrupt record is counted by the store and treated
                    // as a miss: the file is parsed again.
                    Err(e @ cst_tiers::FrozenError::Corrupt { .. }) => {
                        tracing::warn!(path = %path.display(), error = %e, "corrupt stored tree: parsing again");
                        return Ok(None);
                    }
                    Err(e) => return Err(e.into()),
                };
                // The record's checksum held; check that it opens before
                // admitting it to memory.
                let Ok(view) = self.open_record(&dense, symbols, true) else {
                    return Ok(None);
                };
                self.inner.languages.write().insert(*key, grammar.id());
                // (Unless another thread brought it in meanwhile.)
                placement.admit_cold(*key, dense, &*self.inner)?;
                return Ok(Some(view));
            }
        };
        Ok(Some(
            self.open_record(&dense, symbols, false)
                .map_err(decode_err)?,
        ))
    }
}
