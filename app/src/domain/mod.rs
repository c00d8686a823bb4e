//! Domain types shared by the browser and the server. Pure data and parsing: no I/O.

pub mod access;
pub mod account;
pub mod activity;
pub mod consumer_network;
pub mod error_code;
pub mod ids;
pub mod ip_allow;
pub mod region;
pub mod setup;
pub mod status;
pub mod tenancy;
pub mod webhook;

pub use access::{decide, AccessDecision, AccessInput, AccessReason, EndpointAssignment};
pub use account::{
    format_time, ActivityView, AllowedAccountView, AllowedIpView, ApiKeyView, ApiKeysView,
    DeniedConnectionView, Done, EndpointSummary, Flash, LastConnectionView, NewKeyView,
    OperatorTrialsView, OrgPageView, OrgSummary, ProjectEndpointView, ProjectPageView,
    ProjectSummary, ProviderProblemView, ProviderStatusView, RolloutView, TrialReviewView,
    TrialView, UnassignedRequestView,
};
pub use activity::{
    activity_csv, ActivityEntry, ActivityFilter, ActivityPageView, ACTIVITY_EXPORT_MAX,
    ACTIVITY_PAGE, ACTIVITY_PAGE_MAX,
};
pub use consumer_network::ConsumerNetwork;
pub use error_code::{ConsoleError, ErrorCode, ErrorKind, SIGN_IN_FIRST};
pub use ids::{
    deceptive_char, AwsAccountId, Cloud, FieldError, Label, OrgId, ProjectId, RegionId,
    VpcEndpointId, LINK_ID_PREFIX, PSC_PREFIX,
};
pub use ip_allow::{AllowedIpRule, IpAllowEntry, MAX_ALLOWED_IPS};
pub use region::{Region, RegionCatalog};
pub use setup::{AwsDetails, SetupPageView, SetupStep};
pub use status::{DatabaseBackend, StatusReport, SystemStatus};
pub use tenancy::{
    private_networking_entitled, EndpointState, Plan, Role, RolloutState, SettingState, Trial,
    TrialState, API_KEY_MAX_EXPIRY_DAYS,
};
pub use webhook::{
    parse_webhook_url, WebhookDeliveryView, WebhookEvent, WebhookView, WebhooksPageView,
    DEFAULT_REFUSAL_THRESHOLD, MAX_WEBHOOKS_PER_ORG,
};
