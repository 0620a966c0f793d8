//! Bearer API keys and per-key rate limits.
//!
//! Every `/v1` route but the OpenAPI document takes an [`Auth`]: the key is hashed and
//! looked up (see `Service::authenticate`), then charged against its token bucket
//! (`api.rate_limit_per_sec`, bursts of twice that). Limits are per API process: with
//! N replicas a key may make up to N times the rate.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use ode_sdk::domain::{ApiKeyId, TenantId};
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

/// Token buckets, one per key.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<ApiKeyId, (f64, Instant)>>,
}

impl RateLimiter {
    /// Takes one token for `key`; when there is none, the seconds until there is.
    pub fn check(&self, key: ApiKeyId, per_sec: u32) -> Result<(), u64> {
        if per_sec == 0 {
            return Ok(());
        }
        let rate = f64::from(per_sec);
        let burst = rate * 2.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, at) = buckets.entry(key).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil() as u64)
        }
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
                .limiter
                .check(who.key_id, state.service.settings().api.rate_limit_per_sec)
                .map_err(ApiError::rate_limited)?;
            Ok(Auth(who))
        })
    }
}
