//! Starting the API (with an in-process worker) on port 0, on embedded defaults or on
//! PostgreSQL + Redis + S3 (moto), with a fresh database, queue namespace and buckets
//! per test.

use std::path::PathBuf;
use std::process::Command;

use ode_sdk::client::Client;
use ode_sdk::config::{BlobBackend, Secret, Settings};
use ode_sdk::domain::TenantId;
use ode_sdk::service::Service;

/// Which adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file, local blobs, in-memory queue.
    Embedded,
    /// PostgreSQL, Redis, S3.
    Production,
}

/// A running API for one test.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client with the first tenant's key.
    pub client: Client,
    /// The first tenant.
    pub tenant: TenantId,
    /// The service behind the API.
    pub service: Service,
    /// The first tenant's key.
    pub key: String,
    /// Which backend.
    pub backend: Backend,
    server: actix_web::dev::ServerHandle,
    stop_worker: Option<tokio::sync::oneshot::Sender<()>>,
    worker: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    database: Option<String>,
    _dir: tempfile::TempDir,
}

pub const PG: &str = "postgres://postgres@127.0.0.1:5432";
pub const REDIS: &str = "redis://127.0.0.1:6379";

pub fn s3_endpoint() -> String {
    std::env::var("ODE_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:9000".into())
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-qAtc",
            sql,
        ])
        .output()
        .expect("psql runs (the test command installs PostgreSQL)");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Settings for a backend, in a fresh data directory.
pub fn settings(backend: Backend, dir: &std::path::Path) -> (Settings, Option<String>) {
    let mut s = Settings {
        data_dir: ode_sdk::config::DataDir(dir.to_path_buf()),
        ..Settings::default()
    };
    s.api.port = 0;
    s.api.workers = 2;
    s.worker.metrics_port = 0;
    s.worker.backoff_ms = 50;
    s.worker.requeue_after_secs = 2;
    s.worker.lease_secs = 10;
    s.worker.concurrency = 2;
    s.worker.webhook_attempts = 4;
    s.api.rate_limit_per_sec = 10_000;
    s.api.tenant_rate_limit_per_sec = 10_000;
    // The tests' webhook receivers listen on http://127.0.0.1.
    s.webhooks.allow_http = true;
    s.webhooks.allow_private_addresses = true;
    let mut database = None;
    if backend == Backend::Production {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let db = format!("ode_test_{id}");
        psql(&format!("CREATE DATABASE {db}"));
        s.database.url = Secret::new(format!("{PG}/{db}"));
        s.database.pool_size = 8;
        database = Some(db);
        s.queue.url = Secret::new(REDIS);
        s.queue.namespace = format!("ode-test-{id}");
        s.blobs.backend = BlobBackend::S3;
        s.blobs.s3.endpoint = Some(s3_endpoint());
        s.blobs.s3.force_path_style = true;
        s.blobs.s3.access_key_id = Some("test".into());
        s.blobs.s3.secret_access_key = Some(Secret::new("test"));
        s.blobs.s3.documents_bucket = format!("d-{id}");
        s.blobs.s3.exports_bucket = format!("e-{id}");
        s.blobs.s3.fonts_bucket = format!("f-{id}");
        s.blobs.s3.create_buckets = true;
    }
    (s, database)
}

/// Starts an app; `tune` may change the settings first.
pub async fn spawn_with(backend: Backend, tune: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut s, database) = settings(backend, dir.path());
    tune(&mut s);
    let (service, queue) = ode_sdk::service::connect(s).await.expect("service starts");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let (server, addr) = ode_api::start(service.clone(), listener).expect("API starts");
    let handle = server.handle();
    tokio::spawn(server);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(ode_worker::run(service.clone(), queue, async move {
        let _ = rx.await;
    }));
    let tenant = service.create_tenant("first").await.expect("tenant");
    let (_, key) = service
        .create_api_key(tenant.id, "test")
        .await
        .expect("key");
    let address = format!("http://{addr}");
    TestApp {
        client: Client::new(&address, &key),
        address,
        tenant: tenant.id,
        service,
        key,
        backend,
        server: handle,
        stop_worker: Some(tx),
        worker: Some(worker),
        database,
        _dir: dir,
    }
}

/// Starts an app with the test settings.
pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

impl TestApp {
    /// A client for a second tenant of the same service.
    pub async fn other_tenant(&self) -> Client {
        let t = self.service.create_tenant("second").await.expect("tenant");
        let (_, key) = self
            .service
            .create_api_key(t.id, "other")
            .await
            .expect("key");
        self.client.with_key(&key)
    }

    /// A plain HTTP client (no key).
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Stops the server (finishing requests in flight), then the worker (finishing
    /// its jobs), as `ode serve` does.
    pub async fn stop(mut self) {
        self.server.stop(true).await;
        if let Some(tx) = self.stop_worker.take() {
            let _ = tx.send(());
        }
        if let Some(w) = self.worker.take() {
            let _ = w.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop_worker.take() {
            let _ = tx.send(());
        }
        if let Some(db) = self.database.take() {
            // Best effort: connections of this test may still be open.
            let _ = Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-qAtc",
                    &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

/// The examples folder.
pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// An example file as JSON.
pub fn example(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(examples().join(name)).expect("example exists");
    serde_json::from_str(&text).expect("example is JSON")
}

/// The example's files under `examples/assets/`, base64, keyed by their `src`.
pub fn example_assets() -> std::collections::BTreeMap<String, String> {
    use base64::Engine as _;
    let mut map = std::collections::BTreeMap::new();
    for name in ["logo.svg", "chart.png", "photo.jpg"] {
        let bytes = std::fs::read(examples().join("assets").join(name)).expect("asset exists");
        map.insert(
            format!("assets/{name}"),
            base64::engine::general_purpose::STANDARD.encode(bytes),
        );
    }
    map
}

/// Runs `pdftotext` on PDF bytes.
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path().join("x.pdf");
    std::fs::write(&p, pdf).expect("write");
    let out = Command::new("pdftotext")
        .arg(&p)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `pdffonts` on PDF bytes: the font table.
pub fn pdf_fonts(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path().join("x.pdf");
    std::fs::write(&p, pdf).expect("write");
    let out = Command::new("pdffonts")
        .arg(&p)
        .output()
        .expect("pdffonts runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
