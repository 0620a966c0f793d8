//! Every failure becomes one JSON body, `{"errors": [{"code", "detail", "path", …}]}`,
//! with the status its kind calls for: 4xx for the caller's input, 5xx for the
//! infrastructure (logged once, here, with the request id).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use ode_sdk::api::{ErrorBody, ErrorItem};
use ode_sdk::service::ServiceError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    items: Vec<ErrorItem>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An answer with this status and one error.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            items: vec![ErrorItem::new(code, detail)],
            retry_after: None,
        }
    }

    /// A 400 at a JSON path of the request.
    pub fn bad_request(path: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            items: vec![ErrorItem::new("bad_request", detail).at(path)],
            retry_after: None,
        }
    }

    /// A 404.
    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    /// A 429 telling the client when to come back.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            items: vec![ErrorItem::new(
                "rate_limited",
                "too many requests for this API key",
            )],
            retry_after: Some(retry_after_secs.max(1)),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.status)?;
        for i in &self.items {
            write!(f, "; {}: {}", i.code, i.detail)?;
        }
        Ok(())
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = match &e {
            ServiceError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %e, http.status = status.as_u16(), "request failed");
        }
        ApiError {
            status,
            items: e.items(),
            retry_after: (status == StatusCode::SERVICE_UNAVAILABLE).then_some(5),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            r.insert_header(("retry-after", secs.to_string()));
        }
        r.json(ErrorBody {
            errors: self.items.clone(),
        })
    }
}

/// Parses a JSON body, naming the JSON path of the first problem.
///
/// # Errors
/// A 400 with the path and the parser's message.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("", "the request needs a JSON body"));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let pointer = if path == "." {
            String::new()
        } else {
            format!("/{}", path.replace('.', "/"))
        };
        let detail = if inner.is_syntax() || inner.is_eof() {
            format!(
                "the body is not valid JSON: {} (line {}, column {})",
                inner,
                inner.line(),
                inner.column()
            )
        } else {
            inner.to_string()
        };
        ApiError::bad_request(pointer, detail)
    })
}
