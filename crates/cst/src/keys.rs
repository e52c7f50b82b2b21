//! The store's keys: the content key a tree is filed under, and every key
//! the facade files records under in the frozen store, built and told apart
//! here only (docs/FORMAT.md, "Records the facade keeps in the frozen
//! store"). The bytes are the on-disk format: golden tests below pin them.
//!
//! Records of a content key have its 32 bytes first: the tree (the key
//! alone), its sources (`Z`, `S`) and tags (`T` and a 16-byte hash).
//! Reserved keys start with a zero byte and never have the length of a
//! content key (32) or of a record filed under one (33, 49): the length
//! tells them apart.

use cst_tiers::Key;

/// The 16-byte hash in a language's tags and tags-kinds keys.
pub(crate) type TagsHash = [u8; 16];

/// The key of the tree of `source` in `language_id`, parsed with the grammar
/// of `fingerprint`, encoded with format `format_version`: BLAKE3 over all
/// four, length-prefixed, the source by its own BLAKE3 digest (so one pass
/// over the source gives both the key and the digest the path map keeps:
/// [`content_keys`]). Changing any of them changes the key: an unchanged
/// file is found again after a restart, a grammar upgrade misses.
#[cfg(test)]
pub(crate) fn tree_key(
    source: &[u8],
    language_id: &str,
    fingerprint: [u8; 16],
    format_version: u16,
) -> Key {
    content_keys(source, language_id, fingerprint, format_version).0
}

/// The content key of `source` (see [`tree_key`]) and the BLAKE3 digest of
/// the source alone (a path record's `source_hash`), hashing the source
/// once.
pub(crate) fn content_keys(
    source: &[u8],
    language_id: &str,
    fingerprint: [u8; 16],
    format_version: u16,
) -> (Key, [u8; 32]) {
    let digest = *blake3::hash(source).as_bytes();
    let mut h = blake3::Hasher::new();
    h.update(b"cst-key/2");
    h.update(&(language_id.len() as u64).to_le_bytes());
    h.update(language_id.as_bytes());
    h.update(&fingerprint);
    h.update(&format_version.to_le_bytes());
    h.update(&(source.len() as u64).to_le_bytes());
    h.update(&digest);
    (Key(*h.finalize().as_bytes()), digest)
}

/// Which of the path map's two copies (each flush writes the one the last
/// did not, so the previous map survives damage to the newest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PathCopy {
    A,
    B,
}

impl PathCopy {
    /// Both copies.
    pub(crate) const BOTH: [PathCopy; 2] = [PathCopy::A, PathCopy::B];

    /// The copy flush number `generation` writes.
    pub(crate) fn of_generation(generation: u64) -> PathCopy {
        PathCopy::BOTH[(generation % 2) as usize]
    }
}

/// A key of the store, by what its record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum StoreKey {
    /// The tree of a content key: the key alone (32 bytes).
    Tree(Key),
    /// Its source in a `CSTZ` container: the key ‖ `Z`.
    Source(Key),
    /// Its source raw, as stores before the `Z` record wrote it (still
    /// read): the key ‖ `S`.
    RawSource(Key),
    /// Its tags for a language's tags hash: the key ‖ `T` ‖ the hash.
    Tags(Key, TagsHash),
    /// A language's tags syntax type names, for a tags hash.
    TagsKinds(TagsHash),
    /// A trained dictionary, by id (the CRC-32C of its bytes).
    Dictionary(u32),
    /// Which dictionary is current per language and kind.
    DictionaryDirectory,
    /// A copy of the version 2 path map.
    PathMap(PathCopy),
    /// The version 1 path map (read once, then replaced).
    PathMapV1,
}

const PATH_MAP_A: &[u8] = b"\0cst/paths/v2/a";
const PATH_MAP_B: &[u8] = b"\0cst/paths/v2/b";
const PATH_MAP_V1: &[u8] = b"\0cst/paths/v1";
const TAGS_KINDS: &[u8] = b"\0cst/tags-kinds/v1/";
const DICTIONARY: &[u8] = b"\0cst/dict/v1/";
const DICTIONARY_DIRECTORY: &[u8] = b"\0cst/dicts/v1";

