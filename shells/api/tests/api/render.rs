//! `POST /v1/render`.

use ode_sdk::api::{ErrorBody, RenderRequest};
use ode_sdk::domain::ExportFormat;
use serde_json::json;

use crate::helpers::{TestApp, example, example_assets, pdf_text};

async fn a_document_renders_to_pdf_svg_and_png(app: TestApp) {
    let invoice = example("invoice.json");
    let pdf = app
        .client
        .render(&RenderRequest {
            document: Some(invoice.clone()),
            assets: Some(example_assets()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert_eq!(pdf.pages, 1);
    assert!(pdf_text(&pdf.bytes).contains("Invoice"));
    let svg = app
        .client
        .render(&RenderRequest {
            document: Some(invoice.clone()),
            assets: Some(example_assets()),
            format: ExportFormat::Svg,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(String::from_utf8(svg.bytes).unwrap().contains("<svg"));
    let png = app
        .client
        .render(&RenderRequest {
            document: Some(invoice),
            assets: Some(example_assets()),
            format: ExportFormat::Png,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(png.bytes.starts_with(b"\x89PNG"));
}

async fn a_template_renders_with_its_data_and_markdown_renders(app: TestApp) {
    let t = example("invoice-template.json");
    let data = example("invoice-data.json");
    let pdf = app
        .client
        .render(&RenderRequest {
            template: Some(t),
            data: Some(data.clone()),
            assets: Some(example_assets()),
            ..Default::default()
        })
        .await
        .unwrap();
    let text = pdf_text(&pdf.bytes);
    let customer = data["buyer"]["name"].as_str().unwrap_or("");
    assert!(!customer.is_empty() && text.contains(customer), "{text}");
    let md = app
        .client
        .render(&RenderRequest {
            markdown: Some("# Minutes\n\nThe *board* met.\n".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(pdf_text(&md.bytes).contains("Minutes"));
}

async fn an_invalid_document_is_a_422_naming_the_path(app: TestApp) {
    let err = app
        .client
        .render(&RenderRequest {
            document: Some(json!({"ode": 1, "content": [{"type": "paragraph", "txet": "x"}]})),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let ode_sdk::client::ClientError::Api { status, errors, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(status, 422);
    assert!(
        errors
            .iter()
            .any(|e| e.path.as_deref() == Some("/content/0/txet")
                || e.path
                    .as_deref()
                    .is_some_and(|p| p.starts_with("/content/0"))),
        "{errors:?}"
    );
    assert!(
        errors.iter().all(|e| e.code == "invalid_document"),
        "{errors:?}"
    );
}

async fn malformed_bodies_are_400s_with_where(app: TestApp) {
    let http = app.http();
    let url = format!("{}/v1/render", app.address);
    let r = http
        .post(&url)
        .bearer_auth(&app.key)
        .body("{\"document\": {\"ode\": 1,\n \"content\": [}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: ErrorBody = r.json().await.unwrap();
    assert!(body.errors[0].detail.contains("line 2"), "{body:?}");
    // Two sources at once.
    let r = http
        .post(&url)
        .bearer_auth(&app.key)
        .json(&json!({"document": {"ode": 1, "content": []}, "markdown": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // An unknown field names its path.
    let r = http
        .post(&url)
        .bearer_auth(&app.key)
        .json(&json!({"markdown": "x", "fromat": "pdf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: ErrorBody = r.json().await.unwrap();
    assert!(body.errors[0].detail.contains("fromat"), "{body:?}");
    // A wrong type names its path.
    let r = http
        .post(&url)
        .bearer_auth(&app.key)
        .json(&json!({"markdown": "x", "format": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: ErrorBody = r.json().await.unwrap();
    assert_eq!(body.errors[0].path.as_deref(), Some("/format"), "{body:?}");
    // A page the document does not have.
    let r = http
        .post(&url)
        .bearer_auth(&app.key)
        .json(&json!({"markdown": "x", "format": "svg", "page": 9}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

async fn limits_answer_413_and_422(app: TestApp) {
    let http = app.http();
    let url = format!("{}/v1/render", app.address);
    let big = "x".repeat(app.service.settings().limits.max_body_bytes + 10);
    let r = http
        .post(&url)
        .bearer_auth(&app.key)
        .json(&json!({ "markdown": big }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: ErrorBody = r.json().await.unwrap();
    assert_eq!(body.errors[0].code, "too_large");
    // A base64 asset that is not base64 is named.
    let r = http
        .post(&url)
        .bearer_auth(&app.key)
        .json(&json!({ "markdown": "![x](a.png)", "assets": {"a.png": "%%%"} }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: ErrorBody = r.json().await.unwrap();
    assert_eq!(
        body.errors[0].path.as_deref(),
        Some("/assets/a.png"),
        "{body:?}"
    );
}

crate::both_backends!(
    a_document_renders_to_pdf_svg_and_png,
    a_template_renders_with_its_data_and_markdown_renders,
    an_invalid_document_is_a_422_naming_the_path,
    malformed_bodies_are_400s_with_where,
    limits_answer_413_and_422,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_over_its_time_budget_is_a_504() {
    let app = crate::helpers::spawn_with(crate::helpers::Backend::Embedded, |s| {
        s.limits.render_timeout_ms = 1;
    })
    .await;
    let r = app
        .http()
        .post(format!("{}/v1/render", app.address))
        .bearer_auth(&app.key)
        .json(&json!({ "document": example("report.json"), "assets": example_assets() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    let body: ErrorBody = r.json().await.unwrap();
    assert_eq!(body.errors[0].code, "timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_over_the_page_budget_is_a_422() {
    let app = crate::helpers::spawn_with(crate::helpers::Backend::Embedded, |s| {
        s.limits.engine.max_pages = 3;
    })
    .await;
    let content: Vec<_> = (0..5)
        .flat_map(|i| {
            [
                json!({"type": "paragraph", "text": format!("page {i}")}),
                json!({"type": "page_break"}),
            ]
        })
        .collect();
    let r = app
        .http()
        .post(format!("{}/v1/render", app.address))
        .bearer_auth(&app.key)
        .json(&json!({ "document": {"ode": 1, "content": content} }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: ErrorBody = r.json().await.unwrap();
    assert!(body.errors[0].detail.contains("page"), "{body:?}");
}
