//! What a hostile or careless client sends: requests dropped half-way, reused
//! idempotency keys, image bombs, SVGs pointing at the server's files, renders that
//! outgrow their memory or time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::helpers::{Backend, TestApp, spawn_with};

/// Counts panics anywhere in this test's process (nextest runs each test in its own).
fn count_panics() -> Arc<AtomicUsize> {
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = panics.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    panics
}

async fn requests_dropped_half_way_leave_the_server_working(app: TestApp) {
    let panics = count_panics();
    let http = app.http();
    let docs = format!("{}/v1/documents", app.address);
    let body = json!({"kind": "document", "name": "n",
        "source": {"ode": 1, "content": [{"type": "paragraph", "text": "x"}]}});
    // Reads and writes, each given up after a few hundred microseconds: many of them
    // while their query or transaction runs.
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let (http, docs, body, key) = (http.clone(), docs.clone(), body.clone(), app.key.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..100u64 {
                let wait = Duration::from_micros(100 + ((i * 7 + t) % 80) * 50);
                let request = if i % 2 == 0 {
                    http.post(&docs).bearer_auth(&key).json(&body)
                } else {
                    // An unknown key is looked up in the database every time.
                    http.get(&docs)
                        .bearer_auth(format!("ode_{:064x}", t * 1000 + i))
                };
                let _ = tokio::time::timeout(wait, request.send()).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Everything still answers, and nothing panicked on the way.
    let list = app.client.documents(None, None, None).await.unwrap();
    let created = app
        .client
        .create_document(&serde_json::from_value(body).unwrap())
        .await
        .unwrap();
    assert_eq!(app.client.document(created.id).await.unwrap().version, 1);
    assert!(list.items.len() <= 400);
    assert_eq!(panics.load(Ordering::SeqCst), 0, "panics in the server");
}

/// Creates an export and waits for it to succeed; its id.
async fn exported(
    app: &TestApp,
    request: ode_sdk::api::ExportRequest,
) -> ode_sdk::domain::ExportId {
    let (export, _) = app.client.create_export(&request, None).await.unwrap();
    let done = app
        .client
        .wait_export(export.id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(done.status, ode_sdk::domain::ExportStatus::Succeeded);
    export.id
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A PNG whose header claims `w` × `h` pixels, with no real image data.
fn claimed_png(w: u32, h: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&w.to_be_bytes());
    png.extend_from_slice(&h.to_be_bytes());
    png.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0, 0]);
    png
}

/// Posts a render request; the status, the content type and the body.
async fn render(app: &TestApp, body: serde_json::Value) -> (u16, String, Vec<u8>) {
    let r = app
        .http()
        .post(format!("{}/v1/render", app.address))
        .bearer_auth(&app.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

fn errors(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice::<serde_json::Value>(body).unwrap()["errors"].clone()
}

async fn an_svg_pointing_at_the_servers_files_gets_nothing_from_them(app: TestApp) {
    // A PNG on the server's disk, of a size nothing else has, and a named pipe.
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.png");
    std::fs::write(&secret, image_13x11()).unwrap();
    let fifo = dir.path().join("pipe.png");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="50">
        <image href="{}" width="10" height="10"/><image xlink:href="file://{}" width="10" height="10"/>
        <image href="{}" width="10" height="10"/><image href="../../etc/hostname" width="10" height="10"/>
        <text x="5" y="40" font-family="sans-serif" font-size="12">Revenue</text></svg>"#,
        secret.display(),
        secret.display(),
        fifo.display()
    );
    let (status, ct, pdf) = render(
        &app,
        json!({"document": {"ode": 1, "content": [{"type": "image", "src": "chart.svg", "width": "8cm"}]},
               "assets": {"chart.svg": b64(svg.as_bytes())}}),
    )
    .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    let text = crate::helpers::pdf_text(&pdf);
    assert!(
        text.contains("Revenue"),
        "the SVG's label is text in the PDF: {text}"
    );
    assert!(
        !pdf.windows(9).any(|w| w == b"/Width 13"),
        "the server's file is not in the tenant's PDF"
    );
}

/// A 13 × 11 PNG.
fn image_13x11() -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 13, 11);
    enc.set_color(png::ColorType::Grayscale);
    let mut w = enc.write_header().unwrap();
    w.write_image_data(&[128; 13 * 11]).unwrap();
    w.finish().unwrap();
    out
}

async fn an_image_bomb_is_refused_at_its_path(app: TestApp) {
    let (status, _, body) = render(
        &app,
        json!({"document": {"ode": 1, "content": [{"type": "image", "src": "bomb.png", "width": "5cm"}]},
               "assets": {"bomb.png": b64(&claimed_png(20_000, 20_000))}}),
    )
    .await;
    assert_eq!(status, 422);
    let e = &errors(&body)[0];
    assert_eq!(e["path"], "/content/0/src");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("is 20000 × 20000 pixels (400 megapixels), over the limit of 50 megapixels"),
        "{e}"
    );
}

