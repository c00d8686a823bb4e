//! Projects: read, list, and change network settings (Neon API v2 shapes).

use std::collections::HashMap;

use app::domain::{OrgId, ProjectId};
use axum::{
    extract::{Path, Query, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    error::{ApiError, ErrorBody},
    extract::{ApiCaller, JsonBody},
};
use crate::{
    services::{Acknowledgement, Principal, Services},
    store::{AllowedIpRecord, ProjectRow, SettingsChange},
};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectSettings {
    pub block_public_connections: bool,
    pub block_vpc_connections: bool,
    /// Enclave extension: while public connections are allowed, the data plane lets them
    /// through but records each as one blocking would refuse (watch before enforcing).
    pub public_block_report_only: bool,
    /// Public connections only from these addresses and ranges (empty: from anywhere).
    pub allowed_ips: AllowedIps,
}

/// Neon's `settings.allowed_ips`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowedIps {
    /// Addresses (`203.0.113.7`), CIDR ranges (`203.0.113.0/24`) or dash ranges
    /// (`203.0.113.10-203.0.113.20`); at most 100.
    #[serde(default)]
    pub ips: Vec<String>,
    /// Neon applies the list to protected branches only when true; Enclave projects have
    /// no branches, so it is always false.
    #[serde(default)]
    pub protected_branches_only: bool,
}

/// Whether the data plane has confirmed each setting (`applying` or `applied`). Not part of
/// Neon's schema; clients that do not know it ignore it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NetworkSettingsState {
    pub block_public_connections: String,
    pub block_vpc_connections: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub org_id: String,
    pub region_id: String,
    pub platform_id: String,
    /// The host name clients connect to.
    pub proxy_host: String,
    pub hostname: String,
    pub settings: ProjectSettings,
    pub network_settings_state: NetworkSettingsState,
    pub created_at: String,
    pub updated_at: String,
}

