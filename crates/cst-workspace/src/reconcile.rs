//! Keeping the store in step with the disk: the first index, the watcher's
//! batches (a few paths: each indexed on its own; a burst or a rescan: one
//! index run of the whole root), and the delayed flushes that let readers
//! beside the server see the changes.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, bounded, unbounded};

use crate::Error;
use crate::workspace::{RunSummary, Shared, Workspace, WorkspaceOptions};

/// More paths than this in one batch are reconciled by one run over the
/// whole root (which trusts unchanged files by their status) instead of
/// one run per path.
const MANY_PATHS: usize = 256;

/// Stops the reconcile thread and joins it when dropped.
pub(crate) struct ThreadGuard {
    shared: Arc<Shared>,
    stop: crossbeam::channel::Sender<()>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ThreadGuard {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.watcher.lock().take();
        let _ = self.stop.send(());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        if !self.shared.read_only
            && let Err(e) = self.shared.cache.flush()
        {
            tracing::warn!(error = %e, "flush on close failed");
        }
    }
}

/// Starts the reconcile thread: the first index (when asked), then the
/// watcher's batches until the workspace closes.
pub(crate) fn start(shared: Arc<Shared>, options: &WorkspaceOptions) -> Result<ThreadGuard, Error> {
    let (batches_tx, batches) = unbounded::<cst_watch::Batch>();
    let (stop_tx, stop) = bounded::<()>(1);
    // The watcher first: a change made while the first index runs is then
    // not missed (it is reconciled after).
    if options.watch {
        // Its batches pass through a thread that marks their paths stale at
        // once: answers say so (and a request for one reconciles it) while
        // the reconcile thread is busy with a whole run.
        let (raw_tx, raw) = unbounded::<cst_watch::Batch>();
        let w = cst_watch::Watcher::start(&shared.root, options.watch_options.clone(), raw_tx)
            .map_err(Error::Watch)?;
        *shared.watcher.lock() = Some(w);
        let s = shared.clone();
        std::thread::Builder::new()
            .name("cst-stale".into())
            .spawn(move || {
                // Ends when the watcher (its sender) is dropped.
                for batch in raw {
                    s.stale
                        .lock()
                        .extend(batch.changed.iter().chain(&batch.removed).cloned());
                    if batches_tx.send(batch).is_err() {
                        return;
                    }
                }
            })
            .map_err(|source| Error::Io {
                path: "<thread>".into(),
                source,
            })?;
    } else {
        drop(batches_tx);
    }
    let index_on_open = options.index_on_open;
    let before = options.before_index.clone();
    let reload = options.grammar_reload.clone();
    let s = shared.clone();
    let handle = std::thread::Builder::new()
        .name("cst-reconcile".into())
        .spawn(move || {
            run(
                &s,
                index_on_open,
                before.as_ref(),
                reload.as_ref(),
                &batches,
                &stop,
            )
        })
        .map_err(|source| Error::Io {
            path: "<thread>".into(),
            source,
        })?;
    Ok(ThreadGuard {
        shared,
        stop: stop_tx,
        handle: Some(handle),
    })
}

fn run(
    shared: &Arc<Shared>,
    index_on_open: bool,
    before: Option<&crate::BeforeIndex>,
    reload: Option<&crate::GrammarReload>,
    batches: &Receiver<cst_watch::Batch>,
    stop: &Receiver<()>,
) {
    if index_on_open {
        if let Some(b) = before {
            b.run(&shared.cache);
        }
        match all(shared) {
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "the first index failed"),
        }
        shared.ready.store(true, Ordering::Release);
    }
    let mut last_flush = Instant::now();
    let mut last_poll = Instant::now();
    // The grammars loaded at run time that the last index run could use.
    let mut grammars_seen = cst::grammars::loaded().len();
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        // Request threads mark the path map dirty too (a file indexed on
        // demand, a saved buffer stored): look again every `flush_delay`.
        let mut wait = if shared.dirty.load(Ordering::Acquire) {
            shared.flush_delay.saturating_sub(last_flush.elapsed())
        } else {
            shared.flush_delay
        };
        if reload.is_some() {
            wait = wait.min(crate::GRAMMAR_POLL.saturating_sub(last_poll.elapsed()));
        }
        crossbeam::select! {
            recv(batches) -> b => match b {
                Ok(mut batch) => {
                    // Whatever else is queued joins this batch.
                    while let Ok(more) = batches.try_recv() {
                        batch.rescan |= more.rescan;
                        batch.changed.extend(more.changed);
                        batch.removed.extend(more.removed);
                    }
                    apply(shared, batch);
                }
                // No watcher: only flushes and the stop signal are left.
                Err(_) => {
                    let _ = stop.recv_timeout(wait.max(Duration::from_millis(1)));
                }
            },
            recv(stop) -> _ => return,
            default(wait) => {}
        }
        if let Some(reload) = reload
            && last_poll.elapsed() >= crate::GRAMMAR_POLL
        {
            reload.poll(&shared.root);
            // Files of the new languages were skipped as "no grammar": one
            // run over the root indexes them (the rest is trusted by its
            // status, as at open). A workspace that does not index the root
            // (`cst lsp --no-index`) sees them as buffers open.
            let loaded = cst::grammars::loaded().len();
            if loaded != grammars_seen {
                grammars_seen = loaded;
                if index_on_open {
                    tracing::info!(loaded, "grammars added: reconciling the root");
                    if let Err(e) = all(shared) {
                        tracing::warn!(error = %e, "reconcile after new grammars failed");
                    }
                }
            }
            // After the work: a long run is not followed by a poll at once.
            last_poll = Instant::now();
        }
        if shared.dirty.load(Ordering::Acquire) && last_flush.elapsed() >= shared.flush_delay {
            if !shared.read_only
                && let Err(e) = shared.cache.flush()
            {
                tracing::warn!(error = %e, "flush failed");
            }
            shared.dirty.store(false, Ordering::Release);
            last_flush = Instant::now();
        }
    }
}

