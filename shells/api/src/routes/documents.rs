//! `/v1/documents`: stored documents, templates and Markdown texts, and their assets.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use ode_sdk::api::{DocumentInfo, DocumentInput, ErrorBody, List};
use ode_sdk::domain::{DocumentId, SourceKind};
use serde::Deserialize;

use crate::State;
use crate::auth::Auth;
use crate::error::{ApiError, parse_json};
use crate::routes::{PageQuery, parse_id, read_body};

/// Stores a document, template or Markdown text, after checking it (422 with every
/// error found, at its JSON path).
#[utoipa::path(
    tag = "documents",
    operation_id = "create_document",
    request_body = DocumentInput,
    responses(
        (status = 201, description = "Stored", body = DocumentInfo),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid source", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[post("/v1/documents")]
pub async fn create(
    state: web::Data<State>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, state.settings().limits.max_body_bytes).await?;
    let input: DocumentInput = parse_json(&body)?;
    let tenant = auth.tenant();
    let (record, warnings) = state
        .call(move |s| async move {
            s.create_document(tenant, input.kind, &input.name, &input.source)
                .await
        })
        .await?;
    let mut info = DocumentInfo::from_record(&record);
    info.warnings = warnings;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/v1/documents/{}", record.id)))
        .json(info))
}

/// Filter of the document list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KindQuery {
    /// `document`, `template` or `markdown` (default: all).
    #[param(value_type = Option<SourceKind>)]
    pub kind: Option<String>,
}

/// Lists the tenant's documents, newest first.
#[utoipa::path(
    tag = "documents",
    operation_id = "list_documents",
    params(PageQuery, KindQuery),
    responses(
        (status = 200, description = "A page of documents", body = List<DocumentInfo>),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/v1/documents")]
pub async fn list(
    state: web::Data<State>,
    auth: Auth,
    page: web::Query<PageQuery>,
    kind: web::Query<KindQuery>,
) -> Result<HttpResponse, ApiError> {
    let kind = kind
        .kind
        .as_deref()
        .map(|k| {
            SourceKind::parse(k).ok_or_else(|| {
                ApiError::bad_request("?kind", "kind is document, template or markdown")
            })
        })
        .transpose()?;
    let (tenant, after, limit) = (auth.tenant(), page.after()?, page.limit()?);
    let p = state
        .call(move |s| async move { s.documents(tenant, kind, after, limit).await })
        .await?;
    Ok(HttpResponse::Ok().json(List {
        items: p.items.iter().map(DocumentInfo::from_record).collect(),
        next: p.next,
    }))
}

/// A stored document with its source.
#[utoipa::path(
    tag = "documents",
    operation_id = "get_document",
    params(("id" = String, Path, description = "Document id")),
    responses(
        (status = 200, description = "The document", body = DocumentInfo),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such document", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/v1/documents/{id}")]
pub async fn get_one(
    state: web::Data<State>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: DocumentId = parse_id(&id, "document")?;
    let tenant = auth.tenant();
    let (record, text) = state
        .call(move |s| async move { s.document(tenant, id).await })
        .await?;
    let mut info = DocumentInfo::from_record(&record);
    info.source = Some(match record.kind {
        SourceKind::Markdown => serde_json::Value::String(text),
        _ => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    });
    Ok(HttpResponse::Ok().json(info))
}

/// Replaces a document's source (and name); its version goes up by one.
#[utoipa::path(
    tag = "documents",
    operation_id = "replace_document",
    params(("id" = String, Path, description = "Document id")),
    request_body = DocumentInput,
    responses(
        (status = 200, description = "Replaced", body = DocumentInfo),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such document", body = ErrorBody),
        (status = 422, description = "Invalid source", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[put("/v1/documents/{id}")]
pub async fn replace(
    state: web::Data<State>,
    auth: Auth,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id: DocumentId = parse_id(&id, "document")?;
    let body = read_body(&req, payload, state.settings().limits.max_body_bytes).await?;
    let input: DocumentInput = parse_json(&body)?;
    let tenant = auth.tenant();
    let (record, warnings) = state
        .call(move |s| async move {
            let name = (!input.name.is_empty()).then_some(input.name.as_str());
            s.replace_document(tenant, id, name, input.kind, &input.source)
                .await
        })
        .await?;
    let mut info = DocumentInfo::from_record(&record);
    info.warnings = warnings;
    Ok(HttpResponse::Ok().json(info))
}

/// Deletes a document, its sources and its assets (exports made from it keep their
/// own copy of the input and their results).
#[utoipa::path(
    tag = "documents",
    operation_id = "delete_document",
    params(("id" = String, Path, description = "Document id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such document", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[delete("/v1/documents/{id}")]
pub async fn remove(
    state: web::Data<State>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: DocumentId = parse_id(&id, "document")?;
    let tenant = auth.tenant();
    state
        .call(move |s| async move { s.delete_document(tenant, id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stores an asset (an image) of a document; its `src` names it by `name`.
#[utoipa::path(
    tag = "documents",
    operation_id = "put_document_asset",
    params(
        ("id" = String, Path, description = "Document id"),
        ("name" = String, Path, description = "Asset name: a relative path such as `images/logo.png`"),
    ),
    request_body(description = "The file's bytes", content(("application/octet-stream"))),
    responses(
        (status = 204, description = "Stored"),
        (status = 400, description = "Bad asset name", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such document", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[put("/v1/documents/{id}/assets/{name:.*}")]
pub async fn put_asset(
    state: web::Data<State>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let id: DocumentId = parse_id(&id, "document")?;
    let body = read_body(&req, payload, state.settings().limits.max_body_bytes).await?;
    let tenant = auth.tenant();
    state
        .call(move |s| async move { s.put_asset(tenant, id, &name, body).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The names of a document's assets.
#[utoipa::path(
    tag = "documents",
    operation_id = "list_document_assets",
    params(("id" = String, Path, description = "Document id")),
    responses(
        (status = 200, description = "Asset names", body = Vec<String>),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such document", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/v1/documents/{id}/assets")]
pub async fn list_assets(
    state: web::Data<State>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: DocumentId = parse_id(&id, "document")?;
    let tenant = auth.tenant();
    let names = state
        .call(move |s| async move { s.assets(tenant, id).await })
        .await?;
    Ok(HttpResponse::Ok().json(names))
}
