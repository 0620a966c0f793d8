//! [`MetadataStore`] on diesel: PostgreSQL through a deadpool pool of
//! [`AsyncPgConnection`]s, or one SQLite connection (WAL mode) behind a mutex.
//!
//! Every query is written once: the [`with_conn!`] macro expands the same body for each
//! backend's concrete connection type, and [`super::schema`] describes the tables for
//! both.

use std::str::FromStr;
#[cfg(feature = "postgres")]
use std::time::Duration;

use async_trait::async_trait;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, Insertable, OptionalExtension, QueryDsl, Queryable,
    Selectable, SelectableHelper,
};
use diesel_async::{AsyncConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use super::schema::{api_keys, documents, export_events, exports, fonts, tenants};
use super::{DbError, ExportCounts, Inserted, MetadataStore, NewExport, Outcome};
use crate::config::DatabaseSettings;
use crate::domain::{
    ApiKey, ApiKeyId, BlobKey, DocumentId, DocumentRecord, Export, ExportEvent, ExportFormat,
    ExportId, ExportStatus, FontId, FontRecord, Page, SourceKind, Tenant, TenantId, Timestamp,
};

#[cfg(feature = "postgres")]
use diesel_async::AsyncPgConnection;
#[cfg(feature = "postgres")]
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
#[cfg(feature = "postgres")]
use diesel_async::pooled_connection::deadpool::{Pool, PoolError};

/// The SQLite connection, usable from async code (queries run on blocking threads).
#[cfg(feature = "sqlite")]
type SqliteConn =
    diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection>;

#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/postgres");
#[cfg(feature = "sqlite")]
const SQLITE_MIGRATIONS: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");

/// Held while PostgreSQL migrations run, so that processes starting together take
/// turns (any constant would do: this one spells "ODE" in its bytes).
#[cfg(feature = "postgres")]
const MIGRATION_LOCK: i64 = 0x004f_4445;

/// The metadata store on PostgreSQL or SQLite (see the module documentation).
pub struct DieselStore {
    backend: Backend,
}

impl std::fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres { .. } => "postgres",
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => "sqlite",
        };
        f.debug_struct("DieselStore")
            .field("backend", &backend)
            .finish()
    }
}

enum Backend {
    #[cfg(feature = "postgres")]
    Postgres {
        pool: Pool<AsyncPgConnection>,
        /// The longest a call waits for a connection.
        timeout: Duration,
    },
    #[cfg(feature = "sqlite")]
    Sqlite(tokio::sync::Mutex<SqliteSlot>),
}

/// The SQLite connection and how to open it again.
#[cfg(feature = "sqlite")]
struct SqliteSlot {
    conn: Option<SqliteConn>,
    path: String,
    busy_timeout_ms: u64,
    migrate: bool,
    /// Set while a call uses the connection: still set when the next call comes means
    /// the previous one was cancelled half-way (its transaction may still be open), so
    /// the connection is replaced by a new one (`sqlite::memory:` then starts empty).
    in_use: bool,
}

#[cfg(feature = "sqlite")]
impl SqliteSlot {
    /// The connection, ready for one call (opened again if the last call left it in
    /// an unknown state).
    async fn begin(&mut self) -> Result<&mut SqliteConn, DbError> {
        use diesel_async::TransactionManager;
        let healthy = !self.in_use
            && self.conn.as_mut().is_some_and(|c| {
                matches!(
                    <SqliteConn as AsyncConnection>::TransactionManager::transaction_manager_status_mut(c)
                        .transaction_depth(),
                    Ok(None)
                )
            });
        if !healthy {
            self.conn = None;
            let (path, busy, migrate) = (self.path.clone(), self.busy_timeout_ms, self.migrate);
            let conn = tokio::task::spawn_blocking(move || open_sqlite(&path, busy, migrate))
                .await
                .map_err(|e| DbError::Other(format!("opening SQLite: {e}")))??;
            self.conn = Some(SqliteConn::new(conn));
        }
        self.in_use = true;
        self.conn
            .as_mut()
            .ok_or_else(|| DbError::Unavailable("the SQLite connection is closed".into()))
    }

    /// The call that took the connection is done.
    fn end(&mut self) {
        self.in_use = false;
    }
}

/// Runs `$body` (an expression that may use `.await` and `?`, of type
/// `Result<_, DbError>`) with `$conn` bound to a `&mut` connection of each backend in
/// turn: the body is written once and compiled once per connection type.
macro_rules! with_conn {
    ($store:expr, |$conn:ident| $body:expr) => {{
        match &$store.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres { pool, timeout } => {
                let mut pooled = pg_connection(pool, *timeout).await?;
                let $conn: &mut AsyncPgConnection = &mut pooled;
                let out: Result<_, DbError> = async { $body }.await;
                out
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(slot) => {
                let mut slot = slot.lock().await;
                let out: Result<_, DbError> = async {
                    let $conn: &mut SqliteConn = slot.begin().await?;
                    $body
                }
                .await;
                slot.end();
                out
            }
        }
    }};
}

