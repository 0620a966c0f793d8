//! `ode-api`: the HTTP API on its own, configured by a YAML file and `ODE__…`
//! environment variables (see `ode_sdk::config`). It needs a shared queue (Redis):
//! exports are taken by `ode-worker` processes. On one machine, `ode serve` runs the
//! API and a worker together on embedded defaults.

use std::net::TcpListener;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;

/// mimalloc (memory returns to the system after a spike), counting what each render
/// holds so that the service can bound it.
#[global_allocator]
static ALLOC: ode_alloc::Counting = ode_alloc::Counting;

#[derive(Parser)]
#[command(name = "ode-api", version, about = "ODE's HTTP API")]
struct Args {
    /// Settings file (YAML); `ODE__SECTION__FIELD` variables override it.
    #[arg(long, env = "ODE_CONFIG")]
    config: Option<PathBuf>,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ode_api::telemetry::init_logging();
    let settings = ode_sdk::config::Settings::from_env(args.config.as_deref())?;
    if settings.embedded_queue() {
        bail!(
            "ode-api needs a shared queue: set queue.url (ODE__QUEUE__URL=redis://…), \
             or run `ode serve` for the API and a worker in one process"
        );
    }
    let addr = format!("{}:{}", settings.api.host, settings.api.port);
    let (service, _queue) = ode_sdk::service::connect(settings)
        .await
        .context("connecting to the database, the blob store and the queue")?;
    let listener = TcpListener::bind(&addr).with_context(|| format!("listening on {addr}"))?;
    let (server, bound) = ode_api::start(service, listener)?;
    tracing::info!(http.address = %bound, "ode-api listening");
    let handle = server.handle();
    let running = tokio::spawn(server);
    ode_api::shutdown_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    handle.stop(true).await;
    let _ = running.await;
    Ok(())
}
