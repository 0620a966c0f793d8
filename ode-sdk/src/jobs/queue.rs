//! The producing side of the export queue: [`Queue`] and [`connect_queue`].
//!
//! Two backends, both apalis 1.0:
//!
//! * **In memory** (empty `queue.url`): an apalis
//!   [`MemoryStorage`] fed by one unbounded channel that
//!   every clone of the [`Queue`] shares, so the API and a worker started with
//!   [`run_worker`](super::run_worker) in the same process use the same jobs. Nothing
//!   survives the process: the sweeper re-queues what was lost.
//! * **Redis** (`redis://…`, feature `redis`): apalis-redis 1.0 with `queue.namespace` as
//!   the queue name, so its keys are `<namespace>:active` (the waiting list),
//!   `<namespace>:scheduled`, `<namespace>:inflight:<worker>`, `<namespace>:workers`,
//!   `<namespace>:data` and `<namespace>:meta:<task>`. Jobs are pushed with
//!   `apalis_redis::queries::push_tasks`, the script apalis-redis' own sink runs.
//!
//! # How the Redis connection behaves
//!
//! apalis-redis talks to Redis through a [`redis::aio::ConnectionManager`], which
//! reconnects in the background after an I/O error; a command sent while it reconnects
//! waits for the attempt and fails if it fails. The manager is built here with short
//! connection (1 s) and response (2 s) timeouts and two reconnection retries, and every
//! producer call is bounded by [`OPERATION_TIMEOUT`] on top, so while Redis is down
//! [`JobQueue::push`] answers [`JobError::Unavailable`] within about two seconds and
//! succeeds again as soon as Redis is back, with no restart. Lua scripts lost with a
//! restarted Redis are loaded again by `redis::Script` (it retries on `NOSCRIPT`).

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
#[cfg(feature = "redis")]
use std::time::Duration;

use apalis::prelude::{MemorySink, MemoryStorage, MemoryStorageError, Task, TaskBuilder, TaskId};
use async_trait::async_trait;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::{SinkExt, Stream, StreamExt};

use super::{ExportJob, JobError, JobQueue};
use crate::config::QueueSettings;

/// How long a producer call (`ping`, `push`, `depth`) may take before it answers
/// [`JobError::Unavailable`].
#[cfg(feature = "redis")]
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);

/// A handle on the export queue: push jobs, ask its depth, and give a clone to
/// [`run_worker`](super::run_worker). Cheap to clone; clones share the queue.
#[derive(Clone)]
pub struct Queue {
    pub(crate) inner: Arc<Backend>,
}

pub(crate) enum Backend {
    Memory(MemoryQueue),
    #[cfg(feature = "redis")]
    Redis(RedisQueue),
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Backend::Memory(_) => f.write_str("Queue(memory)"),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => write!(f, "Queue(redis, namespace {:?})", r.namespace),
        }
    }
}

/// Opens the queue `settings` describe: in memory when `settings.url` is empty, on Redis
/// for `redis://…` (with the `redis` feature), using `settings.namespace` as the queue
/// name.
///
/// # Errors
/// [`JobError::Unavailable`] when the URL is not understood, the `redis` feature is
/// missing, or Redis cannot be reached within a few seconds.
pub async fn connect_queue(settings: &QueueSettings) -> Result<Queue, JobError> {
    let url = settings.url.expose();
    if url.is_empty() {
        return Ok(Queue::in_memory());
    }
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err(JobError::Unavailable(
            "queue.url: use redis://… or leave it empty for the in-memory queue".into(),
        ));
    }
    connect_redis(url, &settings.namespace).await
}

#[cfg(not(feature = "redis"))]
async fn connect_redis(_url: &str, _namespace: &str) -> Result<Queue, JobError> {
    Err(JobError::Unavailable(
        "queue.url is a Redis URL but ode-sdk was built without the `redis` feature".into(),
    ))
}

#[cfg(feature = "redis")]
async fn connect_redis(url: &str, namespace: &str) -> Result<Queue, JobError> {
    if namespace.is_empty() {
        return Err(JobError::Unavailable(
            "queue.namespace must not be empty".into(),
        ));
    }
    let client =
        redis::Client::open(url).map_err(|e| JobError::Unavailable(format!("queue.url: {e}")))?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_millis(500));
    let conn = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
        .map_err(|e| JobError::Unavailable(format!("redis: {e}")))?;
    let queue = Queue {
        inner: Arc::new(Backend::Redis(RedisQueue {
            conn,
            namespace: namespace.to_string(),
        })),
    };
    queue.ping().await?;
    Ok(queue)
}

impl Queue {
    /// The Redis connection and namespace, when the queue is on Redis (other shared
    /// state, such as rate limits, lives beside it).
    #[cfg(feature = "redis")]
    pub fn redis(&self) -> Option<(redis::aio::ConnectionManager, String)> {
        match &*self.inner {
            Backend::Redis(r) => Some((r.conn.clone(), r.namespace.clone())),
            _ => None,
        }
    }

    /// A new, empty in-memory queue (what an empty `queue.url` gives).
    pub fn in_memory() -> Queue {
        let (sender, receiver) = unbounded();
        Queue {
            inner: Arc::new(Backend::Memory(MemoryQueue {
                sender,
                receiver: Arc::new(Mutex::new(receiver)),
                waiting: Arc::new(AtomicI64::new(0)),
            })),
        }
    }

    /// Whether jobs live in this process only.
    pub fn is_in_memory(&self) -> bool {
        matches!(&*self.inner, Backend::Memory(_))
    }

