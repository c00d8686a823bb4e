//! CSRF protection for the browser (double-submit token), and the request facts console
//! cookies depend on (HTTPS or not, the client's address) handed to server functions. Every console response makes sure
//! the browser holds an HttpOnly, SameSite=Strict `enclave_csrf` cookie; every
//! state-changing request outside the bearer-token API must echo that value in the
//! `csrf_token` form field or the `X-CSRF-Token` header, or it is refused with 403 and
//! nothing happens. A cross-site page can make the browser send the cookie but can never read
//! it, so it cannot forge the echo.

use app::session::{
    cookie, cookie_value, CsrfToken, RequestFacts, CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER,
};
use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Form bodies larger than this are not buffered for the check (and are refused).
const MAX_FORM_BYTES: usize = 64 * 1024;

fn fresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the request came over HTTPS (directly or through a proxy that says so).
fn is_https(headers: &axum::http::HeaderMap, force_secure: bool) -> bool {
    force_secure
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

fn refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "This form has expired or was sent from another site, so nothing was changed. \
         Go back, reload the page and try again.",
    )
        .into_response()
}

/// The middleware. `force_secure` marks the cookie `Secure` regardless of the request.
pub async fn protect(force_secure: bool, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // The API has no cookies; the bundle under /pkg is cached publicly, so it must never
    // carry anyone's cookie.
    if path.starts_with("/api/") || path.starts_with("/pkg/") {
        return next.run(request).await;
    }
    let existing = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| cookie_value(h, CSRF_COOKIE))
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let secure = is_https(request.headers(), force_secure);
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );

    let mut request = if changes_state {
        let Some(expected) = existing.as_deref() else {
            return refused();
        };
        let header_token = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match header_token {
            Some(given) if same(&given, expected) => request,
            Some(_) => return refused(),
            None => {
                // Look for the field in a URL-encoded form body, then hand the body on.
                let is_form = request
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
                if !is_form {
                    return refused();
                }
                let (parts, body) = request.into_parts();
                let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
                    return refused();
                };
                let given = form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == CSRF_FIELD)
                    .map(|(_, v)| v.into_owned());
                if !given.is_some_and(|g| same(&g, expected)) {
                    return refused();
                }
                Request::from_parts(parts, Body::from(bytes))
            }
        }
    } else {
        request
    };

    let (token, new) = match existing {
        Some(token) => (token, false),
        None => (fresh_token(), true),
    };
    let client = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    request.extensions_mut().insert(CsrfToken(token.clone()));
    request
        .extensions_mut()
        .insert(RequestFacts { secure, client });
    let mut response = next.run(request).await;
    if new {
        if let Ok(value) =
            HeaderValue::from_str(&cookie(CSRF_COOKIE, &token, "Strict", None, secure))
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