/// The id of a dictionary's store key (`None` for any other key).
#[cfg(feature = "remote")]
pub(crate) fn dictionary_id_of(key: &[u8]) -> Option<u32> {
    let hex = key.strip_prefix(DICTIONARY)?;
    u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// The longest key: a tags key (32 + 1 + 16).
const MAX_LEN: usize = 49;

/// A key's bytes, kept on the stack.
#[derive(Clone, Copy)]
pub(crate) struct KeyBytes {
    buf: [u8; MAX_LEN],
    len: u8,
}

impl KeyBytes {
    fn of(parts: &[&[u8]]) -> KeyBytes {
        let mut k = KeyBytes {
            buf: [0; MAX_LEN],
            len: 0,
        };
        for part in parts {
            let at = usize::from(k.len);
            k.buf[at..at + part.len()].copy_from_slice(part);
            k.len += part.len() as u8;
        }
        k
    }
}

impl std::ops::Deref for KeyBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", bytes::Bytes::copy_from_slice(self))
    }
}

impl StoreKey {
    /// The key's bytes in the store.
    pub(crate) fn bytes(&self) -> KeyBytes {
        match self {
            StoreKey::Tree(k) => KeyBytes::of(&[&k.0]),
            StoreKey::Source(k) => KeyBytes::of(&[&k.0, b"Z"]),
            StoreKey::RawSource(k) => KeyBytes::of(&[&k.0, b"S"]),
            StoreKey::Tags(k, hash) => KeyBytes::of(&[&k.0, b"T", hash]),
            StoreKey::TagsKinds(hash) => KeyBytes::of(&[TAGS_KINDS, hash]),
            StoreKey::Dictionary(id) => KeyBytes::of(&[DICTIONARY, format!("{id:08x}").as_bytes()]),
            StoreKey::DictionaryDirectory => KeyBytes::of(&[DICTIONARY_DIRECTORY]),
            StoreKey::PathMap(PathCopy::A) => KeyBytes::of(&[PATH_MAP_A]),
            StoreKey::PathMap(PathCopy::B) => KeyBytes::of(&[PATH_MAP_B]),
            StoreKey::PathMapV1 => KeyBytes::of(&[PATH_MAP_V1]),
        }
    }

    /// The key the bytes of a stored key are (`None`: not one the facade
    /// files).
    pub(crate) fn parse(b: &[u8]) -> Option<StoreKey> {
        let content = || Key(b[..32].try_into().expect("32 bytes"));
        // Content records by their length, then the reserved keys.
        match (b.len(), b.get(32)) {
            (32, _) => return Some(StoreKey::Tree(content())),
            (33, Some(b'Z')) => return Some(StoreKey::Source(content())),
            (33, Some(b'S')) => return Some(StoreKey::RawSource(content())),
            (49, Some(b'T')) => {
                return Some(StoreKey::Tags(
                    content(),
                    b[33..].try_into().expect("16 bytes"),
                ));
            }
            (33 | 49, _) => return None,
            _ => {}
        }
        Some(match b {
            PATH_MAP_A => StoreKey::PathMap(PathCopy::A),
            PATH_MAP_B => StoreKey::PathMap(PathCopy::B),
            PATH_MAP_V1 => StoreKey::PathMapV1,
            DICTIONARY_DIRECTORY => StoreKey::DictionaryDirectory,
            _ => {
                if let Some(hash) = b.strip_prefix(TAGS_KINDS) {
                    StoreKey::TagsKinds(hash.try_into().ok()?)
                } else {
                    let hex = b.strip_prefix(DICTIONARY)?;
                    let id = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                    let key = StoreKey::Dictionary(id);
                    // Only the spelling `bytes` writes (8 lowercase digits).
                    (*key.bytes() == *b).then_some(key)?
                }
            }
        })
    }

    /// The content key a record is filed under (a tree, its sources and
    /// tags); `None` for the reserved records.
    pub(crate) fn content(&self) -> Option<Key> {
        match self {
            StoreKey::Tree(k) | StoreKey::Source(k) | StoreKey::RawSource(k) => Some(*k),
            StoreKey::Tags(k, _) => Some(*k),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "remote")]
    fn a_dictionary_key_gives_its_id_back() {
        for id in [0u32, 0xab, u32::MAX] {
            assert_eq!(
                dictionary_id_of(&StoreKey::Dictionary(id).bytes()),
                Some(id)
            );
        }
        let k = Key([7; 32]);
        assert_eq!(dictionary_id_of(&StoreKey::Tree(k).bytes()), None);
        assert_eq!(
            dictionary_id_of(&StoreKey::DictionaryDirectory.bytes()),
            None
        );
    }

