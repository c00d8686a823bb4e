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
