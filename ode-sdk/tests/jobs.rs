//! The export queue contract, written once and run on every backend: the in-memory
//! queue and, with the `redis` feature, Redis on 127.0.0.1:6379 (a namespace of its own
//! per test, deleted afterwards). Redis tests fail when Redis cannot be reached, unless
//! `ODE_SKIP_REDIS=1`. The resilience tests start their own `redis-server` on a free
//! port and kill it; the shared Redis is never stopped.
//!
//! Run: `cargo test -p ode-sdk --features redis --test jobs`.
#![cfg(feature = "service")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ode_sdk::config::{QueueSettings, Secret};
use ode_sdk::domain::ExportId;
use ode_sdk::jobs::{
    ExportJob, JobError, JobHandler, JobQueue, Queue, WorkerOptions, connect_queue, run_worker,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Which queue a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Memory,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Redis,
}

const SHARED_REDIS: &str = "redis://127.0.0.1:6379";

/// A queue for one test, and its namespace to delete afterwards (Redis).
struct Fixture {
    queue: Queue,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    namespace: Option<String>,
}

impl Fixture {
    /// The queue of `kind`; `None` when Redis is unreachable and `ODE_SKIP_REDIS=1`.
    async fn new(kind: Kind) -> Option<Fixture> {
        match kind {
            Kind::Memory => {
                let queue = connect_queue(&QueueSettings::default())
                    .await
                    .expect("the in-memory queue always opens");
                assert!(queue.is_in_memory());
                Some(Fixture {
                    queue,
                    namespace: None,
                })
            }
            Kind::Redis => {
                let namespace = format!("ode-test-{}", uuid::Uuid::now_v7().simple());
                let settings = QueueSettings {
                    url: Secret::new(SHARED_REDIS),
                    namespace: namespace.clone(),
                };
                match connect_queue(&settings).await {
                    Ok(queue) => Some(Fixture {
                        queue,
                        namespace: Some(namespace),
                    }),
                    Err(e) if std::env::var("ODE_SKIP_REDIS").as_deref() == Ok("1") => {
                        eprintln!("skipped: Redis unreachable ({e}) and ODE_SKIP_REDIS=1");
                        None
                    }
                    Err(e) => panic!(
                        "Redis at {SHARED_REDIS} is unreachable ({e}); start it or set ODE_SKIP_REDIS=1"
                    ),
                }
            }
        }
    }

    /// Redis: how many jobs apalis-redis filed as dead (failed for good).
    async fn dead_jobs(&self) -> Option<i64> {
        #[cfg(feature = "redis")]
        if let Some(namespace) = &self.namespace {
            let client = ::redis::Client::open(SHARED_REDIS).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let dead: i64 = ::redis::cmd("SCARD")
                .arg(format!("{namespace}:dead"))
                .query_async(&mut conn)
                .await
                .unwrap();
            return Some(dead);
        }
        None
    }

