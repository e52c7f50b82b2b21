//! What the catalogue ([`cst_grammars::catalogue`]) knows of a language, in
//! the loader's terms.

use cst_grammars::catalogue::{self, Entry};

/// A catalogue entry's fields the loader uses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    pub id: String,
    pub symbol: String,
    pub name: String,
    pub extensions: Vec<String>,
    pub file_names: Vec<String>,
    pub interpreters: Vec<String>,
    pub aliases: Vec<String>,
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl From<&Entry> for Known {
    fn from(e: &Entry) -> Known {
        Known {
            id: e.id().to_string(),
            symbol: e.symbol().to_string(),
            name: e.name().to_string(),
            extensions: owned(e.extensions()),
            file_names: owned(e.file_names()),
            interpreters: owned(e.interpreters()),
            aliases: owned(e.aliases()),
        }
    }
}

/// The catalogue's entry for `name` (an id, name or alias).
pub(crate) fn lookup(name: &str) -> Option<Known> {
    catalogue::by_id(name)
        .or_else(|| catalogue::by_name(name))
        .map(Known::from)
}

/// The catalogue's entry whose grammar exports `symbol`, when exactly one
/// does.
pub(crate) fn by_symbol(symbol: &str) -> Option<Known> {
    let mut found = catalogue::entries().iter().filter(|e| e.symbol() == symbol);
    let first = found.next()?;
    found.next().is_none().then(|| Known::from(first))
}
