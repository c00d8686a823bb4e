//! The console's HTTP pieces that are not pages or server functions: resuming the guided
//! setup, the activity CSV file, live updates (server-sent events), and the CSRF middleware. Pages, signing in and
//! out, and every change go through Leptos (SSR and `app::server_fns`).

pub mod activity;
pub mod csrf;
pub mod live;
pub mod setup;

use app::session::{cookie_name, cookie_value, RequestFacts, SESSION_COOKIE};
use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
    response::{IntoResponse, Redirect, Response},
};

use crate::http::AppState;
use crate::services::Caller;

/// The request's session cookie, if any: the one extractor every console handler uses to
/// find who is asking (the service layer then says whether the session is live).
pub struct SessionCookie(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SessionCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The CSRF layer, which every console route is behind, recorded whether this came
        // over HTTPS, which decides the cookie's name.
        let secure = parts
            .extensions
            .get::<RequestFacts>()
            .is_some_and(|facts| facts.secure);
        Ok(SessionCookie(
            parts
                .headers
                .get(axum::http::header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .and_then(|h| cookie_value(h, &cookie_name(SESSION_COOKIE, secure)))
                .map(str::to_owned),
        ))
    }
}

/// The signed-in caller of a console request, or a redirect to the sign-in page: what a
/// console route that needs someone signed in extracts.
pub struct SignedIn(pub Caller);

impl<S> FromRequestParts<S> for SignedIn
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let SessionCookie(token) = SessionCookie::from_request_parts(parts, state)
            .await
            .unwrap_or(SessionCookie(None));
        let state = AppState::from_ref(state);
        match token {
            Some(token) => match state.services.session_caller(&token).await {
                Ok(caller) => Ok(SignedIn(caller)),
                Err(_) => Err(Redirect::to("/sign-in").into_response()),
            },
            None => Err(Redirect::to("/sign-in").into_response()),
        }
    }
}
