//! The hosted service's nouns: tenants and their API keys, stored documents and
//! templates, fonts, and exports with their status history.
//!
//! Ids are UUIDv7 newtypes (time-ordered, so listing by id is listing by creation);
//! times are [`Timestamp`]s in milliseconds since the Unix epoch, which both database
//! backends store as a 64-bit integer.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new id, ordered after every id made before it.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

id_type!(
    /// A tenant: everything stored belongs to exactly one.
    TenantId
);
id_type!(
    /// An API key.
    ApiKeyId
);
id_type!(
    /// A stored document or template.
    DocumentId
);
id_type!(
    /// An uploaded font file.
    FontId
);
id_type!(
    /// An export job.
    ExportId
);

/// Milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
    }

    /// This time plus `ms` milliseconds.
    pub fn plus_ms(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }
}

/// Where a blob lives inside its bucket: `<tenant>/<kind>/<id>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlobKey(pub String);

impl BlobKey {
    /// A key from its parts, joined with `/`.
    pub fn join(parts: &[&str]) -> Self {
        BlobKey(parts.join("/"))
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The buckets blobs are kept in (their names come from [`crate::config::BlobSettings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Document and template sources, their data and assets.
    Documents,
    /// Export results.
    Exports,
    /// Uploaded fonts.
    Fonts,
}

impl Bucket {
    /// Every bucket.
    pub const ALL: [Bucket; 3] = [Bucket::Documents, Bucket::Exports, Bucket::Fonts];

    /// A short name (the default bucket and folder name).
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Documents => "documents",
            Bucket::Exports => "exports",
            Bucket::Fonts => "fonts",
        }
    }
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// A name for people.
    pub name: String,
    /// Where export webhooks are sent (none: no webhooks).
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key webhook bodies are signed with.
    pub webhook_secret: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// An API key as stored: only a hash of its secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Its id.
    pub id: ApiKeyId,
    /// The tenant it acts for.
    pub tenant_id: TenantId,
    /// A name for people.
    pub name: String,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    /// SHA-256 of the whole key, in lowercase hex.
    pub hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was revoked (a revoked key authenticates nothing).
    pub revoked_at: Option<Timestamp>,
}

/// What a stored source is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A JSON document (`{"ode": 1, ...}`).
    Document,
    /// A JSON template, rendered with data.
    Template,
    /// A Markdown text.
    Markdown,
}

impl SourceKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Document => "document",
            SourceKind::Template => "template",
            SourceKind::Markdown => "markdown",
        }
    }

    /// The kind for a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "document" => Some(SourceKind::Document),
            "template" => Some(SourceKind::Template),
            "markdown" => Some(SourceKind::Markdown),
            _ => None,
        }
    }
}

/// A stored document, template or Markdown text. Its source is a blob in the documents
/// bucket; replacing it writes a new blob before the row points at it, so a failure
/// half-way never loses the previous version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// Its id.
    pub id: DocumentId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Document, template or Markdown.
    pub kind: SourceKind,
    /// A name for people.
    pub name: String,
    /// 1 when created, one more at each replacement.
    pub version: i64,
    /// Where the current source is.
    pub source_key: BlobKey,
    /// Size of the source in bytes.
    pub size_bytes: i64,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last replaced.
    pub updated_at: Timestamp,
}

/// An uploaded font.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FontRecord {
    /// Its id.
    pub id: FontId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The family name read from the file.
    pub family: String,
    /// The file name it was uploaded as.
    pub file_name: String,
    /// Where the file is.
    pub blob_key: BlobKey,
    /// Size in bytes.
    pub size_bytes: i64,
    /// When it was uploaded.
    pub created_at: Timestamp,
}

/// Where an export is in its life.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it (until its lease runs out).
    Running,
    /// Done; the result can be downloaded.
    Succeeded,
    /// Given up; `error` says why.
    Failed,
}

impl ExportStatus {
    /// Every status.
    pub const ALL: [ExportStatus; 4] = [
        ExportStatus::Queued,
        ExportStatus::Running,
        ExportStatus::Succeeded,
        ExportStatus::Failed,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Queued => "queued",
            ExportStatus::Running => "running",
            ExportStatus::Succeeded => "succeeded",
            ExportStatus::Failed => "failed",
        }
    }

    /// The status for a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        ExportStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Succeeded or failed: nothing will change it again.
    pub fn is_final(self) -> bool {
        matches!(self, ExportStatus::Succeeded | ExportStatus::Failed)
    }
}

/// Output formats of an export.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// PDF.
    #[default]
    Pdf,
    /// SVG (pages joined).
    Svg,
    /// PNG (the first page).
    Png,
}

impl ExportFormat {
    /// The name stored in the database (also the file extension).
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Pdf => "pdf",
            ExportFormat::Svg => "svg",
            ExportFormat::Png => "png",
        }
    }

    /// The format for a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pdf" => Some(ExportFormat::Pdf),
            "svg" => Some(ExportFormat::Svg),
            "png" => Some(ExportFormat::Png),
            _ => None,
        }
    }

    /// The media type of a result.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Pdf => "application/pdf",
            ExportFormat::Svg => "image/svg+xml",
            ExportFormat::Png => "image/png",
        }
    }
}

/// An export: what to render, and what became of it.
///
/// The job's input (the source, and the data records of a template) is copied to the
/// documents bucket under `input_key` when the export is created, so an export renders
/// what was asked even if the stored document is replaced or deleted meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// Its id.
    pub id: ExportId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The stored document or template it renders, if it came from one.
    pub document_id: Option<DocumentId>,
    /// What kind of source it renders.
    pub kind: SourceKind,
    /// Output format.
    pub format: ExportFormat,
    /// Where its input is (see above).
    pub input_key: BlobKey,
    /// Number of data records (1 for a document).
    pub records: i64,
    /// For several records: one merged file (true) or one file per record.
    pub merge: bool,
    /// Where it is in its life.
    pub status: ExportStatus,
    /// How many times a worker has taken it.
    pub attempts: i32,
    /// Why it failed: `{"errors": [...]}` with diagnostics, or an infrastructure message.
    pub error: Option<serde_json::Value>,
    /// Number of result files (1, or `records` when not merged).
    pub result_files: i64,
    /// Total size of the result in bytes.
    pub result_bytes: i64,
    /// Pages rendered in total.
    pub pages: i64,
    /// The client's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<String>,
    /// A digest of the request that created it: a retry with the same
    /// `idempotency_key` must send the same request.
    pub request_hash: Option<String>,
    /// The lease of the worker running it: that worker's token and when the lease ends.
    pub lease_token: Option<String>,
    /// When the lease ends (a running export past it is taken again).
    pub lease_until: Option<Timestamp>,
    /// Whether the webhook for the final status still has to be sent.
    pub webhook_pending: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its status last changed.
    pub updated_at: Timestamp,
}

impl Export {
    /// Where result file `index` (0-based) is kept in the exports bucket.
    pub fn result_key(&self, index: i64) -> BlobKey {
        self.result_key_as(index, self.format.as_str())
    }

    /// Where result file `index` is kept when it has another extension than the
    /// format's (`zip`: the SVG or PNG pages of a document of several pages).
    pub fn result_key_as(&self, index: i64, extension: &str) -> BlobKey {
        BlobKey(format!(
            "{}/exports/{}/{}.{}",
            self.tenant_id, self.id, index, extension
        ))
    }
}

/// One step in an export's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportEvent {
    /// The status it entered.
    pub status: ExportStatus,
    /// When.
    pub at: Timestamp,
    /// A short explanation (attempt number, error, worker).
    pub detail: Option<String>,
}

/// A page of a list, newest first; `next` is the cursor for the following page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; none at the end.
    pub next: Option<String>,
}
