//! API errors on the wire: `{"code", "message", "request_id"}` with the matching status.
//! Handlers return [`ApiError`]; [`add_request_id`] fills in the request id afterwards, so no
//! handler has to carry it.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

use crate::services::{ErrorKind, ServiceError};

/// An error answer before the request id is attached.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        let status = match err.kind {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, err.code.as_str(), err.message)
    }
}

impl From<app::domain::FieldError> for ApiError {
    fn from(err: app::domain::FieldError) -> Self {
        ServiceError::from(err).into()
    }
}

/// Every error answer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `vpc_endpoint_limit_reached`.
    pub code: &'static str,
    /// What went wrong and what to do about it.
    pub message: String,
    /// The `X-Request-ID` of the request, for support.
    pub request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            request_id: None,
        };
        let mut response = (self.status, Json(body.clone())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(body);
        response
    }
}

/// The code an error answer made outside the handlers (axum's own path and query
/// rejections, which are plain text) gets, by its status.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal_error",
        _ => "invalid_input",
    }
}

/// Re-renders error bodies with the request's id (set by the request-id layer outside), and
/// puts any error answer that is not yet in the API's JSON shape (axum's rejection of a path
/// segment or query string that cannot be decoded, say) into it, keeping its words.
pub async fn add_request_id(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(crate::http::request_id::X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error())
        && !is_json
        && response.extensions().get::<ErrorBody>().is_none()
    {
        let (parts, body) = response.into_parts();
        let text = axum::body::to_bytes(body, 4096)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        let message = if text.is_empty() {
            format!(
                "The request could not be handled ({}).",
                status.canonical_reason().unwrap_or("error")
            )
        } else {
            format!("The request's path or query could not be read: {text}")
        };
        let mut shaped = ApiError::new(status, code_for(status), message).into_response();
        // Keep what the original answer said about itself (e.g. `Allow`), but as JSON.
        for (name, value) in parts.headers.iter() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                shaped.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response = shaped;
    }
    if let Some(mut body) = response.extensions_mut().remove::<ErrorBody>() {
        body.request_id = request_id;
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        response.headers_mut().remove(header::CONTENT_LENGTH);
        *response.body_mut() = Body::from(bytes);
    }
    response
}
