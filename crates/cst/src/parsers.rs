//! Parsers kept for reuse per language: making one (`ts_parser_new` and
//! setting its language) is a visible part of a one-keystroke
//! `Cache::edit`, which otherwise costs little more than tree-sitter's own
//! incremental reparse.

use cst_grammars::Grammar;
use parking_lot::Mutex;
use rustc_hash::FxHashMap;

use crate::Error;

/// Most idle parsers kept per language.
const KEEP: usize = 4;

/// Idle parsers by language id.
#[derive(Default)]
pub(crate) struct Parsers(Mutex<FxHashMap<&'static str, Vec<tree_sitter::Parser>>>);

impl Parsers {
    /// Runs `f` with a parser of `g` (an idle one, or a new one), and keeps
    /// it for the next caller.
    pub(crate) fn with<T>(
        &self,
        g: &'static Grammar,
        f: impl FnOnce(&mut tree_sitter::Parser) -> T,
    ) -> Result<T, Error> {
        let idle = self.0.lock().get_mut(g.id()).and_then(Vec::pop);
        let mut parser = match idle {
            Some(p) => p,
            None => g.parser()?,
        };
        let out = f(&mut parser);
        // A parse that ran to its end leaves the parser ready for the next.
        let mut idle = self.0.lock();
        let list = idle.entry(g.id()).or_default();
        if list.len() < KEEP {
            list.push(parser);
        }
        Ok(out)
    }
}
