//! Request extractors for the API: the authenticated caller and JSON bodies, each failing with
//! an [`ApiError`] in the API's own format.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, HeaderMap},
};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::{
    http::{request_id::X_REQUEST_ID, AppState},
    services::Caller,
};

/// The caller, authenticated from `Authorization: Bearer <API key>`.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .headers
            .get(X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let arrived = std::time::Instant::now();
        let token = bearer_token(&parts.headers).unwrap_or_default();
        let from = state
            .front_door
            .client_ip(&parts.headers, &parts.extensions);
        let principal = state.services.authenticate_api_key(token, from).await?;
        Ok(ApiCaller(
            Caller::new(principal, request_id).in_request_started_at(arrived),
        ))
    }
}

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A JSON body; an empty body means `T::default()` (Neon's assign calls may send none).
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    e.status(),
                    "payload_too_large",
                    crate::http::limits::too_large_message(),
                )
            } else {
                ApiError::bad_request(format!("The request body could not be read: {e}."))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(T::default()));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request(format!(
                "The request body is not valid JSON for this call: {e}."
            ))
        })
    }
}
