//! Kind and field names of a grammar, for rendering and name lookups.

use crate::DecodeError;

/// tree-sitter's built-in ERROR symbol (`ts_builtin_sym_error`).
pub const ERROR_KIND: u16 = u16::MAX;
/// tree-sitter's built-in `_ERROR` repeat symbol.
pub const ERROR_REPEAT_KIND: u16 = u16::MAX - 1;

/// The names of a grammar's node kinds and fields, tagged with the grammar
/// fingerprint they belong to. Encoded trees store ids; a view needs the
/// matching `Symbols` to name them (opening checks the fingerprint).
///
/// Build one from a `tree_sitter::Language` (feature `tree-sitter`) or from
/// stored tables with [`Symbols::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbols {
    fingerprint: [u8; 16],
    kinds: Vec<(Box<str>, bool)>,
    fields: Vec<Box<str>>,
    /// Names a node of kind `.0` and namedness `.1` reports although the
    /// kind's own entry differs in namedness (sorted by `(.0, .1)`). See
    /// [`Symbols::node_kind_name`].
    merged: Vec<(u16, bool, Box<str>)>,
}

impl Symbols {
    /// Symbols from explicit tables: `kinds[id] = (name, is_named)` and
    /// `fields[id - 1] = name` (field ids start at 1).
    pub fn new(
        fingerprint: [u8; 16],
        kinds: Vec<(String, bool)>,
        fields: Vec<String>,
    ) -> Result<Self, DecodeError> {
        if kinds.len() > usize::from(ERROR_REPEAT_KIND) || fields.len() >= usize::from(u16::MAX) {
            return Err(DecodeError::Corrupt {
                offset: 0,
                what: "symbol table too large",
            });
        }
        Ok(Symbols {
            fingerprint,
            kinds: kinds
                .into_iter()
                .map(|(n, named)| (n.into_boxed_str(), named))
                .collect(),
            fields: fields.into_iter().map(String::into_boxed_str).collect(),
            merged: Vec::new(),
        })
    }

    /// The names of `language`'s kinds and fields. `fingerprint` is the
    /// grammar fingerprint the caller keys trees with (cst-grammars computes it).
    #[cfg(feature = "tree-sitter")]
    pub fn from_language(language: &tree_sitter::Language, fingerprint: [u8; 16]) -> Self {
        let kinds: Vec<(Box<str>, bool)> = (0..language.node_kind_count())
            .map(|id| {
                let id = id as u16;
                (
                    language.node_kind_for_id(id).unwrap_or("").into(),
                    language.node_kind_is_named(id),
                )
            })
            .collect();
        let fields = (1..=language.field_count())
            .map(|id| language.field_name_for_id(id as u16).unwrap_or("").into())
            .collect();
        Symbols {
            fingerprint,
            merged: merged_names(language, &kinds),
            kinds,
            fields,
        }
    }

    /// The grammar fingerprint these names belong to.
    pub fn fingerprint(&self) -> [u8; 16] {
        self.fingerprint
    }

    /// Number of kind ids (excluding the built-in ERROR symbols).
    pub fn kind_count(&self) -> usize {
        self.kinds.len()
    }

    /// Number of field ids (ids run from 1 to this).
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// Whether `id` names a kind of this grammar (or a built-in ERROR symbol).
    pub fn is_kind(&self, id: u16) -> bool {
        usize::from(id) < self.kinds.len() || id == ERROR_KIND || id == ERROR_REPEAT_KIND
    }

    /// The name of kind `id` (`"ERROR"` for the built-in error symbol).
    pub fn kind_name(&self, id: u16) -> &str {
        match id {
            ERROR_KIND => "ERROR",
            ERROR_REPEAT_KIND => "_ERROR",
            _ => self.kinds.get(usize::from(id)).map_or("", |k| &k.0),
        }
    }

