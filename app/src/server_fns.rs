//! Server functions: thin wrappers that hand each call to the service layer.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::{
    domain::{ApiKeysView, OrgPageView, OrgSummary, ProjectPageView, SystemStatus},
    session::SessionView,
};

/// Reads a fresh snapshot of the control plane. A GET: it changes nothing, so it needs no
/// CSRF token.
#[server(prefix = "/fn", endpoint = "system_status", input = GetUrl)]
pub async fn get_system_status() -> Result<SystemStatus, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend.system_status().await.map_err(fn_error)
}

/// Who is signed in, and the CSRF token this page's forms must carry.
#[server(prefix = "/fn", endpoint = "session", input = GetUrl)]
pub async fn current_session() -> Result<SessionView, ServerFnError> {
    use crate::session::{cookie_value, CsrfToken, SESSION_COOKIE};
    let parts = use_context::<http::request::Parts>()
        .ok_or_else(|| ServerFnError::new("The request is missing; try again."))?;
    let csrf_token = parts
        .extensions
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    let token = parts
        .headers
        .get(http::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| cookie_value(h, SESSION_COOKIE))
        .map(str::to_owned);
    let user = match token {
        Some(token) => crate::backend::backend()?
            .session_user(&token)
            .await
            .map_err(fn_error)?,
        None => None,
    };
    Ok(SessionView { user, csrf_token })
}

/// The request's cookie `name`, on the server.
#[cfg(feature = "ssr")]
fn request_cookie(name: &str) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let header = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
    crate::session::cookie_value(header, name).map(str::to_owned)
}

#[cfg(feature = "ssr")]
fn require_session() -> Result<String, ServerFnError> {
    request_cookie(crate::session::SESSION_COOKIE).ok_or_else(|| {
        fn_error(crate::backend::BackendError {
            code: crate::domain::ErrorCode::Unauthenticated.as_str(),
            message: SIGN_IN_FIRST.to_string(),
        })
    })
}

pub use crate::domain::SIGN_IN_FIRST;

/// A service error as a server-function error that keeps its code (`code|message`), so a
/// page can tell "sign in again", "not found" and "something failed on our side" apart.
#[cfg(feature = "ssr")]
fn fn_error(e: crate::backend::BackendError) -> ServerFnError {
    ServerFnError::new(format!("{}|{}", e.code, e.message))
}

/// The message of a server function's error, for people (without the code).
pub fn error_message(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(text) => text
            .split_once('|')
            .map(|(_, message)| message.to_string())
            .unwrap_or_else(|| text.clone()),
        other => other.to_string(),
    }
}

/// The code a server function's error carries, if any.
pub fn error_code(e: &ServerFnError) -> Option<crate::domain::ErrorCode> {
    let text = match e {
        ServerFnError::ServerError(text) => text.as_str(),
        _ => return None,
    };
    crate::domain::ErrorCode::parse(text.split_once('|')?.0)
}

/// The signed-in person's organizations (none when nobody is signed in).
#[server(prefix = "/fn", endpoint = "organizations", input = GetUrl)]
pub async fn my_organizations() -> Result<Vec<OrgSummary>, ServerFnError> {
    let Ok(session) = require_session() else {
        return Ok(Vec::new());
    };
    crate::backend::backend()?
        .organizations(&session)
        .await
        .map_err(fn_error)
}

/// The API keys page: keys, and a key created a moment ago (shown once: the one-shot cookie
/// that carried it here is cleared with this answer).
#[server(prefix = "/fn", endpoint = "api_keys", input = GetUrl)]
pub async fn api_keys_page() -> Result<ApiKeysView, ServerFnError> {
    use crate::domain::NewKeyView;
    use crate::session::NEW_KEY_COOKIE;
    let session = require_session()?;
    let mut view = crate::backend::backend()?
        .api_keys(&session)
        .await
        .map_err(fn_error)?;
    if let Some(value) = request_cookie(NEW_KEY_COOKIE) {
        if let Some((id, token)) = value.split_once('.') {
            view.new_key = Some(NewKeyView {
                id: id.to_string(),
                token: token.to_string(),
            });
        }
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.append_header(
                http::header::SET_COOKIE,
                http::HeaderValue::from_static(
                    "enclave_new_key=; Path=/api-keys; HttpOnly; SameSite=Strict; Max-Age=0",
                ),
            );
        }
    }
    Ok(view)
}

