//! Export jobs: a queue of export ids, on Redis through apalis in production or in
//! memory when the API and the worker share one process.
//!
//! A message only says "look at export X"; the export's state lives in the database
//! (see [`crate::db`]), so a message delivered twice is harmless and a lost one is
//! found again by the worker's sweep of stale exports.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::ExportId;

pub mod queue;
pub mod worker;

#[cfg(feature = "redis")]
pub use queue::OPERATION_TIMEOUT;
pub use queue::{Queue, connect_queue};
pub use worker::{WorkerOptions, run_worker};

/// Why a queue operation or a job failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The queue could not be reached.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// The job failed and may succeed if run again later.
    #[error("{0}")]
    Transient(String),
    /// The job failed and would fail again: do not retry.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// Whether retrying later could succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, JobError::Unavailable(_) | JobError::Transient(_))
    }
}

/// The message: which export to work on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJob {
    /// The export.
    pub export_id: ExportId,
}

/// The producing side, used by the API.
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Checks that the queue answers (for `/ready`).
    async fn ping(&self) -> Result<(), JobError>;
    /// Enqueues a job.
    async fn push(&self, job: ExportJob) -> Result<(), JobError>;
    /// Jobs waiting to be taken (the autoscaler's signal).
    async fn depth(&self) -> Result<i64, JobError>;
}

/// What a worker runs for each job. `attempt` counts deliveries of this message from 1.
/// An `Err` that [`JobError::is_transient`] is retried with backoff; a permanent one is not.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Handles one job.
    async fn handle(&self, job: ExportJob, attempt: u32) -> Result<(), JobError>;
}
