//! `cst tags`: definitions and references from the stored trees, computed
//! in parallel (and kept), as text, JSON lines or a ctags file.

use std::io::Write;
use std::path::Path;

use cst::FileTags;
use cst_workspace::answers::TagOut;

use crate::Failure;
use crate::flags::{Cli, TagsArgs};
use crate::output::{json_line, line_at, one_line, shown};
use crate::session::{self, Selection};

/// How `cst tags` prints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Ctags,
}

pub(crate) fn run(cli: &Cli, args: &TagsArgs) -> Result<u8, Failure> {
    let format = if args.ctags {
        Format::Ctags
    } else if args.json {
        Format::Json
    } else {
        Format::Text
    };
    let definitions_only = if args.ctags {
        !args.references
    } else {
        args.definitions
    };
    let sel = session::select(cli, &args.paths, args.index)?;
    if format == Format::Ctags {
        return ctags(sel, args.output.as_deref(), definitions_only);
    }
    let cache = &sel.cache;
    // Stored tags are read with the source only; others are computed from
    // the stored tree (and kept for next time).
    let results = cache.par_each(&sel.files, |path| match cache.tags(path) {
        Err(cst::Error::NoTagsQuery(_)) => Ok(None),
        other => other,
    });
    let mut skipped = 0usize;
    let mut rows: Vec<(&Path, FileTags)> = Vec::new();
    for (path, r) in sel.files.iter().zip(results) {
        match r {
            Ok(Some(t)) => rows.push((path, t)),
            Ok(None) => skipped += 1,
            Err(e) => {
                eprintln!("cst: {}: {e}", path.display());
                skipped += 1;
            }
        }
    }
    // Keep the tags computed on the way (the next run reads them back).
    cache.flush()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut count = 0usize;
    for (path, ft) in &rows {
        let shown = shown(path, &sel.base);
        let source = ft.source();
        for t in ft.tags() {
            if definitions_only && !t.is_definition {
                continue;
            }
            count += 1;
            if format == Format::Json {
                json_line(&mut out, &TagOut::of(&shown, ft, t))?;
            } else {
                // One line per tag: a name spanning lines is escaped. (Read
                // from the tag itself: a `TagOut` would copy its line and
                // docs for nothing.)
                writeln!(
                    out,
                    "{shown}:{}:{}: {} {} {}",
                    t.span.start.row + 1,
                    t.span.start.column + 1,
                    if t.is_definition { "def" } else { "ref" },
                    ft.kind(t),
                    one_line(&t.name(source))
                )?;
            }
        }
    }
    out.flush()?;
    if format == Format::Text {
        eprintln!(
            "{count} tags in {} files ({skipped} files without a tags query)",
            rows.len()
        );
    }
    drop(rows);
    session::finish(sel.cache)?;
    Ok(0)
}

/// `cst tags --ctags`: a ctags-format (extended format 2) `tags` file,
/// sorted by name as Universal Ctags sorts it (`LC_ALL=C`), with paths
/// relative to the file's directory. Each file's lines are made on the
/// worker that read its tags, and its source is let go at once.
fn ctags(sel: Selection, output: Option<&Path>, definitions_only: bool) -> Result<u8, Failure> {
    let target = output.unwrap_or(Path::new("tags"));
    let to_stdout = target == Path::new("-");
    let base = if to_stdout {
        std::env::current_dir()?
    } else {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        session::canonical(parent)?
    };
    let cache = &sel.cache;
    let results = cache.par_each(&sel.files, |path| match cache.tags(path) {
        Ok(Some(ft)) => Ok(ctags_lines(&shown(path, &base), &ft, definitions_only)),
        Ok(None) | Err(cst::Error::NoTagsQuery(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    });
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for (path, r) in sel.files.iter().zip(results) {
        match r {
            Ok(l) => lines.extend(l),
            Err(e) => eprintln!("cst: {}: {e}", path.display()),
        }
    }
    let n = write_ctags(lines, target)?;
    if !to_stdout {
        eprintln!("wrote {n} tags to {}", target.display());
    }
    // Keeps the tags computed on the way (the next run reads them back).
    session::finish(sel.cache)?;
    Ok(0)
}

/// The ctags lines of one file's tags (`file` as the tags file names it).
fn ctags_lines(file: &str, ft: &FileTags, definitions_only: bool) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let source = ft.source();
    for t in ft.tags() {
        // Editors jump to definitions; references are kept with
        // `--references`.
        if definitions_only && !t.is_definition {
            continue;
        }
        let name = &source[t.name_range.clone()];
        if name.is_empty() || name.iter().any(|&b| b == b'\t' || b == b'\n') {
            continue;
        }
        let mut line = Vec::new();
        line.extend_from_slice(name);
        line.push(b'\t');
        line.extend_from_slice(file.as_bytes());
        line.extend_from_slice(b"\t/^");
        // The whole source line, as a search pattern (`\` and `/`
        // escaped); cut at 256 bytes without the `$` anchor.
        let full = line_at(source, t.name_range.start, t.span.start.column);
        let full = full.strip_suffix(b"\r").unwrap_or(full);
        let cut = full.len() > 256;
        for &b in &full[..full.len().min(256)] {
            if b == b'\\' || b == b'/' {
                line.push(b'\\');
            }
            line.push(b);
        }
        line.extend_from_slice(if cut { b"/;\"\t" } else { b"$/;\"\t" });
        line.extend_from_slice(ft.kind(t).as_bytes());
        line.extend_from_slice(format!("\tline:{}", t.span.start.row + 1).as_bytes());
        if !t.is_definition {
            line.extend_from_slice(b"\troles:ref");
        }
        line.extend_from_slice(format!("\tlanguage:{}", ft.language().id()).as_bytes());
        lines.push(line);
    }
    lines
}

/// Writes the sorted `lines` under the ctags header to `target` (`-`:
/// stdout), atomically for a file. Returns the number of tags.
fn write_ctags(mut lines: Vec<Vec<u8>>, target: &Path) -> Result<usize, Failure> {
    let to_stdout = target == Path::new("-");
    lines.sort();
    let mut buf: Vec<u8> = Vec::new();
    buf.extend_from_slice(
        b"!_TAG_FILE_FORMAT\t2\t/extended format; --format=1 will not append ;\" to lines/\n",
    );
    buf.extend_from_slice(b"!_TAG_FILE_SORTED\t1\t/0=unsorted, 1=sorted, 2=foldcase/\n");
    buf.extend_from_slice(b"!_TAG_PROGRAM_NAME\tcst\t//\n");
    buf.extend_from_slice(
        format!("!_TAG_PROGRAM_VERSION\t{}\t//\n", env!("CARGO_PKG_VERSION")).as_bytes(),
    );
    for l in &lines {
        buf.extend_from_slice(l);
        buf.push(b'\n');
    }
    if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(&buf)?;
        out.flush()?;
    } else {
        // Written beside, then renamed: an editor never reads half a file.
        let tmp = target.with_extension("cst-tmp");
        std::fs::write(&tmp, &buf).map_err(|e| anyhow::anyhow!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, target).map_err(|e| anyhow::anyhow!("{}: {e}", target.display()))?;
    }
    Ok(lines.len())
}