async fn a_small_request_that_expands_without_end_is_refused_at_its_loop(app: TestApp) {
    // 185 bytes asking for a million paragraphs.
    let (status, _, body) = render(
        &app,
        json!({"template": {"ode": 1, "content": [{"$each": "range(1000)", "as": "i", "do":
            {"$each": "range(1000)", "as": "j", "do": {"type": "paragraph", "text": "{{ i }} {{ j }}"}}}]},
            "data": {}}),
    )
    .await;
    assert_eq!(status, 422);
    let e = &errors(&body)[0];
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("grows past the limit of 128 MB (the max_template_bytes setting)"),
        "{e}"
    );
    assert!(
        e["path"].as_str().unwrap().starts_with("/content/0/do/do"),
        "{e}"
    );
}

async fn svg_and_png_of_several_pages_come_as_a_zip_of_every_page(app: TestApp) {
    let doc = json!({"ode": 1, "content": [
        {"type": "paragraph", "text": "one"}, {"type": "page_break"},
        {"type": "paragraph", "text": "two"}, {"type": "page_break"},
        {"type": "paragraph", "text": "three"}]});
    for format in ["svg", "png"] {
        let (status, ct, body) = render(&app, json!({"document": doc, "format": format})).await;
        assert_eq!((status, ct.as_str()), (200, "application/zip"), "{format}");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
        let names: Vec<String> = zip.file_names().map(str::to_string).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        for i in 1..=3 {
            let mut page = Vec::new();
            std::io::Read::read_to_end(
                &mut zip.by_name(&format!("page-{i}.{format}")).unwrap(),
                &mut page,
            )
            .unwrap();
            let magic: &[u8] = if format == "svg" { b"<svg" } else { b"\x89PNG" };
            assert!(page.starts_with(magic), "{format} page {i}");
        }
        // One page asked for: that page alone.
        let (status, ct, page) =
            render(&app, json!({"document": doc, "format": format, "page": 2})).await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("image/"), "{ct}");
        if format == "svg" {
            assert!(String::from_utf8(page).unwrap().contains("<svg"));
        }
        // Pages count from 1, and up to the last.
        let (status, _, body) =
            render(&app, json!({"document": doc, "format": format, "page": 0})).await;
        assert_eq!(status, 400, "{format} page 0");
        assert_eq!(errors(&body)[0]["path"], "/page");
        let (status, _, body) =
            render(&app, json!({"document": doc, "format": format, "page": 4})).await;
        assert_eq!(status, 400);
        assert_eq!(errors(&body)[0]["code"], "no_such_page");
    }
    // An export of it downloads as the same zip.
    let export = exported(
        &app,
        ode_sdk::api::ExportRequest {
            document: Some(doc),
            format: ode_sdk::domain::ExportFormat::Svg,
            ..Default::default()
        },
    )
    .await;
    let file = app.client.download(export, 1).await.unwrap();
    let zip = zip::ZipArchive::new(std::io::Cursor::new(file)).unwrap();
    assert_eq!(zip.len(), 3);
}

async fn an_idempotency_key_reused_for_another_request_is_refused(app: TestApp) {
    let http = app.http();
    let url = format!("{}/v1/exports", app.address);
    let send = |body: serde_json::Value| {
        http.post(&url)
            .bearer_auth(&app.key)
            .header("idempotency-key", "order-42")
            .json(&body)
            .send()
    };
    let first = json!({"document": {"ode": 1, "content": [{"type": "paragraph", "text": "a"}]}, "format": "pdf"});
    let r = send(first.clone()).await.unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"].clone();
    // The same request again (its keys in another order): the same export.
    let again = json!({"format": "pdf", "document": {"content": [{"text": "a", "type": "paragraph"}], "ode": 1}});
    let r = send(again).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["id"], id);
    // Another request with the same key: refused, and it names the key.
    let other = json!({"document": {"ode": 1, "content": [{"type": "paragraph", "text": "b"}]}, "format": "pdf"});
    let r = send(other).await.unwrap();
    assert_eq!(r.status(), 422);
    let e = &r.json::<serde_json::Value>().await.unwrap()["errors"][0];
    assert_eq!(e["code"], "idempotency_key_reused");
    assert_eq!(e["path"], "Idempotency-Key");
}

async fn fonts_that_break_font_libraries_are_422_and_the_server_goes_on(app: TestApp) {
    let found = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../ode-core/fuzz/regressions/font");
    for name in [
        "name-offset-overflow.ttf",
        "post-table-short.ttf",
        "name-offset-overflow-2.ttf",
    ] {
        let bytes = std::fs::read(found.join(name)).unwrap();
        let e = app.client.upload_font(name, bytes).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{name}");
    }
    assert!(app.client.fonts().await.unwrap().is_empty());
    let (status, _, _) = render(
        &app,
        json!({"document": {"ode": 1, "content": [{"type": "paragraph", "text": "still here"}]}}),
    )
    .await;
    assert_eq!(status, 200);
}

crate::both_backends!(
    a_small_request_that_expands_without_end_is_refused_at_its_loop,
    fonts_that_break_font_libraries_are_422_and_the_server_goes_on,
    requests_dropped_half_way_leave_the_server_working,
    an_svg_pointing_at_the_servers_files_gets_nothing_from_them,
    an_image_bomb_is_refused_at_its_path,
    svg_and_png_of_several_pages_come_as_a_zip_of_every_page,
    an_idempotency_key_reused_for_another_request_is_refused,
);

