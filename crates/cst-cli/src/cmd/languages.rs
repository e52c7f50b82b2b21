//! `cst languages`: the grammars of the registry, as a table or JSON.

use std::io::Write;

use cst::grammars::{self, Grammar};
use serde::Serialize;

use crate::Failure;
use crate::flags::LanguagesArgs;

/// One language of `cst languages --json`.
#[derive(Serialize)]
struct LanguageOut {
    id: &'static str,
    name: &'static str,
    /// `Language`, `SubGrammar` or `Injection`.
    role: String,
    #[serde(rename = "crate")]
    krate: &'static str,
    version: &'static str,
    license: &'static str,
    compiled: bool,
    extensions: &'static [&'static str],
    file_names: &'static [&'static str],
    interpreters: &'static [&'static str],
    aliases: &'static [&'static str],
}

impl LanguageOut {
    fn of(g: &Grammar) -> LanguageOut {
        LanguageOut {
            id: g.id(),
            name: g.name(),
            role: format!("{:?}", g.role()),
            krate: g.crate_name(),
            version: g.crate_version(),
            license: g.license(),
            compiled: g.is_compiled(),
            extensions: g.extensions(),
            file_names: g.file_names(),
            interpreters: g.interpreters(),
            aliases: g.aliases(),
        }
    }
}

pub(crate) fn run(args: &LanguagesArgs) -> Result<u8, Failure> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let list: Vec<&Grammar> = grammars::all()
        .iter()
        .filter(|g| args.all || g.is_compiled())
        .collect();
    if args.json {
        let rows: Vec<LanguageOut> = list.iter().map(|g| LanguageOut::of(g)).collect();
        let text = serde_json::to_string_pretty(&rows).expect("JSON");
        writeln!(out, "{text}")?;
    } else {
        writeln!(
            out,
            "{:<18} {:<30} {:<36} extensions",
            "id", "name", "crate"
        )?;
        for g in &list {
            let krate = format!("{}@{}", g.crate_name(), g.crate_version());
            writeln!(
                out,
                "{:<18} {:<30} {:<36} {}",
                g.id(),
                g.name(),
                krate,
                g.extensions().join(" ")
            )?;
        }
        writeln!(out, "{} languages", list.len())?;
    }
    out.flush()?;
    Ok(0)
}
