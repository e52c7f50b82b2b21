//! `cargo xtask catalogue --from DIR`: generates
//! `crates/cst-grammars/data/catalogue.tsv`, the catalogue of every language a
//! tree-sitter grammar is known for, from pinned, checksummed package archives.
//!
//! Inputs (both MIT), fetched with the registries' ordinary clients into DIR:
//!
//! * `linguist-languages-9.5.0.tgz` (npm; GitHub Linguist's language data):
//!   `npm pack linguist-languages@9.5.0 --pack-destination DIR`
//! * `tree-sitter-language-pack-1.23.1.crate` (crates.io; its
//!   `language_definitions.json` lists the grammars, extensions and C symbols):
//!   `cargo new --vcs none /tmp/tslp && cd /tmp/tslp &&
//!   cargo add tree-sitter-language-pack@=1.23.1 --no-default-features &&
//!   cargo fetch && cp "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/tree-sitter-language-pack-1.23.1.crate DIR/`
//!
//! The registry (`cst_grammars::all()`) is the third source: its ids, names,
//! aliases, extensions, file names and interpreters win over the others.
//!
//! Rows: one per language-pack grammar plus every registry grammar, sorted by
//! id. A Linguist language is attached to at most one row (best match by name,
//! then alias, then primary extension). Every extension, file name,
//! interpreter and alias ends up on exactly one row, chosen by rank: the
//! registry, then the language pack's `ambiguous` owner, then the language
//! pack, then a Linguist language matched by name, then one matched otherwise;
//! ties go to the registry's table order, then to the smaller id. The one
//! exception: an extension with a registry [`cst_grammars::AMBIGUITY_RULES`]
//! entry stays on every registry grammar claiming it (the rule decides).
//! Extensions in [`GENERIC_EXTENSIONS`] come from the registry only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

/// A pinned input archive.
struct Input {
    file: &'static str,
    sha256: &'static str,
}

const LINGUIST: Input = Input {
    file: "linguist-languages-9.5.0.tgz",
    sha256: "395ac8b6c5df87b6d0a92b7557c4046685f5b00e6abeaecbb6945195eb233c8d",
};

const LANGUAGE_PACK: Input = Input {
    file: "tree-sitter-language-pack-1.23.1.crate",
    sha256: "0ff1c086ef421b7b28a11f0f2952c221f65c23e2c75a453277a8ddcfa1b54e7c",
};

/// Language-pack names whose registry id differs (the id must stay the registry's).
const ID_OVERRIDES: &[(&str, &str)] = &[
    ("csharp", "c_sharp"),
    ("embeddedtemplate", "embedded_template"),
    ("test", "tree_sitter_test"),
];

/// Linguist languages attached by hand (`None`: none fits); the heuristic
/// match is wrong or missing for these ids.
const LINGUIST_OVERRIDES: &[(&str, Option<&str>)] = &[
    // The extension heuristic pairs `.txt` with Adblock Filter List.
    ("vimdoc", Some("Vim Help File")),
];

/// Extensions too generic to name a language without looking inside (Linguist
/// settles them with content heuristics): taken from the registry only.
const GENERIC_EXTENSIONS: &[&str] = &["txt", "inc"];

/// The output, relative to the workspace root.
const OUT: &str = "crates/cst-grammars/data/catalogue.tsv";

