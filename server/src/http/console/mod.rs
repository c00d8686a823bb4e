//! The console's HTTP pieces that are not pages or server functions: sign-in and sign-out,
//! resuming the guided setup, live updates (server-sent events), and the CSRF middleware.
//! Pages and every change go through Leptos (SSR and `app::server_fns`).

pub mod auth;
pub mod csrf;
pub mod live;
pub mod setup;

use app::session::{cookie_value, SESSION_COOKIE};
use axum::{extract::FromRequestParts, http::request::Parts};

/// The request's session cookie, if any: the one extractor every console handler uses to
/// find who is asking (the service layer then says whether the session is live).
pub struct SessionCookie(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SessionCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(SessionCookie(
            parts
                .headers
                .get(axum::http::header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .and_then(|h| cookie_value(h, SESSION_COOKIE))
                .map(str::to_owned),
        ))
    }
}
