//! The one error type of the service layer: a kind (which becomes an HTTP status), a stable
//! code and a message a person can act on. Internal failures are logged here and reach callers
//! only as a safe, generic message.

pub use app::domain::ErrorKind;
use app::domain::{ConsoleError, ErrorCode, FieldError};

use crate::store::StoreError;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServiceError {
    pub kind: ErrorKind,
    pub code: ErrorCode,
    pub message: String,
}

impl ServiceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::of(code),
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// Logs what went wrong (never shown to the caller) and returns the safe answer.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "{context}");
        Self::new(
            ErrorCode::InternalError,
            "Something went wrong on our side. Try again; if it keeps happening, contact \
             support with the request id.",
        )
    }
}

impl From<FieldError> for ServiceError {
    fn from(err: FieldError) -> Self {
        Self::new(
            ErrorCode::InvalidInput,
            format!("Invalid {}: {}", err.field, err.message),
        )
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        Self::internal("database call failed", err)
    }
}

impl From<ServiceError> for ConsoleError {
    fn from(err: ServiceError) -> Self {
        ConsoleError::new(err.code, err.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code has one status, and the REST answer, the server function error and the
    /// CLI's exit all start from it.
    #[test]
    fn each_code_maps_to_one_status() {
        for code in ErrorCode::ALL {
            let err = ServiceError::new(code, "x");
            assert_eq!(err.kind, ErrorKind::of(code));
            let status = err.kind.status();
            let expected = match code.as_str() {
                "invalid_input" | "not_confirmed" => 400,
                "unauthenticated" | "unauthorized" | "invalid_credentials" => 401,
                "permission_denied" | "feature_not_available" => 403,
                c if c.ends_with("_not_found") || c == "not_found" => 404,
                "too_many_attempts" => 429,
                "internal_error" => 500,
                "invalid_days"
                | "region_not_supported"
                | "too_many_allowed_ips"
                | "too_many_api_keys"
                | "too_many_webhooks"
                | "vpc_endpoint_not_assigned" => 422,
                _ => 409,
            };
            assert_eq!(status, expected, "{code}");
            // The server function error keeps the code, travels as JSON and comes back equal.
            let console = ConsoleError::from(err);
            assert_eq!(console.code, code);
            let wire = serde_json::to_string(&console).unwrap();
            assert_eq!(
                serde_json::from_str::<ConsoleError>(&wire).unwrap(),
                console
            );
            // The page's words follow the kind: sign in, ask an admin, conflict, our failure.
            let page = console.for_people();
            let headline = match status {
                401 => Some("Sign in again: "),
                403 if code == ErrorCode::PermissionDenied => {
                    Some("You are a member of this organization, so ask an admin: ")
                }
                409 => Some("Conflict: "),
                500 => Some("Something failed on our side: "),
                _ => None,
            };
            match headline {
                Some(h) => assert!(page.starts_with(h), "{code}: {page}"),
                None => assert_eq!(page, "x", "{code}"),
            }
        }
    }
}
