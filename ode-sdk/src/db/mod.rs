//! Metadata: tenants, keys, documents, fonts and exports, in PostgreSQL (diesel-async,
//! pooled) or in an SQLite file when embedded. Both backends run the same queries over
//! the same schema (`ode-sdk/migrations/{postgres,sqlite}`), and both are tested by the
//! same suite (`ode-sdk/tests/db.rs`).
//!
//! The database is the source of truth for an export's state: the queue only carries
//! ids. A worker *claims* an export (a conditional update that gives it a lease), and
//! only the holder of the current lease can finish it, so a job delivered twice renders
//! at most once at a time and finishes exactly once.

use async_trait::async_trait;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod diesel;
#[cfg(feature = "postgres")]
pub mod pg_tls;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod schema;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use self::diesel::DieselStore;

use crate::domain::{
    ApiKey, ApiKeyId, BlobKey, DocumentId, DocumentRecord, Export, ExportEvent, ExportId,
    ExportStatus, FontId, FontRecord, Page, SourceKind, Tenant, TenantId, Timestamp,
};

/// Why a metadata operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The database could not be reached or the connection broke.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken (an `Idempotency-Key` used twice, for instance).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Migrations failed or the schema is not what this version expects.
    #[error("database schema: {0}")]
    Schema(String),
    /// Any other database error.
    #[error("database: {0}")]
    Other(String),
}

impl DbError {
    /// Whether retrying later could succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, DbError::Unavailable(_))
    }
}

/// A new export, as the API creates it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExport {
    /// Its id (chosen by the caller, so that its input blob can be written first).
    pub id: ExportId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The stored document or template, if any.
    pub document_id: Option<DocumentId>,
    /// What kind of source.
    pub kind: SourceKind,
    /// Output format.
    pub format: crate::domain::ExportFormat,
    /// Where its input is.
    pub input_key: BlobKey,
    /// Number of data records.
    pub records: i64,
    /// One merged file or one per record.
    pub merge: bool,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// A digest of the request that created it (see [`Export::request_hash`]).
    ///
    /// [`Export::request_hash`]: crate::domain::Export::request_hash
    pub request_hash: Option<String>,
}

/// What inserting an export did.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// It is new (and queued).
    Created(Export),
    /// The tenant already created an export with this `Idempotency-Key`: that one.
    Existing(Export),
}

/// How a finished attempt ended, for [`MetadataStore::finish_export`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Rendered and stored.
    Succeeded {
        /// Number of result files.
        files: i64,
        /// Their total size.
        bytes: i64,
        /// Pages in total.
        pages: i64,
    },
    /// Failed for good: the export becomes `failed` with this error.
    Failed(serde_json::Value),
    /// Failed for now: back to `queued`, to be taken again (the error goes in the history).
    Retry(String),
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportCounts {
    /// Exports per status (every status present, zero included).
    pub by_status: Vec<(ExportStatus, i64)>,
}

