//! Bearer API keys and rate limits.
//!
//! Every `/v1` route but the OpenAPI document takes an [`Auth`]: the key is hashed and
//! looked up (see `Service::authenticate`), then the request is charged to its key's
//! and its tenant's rates (`Service::charge`, shared by every API process through Redis
//! when the queue is on Redis).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use ode_sdk::domain::TenantId;
use ode_sdk::service::Principal;

use crate::State;
use crate::error::ApiError;

/// The caller, authenticated.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl Auth {
    /// The caller's tenant.
    pub fn tenant(&self) -> TenantId {
        self.0.tenant.id
    }
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<State>>().cloned();
        let header = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no state")
            })?;
            let unauthorized = |detail: &str| {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail.to_string())
            };
            let header = header
                .ok_or_else(|| unauthorized("send an API key as `Authorization: Bearer <key>`"))?;
            let token = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <key>`"))?;
            // Detached: this future is dropped as soon as another extractor of the
            // handler fails (a bad query string), possibly mid-query.
            let (service, token) = (state.service.clone(), token.to_string());
            let who = state
                .detached(async move { service.authenticate(&token).await })
                .await??
                .ok_or_else(|| unauthorized("unknown or revoked API key"))?;
            state
                .service
                .charge(&who)
                .await
                .map_err(ApiError::rate_limited)?;
            Ok(Auth(who))
        })
    }
}
