//! The one place that opens shared libraries and calls into them.
//!
//! `RTLD_NOW` resolves every symbol at load time, so a grammar whose
//! scanner is missing fails here instead of crashing at first use;
//! `RTLD_LOCAL` keeps one grammar's non-static helpers from clashing with
//! another's. A library is never closed: the `Language` points into it.
#![deny(clippy::undocumented_unsafe_blocks)]

use std::path::Path;

use crate::Error;

/// Opens `path`, calls its `symbol` and returns the language, after checking
/// its ABI version (the first field tree-sitter reads) is one the linked
/// tree-sitter supports.
#[cfg(unix)]
#[allow(unsafe_code)]
pub(crate) fn open(path: &Path, symbol: &str) -> Result<tree_sitter::Language, Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW, Symbol};
    let load_error = |e: libloading::Error| Error::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if !symbol.starts_with("tree_sitter_")
        || !symbol
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::Load {
            path: path.to_path_buf(),
            message: format!("`{symbol}` is not a grammar symbol (tree_sitter_<name>)"),
        });
    }
    // SAFETY: loading runs the library's initialisers. The caller loads only
    // a file that passed the trust rules (a copy in the user's grammar cache
    // whose digest matches its approval) or, in the probe, a file the child
    // process exists to try; there is nothing more to check before running
    // its code.
    let library =
        unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map_err(load_error)?;
    // SAFETY: every tree-sitter grammar exports `tree_sitter_<name>` as
    // `const TSLanguage *(void)`; the type below is that signature.
    let function: Symbol<unsafe extern "C" fn() -> *const tree_sitter::ffi::TSLanguage> =
        unsafe { library.get(symbol.as_bytes()) }.map_err(load_error)?;
    // SAFETY: calling the grammar's constructor, of the signature above; it
    // returns a pointer to a static `TSLanguage` in the library.
    let raw = unsafe { function() };
    // The library stays loaded for the life of the process: the language
    // points into its data.
    std::mem::forget(library);
    if raw.is_null() {
        return Err(Error::Load {
            path: path.to_path_buf(),
            message: format!("`{symbol}` returned no language"),
        });
    }
    // The ABI version is the first field of every `TSLanguage` layout; read
    // it before anything whose place depends on the version.
    // SAFETY: `raw` is non-null and points to at least the `u32` version
    // field at the start of the struct, in every ABI.
    let abi = unsafe { raw.cast::<u32>().read_unaligned() } as usize;
    let (min, max) = (
        tree_sitter::MIN_COMPATIBLE_LANGUAGE_VERSION,
        tree_sitter::LANGUAGE_VERSION,
    );
    if !(min..=max).contains(&abi) {
        return Err(Error::Abi {
            path: path.to_path_buf(),
            abi,
            min,
            max,
        });
    }
    // SAFETY: `raw` is a valid `TSLanguage` of a supported ABI that lives as
    // long as the process (its library is never unloaded).
    Ok(unsafe { tree_sitter::Language::from_raw(raw) })
}

/// Loading libraries is Unix-only.
#[cfg(not(unix))]
pub(crate) fn open(_path: &Path, _symbol: &str) -> Result<tree_sitter::Language, Error> {
    Err(Error::Unsupported)
}

/// The effective user id of this process.
#[cfg(unix)]
#[allow(unsafe_code)]
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
