//! Health, readiness, metrics, request ids and the OpenAPI document.

use crate::helpers::{Backend, TestApp, spawn};

async fn health_ready_and_metrics_answer(app: TestApp) {
    let http = app.http();
    let r = http
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ready: ode_sdk::api::ReadyInfo = r.json().await.unwrap();
    assert_eq!(ready.checks.len(), 3);
    assert!(ready.checks.values().all(|v| v == "ok"), "{ready:?}");
    // A request id is returned (the caller's own when it sends one).
    let r = http
        .get(format!("{}/v1/fonts", app.address))
        .bearer_auth(&app.key)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-me-42");
    let r = http
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"].len(), 36);
    let text = http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"ode_http_requests_total{method="GET",route="/v1/fonts",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"ode_exports{status="queued"} 0"#), "{text}");
    assert!(text.contains("ode_queue_depth 0"), "{text}");
    assert!(text.contains(r#"ode_renders{state="running"} 0"#), "{text}");
    assert!(text.contains(r#"ode_renders{state="waiting"} 0"#), "{text}");
    // Unknown routes are JSON 404s.
    let r = http
        .get(format!("{}/v2/nothing", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: ode_sdk::api::ErrorBody = r.json().await.unwrap();
    assert_eq!(body.errors[0].code, "not_found");
}

crate::both_backends!(health_ready_and_metrics_answer);

/// `ODE_BLESS=1` rewrites the snapshot after a deliberate change of the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_its_snapshot() {
    let app = spawn(Backend::Embedded).await;
    let http = app.http();
    let doc: serde_json::Value = http
        .get(format!("{}/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi.json");
    if std::env::var_os("ODE_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("snapshot exists (ODE_BLESS=1 writes it)");
    assert!(
        text == expected,
        "the OpenAPI document changed; review and run with ODE_BLESS=1 to accept"
    );
    // Every operation is documented and secured routes say so.
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                op["description"].is_string() || op["summary"].is_string(),
                "{method} {path}"
            );
            if path.starts_with("/v1/") && path != "/v1/openapi.json" {
                assert!(
                    op["security"].is_array(),
                    "{method} {path} declares its security"
                );
            }
        }
    }
    let page = http
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/v1/exports/{id}/download"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_finishes_the_requests_in_flight() {
    let app = spawn(Backend::Embedded).await;
    let content: Vec<_> = (0..1500)
        .map(|i| serde_json::json!({"type": "paragraph", "text": format!("Paragraph {i}. ").repeat(12)}))
        .collect();
    let http = app.http();
    let url = format!("{}/v1/render", app.address);
    let key = app.key.clone();
    let started = std::time::Instant::now();
    let request = tokio::spawn(async move {
        let r = http
            .post(url)
            .bearer_auth(key)
            .json(&serde_json::json!({"document": {"ode": 1, "content": content}}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let bytes = r.bytes().await.unwrap();
        (status, bytes, started.elapsed())
    });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let address = app.address.clone();
    let stop_at = started.elapsed();
    app.stop().await;
    let (status, bytes, took) = request.await.unwrap();
    assert!(
        took > stop_at,
        "the request was still in flight at the shutdown"
    );
    assert_eq!(status, 200);
    assert!(bytes.starts_with(b"%PDF"));
    // Nothing is accepted any more.
    assert!(reqwest::get(format!("{address}/health")).await.is_err());
}
