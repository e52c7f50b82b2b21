//! `cst outline FILE` (and `cst show --outline`): a file's definitions,
//! nested, from its tags and tree.

use std::io::Write;
use std::path::Path;

use cst_workspace::answers::{OutlineItemOut, OutlineOut};
use cst_workspace::discover;

use crate::Failure;
use crate::flags::Cli;
use crate::output::shown;
use crate::session;

pub(crate) fn run(cli: &Cli, file: &Path, as_json: bool) -> Result<u8, Failure> {
    let file = session::canonical(file)?;
    let sel = session::select(cli, std::slice::from_ref(&file), false)?;
    let cache = &sel.cache;
    let tree = discover::fresh_tree(cache, &file)?;
    let language = tree.language();
    let items = match cache.tags_for(tree) {
        Ok(t) => t.outline(),
        Err(cst::Error::NoTagsQuery(id)) => {
            return Err(Failure {
                code: 1,
                error: anyhow::anyhow!("{}: no tags query for {id}", file.display()),
            });
        }
        Err(e) => return Err(e.into()),
    };
    cache.flush()?;
    let outline = OutlineOut {
        path: shown(&file, &sel.base),
        language: language.id(),
        items: OutlineItemOut::list(&items),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if as_json {
        let text = serde_json::to_string_pretty(&outline).expect("JSON");
        writeln!(out, "{text}")?;
    } else {
        // `kind name  first-last`, indented by depth; a stack, not
        // recursion (outlines can nest deeply).
        let mut stack: Vec<(usize, &OutlineItemOut)> =
            outline.items.iter().rev().map(|it| (0, it)).collect();
        while let Some((depth, it)) = stack.pop() {
            writeln!(
                out,
                "{}{} {}  {}-{}",
                "  ".repeat(depth),
                it.kind,
                it.name,
                it.start.line,
                it.end.line
            )?;
            stack.extend(it.children.iter().rev().map(|c| (depth + 1, c)));
        }
    }
    out.flush()?;
    Ok(0)
}
