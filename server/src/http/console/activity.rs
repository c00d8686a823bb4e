//! `GET /orgs/{id}/activity.csv`: an organization's activity as a CSV file, narrowed by the
//! same filters as the Activity page (the newest matches, bounded). It parses the filter,
//! calls the one service, and shapes the file; a refusal is a plain-text answer with the
//! service's status.

use app::domain::{activity_csv, ActivityFilter, OrgId};
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::SignedIn;
use crate::http::AppState;
use crate::services::{ActivityRange, ServiceError};

#[derive(Debug, Default, Deserialize)]
pub struct ActivityQuery {
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    vpc_endpoint_id: String,
    #[serde(default)]
    actor: String,
}

fn refused(e: ServiceError) -> Response {
    let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.message,
    )
        .into_response()
}

pub async fn activity_csv_file(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    Query(query): Query<ActivityQuery>,
    SignedIn(caller): SignedIn,
) -> Response {
    let parsed = OrgId::parse(&org_id).and_then(|org| {
        ActivityFilter::parse(&query.project_id, &query.vpc_endpoint_id, &query.actor)
            .map(|filter| (org, filter))
    });
    let (org, filter) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return refused(e.into()),
    };
    let page = match state
        .services
        .org_activity(&caller, &org, &filter, ActivityRange::Export)
        .await
    {
        Ok(page) => page,
        Err(e) => return refused(e),
    };
    let mut response = activity_csv(&page.entries).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"activity-{org}.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
