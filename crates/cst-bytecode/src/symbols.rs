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
        })
    }

    /// The names of `language`'s kinds and fields. `fingerprint` is the
    /// grammar fingerprint the caller keys trees with (cst-grammars computes it).
    #[cfg(feature = "tree-sitter")]
    pub fn from_language(language: &tree_sitter::Language, fingerprint: [u8; 16]) -> Self {
        let kinds = (0..language.node_kind_count())
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
