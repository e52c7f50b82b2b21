//! `cst gc`: drop stored trees no file refers to and compact the store.

use cst_workspace::discover::Access;

use crate::Failure;
use crate::flags::{Cli, GcArgs};
use crate::session;

pub(crate) fn run(cli: &Cli, args: &GcArgs) -> Result<u8, Failure> {
    // A server writes this cache: it collects, on our behalf.
    let root = session::canonical(&args.dir)?;
    let cache_dir = session::open_options(cli, Access::Write).cache_dir_of(&root);
    if let Some(server) = super::serve::running_server(&cache_dir) {
        let v = super::serve::ask(&server, "/v1/gc")?;
        outln!(
            "removed {} unreferenced records, reclaimed {} bytes (by the server at {})",
            v["removed"],
            v["reclaimed_bytes"],
            server.addr
        );
        return Ok(0);
    }
    let cache = session::open(cli, &args.dir, Access::Write)?;
    let gc = cache.gc()?;
    let (removed, reclaimed) = (gc.removed, gc.reclaimed_bytes);
    outln!("removed {removed} unreferenced records, reclaimed {reclaimed} bytes");
    Ok(0)
}