    /// Enqueues `job` as its `attempt`-th delivery (1 for a new job): how a worker
    /// hands back a job it could not retry before shutting down.
    pub(crate) async fn push_attempt(&self, job: ExportJob, attempt: u32) -> Result<(), JobError> {
        // apalis counts a delivery when the task starts, so store one less.
        let previous = attempt.saturating_sub(1) as usize;
        match &*self.inner {
            Backend::Memory(m) => m.push(job, previous),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.push(job, previous).await,
        }
    }
}

#[async_trait]
impl JobQueue for Queue {
    async fn ping(&self) -> Result<(), JobError> {
        match &*self.inner {
            Backend::Memory(_) => Ok(()),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.ping().await,
        }
    }

    async fn push(&self, job: ExportJob) -> Result<(), JobError> {
        self.push_attempt(job, 1).await
    }

    async fn depth(&self) -> Result<i64, JobError> {
        match &*self.inner {
            Backend::Memory(m) => Ok(m.waiting.load(Ordering::SeqCst).max(0)),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.depth().await,
        }
    }
}

/// The in-memory queue: one channel shared by every clone of the [`Queue`].
pub(crate) struct MemoryQueue {
    sender: UnboundedSender<Task<ExportJob>>,
    receiver: Arc<Mutex<UnboundedReceiver<Task<ExportJob>>>>,
    /// Jobs pushed and not yet taken by a worker.
    waiting: Arc<AtomicI64>,
}

impl MemoryQueue {
    fn push(&self, job: ExportJob, previous_attempts: usize) -> Result<(), JobError> {
        let task = TaskBuilder::new(job)
            .task_id(TaskId::from_string(uuid::Uuid::now_v7().to_string()))
            .attempt(previous_attempts)
            .build();
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.sender.unbounded_send(task).map_err(|e| {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            JobError::Unavailable(format!("in-memory queue closed: {e}"))
        })
    }

    /// An apalis backend reading this queue, for one run of a worker. Its sink is a
    /// sender of its own, so closing it when the worker stops leaves the queue open.
    pub(crate) fn storage(&self) -> MemoryStorage<ExportJob> {
        let sender = self
            .sender
            .clone()
            .sink_map_err(MemoryStorageError::SendError);
        let sink: Box<
            dyn futures::Sink<Task<ExportJob>, Error = MemoryStorageError> + Send + Sync + Unpin,
        > = Box::new(sender);
        MemoryStorage::new_with(
            MemorySink::new(Arc::new(futures::lock::Mutex::new(sink))),
            Box::pin(SharedReceiver {
                receiver: self.receiver.clone(),
                waiting: self.waiting.clone(),
            }),
        )
    }
}

/// The queue's receiving end, shared by successive worker runs (one at a time).
struct SharedReceiver {
    receiver: Arc<Mutex<UnboundedReceiver<Task<ExportJob>>>>,
    waiting: Arc<AtomicI64>,
}

impl Stream for SharedReceiver {
    type Item = Task<ExportJob>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut receiver = match self.receiver.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let polled = receiver.poll_next_unpin(cx);
        if let Poll::Ready(Some(_)) = &polled {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        polled
    }
}

/// The Redis queue: a reconnecting connection and the queue's name.
#[cfg(feature = "redis")]
pub(crate) struct RedisQueue {
    pub(crate) conn: redis::aio::ConnectionManager,
    pub(crate) namespace: String,
}

#[cfg(feature = "redis")]
impl RedisQueue {
    /// apalis-redis' settings for this queue (what the producer needs of them).
    pub(crate) fn config(&self) -> apalis_redis::Config {
        apalis_redis::Config::default()
            .queue(&self.namespace)
            .emit_events(false)
    }

    async fn ping(&self) -> Result<(), JobError> {
        let mut conn = self.conn.clone();
        bounded("ping", async move {
            redis::cmd("PING").query_async::<String>(&mut conn).await?;
            Ok(())
        })
        .await
    }

    async fn push(&self, job: ExportJob, previous_attempts: usize) -> Result<(), JobError> {
        let data = serde_json::to_vec(&job)
            .map_err(|e| JobError::Permanent(format!("encoding {job:?}: {e}")))?;
        let task = TaskBuilder::new(data).attempt(previous_attempts).build();
        let mut conn = self.conn.clone();
        let config = self.config();
        bounded("push", async move {
            apalis_redis::queries::push_tasks(&mut conn, &config, &[task])
                .await
                .map_err(|e| match e {
                    apalis_redis::Error::Database(e) => e,
                    other => redis::RedisError::from(std::io::Error::other(other.to_string())),
                })?;
            Ok(())
        })
        .await
    }

    /// Jobs waiting: the active list plus those scheduled for later (retries apalis-redis
    /// put off). Jobs held by a worker are not counted.
    async fn depth(&self) -> Result<i64, JobError> {
        let config = self.config();
        let mut conn = self.conn.clone();
        bounded("depth", async move {
            let (active, scheduled): (i64, i64) = redis::pipe()
                .cmd("LLEN")
                .arg(config.active_jobs_list())
                .cmd("ZCARD")
                .arg(config.scheduled_jobs_set())
                .query_async(&mut conn)
                .await?;
            Ok(active + scheduled)
        })
        .await
    }
}

/// Runs a Redis operation within [`OPERATION_TIMEOUT`], mapping every failure to
/// [`JobError::Unavailable`].
#[cfg(feature = "redis")]
async fn bounded<T>(
    what: &str,
    op: impl Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, JobError> {
    match tokio::time::timeout(OPERATION_TIMEOUT, op).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(JobError::Unavailable(format!("redis {what}: {e}"))),
        Err(_) => Err(JobError::Unavailable(format!(
            "redis {what}: no answer within {OPERATION_TIMEOUT:?}"
        ))),
    }
}