impl Project {
    /// The project as the API shows it; `rollout` is where its latest network change stands
    /// in the data plane (`applied`, `applying` or `no_data_plane`).
    pub fn new(p: ProjectRow, rollout: &str) -> Self {
        let platform = p.region_id.split('-').next().unwrap_or("aws").to_string();
        let proxy_host = p
            .hostname
            .split_once('.')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default();
        let allowed_ips = p.allowed_ips().into_iter().map(|r| r.entry).collect();
        let created = p
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self {
            id: p.id,
            name: p.name,
            org_id: p.org_id,
            region_id: p.region_id,
            platform_id: platform,
            proxy_host,
            hostname: p.hostname,
            settings: ProjectSettings {
                block_public_connections: p.block_public_connections,
                block_vpc_connections: p.block_vpc_connections,
                public_block_report_only: p.public_block_report_only,
                allowed_ips: AllowedIps {
                    ips: allowed_ips,
                    protected_branches_only: false,
                },
            },
            network_settings_state: NetworkSettingsState {
                block_public_connections: rollout.to_string(),
                block_vpc_connections: rollout.to_string(),
            },
            updated_at: created.clone(),
            created_at: created,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectResponse {
    pub project: Project,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectUpdateResponse {
    pub project: Project,
    pub operations: Vec<serde_json::Value>,
    /// Enclave extension, with `?dry_run=true` only: what the change would refuse, judged
    /// from the connections the data plane let through in the last 24 hours. Nothing is
    /// applied then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<ChangePreview>,
}

/// What a settings change would refuse (an Enclave extension).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChangePreview {
    /// Connections seen in the last 24 h that the change would refuse.
    pub refused_connections: i64,
    /// Public client networks among them.
    pub refused_public_networks: i64,
    /// VPC endpoints among them.
    pub refused_endpoints: Vec<String>,
    /// Blocking public access would leave no private path that has ever worked.
    pub no_private_path: bool,
    /// The console would ask for a confirmation before applying it.
    pub needs_acknowledgement: bool,
    /// The findings, in words.
    pub summary: String,
}

/// `?dry_run=true` previews a change instead of applying it.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpdateProjectQuery {
    /// Enclave extension: answer what the change would refuse, and apply nothing.
    #[serde(default)]
    #[allow(dead_code)]
    pub dry_run: Option<bool>,
}

/// `{"project": {"settings": {…}}}`. Only the network settings can change here; anything
/// else is refused rather than silently dropped.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectUpdateRequest {
    pub project: ProjectUpdate,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectUpdate {
    /// A new name: 1 to 100 printable characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default)]
    pub settings: Option<ProjectSettingsUpdate>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectSettingsUpdate {
    pub block_public_connections: Option<bool>,
    pub block_vpc_connections: Option<bool>,
    /// Enclave extension: report-only blocking of public connections (see the project's
    /// `settings.public_block_report_only`).
    pub public_block_report_only: Option<bool>,
    /// Replaces the IP allow list (Neon's shape; `{"ips": []}` removes it).
    pub allowed_ips: Option<AllowedIps>,
}

#[utoipa::path(
    get,
    path = "/projects/{project_id}",
    operation_id = "getProject",
    tag = "Projects",
    params(
        ("project_id" = String, Path, description = "Project id, e.g. orange-credit-12345678", pattern = r"^[a-z0-9-]{1,60}$")
    ),
    responses(
        (status = 200, description = "Success", body = ProjectResponse),
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
pub async fn get_project(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(project_id): Path<String>,
) -> Result<Json<ProjectResponse>, ApiError> {
    let project_id = ProjectId::parse(&project_id)?;
    let project = services.get_project(&caller, &project_id).await?;
    let rollout = services.rollout(&caller, &project.id).await?;
    Ok(Json(ProjectResponse {
        project: Project::new(project, rollout.state()),
    }))
}

#[utoipa::path(
    patch,
    path = "/projects/{project_id}",
    operation_id = "updateProject",
    tag = "Projects",
    params(
        ("project_id" = String, Path, description = "Project id, e.g. orange-credit-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        UpdateProjectQuery
    ),
    request_body(content = ProjectUpdateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Success", body = ProjectUpdateResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 422, description = "Refused by a rule (e.g. too many allow-list entries)", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_project(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(project_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    JsonBody(body): JsonBody<ProjectUpdateRequest>,
) -> Result<Json<ProjectUpdateResponse>, ApiError> {
    let dry_run = match query.get("dry_run").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid dry_run {:?}: send true to preview the change, or leave it out.",
                other.chars().take(20).collect::<String>()
            )))
        }
    };
    let project_id = ProjectId::parse(&project_id)?;
    // Both parts are checked before either is written: a bad name changes no setting.
    let name = body
        .project
        .name
        .as_deref()
        .map(|n| Services::check_project_name("project.name", n))
        .transpose()?;
    let settings_sent = body.project.settings.is_some();
    let settings = body.project.settings.unwrap_or_default();
    if settings
        .allowed_ips
        .as_ref()
        .is_some_and(|a| a.protected_branches_only)
    {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "Invalid allowed_ips.protected_branches_only: Enclave projects have no branches, so \
             the allow list always applies to the whole project; send false.",
        ));
    }
    let change = SettingsChange {
        block_public_connections: settings.block_public_connections,
        block_vpc_connections: settings.block_vpc_connections,
        public_block_report_only: settings.public_block_report_only,
        allowed_ips: settings.allowed_ips.map(|a| {
            a.ips
                .into_iter()
                .map(|entry| AllowedIpRecord {
                    entry,
                    note: String::new(),
                    expires_at: None,
                })
                .collect()
        }),
    };
    if dry_run {
        let impact = services
            .preview_settings_change(&caller, &project_id, &change)
            .await?;
        let project = services.get_project(&caller, &project_id).await?;
        let rollout = services.rollout(&caller, &project.id).await?;
        return Ok(Json(ProjectUpdateResponse {
            project: Project::new(project, rollout.state()),
            operations: Vec::new(),
            preview: Some(ChangePreview {
                refused_connections: impact.refused_connections,
                refused_public_networks: impact.refused_public_networks as i64,
                needs_acknowledgement: impact.needs_acknowledgement(),
                summary: impact.summary(),
                refused_endpoints: impact.refused_endpoints,
                no_private_path: impact.no_private_path,
            }),
        }));
    }
    // Applied as Neon applies it, without asking; then the name, if one was sent.
    let mut project = match (settings_sent, &name) {
        (false, Some(_)) => services.get_project(&caller, &project_id).await?,
        _ => {
            services
                .update_project_settings(&caller, &project_id, &change, Acknowledgement::NotAsked)
                .await?
        }
    };
    if let Some(name) = name {
        project = services.rename_project(&caller, &project_id, &name).await?;
    }
    let rollout = services.rollout(&caller, &project.id).await?;
    Ok(Json(ProjectUpdateResponse {
        project: Project::new(project, rollout.state()),
        operations: Vec::new(),
        preview: None,
    }))
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub cursor: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectsResponse {
    pub projects: Vec<Project>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
}