pub(crate) fn run(from: &Path, check: bool) -> Result<bool> {
    let linguist = read_archive(from, &LINGUIST, |p| {
        p.starts_with("package/data/") && p.ends_with(".js")
    })?;
    let pack = read_archive(from, &LANGUAGE_PACK, |p| {
        p == "tree-sitter-language-pack-1.23.1/language_definitions.json"
    })?;
    let (_, pack_json) = pack
        .into_iter()
        .next()
        .context("the crate lacks language_definitions.json")?;
    let pack: Value =
        serde_json::from_slice(&pack_json).context("parsing language_definitions.json")?;
    let mut languages = Vec::new();
    for (path, bytes) in &linguist {
        let text = std::str::from_utf8(bytes).with_context(|| format!("{path}: not UTF-8"))?;
        languages.push(parse_linguist(text).with_context(|| format!("parsing {path}"))?);
    }
    let tsv = generate(&pack, &languages)?;
    let path = crate::root().join(OUT);
    if check {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != tsv {
            eprintln!("{OUT} is out of date: run `cargo xtask catalogue --from DIR`");
            return Ok(false);
        }
        println!("{OUT} is current");
        return Ok(true);
    }
    std::fs::write(&path, &tsv).with_context(|| format!("writing {}", path.display()))?;
    let rows = tsv.lines().filter(|l| !l.starts_with('#')).count();
    println!("wrote {} ({rows} languages)", path.display());
    Ok(true)
}

/// The members of a `.tgz`/`.crate` archive whose path `want` accepts, sorted
/// by path, after checking the archive's sha256.
fn read_archive(
    dir: &Path,
    input: &Input,
    want: impl Fn(&str) -> bool,
) -> Result<Vec<(String, Vec<u8>)>> {
    let path = dir.join(input.file);
    ensure!(
        path.is_file(),
        "{} is missing: fetch it as described in `xtask/src/catalogue.rs`",
        path.display()
    );
    let sha = crate::corpus::sha256_file(&path)?;
    ensure!(
        sha == input.sha256,
        "{}: sha256 {sha}, expected {}",
        path.display(),
        input.sha256
    );
    let file = std::fs::File::open(&path)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if want(&name) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            out.push((name, bytes));
        }
    }
    out.sort();
    Ok(out)
}

/// The fields of a Linguist language this catalogue uses.
#[derive(Debug, Default, Clone, PartialEq)]
struct Linguist {
    name: String,
    aliases: Vec<String>,
    extensions: Vec<String>,
    filenames: Vec<String>,
    interpreters: Vec<String>,
}

/// A value of the JavaScript object-literal subset linguist-languages writes.
#[derive(Debug, PartialEq)]
enum Js {
    Str(String),
    Arr(Vec<Js>),
    Obj(Vec<(String, Js)>),
    Other,
}

/// Parses one `data/*.js` file: `export default { key: value, … }`.
fn parse_linguist(text: &str) -> Result<Linguist> {
    let body = text
        .trim()
        .strip_prefix("export default")
        .context("no `export default`")?;
    let mut p = JsParser {
        s: body.as_bytes(),
        i: 0,
    };
    let Js::Obj(fields) = p.value()? else {
        bail!("the default export is not an object")
    };
    p.ws();
    ensure!(p.i == p.s.len(), "trailing text at byte {}", p.i);
    let strings = |v: &Js| -> Result<Vec<String>> {
        match v {
            Js::Arr(items) => items
                .iter()
                .map(|i| match i {
                    Js::Str(s) => Ok(s.clone()),
                    _ => bail!("a list holds a non-string"),
                })
                .collect(),
            _ => bail!("not a list"),
        }
    };
    let mut out = Linguist::default();
    for (key, value) in &fields {
        match key.as_str() {
            "name" => match value {
                Js::Str(s) => out.name = s.clone(),
                _ => bail!("name is not a string"),
            },
            "aliases" => out.aliases = strings(value)?,
            "extensions" => out.extensions = strings(value)?,
            "filenames" => out.filenames = strings(value)?,
            "interpreters" => out.interpreters = strings(value)?,
            _ => {}
        }
    }
    ensure!(!out.name.is_empty(), "no name");
    Ok(out)
}

