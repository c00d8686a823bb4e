//! Server functions: thin wrappers that hand each call to the service layer through the
//! console port ([`crate::backend::ConsoleBackend`]). The readers here are GETs that change
//! nothing; everything that changes something is in [`changes`]. Every one answers with the
//! typed [`ConsoleError`].

pub mod changes;
pub mod sessions;

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, JsonEncoding};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

pub use crate::domain::SIGN_IN_FIRST;
use crate::{
    domain::{
        ApiKeysView, ConsoleError, ErrorCode, OrgPageView, OrgSummary, ProjectPageView,
        StatusReport,
    },
    session::SessionView,
};

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    /// Failures of the call itself (the network, a malformed form), in the same shape as the
    /// service's errors.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => ConsoleError::new(
                ErrorCode::InternalError,
                "The server could not be reached. Check your connection and try again.",
            ),
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                ConsoleError::new(
                    ErrorCode::InvalidInput,
                    format!("The form was incomplete ({detail}). Reload the page and try again."),
                )
            }
            other => ConsoleError::new(
                ErrorCode::InternalError,
                format!("The call failed ({other}). Reload the page and try again."),
            ),
        }
    }
}

/// Reads a fresh snapshot of the control plane. A GET: it changes nothing, so it needs no
/// CSRF token.
#[server(prefix = "/fn", endpoint = "system_status", input = GetUrl)]
pub async fn get_system_status() -> Result<StatusReport, ConsoleError> {
    let session = request_cookie(crate::session::SESSION_COOKIE);
    crate::backend::backend()?
        .status_report(session.as_deref())
        .await
}

/// Who is signed in, and the CSRF token this page's forms must carry.
#[server(prefix = "/fn", endpoint = "session", input = GetUrl)]
pub async fn current_session() -> Result<SessionView, ConsoleError> {
    use crate::session::CsrfToken;
    let parts = use_context::<http::request::Parts>().ok_or_else(|| {
        ConsoleError::new(
            ErrorCode::InternalError,
            "The request is missing; try again.",
        )
    })?;
    let csrf_token = parts
        .extensions
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    let user = match request_cookie(crate::session::SESSION_COOKIE) {
        Some(token) => crate::backend::backend()?.session_user(&token).await?,
        None => None,
    };
    Ok(SessionView { user, csrf_token })
}

/// Whether this request came over HTTPS, as the server's middleware found.
#[cfg(feature = "ssr")]
fn request_is_secure() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<crate::session::RequestFacts>()
                .map(|f| f.secure)
        })
        .unwrap_or(false)
}

/// The request's console cookie `base_name`, on the server (under its `__Host-` name over
/// HTTPS: see [`crate::session::cookie_name`]).
#[cfg(feature = "ssr")]
fn request_cookie(base_name: &str) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let header = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
    let name = crate::session::cookie_name(base_name, request_is_secure());
    crate::session::cookie_value(header, &name).map(str::to_owned)
}

#[cfg(feature = "ssr")]
fn require_session() -> Result<String, ConsoleError> {
    request_cookie(crate::session::SESSION_COOKIE)
        .ok_or_else(|| ConsoleError::new(ErrorCode::Unauthenticated, SIGN_IN_FIRST))
}

/// This HTTP request's id (set by the server's request-id layer).
#[cfg(feature = "ssr")]
fn request_id() -> Option<String> {
    use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// Our failures name the request, so support can find it in the logs.
#[cfg(feature = "ssr")]
fn with_request_id(mut e: ConsoleError) -> ConsoleError {
    if e.code == ErrorCode::InternalError {
        if let Some(id) = request_id() {
            e.message = format!("{} (request id {id})", e.message);
        }
    }
    e
}

/// Sets the answer's HTTP status to the one the error's kind has everywhere.
#[cfg(feature = "ssr")]
fn answer_status(e: &ConsoleError) {
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(e.kind().status()),
    ) {
        response.set_status(status);
    }
}

