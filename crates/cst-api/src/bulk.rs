//! The bulk lane: work whose cost grows with the workspace (a query over
//! many files, a symbol look-up, the repo map) runs on threads of its own,
//! at the lowest scheduling priority, so that it takes the CPU only when
//! the per-file requests an editor waits on (a tree, a node, an outline,
//! an edit) leave it idle.
//!
//! Under load on a small machine a query over the whole workspace costs
//! milliseconds of CPU; run beside the per-file requests at the same
//! priority it queues them behind it (their p99 was 5–6 ms on two cores
//! with 16 clients mixing both). On Linux the nice value is per thread:
//! the lane's threads lower their own, and their CPU is whatever the
//! interactive requests leave.
//!
//! The lane grows a thread when a job finds none idle, up to a cap (the
//! server's concurrency limit), as tokio's blocking pool does: a client
//! that stops reading a query's stream holds one thread (until the query's
//! deadline and grace), never the whole lane.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam::channel::{self, Receiver, Sender};

/// A job of the lane.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// The nice value of the lane's threads (0 is the default, 19 the lowest).
const NICE: i32 = 19;

/// Low-priority threads taking jobs in order (see the module documentation).
/// The threads end when the lane is dropped (its sender with it), after
/// the job each is running.
#[derive(Debug)]
pub(crate) struct Bulk {
    jobs: Sender<Job>,
    queue: Receiver<Job>,
    /// Threads waiting for a job.
    idle: Arc<AtomicUsize>,
    /// Threads started.
    threads: AtomicUsize,
    cap: usize,
}

impl Bulk {
    /// A lane of at most `cap` threads (none started yet).
    pub(crate) fn new(cap: usize) -> Bulk {
        let (jobs, queue) = channel::unbounded::<Job>();
        Bulk {
            jobs,
            queue,
            idle: Arc::new(AtomicUsize::new(0)),
            threads: AtomicUsize::new(0),
            cap: cap.max(1),
        }
    }

    /// Runs `job` on the lane: on an idle thread, a new one, or after the
    /// jobs queued before it when the lane is at its cap. `Err` gives the
    /// job back when no thread could be started at all.
    pub(crate) fn run(&self, job: Job) -> Result<(), Job> {
        if self.idle.load(Ordering::Acquire) == 0
            && self
                .threads
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < self.cap).then_some(n + 1)
                })
                .is_ok()
            && let Err(e) = self.spawn()
        {
            let started = self.threads.fetch_sub(1, Ordering::AcqRel) - 1;
            tracing::warn!("cannot start a bulk thread: {e}");
            if started == 0 {
                return Err(job);
            }
        }
        // The receiver lives in `self`: a send cannot fail.
        let _ = self.jobs.send(job);
        Ok(())
    }

    fn spawn(&self) -> std::io::Result<()> {
        let (queue, idle) = (self.queue.clone(), self.idle.clone());
        std::thread::Builder::new()
            .name("cst-bulk".into())
            .spawn(move || {
                lower_priority();
                loop {
                    idle.fetch_add(1, Ordering::AcqRel);
                    let job = queue.recv();
                    idle.fetch_sub(1, Ordering::AcqRel);
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .map(drop)
    }
}

/// Lowers the calling thread's scheduling priority. Where it cannot, the
/// thread runs at the default one.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(tid), NICE) {
            tracing::debug!("cannot lower the bulk thread's priority: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Jobs run on threads at the lower priority; the lane grows to its
    /// cap while every thread is busy, and no further.
    #[test]
    fn jobs_run_at_low_priority_on_a_bounded_lane() {
        let bulk = Bulk::new(2);
        let (tx, rx) = channel::unbounded();
        let (release_tx, release) = channel::unbounded::<()>();
        for i in 0..4 {
            let (tx, release) = (tx.clone(), release.clone());
            bulk.run(Box::new(move || {
                #[cfg(target_os = "linux")]
                let nice =
                    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
                #[cfg(not(target_os = "linux"))]
                let nice = NICE;
                tx.send((i, nice)).unwrap();
                release.recv().unwrap();
            }))
            .unwrap_or_else(|_| panic!("no bulk thread could start"));
        }
        // Two run at once (the cap); the others wait for them.
        let first: Vec<(i32, i32)> = (0..2).map(|_| rx.recv().unwrap()).collect();
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err()
        );
        assert_eq!(bulk.threads.load(Ordering::Acquire), 2);
        for _ in 0..4 {
            release_tx.send(()).unwrap();
        }
        let rest: Vec<(i32, i32)> = (0..2).map(|_| rx.recv().unwrap()).collect();
        let mut all: Vec<(i32, i32)> = first.into_iter().chain(rest).collect();
        all.sort();
        assert_eq!(all, vec![(0, NICE), (1, NICE), (2, NICE), (3, NICE)]);
    }
}