/// `GET /projects?org_id=&limit=&cursor=`. An organization key may leave out `org_id`.
#[utoipa::path(
    get,
    path = "/projects",
    operation_id = "listProjects",
    tag = "Projects",
    params(
        ("org_id" = Option<String>, Query, description = "Organization id; optional with an organization API key", pattern = r"^[a-z0-9-]{1,60}$"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 400 (default 10)", minimum = 1, maximum = 400),
        ("cursor" = Option<String>, Query, description = "The `pagination.cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "Success", body = ProjectsResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_projects(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ProjectsResponse>, ApiError> {
    let org_id = match (query.get("org_id"), &caller.principal) {
        (Some(id), _) => OrgId::parse(id)?,
        (None, Principal::OrgApiKey { org_id, .. }) => OrgId::parse(org_id)?,
        (None, _) => {
            // Neon's words: neonctl recognises them and offers to pick an organization.
            return Err(ApiError::bad_request(
                "org_id is required: this key belongs to a person, who may be in several \
                 organizations; list yours with GET /api/v2/users/me/organizations and pass \
                 one as org_id.",
            ));
        }
    };
    let limit = page_limit(&query)?;
    let cursor = query
        .get("cursor")
        .map(String::as_str)
        .filter(|c| !c.is_empty());
    let page = services
        .list_projects(&caller, &org_id, cursor, limit)
        .await?;
    let mut projects = Vec::with_capacity(page.projects.len());
    for project in page.projects {
        let rollout = services.rollout(&caller, &project.id).await?;
        projects.push(Project::new(project, rollout.state()));
    }
    Ok(Json(ProjectsResponse {
        projects,
        pagination: page.next_cursor.map(|cursor| Pagination { cursor }),
    }))
}

/// A list's `limit` as sent (10 when left out): a number from 1 to 400.
fn page_limit(query: &HashMap<String, String>) -> Result<i64, ApiError> {
    match query.get("limit").map(|raw| raw.trim().parse::<i64>()) {
        None => Ok(10),
        Some(Ok(limit @ 1..=400)) => Ok(limit),
        Some(_) => Err(ApiError::bad_request(
            "Invalid limit: choose a number from 1 to 400.",
        )),
    }
}

/// `GET /projects/shared`: projects shared with the caller outside their organizations.
/// Enclave grants access only through organizations, so there are none; the route exists
/// because Neon's tooling (`neonctl projects list`) asks for them after the owned ones.
#[utoipa::path(
    get,
    path = "/projects/shared",
    operation_id = "listSharedProjects",
    tag = "Projects",
    params(
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 400 (default 10)", minimum = 1, maximum = 400),
        ("cursor" = Option<String>, Query, description = "The `pagination.cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "Success (always empty: access comes from organizations)", body = ProjectsResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_shared_projects(
    ApiCaller(_caller): ApiCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ProjectsResponse>, ApiError> {
    page_limit(&query)?;
    Ok(Json(ProjectsResponse {
        projects: Vec::new(),
        pagination: None,
    }))
}