/// The metadata store. Every method scoped to a tenant takes its id and never sees
/// another tenant's rows: asking for another tenant's id answers `None`.
#[async_trait]
pub trait MetadataStore: Send + Sync + 'static {
    /// Checks that the database answers (for `/ready`).
    async fn ping(&self) -> Result<(), DbError>;

    // Tenants and keys.

    /// Stores a tenant.
    async fn insert_tenant(&self, tenant: &Tenant) -> Result<(), DbError>;
    /// A tenant by id.
    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, DbError>;
    /// Every tenant, oldest first.
    async fn tenants(&self) -> Result<Vec<Tenant>, DbError>;
    /// Sets (or clears) a tenant's webhook.
    async fn set_webhook(
        &self,
        id: TenantId,
        url: Option<&str>,
        secret: Option<&str>,
    ) -> Result<bool, DbError>;
    /// Stores an API key.
    async fn insert_api_key(&self, key: &ApiKey) -> Result<(), DbError>;
    /// The key with this hash and its tenant, unless it is revoked.
    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<(ApiKey, Tenant)>, DbError>;
    /// Revokes a key; false if the tenant has no such key.
    async fn revoke_api_key(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: Timestamp,
    ) -> Result<bool, DbError>;

    // Documents, templates and Markdown.

    /// Stores a new document record.
    async fn insert_document(&self, doc: &DocumentRecord) -> Result<(), DbError>;
    /// A document of the tenant.
    async fn document(
        &self,
        tenant: TenantId,
        id: DocumentId,
    ) -> Result<Option<DocumentRecord>, DbError>;
    /// The tenant's documents of one kind (all kinds when `None`), newest first, `limit`
    /// at a time, starting after the cursor `after` (an id from a previous page).
    async fn documents(
        &self,
        tenant: TenantId,
        kind: Option<SourceKind>,
        after: Option<DocumentId>,
        limit: i64,
    ) -> Result<Page<DocumentRecord>, DbError>;
    /// Points a document at a new source and increments its version; the updated record,
    /// or `None` if the tenant has no such document.
    async fn replace_document(
        &self,
        tenant: TenantId,
        id: DocumentId,
        name: &str,
        source_key: &BlobKey,
        size_bytes: i64,
        at: Timestamp,
    ) -> Result<Option<DocumentRecord>, DbError>;
    /// Deletes a document; the deleted record (its blobs are the caller's to delete).
    async fn delete_document(
        &self,
        tenant: TenantId,
        id: DocumentId,
    ) -> Result<Option<DocumentRecord>, DbError>;

    // Fonts.

    /// Stores a font record.
    async fn insert_font(&self, font: &FontRecord) -> Result<(), DbError>;
    /// The tenant's fonts, oldest first.
    async fn fonts(&self, tenant: TenantId) -> Result<Vec<FontRecord>, DbError>;
    /// Deletes a font; the deleted record.
    async fn delete_font(
        &self,
        tenant: TenantId,
        id: FontId,
    ) -> Result<Option<FontRecord>, DbError>;

    // Exports.

    /// Stores a new `queued` export with its first history event, unless the tenant
    /// already has one with the same `idempotency_key` (then that one is returned).
    async fn insert_export(&self, export: &NewExport, at: Timestamp) -> Result<Inserted, DbError>;
    /// An export of the tenant.
    async fn export(&self, tenant: TenantId, id: ExportId) -> Result<Option<Export>, DbError>;
    /// An export by id alone (for workers, which act for every tenant).
    async fn export_any(&self, id: ExportId) -> Result<Option<Export>, DbError>;
    /// The tenant's exports, newest first (see [`MetadataStore::documents`]).
    async fn exports(
        &self,
        tenant: TenantId,
        after: Option<ExportId>,
        limit: i64,
    ) -> Result<Page<Export>, DbError>;
    /// An export's history, oldest first.
    async fn export_events(&self, id: ExportId) -> Result<Vec<ExportEvent>, DbError>;
    /// Takes an export for a worker: succeeds (answering the export, now `running`,
    /// `attempts` incremented, leased to `token` until `lease_until`) only if it is
    /// `queued`, or `running` with a lease that ended before `now`. `None` otherwise:
    /// someone else holds it or it is finished.
    async fn claim_export(
        &self,
        id: ExportId,
        token: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Export>, DbError>;
    /// Extends a held lease; false if `token` no longer holds it.
    async fn renew_lease(
        &self,
        id: ExportId,
        token: &str,
        lease_until: Timestamp,
    ) -> Result<bool, DbError>;
    /// Ends the attempt leased to `token`: `succeeded` or `failed` (with
    /// `webhook_pending` set when the tenant has a webhook) or back to `queued`.
    /// Returns the updated export, or `None` if `token` no longer holds the lease (the
    /// outcome is then dropped: another attempt owns the export).
    async fn finish_export(
        &self,
        id: ExportId,
        token: &str,
        outcome: &Outcome,
        at: Timestamp,
    ) -> Result<Option<Export>, DbError>;
    /// Exports a worker should look at: `queued` and last changed before `stale_before`
    /// (their queue message may be lost), or `running` with a lease that ended before
    /// `now`. Oldest first, at most `limit`.
    async fn stale_exports(
        &self,
        stale_before: Timestamp,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<ExportId>, DbError>;
    /// Marks an export's webhook sent (or given up); false if it was not pending.
    async fn clear_webhook_pending(&self, id: ExportId) -> Result<bool, DbError>;
    /// Finished exports whose webhook is still pending and last changed before
    /// `before`, oldest first.
    async fn pending_webhooks(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<ExportId>, DbError>;
    /// Exports per status, over every tenant.
    async fn export_counts(&self) -> Result<ExportCounts, DbError>;
}

/// Connects to the metadata database the settings name ([`crate::config::Settings::database_url`]:
/// PostgreSQL, or the SQLite file under the data directory by default), running pending
/// migrations when `database.migrate` is on.
///
/// # Errors
/// See [`DieselStore::connect`].
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub async fn connect_store(
    settings: &crate::config::Settings,
) -> Result<std::sync::Arc<dyn MetadataStore>, DbError> {
    let store = DieselStore::connect(&settings.database_url(), &settings.database).await?;
    Ok(std::sync::Arc::new(store))
}