    async fn cleanup(self) {
        #[cfg(feature = "redis")]
        if let Some(namespace) = self.namespace {
            let client = ::redis::Client::open(SHARED_REDIS).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let keys: Vec<String> = ::redis::cmd("KEYS")
                .arg(format!("{namespace}:*"))
                .query_async(&mut conn)
                .await
                .unwrap();
            if !keys.is_empty() {
                let _: () = ::redis::cmd("DEL")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
            }
            let _: () = ::redis::cmd("ZREM")
                .arg("core:apalis:queues:list")
                .arg(format!("{namespace}:workers"))
                .query_async(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// What the test handler does with one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Succeed,
    Transient,
    Permanent,
}

/// One handler call.
#[derive(Debug, Clone, Copy)]
struct Call {
    export: ExportId,
    attempt: u32,
    started: Instant,
    finished: Instant,
}

type Policy = Box<dyn Fn(ExportId, u32) -> Answer + Send + Sync>;

/// A handler that records its calls, takes `work` per call and answers by `policy`.
struct Recorder {
    work: Duration,
    policy: Policy,
    calls: Mutex<Vec<Call>>,
    started: Mutex<Vec<(ExportId, Instant)>>,
    running: AtomicUsize,
    most_running: AtomicUsize,
}

impl Recorder {
    fn new(
        work: Duration,
        policy: impl Fn(ExportId, u32) -> Answer + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Recorder {
            work,
            policy: Box::new(policy),
            calls: Mutex::new(Vec::new()),
            started: Mutex::new(Vec::new()),
            running: AtomicUsize::new(0),
            most_running: AtomicUsize::new(0),
        })
    }

    fn succeeding(work: Duration) -> Arc<Self> {
        Recorder::new(work, |_, _| Answer::Succeed)
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn started(&self) -> usize {
        self.started.lock().unwrap().len()
    }

    fn calls_for(&self, export: ExportId) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.export == export)
            .collect()
    }

    /// Waits until `done` holds, failing the test after `limit`.
    async fn wait_until(&self, limit: Duration, what: &str, done: impl Fn(&Recorder) -> bool) {
        let deadline = Instant::now() + limit;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "{what}: not within {limit:?}; calls so far: {:?}",
                self.calls()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[async_trait]
impl JobHandler for Recorder {
    async fn handle(&self, job: ExportJob, attempt: u32) -> Result<(), JobError> {
        let started = Instant::now();
        self.started.lock().unwrap().push((job.export_id, started));
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_running.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.work).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.calls.lock().unwrap().push(Call {
            export: job.export_id,
            attempt,
            started,
            finished: Instant::now(),
        });
        match (self.policy)(job.export_id, attempt) {
            Answer::Succeed => Ok(()),
            Answer::Transient => Err(JobError::Transient(format!("attempt {attempt} failed"))),
            Answer::Permanent => Err(JobError::Permanent("this export cannot be rendered".into())),
        }
    }
}

fn options(concurrency: usize) -> WorkerOptions {
    WorkerOptions {
        concurrency,
        max_attempts: 3,
        backoff_ms: 100,
        shutdown_grace: Duration::from_secs(10),
        name: "ode-test-worker".into(),
        orphan_after: Duration::from_secs(60),
        poll_interval: Duration::from_millis(50),
    }
}

/// A running worker and the switch that shuts it down.
struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), JobError>>,
}

fn start(queue: &Queue, handler: Arc<Recorder>, options: WorkerOptions) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(run_worker(queue.clone(), handler, options, async move {
        let _ = stopped.await;
    }));
    Running {
        stop: Some(stop),
        task,
    }
}

impl Running {
    /// Asks for shutdown and waits for `run_worker` to return; returns when it did.
    async fn shutdown(mut self, limit: Duration) -> Instant {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(limit, self.task)
            .await
            .unwrap_or_else(|_| panic!("run_worker did not return within {limit:?} of shutdown"))
            .expect("run_worker panicked")
            .expect("run_worker failed");
        Instant::now()
    }
}

async fn push_new(queue: &Queue) -> ExportId {
    let export = ExportId::new();
    queue.push(ExportJob { export_id: export }).await.unwrap();
    export
}

