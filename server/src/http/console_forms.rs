//! The API keys page's forms: `POST /api-keys/create` and `POST /api-keys/revoke`. Plain
//! form posts answered with redirects, so they work with and without the wasm. A created key
//! travels to the page in a two-minute, HttpOnly, path-scoped cookie and is shown once.

use app::domain::ErrorCode;
use app::{
    domain::OrgId,
    session::{cookie_value, NEW_KEY_COOKIE, SESSION_COOKIE},
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;

use super::{csrf, AppState};
use crate::services::{Acknowledgement, Caller, KeyOwner, ServiceError};

#[derive(Debug, Deserialize)]
pub struct CreateKeyForm {
    #[serde(default)]
    name: String,
    /// `personal` or an organization id.
    #[serde(default)]
    owner: String,
    /// `never` or a number of days.
    #[serde(default)]
    expires: String,
}

#[derive(Debug, Deserialize)]
pub struct RevokeKeyForm {
    #[serde(default)]
    id: String,
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Option<Caller> {
    let token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| cookie_value(h, SESSION_COOKIE))?;
    state.services.session_caller(token).await.ok()
}

fn back(query: &str) -> Response {
    let mut response = Redirect::to(&format!("/api-keys?{query}")).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Only known codes travel in the address; the page turns them into messages.
fn error_code(err: &ServiceError) -> &'static str {
    match err.code {
        ErrorCode::InvalidInput => "invalid_name",
        ErrorCode::PermissionDenied | ErrorCode::OrganizationNotFound | ErrorCode::NotFound => {
            "not_allowed"
        }
        ErrorCode::ApiKeyRevoked => "already_revoked",
        _ => "unavailable",
    }
}

pub async fn create_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CreateKeyForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let owner = match form.owner.as_str() {
        "personal" => match &caller.principal {
            crate::services::Principal::User { user_id, .. } => KeyOwner::User(user_id.clone()),
            _ => return back("error=not_allowed"),
        },
        other => match OrgId::parse(other) {
            Ok(org) => KeyOwner::Org(org),
            Err(_) => return back("error=not_allowed"),
        },
    };
    let expires_at = match form.expires.as_str() {
        "" | "never" => None,
        days => match days.parse::<i64>() {
            Ok(d) if (1..=app::domain::API_KEY_MAX_EXPIRY_DAYS).contains(&d) => {
                Some(state.services.clock().now_ms() + d * 86_400_000)
            }
            _ => return back("error=invalid_expiry"),
        },
    };
    match state
        .services
        .create_api_key(&caller, &owner, &form.name, expires_at)
        .await
    {
        Ok(key) => {
            let secure = csrf::is_https(&headers, state.secure_cookies);
            let mut cookie = format!(
                "{NEW_KEY_COOKIE}={}.{}; Path=/api-keys; HttpOnly; SameSite=Strict; Max-Age=120",
                key.id, key.token
            );
            if secure {
                cookie.push_str("; Secure");
            }
            let mut response = back("created=1");
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => back(&format!("error={}", error_code(&e))),
    }
}

pub async fn revoke_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RevokeKeyForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    match state.services.revoke_api_key(&caller, &form.id).await {
        Ok(()) => back("revoked=1"),
        Err(e) => back(&format!("error={}", error_code(&e))),
    }
}

/// `ok|…` or `error|…`, percent-encoded, in a one-minute cookie the next page reads once.
fn flash(ok: bool, message: &str) -> Option<HeaderValue> {
    let raw = format!("{}|{message}", if ok { "ok" } else { "error" });
    let encoded: String = raw
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{}={encoded}; Path=/; HttpOnly; SameSite=Strict; Max-Age=60",
        app::session::FLASH_COOKIE
    ))
    .ok()
}

fn to_org(org: &str, outcome: Result<String, ServiceError>) -> Response {
    let mut response = Redirect::to(&format!("/orgs/{org}")).into_response();
    let cookie = match outcome {
        Ok(message) => flash(true, &message),
        Err(e) => flash(false, &e.message),
    };
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Debug, Deserialize)]
pub struct EndpointForm {
    #[serde(default)]
    region_id: String,
    #[serde(default)]
    vpc_endpoint_id: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    return_to: String,
    /// "on": remove even if connections seen in the last 24 h would be refused.
    #[serde(default)]
    acknowledge: String,
}