impl DieselStore {
    /// Connects to `postgres://…` (or `postgresql://…`), or opens `sqlite://path` (its
    /// folder is created) or `sqlite::memory:`; runs pending migrations when
    /// `settings.migrate` is set, and otherwise checks that none is pending.
    ///
    /// # Errors
    /// [`DbError::Unavailable`] when the database cannot be reached within
    /// `settings.connect_timeout_ms`, [`DbError::Schema`] when migrations fail or are
    /// pending, [`DbError::Other`] for a URL of another kind or a backend not built in.
    pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<DieselStore, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return connect_postgres(url, settings).await;
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = if rest == ":memory:" {
                rest
            } else {
                rest.strip_prefix("//").unwrap_or(rest)
            };
            if path.is_empty() {
                return Err(DbError::Other(
                    "database.url: an SQLite URL needs a file path (sqlite://path/to/file.db)"
                        .into(),
                ));
            }
            return connect_sqlite(path, settings).await;
        }
        let scheme = url.split_once(':').map_or("", |(s, _)| s);
        Err(DbError::Other(format!(
            "database.url: unsupported scheme {scheme:?} (use postgres://… or sqlite://…)"
        )))
    }
}

#[cfg(feature = "postgres")]
async fn connect_postgres(url: &str, settings: &DatabaseSettings) -> Result<DieselStore, DbError> {
    use futures::FutureExt as _;
    let timeout = Duration::from_millis(settings.connect_timeout_ms.max(1));
    // TLS as the URL's `sslmode` and `sslrootcert` say (see `pg_tls`).
    let target = std::sync::Arc::new(super::pg_tls::PgConnect::new(url)?);
    // Migrations (or the check for them) run on a connection of their own.
    let mut conn = tokio::time::timeout(timeout, target.connect())
        .await
        .map_err(|_| {
            DbError::Unavailable(format!(
                "no connection to PostgreSQL within {} ms",
                timeout.as_millis()
            ))
        })?
        .map_err(connection_error)?;
    let migrate = settings.migrate;
    if migrate {
        // Released when this connection closes, below.
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .execute(&mut conn)
            .await
            .map_err(db_error)?;
    }
    tokio::task::spawn_blocking(move || {
        let mut conn = diesel_async::async_connection_wrapper::AsyncConnectionWrapper::<
            AsyncPgConnection,
        >::from(conn);
        migrate_or_check(&mut conn, POSTGRES_MIGRATIONS, migrate)
    })
    .await
    .map_err(|e| DbError::Schema(format!("migrations: {e}")))??;

    let mut config = diesel_async::pooled_connection::ManagerConfig::default();
    config.custom_setup = Box::new(move |_url| {
        let target = target.clone();
        async move { target.connect().await }.boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    let pool = Pool::builder(manager)
        .max_size(settings.pool_size.max(1))
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Other(format!("PostgreSQL connection pool: {e}")))?;
    Ok(DieselStore {
        backend: Backend::Postgres { pool, timeout },
    })
}

#[cfg(not(feature = "postgres"))]
async fn connect_postgres(_: &str, _: &DatabaseSettings) -> Result<DieselStore, DbError> {
    Err(DbError::Other(
        "database.url: PostgreSQL support is not built in (feature `postgres`)".into(),
    ))
}

#[cfg(feature = "sqlite")]
async fn connect_sqlite(path: &str, settings: &DatabaseSettings) -> Result<DieselStore, DbError> {
    let busy_timeout_ms = settings.connect_timeout_ms.max(1);
    let migrate = settings.migrate;
    let owned = path.to_string();
    let conn = tokio::task::spawn_blocking(move || open_sqlite(&owned, busy_timeout_ms, migrate))
        .await
        .map_err(|e| DbError::Other(format!("opening SQLite: {e}")))??;
    Ok(DieselStore {
        backend: Backend::Sqlite(tokio::sync::Mutex::new(SqliteSlot {
            conn: Some(SqliteConn::new(conn)),
            path: path.to_string(),
            busy_timeout_ms,
            migrate,
            in_use: false,
        })),
    })
}

#[cfg(not(feature = "sqlite"))]
async fn connect_sqlite(_: &str, _: &DatabaseSettings) -> Result<DieselStore, DbError> {
    Err(DbError::Other(
        "database.url: SQLite support is not built in (feature `sqlite`)".into(),
    ))
}

/// Opens (creating its folder) and sets up an SQLite file: WAL journal, a busy timeout so
/// that processes sharing the file wait for each other, foreign keys, migrations.
#[cfg(feature = "sqlite")]
fn open_sqlite(
    path: &str,
    busy_timeout_ms: u64,
    migrate: bool,
) -> Result<diesel::SqliteConnection, DbError> {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;

    if path != ":memory:"
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            DbError::Unavailable(format!("cannot create folder {}: {e}", parent.display()))
        })?;
    }
    let mut conn = diesel::SqliteConnection::establish(path)
        .map_err(|e| DbError::Unavailable(format!("cannot open SQLite database {path}: {e}")))?;
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {busy_timeout_ms}; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
    ))
    .map_err(|e| DbError::Unavailable(format!("setting up SQLite database {path}: {e}")))?;
    migrate_or_check(&mut conn, SQLITE_MIGRATIONS, migrate)?;
    Ok(conn)
}