async fn wait_for_depth(queue: &Queue, expected: i64, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let depth = queue.depth().await.unwrap();
        if depth == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "depth is {depth}, expected {expected} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------
// The contract, once.

async fn every_pushed_job_is_handled_exactly_once(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let handler = Recorder::succeeding(Duration::from_millis(5));
    let worker = start(&fx.queue, handler.clone(), options(8));
    let mut pushed = Vec::new();
    for _ in 0..100 {
        pushed.push(push_new(&fx.queue).await);
    }
    handler
        .wait_until(Duration::from_secs(60), "100 jobs handled", |h| {
            h.calls().len() >= 100
        })
        .await;
    // Leave time for a duplicate to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut seen: HashMap<ExportId, usize> = HashMap::new();
    for call in handler.calls() {
        assert_eq!(
            call.attempt, 1,
            "nothing failed, so every call is a first attempt"
        );
        *seen.entry(call.export).or_default() += 1;
    }
    for export in &pushed {
        assert_eq!(seen.get(export), Some(&1), "export {export} handled once");
    }
    assert_eq!(seen.len(), 100, "no export that was not pushed");
    assert_eq!(fx.queue.depth().await.unwrap(), 0);
    worker.shutdown(Duration::from_secs(15)).await;
    fx.cleanup().await;
}

async fn a_transient_failure_is_retried_with_a_growing_attempt_and_backoff(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let handler = Recorder::new(Duration::ZERO, |_, attempt| {
        if attempt < 3 {
            Answer::Transient
        } else {
            Answer::Succeed
        }
    });
    let options = WorkerOptions {
        max_attempts: 5,
        backoff_ms: 300,
        ..options(2)
    };
    let worker = start(&fx.queue, handler.clone(), options);
    let export = push_new(&fx.queue).await;
    handler
        .wait_until(Duration::from_secs(20), "third attempt", |h| {
            h.calls().len() >= 3
        })
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let calls = handler.calls_for(export);
    let attempts: Vec<u32> = calls.iter().map(|c| c.attempt).collect();
    assert_eq!(
        attempts,
        [1, 2, 3],
        "retried until it succeeded, then not again"
    );
    let first_gap = calls[1].started - calls[0].finished;
    let second_gap = calls[2].started - calls[1].finished;
    assert!(
        first_gap >= Duration::from_millis(280) && first_gap < Duration::from_millis(1300),
        "first retry after ~300 ms, was {first_gap:?}"
    );
    assert!(
        second_gap >= Duration::from_millis(580) && second_gap < Duration::from_millis(1600),
        "second retry after ~600 ms, was {second_gap:?}"
    );
    worker.shutdown(Duration::from_secs(15)).await;
    fx.cleanup().await;
}

async fn a_permanent_failure_is_not_retried(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let handler = Recorder::new(Duration::ZERO, |_, _| Answer::Permanent);
    let worker = start(&fx.queue, handler.clone(), options(2));
    let export = push_new(&fx.queue).await;
    handler
        .wait_until(Duration::from_secs(20), "first attempt", |h| {
            !h.calls().is_empty()
        })
        .await;
    // Longer than our backoff and than apalis-redis' own re-scheduling (attempt seconds).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let attempts: Vec<u32> = handler
        .calls_for(export)
        .iter()
        .map(|c| c.attempt)
        .collect();
    assert_eq!(attempts, [1]);
    assert_eq!(fx.queue.depth().await.unwrap(), 0);
    if let Some(dead) = fx.dead_jobs().await {
        assert_eq!(dead, 1, "apalis-redis files it with the dead jobs");
    }
    worker.shutdown(Duration::from_secs(15)).await;
    fx.cleanup().await;
}

async fn a_job_stops_being_delivered_after_max_attempts(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let handler = Recorder::new(Duration::ZERO, |_, _| Answer::Transient);
    let options = WorkerOptions {
        max_attempts: 3,
        backoff_ms: 50,
        ..options(2)
    };
    let worker = start(&fx.queue, handler.clone(), options);
    let export = push_new(&fx.queue).await;
    handler
        .wait_until(Duration::from_secs(20), "three attempts", |h| {
            h.calls().len() >= 3
        })
        .await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let attempts: Vec<u32> = handler
        .calls_for(export)
        .iter()
        .map(|c| c.attempt)
        .collect();
    assert_eq!(attempts, [1, 2, 3], "three deliveries, then no more");
    assert_eq!(fx.queue.depth().await.unwrap(), 0);
    if let Some(dead) = fx.dead_jobs().await {
        assert_eq!(dead, 1, "apalis-redis files it with the dead jobs");
    }
    worker.shutdown(Duration::from_secs(15)).await;
    fx.cleanup().await;
}

async fn no_more_jobs_than_the_concurrency_run_at_once(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let handler = Recorder::succeeding(Duration::from_millis(300));
    for _ in 0..12 {
        push_new(&fx.queue).await;
    }
    let worker = start(&fx.queue, handler.clone(), options(3));
    handler
        .wait_until(Duration::from_secs(30), "12 jobs handled", |h| {
            h.calls().len() >= 12
        })
        .await;
    assert_eq!(handler.most_running.load(Ordering::SeqCst), 3);
    worker.shutdown(Duration::from_secs(15)).await;
    fx.cleanup().await;
}

async fn shutdown_lets_the_running_job_finish_and_starts_no_new_one(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let handler = Recorder::succeeding(Duration::from_secs(1));
    let worker = start(&fx.queue, handler.clone(), options(1));
    for _ in 0..3 {
        push_new(&fx.queue).await;
    }
    handler
        .wait_until(Duration::from_secs(20), "first job started", |h| {
            h.started() >= 1
        })
        .await;
    let returned = worker.shutdown(Duration::from_secs(15)).await;
    let calls = handler.calls();
    assert_eq!(calls.len(), 1, "the running job finished");
    assert!(
        returned >= calls[0].finished,
        "run_worker returned after it finished"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(handler.started(), 1, "no job started after shutdown");
    assert_eq!(
        fx.queue.depth().await.unwrap(),
        2,
        "the other two still wait"
    );
    fx.cleanup().await;
}

async fn shutdown_does_not_wait_beyond_the_grace(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let handler = Recorder::succeeding(Duration::from_secs(30));
    let options = WorkerOptions {
        shutdown_grace: Duration::from_millis(500),
        ..options(1)
    };
    let worker = start(&fx.queue, handler.clone(), options);
    push_new(&fx.queue).await;
    handler
        .wait_until(Duration::from_secs(20), "job started", |h| h.started() >= 1)
        .await;
    let asked = Instant::now();
    let returned = worker.shutdown(Duration::from_secs(5)).await;
    assert!(
        returned - asked < Duration::from_secs(3),
        "returned after ~the grace"
    );
    assert!(handler.calls().is_empty(), "the 30 s job was abandoned");
    fx.cleanup().await;
}

async fn a_job_waiting_for_its_retry_at_shutdown_is_queued_again(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let handler = Recorder::new(Duration::ZERO, |_, attempt| {
        if attempt == 1 {
            Answer::Transient
        } else {
            Answer::Succeed
        }
    });
    let slow_retry = WorkerOptions {
        backoff_ms: 20_000,
        ..options(1)
    };
    let worker = start(&fx.queue, handler.clone(), slow_retry);
    let export = push_new(&fx.queue).await;
    handler
        .wait_until(Duration::from_secs(20), "first attempt", |h| {
            !h.calls().is_empty()
        })
        .await;
    let asked = Instant::now();
    let returned = worker.shutdown(Duration::from_secs(10)).await;
    assert!(
        returned - asked < Duration::from_secs(5),
        "no waiting for the 20 s backoff"
    );
    assert_eq!(
        fx.queue.depth().await.unwrap(),
        1,
        "handed back to the queue"
    );

    let worker = start(&fx.queue, handler.clone(), options(1));
    handler
        .wait_until(Duration::from_secs(20), "second attempt", |h| {
            h.calls().len() >= 2
        })
        .await;
    let attempts: Vec<u32> = handler
        .calls_for(export)
        .iter()
        .map(|c| c.attempt)
        .collect();
    assert_eq!(attempts, [1, 2], "the next worker makes attempt 2");
    worker.shutdown(Duration::from_secs(15)).await;
    fx.cleanup().await;
}

async fn depth_counts_the_jobs_waiting(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    assert_eq!(fx.queue.depth().await.unwrap(), 0);
    for _ in 0..5 {
        push_new(&fx.queue).await;
    }
    assert_eq!(fx.queue.depth().await.unwrap(), 5);
    fx.queue.ping().await.unwrap();
    let handler = Recorder::succeeding(Duration::ZERO);
    let worker = start(&fx.queue, handler.clone(), options(2));
    handler
        .wait_until(Duration::from_secs(20), "5 jobs handled", |h| {
            h.calls().len() >= 5
        })
        .await;
    wait_for_depth(&fx.queue, 0, Duration::from_secs(5)).await;
    worker.shutdown(Duration::from_secs(15)).await;
    fx.cleanup().await;
}

async fn invalid_worker_options_are_refused(kind: Kind) {
    let Some(fx) = Fixture::new(kind).await else {
        return;
    };
    let handler = Recorder::succeeding(Duration::ZERO);
    for bad in [
        WorkerOptions {
            concurrency: 0,
            ..options(1)
        },
        WorkerOptions {
            max_attempts: 0,
            ..options(1)
        },
        WorkerOptions {
            name: String::new(),
            ..options(1)
        },
    ] {
        let result = run_worker(fx.queue.clone(), handler.clone(), bad.clone(), async {}).await;
        assert!(
            matches!(result, Err(JobError::Permanent(_))),
            "{bad:?} gave {result:?}"
        );
    }
    fx.cleanup().await;
}

macro_rules! on_every_queue {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(super::Kind::Memory).await;
                }
            )*
        }
        #[cfg(feature = "redis")]
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(super::Kind::Redis).await;
                }
            )*
        }
    };
}

