//! An index and ranker kept between requests and brought up to date with
//! the workspace's generation: built on the first request that needs them,
//! refreshed (only changed files read again) when the generation moved.
//! What a long-running server (LSP, MCP) holds.

use std::sync::Mutex;
use std::time::Duration;

use cst_workspace::Workspace;

use crate::{Error, Ranker, SymbolIndex};

/// How long a request waits for the workspace's first index: before it,
/// the index would miss most of the workspace.
const FIRST_INDEX_WAIT: Duration = Duration::from_secs(30);

/// A [`SymbolIndex`] and [`Ranker`] current with a workspace (see the
/// module documentation). Shared by threads; one request at a time uses it.
#[derive(Default)]
pub struct LiveIndex {
    state: Mutex<Option<State>>,
}

struct State {
    index: SymbolIndex,
    ranker: Ranker,
    generation: u64,
}

impl std::fmt::Debug for LiveIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveIndex").finish_non_exhaustive()
    }
}

impl LiveIndex {
    /// Runs `f` on the index and ranker, current as of now. Waits (a
    /// while) for the workspace's first index; [`Error::NotReady`] if it
    /// is still running then.
    pub fn with<T>(
        &self,
        ws: &Workspace,
        f: impl FnOnce(&SymbolIndex, &mut Ranker) -> T,
    ) -> Result<T, Error> {
        if !ws.wait_ready(FIRST_INDEX_WAIT) {
            let st = ws.status();
            return Err(Error::NotReady {
                done: st.progress[0],
                total: st.progress[1],
            });
        }
        // A panic of another request leaves nothing half-updated that
        // matters: the generation is written after the refresh.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let generation = ws.generation();
        let s = match state.take() {
            Some(mut s) if s.generation != generation => {
                s.index.refresh(ws)?;
                s.generation = generation;
                s
            }
            Some(s) => s,
            None => State {
                index: SymbolIndex::build(ws)?,
                ranker: Ranker::new(),
                generation,
            },
        };
        let s = state.insert(s);
        Ok(f(&s.index, &mut s.ranker))
    }
}
