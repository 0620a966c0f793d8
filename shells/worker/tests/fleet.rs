//! The service as it runs on Kubernetes: two `ode-api` and two `ode-worker` processes
//! sharing PostgreSQL, Redis and S3 (moto). 500 exports; one worker is SIGKILLed and
//! Redis is restarted (losing every queued message) mid-run; every export must end
//! `succeeded` exactly once, with one webhook each. Then a worker sent SIGTERM must
//! finish the export it is rendering.
//!
//! The processes are the real binaries, built beside this test (`cargo nextest run
//! --workspace` builds them); this test runs its own Redis on a free port so that it
//! can restart it without disturbing other tests.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ode_sdk::api::{ExportRequest, WebhookInput};
use ode_sdk::client::Client;
use ode_sdk::domain::ExportStatus;
use serde_json::json;

fn bin(name: &str) -> PathBuf {
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let exe = std::env::current_exe().expect("test path");
    let dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace's binaries first (cargo build --workspace --bins)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn start(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (the test command installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Redis { port, child }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Proc(Child);

impl Proc {
    fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.0.id().to_string()])
            .status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn psql(sql: &str) {
    let ok = Command::new("psql")
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
        .status()
        .expect("psql runs")
        .success();
    assert!(ok, "{sql}");
}

fn env(db: &str, redis_port: u16, id: &str, port: u16) -> Vec<(String, String)> {
    let s3 =
        std::env::var("ODE_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:9000".into());
    [
        (
            "ODE__DATABASE__URL",
            format!("postgres://postgres@127.0.0.1:5432/{db}"),
        ),
        ("ODE__DATABASE__POOL_SIZE", "4".into()),
        ("ODE__QUEUE__URL", format!("redis://127.0.0.1:{redis_port}")),
        ("ODE__QUEUE__NAMESPACE", format!("fleet-{id}")),
        ("ODE__BLOBS__BACKEND", "s3".into()),
        ("ODE__BLOBS__S3__ENDPOINT", s3),
        ("ODE__BLOBS__S3__FORCE_PATH_STYLE", "true".into()),
        ("ODE__BLOBS__S3__ACCESS_KEY_ID", "test".into()),
        ("ODE__BLOBS__S3__SECRET_ACCESS_KEY", "test".into()),
        ("ODE__BLOBS__S3__DOCUMENTS_BUCKET", format!("d-{id}")),
        ("ODE__BLOBS__S3__EXPORTS_BUCKET", format!("e-{id}")),
        ("ODE__BLOBS__S3__FONTS_BUCKET", format!("f-{id}")),
        ("ODE__BLOBS__S3__CREATE_BUCKETS", "true".into()),
        ("ODE__API__PORT", port.to_string()),
        ("ODE__API__RATE_LIMIT_PER_SEC", "100000".into()),
        ("ODE__API__TENANT_RATE_LIMIT_PER_SEC", "100000".into()),
        ("ODE__WORKER__METRICS_PORT", "0".into()),
        // The webhook receiver listens on http://127.0.0.1.
        ("ODE__WEBHOOKS__ALLOW_HTTP", "true".into()),
        ("ODE__WEBHOOKS__ALLOW_PRIVATE_ADDRESSES", "true".into()),
        ("ODE__WORKER__LEASE_SECS", "5".into()),
        ("ODE__WORKER__REQUEUE_AFTER_SECS", "3".into()),
        ("ODE__WORKER__BACKOFF_MS", "100".into()),
        ("ODE__WORKER__CONCURRENCY", "2".into()),
        ("ODE__WORKER__SHUTDOWN_GRACE_SECS", "60".into()),
        ("RUST_LOG", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn spawn(name: &str, vars: &[(String, String)]) -> Proc {
    Proc(
        Command::new(bin(name))
            .envs(vars.iter().cloned())
            .stdout(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    )
}

async fn wait_ready(base: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/ready")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{base} never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Counts successful webhook deliveries per export.
async fn receiver() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let got: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let shared = got.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        let shared = shared.clone();
        App::new().default_service(web::to(move |body: web::Bytes| {
            let shared = shared.clone();
            async move {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let id = v["export"]["id"].as_str().unwrap_or("?").to_string();
                *shared.lock().unwrap().entry(id).or_default() += 1;
                HttpResponse::Ok().finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://{addr}/"), got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_exports_survive_a_killed_worker_and_a_redis_restart() {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let db = format!("ode_fleet_{id}");
    psql(&format!("CREATE DATABASE {db}"));
    let mut redis = Redis::start(free_port());
    let (api_ports, mut vars) = ([free_port(), free_port()], vec![]);
    for p in api_ports {
        vars.push(env(&db, redis.port, &id, p));
    }
    // One API first, so that migrations run once before the others start.
    let api1 = spawn("ode-api", &vars[0]);
    let base1 = format!("http://127.0.0.1:{}", api_ports[0]);
    wait_ready(&base1).await;
    let api2 = spawn("ode-api", &vars[1]);
    let base2 = format!("http://127.0.0.1:{}", api_ports[1]);
    wait_ready(&base2).await;
    let worker1 = spawn("ode-worker", &vars[0]);
    let worker2 = spawn("ode-worker", &vars[0]);

    // A tenant and its key, made with the admin side of the SDK on the same database.
    let mut settings = ode_sdk::config::Settings::load(None, vars[0].clone()).unwrap();
    settings.database.migrate = false;
    let (service, _q) = ode_sdk::service::connect(settings).await.unwrap();
    let tenant = service.create_tenant("fleet").await.unwrap();
    let (_, key) = service.create_api_key(tenant.id, "fleet").await.unwrap();
    let clients = [Client::new(&base1, &key), Client::new(&base2, &key)];
    let (hook, deliveries) = receiver().await;
    clients[0]
        .set_webhook(&WebhookInput {
            url: hook,
            secret: None,
        })
        .await
        .unwrap();

    let template = json!({"ode": 1, "content": [
        {"type": "heading", "level": 1, "text": "Invoice {{ n }}"},
        {"type": "paragraph", "text": "For {{ name }}: {{ amount }} EUR."}
    ]});
    let total = 500;
    let mut ids = Vec::with_capacity(total);
    let mut killed = None;
    let mut redis_restarted = false;
    for i in 0..total {
        let req = ExportRequest {
            template: Some(template.clone()),
            data: Some(json!({"n": i, "name": format!("Customer {i}"), "amount": i * 3})),
            ..Default::default()
        };
        // Creation is retried with its idempotency key, as a careful client does.
        let key = format!("fleet-{i}");
        let export = loop {
            match clients[i % 2].create_export(&req, Some(&key)).await {
                Ok((e, _)) => break e,
                Err(e) if e.status() == Some(503) || e.status().is_none() => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("export {i}: {e}"),
            }
        };
        ids.push(export.id);
        if i == 150 && killed.is_none() {
            worker1.signal("-KILL");
            killed = Some(worker1.0.id());
        }
        if i == 300 && !redis_restarted {
            redis.kill();
            tokio::time::sleep(Duration::from_millis(500)).await;
            redis = Redis::start(redis.port);
            redis_restarted = true;
        }
    }
    assert!(killed.is_some() && redis_restarted);

    // Every export ends succeeded.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut pending: Vec<_> = ids.clone();
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} exports never finished, e.g. {:?}",
            pending.len(),
            clients[0].export(pending[0]).await
        );
        let mut still = vec![];
        for id in pending {
            let e = clients[0].export(id).await.unwrap();
            match e.status {
                ExportStatus::Succeeded => {}
                ExportStatus::Failed => panic!("export {id} failed: {:?}", e.error),
                _ => still.push(id),
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    // Exactly once: one `succeeded` event each, a result each, one webhook each.
    for (i, id) in ids.iter().enumerate() {
        let e = clients[1].export(*id).await.unwrap();
        let succeeded = e
            .history
            .iter()
            .filter(|h| h.status == ExportStatus::Succeeded)
            .count();
        assert_eq!(succeeded, 1, "export {i}: {:?}", e.history);
        assert_eq!(e.files, 1);
    }
    let sample = clients[0].download(ids[499], 1).await.unwrap();
    assert!(sample.starts_with(b"%PDF"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got = deliveries.lock().unwrap().clone();
        if got.len() >= total {
            assert_eq!(got.len(), total);
            assert!(got.values().all(|n| *n == 1), "a webhook was sent twice");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} webhooks of {total}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // SIGTERM: the worker finishes what it is rendering, then exits cleanly.
    drop(worker2);
    let mut lone = spawn("ode-worker", &vars[0]);
    let pages: Vec<_> = (0..400)
        .map(|i| json!({"type": "paragraph", "text": format!("Paragraph {i} of a long report. ").repeat(20)}))
        .collect();
    let (slow, _) = clients[0]
        .create_export(
            &ExportRequest {
                document: Some(json!({"ode": 1, "content": pages})),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let e = clients[0].export(slow.id).await.unwrap();
        if e.status == ExportStatus::Running {
            break;
        }
        assert!(
            e.status == ExportStatus::Queued,
            "{e:?}: finished too fast to test SIGTERM"
        );
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    lone.signal("-TERM");
    let status = tokio::task::spawn_blocking(move || {
        let s = lone.0.wait();
        std::mem::forget(lone);
        s
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        status.success(),
        "the worker exits cleanly after SIGTERM: {status}"
    );
    let e = clients[0].export(slow.id).await.unwrap();
    assert_eq!(
        e.status,
        ExportStatus::Succeeded,
        "finished before exiting: {e:?}"
    );
    assert_eq!(e.attempts, 1);
    drop((api1, api2));
    psql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}
