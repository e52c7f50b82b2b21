//! `cst languages`: the grammars of the registry, as a table or JSON.

use std::io::Write;

use cst::grammars::{self, Grammar, catalogue};
use serde::Serialize;

use crate::Failure;
use crate::flags::LanguagesArgs;

/// One language of `cst languages --json`: every catalogue entry, and every
/// grammar of the registry the catalogue does not name.
#[derive(Serialize)]
struct LanguageOut {
    id: &'static str,
    name: &'static str,
    /// Where the grammar comes from: `builtin` (compiled in), `loaded` (at
    /// run time), or null when this binary has none.
    grammar: Option<&'static str>,
    /// `Language`, `SubGrammar` or `Injection` (registry grammars only).
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(rename = "crate", skip_serializing_if = "str::is_empty")]
    krate: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    version: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    license: &'static str,
    compiled: bool,
    extensions: Vec<&'static str>,
    file_names: Vec<&'static str>,
    interpreters: Vec<&'static str>,
    aliases: Vec<&'static str>,
}

fn origin(g: &Grammar) -> Option<&'static str> {
    match g.origin() {
        _ if !g.is_available() => None,
        grammars::Origin::Builtin => Some("builtin"),
        grammars::Origin::Loaded { .. } => Some("loaded"),
    }
}

impl LanguageOut {
    fn of(g: &'static Grammar) -> LanguageOut {
        LanguageOut {
            id: g.id(),
            name: g.name(),
            grammar: origin(g),
            role: Some(format!("{:?}", g.role())),
            krate: g.crate_name(),
            version: g.crate_version(),
            license: g.license(),
            compiled: g.is_compiled(),
            extensions: g.extensions().to_vec(),
            file_names: g.file_names().to_vec(),
            interpreters: g.interpreters().to_vec(),
            aliases: g.aliases().to_vec(),
        }
    }

    fn of_entry(e: &'static catalogue::Entry) -> LanguageOut {
        match grammars::by_id(e.id()).filter(|g| g.is_available()) {
            Some(g) => LanguageOut::of(g),
            None => LanguageOut {
                id: e.id(),
                name: e.name(),
                grammar: None,
                role: None,
                krate: "",
                version: "",
                license: "",
                compiled: false,
                extensions: e.extensions().to_vec(),
                file_names: e.file_names().to_vec(),
                interpreters: e.interpreters().to_vec(),
                aliases: e.aliases().to_vec(),
            },
        }
    }
}

/// Every row: the catalogue in its order, then registry grammars it lacks
/// (the table's, then the loaded ones).
fn rows() -> Vec<LanguageOut> {
    let mut rows: Vec<LanguageOut> = catalogue::entries()
        .iter()
        .map(LanguageOut::of_entry)
        .collect();
    let listed: std::collections::HashSet<&str> = rows.iter().map(|r| r.id).collect();
    let extra: Vec<&'static Grammar> = grammars::all()
        .iter()
        .chain(grammars::loaded())
        .filter(|g| !listed.contains(g.id()))
        .filter(|g| grammars::by_id(g.id()).is_some_and(|b| std::ptr::eq(b, *g)))
        .collect();
    rows.extend(extra.into_iter().map(LanguageOut::of));
    rows
}

pub(crate) fn run(args: &LanguagesArgs) -> Result<u8, Failure> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let rows: Vec<LanguageOut> = rows()
        .into_iter()
        .filter(|r| args.json || args.all || r.grammar.is_some())
        .collect();
    if args.json {
        let text = serde_json::to_string_pretty(&rows).expect("JSON");
        writeln!(out, "{text}")?;
    } else {
        writeln!(
            out,
            "{:<18} {:<30} {:<8} {:<36} extensions",
            "id", "name", "grammar", "crate"
        )?;
        for r in &rows {
            let krate = if r.krate.is_empty() {
                String::new()
            } else {
                format!("{}@{}", r.krate, r.version)
            };
            writeln!(
                out,
                "{:<18} {:<30} {:<8} {:<36} {}",
                r.id,
                r.name,
                r.grammar.unwrap_or("-"),
                krate,
                r.extensions.join(" ")
            )?;
        }
        let available = rows.iter().filter(|r| r.grammar.is_some()).count();
        writeln!(out, "{} languages, {available} with a grammar", rows.len())?;
    }
    out.flush()?;
    Ok(0)
}
