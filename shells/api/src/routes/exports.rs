//! `/v1/exports`: asynchronous renders, one document or a batch of records.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use ode_sdk::api::{ErrorBody, ExportInfo, ExportRequest, List};
use ode_sdk::blob::Download;
use ode_sdk::domain::ExportId;
use serde::Deserialize;

use crate::State;
use crate::auth::Auth;
use crate::error::{ApiError, parse_json};
use crate::routes::{PageQuery, parse_id, read_body};

/// Creates an export and queues it: 202 with its id (and `Location`). With an
/// `Idempotency-Key` header the tenant already used, nothing new is created: the
/// export made then is returned with 200.
#[utoipa::path(
    tag = "exports",
    operation_id = "create_export",
    request_body = ExportRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retrying the creation safe")),
    responses(
        (status = 202, description = "Queued", body = ExportInfo),
        (status = 200, description = "Already created with this Idempotency-Key", body = ExportInfo),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such stored document", body = ErrorBody),
        (status = 413, description = "Body or batch too large", body = ErrorBody),
        (status = 422, description = "Invalid document or template; an Idempotency-Key reused with another request", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[post("/v1/exports")]
pub async fn create(
    state: web::Data<State>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| ApiError::bad_request("Idempotency-Key", "use visible ASCII"))
        })
        .transpose()?;
    let body = read_body(&req, payload, state.settings().limits.max_body_bytes).await?;
    let request: ExportRequest = parse_json(&body)?;
    let tenant = auth.tenant();
    let (export, created) = state
        .call(move |s| async move { s.create_export(tenant, &request, key.as_deref()).await })
        .await?;
    let mut r = if created {
        HttpResponse::Accepted()
    } else {
        HttpResponse::Ok()
    };
    Ok(
        r.insert_header(("location", format!("/v1/exports/{}", export.id)))
            .json(ExportInfo::from_export(&export)),
    )
}

/// Lists the tenant's exports, newest first.
#[utoipa::path(
    tag = "exports",
    operation_id = "list_exports",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of exports", body = List<ExportInfo>),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/v1/exports")]
pub async fn list(
    state: web::Data<State>,
    auth: Auth,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, after, limit) = (auth.tenant(), page.after()?, page.limit()?);
    let p = state
        .call(move |s| async move { s.exports(tenant, after, limit).await })
        .await?;
    Ok(HttpResponse::Ok().json(List {
        items: p.items.iter().map(ExportInfo::from_export).collect(),
        next: p.next,
    }))
}

/// An export's status and history.
#[utoipa::path(
    tag = "exports",
    operation_id = "get_export",
    params(("id" = String, Path, description = "Export id")),
    responses(
        (status = 200, description = "The export", body = ExportInfo),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such export", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/v1/exports/{id}")]
pub async fn get_one(
    state: web::Data<State>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ExportId = parse_id(&id, "export")?;
    let tenant = auth.tenant();
    let info = state
        .call(move |s| async move { s.export(tenant, id).await })
        .await?;
    Ok(HttpResponse::Ok().json(info))
}

/// Which file of an export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// The file, from 1 (batches that are not merged have one per record; default 1).
    pub file: Option<i64>,
}

/// Downloads a result: a redirect to a short-lived presigned URL on S3, or the bytes
/// from local storage.
#[utoipa::path(
    tag = "exports",
    operation_id = "download_export",
    params(("id" = String, Path, description = "Export id"), FileQuery),
    responses(
        (status = 200, description = "The file (the SVG or PNG pages of a record of several pages come as one zip)", content((String = "application/pdf"), (String = "image/svg+xml"), (String = "image/png"), (String = "application/zip"))),
        (status = 302, description = "Redirect to a presigned URL"),
        (status = 400, description = "Not finished yet", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such export or file", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/v1/exports/{id}/download")]
pub async fn download(
    state: web::Data<State>,
    auth: Auth,
    id: web::Path<String>,
    q: web::Query<FileQuery>,
) -> Result<HttpResponse, ApiError> {
    let id: ExportId = parse_id(&id, "export")?;
    let file = q.file.unwrap_or(1);
    if file < 1 {
        return Err(ApiError::not_found("file"));
    }
    let tenant = auth.tenant();
    let (d, name, ct) = state
        .call(move |s| async move { s.download(tenant, id, file - 1).await })
        .await?;
    Ok(match d {
        Download::Redirect(url) => HttpResponse::Found()
            .insert_header(("location", url))
            .finish(),
        Download::Bytes(bytes) => HttpResponse::Ok()
            .content_type(ct)
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"{name}\""),
            ))
            .body(bytes),
    })
}
