//! `cst chunks`: AST-aware chunks of the stored trees, for retrieval.

use std::io::Write;

use cst::tags::{ChunkOptions, Unit};
use cst_workspace::answers::ChunkOut;

use crate::Failure;
use crate::flags::{ChunksArgs, Cli};
use crate::output::{json_line, shown};
use crate::session;

pub(crate) fn run(cli: &Cli, args: &ChunksArgs) -> Result<u8, Failure> {
    let unit = args.unit.parse().map_err(Failure::usage::<String>)?;
    let options = ChunkOptions {
        max: args.max,
        unit,
        overlap_lines: args.overlap_lines,
    };
    let sel = session::select(cli, &args.paths, args.index)?;
    let cache = &sel.cache;
    let results = cache.par_map(&sel.files, |_, tree| {
        let chunks = cache.chunks_for(&tree, &options)?;
        Ok((tree, chunks))
    });
    cache.flush()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut files, mut total) = (0usize, 0usize);
    for (path, r) in sel.files.iter().zip(results) {
        let (tree, list) = match r {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(cst::Error::Chunk(e)) => return Err(Failure::usage(e)),
            Err(e) => {
                eprintln!("cst: {}: {e}", path.display());
                continue;
            }
        };
        files += 1;
        total += list.len();
        let shown = shown(path, &sel.base);
        let source = tree.source().unwrap_or_default();
        for c in &list {
            if args.json {
                json_line(&mut out, &ChunkOut::of(&shown, tree.language(), c, source))?;
            } else {
                // Read from the chunk itself: a `ChunkOut` would copy its
                // text for nothing.
                let (first, last) = c.lines();
                writeln!(
                    out,
                    "{shown}:{first}-{last}\t{}\t{} {}{}\t{}",
                    c.id,
                    c.size,
                    unit_name(options.unit),
                    if c.oversized { " (oversized)" } else { "" },
                    c.symbol_path_string()
                )?;
            }
        }
    }
    out.flush()?;
    if !args.json {
        eprintln!("{total} chunks in {files} files");
    }
    Ok(0)
}

fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Bytes => "bytes",
        Unit::NonWhitespace => "nws",
        #[allow(unreachable_patterns)]
        _ => "tokens",
    }
}
