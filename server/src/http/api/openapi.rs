//! The OpenAPI 3 document of `/api/v2`, generated from the handlers' annotations and the
//! same Rust types the handlers serialize, so the document cannot drift from the wire.

use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use super::{
    activity, api_keys, aws_accounts, error::ErrorBody, projects, users, vpc, webhooks, Empty,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An Enclave API key (personal or organization)."))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Enclave API",
        description = "Private networking for managed Postgres. Wire-compatible with the Neon API v2 \
                       for VPC endpoints, project restrictions, project network settings and API keys.",
        version = "2.0.0"
    ),
    servers((url = "/api/v2")),
    paths(
        vpc::list_org_endpoints,
        vpc::list_region_endpoints,
        vpc::endpoint_details,
        vpc::assign_endpoint,
        vpc::remove_endpoint,
        vpc::list_project_restrictions,
        vpc::restrict_project,
        vpc::unrestrict_project,
        aws_accounts::list,
        activity::list,
        aws_accounts::allow,
        aws_accounts::disallow,
        projects::get_project,
        projects::update_project,
        projects::list_projects,
        projects::list_shared_projects,
        users::my_organizations,
        api_keys::list_personal,
        api_keys::create_personal,
        api_keys::revoke_personal,
        api_keys::list_org,
        api_keys::create_org,
        api_keys::revoke_org,
        webhooks::list,
        webhooks::create,
        webhooks::delete,
        webhooks::deliveries,
        webhooks::redeliver,
    ),
    components(schemas(ErrorBody, Empty)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
