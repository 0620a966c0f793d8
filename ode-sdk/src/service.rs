//! What the API and the worker do, written once over the three ports
//! ([`MetadataStore`], [`BlobStore`], [`JobQueue`]): authentication, stored documents
//! and fonts, synchronous renders, exports and their processing, webhooks.
//!
//! The API is a thin HTTP skin over [`Service`]; the worker calls
//! [`Service::process_export`] for each job and [`Service::sweep`] now and then.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::admission::{Admission, Stop};
use crate::api::{ErrorItem, ExportInfo, ExportRequest, RenderRequest, WebhookEvent};
use crate::blob::{BlobError, BlobStore, Download};
use crate::config::Settings;
use crate::db::{DbError, Inserted, MetadataStore, NewExport, Outcome};
use crate::domain::{
    ApiKey, ApiKeyId, BlobKey, Bucket, DocumentId, DocumentRecord, Export, ExportFormat, ExportId,
    ExportStatus, FontId, FontRecord, SourceKind, Tenant, TenantId, Timestamp,
};
use crate::jobs::{ExportJob, JobError, JobQueue};
use crate::ratelimit::RateLimiter;
use crate::{Format, Guard, PngOptions, RenderError, Renderer};
use ode_core::template::Template;

/// Why a service operation failed; the API maps each to one HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The request is malformed (400).
    #[error("bad request")]
    BadRequest(Vec<ErrorItem>),
    /// The document, template or data is invalid, or a budget was exceeded (422).
    #[error("invalid input")]
    Invalid(Vec<ErrorItem>),
    /// No such thing for this tenant (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request or an upload is too large (413).
    #[error("{0}")]
    TooLarge(String),
    /// A render took longer than its budget (504).
    #[error("{0}")]
    Timeout(String),
    /// A dependency is down; retrying later should work (503).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else (500).
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    fn bad(path: &str, detail: impl Into<String>) -> Self {
        ServiceError::BadRequest(vec![ErrorItem::new("bad_request", detail).at(path)])
    }

    fn from_render(e: RenderError, code: &str) -> Self {
        match e {
            RenderError::Invalid(d) => ServiceError::Invalid(
                d.0.iter()
                    .map(|d| ErrorItem::from_diagnostic(d, code))
                    .collect(),
            ),
            other => ServiceError::Invalid(vec![ErrorItem::new(code, other.to_string())]),
        }
    }

    /// The error items of a 4xx answer (one generic item for 5xx ones).
    pub fn items(&self) -> Vec<ErrorItem> {
        match self {
            ServiceError::BadRequest(items) | ServiceError::Invalid(items) => items.clone(),
            ServiceError::NotFound(what) => {
                vec![ErrorItem::new("not_found", format!("no such {what}"))]
            }
            ServiceError::TooLarge(m) => vec![ErrorItem::new("too_large", m.clone())],
            ServiceError::Timeout(m) => vec![ErrorItem::new("timeout", m.clone())],
            ServiceError::Unavailable(m) => vec![ErrorItem::new("unavailable", m.clone())],
            ServiceError::Internal(_) => vec![ErrorItem::new("internal", "internal error")],
        }
    }
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        if e.is_transient() {
            ServiceError::Unavailable(e.to_string())
        } else {
            ServiceError::Internal(e.to_string())
        }
    }
}

impl From<BlobError> for ServiceError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound(_) => ServiceError::NotFound("file"),
            e if e.is_transient() => ServiceError::Unavailable(e.to_string()),
            e => ServiceError::Internal(e.to_string()),
        }
    }
}

impl From<JobError> for ServiceError {
    fn from(e: JobError) -> Self {
        if e.is_transient() {
            ServiceError::Unavailable(e.to_string())
        } else {
            ServiceError::Internal(e.to_string())
        }
    }
}

/// Who is calling: a tenant, through one of its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant.
    pub tenant: Tenant,
    /// The key used.
    pub key_id: ApiKeyId,
}

/// One rendered file.
#[derive(Debug, Clone)]
pub struct RenderedFile {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its media type: the format's, or `application/zip` for the SVG or PNG pages of a
    /// document of several pages (one entry per page, `page-1.svg`, …).
    pub content_type: &'static str,
    /// The file name extension that goes with it.
    pub extension: &'static str,
    /// Pages in the document.
    pub pages: usize,
    /// Warnings met while rendering.
    pub warnings: Vec<ErrorItem>,
}

/// What an export renders, as stored in the documents bucket when it is created.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExportInput {
    kind: SourceKind,
    source: String,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    records: Option<Vec<Value>>,
    #[serde(default)]
    document_id: Option<DocumentId>,
    /// Assets sent with the request, base64.
    #[serde(default)]
    assets: Option<BTreeMap<String, String>>,
}

/// A source to render, as text.
#[derive(Debug, Clone)]
struct Source {
    kind: SourceKind,
    text: String,
    document_id: Option<DocumentId>,
}

const KEY_CACHE_TTL: Duration = Duration::from_secs(10);

/// The service. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    queue: Arc<dyn JobQueue>,
    settings: Arc<Settings>,
    base: Renderer,
    /// Per tenant: the font ids its renderer was built with, and the renderer.
    renderers: Mutex<HashMap<TenantId, (Vec<FontId>, Renderer)>>,
    /// Key hash -> when looked up, and who it was.
    keys: Mutex<HashMap<String, (Instant, Option<Principal>)>>,
    /// Which renders run, in turn by tenant, and the memory they may hold.
    admission: Admission,
    /// Request rates per key and per tenant.
    limiter: RateLimiter,
    http: reqwest::Client,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").finish_non_exhaustive()
    }
}

/// SHA-256 of an API key, in lowercase hex: what is stored and looked up.
pub fn hash_api_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A new random secret: 64 hex digits from two random UUIDs (244 random bits).
fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// `Ode-Signature` for a webhook body sent at `t` (Unix seconds).
pub fn webhook_signature(secret: &str, t: i64, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex(&mac.finalize().into_bytes()))
}

impl Service {
    /// A service over these ports.
    pub fn new(
        db: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
        queue: Arc<dyn JobQueue>,
        settings: Arc<Settings>,
    ) -> Self {
        let limiter = RateLimiter::local(
            settings.api.rate_limit_per_sec,
            settings.api.tenant_rate_limit_per_sec,
        );
        Self::with_limiter(db, blobs, queue, settings, limiter)
    }

