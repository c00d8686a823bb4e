//! API keys through the API (Neon API v2 shapes): a person's own keys under `/api_keys`, an
//! organization's under `/organizations/{org_id}/api_keys`. Keys are named by number, as
//! Neon's tools expect; the secret is shown once, in the answer that creates it.

use std::collections::HashMap;

use app::domain::OrgId;
use axum::{
    extract::{Path, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    error::{ApiError, ErrorBody},
    extract::{ApiCaller, JsonBody},
};
use crate::{
    services::{CreatedApiKey, KeyOwner, Services},
    store::ApiKeyRow,
};

/// Who created a key, as Neon lists it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiKeyCreatorData {
    /// The user's id ('' when the key was made by the operator CLI or an organization key).
    pub id: String,
    /// The user's display name (Enclave shows the email address).
    pub name: String,
    /// Avatar URL; Enclave has none ('').
    pub image: String,
}

/// One key in a list. Organization keys also carry `project_id` in Neon; Enclave keys are
/// never scoped to a project, so it is absent.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiKeysListResponseItem {
    /// The key's number (not its secret).
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub created_by: ApiKeyCreatorData,
    pub last_used_at: Option<String>,
    /// The client address of the last use ('' if never used).
    pub last_used_from_addr: String,
    /// Enclave extension: when the key stops working (absent: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Enclave extension: a revoked key is listed until it is cleaned up, marked so.
    pub revoked: bool,
}

/// `{"key_name": "…"}` (and, for organization keys in Neon, `project_id`, which Enclave
/// refuses: its keys reach the whole organization).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyCreateRequest {
    /// 1 to 100 printable characters.
    #[schema(min_length = 1, max_length = 100)]
    pub key_name: String,
    /// Neon scopes an organization key to one project with this. Enclave has no
    /// project-scoped keys: any value is refused.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Enclave extension: when the key stops working (RFC 3339, at most a year away). A key
    /// made with another key never outlives that key.
    #[serde(default)]
    pub expires_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiKeyCreateResponse {
    pub id: i64,
    /// The secret: send it as `Authorization: Bearer <key>`. Shown only here.
    pub key: String,
    pub name: String,
    pub created_at: String,
    /// The creating user's id ('' for the operator CLI or an organization key).
    pub created_by: String,
    /// Enclave extension: when the key stops working (absent: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiKeyRevokeResponse {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub created_by: String,
    pub last_used_at: Option<String>,
    pub last_used_from_addr: String,
    /// Always true in this answer.
    pub revoked: bool,
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn listed(
    services: &Services,
    rows: Vec<ApiKeyRow>,
) -> Result<Vec<ApiKeysListResponseItem>, ApiError> {
    let mut creators: Vec<String> = rows.iter().filter_map(|k| k.created_by.clone()).collect();
    creators.sort();
    creators.dedup();
    let emails: HashMap<String, String> = services
        .users_by_ids(&creators)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    Ok(rows
        .into_iter()
        .map(|k| {
            let creator = k.created_by.unwrap_or_default();
            ApiKeysListResponseItem {
                id: k.public_id.unwrap_or_default(),
                name: k.name,
                created_at: time(k.created_at),
                created_by: ApiKeyCreatorData {
                    name: emails.get(&creator).cloned().unwrap_or_default(),
                    id: creator,
                    image: String::new(),
                },
                last_used_at: k.last_used_at.map(time),
                last_used_from_addr: k.last_used_from_addr,
                expires_at: k.expires_at.map(time),
                revoked: k.revoked_at.is_some(),
            }
        })
        .collect())
}

fn created(key: CreatedApiKey) -> ApiKeyCreateResponse {
    ApiKeyCreateResponse {
        id: key.public_id,
        key: key.token,
        name: key.name,
        created_at: time(key.created_at_ms),
        created_by: key.created_by.unwrap_or_default(),
        expires_at: key.expires_at_ms.map(time),
    }
}

fn revoked(key: ApiKeyRow) -> ApiKeyRevokeResponse {
    ApiKeyRevokeResponse {
        id: key.public_id.unwrap_or_default(),
        name: key.name,
        created_at: time(key.created_at),
        created_by: key.created_by.unwrap_or_default(),
        last_used_at: key.last_used_at.map(time),
        last_used_from_addr: key.last_used_from_addr,
        revoked: key.revoked_at.is_some(),
    }
}

/// The request's name and expiry, checked; `project_id` refused.
fn parse_create(body: &ApiKeyCreateRequest) -> Result<(String, Option<i64>), ApiError> {
    if body.project_id.is_some() {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "Invalid project_id: Enclave API keys are not scoped to one project. An \
             organization key reaches every project of its organization; leave project_id out.",
        ));
    }
    let name = Services::check_key_name("key_name", &body.key_name)?;
    let expires_at = body
        .expires_at
        .as_deref()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    ApiError::bad_request(
                        "Invalid expires_at: give an RFC 3339 time such as \
                         2027-01-31T00:00:00Z, or leave it out for a key that does not expire.",
                    )
                })
        })
        .transpose()?;
    Ok((name, expires_at))
}

