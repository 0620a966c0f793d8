//! Deploy-time settings for the service: a YAML file, then environment variables.
//!
//! Every setting has an embedded default (SQLite file and local blobs under `./ode-data`,
//! the in-memory queue), so `ode serve` needs no file at all. An environment variable
//! `ODE__SECTION__FIELD` overrides `section.field` (for example
//! `ODE__DATABASE__URL=postgres://…`, `ODE__QUEUE__URL=redis://…`,
//! `ODE__BLOBS__S3__ENDPOINT=http://…`). Secrets are [`Secret`]s, whose `Debug` and
//! `Display` never show them.
//!
//! ```
//! let settings = ode_sdk::config::Settings::from_yaml("database:\n  url: sqlite://x.db\n").unwrap();
//! assert_eq!(settings.database.url.expose(), "sqlite://x.db");
//! assert_eq!(settings.api.port, 8080);
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A string that is never printed.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Everything the API and the worker are configured with.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the data directory is (SQLite file and local blobs, when they are used).
    pub data_dir: DataDir,
    /// Metadata database.
    pub database: DatabaseSettings,
    /// Blob store.
    pub blobs: BlobSettings,
    /// Job queue.
    pub queue: QueueSettings,
    /// HTTP API.
    pub api: ApiSettings,
    /// Worker.
    pub worker: WorkerSettings,
    /// Limits on what one request may ask.
    pub limits: LimitSettings,
    /// Where webhooks may go.
    pub webhooks: WebhookSettings,
}

/// Where webhooks may go (see `ode_sdk::egress`): by default https URLs of public
/// addresses only, checked when each request is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Accept `http://` URLs (tests, private deployments).
    pub allow_http: bool,
    /// Send to loopback, private, link-local and other non-public addresses (tests,
    /// private deployments; never where tenants are not trusted).
    pub allow_private_addresses: bool,
}

/// The data directory.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(transparent)]
pub struct DataDir(pub PathBuf);

impl Default for DataDir {
    fn default() -> Self {
        DataDir(PathBuf::from("ode-data"))
    }
}

/// The metadata database.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user@host:port/db` or `sqlite://path/to/file.db` (relative to the
    /// working directory). Empty: `<data_dir>/ode.db`.
    pub url: Secret,
    /// Connections kept open (PostgreSQL).
    pub pool_size: usize,
    /// How long to wait for a connection before answering 503, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Run pending migrations at start-up.
    pub migrate: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: Secret::default(),
            pool_size: 16,
            connect_timeout_ms: 2000,
            migrate: true,
        }
    }
}

/// Which blob store.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BlobBackend {
    /// Folders under `<data_dir>/blobs`.
    #[default]
    Local,
    /// S3 or an S3-compatible server.
    S3,
}

/// The blob store.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlobSettings {
    /// Local folders or S3.
    pub backend: BlobBackend,
    /// S3 settings (used when `backend` is `s3`).
    pub s3: S3Settings,
    /// How long presigned download URLs stay valid, in seconds.
    pub presign_ttl_secs: u64,
}

impl Default for BlobSettings {
    fn default() -> Self {
        BlobSettings {
            backend: BlobBackend::Local,
            s3: S3Settings::default(),
            presign_ttl_secs: 900,
        }
    }
}

/// S3 settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Settings {
    /// The region.
    pub region: String,
    /// An endpoint other than AWS's (an S3-compatible server); none on AWS.
    pub endpoint: Option<String>,
    /// Path-style addressing (needed by most S3-compatible servers).
    pub force_path_style: bool,
    /// Static credentials; none: the default AWS chain (environment, web identity on
    /// EKS, instance profile).
    pub access_key_id: Option<String>,
    /// The secret that goes with `access_key_id`.
    pub secret_access_key: Option<Secret>,
    /// Bucket for document sources and assets.
    pub documents_bucket: String,
    /// Bucket for export results.
    pub exports_bucket: String,
    /// Bucket for fonts.
    pub fonts_bucket: String,
    /// Create missing buckets at start-up (for development; infrastructure creates them
    /// in production).
    pub create_buckets: bool,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            region: "us-east-1".into(),
            endpoint: None,
            force_path_style: false,
            access_key_id: None,
            secret_access_key: None,
            documents_bucket: "ode-documents".into(),
            exports_bucket: "ode-exports".into(),
            fonts_bucket: "ode-fonts".into(),
            create_buckets: false,
        }
    }
}

/// The job queue.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// `redis://host:port`; empty: the in-memory queue (API and worker in one process).
    pub url: Secret,
    /// Namespace of the queue's keys (one per environment, or per test).
    pub namespace: String,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            url: Secret::default(),
            namespace: "ode-exports".into(),
        }
    }
}