/// Applies one batch of the watcher.
fn apply(shared: &Arc<Shared>, batch: cst_watch::Batch) {
    let mut paths: Vec<PathBuf> = batch.changed;
    paths.extend(batch.removed);
    paths.sort();
    paths.dedup();
    // Their paths are stale already: the `cst-stale` thread marked them
    // when the watcher sent the batch.
    let result = if batch.rescan || paths.len() > MANY_PATHS {
        all(shared).map(|_| ())
    } else {
        self::paths(shared, &paths)
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "reconcile failed");
    }
    shared.reconciles.fetch_add(1, Ordering::Relaxed);
}

/// Reconciles the whole root: one index run.
pub(crate) fn all(shared: &Shared) -> Result<RunSummary, Error> {
    let _one = shared.index_lock.lock();
    // Paths that change from here on are stale again after this run; the
    // ones noted before it are reconciled by it.
    let noted: Vec<PathBuf> = shared.stale.lock().iter().cloned().collect();
    shared.indexing.store(true, Ordering::Release);
    let progress = |p: cst::Progress| {
        shared.progress[0].store(p.done, Ordering::Relaxed);
        shared.progress[1].store(p.total, Ordering::Relaxed);
    };
    let result = shared.cache.index(&shared.root, &progress);
    shared.indexing.store(false, Ordering::Release);
    let report = result?;
    let summary = RunSummary::from(&report);
    *shared.last_run.lock() = Some(summary.clone());
    {
        let mut stale = shared.stale.lock();
        for p in &noted {
            stale.remove(p);
        }
    }
    if report.parsed > 0 || report.removed > 0 || !noted.is_empty() {
        Workspace::bump(shared);
    }
    shared.dirty.store(true, Ordering::Release);
    Ok(summary)
}

/// Reconciles `paths` one by one (a file: indexed again, or forgotten when
/// it is gone or now skipped; a directory: an index run over it). A file
/// whose open buffer holds its content gets the buffer's tree.
pub(crate) fn paths(shared: &Shared, paths: &[PathBuf]) -> Result<(), Error> {
    // Not behind a whole reconcile for long: a request that needs one
    // file must not wait minutes for the first index of a large tree. The
    // cache is safe to use from both; at worst the whole run forgets a
    // file it did not see, and the next request indexes it again.
    let _one = shared
        .index_lock
        .try_lock_for(std::time::Duration::from_millis(50));
    let mut first_error: Option<Error> = None;
    for p in paths {
        if !p.starts_with(&shared.root) {
            continue;
        }
        // Saved from an open buffer: its tree is the file's, no parse.
        let buffer = shared.buffers.read().get(p).cloned();
        let from_buffer = match buffer {
            Some(b) if !shared.read_only => {
                let b = b.lock();
                match std::fs::read(p) {
                    Ok(on_disk) if on_disk[..] == b.text()[..] => b.tree().store_as(p).is_ok(),
                    _ => false,
                }
            }
            _ => false,
        };
        // One path failing (a full disk) does not stop the others.
        let result = if from_buffer {
            Ok(())
        } else {
            shared.cache.index(p, &|_| {}).map(|_| ())
        };
        match result {
            Ok(()) => {
                shared.stale.lock().remove(p);
            }
            Err(e) => {
                first_error.get_or_insert(e.into());
            }
        }
    }
    Workspace::bump(shared);
    shared.dirty.store(true, Ordering::Release);
    first_error.map_or(Ok(()), Err)
}
