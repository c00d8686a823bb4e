//! The one error type of the service layer: a kind (which becomes an HTTP status), a stable
//! code and a message a person can act on. Internal failures are logged here and reach callers
//! only as a safe, generic message.

use app::backend::BackendError;
use app::domain::FieldError;

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

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServiceError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
}

impl ServiceError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", message)
    }

    /// Logs what went wrong (never shown to the caller) and returns the safe answer.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "{context}");
        Self::new(
            ErrorKind::Internal,
            "internal_error",
            "Something went wrong on our side. Try again; if it keeps happening, contact \
             support with the request id.",
        )
    }
}

impl From<FieldError> for ServiceError {
    fn from(err: FieldError) -> Self {
        Self::new(
            ErrorKind::BadRequest,
            "invalid_input",
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
            code: err.code,
            message: err.message,
        }
    }
}