/// The HTTP API.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSettings {
    /// Address to listen on.
    pub host: String,
    /// Port to listen on (0: any free port).
    pub port: u16,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Requests per second allowed per API key (a burst of twice that is allowed; 0:
    /// no limit). Shared by all API processes through Redis when the queue is on Redis.
    pub rate_limit_per_sec: u32,
    /// Requests per second allowed per tenant, all its keys together (bursts of twice
    /// that; 0: no limit); shared like the key's.
    pub tenant_rate_limit_per_sec: u32,
    /// Seconds to finish requests in flight after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// A built viewer (a static site: `index.html`, `assets/`…) to serve at `/` and at
    /// every path that is not the API's; none: `/` answers a page telling how to build
    /// it. An empty value counts as none.
    #[serde(deserialize_with = "optional_path")]
    pub viewer_dir: Option<PathBuf>,
    /// Origins (`https://viewer.example.com`) whose pages may call the API from the
    /// browser (CORS); `*`: any origin; empty: none but the API's own. In a variable, a
    /// comma-separated list.
    #[serde(deserialize_with = "origin_list")]
    pub cors_origins: Vec<String>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: 0,
            rate_limit_per_sec: 200,
            tenant_rate_limit_per_sec: 400,
            shutdown_grace_secs: 30,
            viewer_dir: None,
            cors_origins: Vec::new(),
        }
    }
}

/// A path, where an empty string (an empty variable) means none.
fn optional_path<'de, D>(deserializer: D) -> Result<Option<PathBuf>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let path: Option<PathBuf> = Option::deserialize(deserializer)?;
    Ok(path.filter(|p| !p.as_os_str().is_empty()))
}

/// A list of origins from a YAML list or a comma-separated string (as environment
/// variables give them); blanks dropped, a trailing `/` removed, lowercased.
fn origin_list<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a list of origins or a comma-separated string")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match Option::<OneOrMany>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    };
    Ok(items
        .iter()
        .flat_map(|item| item.split(','))
        .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
        .filter(|o| !o.is_empty())
        .collect())
}

/// Whether `origin` is `*` or `scheme://host[:port]` (what browsers send in `Origin`).
fn is_origin(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    let Some((scheme, host)) = origin.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let host_ok = !host.is_empty()
        && host.bytes().all(|b| {
            b.is_ascii_graphic() && !matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\' | b'*' | b',')
        });
    scheme_ok && host_ok
}

/// The worker.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Jobs run at once (0: one per core).
    pub concurrency: usize,
    /// Attempts before an export fails for good.
    pub max_attempts: u32,
    /// First retry delay in milliseconds (doubled at each attempt).
    pub backoff_ms: u64,
    /// How long a claim on an export lasts, in seconds (renewed while rendering).
    pub lease_secs: u64,
    /// Seconds after which a queued export nobody took is queued again.
    pub requeue_after_secs: u64,
    /// Seconds to finish jobs in flight after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Port of the worker's `/metrics` (0: none).
    pub metrics_port: u16,
    /// Webhook delivery attempts.
    pub webhook_attempts: u32,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            concurrency: 0,
            max_attempts: 5,
            backoff_ms: 500,
            lease_secs: 60,
            requeue_after_secs: 30,
            shutdown_grace_secs: 90,
            metrics_port: 9090,
            webhook_attempts: 6,
        }
    }
}

/// Limits on what one request may ask.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest font upload, in bytes.
    pub max_font_bytes: usize,
    /// What one render may cost (pages, image pixels, SVG and template sizes): each
    /// field of [`ode_core::Limits`], over the hosted defaults (`limits.engine.max_pages`
    /// is 2,000). See `docs/security.md`.
    #[serde(deserialize_with = "hosted_limits")]
    pub engine: ode_core::Limits,
    /// Longest a synchronous render may take, in milliseconds (waiting for a slot
    /// included); a render past it is stopped at its next step.
    pub render_timeout_ms: u64,
    /// Renders run at once by this process (0: one per core).
    pub render_slots: usize,
    /// Heap one render may hold, in MB; past it the render stops with a 422.
    pub render_memory_mb: usize,
    /// Heap all renders of this process may hold together, in MB; past it the largest
    /// is stopped (503, retry). 0: 60% of the container's memory limit (cgroup
    /// `memory.max`), or 2048 without one.
    pub memory_budget_mb: usize,
    /// Most data records in one batch export.
    pub max_batch_records: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            max_body_bytes: 10 * 1024 * 1024,
            max_font_bytes: 20 * 1024 * 1024,
            engine: ode_core::Limits::hosted(),
            render_timeout_ms: 30_000,
            render_slots: 0,
            render_memory_mb: 512,
            memory_budget_mb: 0,
            max_batch_records: 10_000,
        }
    }
}