    /// A service over these ports whose rate limits are `limiter`'s (shared through
    /// Redis, see [`connect`]).
    pub fn with_limiter(
        db: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
        queue: Arc<dyn JobQueue>,
        settings: Arc<Settings>,
        limiter: RateLimiter,
    ) -> Self {
        let limits = &settings.limits;
        let admission = Admission::new(
            limits.slots(),
            limits.render_memory_mb << 20,
            limits.memory_budget(),
        );
        let base = Renderer::new()
            .single_threaded()
            .with_limits(settings.limits.engine);
        let http = crate::egress::webhook_client(&settings.webhooks);
        Service {
            inner: Arc::new(Inner {
                db,
                blobs,
                queue,
                settings,
                base,
                renderers: Mutex::default(),
                keys: Mutex::default(),
                admission,
                limiter,
                http,
            }),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The metadata store.
    pub fn db(&self) -> &Arc<dyn MetadataStore> {
        &self.inner.db
    }

    /// The blob store.
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.inner.blobs
    }

    /// The queue.
    pub fn queue(&self) -> &Arc<dyn JobQueue> {
        &self.inner.queue
    }

    // ---- Tenants and keys ----

    /// Creates a tenant.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn create_tenant(&self, name: &str) -> Result<Tenant, ServiceError> {
        let tenant = Tenant {
            id: TenantId::new(),
            name: name.to_string(),
            webhook_url: None,
            webhook_secret: None,
            created_at: Timestamp::now(),
        };
        self.inner.db.insert_tenant(&tenant).await?;
        Ok(tenant)
    }

    /// Creates an API key for a tenant; returns it with the key itself, which is shown
    /// only now (only its hash is stored).
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for an unknown tenant.
    pub async fn create_api_key(
        &self,
        tenant: TenantId,
        name: &str,
    ) -> Result<(ApiKey, String), ServiceError> {
        if self.inner.db.tenant(tenant).await?.is_none() {
            return Err(ServiceError::NotFound("tenant"));
        }
        let secret = format!("ode_{}", random_secret());
        let key = ApiKey {
            id: ApiKeyId::new(),
            tenant_id: tenant,
            name: name.to_string(),
            prefix: secret[..12].to_string(),
            hash: hash_api_key(&secret),
            created_at: Timestamp::now(),
            revoked_at: None,
        };
        self.inner.db.insert_api_key(&key).await?;
        Ok((key, secret))
    }

