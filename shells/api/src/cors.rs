//! Cross-origin requests (CORS) from the origins in `api.cors_origins`, such as a viewer
//! on its own host. With none configured the API sends no CORS headers at all, and
//! browsers only let pages of its own origin read its answers.
//!
//! Preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered before any
//! route: they need no API key and do not count against a key's rate limit. A request
//! from an origin not in the list is served as usual (curl and same-origin pages send
//! `Origin` too), without CORS headers, so browsers keep its answer from other pages.

use std::collections::HashSet;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;

/// Methods a page of another origin may use.
pub const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "OPTIONS"];
/// Request headers it may send.
pub const ALLOWED_HEADERS: [&str; 4] = [
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
];
/// Response headers it may read, besides the CORS-safelisted ones.
pub const EXPOSED_HEADERS: [&str; 6] = [
    "x-ode-pages",
    "x-ode-warnings",
    "x-request-id",
    "retry-after",
    "content-disposition",
    "location",
];
/// How long a browser may keep a preflight's answer, in seconds.
pub const MAX_AGE_SECS: usize = 3600;

/// The CORS middleware for `origins` (`*`: any origin).
pub fn layer(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(METHODS)
        .allowed_headers(ALLOWED_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(MAX_AGE_SECS)
        .block_on_origin_mismatch(false);
    if origins.iter().any(|o| o == "*") {
        cors.allow_any_origin().send_wildcard()
    } else {
        let allowed: HashSet<Vec<u8>> = origins.iter().map(|o| o.as_bytes().to_vec()).collect();
        cors.allowed_origin_fn(move |origin, _| allowed.contains(origin.as_bytes()))
    }
}

/// Drops `Access-Control-Expose-Headers` from answers that allow no origin (no
/// `Origin`, or one not in the list), so that those carry no CORS header at all.
pub async fn only_for_allowed_origins(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    Ok(res)
}