/// `POST /orgs/{org}/endpoints/assign`: assign or relabel an endpoint.
pub async fn assign_endpoint(
    State(state): State<AppState>,
    axum::extract::Path(org): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<EndpointForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let org_id = OrgId::parse(&org)?;
        let region = app::domain::RegionId::parse(&form.region_id)?;
        let endpoint = app::domain::VpcEndpointId::parse(&form.vpc_endpoint_id)?;
        let label = app::domain::Label::parse(&form.label)?;
        let outcome = state
            .services
            .assign_endpoint(&caller, &org_id, &region, &endpoint, &label)
            .await?;
        Ok::<_, ServiceError>(match outcome {
            crate::store::AssignOutcome::Created => format!(
                "VPC endpoint {endpoint} is assigned in {region}. It stays \"new\" until the connection is accepted."
            ),
            crate::store::AssignOutcome::Relabelled { .. } => {
                format!("VPC endpoint {endpoint} is now labelled \"{}\".", label.as_str())
            }
            _ => format!("VPC endpoint {endpoint} is already assigned in {region} with that label; nothing changed."),
        })
    }
    .await;
    match setup_return(&form.return_to, None) {
        Some(address) => to_page(&address, outcome),
        None => to_org(&org, outcome),
    }
}

#[derive(Debug, Deserialize)]
pub struct AwsAccountForm {
    aws_account_id: String,
    #[serde(default)]
    note: String,
}

/// `POST /orgs/{org}/aws-accounts/allow`: allow an AWS account.
pub async fn allow_aws_account(
    State(state): State<AppState>,
    axum::extract::Path(org): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<AwsAccountForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let org_id = OrgId::parse(&org)?;
        let account = app::domain::AwsAccountId::parse(&form.aws_account_id)?;
        let note = app::domain::Label::parse(&form.note)
            .map_err(|e| app::domain::FieldError::new("note", e.message))?;
        state
            .services
            .allow_account(&caller, &org_id, &account, &note)
            .await?;
        Ok::<_, ServiceError>(format!(
            "AWS account {account} may now create endpoints for this organization."
        ))
    }
    .await;
    to_org(&org, outcome)
}

/// `POST /orgs/{org}/aws-accounts/remove`: stop allowing an AWS account.
pub async fn remove_aws_account(
    State(state): State<AppState>,
    axum::extract::Path(org): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<AwsAccountForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let org_id = OrgId::parse(&org)?;
        let account = app::domain::AwsAccountId::parse(&form.aws_account_id)?;
        state
            .services
            .disallow_account(&caller, &org_id, &account)
            .await?;
        Ok::<_, ServiceError>(format!(
            "AWS account {account} is no longer allowed; endpoints it already connected stay as they are."
        ))
    }
    .await;
    to_org(&org, outcome)
}

/// `POST /orgs/{org}/endpoints/remove`: remove an endpoint for good.
pub async fn remove_endpoint(
    State(state): State<AppState>,
    axum::extract::Path(org): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<EndpointForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let org_id = OrgId::parse(&org)?;
        let region = app::domain::RegionId::parse(&form.region_id)?;
        let endpoint = app::domain::VpcEndpointId::parse(&form.vpc_endpoint_id)?;
        state
            .services
            .remove_endpoint(
                &caller,
                &org_id,
                &region,
                &endpoint,
                Acknowledgement::Given(form.acknowledge == "on"),
            )
            .await?;
        Ok::<_, ServiceError>(format!(
            "VPC endpoint {endpoint} is removed. It can never be assigned to this organization again."
        ))
    }
    .await;
    to_org(&org, outcome)
}

/// Where a form that can be posted from the setup stepper goes back to: the step's address
/// when it names one of this project's (or, from the organization form, any project's) setup
/// steps, never anywhere else — so the field cannot be used to send people off-site.
fn setup_return(return_to: &str, project: Option<&str>) -> Option<String> {
    let rest = return_to.strip_prefix("/projects/")?;
    let (id, step) = rest.split_once("/setup/")?;
    app::domain::ProjectId::parse(id).ok()?;
    if project.is_some_and(|p| p != id) {
        return None;
    }
    app::domain::SetupStep::parse(step)?;
    Some(return_to.to_string())
}

fn to_project(project: &str, outcome: Result<String, ServiceError>) -> Response {
    to_page(&format!("/projects/{project}"), outcome)
}

