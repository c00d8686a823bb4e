//! CSRF protection for the browser, and the request facts console cookies depend on (HTTPS
//! or not, the client's address) handed to server functions. Every console response makes
//! sure the browser holds an HttpOnly, SameSite=Strict `enclave_csrf` cookie (`__Host-` named
//! over HTTPS); every state-changing request outside the bearer-token API must echo the
//! page's token in the `csrf_token` form field or the `X-CSRF-Token` header, or it is refused
//! with 403 and nothing happens. Signed out, the token is the cookie's (double submit);
//! signed in, it is derived from the session ([`session_bound_token`]). A cross-site page can
//! make the browser send the cookies but can never read them, so it cannot forge the echo.

use app::session::{
    cookie, cookie_name, cookie_value, CsrfToken, RequestFacts, CSRF_COOKIE, CSRF_FIELD,
    CSRF_HEADER, SESSION_COOKIE,
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
    hex::encode(bytes)
}

/// Whether the request came over HTTPS (directly or through a proxy that says so).
pub fn is_https(headers: &axum::http::HeaderMap, force_secure: bool) -> bool {
    force_secure
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The token a signed-in browser's forms must echo: derived from its session token, so it
/// is bound to the session. Someone who can plant cookies (a sibling subdomain, a plain-HTTP
/// response) can set a CSRF cookie of their choosing, but cannot know this value; and
/// signing in changes it. The session token is 256 random bits, so the hash reveals nothing.
pub fn session_bound_token(session_token: &str) -> String {
    hex::encode(Sha256::digest(
        format!("enclave csrf v1\0{session_token}").as_bytes(),
    ))
}

fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
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

/// What the operator said about the network in front of the server.
#[derive(Clone, Debug, Default)]
pub struct FrontDoor {
    /// Mark cookies `Secure` even when the request does not say it came over HTTPS.
    pub force_secure: bool,
    /// The header a trusted reverse proxy puts the client's address in; `None` means the
    /// socket's peer is the client (any such header is the client's own claim, ignored).
    pub client_address_header: Option<axum::http::HeaderName>,
}

impl FrontDoor {
    /// The client's address: from the configured header's last entry (the one the proxy
    /// itself added; earlier entries are whatever the client sent), else the socket's peer.
    fn client_address(&self, request: &Request) -> String {
        self.client_ip(request.headers(), request.extensions())
            .map_or_else(|| "unknown".into(), |ip| ip.to_string())
    }

    /// [`FrontDoor::client_address`] from a request's parts.
    pub fn client_ip(
        &self,
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> Option<std::net::IpAddr> {
        let from_header = self.client_address_header.as_ref().and_then(|name| {
            headers
                .get_all(name)
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
        });
        from_header.or_else(|| {
            extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip())
        })
    }
}

/// The middleware.
pub async fn protect(front_door: FrontDoor, request: Request, next: Next) -> Response {
    let force_secure = front_door.force_secure;
    let path = request.uri().path();
    // The API has no cookies; the bundle under /pkg is cached publicly, so it must never
    // carry anyone's cookie.
    if path.starts_with("/api/") || path.starts_with("/pkg/") {
        return next.run(request).await;
    }
    let secure = is_https(request.headers(), force_secure);
    let cookies = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let existing = cookie_value(cookies, &cookie_name(CSRF_COOKIE, secure))
        .filter(|v| well_formed(v))
        .map(str::to_owned);
    // Signed in: the token is the session's own; otherwise the random one in the cookie.
    let expected = cookie_value(cookies, &cookie_name(SESSION_COOKIE, secure))
        .filter(|v| well_formed(v))
        .map(session_bound_token)
        .or_else(|| existing.clone());
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );

    let mut request = if changes_state {
        let Some(expected) = expected.as_deref() else {
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

    let (cookie_token, new) = match existing {
        Some(token) => (token, false),
        None => (fresh_token(), true),
    };
    // What this page's forms carry.
    let token = expected.unwrap_or_else(|| cookie_token.clone());
    let client = front_door.client_address(&request);
    request.extensions_mut().insert(CsrfToken(token.clone()));
    request
        .extensions_mut()
        .insert(RequestFacts { secure, client });
    let mut response = next.run(request).await;
    if new {
        if let Ok(value) =
            HeaderValue::from_str(&cookie(CSRF_COOKIE, &cookie_token, "Strict", None, secure))
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
