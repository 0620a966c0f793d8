//! `POST /v1/render`: render now, get the bytes back.

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, post, web};
use ode_sdk::api::{ErrorBody, RenderRequest};

use crate::State;
use crate::auth::Auth;
use crate::error::{ApiError, parse_json};
use crate::routes::read_body;

/// Renders a document, a template with data, Markdown, or a stored document, and
/// answers with the file. `X-Ode-Pages` gives the page count and `X-Ode-Warnings` the
/// number of warnings (the rendered file is returned regardless of warnings). SVG and
/// PNG answer one page when `page` names it or the document has one; otherwise a zip
/// of every page (`page-1.svg`, …).
#[utoipa::path(
    tag = "render",
    request_body = RenderRequest,
    responses(
        (status = 200, description = "The rendered file", content((String = "application/pdf"), (String = "image/svg+xml"), (String = "image/png"), (String = "application/zip"))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No such stored document", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid document, template or data; a limit exceeded (pages, images, memory)", body = ErrorBody),
        (status = 429, description = "Rate limited (see Retry-After)", body = ErrorBody),
        (status = 503, description = "The server is short of memory for renders (see Retry-After)", body = ErrorBody),
        (status = 504, description = "Render budget exceeded", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[post("/v1/render")]
pub async fn render(
    state: web::Data<State>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, state.settings().limits.max_body_bytes).await?;
    let request: RenderRequest = parse_json(&body)?;
    let started = Instant::now();
    let (tenant, format) = (auth.tenant(), request.format);
    let file = state
        .call(move |s| async move { s.render(tenant, &request).await })
        .await?;
    state
        .metrics
        .renders
        .with_label_values(&[format.as_str()])
        .observe(started.elapsed().as_secs_f64());
    Ok(HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header(("x-ode-pages", file.pages.to_string()))
        .insert_header(("x-ode-warnings", file.warnings.len().to_string()))
        .body(file.bytes))
}