fn to_page(address: &str, outcome: Result<String, ServiceError>) -> Response {
    let mut response = Redirect::to(address).into_response();
    let cookie = match outcome {
        Ok(message) => flash(true, &message),
        Err(e) => flash(false, &e.message),
    };
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn refused(message: &str) -> ServiceError {
    ServiceError::new(ErrorCode::NotConfirmed, message)
}

#[derive(Debug, Deserialize)]
pub struct PublicAccessForm {
    #[serde(default)]
    block: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    acknowledge_lockout: String,
    #[serde(default)]
    return_to: String,
}

/// `POST /projects/{id}/public-access`: block or allow connections from the internet. Both
/// directions need the confirmation form; blocking while no accepted endpoint can reach the
/// project also needs the lockout acknowledged.
pub async fn public_access(
    State(state): State<AppState>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<PublicAccessForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let project_id = app::domain::ProjectId::parse(&project)?;
        let block = match form.block.as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(refused("Choose whether to block or allow public access.")),
        };
        if form.confirm != "yes" {
            return Err(refused("Nothing changed: confirm the change on the confirmation form."));
        }
        let change = crate::store::SettingsChange {
            block_public_connections: Some(block),
            ..Default::default()
        };
        // What blocking would refuse is judged by the service from the proxies' evidence;
        // the form's box is the acknowledgement.
        match state
            .services
            .update_project_settings(
                &caller,
                &project_id,
                &change,
                Acknowledgement::Given(form.acknowledge_lockout == "on"),
            )
            .await
        {
            Err(e) if e.code == "acknowledgement_required" => {
                return Err(refused(&format!(
                    "Public access was not blocked. {} Tick the box to confirm that this is what you want.",
                    e.message.trim_start_matches("Nothing changed: ").trim_end_matches(" Confirm that this is what you want to apply it.")
                )))
            }
            other => other?,
        };
        Ok::<_, ServiceError>(if block {
            "Public access is being blocked. It shows \"applying\" until the data plane confirms.".to_string()
        } else {
            "Public access is being allowed again. It shows \"applying\" until the data plane confirms.".to_string()
        })
    }
    .await;
    match setup_return(&form.return_to, Some(&project)) {
        Some(address) => to_page(&address, outcome),
        None => to_project(&project, outcome),
    }
}

#[derive(Debug, Deserialize)]
pub struct AllowedIpForm {
    #[serde(default)]
    entry: String,
    #[serde(default)]
    note: String,
    /// Days until the entry stops admitting; empty for never.
    #[serde(default)]
    expires_in_days: String,
    /// "on": add even if recent connections would be refused.
    #[serde(default)]
    acknowledge: String,
}

/// `POST /projects/{id}/allowed-ips/add`: adds (or re-notes) an IP allow-list entry.
pub async fn add_allowed_ip(
    State(state): State<AppState>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<AllowedIpForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let project_id = app::domain::ProjectId::parse(&project)?;
        let entry = app::domain::IpAllowEntry::parse(&form.entry)?;
        let note = app::domain::Label::parse(&form.note)?;
        let expires_at =
            match form.expires_in_days.trim() {
                "" => None,
                days => match days.parse::<i64>() {
                    Ok(d) if (1..=365).contains(&d) => {
                        Some(state.services.clock().now_ms() + d * 86_400_000)
                    }
                    _ => return Err(refused(
                        "Expires in days must be a whole number from 1 to 365, or empty for never.",
                    )),
                },
            };
        let current = state.services.get_project(&caller, &project_id).await?;
        let mut list: Vec<crate::store::AllowedIpRecord> = current
            .allowed_ips()
            .into_iter()
            .filter(|r| r.entry != entry.as_str())
            .collect();
        list.push(crate::store::AllowedIpRecord {
            entry: entry.as_str().to_string(),
            note: note.as_str().to_string(),
            expires_at,
        });
        let change = crate::store::SettingsChange {
            allowed_ips: Some(list),
            ..Default::default()
        };
        state
            .services
            .update_project_settings(
                &caller,
                &project_id,
                &change,
                Acknowledgement::Given(form.acknowledge == "on"),
            )
            .await?;
        Ok::<_, ServiceError>(format!(
            "{entry} is on the IP allow list: public connections come only from listed networks."
        ))
    }
    .await;
    to_project(&project, outcome)
}

/// `POST /projects/{id}/allowed-ips/remove`: takes an entry off the IP allow list.
pub async fn remove_allowed_ip(
    State(state): State<AppState>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<AllowedIpForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let project_id = app::domain::ProjectId::parse(&project)?;
        let current = state.services.get_project(&caller, &project_id).await?;
        let before = current.allowed_ips();
        let list: Vec<_> = before
            .iter()
            .filter(|r| r.entry != form.entry.trim())
            .cloned()
            .collect();
        if list.len() == before.len() {
            return Err(refused("That entry is not on the IP allow list."));
        }
        let emptied = list.is_empty();
        let change = crate::store::SettingsChange {
            allowed_ips: Some(list),
            ..Default::default()
        };
        state
            .services
            .update_project_settings(
                &caller,
                &project_id,
                &change,
                Acknowledgement::Given(form.acknowledge == "on"),
            )
            .await?;
        Ok::<_, ServiceError>(if emptied {
            "The IP allow list is empty: public connections may come from anywhere again."
                .to_string()
        } else {
            format!("{} is off the IP allow list.", form.entry.trim())
        })
    }
    .await;
    to_project(&project, outcome)
}