/// Runs the pending migrations, or (when `migrate` is false) fails if any is pending.
fn migrate_or_check<B: diesel::backend::Backend>(
    conn: &mut impl MigrationHarness<B>,
    migrations: EmbeddedMigrations,
    migrate: bool,
) -> Result<(), DbError> {
    if migrate {
        conn.run_pending_migrations(migrations)
            .map_err(|e| DbError::Schema(format!("migrations failed: {e}")))?;
    } else {
        let pending = conn
            .pending_migrations(migrations)
            .map_err(|e| DbError::Schema(format!("cannot read the applied migrations: {e}")))?;
        if let Some(first) = <[_]>::first(&pending) {
            return Err(DbError::Schema(format!(
                "{} migration(s) pending, first {}: start once with database.migrate on",
                pending.len(),
                first.name()
            )));
        }
    }
    Ok(())
}

/// A pooled PostgreSQL connection, within `timeout` or [`DbError::Unavailable`].
#[cfg(feature = "postgres")]
async fn pg_connection(
    pool: &Pool<AsyncPgConnection>,
    timeout: Duration,
) -> Result<diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>, DbError> {
    // The pool's own timeouts bound each step; this bounds them all together.
    match tokio::time::timeout(timeout, pool.get()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(pool_error(e, timeout)),
        Err(_) => Err(DbError::Unavailable(format!(
            "no database connection within {} ms",
            timeout.as_millis()
        ))),
    }
}

#[cfg(feature = "postgres")]
fn pool_error(e: PoolError, timeout: Duration) -> DbError {
    use diesel_async::pooled_connection::PoolError as Backend;
    match e {
        PoolError::Timeout(_) => DbError::Unavailable(format!(
            "no database connection within {} ms",
            timeout.as_millis()
        )),
        PoolError::Backend(Backend::ConnectionError(e)) => connection_error(e),
        PoolError::Backend(Backend::QueryError(e)) => {
            DbError::Unavailable(format!("database connection check failed: {e}"))
        }
        PoolError::Closed => DbError::Unavailable("the connection pool is closed".into()),
        other => DbError::Other(format!("connection pool: {other}")),
    }
}

#[cfg(feature = "postgres")]
fn connection_error(e: diesel::ConnectionError) -> DbError {
    match e {
        diesel::ConnectionError::InvalidConnectionUrl(m) => {
            DbError::Other(format!("database.url is not a valid PostgreSQL URL: {m}"))
        }
        other => DbError::Unavailable(format!("cannot connect to PostgreSQL: {other}")),
    }
}

/// A diesel error as a [`DbError`].
fn db_error(e: DieselError) -> DbError {
    match &e {
        DieselError::DatabaseError(kind, info) => {
            let message = info.message();
            match kind {
                DatabaseErrorKind::UniqueViolation => DbError::Conflict(message.to_string()),
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::UnableToSendCommand
                | DatabaseErrorKind::SerializationFailure => {
                    DbError::Unavailable(message.to_string())
                }
                _ if is_transient(message) => DbError::Unavailable(message.to_string()),
                _ => DbError::Other(e.to_string()),
            }
        }
        DieselError::BrokenTransactionManager => {
            DbError::Unavailable("the connection was left in a broken state".into())
        }
        _ => DbError::Other(e.to_string()),
    }
}

/// Messages of errors that go away by themselves: SQLite's lock timeouts, PostgreSQL
/// shutting down or starting up.
fn is_transient(message: &str) -> bool {
    const TRANSIENT: [&str; 6] = [
        "database is locked",
        "database table is locked",
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "connection closed",
    ];
    TRANSIENT.iter().any(|t| message.contains(t))
}

// Rows as stored.

fn parse_id<T: FromStr>(value: &str, column: &str) -> Result<T, DbError> {
    value
        .parse()
        .map_err(|_| DbError::Other(format!("{column}: stored value {value:?} is not a UUID")))
}

fn parse_kind(value: &str) -> Result<SourceKind, DbError> {
    SourceKind::parse(value)
        .ok_or_else(|| DbError::Other(format!("kind: unknown stored value {value:?}")))
}

fn parse_status(value: &str) -> Result<ExportStatus, DbError> {
    ExportStatus::parse(value)
        .ok_or_else(|| DbError::Other(format!("status: unknown stored value {value:?}")))
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tenants)]
struct TenantRow {
    id: String,
    name: String,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    created_at: i64,
}

