//! The port through which server functions reach the service layer (server only).
//!
//! The `enclave` binary implements [`ConsoleBackend`] on top of its service layer and
//! provides it as Leptos context for every request; this keeps SQL and business rules out of
//! the console crate.

use std::sync::Arc;

use crate::{
    domain::{ApiKeysView, OrgPageView, OrgSummary, ProjectPageView, SystemStatus},
    session::SessionUser,
};

/// Errors the backend reports to server functions. The message is safe to show a user;
/// internal details are logged by the implementation, never returned here.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    pub code: &'static str,
    pub message: String,
}

#[async_trait::async_trait]
pub trait ConsoleBackend: Send + Sync + 'static {
    /// A snapshot of the control plane for the overview page.
    async fn system_status(&self) -> Result<SystemStatus, BackendError>;

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

    /// One step of a project's guided setup; records the step as where an admin left off.
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

    /// Every organization, for platform operators; "not found" for everyone else.
    async fn operator_orgs(&self, session: &str) -> Result<Vec<OrgSummary>, BackendError>;

    /// The cloud provider's health and unassigned connection requests, for operators;
    /// "not found" for everyone else.
    async fn operator_provider(
        &self,
        session: &str,
    ) -> Result<crate::domain::ProviderStatusView, BackendError>;
}

/// The shared handle server functions take from context.
pub type SharedBackend = Arc<dyn ConsoleBackend>;

/// The backend of the current request, or a clear error if the server was wired without one.
pub fn backend() -> Result<SharedBackend, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<SharedBackend>().ok_or_else(|| {
        tracing::error!("ConsoleBackend missing from Leptos context");
        leptos::prelude::ServerFnError::new("The server is not ready; try again shortly.")
    })
}