    /// Who a bearer token belongs to, if anyone. Answers are cached for a few seconds,
    /// so a revoked key stops working within 10 s on every API instance.
    ///
    /// # Errors
    /// [`ServiceError::Unavailable`] when the database is down.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>, ServiceError> {
        let hash = hash_api_key(token);
        if let Some((at, who)) = self.lock_keys().get(&hash)
            && at.elapsed() < KEY_CACHE_TTL
        {
            return Ok(who.clone());
        }
        let who = self
            .inner
            .db
            .api_key_by_hash(&hash)
            .await?
            .map(|(key, tenant)| Principal {
                tenant,
                key_id: key.id,
            });
        let mut keys = self.lock_keys();
        if keys.len() > 10_000 {
            keys.retain(|_, (at, _)| at.elapsed() < KEY_CACHE_TTL);
        }
        keys.insert(hash, (Instant::now(), who.clone()));
        Ok(who)
    }

    fn lock_keys(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<Principal>)>> {
        self.inner.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets a tenant's webhook; a secret is generated when none is given.
    ///
    /// # Errors
    /// [`ServiceError::BadRequest`] for a URL that is not http(s).
    pub async fn set_webhook(
        &self,
        tenant: TenantId,
        url: &str,
        secret: Option<&str>,
    ) -> Result<(String, String), ServiceError> {
        if url.len() > 2048 {
            return Err(ServiceError::bad(
                "/url",
                "a webhook URL has at most 2048 characters",
            ));
        }
        // A URL the webhook sender would refuse is refused now (its host is resolved,
        // and checked again, when each webhook is sent).
        crate::egress::check_url(url, &self.inner.settings.webhooks)
            .map_err(|e| ServiceError::bad("/url", format!("the webhook URL: {e}")))?;
        let secret = match secret {
            Some(s) if s.len() < 16 => {
                return Err(ServiceError::bad(
                    "/secret",
                    "a webhook secret needs at least 16 characters",
                ));
            }
            Some(s) => s.to_string(),
            None => random_secret(),
        };
        if !self
            .inner
            .db
            .set_webhook(tenant, Some(url), Some(&secret))
            .await?
        {
            return Err(ServiceError::NotFound("tenant"));
        }
        self.forget_principals(tenant);
        Ok((url.to_string(), secret))
    }

    /// Removes a tenant's webhook.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn clear_webhook(&self, tenant: TenantId) -> Result<(), ServiceError> {
        self.inner.db.set_webhook(tenant, None, None).await?;
        self.forget_principals(tenant);
        Ok(())
    }

    fn forget_principals(&self, tenant: TenantId) {
        self.lock_keys()
            .retain(|_, (_, who)| who.as_ref().is_none_or(|p| p.tenant.id != tenant));
    }

    // ---- Documents ----

    /// Checks a source and gives it back as stored text, with warnings.
    fn check_source(
        &self,
        kind: SourceKind,
        source: &Value,
    ) -> Result<(String, Vec<ErrorItem>), ServiceError> {
        match kind {
            SourceKind::Markdown => {
                let Value::String(text) = source else {
                    return Err(ServiceError::bad(
                        "/source",
                        "a Markdown source is a JSON string",
                    ));
                };
                let converted = ode_core::markdown::to_document(text).map_err(|d| {
                    ServiceError::from_render(RenderError::Invalid(d), "invalid_markdown")
                })?;
                let warnings = converted
                    .warnings
                    .iter()
                    .map(|d| ErrorItem::from_diagnostic(d, "warning"))
                    .collect();
                Ok((text.clone(), warnings))
            }
            SourceKind::Document => {
                let text = serde_json::to_string_pretty(source)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                // The structure must be valid; what layout finds (an image not uploaded
                // yet, a missing glyph) is reported as a warning, since assets and fonts
                // may come after the document.
                ode_core::model::parse(&text).map_err(|d| {
                    ServiceError::from_render(RenderError::Invalid(d), "invalid_document")
                })?;
                let warnings = self
                    .inner
                    .base
                    .validate(&text)
                    .iter()
                    .map(|d| ErrorItem::from_diagnostic(d, "warning"))
                    .collect();
                Ok((text, warnings))
            }
            SourceKind::Template => {
                let text = serde_json::to_string_pretty(source)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                Template::parse(&text).map_err(|d| {
                    ServiceError::from_render(RenderError::Invalid(d), "invalid_template")
                })?;
                Ok((text, vec![]))
            }
        }
    }

    fn source_key(tenant: TenantId, id: DocumentId, version: i64) -> BlobKey {
        BlobKey(format!("{tenant}/documents/{id}/v{version}"))
    }

    /// Stores a new document, template or Markdown text after checking it.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] with the source's errors.
    pub async fn create_document(
        &self,
        tenant: TenantId,
        kind: SourceKind,
        name: &str,
        source: &Value,
    ) -> Result<(DocumentRecord, Vec<ErrorItem>), ServiceError> {
        let (text, warnings) = self.check_source(kind, source)?;
        let id = DocumentId::new();
        let key = Self::source_key(tenant, id, 1);
        let now = Timestamp::now();
        let size = text.len() as i64;
        self.inner
            .blobs
            .put(
                Bucket::Documents,
                &key,
                Bytes::from(text),
                "application/json",
            )
            .await?;
        let record = DocumentRecord {
            id,
            tenant_id: tenant,
            kind,
            name: name.to_string(),
            version: 1,
            source_key: key,
            size_bytes: size,
            created_at: now,
            updated_at: now,
        };
        self.inner.db.insert_document(&record).await?;
        Ok((record, warnings))
    }

    /// The tenant's document record; [`ServiceError::NotFound`] for an id it does not
    /// have (another tenant's included).
    async fn stored_document(
        &self,
        tenant: TenantId,
        id: DocumentId,
    ) -> Result<DocumentRecord, ServiceError> {
        self.inner
            .db
            .document(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound("document"))
    }

    /// A page of the tenant's documents, newest first, of one kind or all.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn documents(
        &self,
        tenant: TenantId,
        kind: Option<SourceKind>,
        after: Option<DocumentId>,
        limit: i64,
    ) -> Result<crate::domain::Page<DocumentRecord>, ServiceError> {
        Ok(self.inner.db.documents(tenant, kind, after, limit).await?)
    }

    /// A page of the tenant's exports, newest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn exports(
        &self,
        tenant: TenantId,
        after: Option<ExportId>,
        limit: i64,
    ) -> Result<crate::domain::Page<Export>, ServiceError> {
        Ok(self.inner.db.exports(tenant, after, limit).await?)
    }

    /// A stored document and its source.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] unless the tenant has it.
    pub async fn document(
        &self,
        tenant: TenantId,
        id: DocumentId,
    ) -> Result<(DocumentRecord, String), ServiceError> {
        let record = self.stored_document(tenant, id).await?;
        let bytes = self
            .inner
            .blobs
            .get(Bucket::Documents, &record.source_key)
            .await?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ServiceError::Internal("stored source is not UTF-8".into()))?;
        Ok((record, text))
    }

    /// Replaces a document's source (its kind stays). The new source is stored before
    /// the record points at it; the old one is deleted after.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], or [`ServiceError::Invalid`] with the source's errors.
    pub async fn replace_document(
        &self,
        tenant: TenantId,
        id: DocumentId,
        name: Option<&str>,
        kind: SourceKind,
        source: &Value,
    ) -> Result<(DocumentRecord, Vec<ErrorItem>), ServiceError> {
        let old = self.stored_document(tenant, id).await?;
        if old.kind != kind {
            return Err(ServiceError::bad(
                "/kind",
                format!(
                    "this is a {}; a replacement must be one too",
                    old.kind.as_str()
                ),
            ));
        }
        let (text, warnings) = self.check_source(kind, source)?;
        let key = Self::source_key(tenant, id, old.version + 1);
        let size = text.len() as i64;
        self.inner
            .blobs
            .put(
                Bucket::Documents,
                &key,
                Bytes::from(text),
                "application/json",
            )
            .await?;
        let updated = self
            .inner
            .db
            .replace_document(
                tenant,
                id,
                name.unwrap_or(&old.name),
                &key,
                size,
                Timestamp::now(),
            )
            .await?;
        let Some(updated) = updated else {
            // Deleted meanwhile: do not leave the new source behind.
            let _ = self.inner.blobs.delete(Bucket::Documents, &key).await;
            return Err(ServiceError::NotFound("document"));
        };
        if updated.source_key != old.source_key {
            let _ = self
                .inner
                .blobs
                .delete(Bucket::Documents, &old.source_key)
                .await;
        }
        Ok((updated, warnings))
    }

    /// Deletes a document with its sources and assets.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] unless the tenant has it.
    pub async fn delete_document(
        &self,
        tenant: TenantId,
        id: DocumentId,
    ) -> Result<(), ServiceError> {
        self.inner
            .db
            .delete_document(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound("document"))?;
        self.inner
            .blobs
            .delete_prefix(Bucket::Documents, &format!("{tenant}/documents/{id}/"))
            .await?;
        Ok(())
    }

    fn asset_prefix(tenant: TenantId, id: DocumentId) -> String {
        format!("{tenant}/documents/{id}/assets/")
    }

    /// Stores an asset (an image) of a stored document under `name`, the key its `src`
    /// uses.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], or [`ServiceError::BadRequest`] for a name that is
    /// not a plain relative path.
    pub async fn put_asset(
        &self,
        tenant: TenantId,
        id: DocumentId,
        name: &str,
        bytes: Bytes,
    ) -> Result<(), ServiceError> {
        if name.is_empty()
            || name.len() > 255
            || name.starts_with('/')
            || name.contains('\\')
            || name
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(ServiceError::bad(
                "/name",
                "an asset name is a relative path without empty, \".\" or \"..\" segments",
            ));
        }
        self.stored_document(tenant, id).await?;
        let key = BlobKey(format!("{}{name}", Self::asset_prefix(tenant, id)));
        self.inner
            .blobs
            .put(Bucket::Documents, &key, bytes, "application/octet-stream")
            .await?;
        Ok(())
    }

    /// The asset names of a stored document.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] unless the tenant has the document.
    pub async fn assets(
        &self,
        tenant: TenantId,
        id: DocumentId,
    ) -> Result<Vec<String>, ServiceError> {
        self.stored_document(tenant, id).await?;
        let prefix = Self::asset_prefix(tenant, id);
        Ok(self
            .inner
            .blobs
            .list(Bucket::Documents, &prefix)
            .await?
            .into_iter()
            .filter_map(|k| k.0.strip_prefix(&prefix).map(str::to_string))
            .collect())
    }

    /// Decodes assets sent inline (base64), naming the one that is not base64.
    fn inline_assets(
        assets: Option<&BTreeMap<String, String>>,
    ) -> Result<BTreeMap<String, ode_core::text::Bytes>, ServiceError> {
        use base64::Engine as _;
        let mut map = BTreeMap::new();
        for (name, b64) in assets.into_iter().flatten() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| {
                    ServiceError::bad(&format!("/assets/{name}"), format!("not base64: {e}"))
                })?;
            map.insert(name.clone(), ode_core::text::Bytes::from(bytes));
        }
        Ok(map)
    }

    /// The stored document's assets with the inline ones over them, for a renderer.
    async fn assets_for(
        &self,
        tenant: TenantId,
        id: Option<DocumentId>,
        inline: Option<&BTreeMap<String, String>>,
    ) -> Result<Option<Arc<BTreeMap<String, ode_core::text::Bytes>>>, ServiceError> {
        let inline = Self::inline_assets(inline)?;
        let stored = self.load_assets(tenant, id).await?;
        Ok(match (stored, inline.is_empty()) {
            (stored, true) => stored,
            (None, false) => Some(Arc::new(inline)),
            (Some(stored), false) => {
                let mut all = (*stored).clone();
                all.extend(inline);
                Some(Arc::new(all))
            }
        })
    }

    async fn load_assets(
        &self,
        tenant: TenantId,
        id: Option<DocumentId>,
    ) -> Result<Option<Arc<BTreeMap<String, ode_core::text::Bytes>>>, ServiceError> {
        let Some(id) = id else { return Ok(None) };
        let prefix = Self::asset_prefix(tenant, id);
        let keys = self.inner.blobs.list(Bucket::Documents, &prefix).await?;
        if keys.is_empty() {
            return Ok(None);
        }
        let mut map = BTreeMap::new();
        for key in keys {
            match self.inner.blobs.get(Bucket::Documents, &key).await {
                Ok(bytes) => {
                    let name = key.0[prefix.len()..].to_string();
                    map.insert(name, ode_core::text::Bytes::from(bytes.to_vec()));
                }
                Err(BlobError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Some(Arc::new(map)))
    }

    // ---- Fonts ----

    /// Stores a TTF, OTF or TTC file for a tenant's documents.
    ///
    /// # Errors
    /// [`ServiceError::TooLarge`], or [`ServiceError::Invalid`] when it is not a font.
    pub async fn upload_font(
        &self,
        tenant: TenantId,
        file_name: &str,
        bytes: Bytes,
    ) -> Result<FontRecord, ServiceError> {
        if bytes.len() > self.inner.settings.limits.max_font_bytes {
            return Err(ServiceError::TooLarge(format!(
                "a font may have at most {} bytes",
                self.inner.settings.limits.max_font_bytes
            )));
        }
        let mut book = ode_core::text::FontBook::new();
        book.add(ode_core::text::Bytes::from(bytes.to_vec()))
            .map_err(|_| {
                ServiceError::Invalid(vec![ErrorItem::new(
                    "invalid_font",
                    "the file is not a TrueType or OpenType font",
                )])
            })?;
        // Tried once through what embedding and shaping read: a font that breaks them
        // is refused now, not at every render that uses it.
        let tried = bytes.clone();
        tokio::task::spawn_blocking(move || ode_core::text::check_font(&tried))
            .await
            .map_err(|e| ServiceError::Internal(format!("font check failed: {e}")))?
            .map_err(|e| {
                ServiceError::Invalid(vec![ErrorItem::new(
                    "invalid_font",
                    format!("the font cannot be used: {e}"),
                )])
            })?;
        let family = book.faces()[0].family.clone();
        let clean: String = file_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(100)
            .collect();
        let clean = if clean.is_empty() {
            "font".into()
        } else {
            clean
        };
        let id = FontId::new();
        let record = FontRecord {
            id,
            tenant_id: tenant,
            family,
            file_name: clean.clone(),
            blob_key: BlobKey(format!("{tenant}/fonts/{id}/{clean}")),
            size_bytes: bytes.len() as i64,
            created_at: Timestamp::now(),
        };
        self.inner
            .blobs
            .put(Bucket::Fonts, &record.blob_key, bytes, "font/sfnt")
            .await?;
        self.inner.db.insert_font(&record).await?;
        Ok(record)
    }

    /// A tenant's fonts.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn fonts(&self, tenant: TenantId) -> Result<Vec<FontRecord>, ServiceError> {
        Ok(self.inner.db.fonts(tenant).await?)
    }

    /// Deletes a font.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] unless the tenant has it.
    pub async fn delete_font(&self, tenant: TenantId, id: FontId) -> Result<(), ServiceError> {
        let record = self
            .inner
            .db
            .delete_font(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound("font"))?;
        self.inner
            .blobs
            .delete(Bucket::Fonts, &record.blob_key)
            .await?;
        Ok(())
    }

    /// The renderer for a tenant: built-in fonts plus its own, rebuilt when its fonts
    /// change.
    async fn renderer(&self, tenant: TenantId) -> Result<Renderer, ServiceError> {
        let fonts = self.inner.db.fonts(tenant).await?;
        if fonts.is_empty() {
            return Ok(self.inner.base.clone());
        }
        let ids: Vec<FontId> = fonts.iter().map(|f| f.id).collect();
        if let Some((cached, r)) = self
            .inner
            .renderers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&tenant)
            && *cached == ids
        {
            return Ok(r.clone());
        }
        let mut renderer = self.inner.base.clone();
        for f in &fonts {
            let bytes = match self.inner.blobs.get(Bucket::Fonts, &f.blob_key).await {
                Ok(b) => b,
                Err(BlobError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            renderer = renderer
                .with_font_bytes(bytes.to_vec())
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
        }
        self.inner
            .renderers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant, (ids, renderer.clone()));
        Ok(renderer)
    }

    // ---- Rendering ----

    async fn resolve_source(
        &self,
        tenant: TenantId,
        document: Option<&Value>,
        template: Option<&Value>,
        markdown: Option<&str>,
        document_id: Option<DocumentId>,
    ) -> Result<Source, ServiceError> {
        let given = [
            document.is_some(),
            template.is_some(),
            markdown.is_some(),
            document_id.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given != 1 {
            return Err(ServiceError::bad(
                "",
                "give exactly one of `document`, `template`, `markdown` or `document_id`",
            ));
        }
        let compact = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        Ok(if let Some(d) = document {
            Source {
                kind: SourceKind::Document,
                text: compact(d),
                document_id: None,
            }
        } else if let Some(t) = template {
            Source {
                kind: SourceKind::Template,
                text: compact(t),
                document_id: None,
            }
        } else if let Some(m) = markdown {
            Source {
                kind: SourceKind::Markdown,
                text: m.to_string(),
                document_id: None,
            }
        } else {
            let id = document_id.expect("counted above");
            let (record, text) = self.document(tenant, id).await?;
            Source {
                kind: record.kind,
                text,
                document_id: Some(id),
            }
        })
    }

    /// Renders synchronously: the bytes of one file.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] with every problem found (also for a page budget
    /// exceeded), [`ServiceError::Timeout`] past the render budget.
    pub async fn render(
        &self,
        tenant: TenantId,
        req: &RenderRequest,
    ) -> Result<RenderedFile, ServiceError> {
        let source = self
            .resolve_source(
                tenant,
                req.document.as_ref(),
                req.template.as_ref(),
                req.markdown.as_deref(),
                req.document_id,
            )
            .await?;
        if source.kind != SourceKind::Template && req.data.is_some() {
            return Err(ServiceError::bad("/data", "`data` goes with a template"));
        }
        if req.page == Some(0) {
            return Err(ServiceError::bad("/page", "pages count from 1"));
        }
        if req.page.is_some() && req.format == ExportFormat::Pdf {
            return Err(ServiceError::bad("/page", "`page` goes with SVG or PNG"));
        }
        let mut renderer = self.renderer(tenant).await?;
        if let Some(assets) = self
            .assets_for(tenant, source.document_id, req.assets.as_ref())
            .await?
        {
            renderer = renderer.with_assets(assets);
        }
        let data = req
            .data
            .clone()
            .unwrap_or_else(|| Value::Object(Default::default()));
        let format = req.format;
        let page = req.page;
        let mut files = self
            .run_render(tenant, move |guard| {
                let renderer = renderer.with_guard(guard);
                render_one(&renderer, &source, Some(&data), format, page).map(|f| vec![f])
            })
            .await?;
        Ok(files.remove(0))
    }

    /// Charges one request to its key's and its tenant's rate; when either is spent,
    /// the seconds to wait.
    pub async fn charge(&self, who: &Principal) -> Result<(), u64> {
        self.inner.limiter.check(who.key_id, who.tenant.id).await
    }

    /// Renders running now, and renders waiting for a slot, in this process.
    pub fn render_load(&self) -> (usize, usize) {
        (
            self.inner.admission.running(),
            self.inner.admission.waiting(),
        )
    }

    /// Runs a render on the blocking pool once admitted (in turn by tenant, one per
    /// core), within the time budget and the memory limits: `work` gets the guard its
    /// engine must ask.
    async fn run_render(
        &self,
        tenant: TenantId,
        work: impl FnOnce(Guard) -> Result<Vec<RenderedFile>, ServiceError> + Send + 'static,
    ) -> Result<Vec<RenderedFile>, ServiceError> {
        let budget = Duration::from_millis(self.inner.settings.limits.render_timeout_ms);
        let started = Instant::now();
        let permit = tokio::time::timeout(budget, self.inner.admission.admit(tenant))
            .await
            .map_err(|_| {
                ServiceError::Timeout("the server is busy: no render slot within the budget".into())
            })?;
        let permit = Arc::new(permit);
        let guard = permit.guard();
        let running = permit.clone();
        let left = budget.saturating_sub(started.elapsed());
        // The blocking task holds the slot until the render has really stopped.
        let task = tokio::task::spawn_blocking(move || {
            let counted = running.enter();
            let result = work(guard);
            drop(counted);
            result
        });
        let result = match tokio::time::timeout(left, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(ServiceError::Internal(format!("render task failed: {e}"))),
            Err(_) => {
                permit.cancel(Stop::Timeout);
                return Err(ServiceError::Timeout(format!(
                    "the render took longer than its budget of {} ms",
                    budget.as_millis()
                )));
            }
        };
        match (result, permit.stopped()) {
            (Err(_), Some(Stop::Pressure)) => Err(ServiceError::Unavailable(
                "the server is short of memory for renders: retry later".into(),
            )),
            (Err(_), Some(Stop::OwnLimit)) => Err(ServiceError::Invalid(vec![ErrorItem::new(
                "memory_limit",
                format!(
                    "the render needs more than {} MB of memory, the limit of one render",
                    self.inner.settings.limits.render_memory_mb
                ),
            )])),
            (Err(_), Some(Stop::Timeout)) => Err(ServiceError::Timeout(format!(
                "the render took longer than its budget of {} ms",
                budget.as_millis()
            ))),
            (result, _) => result,
        }
    }

    // ---- Exports ----

    /// Creates an export and queues it. With an `idempotency_key` the tenant already
    /// used, the export created then is returned (and `false`: nothing new was made).
    ///
    /// # Errors
    /// [`ServiceError::BadRequest`] or [`ServiceError::Invalid`] for a request that
    /// could never succeed (the template's syntax is checked now; data-dependent
    /// errors fail the export later with their diagnostics).
    pub async fn create_export(
        &self,
        tenant: TenantId,
        req: &ExportRequest,
        idempotency_key: Option<&str>,
    ) -> Result<(Export, bool), ServiceError> {
        if let Some(k) = idempotency_key
            && (k.is_empty() || k.len() > 255)
        {
            return Err(ServiceError::bad(
                "Idempotency-Key",
                "an Idempotency-Key has 1 to 255 characters",
            ));
        }
        let source = self
            .resolve_source(
                tenant,
                req.document.as_ref(),
                req.template.as_ref(),
                req.markdown.as_deref(),
                req.document_id,
            )
            .await?;
        if source.kind != SourceKind::Template && (req.data.is_some() || req.records.is_some()) {
            return Err(ServiceError::bad(
                "/data",
                "`data` and `records` go with a template",
            ));
        }
        if req.data.is_some() && req.records.is_some() {
            return Err(ServiceError::bad(
                "/records",
                "give `data` or `records`, not both",
            ));
        }
        if req.merge && req.records.is_none() {
            return Err(ServiceError::bad("/merge", "`merge` goes with `records`"));
        }
        if req.merge && req.format != ExportFormat::Pdf {
            return Err(ServiceError::bad(
                "/merge",
                "only PDF exports can be merged",
            ));
        }
        let records = req.records.as_ref().map_or(1, Vec::len);
        if records == 0 {
            return Err(ServiceError::bad("/records", "`records` is empty"));
        }
        let max = self.inner.settings.limits.max_batch_records;
        if records > max {
            return Err(ServiceError::TooLarge(format!(
                "a batch may have at most {max} records, this one has {records}"
            )));
        }
        // Fail fast on what no data can fix.
        match source.kind {
            SourceKind::Template => {
                Template::parse(&source.text).map_err(|d| {
                    ServiceError::from_render(RenderError::Invalid(d), "invalid_template")
                })?;
            }
            SourceKind::Document => {
                ode_core::model::parse(&source.text).map_err(|d| {
                    ServiceError::from_render(RenderError::Invalid(d), "invalid_document")
                })?;
            }
            SourceKind::Markdown => {}
        }
        let id = ExportId::new();
        let input = ExportInput {
            kind: source.kind,
            source: source.text,
            data: req.data.clone(),
            records: req.records.clone(),
            document_id: source.document_id,
            assets: req.assets.clone(),
        };
        Self::inline_assets(req.assets.as_ref())?;
        let input_key = BlobKey(format!("{tenant}/exports/{id}/input.json"));
        let body = serde_json::to_vec(&input).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.inner
            .blobs
            .put(
                Bucket::Documents,
                &input_key,
                Bytes::from(body),
                "application/json",
            )
            .await?;
        let new = NewExport {
            id,
            tenant_id: tenant,
            document_id: source.document_id,
            kind: source.kind,
            format: req.format,
            input_key: input_key.clone(),
            records: records as i64,
            merge: req.merge,
            idempotency_key: idempotency_key.map(str::to_string),
            request_hash: Some(request_hash(req)),
        };
        match self.inner.db.insert_export(&new, Timestamp::now()).await {
            Ok(Inserted::Created(export)) => {
                if let Err(e) = self.inner.queue.push(ExportJob { export_id: id }).await {
                    // The export is stored as queued: the workers' sweep queues it again.
                    tracing::warn!(export.id = %id, error = %e, "queue push failed; the sweep will retry");
                }
                Ok((export, true))
            }
            Ok(Inserted::Existing(export)) => {
                let _ = self.inner.blobs.delete(Bucket::Documents, &input_key).await;
                // A retry sends the same request; another request with the same key is a
                // mistake that must not silently get the first one's export.
                if export.request_hash.is_some() && export.request_hash != new.request_hash {
                    return Err(ServiceError::Invalid(vec![
                        ErrorItem::new(
                            "idempotency_key_reused",
                            format!(
                                "this Idempotency-Key was used for export {} with a different \
                                 request; use a new key for a new request",
                                export.id
                            ),
                        )
                        .at("Idempotency-Key"),
                    ]));
                }
                Ok((export, false))
            }
            Err(e) => {
                let _ = self.inner.blobs.delete(Bucket::Documents, &input_key).await;
                Err(e.into())
            }
        }
    }

    /// An export with its history.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] unless the tenant has it.
    pub async fn export(&self, tenant: TenantId, id: ExportId) -> Result<ExportInfo, ServiceError> {
        let export = self
            .inner
            .db
            .export(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound("export"))?;
        let events = self.inner.db.export_events(id).await?;
        let mut info = ExportInfo::from_export(&export);
        info.history = events.iter().map(Into::into).collect();
        Ok(info)
    }

    /// How to download result file `file` (from 0) of a succeeded export.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for another tenant's export or a file it does not
    /// have; [`ServiceError::BadRequest`] while it is not finished.
    pub async fn download(
        &self,
        tenant: TenantId,
        id: ExportId,
        file: i64,
    ) -> Result<(Download, String, &'static str), ServiceError> {
        let export = self
            .inner
            .db
            .export(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound("export"))?;
        if export.status != ExportStatus::Succeeded {
            return Err(ServiceError::BadRequest(vec![ErrorItem::new(
                "not_ready",
                format!("the export is {}", export.status.as_str()),
            )]));
        }
        if file < 0 || file >= export.result_files {
            return Err(ServiceError::NotFound("file"));
        }
        let ttl = self.inner.settings.blobs.presign_ttl_secs.max(60);
        let name = |ext: &str| {
            if export.result_files == 1 {
                format!("{}.{ext}", export.id)
            } else {
                format!("{}-{}.{ext}", export.id, file + 1)
            }
        };
        let (ext, ct) = (export.format.as_str(), export.format.content_type());
        let found = self
            .inner
            .blobs
            .download(
                Bucket::Exports,
                &export.result_key(file),
                &name(ext),
                ct,
                ttl,
            )
            .await;
        // The SVG or PNG pages of a document of several pages are one zip.
        let (d, name, ct) = match found {
            Err(BlobError::NotFound(_)) if export.format != ExportFormat::Pdf => {
                let zip = "application/zip";
                let key = export.result_key_as(file, "zip");
                let d = self
                    .inner
                    .blobs
                    .download(Bucket::Exports, &key, &name("zip"), zip, ttl)
                    .await?;
                (d, name("zip"), zip)
            }
            found => (found?, name(ext), ct),
        };
        Ok((d, name, ct))
    }

    /// Handles one delivery of an export job (the worker's job handler): claims the
    /// export, renders it, stores the result and records the outcome. A delivery for an
    /// export another worker holds, or that is finished, does nothing.
    ///
    /// # Errors
    /// A transient [`JobError`] when the attempt should be retried later (the export is
    /// back in `queued` until then); permanent failures are recorded on the export and
    /// answer `Ok`.
    pub async fn process_export(&self, id: ExportId, worker: &str) -> Result<(), JobError> {
        let settings = &self.inner.settings.worker;
        let lease_ms = (settings.lease_secs.max(5) * 1000) as i64;
        let token = format!("{worker}:{}", uuid::Uuid::new_v4().simple());
        let now = Timestamp::now();
        let claimed = self
            .inner
            .db
            .claim_export(id, &token, now, now.plus_ms(lease_ms))
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        let Some(export) = claimed else {
            return Ok(());
        };
        let started = Instant::now();
        // Keep the lease while rendering.
        let renew = {
            let db = self.inner.db.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let every = Duration::from_millis((lease_ms / 3) as u64);
                loop {
                    tokio::time::sleep(every).await;
                    let until = Timestamp::now().plus_ms(lease_ms);
                    if !matches!(db.renew_lease(id, &token, until).await, Ok(true)) {
                        break;
                    }
                }
            })
        };
        let result = self.render_export(&export).await;
        renew.abort();
        let outcome = match &result {
            Ok((files, bytes, pages)) => Outcome::Succeeded {
                files: *files,
                bytes: *bytes,
                pages: *pages,
            },
            Err(ServiceError::Invalid(items) | ServiceError::BadRequest(items)) => {
                Outcome::Failed(serde_json::json!({ "errors": items }))
            }
            Err(ServiceError::TooLarge(m)) => Outcome::Failed(
                serde_json::json!({ "errors": [ErrorItem::new("too_large", m.clone())] }),
            ),
            Err(e) if export.attempts >= settings.max_attempts as i32 => {
                Outcome::Failed(serde_json::json!({ "errors": [ErrorItem::new(
                    "attempts_exhausted",
                    format!("gave up after {} attempts: {e}", export.attempts),
                )] }))
            }
            Err(e) => Outcome::Retry(e.to_string()),
        };
        let finished = self
            .inner
            .db
            .finish_export(id, &token, &outcome, Timestamp::now())
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        tracing::info!(
            export.id = %id,
            export.attempt = export.attempts,
            export.outcome = match &outcome {
                Outcome::Succeeded { .. } => "succeeded",
                Outcome::Failed(_) => "failed",
                Outcome::Retry(_) => "retry",
            },
            render.duration_ms = started.elapsed().as_millis() as u64,
            "export attempt finished"
        );
        if let Some(done) = finished
            && done.webhook_pending
        {
            self.deliver_webhook(&done).await;
        }
        match outcome {
            Outcome::Retry(reason) => Err(JobError::Transient(reason)),
            _ => Ok(()),
        }
    }

    /// Renders an export and stores its files: (files, bytes, pages).
    async fn render_export(&self, export: &Export) -> Result<(i64, i64, i64), ServiceError> {
        let raw = self
            .inner
            .blobs
            .get(Bucket::Documents, &export.input_key)
            .await
            .map_err(|e| match e {
                BlobError::NotFound(_) => ServiceError::Invalid(vec![ErrorItem::new(
                    "input_missing",
                    "the export's input is missing",
                )]),
                e => e.into(),
            })?;
        let input: ExportInput = serde_json::from_slice(&raw)
            .map_err(|e| ServiceError::Internal(format!("export input: {e}")))?;
        let mut renderer = self.renderer(export.tenant_id).await?;
        if let Some(assets) = self
            .assets_for(export.tenant_id, input.document_id, input.assets.as_ref())
            .await?
        {
            renderer = renderer.with_assets(assets);
        }
        let format = export.format;
        let merge = export.merge;
        let files = self
            .run_render(export.tenant_id, move |guard| {
                render_export_files(&renderer.with_guard(guard), input, format, merge)
            })
            .await
            .map_err(|e| match e {
                // A worker has no client waiting: a slow render is a failure of the input.
                ServiceError::Timeout(m) => {
                    ServiceError::Invalid(vec![ErrorItem::new("timeout", m)])
                }
                e => e,
            })?;
        let count = files.len() as i64;
        let bytes: i64 = files.iter().map(|f| f.bytes.len() as i64).sum();
        let pages: i64 = files.iter().map(|f| f.pages as i64).sum();
        // Files are uploaded 16 at a time: one by one, a batch of 1,000 spends most of
        // its time waiting on S3 round trips.
        use futures::StreamExt as _;
        let mut uploads = futures::stream::iter(files.into_iter().enumerate().map(|(i, f)| {
            let key = export.result_key_as(i as i64, f.extension);
            async move {
                self.inner
                    .blobs
                    .put(Bucket::Exports, &key, Bytes::from(f.bytes), f.content_type)
                    .await
            }
        }))
        .buffer_unordered(16);
        while let Some(done) = uploads.next().await {
            done?;
        }
        Ok((count, bytes, pages))
    }

    /// Sends the webhook for a finished export, retrying with backoff, then clears its
    /// pending flag (also when every attempt failed: the failure is logged).
    pub async fn deliver_webhook(&self, export: &Export) {
        let tenant = match self.inner.db.tenant(export.tenant_id).await {
            Ok(Some(t)) => t,
            _ => return,
        };
        let (Some(url), Some(secret)) = (tenant.webhook_url, tenant.webhook_secret) else {
            let _ = self.inner.db.clear_webhook_pending(export.id).await;
            return;
        };
        let event = WebhookEvent {
            kind: format!("export.{}", export.status.as_str()),
            export: ExportInfo::from_export(export),
        };
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let attempts = self.inner.settings.worker.webhook_attempts.max(1);
        let mut delay = Duration::from_millis(self.inner.settings.worker.backoff_ms.max(10));
        // Checked again at each delivery: the settings may have changed since the URL
        // was accepted (the host is checked by the client's resolver as it connects).
        if let Err(e) = crate::egress::check_url(&url, &self.inner.settings.webhooks) {
            tracing::warn!(export.id = %export.id, error = %e, "webhook refused by policy");
            let _ = self.inner.db.clear_webhook_pending(export.id).await;
            return;
        }
        for attempt in 1..=attempts {
            let t = Timestamp::now().0 / 1000;
            let sent = self
                .inner
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("ode-signature", webhook_signature(&secret, t, &body))
                .header(
                    "ode-event-id",
                    format!("{}.{}", export.id, export.status.as_str()),
                )
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    let _ = self.inner.db.clear_webhook_pending(export.id).await;
                    return;
                }
                Ok(r) => {
                    tracing::warn!(export.id = %export.id, webhook.attempt = attempt, http.status = r.status().as_u16(), "webhook refused")
                }
                Err(e) => {
                    tracing::warn!(export.id = %export.id, webhook.attempt = attempt, error = %e, "webhook failed")
                }
            }
            if attempt < attempts {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(300));
            }
        }
        tracing::error!(export.id = %export.id, "webhook given up after {attempts} attempts");
        let _ = self.inner.db.clear_webhook_pending(export.id).await;
    }

    /// Queues again the exports whose message may be lost (queued but untouched for
    /// `requeue_after_secs`, or running past their lease), and sends webhooks left
    /// pending by a worker that died. Returns how many of each.
    ///
    /// # Errors
    /// When the database or the queue fails.
    pub async fn sweep(&self) -> Result<(usize, usize), ServiceError> {
        let now = Timestamp::now();
        let w = &self.inner.settings.worker;
        // Queued exports are looked at only when the queue is empty: a backlog is not a
        // lost message, and pushing it again would only add duplicates. Exports running
        // past their lease (their worker died) are always taken back.
        let queue_empty = matches!(self.inner.queue.depth().await, Ok(0));
        let stale_before = if queue_empty {
            now.plus_ms(-((w.requeue_after_secs * 1000) as i64))
        } else {
            Timestamp(i64::MIN)
        };
        let stale = self.inner.db.stale_exports(stale_before, now, 500).await?;
        for id in &stale {
            self.inner.queue.push(ExportJob { export_id: *id }).await?;
        }
        // A webhook still pending well after its delivery window was lost with its worker.
        let window: u64 = (0..w.webhook_attempts)
            .map(|i| w.backoff_ms.max(10) << i.min(15))
            .sum::<u64>()
            + 60_000;
        let webhooks = self
            .inner
            .db
            .pending_webhooks(now.plus_ms(-(window as i64)), 100)
            .await?;
        for id in &webhooks {
            if let Some(export) = self.inner.db.export_any(*id).await? {
                self.deliver_webhook(&export).await;
            }
        }
        Ok((stale.len(), webhooks.len()))
    }
}

