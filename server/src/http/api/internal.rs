//! `GET /api/internal/v1/access`: the access decision for the data plane, authenticated with
//! the data-plane token (not an API key).

use std::collections::HashMap;

use app::domain::{AccessDecision, ProjectId, VpcEndpointId};
use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use sha2::{Digest, Sha256};

use super::{error::ApiError, extract::bearer_token};
use crate::{
    http::{request_id::X_REQUEST_ID, AppState},
    services::{Caller, Principal, ProjectRef},
};

/// Compares digests so the time taken says nothing about how much of the token matched.
fn token_matches(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

pub async fn access(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<AccessDecision>, ApiError> {
    let authorized = match (&state.data_plane_token, bearer_token(&headers)) {
        (Some(expected), Some(given)) => token_matches(given, expected),
        _ => false,
    };
    if !authorized {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send the data-plane token as `Authorization: Bearer <token>` (ENCLAVE_DATA_PLANE_TOKEN).",
        ));
    }
    let request_id = headers
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let caller = Caller::new(Principal::DataPlane, request_id);
    let endpoint = query
        .get("vpc_endpoint_id")
        .filter(|v| !v.trim().is_empty())
        .map(|v| VpcEndpointId::parse(v))
        .transpose()?;
    let project_id = query
        .get("project_id")
        .filter(|v| !v.trim().is_empty())
        .map(|v| ProjectId::parse(v))
        .transpose()?;
    let project = match (&project_id, query.get("hostname")) {
        (Some(id), _) => ProjectRef::Id(id),
        (None, Some(host)) if !host.trim().is_empty() => ProjectRef::Hostname(host),
        _ => {
            return Err(ApiError::bad_request(
                "Invalid project: pass project_id or hostname.",
            ))
        }
    };
    let decision = state
        .services
        .access_decision(&caller, project, endpoint.as_ref())
        .await?;
    Ok(Json(decision))
}