on_every_queue!(
    every_pushed_job_is_handled_exactly_once,
    a_transient_failure_is_retried_with_a_growing_attempt_and_backoff,
    a_permanent_failure_is_not_retried,
    a_job_stops_being_delivered_after_max_attempts,
    no_more_jobs_than_the_concurrency_run_at_once,
    shutdown_lets_the_running_job_finish_and_starts_no_new_one,
    shutdown_does_not_wait_beyond_the_grace,
    a_job_waiting_for_its_retry_at_shutdown_is_queued_again,
    depth_counts_the_jobs_waiting,
    invalid_worker_options_are_refused,
);

#[test]
fn worker_options_follow_the_settings_and_back_off_exponentially() {
    let settings = ode_sdk::config::WorkerSettings {
        concurrency: 3,
        max_attempts: 4,
        backoff_ms: 250,
        shutdown_grace_secs: 7,
        ..Default::default()
    };
    let options = WorkerOptions::from_settings(&settings);
    assert_eq!(options.concurrency, 3);
    assert_eq!(options.max_attempts, 4);
    assert_eq!(options.shutdown_grace, Duration::from_secs(7));
    assert_eq!(options.backoff(1), Duration::from_millis(250));
    assert_eq!(options.backoff(2), Duration::from_millis(500));
    assert_eq!(options.backoff(4), Duration::from_millis(2000));
    assert_eq!(
        options.backoff(200),
        Duration::from_secs(3600),
        "capped at an hour"
    );
    let defaults = WorkerOptions::from_settings(&ode_sdk::config::WorkerSettings::default());
    assert!(defaults.concurrency >= 1, "0 means one per core");
}

