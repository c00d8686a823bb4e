//! The port through which server functions reach the service layer (server only).
//!
//! The `enclave` binary implements [`ConsoleBackend`] on top of its service layer and
//! provides it as Leptos context for every request; this keeps SQL and business rules out of
//! the console crate.

use std::sync::Arc;

use crate::{
    domain::{
        ApiKeysView, AwsAccountId, Done, Flash, IpAllowEntry, Label, OrgId, OrgPageView,
        OrgSummary, ProjectId, ProjectPageView, RegionId, SetupStep, StatusReport, VpcEndpointId,
    },
    session::SessionUser,
};

/// Errors the backend reports to server functions: the typed console error. The message is
/// safe to show a user; internal details are logged by the implementation, never returned.
pub use crate::domain::ConsoleError as BackendError;

/// Every change the console can make, typed: server functions parse the form into one of
/// these and hand it to [`ConsoleBackend::change`], which calls the service layer (where the
/// rules, confirmations and interlocks are checked under the lock of the write).
#[derive(Clone, Debug)]
pub enum ConsoleChange {
    CreateApiKey {
        /// `None`: the signed-in person's own key.
        org: Option<OrgId>,
        name: String,
        expires_in_days: Option<i64>,
    },
    RevokeApiKey {
        id: String,
    },
    AssignEndpoint {
        org: OrgId,
        region: RegionId,
        endpoint: VpcEndpointId,
        label: Label,
    },
    RemoveEndpoint {
        org: OrgId,
        region: RegionId,
        endpoint: VpcEndpointId,
        acknowledge: bool,
    },
    AllowAwsAccount {
        org: OrgId,
        account: AwsAccountId,
        note: Label,
    },
    DisallowAwsAccount {
        org: OrgId,
        account: AwsAccountId,
    },
    SetPublicAccess {
        project: ProjectId,
        block: bool,
        /// The confirmation form was used (both directions need it).
        confirmed: bool,
        acknowledge_lockout: bool,
    },
    SetReportOnly {
        project: ProjectId,
        report_only: bool,
    },
    AddAllowedIp {
        project: ProjectId,
        entry: IpAllowEntry,
        note: Label,
        expires_in_days: Option<i64>,
        acknowledge: bool,
    },
    RemoveAllowedIp {
        project: ProjectId,
        entry: String,
        acknowledge: bool,
    },
    Restrict {
        project: ProjectId,
        endpoint: VpcEndpointId,
        acknowledge: bool,
    },
    Unrestrict {
        project: ProjectId,
        endpoint: VpcEndpointId,
        confirm_open: bool,
        acknowledge: bool,
    },
    SaveAwsDetails {
        project: ProjectId,
        vpc_id: String,
        subnet_ids: String,
        security_group_id: String,
    },
    /// Step 2 on Google Cloud or Azure: the GCP project or Azure resource group, the network
    /// and the subnet.
    SaveConsumerNetwork {
        project: ProjectId,
        owner: String,
        network: String,
        subnet: String,
    },
    /// Where the guided setup resumes (an admin moved to `step`).
    RecordSetupStep {
        project: ProjectId,
        step: SetupStep,
    },
    RequestTrial {
        org: OrgId,
        use_case: String,
        regions: Vec<String>,
        expected_endpoints: String,
    },
    ApproveTrial {
        id: String,
        /// The trial's last day; `None` for the default length.
        ends_on: Option<chrono::NaiveDate>,
    },
    DeclineTrial {
        id: String,
        reason: String,
    },
    /// Registers a webhook receiver (its secret comes back once, as `Done::new_key`).
    CreateWebhook {
        org: OrgId,
        url: String,
        events: Vec<String>,
        refusal_threshold: Option<i64>,
    },
    DeleteWebhook {
        org: OrgId,
        id: String,
    },
    /// "Send again".
    RedeliverWebhook {
        org: OrgId,
        delivery: String,
    },
}

