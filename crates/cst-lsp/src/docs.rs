//! The documents the client has open, as the main loop keeps them.
//!
//! A document opened with exactly the text the store holds for its path is
//! answered from the stored tree (nothing is parsed on the request path);
//! its workspace buffer is opened in the background, and joined before
//! the first change is applied. Any other document gets its buffer at once.
//! Paths outside the workspace root are served as buffers too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread::JoinHandle;

use cst_workspace::cst::grammars::{self, Grammar};
use cst_workspace::{Change, Encoding, LineIndex, Workspace};
use lsp_types::DocumentSymbol;
use parking_lot::Mutex;

use crate::syntax::{Snapshot, Tree};

/// The version of a closed document (no request made against it is
/// current any more).
pub(crate) const CLOSED: i32 = i32::MIN;

/// The last semantic tokens answered for a document: result id and data.
pub(crate) type LastTokens = Mutex<Option<(String, Arc<Vec<u32>>)>>;

/// One version's outline, computed once (by a warm-up or the first
/// request; others wait on the lock).
pub(crate) type OutlineSlot = Mutex<Option<(i32, Arc<Vec<DocumentSymbol>>)>>;

enum BufferState {
    Open,
    Pending(JoinHandle<Result<(), cst_workspace::Error>>),
}

/// An open document.
pub(crate) struct Doc {
    pub(crate) path: PathBuf,
    pub(crate) snapshot: Arc<Snapshot>,
    /// The current version, read by workers to drop stale answers.
    pub(crate) current: Arc<AtomicI32>,
    pub(crate) tokens: Arc<LastTokens>,
    pub(crate) outline: Arc<OutlineSlot>,
    buffer: Option<BufferState>,
}

/// The language of a document: detected from its path and text, else the
/// client's language id.
pub(crate) fn language_of(path: &Path, text: &[u8], language_id: &str) -> Option<&'static Grammar> {
    grammars::detect(path, &text[..text.len().min(8192)])
        .or_else(|| grammars::by_id(language_id))
        .or_else(|| grammars::by_name(language_id))
        .filter(|g| g.is_compiled())
}

/// A snapshot of the open buffer of `path` at `version`.
///
/// The buffer's tree is tree-sitter's incremental reparse. Where the text
/// has syntax errors, error recovery can make it differ from a fresh parse
/// of the same text; answers must be a fresh parse's, so a tree with an
/// error is parsed again from scratch (an error-free one is used as is).
fn live_snapshot(ws: &Workspace, path: &Path, version: i32) -> Result<Snapshot, String> {
    let mut snap = ws
        .with_buffer(path, |b| Snapshot {
            version,
            text: b.text().clone(),
            lines: Arc::new(b.lines().clone()),
            grammar: b.language(),
            tree: Tree::Live(b.tree().live().clone()),
        })
        .ok_or_else(|| format!("{}: no open buffer", path.display()))?;
    if let Tree::Live(t) = &snap.tree
        && t.root_node().has_error()
    {
        let fresh = snap
            .grammar
            .parser()
            .map_err(|e| e.to_string())?
            .parse(&snap.text[..], None)
            .ok_or_else(|| format!("{}: the parse failed", path.display()))?;
        snap.tree = Tree::Live(fresh);
    }
    Ok(snap)
}

impl Doc {
    /// Opens a document (see the module documentation).
    pub(crate) fn open(
        ws: &Workspace,
        path: PathBuf,
        text: String,
        version: i32,
        language_id: &str,
    ) -> Result<Doc, String> {
        let grammar = language_of(&path, text.as_bytes(), language_id)
            .ok_or_else(|| format!("{}: no language for it in this build", path.display()))?;
        let stored =
            ws.cache().get(&path).ok().flatten().filter(|t| {
                t.source() == Some(text.as_bytes()) && t.language().id() == grammar.id()
            });
        let (snapshot, buffer) = match stored {
            Some(tree) => {
                let text_arc: Arc<[u8]> = Arc::from(text.as_bytes());
                let snapshot = Snapshot {
                    version,
                    lines: Arc::new(LineIndex::new(&text_arc)),
                    text: text_arc,
                    grammar,
                    tree: Tree::Stored(Box::new(tree)),
                };
                let (ws, p) = (ws.clone(), path.clone());
                let handle = std::thread::Builder::new()
                    .name("cst-lsp-open".into())
                    .spawn(move || {
                        ws.open_buffer(&p, text, Some(version as i64), Some(grammar.id()))
                            .map(|_| ())
                    })
                    .map_err(|e| e.to_string())?;
                (snapshot, BufferState::Pending(handle))
            }
            None => {
                ws.open_buffer(&path, text, Some(version as i64), Some(grammar.id()))
                    .map_err(|e| e.to_string())?;
                (live_snapshot(ws, &path, version)?, BufferState::Open)
            }
        };
        Ok(Doc {
            path,
            snapshot: Arc::new(snapshot),
            current: Arc::new(AtomicI32::new(version)),
            tokens: Arc::default(),
            outline: Arc::default(),
            buffer: Some(buffer),
        })
    }

    /// Waits for the buffer opened in the background.
    fn join_buffer(&mut self) -> Result<(), String> {
        match self.buffer.take() {
            Some(BufferState::Pending(h)) => {
                let r = h
                    .join()
                    .map_err(|_| "opening the buffer panicked".to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()));
                self.buffer = Some(BufferState::Open);
                r
            }
            other => {
                self.buffer = other;
                Ok(())
            }
        }
    }

    /// Applies the client's changes, in order, as version `version`.
    pub(crate) fn change(
        &mut self,
        ws: &Workspace,
        changes: &[Change],
        encoding: Encoding,
        version: i32,
    ) -> Result<(), String> {
        // A refused change (all or nothing) leaves the document as it was.
        self.join_buffer()?;
        ws.edit_buffer(&self.path, changes, encoding, Some(version as i64))
            .map_err(|e| e.to_string())?;
        self.snapshot = Arc::new(live_snapshot(ws, &self.path, version)?);
        // Answers being computed for the old version are stale from now.
        self.current.store(version, Ordering::Release);
        Ok(())
    }

    /// Closes the document's buffer.
    pub(crate) fn close(mut self, ws: &Workspace) -> Result<(), String> {
        self.current.store(CLOSED, Ordering::Release);
        self.join_buffer()?;
        ws.close(&self.path).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// A snapshot of a file no client has open: the stored tree (the file
/// indexed first when needed), version 0.
pub(crate) fn stored_snapshot(ws: &Workspace, path: &Path) -> Result<Snapshot, String> {
    let file = ws.file_at(path).map_err(|e| e.to_string())?;
    let text: Arc<[u8]> = Arc::from(file.tree.source().unwrap_or_default());
    Ok(Snapshot {
        version: 0,
        lines: Arc::new(LineIndex::new(&text)),
        text,
        grammar: file.tree.language(),
        tree: Tree::Stored(Box::new(file.tree)),
    })
}
