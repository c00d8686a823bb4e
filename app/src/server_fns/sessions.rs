//! Signing in and out: two POST server functions behind plain forms. A full page load follows
//! either way (who is signed in changes every page), so the forms are posted as ordinary forms
//! with or without JavaScript, and each answers a page with a redirect: home (or back to the
//! sign-in page with `?error=…`) after signing in, the sign-in page after signing out. Called
//! as data (JSON), they answer with the outcome and the same HTTP status as the REST API.
//! The session token only ever travels in the HttpOnly session cookie; `csrf_token` is checked
//! by the server's middleware before either runs.

use leptos::prelude::*;

use crate::domain::ConsoleError;

#[cfg(feature = "ssr")]
use crate::{
    domain::ErrorCode,
    session::{cookie, RequestFacts, SESSION_COOKIE},
};

/// This request's facts (HTTPS or not, the client's address), as the server's middleware put
/// them in the request.
#[cfg(feature = "ssr")]
fn request_facts() -> RequestFacts {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestFacts>().cloned())
        .unwrap_or(RequestFacts {
            secure: true,
            client: "unknown".into(),
        })
}

/// Sets (or, with `None`, clears) the session cookie, and keeps the answer out of caches.
#[cfg(feature = "ssr")]
fn set_session_cookie(grant: Option<&crate::session::SessionGrant>) {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let secure = request_facts().secure;
    let value = match grant {
        Some(g) => cookie(
            SESSION_COOKIE,
            &g.token,
            "Lax",
            Some(g.max_age_secs),
            secure,
        ),
        None => cookie(SESSION_COOKIE, "", "Lax", Some(0), secure),
    };
    if let Ok(value) = http::HeaderValue::from_str(&value) {
        response.append_header(http::header::SET_COOKIE, value);
    }
    response.insert_header(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
}

/// Signs in with an email and a password. The refusal never says whether the email exists.
#[server(prefix = "/fn", endpoint = "sign_in")]
pub async fn sign_in(
    #[server(default)] email: String,
    #[server(default)] password: String,
    #[server(default)] csrf_token: String,
) -> Result<(), ConsoleError> {
    let _ = csrf_token;
    let plain_form = super::is_plain_form_post();
    let result = async {
        if email.trim().is_empty() || password.is_empty() {
            return Err(ConsoleError::new(
                ErrorCode::InvalidInput,
                "Enter your email and your password.",
            ));
        }
        let facts = request_facts();
        let previous = super::request_cookie(SESSION_COOKIE);
        crate::backend::backend()?
            .sign_in(&email, &password, &facts.client, previous.as_deref())
            .await
    }
    .await
    .map_err(super::with_request_id);
    match result {
        Ok(grant) => {
            set_session_cookie(Some(&grant));
            if plain_form {
                leptos_axum::redirect("/");
            }
            Ok(())
        }
        Err(e) => {
            if plain_form {
                leptos_axum::redirect(&format!(
                    "/sign-in?error={}",
                    crate::session::sign_in_error_code(&e)
                ));
            } else {
                super::answer_status(&e);
            }
            Err(e)
        }
    }
}

/// Ends this browser's session and clears its cookie (signed out already is not an error).
#[server(prefix = "/fn", endpoint = "sign_out")]
pub async fn sign_out(#[server(default)] csrf_token: String) -> Result<(), ConsoleError> {
    let _ = csrf_token;
    if let Some(token) = super::request_cookie(SESSION_COOKIE) {
        if let Err(e) = crate::backend::backend()?.sign_out(&token).await {
            tracing::warn!(error = %e.message, "ending a session failed");
        }
    }
    set_session_cookie(None);
    if super::is_plain_form_post() {
        leptos_axum::redirect("/sign-in?signed_out=1");
    }
    Ok(())
}
