//! Limits on what one request may cost: its body is at most [`MAX_BODY_BYTES`] (announced
//! larger: 413 at once; streamed larger: reading it fails, which the API answers with 413),
//! and a handler must start its answer within the request timeout (503 otherwise; a
//! streamed answer — live pages, the data-plane feed — starts at once and is not cut).

use axum::{
    body::Body,
    extract::Request,
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The largest request body accepted: ample for every form and API call (a full
/// data-plane evidence report is about a quarter of it).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// The words a refused body gets, here and from the API's body extractor.
pub fn too_large_message() -> String {
    format!(
        "The request body is larger than {} KiB; send less at once.",
        MAX_BODY_BYTES / 1024
    )
}

/// Whether `path` answers in the API's JSON error shape.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// A refusal in the shape the caller expects: the API's JSON error, or plain text.
pub fn refusal(api: bool, status: StatusCode, code: &'static str, message: String) -> Response {
    if api {
        crate::http::api::ApiError::new(status, code, message).into_response()
    } else {
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            message,
        )
            .into_response()
    }
}

/// Both limits: refuses a body announced too large and caps the rest while it is read
/// (413), then answers 503 when the handler has not started its answer within `limit`.
pub async fn enforce(limit: std::time::Duration, request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return refusal(
            api,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            too_large_message(),
        );
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES)));
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "a request took too long and was abandoned");
            refusal(
                api,
                StatusCode::SERVICE_UNAVAILABLE,
                "request_timeout",
                "The server took too long to answer this request; nothing more will happen \
                 for it. Check the result, then try again."
                    .into(),
            )
        }
    }
}
