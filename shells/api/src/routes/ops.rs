//! Operations: liveness, readiness, metrics, and the API's own description.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use ode_sdk::api::ReadyInfo;
use utoipa::OpenApi;

use crate::State;
use crate::openapi::ApiDoc;

/// The process is alive (no dependency is checked).
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive")))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Whether the database, the queue and the blob store answer (each within 2 s).
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = ReadyInfo),
        (status = 503, description = "A dependency is down", body = ReadyInfo),
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<State>) -> HttpResponse {
    let limit = Duration::from_secs(2);
    let show = |r: Result<Result<(), String>, tokio::time::error::Elapsed>| match r {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(e)) => e,
        Err(_) => "no answer within 2 s".to_string(),
    };
    let svc = &state.service;
    let (db, queue, blobs) = tokio::join!(
        // Detached: the timeout drops what it waits for, and an SQLite query must not
        // be dropped half-way (see `State::detached`).
        tokio::time::timeout(limit, async {
            let db = svc.clone();
            state
                .detached(async move { db.db().ping().await.map_err(|e| e.to_string()) })
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
        }),
        tokio::time::timeout(limit, async {
            svc.queue().ping().await.map_err(|e| e.to_string())
        }),
        tokio::time::timeout(limit, async {
            svc.blobs().ping().await.map_err(|e| e.to_string())
        }),
    );
    let checks: BTreeMap<String, String> = [
        ("database".to_string(), show(db)),
        ("queue".to_string(), show(queue)),
        ("blobs".to_string(), show(blobs)),
    ]
    .into();
    let ok = checks.values().all(|v| v == "ok");
    let info = ReadyInfo {
        status: if ok { "ok" } else { "unavailable" }.into(),
        checks,
    };
    if ok {
        HttpResponse::Ok().json(info)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("retry-after", "5"))
            .json(info)
    }
}

/// Prometheus metrics.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<State>) -> HttpResponse {
    let text = state.metrics.render(&state).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
#[get("/v1/openapi.json")]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// A readable page of the API, made from the OpenAPI document (no scripts, works
/// offline).
#[get("/docs")]
pub async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(crate::openapi::docs_page(&ApiDoc::openapi()))
}