/// The address the form was posted from (path and query, without an earlier outcome) when it
/// is this site's `page` itself, perhaps with a confirmation open (`?confirm=block`); never
/// another page or site.
#[cfg(feature = "ssr")]
fn same_page_referer(page: &str) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
    let referer = parts.headers.get(http::header::REFERER)?.to_str().ok()?;
    let rest = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))?
        .strip_prefix(host)?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != page.split('?').next().unwrap_or(page) {
        return None;
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("outcome="))
        .collect();
    Some(if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    })
}

/// Whether this call is a plain HTML form post (no JavaScript): the browser then expects a
/// page, so the answer is a redirect.
#[cfg(feature = "ssr")]
fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

/// A created secret (an API key, a webhook's signing secret) for the page a plain form post
/// is sent back to: a two-minute, HttpOnly cookie scoped to that page's path, read (and
/// cleared) once by [`take_new_secret`]. Secrets never travel in an address.
#[cfg(feature = "ssr")]
fn hand_over_new_key(id: &str, token: &str, path: &str) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let secure = request_is_secure();
        let path = path.split('?').next().unwrap_or("/");
        let cookie = format!(
            "{}={id}.{token}; Path={path}; HttpOnly; SameSite=Strict; Max-Age=120{}",
            crate::session::cookie_name(crate::session::NEW_KEY_COOKIE, secure),
            if secure { "; Secure" } else { "" }
        );
        if let Ok(value) = http::HeaderValue::from_str(&cookie) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }
}

/// The secret [`hand_over_new_key`] left for this page (`path`), clearing it.
#[cfg(feature = "ssr")]
fn take_new_secret(path: &str) -> Option<crate::domain::NewKeyView> {
    use crate::session::NEW_KEY_COOKIE;
    let value = request_cookie(NEW_KEY_COOKIE)?;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let secure = request_is_secure();
        let clear = format!(
            "{}=; Path={path}; HttpOnly; SameSite=Strict; Max-Age=0{}",
            crate::session::cookie_name(NEW_KEY_COOKIE, secure),
            if secure { "; Secure" } else { "" }
        );
        if let Ok(clear) = http::HeaderValue::from_str(&clear) {
            response.append_header(http::header::SET_COOKIE, clear);
        }
    }
    let (id, token) = value.split_once('.')?;
    Some(crate::domain::NewKeyView {
        id: id.to_string(),
        token: token.to_string(),
    })
}

/// The outcome of the change that sent a plain form post back to this page (the `outcome`
/// parameter of the page's address), if it is genuine for this session.
#[cfg(feature = "ssr")]
fn sealed_outcome(session: &str) -> Option<crate::domain::Flash> {
    let parts = use_context::<http::request::Parts>()?;
    let sealed = parts
        .uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("outcome="))?;
    crate::backend::backend()
        .ok()?
        .open_outcome(session, sealed)
}

/// The signed-in person's organizations (none when nobody is signed in).
#[server(prefix = "/fn", endpoint = "organizations", input = GetUrl)]
pub async fn my_organizations() -> Result<Vec<OrgSummary>, ConsoleError> {
    let Ok(session) = require_session() else {
        return Ok(Vec::new());
    };
    crate::backend::backend()?.organizations(&session).await
}

/// The API keys page: keys, and a key created a moment ago by a plain form post (shown once:
/// the one-shot cookie that carried it here is cleared with this answer).
#[server(prefix = "/fn", endpoint = "api_keys", input = GetUrl)]
pub async fn api_keys_page() -> Result<ApiKeysView, ConsoleError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?.api_keys(&session).await?;
    view.flash = sealed_outcome(&session);
    view.new_key = take_new_secret("/api-keys");
    Ok(view)
}

/// An organization's webhooks page, with a receiver's secret created a moment ago by a plain
/// form post (shown once).
#[server(prefix = "/fn", endpoint = "webhooks_page", input = GetUrl)]
pub async fn webhooks_page(
    org_id: String,
) -> Result<crate::domain::WebhooksPageView, ConsoleError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?
        .webhooks_page(&session, &org_id)
        .await?;
    view.flash = sealed_outcome(&session);
    view.new_secret =
        take_new_secret(&format!("/orgs/{}/webhooks", view.org_id)).map(|key| (key.id, key.token));
    Ok(view)
}

