//! The one error type of the service layer: a kind (which becomes an HTTP status), a stable
//! code and a message a person can act on. Internal failures are logged here and reach callers
//! only as a safe, generic message.

use app::backend::BackendError;
use app::domain::{ErrorCode, FieldError};

use crate::store::StoreError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is malformed (400).
    BadRequest,
    /// No or an invalid credential (401).
    Unauthenticated,
    /// Known caller, not allowed (403).
    Forbidden,
    /// Absent, or not visible to the caller (404).
    NotFound,
    /// The request conflicts with the current state (409).
    Conflict,
    /// Well-formed, but a rule refuses it (422).
    Unprocessable,
    /// Too many attempts; wait before trying again (429).
    TooManyRequests,
    /// Our fault (500).
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Unprocessable => 422,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::Internal => 500,
        }
    }
}

impl ErrorKind {
    /// Each code's kind, decided once.
    pub fn of(code: ErrorCode) -> Self {
        match code {
            ErrorCode::AcknowledgementRequired => ErrorKind::Conflict,
            ErrorCode::ApiKeyRevoked => ErrorKind::Conflict,
            ErrorCode::AwsAccountNotFound => ErrorKind::NotFound,
            ErrorCode::ChangedMeanwhile => ErrorKind::Conflict,
            ErrorCode::ConfirmationRequired => ErrorKind::Conflict,
            ErrorCode::FeatureNotAvailable => ErrorKind::Forbidden,
            ErrorCode::InternalError => ErrorKind::Internal,
            ErrorCode::InvalidCredentials => ErrorKind::Unauthenticated,
            ErrorCode::InvalidDays => ErrorKind::Unprocessable,
            ErrorCode::InvalidInput => ErrorKind::BadRequest,
            ErrorCode::NotConfirmed => ErrorKind::BadRequest,
            ErrorCode::NotFound => ErrorKind::NotFound,
            ErrorCode::OrganizationNotFound => ErrorKind::NotFound,
            ErrorCode::PermissionDenied => ErrorKind::Forbidden,
            ErrorCode::ProjectNotFound => ErrorKind::NotFound,
            ErrorCode::RegionNotSupported => ErrorKind::Unprocessable,
            ErrorCode::TooManyAllowedIps => ErrorKind::Unprocessable,
            ErrorCode::TooManyAttempts => ErrorKind::TooManyRequests,
            ErrorCode::TrialActive => ErrorKind::Conflict,
            ErrorCode::TrialNotNeeded => ErrorKind::Conflict,
            ErrorCode::TrialRequestNotFound => ErrorKind::NotFound,
            ErrorCode::TrialRequestNotPending => ErrorKind::Conflict,
            ErrorCode::TrialRequestPending => ErrorKind::Conflict,
            ErrorCode::Unauthenticated => ErrorKind::Unauthenticated,
            ErrorCode::Unauthorized => ErrorKind::Unauthenticated,
            ErrorCode::UserExists => ErrorKind::Conflict,
            ErrorCode::UserNotFound => ErrorKind::NotFound,
            ErrorCode::VpcEndpointInOtherRegion => ErrorKind::Conflict,
            ErrorCode::VpcEndpointInUse => ErrorKind::Conflict,
            ErrorCode::VpcEndpointLimitReached => ErrorKind::Conflict,
            ErrorCode::VpcEndpointNotAssigned => ErrorKind::Unprocessable,
            ErrorCode::VpcEndpointNotFound => ErrorKind::NotFound,
            ErrorCode::VpcEndpointRemoved => ErrorKind::Conflict,
            ErrorCode::VpcEndpointRestrictsProjects => ErrorKind::Conflict,
        }
    }
}

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

impl From<ServiceError> for BackendError {
    fn from(err: ServiceError) -> Self {
        BackendError {
            code: err.code.as_str(),
            message: err.message,
        }
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
                | "vpc_endpoint_not_assigned" => 422,
                _ => 409,
            };
            assert_eq!(status, expected, "{code}");
            let backend = BackendError::from(err);
            assert_eq!(backend.code, code.as_str());
        }
    }
}
