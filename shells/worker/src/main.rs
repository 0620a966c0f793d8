//! `ode-worker`: renders queued exports. Configured like `ode-api` (a YAML file and
//! `ODE__…` variables); needs a shared queue (Redis). On SIGTERM it stops taking jobs
//! and finishes the ones in flight within `worker.shutdown_grace_secs`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;

/// mimalloc (memory returns to the system after a spike), counting what each render
/// holds so that the service can bound it.
#[global_allocator]
static ALLOC: ode_alloc::Counting = ode_alloc::Counting;

#[derive(Parser)]
#[command(name = "ode-worker", version, about = "ODE's export worker")]
struct Args {
    /// Settings file (YAML); `ODE__SECTION__FIELD` variables override it.
    #[arg(long, env = "ODE_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .try_init();
    ode_sdk::log_panics();
    let settings = ode_sdk::config::Settings::from_env(args.config.as_deref())?;
    if settings.embedded_queue() {
        bail!(
            "ode-worker needs a shared queue: set queue.url (ODE__QUEUE__URL=redis://…), or run `ode serve`"
        );
    }
    let (service, queue) = ode_sdk::service::connect(settings)
        .await
        .context("connecting to the database, the blob store and the queue")?;
    tracing::info!("ode-worker started");
    ode_worker::run(service, queue, async {
        ode_worker_signal().await;
        tracing::info!("shutting down: finishing jobs in flight");
    })
    .await
}

async fn ode_worker_signal() {
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
