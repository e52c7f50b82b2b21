//! Harnesses shared by the `query` fuzz target, the property tests and the
//! tests that replay fuzz findings (feature `differential`), so all run the
//! same code: queries generated from a grammar's node kinds and fields, run
//! by both engines over the tree of an arbitrary source, any difference a
//! panic.

use std::sync::Arc;

use cst_bytecode::{Point, Symbols, TreeView};

use crate::differential::{Settings, check};
use crate::{Error, Query};

/// Reads choices from fuzz bytes; zeros once they run out.
pub struct Choices<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Choices<'a> {
    /// Choices from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Choices { data, pos: 0 }
    }
    /// The next byte.
    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let v = (usize::from(self.byte()) << 8) | usize::from(self.byte());
        v % n
    }
    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }
}

/// The names a generated query draws from.
pub struct Vocabulary {
    named: Vec<String>,
    anonymous: Vec<String>,
    supertypes: Vec<(String, Vec<String>)>,
    fields: Vec<String>,
}

impl Vocabulary {
    /// The visible kinds, supertypes (with subtypes) and fields of `language`.
    pub fn new(language: &tree_sitter::Language) -> Vocabulary {
        let mut v = Vocabulary {
            named: Vec::new(),
            anonymous: Vec::new(),
            supertypes: Vec::new(),
            fields: Vec::new(),
        };
        for id in 0..language.node_kind_count() as u16 {
            let Some(name) = language.node_kind_for_id(id) else {
                continue;
            };
            if language.node_kind_is_supertype(id) {
                let subs = language
                    .subtypes_for_supertype(id)
                    .iter()
                    .filter_map(|&s| language.node_kind_for_id(s))
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect();
                v.supertypes.push((name.to_owned(), subs));
            } else if language.node_kind_is_visible(id) && !name.is_empty() {
                if language.node_kind_is_named(id) {
                    v.named.push(name.to_owned());
                } else {
                    v.anonymous.push(name.to_owned());
                }
            }
        }
        v.named.sort();
        v.named.dedup();
        v.anonymous.sort();
        v.anonymous.dedup();
        for id in 1..=language.field_count() as u16 {
            if let Some(f) = language.field_name_for_id(id) {
                v.fields.push(f.to_owned());
            }
        }
        v
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Gen<'v, 'c, 'd> {
    v: &'v Vocabulary,
    c: &'c mut Choices<'d>,
    captures: usize,
    /// Quantifiers left for this pattern: tree-sitter's compile-time
    /// analysis grows exponentially with nested quantified groups.
    quantifiers: usize,
}

impl Gen<'_, '_, '_> {
    fn pick<'s>(&mut self, list: &'s [String]) -> Option<&'s str> {
        (!list.is_empty()).then(|| list[self.c.below(list.len())].as_str())
    }

    fn node(&mut self, depth: usize, out: &mut String) {
        let quantifiers_before = self.quantifiers;
        let choice = if depth >= 3 {
            self.c.below(4) + 4
        } else {
            self.c.below(13)
        };
        match choice {
            0..=3 => {
                // A named node, a supertype or `supertype/subtype`, or `(_)`.
                out.push('(');
                let k = self.c.below(8);
                if k == 0 {
                    out.push('_');
                } else if k == 1 && !self.v.supertypes.is_empty() {
                    let (s, subs) = &self.v.supertypes[self.c.below(self.v.supertypes.len())];
                    out.push_str(s);
                    if !subs.is_empty() && self.c.below(2) == 0 {
                        out.push('/');
                        out.push_str(&subs[self.c.below(subs.len())]);
                    }
                } else {
                    let name = self.pick(&self.v.named).unwrap_or("_").to_owned();
                    out.push_str(&name);
                }
                for _ in 0..self.c.below(4) {
                    out.push(' ');
                    match self.c.below(9) {
                        0 => {
                            out.push('!');
                            let f = self.pick(&self.v.fields).unwrap_or("name").to_owned();
                            out.push_str(&f);
                            continue;
                        }
                        1 => out.push_str(". "),
                        _ => {}
                    }
                    if self.c.below(3) == 0
                        && let Some(f) = self.pick(&self.v.fields)
                    {
                        let f = f.to_owned();
                        out.push_str(&f);
                        out.push_str(": ");
                    }
                    self.node(depth + 1, out);
                }
                if self.c.below(6) == 0 {
                    out.push_str(" .");
                }
                out.push(')');
            }
            4 | 5 => match self.pick(&self.v.anonymous) {
                Some(a) => {
                    let a = quote(a);
                    out.push_str(&a);
                }
                None => out.push('_'),
            },
            6 => out.push('_'),
            7 => out.push_str(if self.c.below(2) == 0 {
                "(ERROR)"
            } else {
                "(MISSING)"
            }),
            8 => {
                out.push_str("(MISSING ");
                if self.c.below(2) == 0 {
                    let n = self.pick(&self.v.named).unwrap_or("_").to_owned();
                    out.push_str(&n);
                } else {
                    let a = self.pick(&self.v.anonymous).map(quote).unwrap_or_default();
                    out.push_str(&a);
                }
                out.push(')');
            }
            9 | 10 => {
                out.push('[');
                for _ in 0..1 + self.c.below(3) {
                    out.push(' ');
                    self.node(depth + 1, out);
                }
                out.push_str(" ]");
            }
            _ => {
                out.push('(');
                for i in 0..1 + self.c.below(3) {
                    if i > 0 {
                        out.push(' ');
                        if self.c.below(4) == 0 {
                            out.push_str(". ");
                        }
                    }
                    self.node(depth + 1, out);
                }
                out.push(')');
            }
        }
        let q = self.c.below(8);
        // tree-sitter 0.26.13's `ts_query_new` never returns for some
        // nested quantifiers (`((number)?)+`, `[ "," (number)? ]+`,
        // `[ (_ (pair)?)* "," ]` in JSON): quantify nothing that holds a
        // quantifier.
        let inner_quantified = self.quantifiers < quantifiers_before;
        if q < 3 && self.quantifiers > 0 && !inner_quantified {
            self.quantifiers -= 1;
            out.push(['?', '*', '+'][q]);
        }
        if self.c.below(3) == 0 {
            out.push_str(&format!(" @c{}", self.captures));
            self.captures += 1;
        }
    }

    fn predicate(&mut self, out: &mut String) {
        let cap = |g: &mut Self| format!("@c{}", g.c.below(g.captures.max(1)));
        let text = |g: &mut Self| {
            let words = ["a", "x", "self", "new", "main", "", "(", "\\", "ab"];
            quote(words[g.c.below(words.len())])
        };
        let p = match self.c.below(12) {
            0 => format!("(#eq? {} {})", cap(self), text(self)),
            1 => format!("(#not-eq? {} {})", cap(self), text(self)),
            2 => format!("(#eq? {} {})", cap(self), cap(self)),
            3 => format!("(#any-eq? {} {})", cap(self), text(self)),
            4 => format!("(#match? {} \"^[a-z_]+$\")", cap(self)),
            5 => format!("(#not-match? {} \"[A-Z]\")", cap(self)),
            6 => format!("(#any-match? {} \"e\")", cap(self)),
            7 => format!("(#any-of? {} \"a\" \"x\" \"self\")", cap(self)),
            8 => format!("(#not-any-of? {} \"main\")", cap(self)),
            9 => format!("(#any-not-eq? {} {})", cap(self), cap(self)),
            10 => "(#set! priority 100)".to_owned(),
            _ => format!("(#is-not? local {})", cap(self)),
        };
        out.push(' ');
        out.push_str(&p);
    }
}

