//! `cst verify`: every stored tree against a fresh parse, node by node;
//! exit 1 on a mismatch or when the store lost data.

use cst_workspace::discover::Access;

use crate::Failure;
use crate::flags::{Cli, VerifyArgs};
use crate::session;

pub(crate) fn run(cli: &Cli, args: &VerifyArgs) -> Result<u8, Failure> {
    let cache = session::open(cli, &args.dir, Access::Read)?;
    let opened = cache.open_report();
    for line in opened.lines() {
        outln!("{line}");
    }
    let r = cache.verify_all()?;
    for (path, m) in &r.mismatches {
        outln!("MISMATCH {}: {m}", path.display());
    }
    for path in &r.missing {
        outln!("MISSING {}", path.display());
    }
    // Records that failed their checksum when read (a damaged tree is
    // parsed again, but it was lost).
    let damaged = cache.stats().tiers[3].checksum_failures;
    if damaged > 0 {
        outln!("store: {damaged} records failed their checksum when read");
    }
    outln!(
        "{} files, {} nodes, {} mismatches, {} missing",
        r.files,
        r.nodes,
        r.mismatches.len(),
        r.missing.len()
    );
    let lost = opened.lost_data() || damaged > 0;
    if lost {
        outln!("the store lost data: re-index to restore it (`cst index`)");
    }
    session::done_reading(cache);
    Ok(if r.mismatches.is_empty() && !lost {
        0
    } else {
        1
    })
}
