//! ODE's export worker: takes export jobs from the queue (apalis), renders them with
//! the service ([`ode_sdk::service::Service::process_export`]), and every few seconds
//! sweeps the database for exports whose queue message was lost and for webhooks a
//! dead worker left unsent. Serves Prometheus metrics (queue depth, job durations,
//! exports by status) on `worker.metrics_port`.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use async_trait::async_trait;
use ode_sdk::jobs::{ExportJob, JobError, JobHandler, Queue, WorkerOptions, run_worker};
use ode_sdk::service::Service;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The worker's metrics.
#[derive(Debug, Clone)]
pub struct WorkerMetrics {
    registry: Registry,
    jobs: IntCounterVec,
    durations: HistogramVec,
    depth: IntGauge,
    exports: IntGaugeVec,
}

impl WorkerMetrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let jobs = IntCounterVec::new(
            Opts::new(
                "ode_worker_jobs_total",
                "Export job deliveries handled, by result",
            ),
            &["result"],
        )
        .expect("valid metric");
        let durations = HistogramVec::new(
            HistogramOpts::new("ode_worker_job_duration_seconds", "Export job durations").buckets(
                vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
                ],
            ),
            &["result"],
        )
        .expect("valid metric");
        let depth = IntGauge::new("ode_queue_depth", "Export jobs waiting in the queue")
            .expect("valid metric");
        let exports = IntGaugeVec::new(
            Opts::new("ode_exports", "Exports by status (all tenants)"),
            &["status"],
        )
        .expect("valid metric");
        for c in [
            Box::new(jobs.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(durations.clone()),
            Box::new(depth.clone()),
            Box::new(exports.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        WorkerMetrics {
            registry,
            jobs,
            durations,
            depth,
            exports,
        }
    }

    /// The text exposition, with the queue depth and export counts read now.
    pub async fn render(&self, service: &Service) -> String {
        if let Ok(d) = service.queue().depth().await {
            self.depth.set(d);
        }
        if let Ok(counts) = service.db().export_counts().await {
            for (status, n) in counts.by_status {
                self.exports.with_label_values(&[status.as_str()]).set(n);
            }
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        WorkerMetrics::new()
    }
}

/// The job handler: one export per job.
pub struct ExportHandler {
    service: Service,
    name: String,
    metrics: WorkerMetrics,
}

#[async_trait]
impl JobHandler for ExportHandler {
    async fn handle(&self, job: ExportJob, _attempt: u32) -> Result<(), JobError> {
        let started = Instant::now();
        let result = self.service.process_export(job.export_id, &self.name).await;
        let label = match &result {
            Ok(()) => "ok",
            Err(e) if e.is_transient() => "retry",
            Err(_) => "failed",
        };
        self.metrics.jobs.with_label_values(&[label]).inc();
        self.metrics
            .durations
            .with_label_values(&[label])
            .observe(started.elapsed().as_secs_f64());
        result
    }
}

/// Runs the worker until `shutdown` resolves, then finishes the jobs in flight within
/// `worker.shutdown_grace_secs` and returns.
///
/// # Errors
/// When the worker options are invalid or the metrics port cannot be bound.
pub async fn run(
    service: Service,
    queue: Queue,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let settings = service.settings().worker.clone();
    let metrics = WorkerMetrics::new();
    let name = format!(
        "ode-worker-{}-{}",
        std::process::id(),
        ode_sdk::domain::ExportId::new().0.simple()
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    // The metrics endpoint.
    let metrics_server = if settings.metrics_port != 0 {
        let addr = format!("{}:{}", service.settings().api.host, settings.metrics_port);
        let listener = TcpListener::bind(&addr)
            .map_err(|e| anyhow::anyhow!("binding the worker's metrics port {addr}: {e}"))?;
        tracing::info!(http.address = %addr, "worker metrics listening");
        let (svc, m) = (service.clone(), metrics.clone());
        let server = HttpServer::new(move || {
            let (svc, m) = (svc.clone(), m.clone());
            App::new()
                .route(
                    "/metrics",
                    web::get().to(move || {
                        let (svc, m) = (svc.clone(), m.clone());
                        async move {
                            HttpResponse::Ok()
                                .content_type("text/plain; version=0.0.4")
                                .body(m.render(&svc).await)
                        }
                    }),
                )
                .route(
                    "/health",
                    web::get().to(|| async { HttpResponse::Ok().body("ok") }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Some(handle)
    } else {
        None
    };

    // The sweep: lost queue messages and webhooks left pending.
    let sweeper = {
        let service = service.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = stop.changed() => break,
                }
                match service.sweep().await {
                    Ok((0, 0)) => {}
                    Ok((requeued, webhooks)) => tracing::info!(
                        sweep.requeued = requeued,
                        sweep.webhooks = webhooks,
                        "sweep found lost work"
                    ),
                    Err(e) => tracing::warn!(error = %e, "sweep failed"),
                }
            }
        })
    };

    let mut options = WorkerOptions::from_settings(&settings);
    options.name = name.clone();
    let handler = Arc::new(ExportHandler {
        service: service.clone(),
        name,
        metrics,
    });
    let result = run_worker(queue, handler, options, async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    })
    .await;
    sweeper.abort();
    if let Some(h) = metrics_server {
        h.stop(false).await;
    }
    result.map_err(|e| anyhow::anyhow!("worker: {e}"))
}

/// A listener on `host:port` for tests and `ode serve` (port 0: any free port).
///
/// # Errors
/// When the address cannot be bound.
pub fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind((host, port))
}
