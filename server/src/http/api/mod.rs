//! The REST API under `/api/v2` (wire-compatible with Neon API v2 for private networking)
//! and the data plane's internal endpoint. Handlers parse, call the service layer, shape.

mod activity;
mod api_keys;
mod aws_accounts;
mod error;
mod extract;
mod internal;
pub mod openapi;
mod projects;
mod users;
mod vpc;
mod webhooks;

use axum::{http::StatusCode, middleware, routing::get, Router};

pub use error::ApiError;

/// The body of a successful POST or DELETE: `{}`.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Empty {}

use super::AppState;

/// `/api/v2/…` and `/api/internal/v1/…`, with API-style errors for unknown paths too.
pub fn router() -> Router<AppState> {
    let v2 = Router::new()
        .route(
            "/organizations/{org_id}/vpc/vpc_endpoints",
            get(vpc::list_org_endpoints),
        )
        .route(
            "/organizations/{org_id}/vpc/region/{region_id}/vpc_endpoints",
            get(vpc::list_region_endpoints),
        )
        .route(
            "/organizations/{org_id}/vpc/region/{region_id}/vpc_endpoints/{vpc_endpoint_id}",
            get(vpc::endpoint_details)
                .post(vpc::assign_endpoint)
                .delete(vpc::remove_endpoint),
        )
        .route(
            "/organizations/{org_id}/vpc/allowed_aws_accounts",
            get(aws_accounts::list),
        )
        .route("/organizations/{org_id}/activity", get(activity::list))
        .route(
            "/organizations/{org_id}/api_keys",
            get(api_keys::list_org).post(api_keys::create_org),
        )
        .route(
            "/organizations/{org_id}/api_keys/{key_id}",
            axum::routing::delete(api_keys::revoke_org),
        )
        .route(
            "/organizations/{org_id}/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/organizations/{org_id}/webhooks/{webhook_id}",
            axum::routing::delete(webhooks::delete),
        )
        .route(
            "/organizations/{org_id}/webhooks/{webhook_id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/organizations/{org_id}/webhooks/deliveries/{delivery_id}/redeliver",
            axum::routing::post(webhooks::redeliver),
        )
        .route(
            "/api_keys",
            get(api_keys::list_personal).post(api_keys::create_personal),
        )
        .route(
            "/api_keys/{key_id}",
            axum::routing::delete(api_keys::revoke_personal),
        )
        .route(
            "/organizations/{org_id}/vpc/allowed_aws_accounts/{aws_account_id}",
            axum::routing::post(aws_accounts::allow).delete(aws_accounts::disallow),
        )
        .route("/projects", get(projects::list_projects))
        .route("/projects/shared", get(projects::list_shared_projects))
        .route(
            "/projects/{project_id}",
            get(projects::get_project).patch(projects::update_project),
        )
        .route(
            "/projects/{project_id}/vpc_endpoints",
            get(vpc::list_project_restrictions),
        )
        .route(
            "/projects/{project_id}/vpc_endpoints/{vpc_endpoint_id}",
            axum::routing::post(vpc::restrict_project).delete(vpc::unrestrict_project),
        )
        .route("/users/me/organizations", get(users::my_organizations))
        .route("/openapi.json", get(openapi::document))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let internal = Router::new()
        .route("/access", get(internal::access))
        .route("/routes/{label}", get(internal::route))
        .route("/feed", get(internal::feed))
        .route("/heartbeat", axum::routing::post(internal::heartbeat))
        .route("/evidence", axum::routing::post(internal::evidence))
        .fallback(not_found);
    Router::new()
        .nest("/api/v2", v2)
        .nest("/api/internal/v1", internal)
        .layer(middleware::from_fn(error::add_request_id))
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no API operation at this path. See /api/v2/openapi.json for the operations.",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This path does not support that method. See /api/v2/openapi.json.",
    )
}
