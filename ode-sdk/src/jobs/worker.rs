//! The consuming side of the export queue: [`run_worker`].
//!
//! A worker is an apalis 1.0 [`Worker`](apalis::prelude::Worker) over the queue's
//! backend whose service runs the [`JobHandler`]. On top of apalis it adds what ODE
//! needs and apalis 1.0 does not give:
//!
//! * **Retries with ODE's policy.** A transient `Err` is retried in the worker, after
//!   `backoff_ms * 2^(attempt-1)` milliseconds, until `max_attempts` deliveries; a
//!   permanent one is not retried. apalis-redis' own retry is not used: its
//!   `handle_results.lua` re-schedules every failed task up to a hard-coded 25 attempts,
//!   `attempt` seconds apart, whatever the task's `max_attempts`. A job that fails for
//!   good is reported to apalis as an `AbortError` (status `Killed`), which apalis-redis
//!   files in `<namespace>:dead` instead of retrying. Between two attempts the job gives
//!   its concurrency slot back.
//! * **Attempt numbers.** The handler gets the apalis delivery count (1 for a new job)
//!   plus the retries made in the worker. A job waiting for its next attempt when the
//!   worker shuts down is handed back to the queue with its attempt number (and, if that
//!   push fails, left to apalis-redis' own re-scheduling), so no new attempt starts after
//!   shutdown. A job re-delivered after a worker died starts again from the count stored
//!   when it was queued; the database, not the message, is the authority on attempts.
//! * **Surviving Redis going away.** apalis' `Persisted` backend turns any Redis error
//!   (heartbeat, fetch, ack) into a dead state and the apalis worker stops with a
//!   backend error. [`run_worker`] then logs, waits (250 ms doubling to 5 s) and starts
//!   a new apalis worker on the same connection manager, under a new name, until Redis
//!   answers again; it never returns or panics because of Redis. Handlers run in their
//!   own tokio tasks, so a job in flight when this happens finishes; its
//!   acknowledgement is lost with the old apalis worker and apalis-redis delivers the job
//!   again later (see below): harmless, since handlers claim exports in the database.
//! * **Graceful shutdown.** When `shutdown` resolves the apalis worker stops fetching,
//!   jobs in flight may finish within `shutdown_grace` (their results are acknowledged
//!   to Redis), then the remaining ones are aborted and [`run_worker`] returns.
//!
//! # At-least-once delivery with apalis-redis 1.0
//!
//! Fetching moves a task from `<namespace>:active` to the worker's
//! `<namespace>:inflight:<worker>` set; the acknowledgement removes it. Every worker
//! heartbeats into `<namespace>:workers` each `heartbeat_interval`, and at each
//! heartbeat re-enqueues the in-flight sets of workers whose last heartbeat is older
//! than `heartbeat_interval × missed_heartbeats` (`Config::orphaned_duration`; there is
//! no `set_reenqueue_orphaned_after` in 1.0). So the jobs of a SIGKILLed worker come
//! back once another worker has been alive for that long: [`WorkerOptions::orphan_after`]
//! sets it (heartbeat every quarter of it, at least 1 s). apalis' default would be
//! 30 s × 10 = 5 min. Each apalis worker is registered under `<name>-<uuid>`: apalis-redis
//! refuses to register a name that heartbeated less than `orphaned_duration` ago, which
//! a restarted process reusing its name would hit. Tasks are fetched one at a time
//! (`batch_size` 1) so a busy worker does not hold jobs another could run. An idle
//! worker looks for jobs every [`WorkerOptions::poll_interval`].
//!
//! The in-memory queue has no such guarantee: its jobs die with the process. Run one
//! worker at a time on it (its channel wakes a single reader).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use apalis::prelude::{AbortError, BoxDynError, Service, Task, WorkerBuilder, WorkerContext};
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{AbortHandle, JoinHandle};
use tracing::{debug, error, info, warn};

use super::queue::{Backend, Queue};
use super::{ExportJob, JobError, JobHandler};
use crate::config::WorkerSettings;

/// How a worker runs jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    /// Jobs handled at once (at least 1).
    pub concurrency: usize,
    /// Deliveries of a job before a transient failure is final (at least 1).
    pub max_attempts: u32,
    /// Delay before the first retry, in milliseconds; doubled at each retry.
    pub backoff_ms: u64,
    /// How long jobs in flight may run on after shutdown is asked.
    pub shutdown_grace: Duration,
    /// The worker's name (apalis adds a unique suffix for each run).
    pub name: String,
    /// Redis: jobs held by a worker that stopped heartbeating (killed) are queued again
    /// after this long.
    pub orphan_after: Duration,
    /// Redis: how often an idle worker looks for new jobs.
    pub poll_interval: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions::from_settings(&WorkerSettings::default())
    }
}

