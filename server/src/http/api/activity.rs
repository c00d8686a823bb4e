//! An organization's activity (its audit log): an Enclave extension of the REST API (Neon has
//! no such route), documented in the OpenAPI document. Parses the filters, calls the one
//! service, and shapes the page.

use std::collections::HashMap;

use app::domain::{ActivityFilter, OrgId, ACTIVITY_PAGE_MAX};
use axum::{
    extract::{Path, Query, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    error::{ApiError, ErrorBody},
    extract::ApiCaller,
};
use crate::services::{ActivityRange, Services};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActivityEntry {
    /// Increasing; pass the page's `cursor` to continue with older entries.
    pub id: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// `user`, `api_key`, `operator_cli` or `system`.
    pub actor_kind: String,
    /// An email, an API key's name, `operator` or `system`.
    pub actor: String,
    /// e.g. `vpc_endpoint.assign`, `vpc_endpoint.state`, `project.restrict`,
    /// `project.settings`, `trial.request`, `api_key.create`, `membership.set`.
    pub action: String,
    /// What it changed: an endpoint id, a project id, an account, a key id.
    pub target: String,
    pub project_id: Option<String>,
    /// The recorded value before the change, where it has one.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The recorded value after the change, where it has one.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The `X-Request-Id` of the request that made the change (API and console alike).
    pub request_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActivityPagination {
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub cursor: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActivityResponse {
    pub activity: Vec<ActivityEntry>,
    pub pagination: ActivityPagination,
}

/// The query parameters (for the document; parsed by hand for precise errors).
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ActivityQuery {
    /// Only changes to this project.
    pub project_id: Option<String>,
    /// Only changes to this VPC endpoint (its assignment and state, and restrictions naming it).
    pub vpc_endpoint_id: Option<String>,
    /// Only changes by this actor: an email, an API key's id or name.
    pub actor: Option<String>,
    /// Continue below this entry id (from the previous page's `pagination.cursor`).
    pub cursor: Option<i64>,
    /// Entries per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

fn number(
    query: &HashMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<i64>, ApiError> {
    match query.get(name) {
        None => Ok(None),
        Some(text) => text.trim().parse::<i64>().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "Invalid {name} {:?}: {what}",
                text.chars().take(20).collect::<String>()
            ))
        }),
    }
}

#[utoipa::path(
    get,
    path = "/organizations/{org_id}/activity",
    operation_id = "listOrganizationActivity",
    tag = "Private networking (Enclave)",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ActivityQuery
    ),
    responses(
        (status = 200, description = "The organization's changes, newest first", body = ActivityResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 404, description = "Not found, or not a member", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(org_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ActivityResponse>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let text = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let filter = ActivityFilter::parse(text("project_id"), text("vpc_endpoint_id"), text("actor"))?;
    let cursor = number(
        &query,
        "cursor",
        "pass the previous page's pagination.cursor.",
    )?;
    let limit = number(
        &query,
        "limit",
        &format!("ask for 1 to {ACTIVITY_PAGE_MAX} entries per page."),
    )?;
    let page = services
        .org_activity(
            &caller,
            &org_id,
            &filter,
            ActivityRange::Page { cursor, limit },
        )
        .await?;
    let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    Ok(Json(ActivityResponse {
        activity: page
            .entries
            .into_iter()
            .map(|e| ActivityEntry {
                id: e.id,
                created_at: chrono::DateTime::from_timestamp_millis(e.at_ms)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                    .unwrap_or_default(),
                actor_kind: e.actor_kind,
                actor: e.actor,
                action: e.action,
                target: e.target,
                project_id: e.project_id,
                before: json(e.before),
                after: json(e.after),
                request_id: e.request_id,
            })
            .collect(),
        pagination: ActivityPagination {
            cursor: page.next_cursor,
        },
    }))
}
