//! `/v1/webhook`: where the tenant's export events go.

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use ode_sdk::api::{ErrorBody, WebhookInfo, WebhookInput};

use crate::State;
use crate::auth::Auth;
use crate::error::{ApiError, parse_json};
use crate::routes::read_body;

/// Sets the webhook. Each finished export is POSTed there as a `WebhookEvent`, signed
/// in `Ode-Signature` (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`) and
/// retried with backoff until it answers 2xx.
#[utoipa::path(
    tag = "webhook",
    operation_id = "set_webhook",
    request_body = WebhookInput,
    responses(
        (status = 200, description = "Set", body = WebhookInfo),
        (status = 400, description = "Bad URL or secret", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[put("/v1/webhook")]
pub async fn set(
    state: web::Data<State>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, 64 * 1024).await?;
    let input: WebhookInput = parse_json(&body)?;
    let tenant = auth.tenant();
    let (url, secret) = state
        .call(move |s| async move {
            s.set_webhook(tenant, &input.url, input.secret.as_deref())
                .await
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookInfo { url, secret }))
}

/// The webhook.
#[utoipa::path(
    tag = "webhook",
    operation_id = "get_webhook",
    responses(
        (status = 200, description = "The webhook", body = WebhookInfo),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "No webhook set", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[get("/v1/webhook")]
pub async fn get_one(auth: Auth) -> Result<HttpResponse, ApiError> {
    match (&auth.0.tenant.webhook_url, &auth.0.tenant.webhook_secret) {
        (Some(url), Some(secret)) => Ok(HttpResponse::Ok().json(WebhookInfo {
            url: url.clone(),
            secret: secret.clone(),
        })),
        _ => Err(ApiError::not_found("webhook")),
    }
}

/// Removes the webhook.
#[utoipa::path(
    tag = "webhook",
    operation_id = "delete_webhook",
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
#[delete("/v1/webhook")]
pub async fn remove(state: web::Data<State>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let tenant = auth.tenant();
    state
        .call(move |s| async move { s.clear_webhook(tenant).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