impl WorkerOptions {
    /// The options `settings` describe (concurrency 0: one job per core), named
    /// `ode-worker`, re-queueing a dead worker's jobs after 60 s and polling every 200 ms.
    pub fn from_settings(settings: &WorkerSettings) -> Self {
        let concurrency = if settings.concurrency == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            settings.concurrency
        };
        WorkerOptions {
            concurrency,
            max_attempts: settings.max_attempts,
            backoff_ms: settings.backoff_ms,
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_secs),
            name: "ode-worker".into(),
            orphan_after: Duration::from_secs(60),
            poll_interval: Duration::from_millis(200),
        }
    }

    /// The delay before the attempt after `failed_attempt` (1-based):
    /// `backoff_ms * 2^(failed_attempt-1)`, at most one hour.
    pub fn backoff(&self, failed_attempt: u32) -> Duration {
        let factor = 1u64 << failed_attempt.saturating_sub(1).min(32);
        Duration::from_millis(self.backoff_ms.saturating_mul(factor)).min(Duration::from_secs(3600))
    }

    fn check(&self) -> Result<(), JobError> {
        let wrong = |what: &str| Err(JobError::Permanent(format!("worker options: {what}")));
        if self.concurrency == 0 {
            return wrong("concurrency must be at least 1");
        }
        if self.max_attempts == 0 {
            return wrong("max_attempts must be at least 1");
        }
        if self.name.is_empty() {
            return wrong("name must not be empty");
        }
        if self.poll_interval.is_zero() {
            return wrong("poll_interval must be more than zero");
        }
        Ok(())
    }
}

/// Runs `handler` on the jobs of `queue` until `shutdown` resolves, then stops taking
/// jobs, lets the jobs in flight finish within `options.shutdown_grace` (aborting the
/// rest) and returns. Losing Redis does not end it: it keeps trying until Redis is back.
/// See the [module documentation](self) for retries and delivery guarantees.
///
/// # Errors
/// [`JobError::Permanent`] when `options` are invalid (zero concurrency or attempts,
/// empty name).
pub async fn run_worker(
    queue: Queue,
    handler: Arc<dyn JobHandler>,
    options: WorkerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), JobError> {
    options.check()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let watcher = tokio::spawn(async move {
        shutdown.await;
        stop_tx.send_replace(true);
        // Keep the sender, so waiting for the flag never sees a closed channel.
        std::future::pending::<()>().await;
    });
    let shared = Arc::new(Shared {
        semaphore: Arc::new(Semaphore::new(options.concurrency)),
        queue,
        handler,
        options,
        stop: stop_rx,
        tracker: Tracker::default(),
    });
    info!(
        name = %shared.options.name,
        concurrency = shared.options.concurrency,
        queue = ?shared.queue,
        "export worker started"
    );

    let work = async {
        supervise(&shared).await;
        shared.tracker.wait_idle().await;
    };
    let grace = async {
        wait_stopped(&shared.stop).await;
        tokio::time::sleep(shared.options.shutdown_grace).await;
    };
    tokio::select! {
        () = work => info!(name = %shared.options.name, "export worker stopped"),
        () = grace => {
            let left = shared.tracker.abort_all();
            warn!(
                name = %shared.options.name,
                jobs = left,
                "export worker stopped after its shutdown grace: jobs still running were abandoned"
            );
        }
    }
    watcher.abort();
    Ok(())
}

