//! The data-plane API under `/api/internal/v1` (see [`crate::data_plane_api`]), authenticated
//! with the data-plane token, not an API key. Handlers parse, call a service, shape.

use std::collections::HashMap;

use app::domain::{AccessDecision, ProjectId, VpcEndpointId};
use axum::{
    body::Body,
    extract::{FromRequestParts, Path, Query, State},
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::{
    error::ApiError,
    extract::{bearer_token, JsonBody},
    Empty,
};
use crate::{
    data_plane_api::{EvidenceReport, FeedLine, Heartbeat, Route, KEEPALIVE_SECS},
    feed::FeedItem,
    http::{request_id::X_REQUEST_ID, AppState},
    services::{Caller, Principal, ProjectRef},
};

/// Compares digests so the time taken says nothing about how much of the token matched.
fn token_matches(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

/// The data plane, authenticated by its token.
pub struct DataPlaneCaller(pub Caller);

impl FromRequestParts<AppState> for DataPlaneCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let authorized = match (&state.data_plane_token, bearer_token(&parts.headers)) {
            (Some(expected), Some(given)) => token_matches(given, expected),
            _ => false,
        };
        if !authorized {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Send the data-plane token as `Authorization: Bearer <token>` \
                 (ENCLAVE_DATA_PLANE_TOKEN).",
            ));
        }
        let request_id = parts
            .headers
            .get(X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Self(Caller::new(Principal::DataPlane, request_id)))
    }
}

/// `GET access?project_id=|hostname=&vpc_endpoint_id=&client_ip=`: one decision. A
/// `vpc_endpoint_id` that is present but empty is refused (never read as "public"); without
/// `client_ip` a project with an IP allow list refuses public connections.
pub async fn access(
    State(state): State<AppState>,
    DataPlaneCaller(caller): DataPlaneCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<AccessDecision>, ApiError> {
    let endpoint = query
        .get("vpc_endpoint_id")
        .map(|v| VpcEndpointId::parse_any(v))
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
    let client_ip = match query.get("client_ip").filter(|v| !v.trim().is_empty()) {
        Some(v) => Some(v.trim().parse::<std::net::IpAddr>().map_err(|_| {
            ApiError::bad_request("Invalid client_ip: give the client's IPv4 or IPv6 address.")
        })?),
        None => None,
    };
    let decision = state
        .services
        .access_decision(&caller, project, endpoint.as_ref(), client_ip)
        .await?;
    Ok(Json(decision))
}

/// `GET routes/{label}`: the route and policy for a host label.
pub async fn route(
    State(state): State<AppState>,
    DataPlaneCaller(caller): DataPlaneCaller,
    Path(label): Path<String>,
) -> Result<Json<Route>, ApiError> {
    match state.services.route(&caller, &label).await? {
        Some(route) => Ok(Json(route)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "endpoint_not_found",
            format!("No project has the host label {label:?}."),
        )),
    }
}

/// `GET feed?after=V`: the change feed, one JSON line per item, starting with a hello that
/// names the head. Ends when the server stops.
pub async fn feed(
    State(state): State<AppState>,
    DataPlaneCaller(_caller): DataPlaneCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let after = match query.get("after").map(|v| v.trim()) {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            ApiError::bad_request("Invalid after: give the last version you applied (0 or more).")
        })?),
    };
    let (head, items) = state
        .services
        .feed()
        .subscribe(after)
        .await
        .map_err(crate::services::ServiceError::from)?;
    let hello = futures::stream::once(async move { Ok(FeedLine::Hello { version: head }) });
    let events = items.map(|item| match item {
        Ok(FeedItem::Event(e)) => Ok(FeedLine::Event {
            version: e.version,
            org_id: e.org_id.clone(),
            project_id: e.project_id.clone(),
            action: e.action.clone(),
        }),
        Ok(FeedItem::Reset(version)) => Ok(FeedLine::Reset { version }),
        Err(e) => Err(std::io::Error::other(e.to_string())),
    });
    let mut stopping = state.stopping.clone();
    // Keepalives interleave with events, so a reader can tell quiet from dead.
    let keepalives = futures::stream::unfold((), |()| async {
        tokio::time::sleep(std::time::Duration::from_secs(KEEPALIVE_SECS)).await;
        Some((Ok(FeedLine::Keepalive), ()))
    });
    let lines = hello
        .chain(futures::stream::select(events, keepalives))
        .map(|line: Result<FeedLine, std::io::Error>| {
            line.map(|l| {
                let mut bytes = serde_json::to_vec(&l).unwrap_or_default();
                bytes.push(b'\n');
                bytes
            })
        })
        .take_until(async move {
            let _ = stopping.wait_for(|s| *s).await;
        });
    let mut response = Body::from_stream(lines).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// `POST heartbeat`.
pub async fn heartbeat(
    State(state): State<AppState>,
    DataPlaneCaller(caller): DataPlaneCaller,
    JsonBody(body): JsonBody<Option<Heartbeat>>,
) -> Result<Json<Empty>, ApiError> {
    let body = body.ok_or_else(|| ApiError::bad_request("Send a heartbeat body."))?;
    state.services.record_heartbeat(&caller, &body).await?;
    Ok(Json(Empty {}))
}

/// `POST evidence`.
pub async fn evidence(
    State(state): State<AppState>,
    DataPlaneCaller(caller): DataPlaneCaller,
    JsonBody(body): JsonBody<Option<EvidenceReport>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let body = body.ok_or_else(|| ApiError::bad_request("Send an evidence report body."))?;
    let dropped = state.services.record_evidence(&caller, &body).await?;
    Ok(Json(serde_json::json!({ "dropped": dropped })))
}
