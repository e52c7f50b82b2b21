//! The worker pool: a few threads fed by a channel, each job a request
//! answered from a snapshot. In-flight requests are tracked so that
//! `$/cancelRequest` can stop one that has not started.

use std::collections::HashMap;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{ErrorCode, RequestId, Response};
use parking_lot::Mutex;

type Job = Box<dyn FnOnce() + Send>;

/// The pool; dropping it lets its threads finish the queued jobs and end.
pub(crate) struct Pool {
    sender: Option<Sender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Pool {
    pub(crate) fn new(workers: usize) -> Pool {
        let (sender, receiver): (Sender<Job>, Receiver<Job>) = crossbeam_channel::unbounded();
        let threads = (0..workers.max(1))
            .filter_map(|i| {
                let r = receiver.clone();
                std::thread::Builder::new()
                    .name(format!("cst-lsp-worker-{i}"))
                    .spawn(move || {
                        for job in r {
                            // A panicking handler must not take the pool
                            // down (handlers return errors; this is a
                            // last resort).
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                    })
                    .ok()
            })
            .collect();
        Pool {
            sender: Some(sender),
            threads,
        }
    }

    pub(crate) fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        if let Some(s) = &self.sender {
            let _ = s.send(Box::new(job));
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.sender.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Requests queued and not started, and whether each was cancelled.
#[derive(Default)]
pub(crate) struct InFlight {
    queued: Mutex<HashMap<RequestId, bool>>,
}

impl InFlight {
    pub(crate) fn queue(&self, id: RequestId) {
        self.queued.lock().insert(id, false);
    }

    /// Marks a queued request cancelled (a started or finished one is not
    /// affected).
    pub(crate) fn cancel(&self, id: &RequestId) {
        if let Some(c) = self.queued.lock().get_mut(id) {
            *c = true;
        }
    }

    /// Starts a request: `false` when it was cancelled.
    pub(crate) fn start(&self, id: &RequestId) -> bool {
        !self.queued.lock().remove(id).unwrap_or(false)
    }
}

/// An error answer.
pub(crate) fn error(id: RequestId, code: ErrorCode, message: impl Into<String>) -> Response {
    Response::new_err(id, code as i32, message.into())
}

/// The outcome of a handler: a result, or an error code and message.
pub(crate) type Outcome = Result<serde_json::Value, (ErrorCode, String)>;

/// The answer to `id` from a handler's outcome.
pub(crate) fn respond(id: RequestId, outcome: Outcome) -> Response {
    match outcome {
        Ok(v) => Response {
            id,
            result: Some(v),
            error: None,
        },
        Err((code, message)) => error(id, code, message),
    }
}

/// A shared handle the workers answer through.
pub(crate) type Out = Arc<Sender<lsp_server::Message>>;