impl LimitSettings {
    /// The memory all renders may hold, in bytes: `memory_budget_mb`, or 60% of the
    /// cgroup's memory limit, or 2 GB.
    pub fn memory_budget(&self) -> usize {
        if self.memory_budget_mb > 0 {
            return self.memory_budget_mb << 20;
        }
        let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok());
        match cgroup {
            Some(limit) => limit / 10 * 6,
            None => 2048 << 20,
        }
    }

    /// Renders at once: `render_slots`, or one per core.
    pub fn slots(&self) -> usize {
        if self.render_slots > 0 {
            self.render_slots
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }
}

/// The engine's limits named in the settings, each over [`ode_core::Limits::hosted`]
/// (so that naming one leaves the others at the hosted defaults).
fn hosted_limits<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ode_core::Limits, D::Error> {
    let given = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    let mut limits = ode_core::Limits::hosted();
    for (name, value) in given {
        limits.set(&name, value).map_err(serde::de::Error::custom)?;
    }
    Ok(limits)
}

/// Why settings could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A value is wrong; `path` is where (`database.pool_size`).
    #[error("settings {path}: {message}")]
    Invalid {
        /// Where.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Settings {
    /// Reads settings from YAML text (no environment).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the setting at fault.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let value: serde_json::Value = if text.trim().is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Invalid {
                path: e
                    .location()
                    .map_or_else(String::new, |l| format!("line {}", l.line())),
                message: e.to_string(),
            })?
        };
        Self::from_value(value)
    }

    /// Reads the file (if any), then applies `ODE__…` variables from `vars`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file or the setting at fault.
    pub fn load(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut value = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
                if text.trim().is_empty() {
                    serde_json::json!({})
                } else {
                    serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::Read {
                        path: path.to_path_buf(),
                        message: e.to_string(),
                    })?
                }
            }
            None => serde_json::json!({}),
        };
        for (name, raw) in vars {
            let Some(rest) = name.strip_prefix("ODE__") else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(|p| p.to_lowercase()).collect();
            set_path(&mut value, &path, env_value(&raw));
        }
        Self::from_value(value)
    }

    /// Reads the file, then the process's environment.
    ///
    /// # Errors
    /// See [`Settings::load`].
    pub fn from_env(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load(file, std::env::vars())
    }

    fn from_value(value: serde_json::Value) -> Result<Self, ConfigError> {
        let settings: Settings =
            serde_path_to_error::deserialize(value).map_err(|e| ConfigError::Invalid {
                path: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let url = self.database.url.expose();
        if !(url.is_empty() || url.starts_with("sqlite://") || url.starts_with("postgres")) {
            return Err(ConfigError::Invalid {
                path: "database.url".into(),
                message: "use postgres://… or sqlite://…".into(),
            });
        }
        let q = self.queue.url.expose();
        if !(q.is_empty() || q.starts_with("redis://") || q.starts_with("rediss://")) {
            return Err(ConfigError::Invalid {
                path: "queue.url".into(),
                message: "use redis://… or leave empty for the in-memory queue".into(),
            });
        }
        if let Some(bad) = self.api.cors_origins.iter().find(|o| !is_origin(o)) {
            return Err(ConfigError::Invalid {
                path: "api.cors_origins".into(),
                message: format!(
                    "`{bad}` is not an origin: write scheme://host[:port] \
                     (https://viewer.example.com), or * for any origin"
                ),
            });
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError::Invalid {
                path: "database.pool_size".into(),
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// The database URL, with the embedded default filled in.
    pub fn database_url(&self) -> String {
        let url = self.database.url.expose();
        if url.is_empty() {
            format!("sqlite://{}", self.data_dir.0.join("ode.db").display())
        } else {
            url.to_string()
        }
    }

    /// Where local blobs are kept.
    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.0.join("blobs")
    }

    /// Whether the in-memory queue is used (API and worker must share a process).
    pub fn embedded_queue(&self) -> bool {
        self.queue.url.expose().is_empty()
    }
}

/// A variable's text as a YAML scalar (so numbers and booleans keep their type).
fn env_value(raw: &str) -> serde_json::Value {
    match serde_yaml_ng::from_str::<serde_json::Value>(raw) {
        Ok(v @ (serde_json::Value::Bool(_) | serde_json::Value::Number(_))) => v,
        _ => serde_json::Value::String(raw.to_string()),
    }
}

fn set_path(value: &mut serde_json::Value, path: &[String], new: serde_json::Value) {
    let Some((first, rest)) = path.split_first() else {
        *value = new;
        return;
    };
    if !value.is_object() {
        *value = serde_json::json!({});
    }
    let map = value.as_object_mut().expect("made an object above");
    let entry = map
        .entry(first.clone())
        .or_insert_with(|| serde_json::json!({}));
    set_path(entry, rest, new);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_variables_override_the_file_and_keep_their_types() {
        let vars = [
            ("ODE__DATABASE__POOL_SIZE".to_string(), "4".to_string()),
            (
                "ODE__QUEUE__URL".to_string(),
                "redis://127.0.0.1:6379".to_string(),
            ),
            ("ODE__BLOBS__BACKEND".to_string(), "s3".to_string()),
            (
                "ODE__BLOBS__S3__CREATE_BUCKETS".to_string(),
                "true".to_string(),
            ),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let s = Settings::load(None, vars).unwrap();
        assert_eq!(s.database.pool_size, 4);
        assert_eq!(s.queue.url.expose(), "redis://127.0.0.1:6379");
        assert_eq!(s.blobs.backend, BlobBackend::S3);
        assert!(s.blobs.s3.create_buckets);
        assert!(!s.embedded_queue());
    }

    #[test]
    fn an_unknown_or_mistyped_setting_is_named() {
        let e = Settings::from_yaml("database:\n  pool_sise: 3\n").unwrap_err();
        assert!(e.to_string().contains("database"), "{e}");
        assert!(e.to_string().contains("pool_sise"), "{e}");
        let e = Settings::from_yaml("api:\n  port: lots\n").unwrap_err();
        assert!(e.to_string().contains("api.port"), "{e}");
        let e = Settings::from_yaml("database:\n  url: mysql://x\n").unwrap_err();
        assert!(e.to_string().contains("database.url"), "{e}");
    }

    #[test]
    fn secrets_are_never_printed() {
        let s = Settings::from_yaml(
            "database:\n  url: postgres://u:hunter2@db/ode\nblobs:\n  s3:\n    secret_access_key: hunter2\n",
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(s.database_url(), "postgres://u:hunter2@db/ode");
    }

    #[test]
    fn cors_origins_come_as_a_list_or_a_comma_separated_variable() {
        let s = Settings::from_yaml(
            "api:\n  cors_origins: [https://viewer.example.com/, 'HTTP://localhost:5173']\n",
        )
        .unwrap();
        assert_eq!(
            s.api.cors_origins,
            ["https://viewer.example.com", "http://localhost:5173"]
        );
        let vars = [(
            "ODE__API__CORS_ORIGINS".to_string(),
            " https://a.example.com, https://b.example.com:8443 ,".to_string(),
        )];
        let s = Settings::load(None, vars).unwrap();
        assert_eq!(
            s.api.cors_origins,
            ["https://a.example.com", "https://b.example.com:8443"]
        );
        let vars = [("ODE__API__CORS_ORIGINS".to_string(), "*".to_string())];
        assert_eq!(Settings::load(None, vars).unwrap().api.cors_origins, ["*"]);
        let vars = [("ODE__API__CORS_ORIGINS".to_string(), String::new())];
        assert!(
            Settings::load(None, vars)
                .unwrap()
                .api
                .cors_origins
                .is_empty()
        );
        assert!(Settings::from_yaml("").unwrap().api.cors_origins.is_empty());
        for bad in [
            "viewer.example.com",
            "https://viewer.example.com/app",
            "null",
            "https://*.example.com",
        ] {
            let e = Settings::load(
                None,
                [("ODE__API__CORS_ORIGINS".to_string(), bad.to_string())],
            )
            .unwrap_err();
            assert!(e.to_string().contains("api.cors_origins"), "{bad}: {e}");
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
        let e = Settings::from_yaml("api:\n  cors_origins: 3\n").unwrap_err();
        assert!(e.to_string().contains("api.cors_origins"), "{e}");
    }

    #[test]
    fn the_viewer_dir_comes_from_the_file_or_a_variable() {
        assert_eq!(Settings::from_yaml("").unwrap().api.viewer_dir, None);
        let s = Settings::from_yaml("api:\n  viewer_dir: /srv/viewer\n").unwrap();
        assert_eq!(s.api.viewer_dir, Some(PathBuf::from("/srv/viewer")));
        let vars = [("ODE__API__VIEWER_DIR".to_string(), "web/dist".to_string())];
        let s = Settings::load(None, vars).unwrap();
        assert_eq!(s.api.viewer_dir, Some(PathBuf::from("web/dist")));
        let vars = [("ODE__API__VIEWER_DIR".to_string(), String::new())];
        assert_eq!(Settings::load(None, vars).unwrap().api.viewer_dir, None);
    }

    #[test]
    fn the_defaults_are_embedded() {
        let s = Settings::from_yaml("").unwrap();
        assert!(s.embedded_queue());
        assert_eq!(s.blobs.backend, BlobBackend::Local);
        assert!(s.database_url().starts_with("sqlite://"));
    }
}
