//! Allowed AWS accounts of an organization: an Enclave extension of the REST API (Neon has no
//! such route), documented in the OpenAPI document.

use app::domain::{AwsAccountId, Label, OrgId};
use axum::{
    extract::{Path, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    error::{ApiError, ErrorBody},
    extract::{ApiCaller, JsonBody},
    Empty,
};
use crate::{services::Services, store::AllowedAccountRow};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AllowedAwsAccount {
    /// 12 digits.
    pub aws_account_id: String,
    pub note: String,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AllowedAwsAccounts {
    pub accounts: Vec<AllowedAwsAccount>,
}

/// `{"note": "…"}`; the note may be empty or absent.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowAwsAccount {
    /// 0 to 64 printable characters.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub note: String,
}

fn shown(row: AllowedAccountRow) -> AllowedAwsAccount {
    AllowedAwsAccount {
        aws_account_id: row.account_id,
        note: row.note,
        created_at_ms: row.created_at,
    }
}

#[utoipa::path(
    get,
    path = "/organizations/{org_id}/vpc/allowed_aws_accounts",
    operation_id = "listAllowedAwsAccounts",
    tag = "Private networking (Enclave)",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$")
    ),
    responses(
        (status = 200, description = "The AWS accounts allowed to create endpoints to the platform's services", body = AllowedAwsAccounts),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(org_id): Path<String>,
) -> Result<Json<AllowedAwsAccounts>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let rows = services.list_allowed_accounts(&caller, &org_id).await?;
    Ok(Json(AllowedAwsAccounts {
        accounts: rows.into_iter().map(shown).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/organizations/{org_id}/vpc/allowed_aws_accounts/{aws_account_id}",
    operation_id = "allowAwsAccount",
    tag = "Private networking (Enclave)",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("aws_account_id" = String, Path, description = "AWS account id, 12 digits", pattern = r"^[0-9]{12}$")
    ),
    request_body(content = AllowAwsAccount, content_type = "application/json"),
    responses(
        (status = 200, description = "Allowed (or its note changed)", body = AllowedAwsAccount),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn allow(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path((org_id, account)): Path<(String, String)>,
    JsonBody(body): JsonBody<AllowAwsAccount>,
) -> Result<Json<AllowedAwsAccount>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let account = AwsAccountId::parse(&account)?;
    let note =
        Label::parse(&body.note).map_err(|e| app::domain::FieldError::new("note", e.message))?;
    let row = services
        .allow_account(&caller, &org_id, &account, &note)
        .await?;
    Ok(Json(shown(row)))
}

#[utoipa::path(
    delete,
    path = "/organizations/{org_id}/vpc/allowed_aws_accounts/{aws_account_id}",
    operation_id = "disallowAwsAccount",
    tag = "Private networking (Enclave)",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("aws_account_id" = String, Path, description = "AWS account id, 12 digits", pattern = r"^[0-9]{12}$")
    ),
    responses(
        (status = 200, description = "No longer allowed", body = Empty),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn disallow(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path((org_id, account)): Path<(String, String)>,
) -> Result<Json<Empty>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let account = AwsAccountId::parse(&account)?;
    services
        .disallow_account(&caller, &org_id, &account)
        .await?;
    Ok(Json(Empty {}))
}
