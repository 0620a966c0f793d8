//! A typed client for ODE's hosted API (feature `client`), over the same body types the
//! server uses ([`crate::api`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), ode_sdk::client::ClientError> {
//! use ode_sdk::api::RenderRequest;
//! let client = ode_sdk::client::Client::new("http://127.0.0.1:8080", "ode_…");
//! let pdf = client
//!     .render(&RenderRequest {
//!         document: Some(serde_json::json!({"ode": 1, "content": [{"type": "paragraph", "text": "Hello"}]})),
//!         ..Default::default()
//!     })
//!     .await?;
//! assert!(pdf.bytes.starts_with(b"%PDF"));
//! # Ok(()) }
//! ```

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

use crate::api::{
    DocumentInfo, DocumentInput, ErrorBody, ErrorItem, ExportInfo, ExportRequest, FontInfo, List,
    RenderRequest, WebhookInfo, WebhookInput,
};
use crate::domain::{DocumentId, ExportId, FontId, SourceKind};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The API answered with an error.
    #[error("HTTP {status}: {}", .errors.iter().map(|e| format!("{} {}{}", e.code, e.detail, e.path.as_deref().map(|p| format!(" at {p}")).unwrap_or_default())).collect::<Vec<_>>().join("; "))]
    Api {
        /// The HTTP status.
        status: u16,
        /// The errors of the body.
        errors: Vec<ErrorItem>,
        /// `Retry-After`, in seconds, when given.
        retry_after: Option<u64>,
    },
    /// The request did not get an answer.
    #[error("request failed: {0}")]
    Http(String),
    /// The answer was not what the API promises.
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl ClientError {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A rendered file.
#[derive(Debug, Clone)]
pub struct RenderedFile {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The document's page count.
    pub pages: usize,
    /// How many warnings the render met.
    pub warnings: usize,
}

/// The client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for the API at `base_url` (`http://host:port`) with an API key.
    pub fn new(base_url: &str, api_key: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_default();
        Client {
            base: base_url.trim_end_matches('/').to_string(),
            key: api_key.to_string(),
            http,
        }
    }

    /// The same client with another key.
    pub fn with_key(&self, api_key: &str) -> Self {
        Client {
            key: api_key.to_string(),
            ..self.clone()
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }

    async fn send(rb: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let r = rb
            .send()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        if r.status().is_success() || r.status() == StatusCode::FOUND {
            return Ok(r);
        }
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let text = r.text().await.unwrap_or_default();
        let errors = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.errors)
            .unwrap_or_else(|_| vec![ErrorItem::new("http", text)]);
        Err(ClientError::Api {
            status,
            errors,
            retry_after,
        })
    }

    async fn json<T: DeserializeOwned>(rb: RequestBuilder) -> Result<T, ClientError> {
        let r = Self::send(rb).await?;
        r.json()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// `POST /v1/render`.
    ///
    /// # Errors
    /// [`ClientError::Api`] with the document's diagnostics (422) and the like.
    pub async fn render(&self, req: &RenderRequest) -> Result<RenderedFile, ClientError> {
        let r = Self::send(self.request(Method::POST, "/v1/render").json(req)).await?;
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let pages = header("x-ode-pages");
        let warnings = header("x-ode-warnings");
        let bytes = r
            .bytes()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Ok(RenderedFile {
            bytes: bytes.to_vec(),
            pages,
            warnings,
        })
    }

    /// `POST /v1/documents`.
    ///
    /// # Errors
    /// [`ClientError::Api`] (422 with the source's errors).
    pub async fn create_document(
        &self,
        input: &DocumentInput,
    ) -> Result<DocumentInfo, ClientError> {
        Self::json(self.request(Method::POST, "/v1/documents").json(input)).await
    }

    /// `GET /v1/documents/{id}` (with the source).
    ///
    /// # Errors
    /// [`ClientError::Api`] (404).
    pub async fn document(&self, id: DocumentId) -> Result<DocumentInfo, ClientError> {
        Self::json(self.request(Method::GET, &format!("/v1/documents/{id}"))).await
    }

    /// `GET /v1/documents`.
    ///
    /// # Errors
    /// [`ClientError::Api`].
    pub async fn documents(
        &self,
        kind: Option<SourceKind>,
        after: Option<&str>,
        limit: Option<i64>,
    ) -> Result<List<DocumentInfo>, ClientError> {
        let mut q: Vec<(&str, String)> = vec![];
        if let Some(k) = kind {
            q.push(("kind", k.as_str().into()));
        }
        if let Some(a) = after {
            q.push(("after", a.into()));
        }
        if let Some(l) = limit {
            q.push(("limit", l.to_string()));
        }
        Self::json(self.request(Method::GET, "/v1/documents").query(&q)).await
    }

    /// `PUT /v1/documents/{id}`.
    ///
    /// # Errors
    /// [`ClientError::Api`] (404, 422).
    pub async fn replace_document(
        &self,
        id: DocumentId,
        input: &DocumentInput,
    ) -> Result<DocumentInfo, ClientError> {
        Self::json(
            self.request(Method::PUT, &format!("/v1/documents/{id}"))
                .json(input),
        )
        .await
    }

    /// `DELETE /v1/documents/{id}`.
    ///
    /// # Errors
    /// [`ClientError::Api`] (404).
    pub async fn delete_document(&self, id: DocumentId) -> Result<(), ClientError> {
        Self::send(self.request(Method::DELETE, &format!("/v1/documents/{id}"))).await?;
        Ok(())
    }

    /// `PUT /v1/documents/{id}/assets/{name}`.
    ///
    /// # Errors
    /// [`ClientError::Api`] (400 for a bad name, 404).
    pub async fn put_asset(
        &self,
        id: DocumentId,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ClientError> {
        Self::send(
            self.request(Method::PUT, &format!("/v1/documents/{id}/assets/{name}"))
                .header("content-type", "application/octet-stream")
                .body(bytes),
        )
        .await?;
        Ok(())
    }

    /// `POST /v1/exports`; also says whether it was created now (false: an earlier
    /// export with the same idempotency key).
    ///
    /// # Errors
    /// [`ClientError::Api`].
    pub async fn create_export(
        &self,
        req: &ExportRequest,
        idempotency_key: Option<&str>,
    ) -> Result<(ExportInfo, bool), ClientError> {
        let mut rb = self.request(Method::POST, "/v1/exports").json(req);
        if let Some(k) = idempotency_key {
            rb = rb.header("idempotency-key", k);
        }
        let r = Self::send(rb).await?;
        let created = r.status() == StatusCode::ACCEPTED;
        let info = r
            .json()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok((info, created))
    }

    /// `GET /v1/exports/{id}`.
    ///
    /// # Errors
    /// [`ClientError::Api`] (404).
    pub async fn export(&self, id: ExportId) -> Result<ExportInfo, ClientError> {
        Self::json(self.request(Method::GET, &format!("/v1/exports/{id}"))).await
    }

    /// `GET /v1/exports`.
    ///
    /// # Errors
    /// [`ClientError::Api`].
    pub async fn exports(
        &self,
        after: Option<&str>,
        limit: Option<i64>,
    ) -> Result<List<ExportInfo>, ClientError> {
        let mut q: Vec<(&str, String)> = vec![];
        if let Some(a) = after {
            q.push(("after", a.into()));
        }
        if let Some(l) = limit {
            q.push(("limit", l.to_string()));
        }
        Self::json(self.request(Method::GET, "/v1/exports").query(&q)).await
    }

    /// Polls an export until it succeeds or fails, or `timeout` passes.
    ///
    /// # Errors
    /// [`ClientError::Api`], or [`ClientError::Http`] on timeout.
    pub async fn wait_export(
        &self,
        id: ExportId,
        timeout: Duration,
    ) -> Result<ExportInfo, ClientError> {
        let start = std::time::Instant::now();
        let mut delay = Duration::from_millis(20);
        loop {
            let e = self.export(id).await?;
            if e.status.is_final() {
                return Ok(e);
            }
            if start.elapsed() > timeout {
                return Err(ClientError::Http(format!(
                    "export {id} still {} after {timeout:?}",
                    e.status.as_str()
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    /// Downloads result file `file` (from 1) of an export, following the redirect to
    /// a presigned URL when the API gives one.
    ///
    /// # Errors
    /// [`ClientError::Api`] (400 while not finished, 404).
    pub async fn download(&self, id: ExportId, file: i64) -> Result<Vec<u8>, ClientError> {
        let r = Self::send(
            self.request(Method::GET, &format!("/v1/exports/{id}/download"))
                .query(&[("file", file)]),
        )
        .await?;
        let b = r
            .bytes()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Ok(b.to_vec())
    }

    /// `POST /v1/fonts`.
    ///
    /// # Errors
    /// [`ClientError::Api`] (422 for a file that is not a font, 413).
    pub async fn upload_font(
        &self,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<FontInfo, ClientError> {
        Self::json(
            self.request(Method::POST, "/v1/fonts")
                .query(&[("file_name", file_name)])
                .header("content-type", "font/ttf")
                .body(bytes),
        )
        .await
    }

    /// `GET /v1/fonts`.
    ///
    /// # Errors
    /// [`ClientError::Api`].
    pub async fn fonts(&self) -> Result<Vec<FontInfo>, ClientError> {
        Self::json(self.request(Method::GET, "/v1/fonts")).await
    }

    /// `DELETE /v1/fonts/{id}`.
    ///
    /// # Errors
    /// [`ClientError::Api`] (404).
    pub async fn delete_font(&self, id: FontId) -> Result<(), ClientError> {
        Self::send(self.request(Method::DELETE, &format!("/v1/fonts/{id}"))).await?;
        Ok(())
    }

    /// `PUT /v1/webhook`.
    ///
    /// # Errors
    /// [`ClientError::Api`] (400 for a bad URL).
    pub async fn set_webhook(&self, input: &WebhookInput) -> Result<WebhookInfo, ClientError> {
        Self::json(self.request(Method::PUT, "/v1/webhook").json(input)).await
    }

    /// A raw request to any path, for what the typed methods do not cover.
    pub fn raw(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path)
    }
}