#[derive(Debug, Deserialize)]
pub struct ReportOnlyForm {
    #[serde(default)]
    report_only: String,
    #[serde(default)]
    return_to: String,
}

/// `POST /projects/{id}/public-report-only`: turn report-only blocking of public connections
/// on or off. It changes who may connect for no one, so it needs no confirmation.
pub async fn public_report_only(
    State(state): State<AppState>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<ReportOnlyForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let project_id = app::domain::ProjectId::parse(&project)?;
        let report_only = match form.report_only.as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(refused("Choose whether to start or stop reporting.")),
        };
        let change = crate::store::SettingsChange {
            public_block_report_only: Some(report_only),
            ..Default::default()
        };
        state
            .services
            .update_project_settings(&caller, &project_id, &change, Acknowledgement::Given(false))
            .await?;
        Ok::<_, ServiceError>(if report_only {
            "Report-only: public connections are still let through, and each is recorded as one blocking would refuse.".to_string()
        } else {
            "Reporting stopped.".to_string()
        })
    }
    .await;
    match setup_return(&form.return_to, Some(&project)) {
        Some(address) => to_page(&address, outcome),
        None => to_project(&project, outcome),
    }
}

#[derive(Debug, Deserialize)]
pub struct RestrictionForm {
    #[serde(default)]
    vpc_endpoint_id: String,
    #[serde(default)]
    confirm_open: String,
    /// "on": apply even if connections seen in the last 24 h would be refused.
    #[serde(default)]
    acknowledge: String,
    #[serde(default)]
    return_to: String,
}

/// `POST /projects/{id}/restrictions/add`.
pub async fn restrict(
    State(state): State<AppState>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<RestrictionForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let project_id = app::domain::ProjectId::parse(&project)?;
        let endpoint = app::domain::VpcEndpointId::parse(&form.vpc_endpoint_id)?;
        state
            .services
            .restrict_project(
                &caller,
                &project_id,
                &endpoint,
                &app::domain::Label::default(),
                Acknowledgement::Given(form.acknowledge == "on"),
            )
            .await?;
        Ok::<_, ServiceError>(format!(
            "The project now accepts VPC connections only from its restricted endpoints, including {endpoint}."
        ))
    }
    .await;
    match setup_return(&form.return_to, Some(&project)) {
        Some(address) => to_page(&address, outcome),
        None => to_project(&project, outcome),
    }
}

/// `POST /projects/{id}/restrictions/remove`. Removing the last restriction opens the project
/// to every endpoint of the organization in its region, so it must be confirmed.
pub async fn unrestrict(
    State(state): State<AppState>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<RestrictionForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let project_id = app::domain::ProjectId::parse(&project)?;
        let endpoint = app::domain::VpcEndpointId::parse(&form.vpc_endpoint_id)?;
        // The confirmation is judged by the service under the organization's lock; this
        // only words the refusal for the form.
        let opened = match state
            .services
            .unrestrict_project(
                &caller,
                &project_id,
                &endpoint,
                form.confirm_open == "on",
                Acknowledgement::Given(form.acknowledge == "on"),
            )
            .await
        {
            Err(e) if e.code == "confirmation_required" => {
                return Err(refused(
                    "The restriction stays: it is the last one, and without it every endpoint of \
                     the organization in this region may connect. Tick the box to confirm.",
                ))
            }
            other => other?,
        };
        Ok::<_, ServiceError>(if opened {
            "The last restriction is removed: every accepted endpoint of the organization in this region may connect.".to_string()
        } else {
            format!("{endpoint} no longer restricts this project.")
        })
    }
    .await;
    match setup_return(&form.return_to, Some(&project)) {
        Some(address) => to_page(&address, outcome),
        None => to_project(&project, outcome),
    }
}

/// `GET /projects/{id}/setup`: resumes the guided setup at the step saved for the project.
pub async fn resume_setup(
    State(state): State<AppState>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let step = match state.services.setup_progress(&caller, &project).await {
        Ok(progress) => progress.step,
        // Outsiders get the same "not found" page as for any unknown project.
        Err(_) => return Redirect::to(&format!("/projects/{project}")).into_response(),
    };
    let mut response = Redirect::to(&format!("/projects/{project}/setup/{step}")).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Debug, Deserialize)]