/// An organization's page, with the outcome of the last form post (read once).
#[server(prefix = "/fn", endpoint = "org_page", input = GetUrl)]
pub async fn org_page(org_id: String) -> Result<OrgPageView, ServerFnError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?
        .org_page(&session, &org_id)
        .await
        .map_err(fn_error)?;
    view.flash = take_flash();
    Ok(view)
}

/// The outcome of the last form post, read once (its cookie is cleared with this answer).
#[cfg(feature = "ssr")]
fn take_flash() -> Option<crate::domain::Flash> {
    let raw = request_cookie(crate::session::FLASH_COOKIE)?;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(
            http::header::SET_COOKIE,
            http::HeaderValue::from_static(
                "enclave_flash=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
            ),
        );
    }
    let decoded = form_urlencoded_decode(&raw);
    let (kind, message) = decoded.split_once('|')?;
    Some(crate::domain::Flash {
        ok: kind == "ok",
        message: message.to_string(),
    })
}

/// A project's Network Security page, with the outcome of the last form post (read once).
#[server(prefix = "/fn", endpoint = "project_page", input = GetUrl)]
pub async fn project_page(project_id: String) -> Result<ProjectPageView, ServerFnError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?
        .project_page(&session, &project_id)
        .await
        .map_err(fn_error)?;
    view.flash = take_flash();
    Ok(view)
}

/// Percent-decoding for the flash cookie (written with `%XX` escapes by the server).
#[cfg(feature = "ssr")]
fn form_urlencoded_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&raw[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The operator area: every organization (operators only).
#[server(prefix = "/fn", endpoint = "operator_orgs", input = GetUrl)]
pub async fn operator_orgs() -> Result<Vec<OrgSummary>, ServerFnError> {
    let session = require_session()?;
    crate::backend::backend()?
        .operator_orgs(&session)
        .await
        .map_err(fn_error)
}

/// The operator area: the cloud provider's health and unassigned requests (operators only).
#[server(prefix = "/fn", endpoint = "operator_provider", input = GetUrl)]
pub async fn operator_provider() -> Result<crate::domain::ProviderStatusView, ServerFnError> {
    let session = require_session()?;
    crate::backend::backend()?
        .operator_provider(&session)
        .await
        .map_err(fn_error)
}

/// One step of a project's guided setup, with the outcome of the last form post (read once).
/// Visiting a step as an admin saves it as where the setup resumes: a harmless side effect
/// of reading, like "last viewed", that needs no form.
#[server(prefix = "/fn", endpoint = "setup_page", input = GetUrl)]
pub async fn setup_page(
    project_id: String,
    step: i64,
) -> Result<crate::domain::SetupPageView, ServerFnError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?
        .setup_page(&session, &project_id, step)
        .await
        .map_err(fn_error)?;
    view.page.flash = take_flash();
    Ok(view)
}

/// The operator area's trial review, with the outcome of the last form post (read once).
#[server(prefix = "/fn", endpoint = "operator_trials", input = GetUrl)]
pub async fn operator_trials() -> Result<crate::domain::OperatorTrialsView, ServerFnError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?
        .operator_trials(&session)
        .await
        .map_err(fn_error)?;
    view.flash = take_flash();
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ErrorCode;

    #[test]
    fn server_function_errors_keep_their_code() {
        let e = ServerFnError::new("unauthenticated|Sign in to see this page.");
        assert_eq!(error_code(&e), Some(ErrorCode::Unauthenticated));
        assert_eq!(error_message(&e), "Sign in to see this page.");
        let plain = ServerFnError::new("The request is missing; try again.");
        assert_eq!(error_code(&plain), None);
        assert_eq!(error_message(&plain), "The request is missing; try again.");
        // A message that itself contains the separator keeps all of its text.
        let e = ServerFnError::new("internal_error|a|b");
        assert_eq!(error_code(&e), Some(ErrorCode::InternalError));
        assert_eq!(error_message(&e), "a|b");
    }
}
