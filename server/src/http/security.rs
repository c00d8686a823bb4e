//! Security headers on every response, and the per-request CSP nonce that lets exactly the
//! server's own inline hydration script run (no `unsafe-inline`); `wasm-unsafe-eval` lets the
//! console's WebAssembly compile.

use axum::{
    extract::Request,
    http::{header, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use rand::RngCore;

/// The nonce of one response's inline scripts, placed in the request's extensions for the
/// renderer to pick up.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

fn fresh_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The policy of the REST API's answers: JSON, which loads nothing and runs nothing (no
/// page of ours is ever an API answer, so no nonce is needed).
const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Paths whose answers are data for one caller: never stored by a browser or a proxy.
fn is_private_data(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/fn/") || path.starts_with("/events/")
}

/// Adds the headers. `force_secure` says the server is served over HTTPS whatever the
/// request says (then, and when a proxy says so, browsers are told to use HTTPS only).
pub async fn headers(force_secure: bool, mut request: Request, next: Next) -> Response {
    let https = super::console::csrf::is_https(request.headers(), force_secure);
    let path = request.uri().path();
    let private_data = is_private_data(path);
    let nonce = if path.starts_with("/api/") {
        None
    } else {
        let nonce = fresh_nonce();
        request.extensions_mut().insert(CspNonce(nonce.clone()));
        Some(nonce)
    };
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    // Pages show who is signed in: never keep them where the back button can find them
    // after signing out.
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    // Nor any API or server-function answer: they carry one caller's data.
    if (is_html || private_data) && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    match nonce {
        Some(nonce) => {
            if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce)) {
                h.insert(header::CONTENT_SECURITY_POLICY, csp);
            }
        }
        None => {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(API_CONTENT_SECURITY_POLICY),
            );
        }
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    response
}
