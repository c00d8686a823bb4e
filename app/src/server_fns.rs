//! Server functions: thin wrappers that hand each call to the service layer.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::{domain::SystemStatus, session::SessionView};

/// Reads a fresh snapshot of the control plane. A GET: it changes nothing, so it needs no
/// CSRF token.
#[server(prefix = "/fn", endpoint = "system_status", input = GetUrl)]
pub async fn get_system_status() -> Result<SystemStatus, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .system_status()
        .await
        .map_err(|e| ServerFnError::new(e.message))
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
            .map_err(|e| ServerFnError::new(e.message))?,
        None => None,
    };
    Ok(SessionView { user, csrf_token })
}