pub struct AwsDetailsForm {
    #[serde(default)]
    vpc_id: String,
    #[serde(default)]
    subnet_ids: String,
    #[serde(default)]
    security_group_id: String,
}

/// `POST /projects/{id}/setup/aws`: saves the VPC, subnets and security group of step 2, so
/// the commands are filled in (also without JavaScript) and the values are there next time.
pub async fn save_aws_details(
    State(state): State<AppState>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<AwsDetailsForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = state
        .services
        .save_setup_aws_details(
            &caller,
            &project,
            &form.vpc_id,
            &form.subnet_ids,
            &form.security_group_id,
        )
        .await
        .map(|_| {
            "Saved. The commands below are filled in with your VPC, subnets and security group."
                .to_string()
        });
    let address = setup_return(&format!("/projects/{project}/setup/2"), Some(&project))
        .unwrap_or_else(|| "/".to_string());
    to_page(&address, outcome)
}

#[cfg(test)]
mod tests {
    use super::setup_return;

    #[test]
    fn only_setup_steps_of_the_project_are_return_addresses() {
        assert_eq!(
            setup_return("/projects/p-1/setup/3", Some("p-1")).as_deref(),
            Some("/projects/p-1/setup/3")
        );
        assert_eq!(setup_return("/projects/p-1/setup/3", Some("p-2")), None);
        assert_eq!(setup_return("/projects/p-1/setup/9", None), None);
        assert_eq!(
            setup_return("https://evil.example/projects/p/setup/1", None),
            None
        );
        assert_eq!(setup_return("//evil.example/setup/1", None), None);
        assert_eq!(setup_return("/projects/../x/setup/1", None), None);
        assert_eq!(setup_return("", None), None);
    }
}

/// `POST /orgs/{org}/trial`: an admin requests a trial. The form repeats `regions` once per
/// ticked box, so the body is read as pairs rather than into a struct.
pub async fn request_trial(
    State(state): State<AppState>,
    axum::extract::Path(org): axum::extract::Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let mut application = crate::services::TrialApplication::default();
    let mut return_to = String::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "use_case" => application.use_case = value.into_owned(),
            "regions" => application.regions.push(value.into_owned()),
            "expected_endpoints" => application.expected_endpoints = value.into_owned(),
            "return_to" => return_to = value.into_owned(),
            _ => {}
        }
    }
    let outcome = state
        .services
        .request_trial(&caller, &org, &application)
        .await
        .map(|_| {
            "Your trial request is sent. A platform operator reviews it; the decision appears on this page.".to_string()
        });
    // Back to the project page it came from (only a project page), else the organization.
    let back = return_to
        .strip_prefix("/projects/")
        .filter(|id| app::domain::ProjectId::parse(id).is_ok())
        .map(|id| format!("/projects/{id}"))
        .unwrap_or_else(|| format!("/orgs/{org}"));
    to_page(&back, outcome)
}

#[derive(Debug, Deserialize)]
pub struct ApproveTrialForm {
    /// `YYYY-MM-DD`: the last day of the trial.
    #[serde(default)]
    ends_on: String,
}

/// `POST /operator/trials/{id}/approve`.
pub async fn approve_trial(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<ApproveTrialForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = async {
        let ends_at = match form.ends_on.trim() {
            "" => None,
            day => Some(crate::services::end_of_day_ms(
                chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                    ServiceError::new(
                        ErrorCode::InvalidInput,
                        "Invalid ends_on: enter the trial's last day as YYYY-MM-DD.",
                    )
                })?,
            )),
        };
        let row = state.services.approve_trial(&caller, &id, ends_at).await?;
        Ok::<_, ServiceError>(format!(
            "Trial {id} approved; it ends {}.",
            app::domain::format_time(row.trial_ends_at.unwrap_or_default())
        ))
    }
    .await;
    to_page("/operator", outcome)
}

#[derive(Debug, Deserialize)]
pub struct DeclineTrialForm {
    #[serde(default)]
    reason: String,
}

/// `POST /operator/trials/{id}/decline`.
pub async fn decline_trial(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Form(form): Form<DeclineTrialForm>,
) -> Response {
    let Some(caller) = caller(&state, &headers).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let outcome = state
        .services
        .decline_trial(&caller, &id, &form.reason)
        .await
        .map(|_| format!("Trial {id} declined; the organization's admins see your reason."));
    to_page("/operator", outcome)
}
