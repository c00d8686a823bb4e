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
    TooManyAttempts,
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
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 34] = [
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
        ErrorCode::TooManyAttempts,
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
            ErrorCode::TooManyAttempts => "too_many_attempts",
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
