//! `/v1/fonts`: a tenant's own fonts, usable by all its documents.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use ode_sdk::api::{ErrorBody, FontInfo};
use ode_sdk::domain::FontId;
use serde::Deserialize;

use crate::State;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::routes::{parse_id, read_body};

/// The uploaded file's name.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// File name, kept for lists (default `font`).
    pub file_name: Option<String>,
}

/// Uploads a TTF, OTF or TTC file (the raw bytes are the body). Documents select it by
/// its family name.
#[utoipa::path(
    tag = "fonts",
    operation_id = "upload_font",
    params(UploadQuery),
    request_body(
        description = "The font file's bytes",
        content(("font/ttf"), ("font/otf"), ("font/collection"), ("application/octet-stream"))
    ),
    responses(
        (status = 201, description = "Stored", body = FontInfo),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 422, description = "Not a font", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[post("/v1/fonts")]
pub async fn upload(
    state: web::Data<State>,
    auth: Auth,
    q: web::Query<UploadQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let limit = state.settings().limits.max_font_bytes;
    let body = read_body(&req, payload, limit).await?;
    let (tenant, file_name) = (auth.tenant(), q.into_inner().file_name);
    let record = state
        .call(move |s| async move {
            s.upload_font(tenant, file_name.as_deref().unwrap_or("font"), body)
                .await
        })
        .await?;
    Ok(HttpResponse::Created().json(FontInfo::from(&record)))
}

/// The tenant's fonts.
#[utoipa::path(
    tag = "fonts",
    operation_id = "list_fonts",
    responses(
        (status = 200, description = "Fonts", body = Vec<FontInfo>),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/v1/fonts")]
pub async fn list(state: web::Data<State>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let tenant = auth.tenant();
    let fonts = state
        .call(move |s| async move { s.fonts(tenant).await })
        .await?;
    Ok(HttpResponse::Ok().json(fonts.iter().map(FontInfo::from).collect::<Vec<_>>()))
}

/// Deletes a font.
#[utoipa::path(
    tag = "fonts",
    operation_id = "delete_font",
    params(("id" = String, Path, description = "Font id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such font", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[delete("/v1/fonts/{id}")]
pub async fn remove(
    state: web::Data<State>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: FontId = parse_id(&id, "font")?;
    let tenant = auth.tenant();
    state
        .call(move |s| async move { s.delete_font(tenant, id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