#[async_trait::async_trait]
pub trait ConsoleBackend: Send + Sync + 'static {
    /// The control plane's state for the overview page: whether it answers, and for an
    /// operator's session the internals.
    async fn status_report(&self, session: Option<&str>) -> Result<StatusReport, BackendError>;

    /// Signs a person in from `client` (the address failed attempts are counted against),
    /// replacing the browser's `previous` session if it had one.
    async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
        previous: Option<&str>,
    ) -> Result<crate::session::SessionGrant, BackendError>;

    /// Ends a session (an unknown one is already ended).
    async fn sign_out(&self, token: &str) -> Result<(), BackendError>;

    /// The person a session token belongs to, if the session is live.
    async fn session_user(&self, token: &str) -> Result<Option<SessionUser>, BackendError>;

    /// The organizations of the session's person.
    async fn organizations(&self, session: &str) -> Result<Vec<OrgSummary>, BackendError>;

    /// The session's person's API keys, and those of the organizations they administer.
    async fn api_keys(&self, session: &str) -> Result<ApiKeysView, BackendError>;

    /// An organization's page; "not found" for non-members.
    async fn org_page(&self, session: &str, org_id: &str) -> Result<OrgPageView, BackendError>;

    /// A project's Network Security page; "not found" for non-members.
    async fn project_page(
        &self,
        session: &str,
        project_id: &str,
    ) -> Result<ProjectPageView, BackendError>;

    /// A page of an organization's activity, narrowed by `filter`, older than `cursor`;
    /// "not found" for non-members.
    async fn org_activity(
        &self,
        session: &str,
        org_id: &str,
        filter: &crate::domain::ActivityFilter,
        cursor: Option<i64>,
    ) -> Result<crate::domain::ActivityPageView, BackendError>;

    /// One step of a project's guided setup (reading it records nothing).
    async fn setup_page(
        &self,
        session: &str,
        project_id: &str,
        step: i64,
    ) -> Result<crate::domain::SetupPageView, BackendError>;

    /// Trial requests for review (operators only; "not found" for everyone else).
    async fn operator_trials(
        &self,
        session: &str,
    ) -> Result<crate::domain::OperatorTrialsView, BackendError>;

    /// An organization's webhook receivers and their recent deliveries (admins).
    async fn webhooks_page(
        &self,
        session: &str,
        org_id: &str,
    ) -> Result<crate::domain::WebhooksPageView, BackendError>;

    /// Every organization, for platform operators; "not found" for everyone else.
    async fn operator_orgs(&self, session: &str) -> Result<Vec<OrgSummary>, BackendError>;

    /// The cloud provider's health and unassigned connection requests, for operators;
    /// "not found" for everyone else.
    async fn operator_provider(
        &self,
        session: &str,
    ) -> Result<crate::domain::ProviderStatusView, BackendError>;

    /// Makes one console change as the session's person, recorded with the HTTP request's id;
    /// the answer says what happened in words for the page (and carries a created API key's
    /// secret, once).
    async fn change(
        &self,
        session: &str,
        request_id: Option<String>,
        change: ConsoleChange,
    ) -> Result<Done, BackendError>;

    /// The outcome of a change, sealed for the address a plain form post is sent back to
    /// (so the page can show it without JavaScript and without a cookie); bound to the
    /// session, so nobody can craft a link that shows someone else a made-up outcome.
    fn seal_outcome(&self, session: &str, outcome: &Flash) -> String;

    /// The outcome sealed by [`Self::seal_outcome`] for this session, if it is genuine.
    fn open_outcome(&self, session: &str, sealed: &str) -> Option<Flash>;
}

/// The shared handle server functions take from context.
pub type SharedBackend = Arc<dyn ConsoleBackend>;

/// The backend of the current request, or a clear error if the server was wired without one.
pub fn backend() -> Result<SharedBackend, BackendError> {
    leptos::prelude::use_context::<SharedBackend>().ok_or_else(|| {
        tracing::error!("ConsoleBackend missing from Leptos context");
        BackendError::new(
            crate::domain::ErrorCode::InternalError,
            "The server is not ready; try again shortly.",
        )
    })
}