/// A digest of an export request that does not depend on the order of object keys, to
/// tell a retry from another request with the same `Idempotency-Key`.
fn request_hash(req: &ExportRequest) -> String {
    fn canonical(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push(b'{');
                for k in keys {
                    canonical(&Value::String(k.clone()), out);
                    out.push(b':');
                    canonical(&m[k], out);
                    out.push(b',');
                }
                out.push(b'}');
            }
            Value::Array(a) => {
                out.push(b'[');
                for e in a {
                    canonical(e, out);
                    out.push(b',');
                }
                out.push(b']');
            }
            other => out.extend_from_slice(other.to_string().as_bytes()),
        }
    }
    let mut bytes = Vec::new();
    canonical(
        &serde_json::to_value(req).unwrap_or(Value::Null),
        &mut bytes,
    );
    hex(&Sha256::digest(&bytes))
}

fn to_format(f: ExportFormat) -> Format {
    match f {
        ExportFormat::Pdf => Format::Pdf,
        ExportFormat::Svg => Format::Svg,
        ExportFormat::Png => Format::Png,
    }
}

fn warnings(w: &[ode_core::Diagnostic]) -> Vec<ErrorItem> {
    w.iter()
        .map(|d| ErrorItem::from_diagnostic(d, "warning"))
        .collect()
}

