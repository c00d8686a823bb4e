//! The API keys page's forms: `POST /api-keys/create` and `POST /api-keys/revoke`. Plain
//! form posts answered with redirects, so they work with and without the wasm. A created key
//! travels to the page in a two-minute, HttpOnly, path-scoped cookie and is shown once.

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
use crate::services::{Caller, KeyOwner, ServiceError};

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
        "invalid_input" => "invalid_name",
        "permission_denied" | "organization_not_found" | "not_found" => "not_allowed",
        "api_key_revoked" => "already_revoked",
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
            Ok(d) if (1..=365).contains(&d) => {
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
        state
            .services
            .assign_endpoint(&caller, &org_id, &region, &endpoint, &label)
            .await?;
        Ok::<_, ServiceError>(format!(
            "VPC endpoint {endpoint} is assigned in {region}. It stays \"new\" until the connection is accepted."
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
            .remove_endpoint(&caller, &org_id, &region, &endpoint)
            .await?;
        Ok::<_, ServiceError>(format!(
            "VPC endpoint {endpoint} is removed. It can never be assigned to this organization again."
        ))
    }
    .await;
    to_org(&org, outcome)
}
