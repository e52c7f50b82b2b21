//! Coalescing resolved changes into one [`Batch`].
//!
//! Both backends feed a [`Coalescer`] with what they found; it deduplicates,
//! folds removals under a removed directory into that directory, and turns a
//! batch too large to be worth reporting path by path into a rescan.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::Batch;

/// Changes collected for one batch.
#[derive(Debug, Default)]
pub(crate) struct Coalescer {
    changed: BTreeSet<PathBuf>,
    removed: BTreeSet<PathBuf>,
    rescan: bool,
}

impl Coalescer {
    /// A file was created or modified.
    pub(crate) fn change(&mut self, path: PathBuf) {
        self.changed.insert(path);
    }

    /// A file or directory no longer exists.
    pub(crate) fn remove(&mut self, path: PathBuf) {
        self.removed.insert(path);
    }

    /// Events may have been missed.
    pub(crate) fn rescan(&mut self) {
        self.rescan = true;
    }

    /// The batch to send, if there is anything to say. More than `burst`
    /// paths become a bare rescan: the consumer reconciles once instead of
    /// handling thousands of paths one by one.
    pub(crate) fn finish(self, burst: usize) -> Option<Batch> {
        let Coalescer {
            changed,
            removed,
            rescan,
        } = self;
        // A removed directory stands for everything under it. In a sorted
        // set a directory's descendants follow it directly (paths order by
        // components), so one pass with the last kept removal suffices.
        let mut kept: Vec<PathBuf> = Vec::with_capacity(removed.len());
        for path in removed {
            if kept.last().is_some_and(|dir| path.starts_with(dir)) {
                continue;
            }
            kept.push(path);
        }
        let changed: Vec<PathBuf> = changed.into_iter().collect();
        if changed.len() + kept.len() > burst {
            return Some(Batch::rescan());
        }
        let batch = Batch {
            changed,
            removed: kept,
            rescan,
        };
        (!batch.is_empty()).then_some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn empty_is_none() {
        assert_eq!(Coalescer::default().finish(10), None);
    }

    #[test]
    fn dedups_and_sorts() {
        let mut c = Coalescer::default();
        for s in ["/r/b.rs", "/r/a.rs", "/r/b.rs", "/r/sub/c.rs", "/r/a.rs"] {
            c.change(p(s));
        }
        c.remove(p("/r/z.rs"));
        c.remove(p("/r/y.rs"));
        c.remove(p("/r/z.rs"));
        let b = c.finish(10).unwrap();
        assert_eq!(
            b.changed,
            vec![p("/r/a.rs"), p("/r/b.rs"), p("/r/sub/c.rs")]
        );
        assert_eq!(b.removed, vec![p("/r/y.rs"), p("/r/z.rs")]);
        assert!(!b.rescan);
    }

    #[test]
    fn removed_directory_is_reported_once() {
        let mut c = Coalescer::default();
        c.remove(p("/r/gone/a.rs"));
        c.remove(p("/r/gone/deep/b.rs"));
        c.remove(p("/r/gone"));
        c.remove(p("/r/gone-not-under/c.rs"));
        c.remove(p("/r/gone2"));
        let b = c.finish(10).unwrap();
        assert_eq!(
            b.removed,
            vec![p("/r/gone"), p("/r/gone-not-under/c.rs"), p("/r/gone2")]
        );
    }

    #[test]
    fn burst_becomes_rescan() {
        let mut c = Coalescer::default();
        for i in 0..5 {
            c.change(p(&format!("/r/{i}.rs")));
        }
        c.remove(p("/r/x.rs"));
        assert_eq!(c.finish(5), Some(Batch::rescan()));

        // Exactly at the limit: still reported path by path.
        let mut c = Coalescer::default();
        for i in 0..5 {
            c.change(p(&format!("/r/{i}.rs")));
        }
        let b = c.finish(5).unwrap();
        assert_eq!(b.changed.len(), 5);
        assert!(!b.rescan);
    }

    #[test]
    fn rescan_alone_and_with_paths() {
        let mut c = Coalescer::default();
        c.rescan();
        assert_eq!(c.finish(5), Some(Batch::rescan()));

        let mut c = Coalescer::default();
        c.rescan();
        c.change(p("/r/a.rs"));
        let b = c.finish(5).unwrap();
        assert!(b.rescan);
        assert_eq!(b.changed, vec![p("/r/a.rs")]);
    }
}
