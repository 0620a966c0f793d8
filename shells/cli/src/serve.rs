//! `ode serve` (the API and a worker in one process, on embedded defaults unless the
//! settings say otherwise) and `ode admin` (tenants and API keys).

use std::path::{Path, PathBuf};

use ode_sdk::config::Settings;
use ode_sdk::domain::TenantId;

use crate::Failure;

/// Settings for `serve` and `admin`: the file, then `ODE__…` variables, then flags.
pub fn settings(
    config: Option<&Path>,
    data_dir: Option<PathBuf>,
    host: Option<String>,
    port: Option<u16>,
) -> Result<Settings, Failure> {
    let mut s = Settings::from_env(config).map_err(|e| Failure(2, format!("error: {e}")))?;
    if let Some(d) = data_dir {
        s.data_dir = ode_sdk::config::DataDir(d);
    }
    if let Some(h) = host {
        s.api.host = h;
    }
    if let Some(p) = port {
        s.api.port = p;
    }
    Ok(s)
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure(1, format!("error: starting the runtime: {e}")))
}

async fn connect(
    settings: Settings,
) -> Result<(ode_sdk::service::Service, ode_sdk::jobs::Queue), Failure> {
    std::fs::create_dir_all(&settings.data_dir.0).map_err(|e| {
        Failure(
            1,
            format!("error: creating {}: {e}", settings.data_dir.0.display()),
        )
    })?;
    ode_sdk::service::connect(settings)
        .await
        .map_err(|e| Failure(1, format!("error: {e}")))
}

/// Runs the API and a worker until SIGTERM or Ctrl-C.
pub fn serve(settings: Settings) -> Result<(), Failure> {
    runtime()?.block_on(async move {
        ode_api::telemetry::init_logging();
        let mut settings = settings;
        // One process: the API's /metrics already shows exports and queue depth, so the
        // worker's own metrics port stays closed unless it is asked for.
        if std::env::var_os("ODE__WORKER__METRICS_PORT").is_none() {
            settings.worker.metrics_port = 0;
        }
        if settings.api.viewer_dir.is_none() {
            settings.api.viewer_dir = built_viewer();
        }
        let viewer_dir = settings.api.viewer_dir.clone();
        let addr = format!("{}:{}", settings.api.host, settings.api.port);
        let data_dir = settings.data_dir.0.clone();
        let (service, queue) = connect(settings).await?;
        let key_note = first_key(&service, &data_dir).await?;
        let listener = std::net::TcpListener::bind(&addr)
            .map_err(|e| Failure(1, format!("error: cannot listen on {addr}: {e}")))?;
        let (server, bound) = ode_api::start(service.clone(), listener)
            .map_err(|e| Failure(1, format!("error: {e}")))?;
        eprintln!("ODE is running at http://{bound}/");
        eprintln!("  API docs:  http://{bound}/docs  (OpenAPI: http://{bound}/v1/openapi.json)");
        match &viewer_dir {
            Some(dir) if dir.join("index.html").is_file() => {
                eprintln!("  Viewer:    http://{bound}/");
            }
            Some(dir) => eprintln!(
                "  Viewer:    http://{bound}/  (but {} has no index.html)",
                dir.display()
            ),
            None => eprintln!("  Viewer:    not built (./scripts/build-viewer.sh builds it)"),
        }
        eprintln!("  {key_note}");
        eprintln!("  data:      {}", data_dir.display());
        eprintln!("Stop with Ctrl-C.");
        let handle = server.handle();
        let api = tokio::spawn(server);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(ode_worker::run(service, queue, async move {
            let _ = stop_rx.await;
        }));
        ode_api::shutdown_signal().await;
        eprintln!("Stopping: finishing requests and jobs in flight…");
        handle.stop(true).await;
        let _ = api.await;
        let _ = stop_tx.send(());
        match worker.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Failure(1, format!("error: {e}"))),
            Err(e) => Err(Failure(1, format!("error: worker: {e}"))),
        }
    })
}

/// The viewer built in this repository (`shells/viewer/dist`), when it is there.
fn built_viewer() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../viewer/dist"));
    dir.join("index.html").is_file().then_some(dir)
}

/// On first start, a tenant and an API key, written to `<data dir>/api-key` (mode
/// 0600) so that the next start can point at it. A line telling where the key is.
async fn first_key(
    service: &ode_sdk::service::Service,
    data_dir: &Path,
) -> Result<String, Failure> {
    let file = data_dir.join("api-key");
    let tenants = service
        .db()
        .tenants()
        .await
        .map_err(|e| Failure(1, format!("error: {e}")))?;
    if !tenants.is_empty() {
        return Ok(if file.exists() {
            format!("API key:   in {}", file.display())
        } else {
            "API keys:  create one with `ode admin create-key --tenant <id>`".to_string()
        });
    }
    let tenant = service
        .create_tenant("local")
        .await
        .map_err(|e| Failure(1, format!("error: {e}")))?;
    let (_, key) = service
        .create_api_key(tenant.id, "created by ode serve")
        .await
        .map_err(|e| Failure(1, format!("error: {e}")))?;
    write_secret(&file, &key)?;
    Ok(format!("API key:   {key}  (saved in {})", file.display()))
}

fn write_secret(path: &Path, value: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(|e| Failure(1, format!("error: writing {}: {e}", path.display())))?;
    writeln!(f, "{value}")
        .map_err(|e| Failure(1, format!("error: writing {}: {e}", path.display())))
}

/// What `ode admin` does.
pub enum Admin {
    /// A tenant and its first key.
    CreateTenant {
        /// Its name.
        name: String,
    },
    /// Another key for a tenant.
    CreateKey {
        /// The tenant.
        tenant: String,
        /// The key's name.
        name: String,
    },
    /// Every tenant.
    ListTenants,
}

/// Runs an admin command; prints JSON on standard output.
pub fn admin(settings: Settings, what: Admin) -> Result<(), Failure> {
    runtime()?.block_on(async move {
        let (service, _queue) = connect(settings).await?;
        let fail = |e: ode_sdk::service::ServiceError| Failure(1, format!("error: {e}"));
        let out = match what {
            Admin::CreateTenant { name } => {
                let tenant = service.create_tenant(&name).await.map_err(fail)?;
                let (key, secret) = service
                    .create_api_key(tenant.id, "first key")
                    .await
                    .map_err(fail)?;
                serde_json::json!({"tenant_id": tenant.id, "name": tenant.name, "api_key_id": key.id, "api_key": secret})
            }
            Admin::CreateKey { tenant, name } => {
                let id: TenantId = tenant
                    .parse()
                    .map_err(|_| Failure(2, format!("error: `{tenant}` is not a tenant id")))?;
                let (key, secret) = service.create_api_key(id, &name).await.map_err(fail)?;
                serde_json::json!({"tenant_id": id, "api_key_id": key.id, "api_key": secret})
            }
            Admin::ListTenants => {
                let tenants = service
                    .db()
                    .tenants()
                    .await
                    .map_err(|e| Failure(1, format!("error: {e}")))?;
                serde_json::json!(tenants
                    .iter()
                    .map(|t| serde_json::json!({"tenant_id": t.id, "name": t.name, "created_at": t.created_at}))
                    .collect::<Vec<_>>())
            }
        };
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        Ok(())
    })
}
