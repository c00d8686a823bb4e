//! The caller's organizations (Neon API v2 shape).

use axum::{extract::State, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    error::{ApiError, ErrorBody},
    extract::ApiCaller,
};
use crate::services::Services;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub handle: String,
    pub plan: String,
    /// The caller's role: `admin` or `member`.
    pub role: String,
    pub managed_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrganizationsResponse {
    pub organizations: Vec<Organization>,
}

#[utoipa::path(
    get,
    path = "/users/me/organizations",
    operation_id = "getCurrentUserOrganizations",
    tag = "Users",
    responses(
        (status = 200, description = "Success", body = OrganizationsResponse),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn my_organizations(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
) -> Result<Json<OrganizationsResponse>, ApiError> {
    let rows = services.organizations_of_caller(&caller).await?;
    Ok(Json(OrganizationsResponse {
        organizations: rows
            .into_iter()
            .map(|o| {
                let at = o
                    .created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                Organization {
                    handle: o.id.clone(),
                    id: o.id,
                    name: o.name,
                    plan: o.plan,
                    role: o.role,
                    managed_by: "console".into(),
                    created_at: at.clone(),
                    updated_at: at,
                }
            })
            .collect(),
    }))
}
