//! VPC endpoints of an organization and restrictions of a project (Neon API v2 shapes).

use app::domain::{Label, OrgId, ProjectId, RegionId, VpcEndpointId};
use axum::{
    extract::{Path, State},
    Json,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::{
    error::{ApiError, ErrorBody},
    extract::{ApiCaller, JsonBody},
    Empty,
};
use crate::services::{Acknowledgement, Services};

/// `{"label": "…"}`; the label may be empty or absent.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct VpcEndpointAssignment {
    /// 0 to 64 printable characters.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub label: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VpcEndpoint {
    pub vpc_endpoint_id: String,
    pub label: String,
    pub region_id: String,
    pub state: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VpcEndpoints {
    pub endpoints: Vec<VpcEndpoint>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VpcEndpointDetails {
    pub vpc_endpoint_id: String,
    pub label: String,
    pub region_id: String,
    pub state: String,
    /// Why the cloud side rejected the connection, when `state` is `rejected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    pub num_restricted_projects: usize,
    pub example_restricted_projects: Vec<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectVpcEndpoint {
    pub vpc_endpoint_id: String,
    pub label: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectVpcEndpoints {
    pub endpoints: Vec<ProjectVpcEndpoint>,
}

fn endpoints(rows: Vec<crate::store::AssignmentRow>) -> Json<VpcEndpoints> {
    Json(VpcEndpoints {
        endpoints: rows
            .into_iter()
            .map(|a| VpcEndpoint {
                vpc_endpoint_id: a.vpc_endpoint_id,
                label: a.label,
                region_id: a.region_id,
                state: a.state,
            })
            .collect(),
    })
}

#[utoipa::path(
    get,
    path = "/organizations/{org_id}/vpc/vpc_endpoints",
    operation_id = "listOrganizationVPCEndpointsAllRegions",
    tag = "Private networking",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$")
    ),
    responses(
        (status = 200, description = "Success", body = VpcEndpoints),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state", body = ErrorBody),
        (status = 422, description = "Refused by a rule", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_org_endpoints(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(org_id): Path<String>,
) -> Result<Json<VpcEndpoints>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    Ok(endpoints(
        services.list_org_endpoints(&caller, &org_id, None).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/organizations/{org_id}/vpc/region/{region_id}/vpc_endpoints",
    operation_id = "listOrganizationVPCEndpoints",
    tag = "Private networking",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("region_id" = String, Path, description = "Region id, e.g. aws-us-east-2", pattern = r"^(aws|gcp|azure)-[a-z0-9-]{1,34}$")
    ),
    responses(
        (status = 200, description = "Success", body = VpcEndpoints),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state", body = ErrorBody),
        (status = 422, description = "Refused by a rule", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_region_endpoints(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path((org_id, region_id)): Path<(String, String)>,
) -> Result<Json<VpcEndpoints>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let region_id = RegionId::parse(&region_id)?;
    Ok(endpoints(
        services
            .list_org_endpoints(&caller, &org_id, Some(&region_id))
            .await?,
    ))
}

fn endpoint_path(
    (org_id, region_id, endpoint): &(String, String, String),
) -> Result<(OrgId, RegionId, VpcEndpointId), ApiError> {
    let org_id = OrgId::parse(org_id)?;
    let region_id = RegionId::parse(region_id)?;
    // The region says which cloud's identifier to expect.
    let endpoint = VpcEndpointId::parse_in(region_id.cloud(), endpoint)?;
    Ok((org_id, region_id, endpoint))
}

#[utoipa::path(
    get,
    path = "/organizations/{org_id}/vpc/region/{region_id}/vpc_endpoints/{vpc_endpoint_id}",
    operation_id = "getOrganizationVPCEndpointDetails",
    tag = "Private networking",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("region_id" = String, Path, description = "Region id, e.g. aws-us-east-2", pattern = r"^(aws|gcp|azure)-[a-z0-9-]{1,34}$"),
        ("vpc_endpoint_id" = String, Path, description = "VPC endpoint id, e.g. vpce-1234567890abcdef0. Enclave extension: in a gcp- region a Private Service Connect connection id (the number, or psc-<number>), in an azure- region a private endpoint's LinkID (the number, or linkid-<number>)", pattern = r"^(vpce-([0-9a-f]{17}|[0-9a-f]{8})|(psc-)?[0-9]{1,20}|(linkid-)?[0-9]{1,10})$")
    ),
    responses(
        (status = 200, description = "Success", body = VpcEndpointDetails),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state", body = ErrorBody),
        (status = 422, description = "Refused by a rule", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn endpoint_details(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<VpcEndpointDetails>, ApiError> {
    let (org_id, region_id, endpoint) = endpoint_path(&path)?;
    let details = services
        .endpoint_details(&caller, &org_id, &region_id, &endpoint)
        .await?;
    let a = details.assignment;
    Ok(Json(VpcEndpointDetails {
        vpc_endpoint_id: a.vpc_endpoint_id,
        label: a.label,
        region_id: a.region_id,
        state: a.state,
        rejection_reason: a.state_reason,
        num_restricted_projects: details.restricted_projects.len(),
        example_restricted_projects: details.restricted_projects.into_iter().take(3).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/organizations/{org_id}/vpc/region/{region_id}/vpc_endpoints/{vpc_endpoint_id}",
    operation_id = "assignOrganizationVPCEndpoint",
    tag = "Private networking",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("region_id" = String, Path, description = "Region id, e.g. aws-us-east-2", pattern = r"^(aws|gcp|azure)-[a-z0-9-]{1,34}$"),
        ("vpc_endpoint_id" = String, Path, description = "VPC endpoint id, e.g. vpce-1234567890abcdef0. Enclave extension: in a gcp- region a Private Service Connect connection id (the number, or psc-<number>), in an azure- region a private endpoint's LinkID (the number, or linkid-<number>)", pattern = r"^(vpce-([0-9a-f]{17}|[0-9a-f]{8})|(psc-)?[0-9]{1,20}|(linkid-)?[0-9]{1,10})$")
    ),
    request_body(content = Option<VpcEndpointAssignment>, description = "Optional; an empty body means an empty label.", content_type = "application/json"),
    responses(
        (status = 200, description = "Success", body = Empty),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state", body = ErrorBody),
        (status = 422, description = "Refused by a rule", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn assign_endpoint(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(path): Path<(String, String, String)>,
    JsonBody(body): JsonBody<VpcEndpointAssignment>,
) -> Result<Json<Value>, ApiError> {
    let (org_id, region_id, endpoint) = endpoint_path(&path)?;
    let label = Label::parse(&body.label)?;
    services
        .assign_endpoint(&caller, &org_id, &region_id, &endpoint, &label)
        .await?;
    Ok(Json(json!({})))
}

#[utoipa::path(
    delete,
    path = "/organizations/{org_id}/vpc/region/{region_id}/vpc_endpoints/{vpc_endpoint_id}",
    operation_id = "deleteOrganizationVPCEndpoint",
    tag = "Private networking",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("region_id" = String, Path, description = "Region id, e.g. aws-us-east-2", pattern = r"^(aws|gcp|azure)-[a-z0-9-]{1,34}$"),
        ("vpc_endpoint_id" = String, Path, description = "VPC endpoint id, e.g. vpce-1234567890abcdef0. Enclave extension: in a gcp- region a Private Service Connect connection id (the number, or psc-<number>), in an azure- region a private endpoint's LinkID (the number, or linkid-<number>)", pattern = r"^(vpce-([0-9a-f]{17}|[0-9a-f]{8})|(psc-)?[0-9]{1,20}|(linkid-)?[0-9]{1,10})$")
    ),
    responses(
        (status = 200, description = "Success", body = Empty),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state", body = ErrorBody),
        (status = 422, description = "Refused by a rule", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn remove_endpoint(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (org_id, region_id, endpoint) = endpoint_path(&path)?;
    services
        .remove_endpoint(
            &caller,
            &org_id,
            &region_id,
            &endpoint,
            Acknowledgement::NotAsked,
        )
        .await?;
    Ok(Json(json!({})))
}

#[utoipa::path(
    get,
    path = "/projects/{project_id}/vpc_endpoints",
    operation_id = "listProjectVPCEndpoints",
    tag = "Private networking",
    params(
        ("project_id" = String, Path, description = "Project id, e.g. orange-credit-12345678", pattern = r"^[a-z0-9-]{1,60}$")
    ),
    responses(
        (status = 200, description = "Success", body = ProjectVpcEndpoints),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state", body = ErrorBody),
        (status = 422, description = "Refused by a rule", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_project_restrictions(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(project_id): Path<String>,
) -> Result<Json<ProjectVpcEndpoints>, ApiError> {
    let project_id = ProjectId::parse(&project_id)?;
    let rows = services.project_restrictions(&caller, &project_id).await?;
    Ok(Json(ProjectVpcEndpoints {
        endpoints: rows
            .into_iter()
            .map(|r| ProjectVpcEndpoint {
                vpc_endpoint_id: r.vpc_endpoint_id,
                label: r.label,
            })
            .collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/projects/{project_id}/vpc_endpoints/{vpc_endpoint_id}",
    operation_id = "assignProjectVPCEndpoint",
    tag = "Private networking",
    params(
        ("project_id" = String, Path, description = "Project id, e.g. orange-credit-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("vpc_endpoint_id" = String, Path, description = "VPC endpoint id, e.g. vpce-1234567890abcdef0. Enclave extension: psc-<number> for a Google Cloud PSC connection, linkid-<number> for an Azure private endpoint", pattern = r"^(vpce-([0-9a-f]{17}|[0-9a-f]{8})|psc-[0-9]{1,20}|linkid-[0-9]{1,10})$")
    ),
    request_body(content = Option<VpcEndpointAssignment>, description = "Optional; an empty body means an empty label.", content_type = "application/json"),
    responses(
        (status = 200, description = "Success", body = Empty),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state", body = ErrorBody),
        (status = 422, description = "Refused by a rule", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn restrict_project(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path((project_id, endpoint)): Path<(String, String)>,
    JsonBody(body): JsonBody<VpcEndpointAssignment>,
) -> Result<Json<Value>, ApiError> {
    let project_id = ProjectId::parse(&project_id)?;
    let endpoint = VpcEndpointId::parse_any(&endpoint)?;
    let label = Label::parse(&body.label)?;
    services
        .restrict_project(
            &caller,
            &project_id,
            &endpoint,
            &label,
            Acknowledgement::NotAsked,
        )
        .await?;
    Ok(Json(json!({})))
}

#[utoipa::path(
    delete,
    path = "/projects/{project_id}/vpc_endpoints/{vpc_endpoint_id}",
    operation_id = "deleteProjectVPCEndpoint",
    tag = "Private networking",
    params(
        ("project_id" = String, Path, description = "Project id, e.g. orange-credit-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("vpc_endpoint_id" = String, Path, description = "VPC endpoint id, e.g. vpce-1234567890abcdef0. Enclave extension: psc-<number> for a Google Cloud PSC connection, linkid-<number> for an Azure private endpoint", pattern = r"^(vpce-([0-9a-f]{17}|[0-9a-f]{8})|psc-[0-9]{1,20}|linkid-[0-9]{1,10})$")
    ),
    responses(
        (status = 200, description = "Success", body = Empty),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Conflicts with the current state", body = ErrorBody),
        (status = 422, description = "Refused by a rule", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn unrestrict_project(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path((project_id, endpoint)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let project_id = ProjectId::parse(&project_id)?;
    let endpoint = VpcEndpointId::parse_any(&endpoint)?;
    services
        // Neon's API lifts without asking, as Neon does.
        .unrestrict_project(
            &caller,
            &project_id,
            &endpoint,
            true,
            Acknowledgement::NotAsked,
        )
        .await?;
    Ok(Json(json!({})))
}
