//! `ode-load`: a load generator for ODE's hosted HTTP API (`ode serve`).
//!
//! Two modes:
//!
//! - `render`: a closed loop of `--concurrency` connections posting the example invoice
//!   (`examples/invoice.json`, its logo inline as base64) to `POST /v1/render` for
//!   `--duration` seconds after `--warmup` seconds; reports requests per second, latency
//!   percentiles and errors by status.
//! - `batch`: one export of `--records` invoices (`examples/invoice-template.json` with
//!   varied copies of `examples/invoice-data.json`), merged or not; polls
//!   `GET /v1/exports/{id}` until it is done and reports the wall time from the POST to
//!   the first poll that sees it succeeded, with the server's own timestamps.
//!
//! Each run prints human-readable lines on standard error and one line of JSON on
//! standard output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use base64::Engine as _;
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

/// Command line.
#[derive(Debug, Parser)]
#[command(name = "ode-load", about = "Load generator for ODE's hosted HTTP API")]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    mode: Mode,
}

/// Options of every mode.
#[derive(Debug, Args)]
struct Common {
    /// Base URL of the API.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// API key (or ODE_API_KEY).
    #[arg(long, global = true, env = "ODE_API_KEY", hide_env_values = true)]
    key: Option<String>,
    /// File holding the API key (such as `<data dir>/api-key`).
    #[arg(long, global = true)]
    key_file: Option<PathBuf>,
    /// The examples folder (invoice.json, invoice-template.json, invoice-data.json, assets/logo.svg).
    #[arg(long, global = true, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"))]
    examples: PathBuf,
    /// Client runtime threads (1: a single-threaded runtime, leaving the other cores to the server).
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
    /// A label copied into the JSON summary (such as `embedded` or `production`).
    #[arg(long, global = true, default_value = "")]
    label: String,
    /// The server's process id, to report the CPU time it spent in the measured window
    /// (read from /proc, so the server must run on this machine).
    #[arg(long, global = true)]
    server_pid: Option<u32>,
}

/// What to measure.
#[derive(Debug, Subcommand)]
enum Mode {
    /// Synchronous renders in a closed loop.
    Render {
        /// Connections, each with one request in flight at a time.
        #[arg(short, long, default_value_t = 4)]
        concurrency: usize,
        /// Measured seconds.
        #[arg(short, long, default_value_t = 10.0)]
        duration: f64,
        /// Seconds of load before measuring (not counted).
        #[arg(short, long, default_value_t = 3.0)]
        warmup: f64,
    },
    /// One export of many invoice records.
    Batch {
        /// Data records (invoices).
        #[arg(short = 'n', long, default_value_t = 1000)]
        records: usize,
        /// One merged PDF instead of one PDF per record.
        #[arg(long)]
        merge: bool,
        /// Milliseconds between status polls.
        #[arg(long, default_value_t = 25)]
        poll_ms: u64,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300.0)]
        timeout: f64,
    },
}

/// A failure of the tool itself (not of a measured request).
struct Fail(String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = if cli.common.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.common.threads)
            .enable_all()
            .build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ode-load: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Fail(m)) => {
            eprintln!("ode-load: {m}");
            ExitCode::from(2)
        }
    }
}

/// Runs the chosen mode; `Ok(false)` when the measured requests failed.
async fn run(cli: Cli) -> Result<bool, Fail> {
    let key = api_key(&cli.common)?;
    let base = cli.common.url.trim_end_matches('/').to_string();
    let logo = read(&cli.common.examples.join("assets/logo.svg"))?;
    let mut assets = serde_json::Map::new();
    assets.insert(
        "assets/logo.svg".into(),
        Value::String(base64::engine::general_purpose::STANDARD.encode(&logo)),
    );
    match cli.mode {
        Mode::Render {
            concurrency,
            duration,
            warmup,
        } => {
            if concurrency == 0 || duration.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                return Err(Fail("--concurrency and --duration must be positive".into()));
            }
            let document = json_file(&cli.common.examples.join("invoice.json"))?;
            let body = serde_json::to_vec(&json!({"document": document, "assets": assets}))?;
            let opts = RenderRun {
                url: format!("{base}/v1/render"),
                key,
                body: bytes::Bytes::from(body),
                concurrency,
                duration: Duration::from_secs_f64(duration),
                warmup: Duration::from_secs_f64(warmup.max(0.0)),
                label: cli.common.label,
                server_pid: cli.common.server_pid,
            };
            render(opts).await
        }
        Mode::Batch {
            records,
            merge,
            poll_ms,
            timeout,
        } => {
            if records == 0 {
                return Err(Fail("--records must be positive".into()));
            }
            let template = json_file(&cli.common.examples.join("invoice-template.json"))?;
            let data = json_file(&cli.common.examples.join("invoice-data.json"))?;
            let records: Vec<Value> = (0..records).map(|i| vary(&data, i)).collect();
            let body = serde_json::to_vec(&json!({
                "template": template,
                "records": records,
                "assets": assets,
                "merge": merge,
            }))?;
            let opts = BatchRun {
                base,
                key,
                body,
                records: records.len(),
                merge,
                poll: Duration::from_millis(poll_ms.max(1)),
                timeout: Duration::from_secs_f64(timeout.max(1.0)),
                label: cli.common.label,
                server_pid: cli.common.server_pid,
            };
            batch(opts).await
        }
    }
}