/// A template compiled under the renderer's limits.
fn compile_template(renderer: &Renderer, text: &str) -> Result<Template, ServiceError> {
    let mut t = Template::parse(text)
        .map_err(|d| ServiceError::from_render(RenderError::Invalid(d), "invalid_template"))?;
    t.set_limits(*renderer.limits());
    Ok(t)
}

/// Renders one source; SVG and PNG give page `page` (from 1), or every page (one zip
/// when there are several).
fn render_one(
    renderer: &Renderer,
    source: &Source,
    data: Option<&Value>,
    format: ExportFormat,
    page: Option<usize>,
) -> Result<RenderedFile, ServiceError> {
    let mut converted = Vec::new();
    let doc: ode_core::model::Document = match source.kind {
        SourceKind::Document => ode_core::model::parse(&source.text)
            .map_err(|d| ServiceError::from_render(RenderError::Invalid(d), "invalid_document"))?,
        SourceKind::Template => {
            let t = compile_template(renderer, &source.text)?;
            let empty = Value::Object(Default::default());
            t.document_with(data.unwrap_or(&empty), renderer.guard())
                .map_err(|d| {
                    ServiceError::from_render(RenderError::Invalid(d), "invalid_template")
                })?
        }
        SourceKind::Markdown => {
            let invalid =
                |d| ServiceError::from_render(RenderError::Invalid(d), "invalid_markdown");
            let md = ode_core::markdown::to_document(&source.text).map_err(invalid)?;
            converted = warnings(&md.warnings);
            ode_core::model::from_value(&md.output).map_err(invalid)?
        }
    };
    let mut file = render_model(renderer, &doc, format, page)?;
    if !converted.is_empty() {
        converted.append(&mut file.warnings);
        file.warnings = converted;
    }
    Ok(file)
}

