//! The stable error codes every entry point answers with (REST bodies, server functions,
//! the CLI's messages), as one enum shared by browser and server. The server maps each to
//! its HTTP status once (`server/src/services/error.rs`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    AcknowledgementRequired,
    ApiKeyRevoked,
    AwsAccountNotFound,
    ChangedMeanwhile,
    ConfirmationRequired,
    FeatureNotAvailable,
    InternalError,
    InvalidCredentials,
    InvalidDays,
    InvalidInput,
    NotConfirmed,
    NotFound,
    OrganizationNotFound,
    PermissionDenied,
    ProjectNotFound,
    RegionNotSupported,
    TooManyAllowedIps,
    TooManyApiKeys,
    TooManyAttempts,
    TooManyWebhooks,
    TrialActive,
    TrialNotNeeded,
    TrialRequestNotFound,
    TrialRequestNotPending,
    TrialRequestPending,
    Unauthenticated,
    Unauthorized,
    UserExists,
    UserNotFound,
    VpcEndpointInOtherRegion,
    VpcEndpointInUse,
    VpcEndpointLimitReached,
    VpcEndpointNotAssigned,
    VpcEndpointNotFound,
    VpcEndpointRemoved,
    VpcEndpointRestrictsProjects,
    WebhookDeliveryNotFound,
    WebhookNotFound,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 38] = [
        ErrorCode::AcknowledgementRequired,
        ErrorCode::ApiKeyRevoked,
        ErrorCode::AwsAccountNotFound,
        ErrorCode::ChangedMeanwhile,
        ErrorCode::ConfirmationRequired,
        ErrorCode::FeatureNotAvailable,
        ErrorCode::InternalError,
        ErrorCode::InvalidCredentials,
        ErrorCode::InvalidDays,
        ErrorCode::InvalidInput,
        ErrorCode::NotConfirmed,
        ErrorCode::NotFound,
        ErrorCode::OrganizationNotFound,
        ErrorCode::PermissionDenied,
        ErrorCode::ProjectNotFound,
        ErrorCode::RegionNotSupported,
        ErrorCode::TooManyAllowedIps,
        ErrorCode::TooManyApiKeys,
        ErrorCode::TooManyAttempts,
        ErrorCode::TooManyWebhooks,
        ErrorCode::TrialActive,
        ErrorCode::TrialNotNeeded,
        ErrorCode::TrialRequestNotFound,
        ErrorCode::TrialRequestNotPending,
        ErrorCode::TrialRequestPending,
        ErrorCode::Unauthenticated,
        ErrorCode::Unauthorized,
        ErrorCode::UserExists,
        ErrorCode::UserNotFound,
        ErrorCode::VpcEndpointInOtherRegion,
        ErrorCode::VpcEndpointInUse,
        ErrorCode::VpcEndpointLimitReached,
        ErrorCode::VpcEndpointNotAssigned,
        ErrorCode::VpcEndpointNotFound,
        ErrorCode::VpcEndpointRemoved,
        ErrorCode::VpcEndpointRestrictsProjects,
        ErrorCode::WebhookDeliveryNotFound,
        ErrorCode::WebhookNotFound,
    ];

    /// The code named by its wire name.
    pub fn parse(wire: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == wire)
    }

    /// The code as it travels (`feature_not_available`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::AcknowledgementRequired => "acknowledgement_required",
            ErrorCode::ApiKeyRevoked => "api_key_revoked",
            ErrorCode::AwsAccountNotFound => "aws_account_not_found",
            ErrorCode::ChangedMeanwhile => "changed_meanwhile",
            ErrorCode::ConfirmationRequired => "confirmation_required",
            ErrorCode::FeatureNotAvailable => "feature_not_available",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::InvalidDays => "invalid_days",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotConfirmed => "not_confirmed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::OrganizationNotFound => "organization_not_found",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::ProjectNotFound => "project_not_found",
            ErrorCode::RegionNotSupported => "region_not_supported",
            ErrorCode::TooManyAllowedIps => "too_many_allowed_ips",
            ErrorCode::TooManyApiKeys => "too_many_api_keys",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::TooManyWebhooks => "too_many_webhooks",
            ErrorCode::TrialActive => "trial_active",
            ErrorCode::TrialNotNeeded => "trial_not_needed",
            ErrorCode::TrialRequestNotFound => "trial_request_not_found",
            ErrorCode::TrialRequestNotPending => "trial_request_not_pending",
            ErrorCode::TrialRequestPending => "trial_request_pending",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::UserExists => "user_exists",
            ErrorCode::UserNotFound => "user_not_found",
            ErrorCode::VpcEndpointInOtherRegion => "vpc_endpoint_in_other_region",
            ErrorCode::VpcEndpointInUse => "vpc_endpoint_in_use",
            ErrorCode::VpcEndpointLimitReached => "vpc_endpoint_limit_reached",
            ErrorCode::VpcEndpointNotAssigned => "vpc_endpoint_not_assigned",
            ErrorCode::VpcEndpointNotFound => "vpc_endpoint_not_found",
            ErrorCode::VpcEndpointRemoved => "vpc_endpoint_removed",
            ErrorCode::VpcEndpointRestrictsProjects => "vpc_endpoint_restricts_projects",
            ErrorCode::WebhookDeliveryNotFound => "webhook_delivery_not_found",
            ErrorCode::WebhookNotFound => "webhook_not_found",
        }
    }
}

/// What kind of failure a code is: it decides the HTTP status (once, here) and the headline a
/// page shows.
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
            ErrorCode::TooManyApiKeys => ErrorKind::Unprocessable,
            ErrorCode::TooManyAttempts => ErrorKind::TooManyRequests,
            ErrorCode::TooManyWebhooks => ErrorKind::Unprocessable,
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
            ErrorCode::WebhookDeliveryNotFound => ErrorKind::NotFound,
            ErrorCode::WebhookNotFound => ErrorKind::NotFound,
        }
    }
}

/// What pages say (with a sign-in link) when nobody is signed in.
pub const SIGN_IN_FIRST: &str = "Sign in to see this page.";

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the code's wire name, as tests and logs read it.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_wire_names() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
    }
}

/// The error every server function answers with: the code (so a page can tell "sign in
/// again", "ask an admin", "not found", "conflict" and "our failure" apart) and a message a
/// person can act on. Travels as JSON (`{"code":…,"message":…}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ConsoleError {
    pub code: ErrorCode,
    pub message: String,
}

impl ConsoleError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        ErrorKind::of(self.code)
    }

    /// What a page says about this error: the kind's headline, then the message.
    pub fn for_people(&self) -> String {
        match self.kind() {
            ErrorKind::Unauthenticated => format!("Sign in again: {}", self.message),
            ErrorKind::Forbidden if self.code == ErrorCode::PermissionDenied => {
                format!(
                    "You are a member of this organization, so ask an admin: {}",
                    self.message
                )
            }
            ErrorKind::Conflict => format!("Conflict: {}", self.message),
            ErrorKind::Internal if self.message.starts_with("Something") => self.message.clone(),
            ErrorKind::Internal => format!("Something failed on our side: {}", self.message),
            _ => self.message.clone(),
        }
    }
}

impl From<crate::domain::FieldError> for ConsoleError {
    fn from(err: crate::domain::FieldError) -> Self {
        Self::new(
            ErrorCode::InvalidInput,
            format!("Invalid {}: {}", err.field, err.message),
        )
    }
}
