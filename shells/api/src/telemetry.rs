//! JSON logs with request ids, and Prometheus metrics.
//!
//! Each request gets an id (the caller's `X-Request-Id` if it sent a sane one, else a
//! new UUID), returned in `X-Request-Id` and logged on one line with method, route,
//! status and duration.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::State;

/// Starts JSON logging to standard output; `RUST_LOG` filters (default `info`). Panics
/// are logged as JSON too (a render task or a font check that panicked is answered as
/// an error; its panic is one log line, not raw text among the JSON).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .try_init();
    ode_sdk::log_panics();
}

/// The API's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// Durations of synchronous renders, by format.
    pub renders: HistogramVec,
    exports: IntGaugeVec,
    queue_depth: prometheus::IntGauge,
    /// Renders of this process, running or waiting for a slot.
    render_load: IntGaugeVec,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "ode_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "ode_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let renders = HistogramVec::new(
            HistogramOpts::new(
                "ode_render_duration_seconds",
                "Synchronous render durations by format",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
            ]),
            &["format"],
        )
        .expect("valid metric");
        let exports = IntGaugeVec::new(
            Opts::new("ode_exports", "Exports by status (all tenants)"),
            &["status"],
        )
        .expect("valid metric");
        let queue_depth =
            prometheus::IntGauge::new("ode_queue_depth", "Export jobs waiting in the queue")
                .expect("valid metric");
        let render_load = IntGaugeVec::new(
            Opts::new(
                "ode_renders",
                "Renders of this process by state: running, or waiting for a slot",
            ),
            &["state"],
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(renders.clone()),
            Box::new(exports.clone()),
            Box::new(queue_depth.clone()),
            Box::new(render_load.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            renders,
            exports,
            queue_depth,
            render_load,
        }
    }

    /// The text exposition, after refreshing the gauges read from the database and
    /// the queue (left as they were when those are down).
    pub async fn render(&self, state: &State) -> String {
        if let Ok(counts) = state.service.db().export_counts().await {
            for (status, n) in counts.by_status {
                self.exports.with_label_values(&[status.as_str()]).set(n);
            }
        }
        if let Ok(depth) = state.service.queue().depth().await {
            self.queue_depth.set(depth);
        }
        let (running, waiting) = state.service.render_load();
        self.render_load
            .with_label_values(&["running"])
            .set(running as i64);
        self.render_load
            .with_label_values(&["waiting"])
            .set(waiting as i64);
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Request ids, one log line per request, and the request metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let method = req.method().to_string();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let state = req.app_data::<web::Data<State>>().cloned();
    let span = tracing::info_span!("request", request.id = %id);
    let _enter = span.enter();
    drop(_enter);
    let mut res = {
        use tracing::Instrument;
        next.call(req).instrument(span.clone()).await?
    };
    let status = res.status().as_u16();
    let secs = started.elapsed().as_secs_f64();
    if let Some(state) = state {
        state
            .metrics
            .requests
            .with_label_values(&[&method, &route, &status.to_string()])
            .inc();
        state
            .metrics
            .latency
            .with_label_values(&[&method, &route])
            .observe(secs);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    span.in_scope(|| {
        tracing::info!(
            http.method = %method,
            http.route = %route,
            http.status = status,
            http.duration_ms = (secs * 1000.0) as u64,
            "request"
        );
    });
    Ok(res)
}