fn render_model(
    renderer: &Renderer,
    doc: &ode_core::model::Document,
    format: ExportFormat,
    page: Option<usize>,
) -> Result<RenderedFile, ServiceError> {
    let r = renderer
        .render_model(
            doc,
            to_format(format),
            &PngOptions::default(),
            page.filter(|_| format == ExportFormat::Png),
        )
        .map_err(|e| ServiceError::from_render(e, "invalid_document"))?;
    finish_rendered(r, page)
}

fn finish_rendered(r: crate::Rendered, page: Option<usize>) -> Result<RenderedFile, ServiceError> {
    let crate::Rendered {
        output,
        warnings: found,
        pages,
    } = r;
    let missing = || {
        ServiceError::BadRequest(vec![
            ErrorItem::new("no_such_page", format!("the document has {pages} pages")).at("/page"),
        ])
    };
    let (files, format) = match output {
        // The output is moved, not copied: a synchronous render hands its bytes on.
        crate::Output::Pdf(bytes) => {
            return Ok(RenderedFile {
                bytes,
                content_type: ExportFormat::Pdf.content_type(),
                extension: "pdf",
                pages,
                warnings: warnings(&found),
            });
        }
        crate::Output::Svg(svgs) => (
            svgs.into_iter().map(String::into_bytes).collect::<Vec<_>>(),
            ExportFormat::Svg,
        ),
        crate::Output::Png(pngs) => (pngs, ExportFormat::Png),
    };
    let (bytes, content_type, extension) = match page {
        // PNG renders only the page asked for; SVG has them all.
        Some(_) if format == ExportFormat::Png => (
            files.into_iter().next().ok_or_else(missing)?,
            format.content_type(),
            format.as_str(),
        ),
        Some(p) => (
            files.into_iter().nth(p - 1).ok_or_else(missing)?,
            format.content_type(),
            format.as_str(),
        ),
        None if files.len() == 1 => (
            files.into_iter().next().unwrap_or_default(),
            format.content_type(),
            format.as_str(),
        ),
        None => (
            zip_pages(&files, format.as_str())?,
            "application/zip",
            "zip",
        ),
    };
    Ok(RenderedFile {
        bytes,
        content_type,
        extension,
        pages,
        warnings: warnings(&found),
    })
}

