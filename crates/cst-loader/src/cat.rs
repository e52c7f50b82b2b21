//! What the catalogue knows of a language name, in the loader's terms.

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

/// The catalogue's entry for `name` (an id, name or alias).
pub(crate) fn lookup(name: &str) -> Option<Known> {
    let _ = name;
    None
}
