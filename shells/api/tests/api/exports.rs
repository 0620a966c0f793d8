//! `/v1/exports` and webhooks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use ode_sdk::api::{ExportRequest, WebhookEvent, WebhookInput};
use ode_sdk::domain::ExportStatus;
use serde_json::json;

use crate::helpers::{TestApp, example, pdf_text};

const WAIT: Duration = Duration::from_secs(60);

fn letters(n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| json!({"name": format!("Reader {i}"), "n": i}))
        .collect()
}

fn letter_template() -> serde_json::Value {
    json!({"ode": 1, "content": [
        {"type": "heading", "level": 1, "text": "Dear {{ name }}"},
        {"type": "paragraph", "text": "Letter number {{ n }}."}
    ]})
}

async fn an_export_is_queued_rendered_and_downloaded(app: TestApp) {
    let c = &app.client;
    let (e, created) = c
        .create_export(
            &ExportRequest {
                document: Some(example("invoice.json")),
                assets: Some(crate::helpers::example_assets()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(created);
    assert_eq!(e.status, ExportStatus::Queued);
    let done = c.wait_export(e.id, WAIT).await.unwrap();
    assert_eq!(done.status, ExportStatus::Succeeded, "{done:?}");
    assert_eq!(done.files, 1);
    assert_eq!(done.pages, 1);
    let statuses: Vec<_> = done.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        [
            ExportStatus::Queued,
            ExportStatus::Running,
            ExportStatus::Succeeded
        ]
    );
    let pdf = c.download(e.id, 1).await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(pdf.len() as i64, done.size_bytes);
    assert_eq!(c.download(e.id, 2).await.unwrap_err().status(), Some(404));
    // On S3 the API redirects to a presigned URL; locally it streams the file.
    let r = app
        .http()
        .get(format!("{}/v1/exports/{}/download", app.address, e.id))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    match app.backend {
        crate::helpers::Backend::Embedded => assert_eq!(r.status(), 200),
        crate::helpers::Backend::Production => {
            assert_eq!(r.status(), 302);
            let url = r.headers()["location"].to_str().unwrap().to_string();
            assert!(url.contains("X-Amz-Signature"), "{url}");
        }
    }
    let listed = c.exports(None, None).await.unwrap();
    assert_eq!(listed.items.len(), 1);
}

async fn a_batch_gives_one_file_per_record_or_one_merged_file(app: TestApp) {
    let c = &app.client;
    let (e, _) = c
        .create_export(
            &ExportRequest {
                template: Some(letter_template()),
                records: Some(letters(5)),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let done = c.wait_export(e.id, WAIT).await.unwrap();
    assert_eq!(done.status, ExportStatus::Succeeded, "{done:?}");
    assert_eq!(done.files, 5);
    let third = c.download(e.id, 3).await.unwrap();
    assert!(pdf_text(&third).contains("Dear Reader 2"));
    let (m, _) = c
        .create_export(
            &ExportRequest {
                template: Some(letter_template()),
                records: Some(letters(5)),
                merge: true,
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let done = c.wait_export(m.id, WAIT).await.unwrap();
    assert_eq!(done.status, ExportStatus::Succeeded, "{done:?}");
    assert_eq!((done.files, done.pages), (1, 5));
    let text = pdf_text(&c.download(m.id, 1).await.unwrap());
    assert!(text.contains("Dear Reader 0") && text.contains("Dear Reader 4"));
}

async fn an_idempotency_key_makes_creation_safe_to_retry(app: TestApp) {
    let c = &app.client;
    let req = ExportRequest {
        markdown: Some("# Once".into()),
        ..Default::default()
    };
    let (a, created_a) = c.create_export(&req, Some("order-17")).await.unwrap();
    let (b, created_b) = c.create_export(&req, Some("order-17")).await.unwrap();
    assert!(created_a && !created_b);
    assert_eq!(a.id, b.id);
    // Concurrent retries with a fresh key make one export.
    let tries = (0..6).map(|_| {
        let c = c.clone();
        let req = req.clone();
        tokio::spawn(async move { c.create_export(&req, Some("order-18")).await.unwrap() })
    });
    let mut ids = vec![];
    let mut created = 0;
    for t in tries {
        let (e, new) = t.await.unwrap();
        ids.push(e.id);
        created += usize::from(new);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one export for one key");
    assert_eq!(created, 1);
    // Another tenant may use the same key for its own export.
    let other = app.other_tenant().await;
    let (o, created_o) = other.create_export(&req, Some("order-17")).await.unwrap();
    assert!(created_o);
    assert_ne!(o.id, a.id);
}

async fn bad_data_fails_the_export_at_once_with_its_diagnostics(app: TestApp) {
    let c = &app.client;
    let mut records = letters(3);
    records[1] = json!({"n": 1});
    let (e, _) = c
        .create_export(
            &ExportRequest {
                template: Some(letter_template()),
                records: Some(records),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let done = c.wait_export(e.id, WAIT).await.unwrap();
    assert_eq!(done.status, ExportStatus::Failed);
    assert_eq!(done.attempts, 1, "a permanent failure is not retried");
    let errors = done.error.unwrap()["errors"].clone();
    assert_eq!(errors[0]["record"], 1, "{errors}");
    assert!(
        errors[0]["detail"].as_str().unwrap().contains("name"),
        "{errors}"
    );
    assert_eq!(c.download(e.id, 1).await.unwrap_err().status(), Some(400));
    // What no data can fix is refused before anything is queued.
    let err = c
        .create_export(
            &ExportRequest {
                template: Some(
                    json!({"ode": 1, "content": [{"type": "paragraph", "text": "{% if %}"}]}),
                ),
                data: Some(json!({})),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
}

/// Deliveries: signature, body, status answered.
type Deliveries = Arc<Mutex<Vec<(String, Vec<u8>, u16)>>>;

/// A webhook receiver that refuses the first delivery, then accepts.
async fn receiver() -> (String, Deliveries) {
    let got: Deliveries = Arc::default();
    let shared = got.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        let shared = shared.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let shared = shared.clone();
            async move {
                let sig = req
                    .headers()
                    .get("ode-signature")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                let mut got = shared.lock().unwrap();
                let status = if got.is_empty() { 500 } else { 200 };
                got.push((sig, body.to_vec(), status));
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://{addr}/hook"), got)
}

async fn a_finished_export_is_announced_once_by_a_signed_retried_webhook(app: TestApp) {
    let c = &app.client;
    let (url, got) = receiver().await;
    let hook = c
        .set_webhook(&WebhookInput {
            url: url.clone(),
            secret: None,
        })
        .await
        .unwrap();
    assert_eq!(hook.url, url);
    let (e, _) = c
        .create_export(
            &ExportRequest {
                markdown: Some("# Hooked".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    c.wait_export(e.id, WAIT).await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while got.lock().unwrap().iter().filter(|g| g.2 == 200).count() == 0 {
        assert!(std::time::Instant::now() < deadline, "no webhook arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate the time to show up, if there were one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "refused once, delivered once: {got:?}");
    for (sig, body, _) in &got {
        let t: i64 = sig
            .strip_prefix("t=")
            .and_then(|s| s.split(',').next())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            sig,
            &ode_sdk::service::webhook_signature(&hook.secret, t, body),
            "the signature verifies"
        );
        let event: WebhookEvent = serde_json::from_slice(body).unwrap();
        assert_eq!(event.kind, "export.succeeded");
        assert_eq!(event.export.id, e.id);
    }
}

async fn a_job_delivered_many_times_gives_one_result_and_one_webhook(app: TestApp) {
    let c = &app.client;
    let (url, got) = receiver().await;
    c.set_webhook(&WebhookInput { url, secret: None })
        .await
        .unwrap();
    let (e, _) = c
        .create_export(
            &ExportRequest {
                template: Some(letter_template()),
                records: Some(letters(20)),
                merge: true,
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    // The same job, delivered again four times at once (the worker has its own copy).
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let service = app.service.clone();
            tokio::spawn(async move { service.process_export(e.id, &format!("dup-{i}")).await })
        })
        .collect();
    for r in runs {
        r.await.unwrap().unwrap();
    }
    let done = c.wait_export(e.id, WAIT).await.unwrap();
    assert_eq!(done.status, ExportStatus::Succeeded);
    let finished = done
        .history
        .iter()
        .filter(|h| h.status == ExportStatus::Succeeded)
        .count();
    assert_eq!(finished, 1, "{:?}", done.history);
    // Delivered again after it finished: nothing happens.
    app.service.process_export(e.id, "late").await.unwrap();
    assert_eq!(
        c.export(e.id).await.unwrap().history.len(),
        done.history.len()
    );
    let deadline = std::time::Instant::now() + WAIT;
    while got.lock().unwrap().iter().filter(|g| g.2 == 200).count() == 0 {
        assert!(std::time::Instant::now() < deadline, "no webhook arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ok = got.lock().unwrap().iter().filter(|g| g.2 == 200).count();
    assert_eq!(ok, 1, "one webhook");
}

crate::both_backends!(
    a_job_delivered_many_times_gives_one_result_and_one_webhook,
    an_export_is_queued_rendered_and_downloaded,
    a_batch_gives_one_file_per_record_or_one_merged_file,
    an_idempotency_key_makes_creation_safe_to_retry,
    bad_data_fails_the_export_at_once_with_its_diagnostics,
    a_finished_export_is_announced_once_by_a_signed_retried_webhook,
);
