//! The symbol index and the repo-map ranker of a workspace, kept between
//! calls and brought up to date with the workspace's generation: built on
//! the first call that needs them, refreshed (only the files that changed
//! are read again) when the generation moved.

use cst_symbols::{Ranker, SymbolIndex};
use cst_workspace::Workspace;
use parking_lot::Mutex;

/// How long a call waits for the workspace's first index.
const FIRST_INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The index and ranker, with the generation they reflect.
#[derive(Default)]
pub(crate) struct Symbols {
    state: Mutex<Option<State>>,
}

struct State {
    index: SymbolIndex,
    ranker: Ranker,
    generation: u64,
}

impl Symbols {
    /// Runs `f` on the index and ranker, current as of now. Waits (a
    /// while) for the workspace's first index: before it, the index would
    /// miss most of the workspace.
    pub(crate) fn with<T>(
        &self,
        ws: &Workspace,
        f: impl FnOnce(&SymbolIndex, &mut Ranker) -> T,
    ) -> Result<T, String> {
        if !ws.wait_ready(FIRST_INDEX_WAIT) {
            let st = ws.status();
            return Err(format!(
                "the workspace's first index is still running ({} of {} files); call again soon",
                st.progress[0], st.progress[1]
            ));
        }
        let mut state = self.state.lock();
        let generation = ws.generation();
        match state.as_mut() {
            Some(s) if s.generation == generation => {}
            Some(s) => {
                s.index.refresh(ws).map_err(|e| e.to_string())?;
                s.generation = generation;
            }
            None => {
                *state = Some(State {
                    index: SymbolIndex::build(ws).map_err(|e| e.to_string())?,
                    ranker: Ranker::new(),
                    generation,
                });
            }
        }
        let s = state.as_mut().expect("set above");
        Ok(f(&s.index, &mut s.ranker))
    }
}