    #[test]
    fn keys_are_content_addresses() {
        let k = tree_key(b"fn main() {}", "rust", [1; 16], 1);
        assert_eq!(k, tree_key(b"fn main() {}", "rust", [1; 16], 1));
        assert_ne!(k, tree_key(b"fn main() {} ", "rust", [1; 16], 1), "source");
        assert_ne!(
            k,
            tree_key(b"fn main() {}", "rust2", [1; 16], 1),
            "language"
        );
        assert_ne!(k, tree_key(b"fn main() {}", "rust", [2; 16], 1), "grammar");
        assert_ne!(k, tree_key(b"fn main() {}", "rust", [1; 16], 2), "format");
        // Length-prefixing: moving bytes between language id and source changes the key.
        assert_ne!(
            tree_key(b"xa", "b", [0; 16], 1),
            tree_key(b"a", "bx", [0; 16], 1)
        );
        assert_eq!(k.to_string().len(), 64);
        // The derivation is the one every stored key was made with (checked
        // against Python's `blake3` package when it changed to cst-key/2).
        assert_eq!(
            k.to_string(),
            "e3b9090e9397f465b061e90785f421ec2dd3928f7cda3b35a6ed5fc15ca145c7"
        );
    }

    /// Every key's bytes, as stores hold them (docs/FORMAT.md), and their
    /// classification back.
    #[test]
    fn store_keys_are_the_on_disk_ones_and_parse_back() {
        let c = Key([7; 32]);
        let hash: TagsHash = [9; 16];
        let with = |tail: &[u8]| [&c.0[..], tail].concat();
        let golden: Vec<(StoreKey, Vec<u8>)> = vec![
            (StoreKey::Tree(c), c.0.to_vec()),
            (StoreKey::Source(c), with(b"Z")),
            (StoreKey::RawSource(c), with(b"S")),
            (StoreKey::Tags(c, hash), with(&[&b"T"[..], &hash].concat())),
            (
                StoreKey::TagsKinds(hash),
                [&b"\0cst/tags-kinds/v1/"[..], &hash].concat(),
            ),
            (
                StoreKey::Dictionary(0xab),
                b"\0cst/dict/v1/000000ab".to_vec(),
            ),
            (
                StoreKey::Dictionary(u32::MAX),
                b"\0cst/dict/v1/ffffffff".to_vec(),
            ),
            (StoreKey::DictionaryDirectory, b"\0cst/dicts/v1".to_vec()),
            (StoreKey::PathMap(PathCopy::A), b"\0cst/paths/v2/a".to_vec()),
            (StoreKey::PathMap(PathCopy::B), b"\0cst/paths/v2/b".to_vec()),
            (StoreKey::PathMapV1, b"\0cst/paths/v1".to_vec()),
        ];
        for (key, bytes) in &golden {
            assert_eq!(&*key.bytes(), &bytes[..], "{key:?}");
            assert_eq!(StoreKey::parse(bytes), Some(*key), "{key:?}");
            let content = matches!(
                key,
                StoreKey::Tree(_)
                    | StoreKey::Source(_)
                    | StoreKey::RawSource(_)
                    | StoreKey::Tags(..)
            );
            assert_eq!(key.content(), content.then_some(c), "{key:?}");
            // Reserved keys never have a content record's length.
            if !content {
                assert!(![32, 33, 49].contains(&bytes.len()), "{key:?}");
            }
        }
        // Not keys the facade files.
        for other in [
            &with(b"X")[..],
            &with(&[&b"X"[..], &hash].concat()),
            &c.0[..31],
            b"\0cst/dict/v1/000000AB",
            b"\0cst/dict/v1/ab",
            b"\0cst/tags-kinds/v1/short",
            b"\0cst/paths/v3/a",
            b"",
        ] {
            assert_eq!(StoreKey::parse(other), None, "{other:?}");
        }
        assert_eq!(PathCopy::of_generation(1), PathCopy::B);
        assert_eq!(PathCopy::of_generation(2), PathCopy::A);
    }
}
