//! The console session as both sides see it: cookie names, the CSRF form field, and what the
//! page knows about the signed-in person. Pure; shared by browser and server.

use serde::{Deserialize, Serialize};

/// HttpOnly cookie holding the session token (only its hash is stored server-side).
pub const SESSION_COOKIE: &str = "enclave_session";
/// HttpOnly, SameSite=Strict cookie holding the CSRF token forms must echo.
pub const CSRF_COOKIE: &str = "enclave_csrf";
/// One-shot cookie carrying a just-created API key from the create form to the page that
/// shows it once (HttpOnly, SameSite=Strict, Path=/api-keys, two minutes).
pub const NEW_KEY_COOKIE: &str = "enclave_new_key";
/// The hidden form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The header carrying the CSRF token on scripted requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The header on a page read that a live update made (not the person): the page renders as
/// any other, but its session lookups are not activity, so an open page that only follows
/// changes never keeps an idle session alive.
pub const LIVE_REFRESH_HEADER: &str = "x-enclave-live-refresh";

/// This request's CSRF token, put in the request's extensions by the server's CSRF layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsrfToken(pub String);

/// Facts about this request that cookies depend on, put in the request's extensions by the
/// server's CSRF layer: whether it came over HTTPS (so cookies are marked `Secure`) and the
/// client's address (sign-in attempts are limited per address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFacts {
    pub secure: bool,
    pub client: String,
}

/// The name a console cookie goes by. Over HTTPS it carries a prefix browsers enforce, so a
/// sibling subdomain (or a plain-HTTP response) cannot plant or overwrite it: `__Host-`
/// (this exact host, `Path=/`, `Secure`) for every cookie set at `/`, `__Secure-` for the
/// one-shot new-key cookie, which is scoped to `/api-keys`.
pub fn cookie_name(base: &str, secure: bool) -> String {
    match (secure, base) {
        (false, _) => base.to_string(),
        (true, NEW_KEY_COOKIE) => format!("__Secure-{base}"),
        (true, _) => format!("__Host-{base}"),
    }
}

/// A console cookie: always `Path=/` and HttpOnly; over HTTPS `Secure` and `__Host-` named
/// ([`cookie_name`]).
pub fn cookie(
    base_name: &str,
    value: &str,
    same_site: &str,
    max_age: Option<i64>,
    secure: bool,
) -> String {
    let name = cookie_name(base_name, secure);
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// A session the server granted: the token for the HttpOnly cookie, and how long it lasts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionGrant {
    pub token: String,
    pub max_age_secs: i64,
}

/// The signed-in person, as the console shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub email: String,
    pub is_operator: bool,
}

/// What every page needs: who is signed in (if anyone) and the token its forms carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub user: Option<SessionUser>,
    pub csrf_token: String,
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// Why a sign-in was refused, as carried in `/sign-in?error=…` after a form post
/// ([`sign_in_error_code`] picks the code).
pub fn sign_in_error_message(code: &str) -> Option<&'static str> {
    match code {
        "invalid_credentials" => Some("The email or password is incorrect."),
        "too_many_attempts" => {
            Some("Too many failed sign-in attempts. Wait 15 minutes, then try again.")
        }
        "missing_fields" => Some("Enter your email and your password."),
        "too_long" => Some(
            "That email or password is too long: an email has at most 254 characters, a \
             password at most 1024.",
        ),
        "unavailable" => Some("Signing in is unavailable right now. Try again in a moment."),
        _ => None,
    }
}

/// The `/sign-in?error=…` code for a refused sign-in.
pub fn sign_in_error_code(error: &crate::domain::ConsoleError) -> &'static str {
    use crate::domain::ErrorCode;
    // The service's words tell its refusals of one code apart: a length limit from an empty
    // field, and a server busy checking passwords from an account locked by failures.
    match error.code {
        ErrorCode::TooManyAttempts if error.message.contains("busy") => "unavailable",
        ErrorCode::TooManyAttempts => "too_many_attempts",
        ErrorCode::InvalidCredentials => "invalid_credentials",
        ErrorCode::InvalidInput if error.message.contains("at most") => "too_long",
        ErrorCode::InvalidInput => "missing_fields",
        _ => "unavailable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let header = "a=1; enclave_session=abc; enclave_session_old=zzz";
        assert_eq!(cookie_value(header, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(header, "enclave"), None);
        assert_eq!(cookie_value("", SESSION_COOKIE), None);
    }

    #[test]
    fn only_known_error_codes_become_messages() {
        assert!(sign_in_error_message("invalid_credentials").is_some());
        assert!(sign_in_error_message("<script>").is_none());
    }
}