struct JsParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        ensure!(
            self.peek() == Some(c),
            "expected `{}` at byte {}",
            c as char,
            self.i
        );
        self.i += 1;
        Ok(())
    }

    fn string(&mut self) -> Result<String> {
        let quote = self.s[self.i];
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i).context("unterminated string")?;
            self.i += 1;
            match c {
                b'\\' => {
                    let e = *self.s.get(self.i).context("unterminated escape")?;
                    self.i += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'\\' | b'\'' | b'"' => e,
                        _ => bail!("unsupported escape `\\{}`", e as char),
                    });
                }
                c if c == quote => break,
                c => out.push(c),
            }
        }
        Ok(String::from_utf8(out)?)
    }

    fn key(&mut self) -> Result<String> {
        match self.peek() {
            Some(b'\'' | b'"') => self.string(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
                {
                    self.i += 1;
                }
                Ok(String::from_utf8(self.s[start..self.i].to_vec())?)
            }
            _ => bail!("expected a key at byte {}", self.i),
        }
    }

    fn value(&mut self) -> Result<Js> {
        match self.peek().context("unexpected end")? {
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                while self.peek() != Some(b'}') {
                    let key = self.key()?;
                    self.expect(b':')?;
                    fields.push((key, self.value()?));
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                self.expect(b'}')?;
                Ok(Js::Obj(fields))
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                while self.peek() != Some(b']') {
                    items.push(self.value()?);
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                self.expect(b']')?;
                Ok(Js::Arr(items))
            }
            b'\'' | b'"' => Ok(Js::Str(self.string()?)),
            c if c.is_ascii_alphanumeric() || c == b'-' || c == b'.' => {
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'+'))
                {
                    self.i += 1;
                }
                Ok(Js::Other)
            }
            c => bail!("unexpected `{}` at byte {}", c as char, self.i),
        }
    }
}

/// Where a claim on an extension, file name, interpreter or alias comes from;
/// the smallest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// The registry's own descriptor.
    Registry,
    /// The language pack names this row the owner of an ambiguous extension.
    PackOwner,
    /// The language pack's extension list.
    Pack,
    /// A Linguist language matched by name.
    LinguistByName,
    /// A Linguist language matched by alias or extension.
    LinguistOther,
}

/// One catalogue row under construction.
#[derive(Debug, Default)]
struct Row {
    id: String,
    name: String,
    symbol: String,
    /// Position in the registry table, for registry rows.
    registry: Option<usize>,
    pack_key: Option<String>,
    linguist: Option<(usize, Rank)>,
    aliases: Vec<String>,
    extensions: Vec<String>,
    file_names: Vec<String>,
    interpreters: Vec<String>,
}

/// Lower case, ASCII letters and digits only, `#` → `sharp`, `+` → `p`
/// (`C#` → `csharp`, `C++` → `cpp`, `Emacs Lisp` → `emacslisp`).
fn norm(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '#' => out.push_str("sharp"),
            '+' => out.push('p'),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            _ => {}
        }
    }
    out
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