// ---------------------------------------------------------------------------------------
// Redis only: delivery after a worker dies, and Redis going away.

#[cfg(feature = "redis")]
mod redis_resilience {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::process::{Child, Command, Stdio};

    /// A `redis-server` of the test's own, on a free port; killed when dropped.
    struct OwnRedis {
        port: u16,
        child: Option<Child>,
    }

    impl OwnRedis {
        fn start() -> OwnRedis {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut redis = OwnRedis { port, child: None };
            redis.restart();
            redis
        }

        fn restart(&mut self) {
            let child = Command::new("redis-server")
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server is installed");
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "redis-server did not start on {}",
                    self.port
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        fn kill(&mut self) {
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }

        fn settings(&self) -> QueueSettings {
            QueueSettings {
                url: Secret::new(format!("redis://127.0.0.1:{}", self.port)),
                namespace: "ode-resilience".into(),
            }
        }
    }

    impl Drop for OwnRedis {
        fn drop(&mut self) {
            self.kill();
        }
    }

    fn skip_redis() -> bool {
        std::env::var("ODE_SKIP_REDIS").as_deref() == Ok("1")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn an_unreachable_redis_is_reported_quickly() {
        let free_port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = QueueSettings {
            url: Secret::new(format!("redis://127.0.0.1:{free_port}")),
            namespace: "nobody".into(),
        };
        let asked = Instant::now();
        let result = connect_queue(&settings).await;
        assert!(
            matches!(result, Err(JobError::Unavailable(_))),
            "{result:?}"
        );
        assert!(
            asked.elapsed() < Duration::from_secs(4),
            "took {:?}",
            asked.elapsed()
        );
        let bad = QueueSettings {
            url: Secret::new("amqp://127.0.0.1"),
            namespace: "x".into(),
        };
        assert!(matches!(
            connect_queue(&bad).await,
            Err(JobError::Unavailable(_))
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_jobs_of_a_killed_worker_are_delivered_again() {
        let Some(fx) = Fixture::new(Kind::Redis).await else {
            return;
        };
        let fast_orphans = WorkerOptions {
            orphan_after: Duration::from_secs(4),
            ..options(1)
        };
        // The first worker takes the job and dies in the middle of it: its run_worker is
        // dropped, so it neither acknowledges nor heartbeats again, as after SIGKILL.
        let stuck = Recorder::succeeding(Duration::from_secs(120));
        let doomed = start(&fx.queue, stuck.clone(), fast_orphans.clone());
        let export = push_new(&fx.queue).await;
        stuck
            .wait_until(Duration::from_secs(20), "taken by the first worker", |h| {
                h.started() >= 1
            })
            .await;
        doomed.task.abort();
        let _ = doomed.task.await;
        let killed = Instant::now();
        assert_eq!(
            fx.queue.depth().await.unwrap(),
            0,
            "the job is held, not waiting"
        );

        let handler = Recorder::succeeding(Duration::ZERO);
        let rescuer = start(&fx.queue, handler.clone(), fast_orphans);
        handler
            .wait_until(Duration::from_secs(30), "delivered again", |h| {
                !h.calls_for(export).is_empty()
            })
            .await;
        let again = handler.calls_for(export)[0].started;
        assert!(
            again - killed > Duration::from_millis(2500),
            "delivered again once the dead worker's heartbeat was 4 s old, not before ({:?})",
            again - killed
        );
        rescuer.shutdown(Duration::from_secs(15)).await;
        fx.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_busy_worker_keeps_its_jobs_past_the_orphan_delay() {
        let Some(fx) = Fixture::new(Kind::Redis).await else {
            return;
        };
        let fast_orphans = WorkerOptions {
            orphan_after: Duration::from_secs(4),
            ..options(1)
        };
        // A job longer than the orphan delay, with another worker watching for orphans:
        // the busy worker's heartbeats must keep the job from being delivered twice.
        let handler = Recorder::succeeding(Duration::from_secs(7));
        let busy = start(&fx.queue, handler.clone(), fast_orphans.clone());
        let export = push_new(&fx.queue).await;
        handler
            .wait_until(Duration::from_secs(20), "job started", |h| h.started() >= 1)
            .await;
        let watcher = start(&fx.queue, handler.clone(), fast_orphans);
        handler
            .wait_until(Duration::from_secs(20), "job done", |h| {
                !h.calls().is_empty()
            })
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(handler.started(), 1, "delivered once");
        assert_eq!(handler.calls_for(export).len(), 1);
        busy.shutdown(Duration::from_secs(15)).await;
        watcher.shutdown(Duration::from_secs(15)).await;
        fx.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn push_fails_fast_while_redis_is_down_and_works_again_after() {
        if skip_redis() {
            return;
        }
        let mut redis = OwnRedis::start();
        let queue = connect_queue(&redis.settings()).await.unwrap();
        push_new(&queue).await;
        redis.kill();
        let asked = Instant::now();
        let result = queue
            .push(ExportJob {
                export_id: ExportId::new(),
            })
            .await;
        assert!(
            matches!(result, Err(JobError::Unavailable(_))),
            "{result:?}"
        );
        assert!(
            asked.elapsed() < Duration::from_secs(4),
            "took {:?}",
            asked.elapsed()
        );
        assert!(matches!(queue.ping().await, Err(JobError::Unavailable(_))));
        assert!(matches!(queue.depth().await, Err(JobError::Unavailable(_))));
        redis.restart();
        let deadline = Instant::now() + Duration::from_secs(15);
        while queue
            .push(ExportJob {
                export_id: ExportId::new(),
            })
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "push never worked again");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        queue.ping().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_worker_survives_a_redis_restart() {
        if skip_redis() {
            return;
        }
        let mut redis = OwnRedis::start();
        let queue = connect_queue(&redis.settings()).await.unwrap();
        let handler = Recorder::succeeding(Duration::ZERO);
        let worker = start(&queue, handler.clone(), options(2));
        let before = push_new(&queue).await;
        handler
            .wait_until(Duration::from_secs(20), "job before the restart", |h| {
                !h.calls_for(before).is_empty()
            })
            .await;

        redis.kill();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(
            !worker.task.is_finished(),
            "the worker keeps going without Redis"
        );
        redis.restart();

        let after = ExportId::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while queue.push(ExportJob { export_id: after }).await.is_err() {
            assert!(Instant::now() < deadline, "push never worked again");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        handler
            .wait_until(Duration::from_secs(30), "job after the restart", |h| {
                !h.calls_for(after).is_empty()
            })
            .await;
        worker.shutdown(Duration::from_secs(15)).await;
    }
}