/// A query of 1–3 patterns drawn from `v` by `c`: nodes, fields, negated
/// fields, anonymous nodes, wildcards, `(ERROR)`, `(MISSING …)`,
/// supertypes, alternations, groups, anchors, quantifiers, captures and
/// predicates.
pub fn generate_query(v: &Vocabulary, c: &mut Choices<'_>) -> String {
    let mut g = Gen {
        v,
        c,
        captures: 0,
        quantifiers: 0,
    };
    let mut out = String::new();
    for _ in 0..1 + g.c.below(3) {
        g.quantifiers = 2;
        let mut pattern = String::new();
        g.node(0, &mut pattern);
        if g.captures > 0 && g.c.below(3) == 0 {
            pattern = format!("({pattern}");
            g.predicate(&mut pattern);
            pattern.push(')');
        }
        out.push_str(&pattern);
        out.push('\n');
    }
    out
}

/// Cursor settings drawn by `c` for a source of `len` bytes and `lines` lines.
pub fn generate_settings(c: &mut Choices<'_>, len: usize, lines: usize) -> Settings {
    let mut s = Settings::default();
    match c.below(6) {
        0 => {
            let a = c.below(len + 1);
            s.byte_range = Some(a..a + c.below(len + 1 - a));
        }
        1 => {
            let a = c.below(lines.max(1));
            s.point_range = Some(
                Point {
                    row: a,
                    column: c.below(10),
                }..Point {
                    row: a + c.below(lines.max(1)),
                    column: c.below(40),
                },
            );
        }
        2 => {
            let a = c.below(len + 1);
            s.containing_byte_range = Some(a..a + c.below(len + 1 - a));
        }
        _ => {}
    }
    if c.below(4) == 0 {
        s.max_start_depth = Some(c.below(4) as u32);
    }
    if c.below(4) == 0 {
        s.match_limit = Some(1 + c.below(8) as u32);
    }
    s
}