fn api_key(c: &Common) -> Result<String, Fail> {
    if let Some(k) = &c.key {
        return Ok(k.trim().to_string());
    }
    if let Some(f) = &c.key_file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| Fail(format!("reading the key file {}: {e}", f.display())))?;
        return Ok(text.trim().to_string());
    }
    Err(Fail("give --key, --key-file or ODE_API_KEY".into()))
}

fn read(path: &Path) -> Result<Vec<u8>, Fail> {
    std::fs::read(path).map_err(|e| Fail(format!("reading {}: {e}", path.display())))
}

fn json_file(path: &Path) -> Result<Value, Fail> {
    serde_json::from_slice(&read(path)?)
        .map_err(|e| Fail(format!("{} is not JSON: {e}", path.display())))
}

/// Record `i`: the example data with another number, buyer, date and set of items, so
/// that no two invoices of a batch are the same.
fn vary(base: &Value, i: usize) -> Value {
    const BUYERS: [&str; 6] = [
        "Harrow & Finch",
        "Blue Heron Logistics",
        "Atelier Marguerite",
        "Kestrel Analytics GmbH",
        "Oakridge Dental Group",
        "Suomen Puutarha Oy",
    ];
    let mut r = base.clone();
    if let Some(inv) = r.get_mut("invoice").and_then(Value::as_object_mut) {
        inv.insert("number".into(), json!(format!("INV-2025-{:05}", i + 1)));
        inv.insert(
            "date".into(),
            json!(format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1)),
        );
    }
    if let Some(buyer) = r.get_mut("buyer").and_then(Value::as_object_mut) {
        buyer.insert("name".into(), json!(BUYERS[i % BUYERS.len()]));
    }
    if let Some(items) = r.get_mut("items").and_then(Value::as_array_mut)
        && !items.is_empty()
    {
        let n = items.len();
        let keep = i % n + 1;
        let rotated: Vec<Value> = (0..keep)
            .map(|k| {
                let mut item = items[(i + k) % n].clone();
                if let Some(q) = item.get("qty").and_then(Value::as_f64) {
                    item["qty"] = json!(q + (i % 5) as f64);
                }
                item
            })
            .collect();
        *items = rotated;
    }
    r
}

// ---- render ----

struct RenderRun {
    url: String,
    key: String,
    body: bytes::Bytes,
    concurrency: usize,
    duration: Duration,
    warmup: Duration,
    label: String,
    server_pid: Option<u32>,
}

/// What one connection saw in the measured window.
#[derive(Default)]
struct Tally {
    /// Latencies of successful requests, in microseconds.
    ok: Vec<u64>,
    /// Failed requests by status (`io` for transport errors, `not_pdf` for a 200
    /// whose body is not a PDF).
    errors: BTreeMap<String, u64>,
    /// Response bytes of successful requests.
    bytes: u64,
    /// The first error message, to show.
    first_error: Option<String>,
}