/// Runs apalis workers one after the other until shutdown: a new one whenever the
/// previous stopped on a backend error.
async fn supervise(shared: &Arc<Shared>) {
    let mut failures = 0u32;
    loop {
        if *shared.stop.borrow() {
            return;
        }
        let started = Instant::now();
        match run_apalis_worker(shared).await {
            Ok(()) => return,
            Err(e) => {
                if *shared.stop.borrow() {
                    warn!(name = %shared.options.name, "export worker stopped with an error: {e}");
                    return;
                }
                if started.elapsed() > Duration::from_secs(30) {
                    failures = 0;
                }
                failures = failures.saturating_add(1);
                let delay = (Duration::from_millis(250) * (1 << failures.min(5) >> 1))
                    .min(Duration::from_secs(5));
                warn!(
                    name = %shared.options.name,
                    "export worker lost its queue ({e}); trying again in {delay:?}"
                );
                tokio::select! {
                    () = wait_stopped(&shared.stop) => return,
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// One apalis worker, until shutdown (`Ok`) or a backend error (`Err`).
async fn run_apalis_worker(shared: &Arc<Shared>) -> Result<(), String> {
    let name = format!("{}-{}", shared.options.name, uuid::Uuid::now_v7().simple());
    let service = JobService {
        shared: shared.clone(),
        acquiring: None,
        permit: None,
    };
    let stop = shared.stop.clone();
    let stopper = move |ctx: WorkerContext| {
        let stop = stop.clone();
        async move {
            wait_stopped(&stop).await;
            loop {
                match ctx.stop() {
                    Ok(()) => return Ok(()),
                    // Not started yet: stopping must wait for it.
                    Err(_) if ctx.is_pending() => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    };
    debug!(worker = %name, "starting an apalis worker");
    let result = match &*shared.queue.inner {
        Backend::Memory(memory) => {
            WorkerBuilder::new(name.as_str())
                .backend(memory.storage())
                .build(service)
                .run_with_ctx(stopper)
                .await
        }
        #[cfg(feature = "redis")]
        Backend::Redis(redis) => {
            use apalis::prelude::BackendExt;
            let options = &shared.options;
            let heartbeat = (options.orphan_after / 4).max(Duration::from_secs(1));
            let missed = (options.orphan_after.as_secs() / heartbeat.as_secs()).max(1);
            let config = redis
                .config()
                .batch_size(1)
                .heartbeat_interval(heartbeat)
                .missed_heartbeats(usize::try_from(missed).unwrap_or(usize::MAX));
            let storage = apalis_redis::RedisStorage::<ExportJob, _>::new(redis.conn.clone())
                .with_config(config)
                .poll_with_interval(options.poll_interval);
            WorkerBuilder::new(name.as_str())
                .backend(storage)
                .build(service)
                .run_with_ctx(stopper)
                .await
        }
    };
    result.map_err(|e| format!("{name}: {e}"))
}

async fn wait_stopped(stop: &watch::Receiver<bool>) {
    let mut stop = stop.clone();
    // An error means the sender is gone: treat it as stopped.
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// What the supervisor and every job share.
struct Shared {
    queue: Queue,
    handler: Arc<dyn JobHandler>,
    options: WorkerOptions,
    /// One permit per job running its handler.
    semaphore: Arc<Semaphore>,
    /// Becomes true when shutdown is asked.
    stop: watch::Receiver<bool>,
    tracker: Tracker,
}

/// How a job ended, for apalis.
enum Outcome {
    Done,
    /// Failed for good (permanent, or out of attempts).
    Failed(String),
    /// Shutdown came before its next attempt; queued again.
    HandedBack,
    /// Shutdown came before its next attempt and it could not be queued again.
    NotHandedBack(String),
}

impl Shared {
    /// Starts `job` in a task of its own, so it outlives the apalis worker that took it.
    fn spawn_job(
        self: &Arc<Self>,
        job: ExportJob,
        attempt: u32,
        permit: Option<OwnedSemaphorePermit>,
    ) -> JoinHandle<Outcome> {
        let guard = self.tracker.enter();
        let shared = self.clone();
        let handle = tokio::spawn(async move {
            let _guard = guard;
            shared.run_job(job, attempt, permit).await
        });
        self.tracker.remember(handle.abort_handle());
        handle
    }

    async fn run_job(
        &self,
        job: ExportJob,
        mut attempt: u32,
        mut permit: Option<OwnedSemaphorePermit>,
    ) -> Outcome {
        let export = job.export_id;
        loop {
            let held = match permit.take() {
                Some(permit) => permit,
                None => tokio::select! {
                    biased;
                    () = wait_stopped(&self.stop) => return self.hand_back(job, attempt).await,
                    permit = self.semaphore.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(e) => return Outcome::Failed(e.to_string()),
                    },
                },
            };
            debug!(?export, attempt, "export job started");
            let result = self.handler.handle(job, attempt).await;
            drop(held);
            match result {
                Ok(()) => {
                    debug!(?export, attempt, "export job done");
                    return Outcome::Done;
                }
                Err(e) if !e.is_transient() => {
                    warn!(?export, attempt, "export job failed: {e}");
                    return Outcome::Failed(e.to_string());
                }
                Err(e) if attempt >= self.options.max_attempts => {
                    warn!(
                        ?export,
                        attempt, "export job failed after its last attempt: {e}"
                    );
                    return Outcome::Failed(e.to_string());
                }
                Err(e) => {
                    let delay = self.options.backoff(attempt);
                    info!(
                        ?export,
                        attempt, "export job failed, retrying in {delay:?}: {e}"
                    );
                    tokio::select! {
                        biased;
                        () = wait_stopped(&self.stop) => {
                            return self.hand_back(job, attempt + 1).await;
                        }
                        () = tokio::time::sleep(delay) => {}
                    }
                    attempt += 1;
                }
            }
        }
    }

    async fn hand_back(&self, job: ExportJob, attempt: u32) -> Outcome {
        match self.queue.push_attempt(job, attempt).await {
            Ok(()) => {
                info!(export = ?job.export_id, attempt, "shutting down: export job queued again for its next attempt");
                Outcome::HandedBack
            }
            Err(e) => {
                warn!(export = ?job.export_id, attempt, "shutting down: could not queue the export job again: {e}");
                Outcome::NotHandedBack(e.to_string())
            }
        }
    }
}

/// The apalis service: waits for a free slot, then starts the job.
struct JobService {
    shared: Arc<Shared>,
    acquiring: Option<Acquire>,
    permit: Option<OwnedSemaphorePermit>,
}

type Acquire = Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>;

impl Service<Task<ExportJob>> for JobService {
    type Response = ();
    type Error = BoxDynError;
    type Future = Pin<Box<dyn Future<Output = Result<(), BoxDynError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.permit.is_some() {
            return Poll::Ready(Ok(()));
        }
        let semaphore = self.shared.semaphore.clone();
        let acquiring = self
            .acquiring
            .get_or_insert_with(|| Box::pin(semaphore.acquire_owned()));
        match acquiring.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                self.acquiring = None;
                let permit = result.map_err(|e| Box::new(e) as BoxDynError)?;
                self.permit = Some(permit);
                Poll::Ready(Ok(()))
            }
        }
    }

    fn call(&mut self, task: Task<ExportJob>) -> Self::Future {
        let permit = self.permit.take();
        let shared = self.shared.clone();
        let ctx = task.ctx().clone();
        let job = task.args;
        Box::pin(async move {
            // apalis counted this delivery before polling this future.
            let attempt = u32::try_from(ctx.attempt()).unwrap_or(u32::MAX).max(1);
            match shared.spawn_job(job, attempt, permit).await {
                Ok(Outcome::Done | Outcome::HandedBack) => Ok(()),
                Ok(Outcome::Failed(message)) => {
                    Err(Box::new(AbortError::new(message)) as BoxDynError)
                }
                Ok(Outcome::NotHandedBack(message)) => Err(message.into()),
                Err(e) if e.is_panic() => {
                    error!(export = ?job.export_id, "export job handler panicked");
                    Err(Box::new(AbortError::new("the job handler panicked")) as BoxDynError)
                }
                Err(e) => Err(Box::new(e) as BoxDynError),
            }
        })
    }
}

/// Counts the job tasks running and can abort them.
struct Tracker {
    running: Arc<watch::Sender<usize>>,
    handles: Mutex<Vec<AbortHandle>>,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            running: Arc::new(watch::Sender::new(0)),
            handles: Mutex::new(Vec::new()),
        }
    }
}

struct TrackGuard(Arc<watch::Sender<usize>>);

impl Drop for TrackGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Tracker {
    fn enter(&self) -> TrackGuard {
        self.running.send_modify(|n| *n += 1);
        TrackGuard(self.running.clone())
    }

    fn remember(&self, handle: AbortHandle) {
        let mut handles = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        handles.retain(|h| !h.is_finished());
        handles.push(handle);
    }

    async fn wait_idle(&self) {
        let mut running = self.running.subscribe();
        let _ = running.wait_for(|n| *n == 0).await;
    }

    /// Aborts every job task still running; returns how many there were.
    fn abort_all(&self) -> usize {
        let mut handles = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        let mut aborted = 0;
        for handle in handles.drain(..) {
            if !handle.is_finished() {
                handle.abort();
                aborted += 1;
            }
        }
        aborted
    }
}
