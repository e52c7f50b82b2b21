//! Where editors keep compiled parsers, and what their files are called.
//!
//! | preset | directories (under the home given) | file |
//! |---|---|---|
//! | nvim | `$XDG_DATA_HOME/nvim/site/parser`, `~/.local/share/nvim/site/parser`, `~/.local/share/nvim/lazy/nvim-treesitter/parser` | `<lang>.so` |
//! | Helix | `$HELIX_RUNTIME/grammars`, `~/.config/helix/runtime/grammars` | `<lang>.so` |
//! | Emacs | `~/.emacs.d/tree-sitter`, `~/.config/emacs/tree-sitter` | `libtree-sitter-<lang>.so` |
//! | tree-sitter CLI | `~/.cache/tree-sitter/lib` | `<lang>.so` |
//!
//! Every tool exports `tree_sitter_<lang>` with `-` turned into `_`; the
//! catalogue ([`cst_grammars::catalogue`]) knows the exceptions
//! (`csharp` → `tree_sitter_c_sharp`).

use std::path::{Path, PathBuf};

/// An editor's parser directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// Neovim with nvim-treesitter.
    Nvim,
    /// Helix.
    Helix,
    /// GNU Emacs 29+ (treesit).
    Emacs,
    /// The tree-sitter CLI's cache.
    TreeSitter,
    /// A directory the user names (`cst grammar import --dir`): `<lang>.so`,
    /// `libtree-sitter-<lang>.so` or `libtree_sitter_<lang>.so` files.
    Custom,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 4] = [
        Preset::Nvim,
        Preset::Helix,
        Preset::Emacs,
        Preset::TreeSitter,
    ];

    /// The preset's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Nvim => "nvim",
            Preset::Helix => "helix",
            Preset::Emacs => "emacs",
            Preset::TreeSitter => "tree-sitter",
            Preset::Custom => "dir",
        }
    }

    /// The preset named `name` (one of [`Preset::ALL`]).
    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The directories this preset looks in, for a user whose home is
    /// `home`; `env` reads environment variables (`XDG_DATA_HOME`,
    /// `HELIX_RUNTIME`).
    pub fn dirs(self, home: &Path, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
        let abs = |v: Option<String>| v.map(PathBuf::from).filter(|p| p.is_absolute());
        match self {
            Preset::Nvim => {
                let mut dirs = Vec::new();
                if let Some(data) = abs(env("XDG_DATA_HOME")) {
                    dirs.push(data.join("nvim/site/parser"));
                }
                dirs.push(home.join(".local/share/nvim/site/parser"));
                dirs.push(home.join(".local/share/nvim/lazy/nvim-treesitter/parser"));
                dirs
            }
            Preset::Helix => {
                let mut dirs = Vec::new();
                if let Some(rt) = abs(env("HELIX_RUNTIME")) {
                    dirs.push(rt.join("grammars"));
                }
                dirs.push(home.join(".config/helix/runtime/grammars"));
                dirs
            }
            Preset::Emacs => vec![
                home.join(".emacs.d/tree-sitter"),
                home.join(".config/emacs/tree-sitter"),
            ],
            Preset::TreeSitter => vec![home.join(".cache/tree-sitter/lib")],
            Preset::Custom => Vec::new(),
        }
    }

    /// The language name a file of this preset holds, if it is a parser
    /// file at all: `rust.so` → `rust`, `libtree-sitter-c-sharp.so` →
    /// `c-sharp`.
    pub fn language_of(self, file_name: &str) -> Option<String> {
        let stem = file_name.strip_suffix(std::env::consts::DLL_SUFFIX)?;
        let stem = match self {
            Preset::Emacs => stem.strip_prefix("libtree-sitter-")?,
            Preset::Custom => stem
                .strip_prefix("libtree-sitter-")
                .or_else(|| stem.strip_prefix("libtree_sitter_"))
                .unwrap_or(stem),
            _ => stem,
        };
        let valid = !stem.is_empty()
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        valid.then(|| stem.to_string())
    }
}

/// A compiled parser found in an editor's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Which preset found it.
    pub preset: Preset,
    /// The library file.
    pub path: PathBuf,
    /// The id cst gives it (lower case, `-` → `_`, the catalogue's id when
    /// it knows the name).
    pub id: String,
    /// The symbol to look up.
    pub symbol: String,
}

/// The id and symbol of a parser named `name` (`c-sharp`, `csharp`, `nu`).
pub fn id_and_symbol(name: &str) -> (String, String) {
    let plain = name.to_ascii_lowercase().replace('-', "_");
    match crate::cat::lookup(&plain).or_else(|| crate::cat::lookup(name)) {
        Some(known) => (known.id, known.symbol),
        None => (plain.clone(), format!("tree_sitter_{plain}")),
    }
}

/// Every parser in the directories of `presets` under `home`, first found
/// first (a language found by two presets is listed once).
pub fn discover(
    presets: &[Preset],
    home: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Found> {
    let dirs: Vec<(Preset, PathBuf)> = presets
        .iter()
        .flat_map(|&p| p.dirs(home, env).into_iter().map(move |d| (p, d)))
        .collect();
    discover_in(&dirs)
}

/// Every parser in the configured directories `dirs`, each read with its
/// preset's file names (a directory of `libtree-sitter-<lang>.so` files is
/// read as Emacs', one of `<lang>.so` files as the others'), first found
/// first.
pub fn discover_in(dirs: &[(Preset, PathBuf)]) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    for (preset, dir) in dirs {
        let preset = *preset;
        {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut files: Vec<(String, PathBuf)> = entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_str()?.to_string();
                    Some((name, e.path()))
                })
                .collect();
            files.sort();
            for (name, path) in files {
                let Some(lang) = preset.language_of(&name) else {
                    continue;
                };
                let (id, symbol) = id_and_symbol(&lang);
                if out.iter().any(|f| f.id == id) {
                    continue;
                }
                out.push(Found {
                    preset,
                    path,
                    id,
                    symbol,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_per_preset() {
        let so = std::env::consts::DLL_SUFFIX;
        assert_eq!(
            Preset::Nvim.language_of(&format!("rust{so}")).as_deref(),
            Some("rust")
        );
        assert_eq!(
            Preset::Emacs
                .language_of(&format!("libtree-sitter-c-sharp{so}"))
                .as_deref(),
            Some("c-sharp")
        );
        assert_eq!(Preset::Emacs.language_of(&format!("rust{so}")), None);
        assert_eq!(Preset::Helix.language_of("rust.scm"), None);
        assert_eq!(Preset::Helix.language_of(&format!("../x{so}")), None);
        assert_eq!(Preset::from_name("helix"), Some(Preset::Helix));
        assert_eq!(
            Preset::Custom
                .language_of(&format!("libtree_sitter_c_sharp{so}"))
                .as_deref(),
            Some("c_sharp")
        );
        assert_eq!(
            Preset::Custom.language_of(&format!("zig{so}")).as_deref(),
            Some("zig")
        );
    }

    #[test]
    fn dashed_names_become_ids_and_symbols() {
        let (id, symbol) = id_and_symbol("foo-bar");
        assert_eq!(id, "foo_bar");
        assert_eq!(symbol, "tree_sitter_foo_bar");
    }
}