/// A template whose table grows to `rows` rows.
fn big_table(rows: usize) -> serde_json::Value {
    json!({"template": {"ode": 1, "content": [{"type": "table", "columns": ["1fr", "2fr", "1fr"],
        "rows": [{"$each": format!("range({rows})"), "do": [["{{ item }}", "row {{ item }} of the table", "{{ item * 3 }}"]]}]}]},
        "data": {}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_over_its_memory_limit_is_refused_and_small_ones_go_on() {
    let app = spawn_with(Backend::Embedded, |s| s.limits.render_memory_mb = 8).await;
    let (status, _, body) = render(&app, big_table(20_000)).await;
    assert_eq!(status, 422);
    let e = &errors(&body)[0];
    assert_eq!(e["code"], "memory_limit");
    assert!(
        e["detail"].as_str().unwrap().contains("more than 8 MB"),
        "{e}"
    );
    let (status, ct, _) = render(&app, big_table(10)).await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_past_its_time_budget_stops_working() {
    let app = spawn_with(Backend::Embedded, |s| {
        s.limits.render_timeout_ms = 300;
        s.limits.engine.max_pages = 20_000;
        s.limits.render_memory_mb = 4096;
    })
    .await;
    let (status, _, _) = render(&app, big_table(100_000)).await;
    assert_eq!(status, 504);
    // The render stops at its next step instead of running on for seconds: its slot
    // comes back soon after the answer.
    let mut running = app.service.render_load().0;
    for _ in 0..50 {
        if running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        running = app.service.render_load().0;
    }
    assert_eq!(running, 0, "the render went on after its 504");
}

/// A receiver on every interface that counts what it gets; its port.
fn counting_receiver(count: Arc<AtomicUsize>) -> u16 {
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = actix_web::HttpServer::new(move || {
        let count = count.clone();
        actix_web::App::new().default_service(actix_web::web::to(move || {
            count.fetch_add(1, Ordering::SeqCst);
            async { actix_web::HttpResponse::Ok().finish() }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    port
}

/// This machine's own name, which resolves to one of its own (non-public) addresses.
async fn own_host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let addrs: Vec<_> = tokio::net::lookup_host((name.as_str(), 0))
        .await
        .unwrap()
        .collect();
    assert!(
        !addrs.is_empty() && addrs.iter().all(|a| !ode_sdk::egress::is_public(a.ip())),
        "this test needs the machine's name to resolve to its own private addresses: {name} is {addrs:?}"
    );
    name
}

/// Plants a webhook URL in the database (as if accepted under other settings, or a
/// name that resolved elsewhere then), runs an export and counts what arrives.
async fn delivered_to_planted_url(app: &TestApp, url: &str, count: &AtomicUsize) -> usize {
    app.service
        .db()
        .set_webhook(app.tenant, Some(url), Some("0123456789abcdef0123"))
        .await
        .unwrap();
    let before = count.load(Ordering::SeqCst);
    let export = exported(
        app,
        ode_sdk::api::ExportRequest {
            document: Some(json!({"ode": 1, "content": []})),
            ..Default::default()
        },
    )
    .await;
    // Wait until the delivery is over (sent or given up: the pending flag clears).
    for _ in 0..100 {
        let e = app
            .service
            .db()
            .export(app.tenant, export)
            .await
            .unwrap()
            .unwrap();
        if !e.webhook_pending {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    count.load(Ordering::SeqCst) - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_never_go_to_private_addresses() {
    let app = spawn_with(Backend::Embedded, |s| {
        s.webhooks.allow_http = true;
        s.webhooks.allow_private_addresses = false;
    })
    .await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/hook",
        "http://localhost:9/hook",
        "http://10.0.0.5/hook",
    ] {
        let r = app
            .client
            .set_webhook(&ode_sdk::api::WebhookInput {
                url: url.into(),
                secret: None,
            })
            .await;
        assert_eq!(r.unwrap_err().status(), Some(400), "{url}");
    }
    // A URL that got in anyway (accepted under other settings, or a name that now
    // resolves to a private address) is checked again when the webhook is sent: by name
    // (localhost) and by what the name resolves to (this machine's own name).
    let count = Arc::new(AtomicUsize::new(0));
    let port = counting_receiver(count.clone());
    let host = own_host_name().await;
    for url in [
        format!("http://localhost:{port}/hook"),
        format!("http://{host}:{port}/hook"),
    ] {
        assert_eq!(
            delivered_to_planted_url(&app, &url, &count).await,
            0,
            "{url}"
        );
    }
    // The same URL is delivered to where private addresses are allowed: the refusals
    // above are the policy, not a broken receiver.
    let open = spawn_with(Backend::Embedded, |s| {
        s.webhooks.allow_http = true;
        s.webhooks.allow_private_addresses = true;
    })
    .await;
    let url = format!("http://{host}:{port}/hook");
    assert_eq!(delivered_to_planted_url(&open, &url, &count).await, 1);
}
