//! Request ids and request logging: every request gets an id (or keeps a well-formed one the
//! caller sent), the id is on every log line of that request and echoed as `X-Request-ID`.

use axum::{
    body::Body,
    http::{HeaderName, HeaderValue, Request},
};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::{DefaultOnRequest, DefaultOnResponse, MakeSpan, TraceLayer},
    LatencyUnit,
};
use tracing::{Level, Span};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Makes a fresh UUID unless the caller sent a sane id of its own (so ids can be followed
/// across a proxy). Anything odd is replaced rather than trusted into the logs.
#[derive(Clone, Copy, Default)]
pub struct MakeEnclaveRequestId;

impl MakeRequestId for MakeEnclaveRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::new_v4().to_string();
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Whether a caller-supplied id is safe to keep: short, and only `[A-Za-z0-9._-]`.
pub fn is_acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The span every request is logged in: its id, method and path.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpan;

impl MakeSpan<Body> for RequestSpan {
    fn make_span(&mut self, request: &Request<Body>) -> Span {
        let request_id = request
            .headers()
            .get(&X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %request.uri().path(),
        )
    }
}

/// Logs each request inside a [`RequestSpan`] and its answer's status and latency.
pub type RequestTrace = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    RequestSpan,
    DefaultOnRequest,
    DefaultOnResponse,
>;

pub fn trace() -> RequestTrace {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(LatencyUnit::Millis),
        )
}

/// Assigns an id to a request that has none (after [`drop_malformed_request_id`]).
pub fn assign() -> SetRequestIdLayer<MakeEnclaveRequestId> {
    SetRequestIdLayer::new(X_REQUEST_ID, MakeEnclaveRequestId)
}

/// Copies the request's id onto its answer.
pub fn echo() -> PropagateRequestIdLayer {
    PropagateRequestIdLayer::new(X_REQUEST_ID)
}

/// Drops an incoming id that [`is_acceptable_request_id`] refuses, so a fresh one is made.
pub async fn drop_malformed_request_id(mut request: Request<Body>) -> Request<Body> {
    let malformed = request
        .headers()
        .get(&X_REQUEST_ID)
        .is_some_and(|v| !is_acceptable_request_id(v));
    if malformed {
        request.headers_mut().remove(&X_REQUEST_ID);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids_and_refuses_odd_ones() {
        assert!(is_acceptable_request_id(&HeaderValue::from_static(
            "abc-123_x.y"
        )));
        assert!(!is_acceptable_request_id(&HeaderValue::from_static("")));
        assert!(!is_acceptable_request_id(&HeaderValue::from_static("a b")));
        assert!(!is_acceptable_request_id(&HeaderValue::from_static("a\"b")));
        let long = "a".repeat(129);
        assert!(!is_acceptable_request_id(
            &HeaderValue::from_str(&long).unwrap()
        ));
    }
}