/// A key number from the path: a positive whole number.
fn key_number(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid key_id {raw:?}: an API key is named by its number, as `GET /api_keys` \
             lists it (for example 4503599627370). Its secret or the console's key-… id do \
             not go here."
        ))
    })
}

#[utoipa::path(
    get,
    path = "/api_keys",
    operation_id = "listApiKeys",
    tag = "API Key",
    responses(
        (status = 200, description = "The caller's personal API keys, newest first", body = Vec<ApiKeysListResponseItem>),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed (an organization key has no personal keys)", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_personal(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
) -> Result<Json<Vec<ApiKeysListResponseItem>>, ApiError> {
    let owner = services.personal_key_owner(&caller)?;
    let rows = services.list_api_keys(&caller, &owner).await?;
    Ok(Json(listed(&services, rows).await?))
}

#[utoipa::path(
    post,
    path = "/api_keys",
    operation_id = "createApiKey",
    tag = "API Key",
    request_body(content = ApiKeyCreateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Created; the secret is in `key`, shown only now", body = ApiKeyCreateResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 422, description = "Refused (a project_id, or the account's key limit)", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_personal(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    JsonBody(body): JsonBody<ApiKeyCreateRequest>,
) -> Result<Json<ApiKeyCreateResponse>, ApiError> {
    let owner = services.personal_key_owner(&caller)?;
    let (name, expires_at) = parse_create(&body)?;
    let key = services
        .create_api_key(&caller, &owner, &name, expires_at)
        .await?;
    Ok(Json(created(key)))
}

#[utoipa::path(
    delete,
    path = "/api_keys/{key_id}",
    operation_id = "revokeApiKey",
    tag = "API Key",
    params(
        ("key_id" = i64, Path, description = "The key's number, as listed", minimum = 1)
    ),
    responses(
        (status = 200, description = "Revoked: the next request with it is refused", body = ApiKeyRevokeResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Already revoked", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_personal(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(key_id): Path<String>,
) -> Result<Json<ApiKeyRevokeResponse>, ApiError> {
    let owner = services.personal_key_owner(&caller)?;
    let number = key_number(&key_id)?;
    let key = services
        .revoke_numbered_api_key(&caller, &owner, number)
        .await?;
    Ok(Json(revoked(key)))
}

#[utoipa::path(
    get,
    path = "/organizations/{org_id}/api_keys",
    operation_id = "listOrgApiKeys",
    tag = "API Key",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$")
    ),
    responses(
        (status = 200, description = "The organization's API keys, newest first (admins)", body = Vec<ApiKeysListResponseItem>),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_org(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(org_id): Path<String>,
) -> Result<Json<Vec<ApiKeysListResponseItem>>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let rows = services
        .list_api_keys(&caller, &KeyOwner::Org(org_id))
        .await?;
    Ok(Json(listed(&services, rows).await?))
}

#[utoipa::path(
    post,
    path = "/organizations/{org_id}/api_keys",
    operation_id = "createOrgApiKey",
    tag = "API Key",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$")
    ),
    request_body(content = ApiKeyCreateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Created; the secret is in `key`, shown only now", body = ApiKeyCreateResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 422, description = "Refused (a project_id, or the organization's key limit)", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_org(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(org_id): Path<String>,
    JsonBody(body): JsonBody<ApiKeyCreateRequest>,
) -> Result<Json<ApiKeyCreateResponse>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let (name, expires_at) = parse_create(&body)?;
    let key = services
        .create_api_key(&caller, &KeyOwner::Org(org_id), &name, expires_at)
        .await?;
    Ok(Json(created(key)))
}

#[utoipa::path(
    delete,
    path = "/organizations/{org_id}/api_keys/{key_id}",
    operation_id = "revokeOrgApiKey",
    tag = "API Key",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("key_id" = i64, Path, description = "The key's number, as listed", minimum = 1)
    ),
    responses(
        (status = 200, description = "Revoked: the next request with it is refused", body = ApiKeyRevokeResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Already revoked", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_org(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path((org_id, key_id)): Path<(String, String)>,
) -> Result<Json<ApiKeyRevokeResponse>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let number = key_number(&key_id)?;
    let key = services
        .revoke_numbered_api_key(&caller, &KeyOwner::Org(org_id), number)
        .await?;
    Ok(Json(revoked(key)))
}