/// A grammar as the harness needs it.
pub struct Lang {
    /// The language.
    pub language: tree_sitter::Language,
    /// Its symbols, under its fingerprint.
    pub symbols: Arc<Symbols>,
    /// Its fingerprint.
    pub fingerprint: [u8; 16],
    /// Names for generated queries.
    pub vocabulary: Vocabulary,
}

impl Lang {
    /// Bundles a language with its fingerprint (the registry computes it).
    pub fn new(language: tree_sitter::Language, fingerprint: [u8; 16]) -> Lang {
        Lang {
            symbols: Arc::new(Symbols::from_language(&language, fingerprint)),
            vocabulary: Vocabulary::new(&language),
            language,
            fingerprint,
        }
    }
}

/// Compiles `query` with both compilers and, if it compiles, runs it over
/// `source` with both engines under `settings`. Panics on any difference.
/// Returns whether the query compiled.
pub fn compare(lang: &Lang, query_source: &str, source: &[u8], settings: &Settings) -> bool {
    let theirs = tree_sitter::Query::new(&lang.language, query_source);
    let ours = Query::new(&lang.language, query_source);
    let query = match (theirs, ours) {
        (Ok(_), Ok(q)) => q,
        (Err(a), Err(Error::Query(b))) => {
            assert_eq!(a, b, "query errors differ for {query_source:?}");
            return false;
        }
        (a, b) => panic!("compilers disagree on {query_source:?}: tree-sitter {a:?}, cst {b:?}"),
    };
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&lang.language)
        .expect("the language loads");
    let Some(tree) = parser.parse(source, None) else {
        return true;
    };
    let Ok(bytes) = cst_bytecode::encode(&tree, source, lang.fingerprint) else {
        return true;
    };
    let view = TreeView::open(&bytes, lang.symbols.clone()).expect("an encoded tree opens");
    if let Err(d) = check(&tree, &view, source, &query, settings) {
        panic!(
            "engines differ\nquery: {query_source}\nsource: {:?}\nsettings: {settings:?}\n{d}",
            String::from_utf8_lossy(source)
        );
    }
    true
}

/// The fuzz target's body: byte 0 picks the grammar (of `langs`), byte 1
/// whether the query is generated (even) or the input's text up to a NUL
/// (odd); then settings; the rest is the source.
pub fn query_and_compare(data: &[u8], langs: &[Lang]) {
    let mut c = Choices::new(data);
    if langs.is_empty() || data.len() < 2 {
        return;
    }
    let lang = &langs[usize::from(c.byte()) % langs.len()];
    let generated = c.byte().is_multiple_of(2);
    let query = if generated {
        generate_query(&lang.vocabulary, &mut c)
    } else {
        let rest = c.rest();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let text = String::from_utf8_lossy(&rest[..end]).into_owned();
        c = Choices::new(rest.get(end + 1..).unwrap_or_default());
        text
    };
    let source = c.rest().to_vec();
    let lines = source.iter().filter(|&&b| b == b'\n').count() + 1;
    let settings = generate_settings(
        &mut Choices::new(&source[..source.len().min(8)]),
        source.len(),
        lines,
    );
    compare(lang, &query, &source, &settings);
}