/// Every page in one zip: `page-1.svg`, `page-2.svg`, … (SVG deflated, PNG stored: it
/// is compressed already).
fn zip_pages(pages: &[Vec<u8>], extension: &str) -> Result<Vec<u8>, ServiceError> {
    use std::io::Write as _;
    use zip::write::SimpleFileOptions;
    let method = if extension == "png" {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    // A fixed time keeps the archive's bytes the same for the same document.
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(zip::DateTime::default());
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let failed = |e: &dyn std::fmt::Display| ServiceError::Internal(format!("zip: {e}"));
    for (i, page) in pages.iter().enumerate() {
        out.start_file(format!("page-{}.{extension}", i + 1), options)
            .map_err(|e| failed(&e))?;
        out.write_all(page).map_err(|e| failed(&e))?;
    }
    Ok(out.finish().map_err(|e| failed(&e))?.into_inner())
}

/// An export's files: one per record, or one merged.
fn render_export_files(
    renderer: &Renderer,
    input: ExportInput,
    format: ExportFormat,
    merge: bool,
) -> Result<Vec<RenderedFile>, ServiceError> {
    let source = Source {
        kind: input.kind,
        text: input.source,
        document_id: input.document_id,
    };
    let Some(records) = input.records else {
        return Ok(vec![render_one(
            renderer,
            &source,
            input.data.as_ref(),
            format,
            None,
        )?]);
    };
    let template = compile_template(renderer, &source.text)?;
    let record_errors = |failed: Vec<(usize, ode_core::Diagnostics)>| {
        ServiceError::Invalid(
            failed
                .iter()
                .flat_map(|(i, d)| {
                    d.0.iter().map(move |d| {
                        let mut item = ErrorItem::from_diagnostic(d, "invalid_record");
                        item.record = Some(*i);
                        item
                    })
                })
                .collect(),
        )
    };
    if merge {
        let merged = template
            .merge_with(&records, true, renderer.guard())
            .map_err(record_errors)?;
        let doc = ode_core::model::from_value(&merged)
            .map_err(|d| ServiceError::from_render(RenderError::Invalid(d), "invalid_document"))?;
        return Ok(vec![render_model(renderer, &doc, format, None)?]);
    }
    let mut files = Vec::with_capacity(records.len());
    let mut failed = Vec::new();
    // The memory limit is each record's render: the files done so far are the export's
    // output (bounded by the batch size), not what rendering the next one holds.
    let scope = ode_alloc::Scope::current();
    for (i, rec) in records.iter().enumerate() {
        match template.document_with(rec, renderer.guard()) {
            Ok(doc) => match render_model(renderer, &doc, format, None) {
                Ok(f) => {
                    if let Some(s) = &scope {
                        s.hand_over(f.bytes.capacity());
                    }
                    files.push(f);
                }
                Err(ServiceError::Invalid(mut items)) => {
                    for item in &mut items {
                        item.record = Some(i);
                    }
                    return Err(ServiceError::Invalid(items));
                }
                Err(e) => return Err(e),
            },
            Err(d) => failed.push((i, d)),
        }
    }
    if !failed.is_empty() {
        return Err(record_errors(failed));
    }
    Ok(files)
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The database.
    #[error("database: {0}")]
    Db(#[from] DbError),
    /// The blob store.
    #[error("blob store: {0}")]
    Blob(#[from] BlobError),
    /// The queue.
    #[error("queue: {0}")]
    Queue(#[from] JobError),
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
/// Connects the adapters the settings name (running migrations when asked) and builds
/// the service; also returns the queue, which a worker in the same process consumes.
///
/// # Errors
/// [`StartError`] naming the dependency that failed.
pub async fn connect(settings: Settings) -> Result<(Service, crate::jobs::Queue), StartError> {
    // Several TLS users (Redis over `rediss://`, S3, webhooks) share rustls, which is built
    // with two crypto backends; name one for the process (a second call changes nothing).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = crate::db::connect_store(&settings).await?;
    let blobs = crate::blob::connect_blobs(&settings).await?;
    let queue = crate::jobs::connect_queue(&settings.queue).await?;
    let (key_rate, tenant_rate) = (
        settings.api.rate_limit_per_sec,
        settings.api.tenant_rate_limit_per_sec,
    );
    #[cfg(feature = "redis")]
    let limiter = match queue.redis() {
        Some((conn, namespace)) => RateLimiter::shared(key_rate, tenant_rate, conn, &namespace),
        None => RateLimiter::local(key_rate, tenant_rate),
    };
    #[cfg(not(feature = "redis"))]
    let limiter = RateLimiter::local(key_rate, tenant_rate);
    let service = Service::with_limiter(
        db,
        blobs,
        Arc::new(queue.clone()),
        Arc::new(settings),
        limiter,
    );
    Ok((service, queue))
}
