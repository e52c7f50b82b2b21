//! Object names under a remote's prefix (`docs/REMOTE.md`, "Layout").
//!
//! ```text
//! <prefix>/cst/v1/packs/<blake3 hex>.pack
//! <prefix>/cst/v1/index/<blake3 hex>.idx
//! <prefix>/cst/v1/dicts/<blake3 hex>
//! <prefix>/cst/v1/manifests/<blake3 hex>
//! <prefix>/cst/v1/refs/<branch, '/' written as ','>
//! ```
//!
//! Every object but a ref is immutable and named by the BLAKE3 hash of its
//! bytes, so writing one twice writes the same bytes.

use object_store::path::Path;

use crate::{Digest, to_hex};

/// The layout's root under the prefix.
pub const ROOT: &str = "cst/v1";
/// The longest branch name.
pub const MAX_BRANCH: usize = 200;

/// A branch name the layout does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "branch name {0:?} not allowed: 1 to 200 bytes of A-Z a-z 0-9 - _ . + /, \
     no empty segment, no segment starting with '.'"
)]
pub struct BranchError(pub String);

/// Checks a branch name: 1 to [`MAX_BRANCH`] bytes of ASCII letters,
/// digits and `-_.+/`, with no empty `/`-segment and no segment that
/// starts with `.` (so no `..`).
pub fn check_branch(branch: &str) -> Result<(), BranchError> {
    let ok = !branch.is_empty()
        && branch.len() <= MAX_BRANCH
        && branch
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.+/".contains(&c))
        && branch
            .split('/')
            .all(|s| !s.is_empty() && !s.starts_with('.'));
    if ok {
        Ok(())
    } else {
        Err(BranchError(branch.to_owned()))
    }
}

/// The object names of one remote.
#[derive(Debug, Clone)]
pub struct Layout {
    root: Path,
}

impl Layout {
    /// The layout under `prefix` (empty for the bucket's root).
    pub fn new(prefix: &str) -> Self {
        let prefix = prefix.trim_matches('/');
        let root = if prefix.is_empty() {
            Path::from(ROOT)
        } else {
            Path::from(format!("{prefix}/{ROOT}"))
        };
        Layout { root }
    }

    /// The layout's root: `<prefix>/cst/v1`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn child(&self, dir: &str, name: String) -> Path {
        self.root.clone().join(dir).join(name)
    }

    /// A pack's object.
    pub fn pack(&self, digest: &Digest) -> Path {
        self.child("packs", format!("{}.pack", to_hex(digest)))
    }

    /// An index's object.
    pub fn index(&self, digest: &Digest) -> Path {
        self.child("index", format!("{}.idx", to_hex(digest)))
    }

    /// A dictionary's object.
    pub fn dict(&self, digest: &Digest) -> Path {
        self.child("dicts", to_hex(digest))
    }

    /// A manifest's object.
    pub fn manifest(&self, digest: &Digest) -> Path {
        self.child("manifests", to_hex(digest))
    }

    /// A branch's ref (the one mutable object).
    pub fn branch_ref(&self, branch: &str) -> Result<Path, BranchError> {
        check_branch(branch)?;
        Ok(self.child("refs", branch.replace('/', ",")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let l = Layout::new("/team/cache/");
        assert_eq!(
            l.pack(&[0xab; 32]).as_ref(),
            format!("team/cache/cst/v1/packs/{}.pack", "ab".repeat(32))
        );
        assert_eq!(
            l.index(&[1; 32]).as_ref(),
            format!("team/cache/cst/v1/index/{}.idx", "01".repeat(32))
        );
        assert_eq!(
            l.branch_ref("feature/x-1.2").unwrap().as_ref(),
            "team/cache/cst/v1/refs/feature,x-1.2"
        );
        assert_eq!(Layout::new("").root().as_ref(), "cst/v1");
    }

    #[test]
    fn branches() {
        for ok in ["main", "release/1.0", "dependabot/cargo/x-1.2+y", "a_b"] {
            check_branch(ok).unwrap();
        }
        for bad in [
            "", "/main", "main/", "a//b", "..", "a/../b", ".hidden", "a b", "a~b", "a,b", "ü",
            "a:b",
        ] {
            assert!(check_branch(bad).is_err(), "{bad:?}");
        }
        assert!(check_branch(&"a".repeat(201)).is_err());
    }
}
