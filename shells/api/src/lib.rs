//! ODE's hosted HTTP API (actix-web): a thin skin over [`ode_sdk::service::Service`].
//!
//! Routes live under `/v1` (see [`openapi::ApiDoc`], served at `/v1/openapi.json` and
//! as a page at `/docs`); `/health`, `/ready` and `/metrics` are for the platform. Every
//! other path belongs to the viewer when one is configured (see [`viewer`]); pages of
//! other origins may call the API as `api.cors_origins` allows (see [`cors`]).
//! [`start`] binds the server; the binary (`ode-api`) and `ode serve` decide when to
//! stop it, so that a shutdown finishes the requests in flight.

pub mod auth;
pub mod cors;
pub mod error;
pub mod openapi;
pub mod routes;
pub mod telemetry;
pub mod viewer;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use ode_sdk::service::Service;

use crate::error::ApiError;
use crate::routes::{documents, exports, fonts, ops, render, webhook};

/// What every handler shares.
#[derive(Debug)]
pub struct State {
    /// The service.
    pub service: Service,
    /// Metrics.
    pub metrics: telemetry::Metrics,
    /// The runtime that started the server (see [`State::detached`]).
    pub runtime: Option<tokio::runtime::Handle>,
}

impl State {
    /// Calls the service with a clone of it, detached (see [`State::detached`]): every
    /// handler reaches the service this way, so no service call (a query, a transaction,
    /// a blob and its row) is ever dropped half-way by a client that leaves.
    ///
    /// # Errors
    /// The service's error, or a 500 when the task failed.
    pub async fn call<F, Fut, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(Service) -> Fut,
        Fut: std::future::Future<Output = Result<T, ode_sdk::service::ServiceError>>
            + Send
            + 'static,
        T: Send + 'static,
    {
        Ok(self.detached(f(self.service.clone())).await??)
    }

    /// The settings.
    pub fn settings(&self) -> &ode_sdk::config::Settings {
        self.service.settings()
    }

    /// Runs `work` to its end on the runtime that started the server, even when the
    /// request awaiting it is dropped half-way (another extractor failed, a timeout, the
    /// client left). An SQLite query (diesel-async's `SyncConnectionWrapper`) dropped
    /// unfinished calls `block_in_place`, which panics on an actix worker's
    /// current-thread runtime.
    ///
    /// # Errors
    /// A 500 when the task panicked or its runtime is gone.
    pub async fn detached<F, T>(&self, work: F) -> Result<T, ApiError>
    where
        F: std::future::Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        match &self.runtime {
            Some(rt) => rt.spawn(work).await.map_err(|e| {
                tracing::error!(error = %e, "a detached task failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }),
            None => Ok(work.await),
        }
    }
}

/// Adds every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(render::render)
        .service(documents::create)
        .service(documents::list)
        .service(documents::list_assets)
        .service(documents::put_asset)
        .service(documents::get_one)
        .service(documents::replace)
        .service(documents::remove)
        .service(exports::create)
        .service(exports::list)
        .service(exports::download)
        .service(exports::get_one)
        .service(fonts::upload)
        .service(fonts::list)
        .service(fonts::remove)
        .service(webhook::set)
        .service(webhook::get_one)
        .service(webhook::remove)
        .service(ops::health)
        .service(ops::ready)
        .service(ops::metrics)
        .service(ops::openapi)
        .service(ops::docs);
}

/// Starts the API on a bound listener; the server runs until its handle is told to
/// stop (gracefully: accepting nothing more, finishing requests in flight for up to
/// `api.shutdown_grace_secs`). Signals are left to the caller.
///
/// # Errors
/// When the listener cannot be used, or `api.viewer_dir` is not a directory.
pub fn start(service: Service, listener: TcpListener) -> std::io::Result<(Server, SocketAddr)> {
    let addr = listener.local_addr()?;
    let api = &service.settings().api;
    let workers = if api.workers == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        api.workers
    };
    let grace = api.shutdown_grace_secs;
    let viewer = web::Data::new(
        api.viewer_dir
            .as_deref()
            .map(viewer::Viewer::new)
            .transpose()?,
    );
    let cors_origins = api.cors_origins.clone();
    let state = web::Data::new(State {
        service,
        metrics: telemetry::Metrics::new(),
        runtime: tokio::runtime::Handle::try_current().ok(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(viewer.clone())
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::bad_request("?", format!("query string: {e}")).into()
            }))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| ApiError::bad_request("", format!("path: {e}")).into()),
            )
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                cors::layer(&cors_origins),
            ))
            .wrap(from_fn(cors::only_for_allowed_origins))
            .wrap(from_fn(telemetry::observe))
            .configure(configure)
            .default_service(web::to(fallback))
    })
    .workers(workers)
    .shutdown_timeout(grace)
    .client_request_timeout(Duration::from_secs(60))
    .disable_signals()
    .listen(listener)?
    .run();
    Ok((server, addr))
}

/// The answer when no route takes a request: the viewer's (or, without a viewer, the
/// page telling how to build one at `/`) for a GET or HEAD outside the API, else
/// [`no_route`]'s.
async fn fallback(req: HttpRequest) -> HttpResponse {
    if viewer::takes(&req) {
        let viewer = req.app_data::<web::Data<Option<viewer::Viewer>>>();
        match viewer.and_then(|v| v.as_ref().as_ref()) {
            Some(viewer) => return viewer.answer(&req),
            None if req.path() == "/" => return viewer::not_built_page(),
            None => {}
        }
    }
    no_route(req).await
}

/// The answer when no route takes a request: 405 with `Allow` when the path is one the
/// OpenAPI document describes but the method is not, else 404.
async fn no_route(req: HttpRequest) -> HttpResponse {
    let allowed = req
        .resource_map()
        .match_pattern(req.path())
        .and_then(|pattern| openapi::allowed_methods(&pattern));
    match allowed {
        Some(allow) => {
            let mut r = HttpResponse::from_error(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not allowed here; use {allow}", req.method()),
            ));
            r.headers_mut().insert(
                actix_web::http::header::ALLOW,
                actix_web::http::header::HeaderValue::from_str(&allow)
                    .unwrap_or_else(|_| actix_web::http::header::HeaderValue::from_static("GET")),
            );
            r
        }
        None => HttpResponse::from_error(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such route (see /v1/openapi.json)",
        )),
    }
}

/// Resolves at SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
