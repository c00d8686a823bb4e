//! `POST /sign-in` and `POST /sign-out`: plain form posts (they work without the wasm) that
//! answer with a redirect. The session token lives only in an HttpOnly cookie.

use std::net::SocketAddr;

use app::session::SESSION_COOKIE;
use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;

use super::{csrf, SessionCookie};
use crate::http::AppState;
use crate::services::ErrorKind;

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Pages must not be served from the browser's cache after the session changes.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    SessionCookie(previous): SessionCookie,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if form.email.trim().is_empty() || form.password.is_empty() {
        return no_store(Redirect::to("/sign-in?error=missing_fields").into_response());
    }
    let client = peer.ip().to_string();
    match state
        .services
        .sign_in(&form.email, &form.password, &client, previous.as_deref())
        .await
    {
        Ok(signed_in) => {
            let secure = csrf::is_https(&headers, state.secure_cookies);
            let cookie = csrf::cookie(
                SESSION_COOKIE,
                &signed_in.token,
                "Lax",
                Some(signed_in.max_age_secs),
                secure,
            );
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            no_store(response)
        }
        Err(e) => {
            let code = match e.kind {
                ErrorKind::TooManyRequests => "too_many_attempts",
                ErrorKind::Unauthenticated => "invalid_credentials",
                _ => "unavailable",
            };
            no_store(Redirect::to(&format!("/sign-in?error={code}")).into_response())
        }
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    SessionCookie(session): SessionCookie,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = session {
        if let Err(e) = state.services.sign_out(&token).await {
            tracing::warn!(error = %e, "ending a session failed");
        }
    }
    let secure = csrf::is_https(&headers, state.secure_cookies);
    let mut response = Redirect::to("/sign-in?signed_out=1").into_response();
    if let Ok(value) =
        HeaderValue::from_str(&csrf::cookie(SESSION_COOKIE, "", "Lax", Some(0), secure))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    no_store(response)
}