impl TenantRow {
    fn new(t: &Tenant) -> Self {
        TenantRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            webhook_url: t.webhook_url.clone(),
            webhook_secret: t.webhook_secret.clone(),
            created_at: t.created_at.0,
        }
    }

    fn into_domain(self) -> Result<Tenant, DbError> {
        Ok(Tenant {
            id: parse_id(&self.id, "tenants.id")?,
            name: self.name,
            webhook_url: self.webhook_url,
            webhook_secret: self.webhook_secret,
            created_at: Timestamp(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
struct ApiKeyRow {
    id: String,
    tenant_id: String,
    name: String,
    prefix: String,
    hash: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl ApiKeyRow {
    fn new(k: &ApiKey) -> Self {
        ApiKeyRow {
            id: k.id.to_string(),
            tenant_id: k.tenant_id.to_string(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            hash: k.hash.clone(),
            created_at: k.created_at.0,
            revoked_at: k.revoked_at.map(|t| t.0),
        }
    }

    fn into_domain(self) -> Result<ApiKey, DbError> {
        Ok(ApiKey {
            id: parse_id(&self.id, "api_keys.id")?,
            tenant_id: parse_id(&self.tenant_id, "api_keys.tenant_id")?,
            name: self.name,
            prefix: self.prefix,
            hash: self.hash,
            created_at: Timestamp(self.created_at),
            revoked_at: self.revoked_at.map(Timestamp),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = documents)]
struct DocumentRow {
    id: String,
    tenant_id: String,
    kind: String,
    name: String,
    version: i64,
    source_key: String,
    size_bytes: i64,
    created_at: i64,
    updated_at: i64,
}

impl DocumentRow {
    fn new(d: &DocumentRecord) -> Self {
        DocumentRow {
            id: d.id.to_string(),
            tenant_id: d.tenant_id.to_string(),
            kind: d.kind.as_str().to_string(),
            name: d.name.clone(),
            version: d.version,
            source_key: d.source_key.0.clone(),
            size_bytes: d.size_bytes,
            created_at: d.created_at.0,
            updated_at: d.updated_at.0,
        }
    }

    fn into_domain(self) -> Result<DocumentRecord, DbError> {
        Ok(DocumentRecord {
            id: parse_id(&self.id, "documents.id")?,
            tenant_id: parse_id(&self.tenant_id, "documents.tenant_id")?,
            kind: parse_kind(&self.kind)?,
            name: self.name,
            version: self.version,
            source_key: BlobKey(self.source_key),
            size_bytes: self.size_bytes,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = fonts)]
struct FontRow {
    id: String,
    tenant_id: String,
    family: String,
    file_name: String,
    blob_key: String,
    size_bytes: i64,
    created_at: i64,
}

impl FontRow {
    fn new(f: &FontRecord) -> Self {
        FontRow {
            id: f.id.to_string(),
            tenant_id: f.tenant_id.to_string(),
            family: f.family.clone(),
            file_name: f.file_name.clone(),
            blob_key: f.blob_key.0.clone(),
            size_bytes: f.size_bytes,
            created_at: f.created_at.0,
        }
    }

    fn into_domain(self) -> Result<FontRecord, DbError> {
        Ok(FontRecord {
            id: parse_id(&self.id, "fonts.id")?,
            tenant_id: parse_id(&self.tenant_id, "fonts.tenant_id")?,
            family: self.family,
            file_name: self.file_name,
            blob_key: BlobKey(self.blob_key),
            size_bytes: self.size_bytes,
            created_at: Timestamp(self.created_at),
        })
    }
}

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = exports)]
struct ExportRow {
    id: String,
    tenant_id: String,
    document_id: Option<String>,
    kind: String,
    format: String,
    input_key: String,
    records: i64,
    merge: bool,
    status: String,
    attempts: i32,
    error: Option<String>,
    result_files: i64,
    result_bytes: i64,
    pages: i64,
    idempotency_key: Option<String>,
    lease_token: Option<String>,
    lease_until: Option<i64>,
    webhook_pending: bool,
    created_at: i64,
    updated_at: i64,
    request_hash: Option<String>,
}

impl ExportRow {
    fn new(e: &NewExport, at: Timestamp) -> Self {
        ExportRow {
            id: e.id.to_string(),
            tenant_id: e.tenant_id.to_string(),
            document_id: e.document_id.map(|d| d.to_string()),
            kind: e.kind.as_str().to_string(),
            format: e.format.as_str().to_string(),
            input_key: e.input_key.0.clone(),
            records: e.records,
            merge: e.merge,
            status: ExportStatus::Queued.as_str().to_string(),
            attempts: 0,
            error: None,
            result_files: 0,
            result_bytes: 0,
            pages: 0,
            idempotency_key: e.idempotency_key.clone(),
            lease_token: None,
            lease_until: None,
            webhook_pending: false,
            created_at: at.0,
            updated_at: at.0,
            request_hash: e.request_hash.clone(),
        }
    }

    fn into_domain(self) -> Result<Export, DbError> {
        let error = match &self.error {
            Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                DbError::Other(format!("exports.error of {}: not JSON: {e}", self.id))
            })?),
            None => None,
        };
        Ok(Export {
            id: parse_id(&self.id, "exports.id")?,
            tenant_id: parse_id(&self.tenant_id, "exports.tenant_id")?,
            document_id: match &self.document_id {
                Some(d) => Some(parse_id(d, "exports.document_id")?),
                None => None,
            },
            kind: parse_kind(&self.kind)?,
            format: ExportFormat::parse(&self.format).ok_or_else(|| {
                DbError::Other(format!("format: unknown stored value {:?}", self.format))
            })?,
            input_key: BlobKey(self.input_key),
            records: self.records,
            merge: self.merge,
            status: parse_status(&self.status)?,
            attempts: self.attempts,
            error,
            result_files: self.result_files,
            result_bytes: self.result_bytes,
            pages: self.pages,
            idempotency_key: self.idempotency_key,
            request_hash: self.request_hash,
            lease_token: self.lease_token,
            lease_until: self.lease_until.map(Timestamp),
            webhook_pending: self.webhook_pending,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = export_events)]
struct NewEventRow {
    export_id: String,
    status: &'static str,
    at: i64,
    detail: Option<String>,
}

fn event(id: &str, status: ExportStatus, at: Timestamp, detail: impl Into<String>) -> NewEventRow {
    NewEventRow {
        export_id: id.to_string(),
        status: status.as_str(),
        at: at.0,
        detail: Some(detail.into()),
    }
}

/// A page from `limit + 1` rows: `next` is set when there are more.
fn page<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    convert: impl Fn(R) -> Result<T, DbError>,
    id: impl Fn(&R) -> &str,
) -> Result<Page<T>, DbError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| id(r).to_string())
    } else {
        None
    };
    Ok(Page {
        items: rows.into_iter().map(convert).collect::<Result<_, _>>()?,
        next,
    })
}

/// A short account of a failure for the history: the first error's message when it
/// has the `{"errors": [{"message": …}]}` shape, else the JSON (both cut at 500 chars).
fn summary(error: &serde_json::Value) -> String {
    let text = match error {
        serde_json::Value::String(s) => s.clone(),
        _ => error
            .get("errors")
            .and_then(|e| e.get(0))
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .map_or_else(|| error.to_string(), str::to_string),
    };
    match text.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// `true` when the export's tenant has a webhook (for `exports.webhook_pending`).
fn tenant_has_webhook() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>(
        "EXISTS (SELECT 1 FROM tenants WHERE tenants.id = exports.tenant_id \
         AND tenants.webhook_url IS NOT NULL)",
    )
}

/// Page sizes below 1 are taken as 1.
fn page_limit(limit: i64) -> i64 {
    limit.max(1)
}

#[async_trait]
impl MetadataStore for DieselStore {
    async fn ping(&self) -> Result<(), DbError> {
        with_conn!(self, |conn| {
            diesel::sql_query("SELECT 1")
                .execute(conn)
                .await
                .map_err(db_error)?;
            Ok(())
        })
    }

    async fn insert_tenant(&self, tenant: &Tenant) -> Result<(), DbError> {
        let row = TenantRow::new(tenant);
        with_conn!(self, |conn| {
            diesel::insert_into(tenants::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(db_error)?;
            Ok(())
        })
    }

    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, DbError> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            tenants::table
                .find(&id)
                .select(TenantRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(db_error)?
                .map(TenantRow::into_domain)
                .transpose()
        })
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, DbError> {
        with_conn!(self, |conn| {
            tenants::table
                .order((tenants::created_at.asc(), tenants::id.asc()))
                .select(TenantRow::as_select())
                .load(conn)
                .await
                .map_err(db_error)?
                .into_iter()
                .map(TenantRow::into_domain)
                .collect()
        })
    }

    async fn set_webhook(
        &self,
        id: TenantId,
        url: Option<&str>,
        secret: Option<&str>,
    ) -> Result<bool, DbError> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            let n = diesel::update(tenants::table.find(&id))
                .set((
                    tenants::webhook_url.eq(url),
                    tenants::webhook_secret.eq(secret),
                ))
                .execute(conn)
                .await
                .map_err(db_error)?;
            Ok(n > 0)
        })
    }

    async fn insert_api_key(&self, key: &ApiKey) -> Result<(), DbError> {
        let row = ApiKeyRow::new(key);
        with_conn!(self, |conn| {
            diesel::insert_into(api_keys::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(db_error)?;
            Ok(())
        })
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<(ApiKey, Tenant)>, DbError> {
        with_conn!(self, |conn| {
            let found = api_keys::table
                .inner_join(tenants::table)
                .filter(api_keys::hash.eq(hash))
                .filter(api_keys::revoked_at.is_null())
                .select((ApiKeyRow::as_select(), TenantRow::as_select()))
                .first::<(ApiKeyRow, TenantRow)>(conn)
                .await
                .optional()
                .map_err(db_error)?;
            match found {
                Some((key, tenant)) => Ok(Some((key.into_domain()?, tenant.into_domain()?))),
                None => Ok(None),
            }
        })
    }

    async fn revoke_api_key(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: Timestamp,
    ) -> Result<bool, DbError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        with_conn!(self, |conn| {
            let mine = api_keys::table
                .filter(api_keys::id.eq(&id))
                .filter(api_keys::tenant_id.eq(&tenant));
            // A key revoked before keeps its first revocation time.
            diesel::update(mine.filter(api_keys::revoked_at.is_null()))
                .set(api_keys::revoked_at.eq(at.0))
                .execute(conn)
                .await
                .map_err(db_error)?;
            let exists = mine
                .select(api_keys::id)
                .first::<String>(conn)
                .await
                .optional()
                .map_err(db_error)?;
            Ok(exists.is_some())
        })
    }

    async fn insert_document(&self, doc: &DocumentRecord) -> Result<(), DbError> {
        let row = DocumentRow::new(doc);
        with_conn!(self, |conn| {
            diesel::insert_into(documents::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(db_error)?;
            Ok(())
        })
    }

    async fn document(
        &self,
        tenant: TenantId,
        id: DocumentId,
    ) -> Result<Option<DocumentRecord>, DbError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        with_conn!(self, |conn| {
            documents::table
                .filter(documents::id.eq(&id))
                .filter(documents::tenant_id.eq(&tenant))
                .select(DocumentRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(db_error)?
                .map(DocumentRow::into_domain)
                .transpose()
        })
    }

    async fn documents(
        &self,
        tenant: TenantId,
        kind: Option<SourceKind>,
        after: Option<DocumentId>,
        limit: i64,
    ) -> Result<Page<DocumentRecord>, DbError> {
        let tenant = tenant.to_string();
        let after = after.map(|a| a.to_string());
        let limit = page_limit(limit);
        with_conn!(self, |conn| {
            let mut query = documents::table
                .filter(documents::tenant_id.eq(&tenant))
                .select(DocumentRow::as_select())
                .into_boxed();
            if let Some(kind) = kind {
                query = query.filter(documents::kind.eq(kind.as_str()));
            }
            if let Some(after) = &after {
                query = query.filter(documents::id.lt(after));
            }
            let rows = query
                .order(documents::id.desc())
                .limit(limit.saturating_add(1))
                .load(conn)
                .await
                .map_err(db_error)?;
            page(rows, limit, DocumentRow::into_domain, |r| &r.id)
        })
    }

    async fn replace_document(
        &self,
        tenant: TenantId,
        id: DocumentId,
        name: &str,
        source_key: &BlobKey,
        size_bytes: i64,
        at: Timestamp,
    ) -> Result<Option<DocumentRecord>, DbError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        with_conn!(self, |conn| {
            diesel::update(
                documents::table
                    .filter(documents::id.eq(&id))
                    .filter(documents::tenant_id.eq(&tenant)),
            )
            .set((
                documents::name.eq(name),
                documents::source_key.eq(source_key.as_str()),
                documents::size_bytes.eq(size_bytes),
                documents::version.eq(documents::version + 1),
                documents::updated_at.eq(at.0),
            ))
            .returning(DocumentRow::as_returning())
            .get_result(conn)
            .await
            .optional()
            .map_err(db_error)?
            .map(DocumentRow::into_domain)
            .transpose()
        })
    }

    async fn delete_document(
        &self,
        tenant: TenantId,
        id: DocumentId,
    ) -> Result<Option<DocumentRecord>, DbError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        with_conn!(self, |conn| {
            diesel::delete(
                documents::table
                    .filter(documents::id.eq(&id))
                    .filter(documents::tenant_id.eq(&tenant)),
            )
            .returning(DocumentRow::as_returning())
            .get_result(conn)
            .await
            .optional()
            .map_err(db_error)?
            .map(DocumentRow::into_domain)
            .transpose()
        })
    }

    async fn insert_font(&self, font: &FontRecord) -> Result<(), DbError> {
        let row = FontRow::new(font);
        with_conn!(self, |conn| {
            diesel::insert_into(fonts::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(db_error)?;
            Ok(())
        })
    }

    async fn fonts(&self, tenant: TenantId) -> Result<Vec<FontRecord>, DbError> {
        let tenant = tenant.to_string();
        with_conn!(self, |conn| {
            fonts::table
                .filter(fonts::tenant_id.eq(&tenant))
                .order((fonts::created_at.asc(), fonts::id.asc()))
                .select(FontRow::as_select())
                .load(conn)
                .await
                .map_err(db_error)?
                .into_iter()
                .map(FontRow::into_domain)
                .collect()
        })
    }

    async fn delete_font(
        &self,
        tenant: TenantId,
        id: FontId,
    ) -> Result<Option<FontRecord>, DbError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        with_conn!(self, |conn| {
            diesel::delete(
                fonts::table
                    .filter(fonts::id.eq(&id))
                    .filter(fonts::tenant_id.eq(&tenant)),
            )
            .returning(FontRow::as_returning())
            .get_result(conn)
            .await
            .optional()
            .map_err(db_error)?
            .map(FontRow::into_domain)
            .transpose()
        })
    }

    async fn insert_export(&self, export: &NewExport, at: Timestamp) -> Result<Inserted, DbError> {
        let row = ExportRow::new(export, at);
        let created = event(&row.id, ExportStatus::Queued, at, "created");
        with_conn!(self, |conn| {
            let existing = async |conn: &mut _| -> Result<Option<Export>, DbError> {
                let Some(key) = &row.idempotency_key else {
                    return Ok(None);
                };
                exports::table
                    .filter(exports::tenant_id.eq(&row.tenant_id))
                    .filter(exports::idempotency_key.eq(key))
                    .select(ExportRow::as_select())
                    .first(conn)
                    .await
                    .optional()
                    .map_err(db_error)?
                    .map(ExportRow::into_domain)
                    .transpose()
            };
            if let Some(found) = existing(&mut *conn).await? {
                return Ok(Inserted::Existing(found));
            }
            let inserted = conn
                .transaction(async |conn| {
                    diesel::insert_into(exports::table)
                        .values(&row)
                        .execute(conn)
                        .await?;
                    diesel::insert_into(export_events::table)
                        .values(&created)
                        .execute(conn)
                        .await?;
                    Ok::<_, DieselError>(())
                })
                .await;
            match inserted {
                Ok(()) => Ok(Inserted::Created(row.clone().into_domain()?)),
                // Another request with the same key got there first.
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                    match existing(&mut *conn).await? {
                        Some(found) => Ok(Inserted::Existing(found)),
                        None => Err(DbError::Conflict(info.message().to_string())),
                    }
                }
                Err(e) => Err(db_error(e)),
            }
        })
    }

    async fn export(&self, tenant: TenantId, id: ExportId) -> Result<Option<Export>, DbError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        with_conn!(self, |conn| {
            exports::table
                .filter(exports::id.eq(&id))
                .filter(exports::tenant_id.eq(&tenant))
                .select(ExportRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(db_error)?
                .map(ExportRow::into_domain)
                .transpose()
        })
    }

    async fn export_any(&self, id: ExportId) -> Result<Option<Export>, DbError> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            exports::table
                .find(&id)
                .select(ExportRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(db_error)?
                .map(ExportRow::into_domain)
                .transpose()
        })
    }

    async fn exports(
        &self,
        tenant: TenantId,
        after: Option<ExportId>,
        limit: i64,
    ) -> Result<Page<Export>, DbError> {
        let tenant = tenant.to_string();
        let after = after.map(|a| a.to_string());
        let limit = page_limit(limit);
        with_conn!(self, |conn| {
            let mut query = exports::table
                .filter(exports::tenant_id.eq(&tenant))
                .select(ExportRow::as_select())
                .into_boxed();
            if let Some(after) = &after {
                query = query.filter(exports::id.lt(after));
            }
            let rows = query
                .order(exports::id.desc())
                .limit(limit.saturating_add(1))
                .load(conn)
                .await
                .map_err(db_error)?;
            page(rows, limit, ExportRow::into_domain, |r| &r.id)
        })
    }

    async fn export_events(&self, id: ExportId) -> Result<Vec<ExportEvent>, DbError> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            export_events::table
                .filter(export_events::export_id.eq(&id))
                .order(export_events::id.asc())
                .select((
                    export_events::status,
                    export_events::at,
                    export_events::detail,
                ))
                .load::<(String, i64, Option<String>)>(conn)
                .await
                .map_err(db_error)?
                .into_iter()
                .map(|(status, at, detail)| {
                    Ok(ExportEvent {
                        status: parse_status(&status)?,
                        at: Timestamp(at),
                        detail,
                    })
                })
                .collect()
        })
    }

    async fn claim_export(
        &self,
        id: ExportId,
        token: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Export>, DbError> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            let claimed = conn
                .transaction(async |conn| {
                    // One conditional update: of two workers, only one sees it claimable.
                    let row = diesel::update(
                        exports::table.filter(exports::id.eq(&id)).filter(
                            exports::status
                                .eq(ExportStatus::Queued.as_str())
                                .or(exports::status
                                    .eq(ExportStatus::Running.as_str())
                                    .and(exports::lease_until.lt(now.0))),
                        ),
                    )
                    .set((
                        exports::status.eq(ExportStatus::Running.as_str()),
                        exports::attempts.eq(exports::attempts + 1),
                        exports::lease_token.eq(token),
                        exports::lease_until.eq(lease_until.0),
                        exports::updated_at.eq(now.0),
                    ))
                    .returning(ExportRow::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?;
                    if let Some(row) = &row {
                        let detail = format!("attempt {}", row.attempts);
                        diesel::insert_into(export_events::table)
                            .values(event(&row.id, ExportStatus::Running, now, detail))
                            .execute(conn)
                            .await?;
                    }
                    Ok::<_, DieselError>(row)
                })
                .await
                .map_err(db_error)?;
            claimed.map(ExportRow::into_domain).transpose()
        })
    }

    async fn renew_lease(
        &self,
        id: ExportId,
        token: &str,
        lease_until: Timestamp,
    ) -> Result<bool, DbError> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            let n = diesel::update(
                exports::table
                    .filter(exports::id.eq(&id))
                    .filter(exports::status.eq(ExportStatus::Running.as_str()))
                    .filter(exports::lease_token.eq(token)),
            )
            .set(exports::lease_until.eq(lease_until.0))
            .execute(conn)
            .await
            .map_err(db_error)?;
            Ok(n > 0)
        })
    }

    async fn finish_export(
        &self,
        id: ExportId,
        token: &str,
        outcome: &Outcome,
        at: Timestamp,
    ) -> Result<Option<Export>, DbError> {
        let id = id.to_string();
        let error_text = match outcome {
            Outcome::Failed(error) => Some(error.to_string()),
            _ => None,
        };
        let (status, detail) = match outcome {
            Outcome::Succeeded {
                files,
                bytes,
                pages,
            } => (
                ExportStatus::Succeeded,
                format!("{pages} page(s) in {files} file(s), {bytes} bytes"),
            ),
            Outcome::Failed(error) => (ExportStatus::Failed, summary(error)),
            Outcome::Retry(reason) => (ExportStatus::Queued, format!("retry: {reason}")),
        };
        let finished = event(&id, status, at, detail);
        with_conn!(self, |conn| {
            let row = conn
                .transaction(async |conn| {
                    // Only the holder of the current lease may finish the attempt.
                    let held = exports::table
                        .filter(exports::id.eq(&id))
                        .filter(exports::status.eq(ExportStatus::Running.as_str()))
                        .filter(exports::lease_token.eq(token));
                    let no_lease = (
                        exports::lease_token.eq(None::<String>),
                        exports::lease_until.eq(None::<i64>),
                        exports::updated_at.eq(at.0),
                    );
                    let update = diesel::update(held);
                    let row = match outcome {
                        Outcome::Succeeded {
                            files,
                            bytes,
                            pages,
                        } => {
                            update
                                .set((
                                    exports::status.eq(status.as_str()),
                                    exports::result_files.eq(files),
                                    exports::result_bytes.eq(bytes),
                                    exports::pages.eq(pages),
                                    exports::error.eq(None::<String>),
                                    exports::webhook_pending.eq(tenant_has_webhook()),
                                    no_lease,
                                ))
                                .returning(ExportRow::as_returning())
                                .get_result(conn)
                                .await
                        }
                        Outcome::Failed(_) => {
                            update
                                .set((
                                    exports::status.eq(status.as_str()),
                                    exports::error.eq(&error_text),
                                    exports::webhook_pending.eq(tenant_has_webhook()),
                                    no_lease,
                                ))
                                .returning(ExportRow::as_returning())
                                .get_result(conn)
                                .await
                        }
                        Outcome::Retry(_) => {
                            update
                                .set((exports::status.eq(status.as_str()), no_lease))
                                .returning(ExportRow::as_returning())
                                .get_result(conn)
                                .await
                        }
                    }
                    .optional()?;
                    if row.is_some() {
                        diesel::insert_into(export_events::table)
                            .values(&finished)
                            .execute(conn)
                            .await?;
                    }
                    Ok::<_, DieselError>(row)
                })
                .await
                .map_err(db_error)?;
            row.map(ExportRow::into_domain).transpose()
        })
    }

    async fn stale_exports(
        &self,
        stale_before: Timestamp,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<ExportId>, DbError> {
        let limit = limit.max(0);
        with_conn!(self, |conn| {
            exports::table
                .filter(
                    exports::status
                        .eq(ExportStatus::Queued.as_str())
                        .and(exports::updated_at.lt(stale_before.0))
                        .or(exports::status
                            .eq(ExportStatus::Running.as_str())
                            .and(exports::lease_until.lt(now.0))),
                )
                .order((exports::updated_at.asc(), exports::id.asc()))
                .limit(limit)
                .select(exports::id)
                .load::<String>(conn)
                .await
                .map_err(db_error)?
                .iter()
                .map(|id| parse_id(id, "exports.id"))
                .collect()
        })
    }

    async fn clear_webhook_pending(&self, id: ExportId) -> Result<bool, DbError> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            let n = diesel::update(
                exports::table
                    .filter(exports::id.eq(&id))
                    .filter(exports::webhook_pending.eq(true)),
            )
            .set(exports::webhook_pending.eq(false))
            .execute(conn)
            .await
            .map_err(db_error)?;
            Ok(n > 0)
        })
    }

    async fn pending_webhooks(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<ExportId>, DbError> {
        let limit = limit.max(0);
        with_conn!(self, |conn| {
            exports::table
                .filter(exports::webhook_pending.eq(true))
                .filter(exports::status.eq_any([
                    ExportStatus::Succeeded.as_str(),
                    ExportStatus::Failed.as_str(),
                ]))
                .filter(exports::updated_at.lt(before.0))
                .order((exports::updated_at.asc(), exports::id.asc()))
                .limit(limit)
                .select(exports::id)
                .load::<String>(conn)
                .await
                .map_err(db_error)?
                .iter()
                .map(|id| parse_id(id, "exports.id"))
                .collect()
        })
    }

    async fn export_counts(&self) -> Result<ExportCounts, DbError> {
        with_conn!(self, |conn| {
            let counted = exports::table
                .group_by(exports::status)
                .select((exports::status, diesel::dsl::count_star()))
                .load::<(String, i64)>(conn)
                .await
                .map_err(db_error)?;
            let by_status = ExportStatus::ALL
                .into_iter()
                .map(|status| {
                    let n = counted
                        .iter()
                        .find(|(s, _)| s == status.as_str())
                        .map_or(0, |(_, n)| *n);
                    (status, n)
                })
                .collect();
            Ok(ExportCounts { by_status })
        })
    }
}