    /// The name tree-sitter's `Node::kind` gives a node of kind `id` whose
    /// namedness is `named`.
    ///
    /// That is the name of the node's *internal* symbol, which is the kind's
    /// own name except where the grammar merged an internal symbol into a
    /// public one of the other namedness (tree-sitter-move's anonymous `/`
    /// reports kind 60, the named `binary_operator`; tree-sitter-vim's `*`
    /// likewise). A stored node keeps its kind id and its own namedness, and
    /// within one kind id the namedness tells those symbols apart.
    pub fn node_kind_name(&self, id: u16, named: bool) -> &str {
        if !self.merged.is_empty()
            && named != self.kind_is_named(id)
            && let Ok(i) = self
                .merged
                .binary_search_by(|(k, n, _)| (*k, *n).cmp(&(id, named)))
        {
            return &self.merged[i].2;
        }
        self.kind_name(id)
    }

    /// Whether kind `id` is named in the grammar.
    pub fn kind_is_named(&self, id: u16) -> bool {
        match id {
            ERROR_KIND | ERROR_REPEAT_KIND => true,
            _ => self.kinds.get(usize::from(id)).is_some_and(|k| k.1),
        }
    }

    /// The name of field `id` (`None` for 0 or an unknown id).
    pub fn field_name(&self, id: u16) -> Option<&str> {
        if id == 0 {
            None
        } else {
            self.fields.get(usize::from(id) - 1).map(|f| &**f)
        }
    }

    /// The id of the field named `name`.
    pub fn field_id(&self, name: &str) -> Option<u16> {
        self.fields
            .iter()
            .position(|f| &**f == name)
            .map(|i| i as u16 + 1)
    }
}

/// The `merged` table of [`Symbols`]: for the symbols whose public symbol
/// (the kind id a node reports) differs from them in namedness,
/// `(public, namedness, name)` where the name differs from the public one.
/// Where two such symbols share a public symbol and a namedness but not a
/// name, a node cannot tell them apart and the kind's own name is kept for
/// both.
#[cfg(feature = "tree-sitter")]
fn merged_names(
    language: &tree_sitter::Language,
    kinds: &[(Box<str>, bool)],
) -> Vec<(u16, bool, Box<str>)> {
    let mut merged: Vec<(u16, bool, Box<str>)> = Vec::new();
    let mut ambiguous = Vec::new();
    for (symbol, public) in crate::live_facts::public_symbols(language)
        .into_iter()
        .enumerate()
    {
        let (Some((name, named)), Some((_, public_named))) =
            (kinds.get(symbol), kinds.get(usize::from(public)))
        else {
            continue;
        };
        if named == public_named {
            continue;
        }
        match merged.iter().find(|(k, n, _)| (*k, *n) == (public, *named)) {
            Some((_, _, other)) if other != name => ambiguous.push((public, *named)),
            Some(_) => {}
            None => merged.push((public, *named, name.clone())),
        }
    }
    merged.retain(|(k, n, name)| {
        !ambiguous.contains(&(*k, *n)) && kinds.get(usize::from(*k)).is_some_and(|p| p.0 != *name)
    });
    merged.sort_by_key(|(k, n, _)| (*k, *n));
    merged
}

#[cfg(all(test, feature = "tree-sitter"))]
mod tests {
    use super::*;

    /// In every compiled-in grammar, a node's kind id and namedness give the
    /// name tree-sitter's `Node::kind` reports: no symbol is merged into a
    /// public symbol of the same namedness under another name, and no two
    /// symbols merged into one kind with one namedness differ in name.
    #[test]
    fn kind_id_and_namedness_give_the_kind_name_in_every_grammar() {
        let mut merged_grammars = Vec::new();
        let mut unresolved = Vec::new();
        for g in cst_grammars::compiled() {
            let language = g.language().unwrap();
            let symbols = Symbols::from_language(&language, [0; 16]);
            for (symbol, public) in crate::live_facts::public_symbols(&language)
                .into_iter()
                .enumerate()
            {
                let name = language.node_kind_for_id(symbol as u16).unwrap_or("");
                let named = language.node_kind_is_named(symbol as u16);
                if symbols.node_kind_name(public, named) != name {
                    unresolved.push(format!("{}: symbol {symbol} {name:?} -> {public}", g.id()));
                }
            }
            if !symbols.merged.is_empty() {
                merged_grammars.push(g.id());
            }
        }
        eprintln!("grammars with merged names: {merged_grammars:?}");
        assert!(unresolved.is_empty(), "{unresolved:#?}");
    }
}
