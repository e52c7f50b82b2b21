//! The documents the client has open, as the main loop keeps them.
//!
//! A document opened with exactly the text the store holds for its path is
//! answered from the stored tree: nothing is parsed, on the request path or
//! beside it. Its workspace buffer (a live tree for incremental edits) is
//! opened at its first change, with that change applied (one fresh parse
//! of the new text); until then the workspace sees the stored file, which
//! has the same text. Any other document gets its buffer at
//! once. Paths outside the workspace root are served as buffers too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

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
    /// Not opened yet: the text the client opened, equal to the stored
    /// one.
    Deferred(String),
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
        .filter(|g| g.is_available())
}

/// A snapshot of the open buffer of `path` at `version`.
///
/// The buffer's tree is tree-sitter's incremental reparse. Where the text
/// has syntax errors, error recovery can make it differ from a fresh parse
/// of the same text; answers must be a fresh parse's, so a tree with an
/// error is parsed again from scratch (an error-free one is used as is).
fn live_snapshot(ws: &Workspace, path: &Path, version: i32) -> Result<Snapshot, String> {
    ws.with_buffer(path, |b| -> Result<Snapshot, String> {
        let live = b.tree().live();
        // The buffer's fresh parse (made once per version, and shared with
        // the encoded view the outline reads) where error recovery ran.
        let tree = if live.root_node().has_error() {
            b.tree().fresh().map_err(|e| e.to_string())?.clone()
        } else {
            live.clone()
        };
        Ok(Snapshot {
            version,
            text: b.text().clone(),
            lines: Arc::new(b.lines().clone()),
            grammar: b.language(),
            tree: Tree::Live(tree),
        })
    })
    .ok_or_else(|| format!("{}: no open buffer", path.display()))?
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
                (snapshot, BufferState::Deferred(text))
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

    /// Opens the workspace buffer of a document opened with the stored
    /// text, with its first `changes` applied: one fresh parse of the new
    /// text (no parse of the old one, no incremental reparse). `false`:
    /// the buffer was open already.
    fn open_deferred(
        &mut self,
        ws: &Workspace,
        changes: &[Change],
        encoding: Encoding,
        version: i32,
    ) -> Result<bool, String> {
        let Some(BufferState::Deferred(text)) = &self.buffer else {
            return Ok(false);
        };
        let new = cst_workspace::apply_changes(text.as_bytes(), changes, encoding)
            .map_err(|e| e.to_string())?;
        let new = String::from_utf8(new).map_err(|e| e.to_string())?;
        let grammar = self.snapshot.grammar;
        ws.open_buffer(&self.path, new, Some(version as i64), Some(grammar.id()))
            .map_err(|e| e.to_string())?;
        self.buffer = Some(BufferState::Open);
        Ok(true)
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
        if !self.open_deferred(ws, changes, encoding, version)? {
            ws.edit_buffer(&self.path, changes, encoding, Some(version as i64))
                .map_err(|e| e.to_string())?;
        }
        self.snapshot = Arc::new(live_snapshot(ws, &self.path, version)?);
        // Answers being computed for the old version are stale from now.
        self.current.store(version, Ordering::Release);
        Ok(())
    }

    /// Closes the document's buffer.
    pub(crate) fn close(self, ws: &Workspace) -> Result<(), String> {
        self.current.store(CLOSED, Ordering::Release);
        let closed = match self.buffer {
            // Never opened in the workspace: nothing to close.
            Some(BufferState::Deferred(_)) => Ok(()),
            _ => ws.close(&self.path).map(|_| ()).map_err(|e| e.to_string()),
        };
        // A large file's trees are freed off the main loop.
        cst_workspace::drop_trees_of(self.snapshot.text.len(), self);
        closed
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