/// The catalogue TSV for these inputs (deterministic).
fn generate(pack: &Value, languages: &[Linguist]) -> Result<String> {
    let pack = pack
        .as_object()
        .context("language_definitions.json is not an object")?;
    let registry = cst_grammars::all();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (key, def) in pack {
        let id = ID_OVERRIDES.iter().find(|(k, _)| k == key).map_or_else(
            || key.to_lowercase().replace('-', "_"),
            |(_, id)| id.to_string(),
        );
        let symbol = def["c_symbol"].as_str().unwrap_or(key).replace('-', "_");
        let row = rows.entry(id.clone()).or_default();
        ensure!(
            row.pack_key.is_none(),
            "two language-pack entries map to `{id}`"
        );
        row.id = id;
        row.symbol = format!("tree_sitter_{symbol}");
        row.pack_key = Some(key.clone());
    }
    for (index, g) in registry.iter().enumerate() {
        let row = rows.entry(g.id().to_owned()).or_default();
        if row.symbol.is_empty() {
            row.symbol = format!("tree_sitter_{}", g.id());
        }
        row.id = g.id().to_owned();
        row.registry = Some(index);
        row.name = g.name().to_owned();
    }

    // Attach Linguist languages: best (score, id, language) pairs first, each
    // side at most once.
    let mut pairs: Vec<(u8, String, usize)> = Vec::new();
    for row in rows.values() {
        let reg = row.registry.map(|i| &registry[i]);
        let mut primary = vec![norm(&row.id)];
        primary.extend(row.pack_key.iter().map(|k| norm(k)));
        primary.extend(reg.map(|g| norm(g.name())));
        let mut secondary = vec![norm(row.symbol.trim_start_matches("tree_sitter_"))];
        secondary.extend(
            reg.into_iter()
                .flat_map(|g| g.aliases().iter().map(|a| norm(a))),
        );
        let exts = row_pack_and_registry_extensions(row, pack, reg);
        for (li, lang) in languages.iter().enumerate() {
            let name = norm(&lang.name);
            let aliases: Vec<String> = lang.aliases.iter().map(|a| norm(a)).collect();
            let score = if primary.contains(&name) {
                Some(0)
            } else if primary.iter().any(|p| aliases.contains(p)) {
                Some(1)
            } else if secondary.contains(&name) {
                Some(2)
            } else if secondary.iter().any(|s| aliases.contains(s)) {
                Some(3)
            } else {
                let lang_exts: Vec<&str> = lang
                    .extensions
                    .iter()
                    .map(|e| e.trim_start_matches('.'))
                    .collect();
                let both_primary = lang_exts
                    .first()
                    .is_some_and(|e| exts.iter().any(|x| x == e))
                    && exts
                        .first()
                        .is_some_and(|e| lang_exts.contains(&e.as_str()));
                both_primary.then_some(4)
            };
            if let Some(score) = score {
                pairs.push((score, row.id.clone(), li));
            }
        }
    }
    pairs.sort_by(|a, b| (a.0, &a.1, &languages[a.2].name).cmp(&(b.0, &b.1, &languages[b.2].name)));
    let mut taken = vec![false; languages.len()];
    for (id, forced) in LINGUIST_OVERRIDES {
        let row = rows
            .get_mut(*id)
            .with_context(|| format!("override for unknown id `{id}`"))?;
        row.linguist = None;
        if let Some(name) = forced {
            let li = languages
                .iter()
                .position(|l| l.name == *name)
                .with_context(|| format!("no Linguist language `{name}`"))?;
            taken[li] = true;
            row.linguist = Some((li, Rank::LinguistByName));
        }
    }
    let overridden: BTreeSet<&str> = LINGUIST_OVERRIDES.iter().map(|(id, _)| *id).collect();
    let mut matched: BTreeSet<String> = BTreeSet::new();
    for (score, id, li) in pairs {
        if taken[li] || matched.contains(&id) || overridden.contains(id.as_str()) {
            continue;
        }
        taken[li] = true;
        let rank = if score <= 1 {
            Rank::LinguistByName
        } else {
            Rank::LinguistOther
        };
        rows.get_mut(&id).expect("pair of a row").linguist = Some((li, rank));
        matched.insert(id);
    }

    // Claims: (kind, key) → [(rank, tie-break, id)].
    type Claims = BTreeMap<(u8, String), Vec<(Rank, usize, String)>>;
    let mut claims: Claims = BTreeMap::new();
    let tie = |row: &Row| row.registry.unwrap_or(usize::MAX);
    for row in rows.values() {
        let reg = row.registry.map(|i| &registry[i]);
        let mut claim = |kind: u8, key: &str, rank: Rank| {
            let generic = kind == 0 && rank != Rank::Registry && GENERIC_EXTENSIONS.contains(&key);
            if !key.is_empty() && !generic {
                claims.entry((kind, key.to_owned())).or_default().push((
                    rank,
                    tie(row),
                    row.id.clone(),
                ));
            }
        };
        if let Some(g) = reg {
            g.extensions()
                .iter()
                .for_each(|e| claim(0, e, Rank::Registry));
            g.file_names()
                .iter()
                .for_each(|f| claim(1, f, Rank::Registry));
            g.interpreters()
                .iter()
                .for_each(|i| claim(2, i, Rank::Registry));
            g.aliases()
                .iter()
                .for_each(|a| claim(3, &a.to_lowercase(), Rank::Registry));
        }
        if let Some(key) = &row.pack_key {
            let def = &pack[key];
            let owned: Vec<&str> = def["ambiguous"]
                .as_object()
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            for e in def["extensions"].as_array().into_iter().flatten() {
                let e = e.as_str().context("a non-string extension")?;
                let rank = if owned.contains(&e) {
                    Rank::PackOwner
                } else {
                    Rank::Pack
                };
                claim(0, e, rank);
            }
            if key.to_lowercase() != row.id {
                claim(3, &key.to_lowercase(), Rank::Pack);
            }
        }
        let suffix = row.symbol.trim_start_matches("tree_sitter_").to_lowercase();
        if suffix != row.id {
            claim(3, &suffix, Rank::Pack);
        }
        if let Some((li, rank)) = row.linguist {
            let lang = &languages[li];
            lang.extensions
                .iter()
                .for_each(|e| claim(0, e.trim_start_matches('.'), rank));
            lang.filenames.iter().for_each(|f| claim(1, f, rank));
            lang.interpreters.iter().for_each(|i| claim(2, i, rank));
            claim(3, &lang.name.to_lowercase(), rank);
            lang.aliases
                .iter()
                .for_each(|a| claim(3, &a.to_lowercase(), rank));
        }
    }

    // Display names: the registry's, else Linguist's, else the pack key.
    for row in rows.values_mut() {
        if row.name.is_empty() {
            row.name = match row.linguist {
                Some((li, _)) => languages[li].name.clone(),
                None => row.pack_key.clone().unwrap_or_else(|| row.id.clone()),
            };
        }
    }
    // An alias may not be another row's id or name.
    let mut names: HashMap<String, String> = HashMap::new();
    for row in rows.values() {
        for n in [&row.id, &row.name] {
            let prev = names.insert(n.to_lowercase(), row.id.clone());
            if let Some(prev) = prev {
                ensure!(prev == row.id, "`{n}` names both `{prev}` and `{}`", row.id);
            }
        }
    }

    let ambiguous: BTreeSet<&str> = cst_grammars::AMBIGUITY_RULES
        .iter()
        .map(|r| r.extension)
        .collect();
    for ((kind, key), mut claimants) in claims {
        claimants.sort();
        let best = claimants[0].0;
        let keep_all_registry =
            kind == 0 && best == Rank::Registry && ambiguous.contains(key.as_str());
        let mut winners: Vec<&str> = if keep_all_registry {
            claimants
                .iter()
                .filter(|c| c.0 == Rank::Registry)
                .map(|c| c.2.as_str())
                .collect()
        } else {
            vec![claimants[0].2.as_str()]
        };
        winners.dedup();
        for id in winners {
            let row = rows.get_mut(id).expect("claimant is a row");
            match kind {
                0 => push_unique(&mut row.extensions, &key),
                1 => push_unique(&mut row.file_names, &key),
                2 => push_unique(&mut row.interpreters, &key),
                _ => {
                    if names.get(&key).is_none_or(|owner| owner == id) {
                        push_unique(&mut row.aliases, &key);
                    }
                }
            }
        }
    }

    let mut out = String::from(
        "# The cst language catalogue: every language a tree-sitter grammar is known for.\n\
         # Generated by `cargo xtask catalogue --from DIR` from linguist-languages 9.5.0 (MIT),\n\
         # tree-sitter-language-pack 1.23.1 `language_definitions.json` (MIT) and the cst-grammars\n\
         # registry; see README.md beside this file. Do not edit by hand.\n\
         # Columns (tab-separated; lists comma-separated, possibly empty):\n\
         # id\tname\taliases\tsymbol\textensions\tfile_names\tinterpreters\tsources\n",
    );
    for row in rows.values() {
        let reg = row.registry.map(|i| &registry[i]);
        let lang = row.linguist.map(|(li, _)| &languages[li]);
        // Lists keep the sources' order (registry, pack, Linguist); anything
        // else a row won follows in sorted order.
        let order = |won: &[String], preferred: Vec<String>| -> Vec<String> {
            let mut list = Vec::new();
            for p in preferred.iter().chain(won) {
                if won.contains(p) {
                    push_unique(&mut list, p);
                }
            }
            list
        };
        let mut ext_pref: Vec<String> = row_pack_and_registry_extensions(row, pack, reg);
        ext_pref.extend(lang.into_iter().flat_map(|l| {
            l.extensions
                .iter()
                .map(|e| e.trim_start_matches('.').to_owned())
        }));
        let extensions = order(&row.extensions, ext_pref);
        let mut fn_pref: Vec<String> = reg
            .map(|g| g.file_names().iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        fn_pref.extend(lang.into_iter().flat_map(|l| l.filenames.clone()));
        let file_names = order(&row.file_names, fn_pref);
        let mut in_pref: Vec<String> = reg
            .map(|g| g.interpreters().iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        in_pref.extend(lang.into_iter().flat_map(|l| l.interpreters.clone()));
        let interpreters = order(&row.interpreters, in_pref);
        let mut aliases = row.aliases.clone();
        aliases.sort();
        aliases.retain(|a| *a != row.id && *a != row.name.to_lowercase());

        let mut sources = Vec::new();
        if row.registry.is_some() {
            sources.push("cst".to_owned());
        }
        if row.pack_key.is_some() {
            sources.push("ts-pack".to_owned());
        }
        if let Some(l) = lang {
            sources.push(format!("linguist:{}", l.name));
        }
        let fields = [
            row.id.clone(),
            row.name.clone(),
            aliases.join(","),
            row.symbol.clone(),
            extensions.join(","),
            file_names.join(","),
            interpreters.join(","),
            sources.join(","),
        ];
        for (i, f) in fields.iter().enumerate() {
            ensure!(
                !f.contains(['\t', '\n', '\r']),
                "row `{}`: field {i} holds a tab or newline",
                row.id
            );
        }
        for list in [&aliases, &extensions, &file_names, &interpreters] {
            for item in list {
                ensure!(
                    !item.is_empty() && !item.contains(','),
                    "row `{}`: list item `{item}` is empty or holds a comma",
                    row.id
                );
            }
        }
        ensure!(
            row.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "id `{}` is not [a-z0-9_]",
            row.id
        );
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    Ok(out)
}

/// The registry's extensions, then the language pack's, without duplicates.
fn row_pack_and_registry_extensions(
    row: &Row,
    pack: &serde_json::Map<String, Value>,
    reg: Option<&cst_grammars::Grammar>,
) -> Vec<String> {
    let mut exts: Vec<String> = Vec::new();
    for e in reg.into_iter().flat_map(|g| g.extensions()) {
        push_unique(&mut exts, e);
    }
    if let Some(key) = &row.pack_key {
        for e in pack[key]["extensions"].as_array().into_iter().flatten() {
            push_unique(&mut exts, e.as_str().unwrap_or(""));
        }
    }
    exts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_linguist_modules() {
        let l = parse_linguist(
            "export default {\n  name: \"Ren'Py\",\n  type: 'programming',\n  extensions: [\n    '.rpy',\n  ],\n  \
             languageId: 1, wrap: true,\n  aliases: ['renpy'],\n  interpreters: ['python'],\n}\n",
        )
        .unwrap();
        assert_eq!(l.name, "Ren'Py");
        assert_eq!(l.extensions, [".rpy"]);
        assert_eq!(l.aliases, ["renpy"]);
        assert_eq!(l.interpreters, ["python"]);
        assert!(l.filenames.is_empty());
        assert!(parse_linguist("export default { name: 'x', extensions: [1] }").is_err());
        assert!(parse_linguist("module.exports = {}").is_err());
        assert!(parse_linguist("export default { name: 'x' } trailing").is_err());
        assert!(parse_linguist("export default { name: 'unterminated }").is_err());
    }

    #[test]
    fn normalises_names() {
        assert_eq!(norm("C#"), "csharp");
        assert_eq!(norm("C++"), "cpp");
        assert_eq!(norm("Emacs Lisp"), "emacslisp");
        assert_eq!(norm("c_sharp"), "csharp");
    }
}
