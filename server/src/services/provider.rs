//! The cloud provider's state for operators: which provider runs, which of its calls are
//! failing (kept by the reconciler), and connection requests nobody assigned.

use super::{accounts::require_operator, Caller, ServiceError, Services};
use crate::store::{ConnectionRequestRow, ProviderProblemRow};

/// What the operator area and `enclave provider status` show.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProviderStatus {
    pub provider: &'static str,
    pub problems: Vec<ProviderProblemRow>,
    pub unassigned: Vec<ConnectionRequestRow>,
    /// Which instance does the background work, and until when it holds it unrenewed.
    pub background_work: Option<crate::store::LeaseRow>,
}

impl Services {
    /// Operators only.
    pub async fn provider_status(&self, caller: &Caller) -> Result<ProviderStatus, ServiceError> {
        require_operator(caller)?;
        Ok(ProviderStatus {
            provider: self.provider_name(),
            problems: self.store.provider_problems().await?,
            unassigned: self.store.unassigned_requests(200).await?,
            background_work: self
                .store
                .lease(crate::reconciler::RECONCILER_LEASE)
                .await?,
        })
    }

    /// The provider this instance runs (`simulator` until told otherwise at start).
    pub fn provider_name(&self) -> &'static str {
        self.provider_name.get().copied().unwrap_or("simulator")
    }

    /// Recorded once, at start.
    pub fn set_provider_name(&self, name: &'static str) {
        let _ = self.provider_name.set(name);
    }
}