/// A page of an organization's activity. The filters come as the page's address carries
/// them (empty: any); a malformed one is refused, naming the field.
#[server(prefix = "/fn", endpoint = "org_activity", input = GetUrl)]
pub async fn org_activity(
    org_id: String,
    #[server(default)] project_id: String,
    #[server(default)] vpc_endpoint_id: String,
    #[server(default)] actor: String,
    #[server(default)] cursor: Option<i64>,
) -> Result<crate::domain::ActivityPageView, ConsoleError> {
    let session = require_session()?;
    let filter = crate::domain::ActivityFilter::parse(&project_id, &vpc_endpoint_id, &actor)?;
    crate::backend::backend()?
        .org_activity(&session, &org_id, &filter, cursor)
        .await
}

/// An organization's page, with the outcome of the change that led here.
#[server(prefix = "/fn", endpoint = "org_page", input = GetUrl)]
pub async fn org_page(org_id: String) -> Result<OrgPageView, ConsoleError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?
        .org_page(&session, &org_id)
        .await?;
    view.flash = sealed_outcome(&session);
    Ok(view)
}

/// A project's Network Security page, with the outcome of the change that led here.
#[server(prefix = "/fn", endpoint = "project_page", input = GetUrl)]
pub async fn project_page(project_id: String) -> Result<ProjectPageView, ConsoleError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?
        .project_page(&session, &project_id)
        .await?;
    view.flash = sealed_outcome(&session);
    Ok(view)
}

/// The operator area: every organization (operators only).
#[server(prefix = "/fn", endpoint = "operator_orgs", input = GetUrl)]
pub async fn operator_orgs() -> Result<Vec<OrgSummary>, ConsoleError> {
    let session = require_session()?;
    crate::backend::backend()?.operator_orgs(&session).await
}

/// The operator area: the cloud provider's health and unassigned requests (operators only).
#[server(prefix = "/fn", endpoint = "operator_provider", input = GetUrl)]
pub async fn operator_provider() -> Result<crate::domain::ProviderStatusView, ConsoleError> {
    let session = require_session()?;
    crate::backend::backend()?.operator_provider(&session).await
}

/// One step of a project's guided setup, with the outcome of the change that led here.
/// Reading changes nothing: moving between steps is [`changes::go_to_setup_step`].
#[server(prefix = "/fn", endpoint = "setup_page", input = GetUrl)]
pub async fn setup_page(
    project_id: String,
    step: i64,
) -> Result<crate::domain::SetupPageView, ConsoleError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?
        .setup_page(&session, &project_id, step)
        .await?;
    view.page.flash = sealed_outcome(&session);
    view.api_base = request_origin();
    Ok(view)
}

/// This console's address as the browser reached it: `https` when the request came over TLS
/// (as the server's request facts say), and the `Host` it asked for.
#[cfg(feature = "ssr")]
fn request_origin() -> String {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return "https://<this console>".into();
    };
    let secure = parts
        .extensions
        .get::<crate::session::RequestFacts>()
        .is_some_and(|f| f.secure);
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        })
        .unwrap_or("<this console>");
    format!("{}://{host}", if secure { "https" } else { "http" })
}

/// The operator area's trial review, with the outcome of the change that led here.
#[server(prefix = "/fn", endpoint = "operator_trials", input = GetUrl)]
pub async fn operator_trials() -> Result<crate::domain::OperatorTrialsView, ConsoleError> {
    let session = require_session()?;
    let mut view = crate::backend::backend()?.operator_trials(&session).await?;
    view.flash = sealed_outcome(&session);
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error travels typed: what a page reads is the code and message the service gave.
    #[test]
    fn console_errors_travel_as_json_with_their_code() {
        let e = ConsoleError::new(ErrorCode::Unauthenticated, "Sign in to see this page.");
        let back = ConsoleError::de(e.ser());
        assert_eq!(back, e);
        let broken = ConsoleError::de("not json".into());
        assert_eq!(broken.code, ErrorCode::InternalError);
        let missing =
            ConsoleError::from_server_fn_error(ServerFnErrorErr::MissingArg("org_id".into()));
        assert_eq!(missing.code, ErrorCode::InvalidInput);
        assert!(missing.message.contains("org_id"));
    }
}
