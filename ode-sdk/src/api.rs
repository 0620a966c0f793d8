//! The hosted API's request and response bodies, shared by the server (`shells/api`)
//! and the typed client ([`crate::client`]), so the two cannot drift apart. With the
//! `openapi` feature each type also describes itself for the OpenAPI document.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{
    DocumentId, DocumentRecord, Export, ExportEvent, ExportFormat, ExportId, ExportStatus, FontId,
    FontRecord, SourceKind,
};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The error body of every 4xx and 5xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// One entry per problem (a document can have many).
    pub errors: Vec<ErrorItem>,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorItem {
    /// A stable machine-readable code (`invalid_document`, `not_found`, `rate_limited`…).
    pub code: String,
    /// What is wrong, for people.
    pub detail: String,
    /// Where: a JSON pointer into the request body or the document (`/content/0/text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Line and column in the source text, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Column (see `line`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The data record it concerns (batch exports), from 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<usize>,
    /// Suggestions for a fix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

impl ErrorItem {
    /// An error with a code and a message.
    pub fn new(code: &str, detail: impl Into<String>) -> Self {
        ErrorItem {
            code: code.into(),
            detail: detail.into(),
            path: None,
            line: None,
            column: None,
            record: None,
            hints: vec![],
        }
    }

    /// The same error at a JSON pointer.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// An engine diagnostic as an error item.
    pub fn from_diagnostic(d: &ode_core::Diagnostic, code: &str) -> Self {
        ErrorItem {
            code: code.into(),
            detail: d.message.clone(),
            path: Some(d.span.path.clone()),
            line: d.span.line,
            column: d.span.column,
            record: None,
            hints: d.hints.clone(),
        }
    }
}

/// What to render: exactly one of `document`, `template`, `markdown` or `document_id`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// A JSON document (`{"ode": 1, "content": [...]}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    /// A JSON template, rendered with `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Value>,
    /// Markdown text (optionally with YAML front matter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    /// A stored document, template or Markdown text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub document_id: Option<DocumentId>,
    /// The data a template is rendered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Images and other files the source refers to by `src`, as base64 (standard
    /// alphabet), keyed by that `src` (`{"assets/logo.png": "iVBORw0…"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<std::collections::BTreeMap<String, String>>,
    /// Output format (default PDF).
    #[serde(default)]
    pub format: ExportFormat,
    /// For SVG and PNG: only this page, from 1. Without it, a document of several pages
    /// is answered as a zip of every page (`page-1.svg`, …). Not for PDF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
}

/// An export to create: a source as in [`RenderRequest`], and for a template either
/// `data` (one record) or `records` (a batch).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// A JSON document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    /// A JSON template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Value>,
    /// Markdown text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    /// A stored document, template or Markdown text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub document_id: Option<DocumentId>,
    /// One data record for a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Many data records for a template: one output per record, or one merged output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<Value>>,
    /// Images and other files the source refers to by `src`, as base64 (standard
    /// alphabet), keyed by that `src` (`{"assets/logo.png": "iVBORw0…"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<std::collections::BTreeMap<String, String>>,
    /// With `records`: one merged file instead of one file per record.
    #[serde(default)]
    pub merge: bool,
    /// Output format (default PDF).
    #[serde(default)]
    pub format: ExportFormat,
}

/// A document, template or Markdown text to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    /// What it is (default `document`).
    #[serde(default = "default_kind")]
    pub kind: SourceKind,
    /// A name for people.
    #[serde(default)]
    pub name: String,
    /// The source: a JSON value for documents and templates, a string for Markdown.
    pub source: Value,
}

fn default_kind() -> SourceKind {
    SourceKind::Document
}

/// A stored document, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DocumentInfo {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: DocumentId,
    /// Document, template or Markdown.
    pub kind: SourceKind,
    /// Its name.
    pub name: String,
    /// 1, then one more at each replacement.
    pub version: i64,
    /// Size of its source in bytes.
    pub size_bytes: i64,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
    /// The source (only when one document is fetched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Value>,
    /// Warnings met while checking the source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ErrorItem>,
}

impl DocumentInfo {
    /// The view of a record.
    pub fn from_record(r: &DocumentRecord) -> Self {
        DocumentInfo {
            id: r.id,
            kind: r.kind,
            name: r.name.clone(),
            version: r.version,
            size_bytes: r.size_bytes,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            source: None,
            warnings: vec![],
        }
    }
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct List<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass as `after` for the next page; absent at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// An export, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExportInfo {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ExportId,
    /// Where it is in its life.
    pub status: ExportStatus,
    /// Output format.
    pub format: ExportFormat,
    /// The stored document it renders, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub document_id: Option<DocumentId>,
    /// Data records.
    pub records: i64,
    /// One merged file.
    pub merge: bool,
    /// Times a worker took it.
    pub attempts: i32,
    /// Result files (download each with `?file=N`).
    pub files: i64,
    /// Total result size.
    pub size_bytes: i64,
    /// Pages rendered.
    pub pages: i64,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
    /// Its history (only when one export is fetched).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<ExportEventInfo>,
}

impl ExportInfo {
    /// The view of an export.
    pub fn from_export(e: &Export) -> Self {
        ExportInfo {
            id: e.id,
            status: e.status,
            format: e.format,
            document_id: e.document_id,
            records: e.records,
            merge: e.merge,
            attempts: e.attempts,
            files: e.result_files,
            size_bytes: e.result_bytes,
            pages: e.pages,
            error: e.error.clone(),
            created_at: e.created_at.0,
            updated_at: e.updated_at.0,
            history: vec![],
        }
    }
}

/// One step of an export's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExportEventInfo {
    /// The status entered.
    pub status: ExportStatus,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl From<&ExportEvent> for ExportEventInfo {
    fn from(e: &ExportEvent) -> Self {
        ExportEventInfo {
            status: e.status,
            at: e.at.0,
            detail: e.detail.clone(),
        }
    }
}

/// An uploaded font.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FontInfo {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: FontId,
    /// The family documents name in `font_family`.
    pub family: String,
    /// The uploaded file name.
    pub file_name: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

impl From<&FontRecord> for FontInfo {
    fn from(f: &FontRecord) -> Self {
        FontInfo {
            id: f.id,
            family: f.family.clone(),
            file_name: f.file_name.clone(),
            size_bytes: f.size_bytes,
            created_at: f.created_at.0,
        }
    }
}

/// The tenant's webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where export events are POSTed (`http://` or `https://`).
    pub url: String,
    /// The HMAC-SHA256 key; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The tenant's webhook as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookInfo {
    /// Where events go.
    pub url: String,
    /// The signing key (shown so that the receiver can verify `Ode-Signature`).
    pub secret: String,
}

/// The body POSTed to a webhook. Its `Ode-Signature` header is
/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the tenant's secret>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookEvent {
    /// `export.succeeded` or `export.failed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The export, as `GET /v1/exports/{id}` shows it.
    pub export: ExportInfo,
}

/// `/ready`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReadyInfo {
    /// `ok` or `unavailable`.
    pub status: String,
    /// Each dependency and its state (`ok` or the error).
    pub checks: std::collections::BTreeMap<String, String>,
}