async fn render(o: RenderRun) -> Result<bool, Fail> {
    let started = Instant::now();
    let measure_from = started + o.warmup;
    let end = measure_from + o.duration;
    // CPU seconds of this process and of the server when the measured window opens.
    let pid = o.server_pid;
    let cpu_at_start = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        (cpu_secs("self"), pid.and_then(|p| cpu_secs(&p.to_string())))
    });
    let mut tasks = Vec::with_capacity(o.concurrency);
    for _ in 0..o.concurrency {
        // One client per connection, so that C connections carry the load.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(60))
            .build()?;
        let (url, key, body) = (o.url.clone(), o.key.clone(), o.body.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let measured = sent >= measure_from;
                let res = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let outcome = match res {
                    Ok(r) => {
                        let status = r.status();
                        match r.bytes().await {
                            Ok(b) if status.is_success() && b.starts_with(b"%PDF") => Ok(b.len()),
                            Ok(_) if status.is_success() => {
                                Err(("not_pdf".to_string(), "a 200 that is not a PDF".into()))
                            }
                            Ok(b) => Err((
                                status.as_u16().to_string(),
                                String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned(),
                            )),
                            Err(e) => Err(("io".to_string(), e.to_string())),
                        }
                    }
                    Err(e) => Err(("io".to_string(), e.to_string())),
                };
                let took = sent.elapsed();
                if !measured {
                    continue;
                }
                match outcome {
                    Ok(n) => {
                        t.ok.push(took.as_micros() as u64);
                        t.bytes += n as u64;
                    }
                    Err((code, msg)) => {
                        *t.errors.entry(code).or_default() += 1;
                        t.first_error.get_or_insert(msg);
                        // Do not spin on a dead server.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            t
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await?;
        all.ok.extend(t.ok);
        all.bytes += t.bytes;
        for (k, v) in t.errors {
            *all.errors.entry(k).or_default() += v;
        }
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    // The window: from the end of the warm-up to the last response.
    let window = Instant::now()
        .saturating_duration_since(measure_from)
        .as_secs_f64();
    let (client_before, server_before) = cpu_at_start.await?;
    let client_cpu = client_before.zip(cpu_secs("self")).map(|(a, b)| b - a);
    let server_cpu = server_before
        .zip(pid.and_then(|p| cpu_secs(&p.to_string())))
        .map(|(a, b)| b - a);
    let mut lat = all.ok;
    lat.sort_unstable();
    let ok = lat.len() as u64;
    let failed: u64 = all.errors.values().sum();
    let rps = ok as f64 / window;
    let ms = |us: Option<u64>| us.map(|u| u as f64 / 1000.0);
    let p50 = ms(percentile(&lat, 50.0));
    let p90 = ms(percentile(&lat, 90.0));
    let p99 = ms(percentile(&lat, 99.0));
    let max = ms(lat.last().copied());
    let mean = if lat.is_empty() {
        None
    } else {
        Some(lat.iter().sum::<u64>() as f64 / lat.len() as f64 / 1000.0)
    };
    let f = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.2} ms"));
    eprintln!(
        "render c={}: {ok} ok, {failed} failed in {window:.2} s = {rps:.1} req/s; latency p50 {} p90 {} p99 {} max {} (mean {}); {} KB per PDF{}",
        o.concurrency,
        f(p50),
        f(p90),
        f(p99),
        f(max),
        f(mean),
        all.bytes.checked_div(ok).unwrap_or(0) / 1024,
        client_cpu.map_or(String::new(), |c| format!(
            "; client CPU {c:.2} s ({:.0} µs/request)",
            if ok > 0 { c * 1e6 / ok as f64 } else { 0.0 }
        )),
    );
    let server_ms_per_request = server_cpu
        .filter(|_| ok > 0)
        .map(|c| c * 1000.0 / ok as f64);
    if let (Some(c), Some(per)) = (server_cpu, server_ms_per_request) {
        eprintln!(
            "  server CPU {c:.2} s in the window = {per:.2} ms per request, {:.2} cores busy",
            c / window
        );
    }
    if let Some(e) = &all.first_error {
        eprintln!("  errors {:?}; first: {e}", all.errors);
    }
    let round = |v: Option<f64>| v.map(|v| (v * 1000.0).round() / 1000.0);
    println!(
        "{}",
        json!({
            "mode": "render",
            "label": o.label,
            "concurrency": o.concurrency,
            "warmup_s": o.warmup.as_secs_f64(),
            "window_s": round(Some(window)),
            "ok": ok,
            "failed": failed,
            "rps": round(Some(rps)),
            "p50_ms": round(p50),
            "p90_ms": round(p90),
            "p99_ms": round(p99),
            "max_ms": round(max),
            "mean_ms": round(mean),
            "errors": all.errors,
            "first_error": all.first_error,
            "pdf_bytes": all.bytes.checked_div(ok).unwrap_or(0),
            "client_cpu_s": round(client_cpu),
            "server_cpu_s": round(server_cpu),
            "server_cpu_ms_per_request": round(server_ms_per_request),
        })
    );
    Ok(failed == 0 && ok > 0)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// User plus system CPU seconds of a process (`self` or a pid; Linux, `None` elsewhere).
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks, 100 per second on every common configuration.
    Some((utime + stime) / 100.0)
}

// ---- batch ----

struct BatchRun {
    base: String,
    key: String,
    body: Vec<u8>,
    records: usize,
    merge: bool,
    poll: Duration,
    timeout: Duration,
    label: String,
    server_pid: Option<u32>,
}

async fn batch(o: BatchRun) -> Result<bool, Fail> {
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(120))
        .build()?;
    let body_len = o.body.len();
    let server_cpu = || o.server_pid.and_then(|p| cpu_secs(&p.to_string()));
    let server_before = server_cpu();
    let started = Instant::now();
    let r = client
        .post(format!("{}/v1/exports", o.base))
        .bearer_auth(&o.key)
        .header("content-type", "application/json")
        .body(o.body)
        .send()
        .await?;
    let status = r.status();
    let created: Value = r.json().await.unwrap_or(Value::Null);
    let post_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status.as_u16() != 202 {
        return Err(Fail(format!(
            "POST /v1/exports answered {status}: {created}"
        )));
    }
    let id = created
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Fail(format!(
                "POST /v1/exports answered without an id: {created}"
            ))
        })?
        .to_string();
    let url = format!("{}/v1/exports/{id}", o.base);
    let mut polls = 0u64;
    let last = loop {
        if started.elapsed() > o.timeout {
            return Err(Fail(format!(
                "export {id} not done after {:.0} s",
                o.timeout.as_secs_f64()
            )));
        }
        tokio::time::sleep(o.poll).await;
        polls += 1;
        let r = client.get(&url).bearer_auth(&o.key).send().await?;
        let status = r.status();
        let info: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(Fail(format!("GET {url} answered {status}: {info}")));
        }
        if let Some("succeeded" | "failed") = info.get("status").and_then(Value::as_str) {
            break info;
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = server_before.zip(server_cpu()).map(|(a, b)| b - a);
    let state = last.get("status").and_then(Value::as_str).unwrap_or("?");
    let int = |k: &str| last.get(k).and_then(Value::as_i64).unwrap_or(0);
    // The server's timestamps (ms since the epoch): created, first running, finished.
    let created_at = int("created_at");
    let at = |s: &str| {
        last.get("history")
            .and_then(Value::as_array)
            .and_then(|h| {
                h.iter()
                    .find(|e| e.get("status").and_then(Value::as_str) == Some(s))
            })
            .and_then(|e| e.get("at").and_then(Value::as_i64))
    };
    let running = at("running");
    let done = at(state);
    let queued_ms = running.map(|r| r - created_at);
    let work_ms = running.zip(done).map(|(r, d)| d - r);
    eprintln!(
        "batch n={} merge={}: {state} in {wall:.2} s (POST {post_ms:.0} ms with a {} KB body; server: queued {} ms, running {} ms; {polls} polls every {} ms); {} files, {} pages, {} KB",
        o.records,
        o.merge,
        body_len / 1024,
        queued_ms.map_or("?".into(), |v| v.to_string()),
        work_ms.map_or("?".into(), |v| v.to_string()),
        o.poll.as_millis(),
        int("files"),
        int("pages"),
        int("size_bytes") / 1024,
    );
    if let Some(c) = server_cpu {
        eprintln!(
            "  server CPU {c:.2} s over {wall:.2} s = {:.2} cores busy",
            c / wall
        );
    }
    if state != "succeeded" {
        eprintln!("  error: {}", last.get("error").unwrap_or(&Value::Null));
    }
    println!(
        "{}",
        json!({
            "mode": "batch",
            "label": o.label,
            "records": o.records,
            "merge": o.merge,
            "status": state,
            "wall_s": (wall * 1000.0).round() / 1000.0,
            "post_ms": post_ms.round(),
            "body_bytes": body_len,
            "server_queued_ms": queued_ms,
            "server_running_ms": work_ms,
            "polls": polls,
            "poll_ms": o.poll.as_millis() as u64,
            "files": int("files"),
            "pages": int("pages"),
            "size_bytes": int("size_bytes"),
            "attempts": int("attempts"),
            "server_cpu_s": server_cpu.map(|c| (c * 1000.0).round() / 1000.0),
            "error": last.get("error"),
        })
    );
    Ok(state == "succeeded")
}
