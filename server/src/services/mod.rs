//! The service layer: every rule and every authorization check lives here. REST handlers,
//! console server functions, the operator CLI and the reconciler are thin callers of
//! [`Services`]; each call names its [`Caller`].

mod accounts;
mod activity;
mod aws_accounts;
mod clock;
mod console_changes;
mod console_pages;
mod data_plane;
mod error;
mod impact;
mod names;
mod network;
mod principal;
mod provider;
mod sessions;
mod setup;
mod trials;
mod webhooks;

use std::sync::Arc;

use app::domain::RegionCatalog;

use crate::store::Store;

pub use accounts::{CreatedApiKey, KeyOwner};
pub use activity::ActivityRange;
pub use clock::Clock;
pub use data_plane::{valid_host_label, Rollout};
pub use error::{ErrorKind, ServiceError};
pub use impact::{Acknowledgement, Impact, NetworkChange, IMPACT_WINDOW_MS};
pub use network::{AllowListEdit, EndpointDetails, ProjectBatch, ProjectRef};
use principal::project_not_found as network_project_not_found;
pub use principal::{Caller, Principal};
pub use provider::ProviderStatus;
pub use sessions::{
    SignedIn, MAX_EMAIL_CHARS, MAX_FAILURES_PER_ACCOUNT_AND_CLIENT, MAX_FAILURES_PER_CLIENT,
    MAX_PASSWORD_CHARS, SIGN_IN_WINDOW_MS,
};
pub use setup::SetupProgress;
pub use trials::{end_of_day_ms, TrialApplication, TrialStatus, DEFAULT_TRIAL_DAYS};
pub use webhooks::{
    webhook_address_allowed, CreatedWebhook, DeliveryLogEntry, DELIVERY_LOG_LIMIT,
    TRIAL_ENDING_NOTICE_MS,
};

/// Settings the rules depend on.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Endpoint assignments allowed per organization per region.
    pub endpoint_limit: i64,
    /// The DNS domain project hostnames live under (`ep-….<region>.<cloud>.<domain>`).
    pub hostname_domain: String,
    /// A console session ends after this long without a request…
    pub session_idle_ms: i64,
    /// …and in any case this long after sign-in.
    pub session_absolute_ms: i64,
    /// A proxy counts as live (and must acknowledge changes) this long after its heartbeat.
    pub proxy_live_window_ms: i64,
    /// Stored connection-evidence rows per project, at most.
    pub evidence_per_project: i64,
    /// Evidence, silent proxies and feed events older than this are pruned.
    pub evidence_retention_ms: i64,
    /// Webhooks may go to non-public addresses and plain http:// (operator's choice).
    pub webhooks_allow_private: bool,
    /// The first webhook retry's wait; each later one four times the previous (≤ 4 h).
    pub webhook_retry_base_ms: i64,
    /// A webhook delivery not accepted this long after its event is given up.
    pub webhook_give_up_ms: i64,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            endpoint_limit: 10,
            hostname_domain: "db.enclave.internal".to_string(),
            session_idle_ms: 2 * 3_600_000,
            session_absolute_ms: 7 * 86_400_000,
            proxy_live_window_ms: 10_000,
            evidence_per_project: 500,
            evidence_retention_ms: 7 * 86_400_000,
            webhooks_allow_private: false,
            webhook_retry_base_ms: 5_000,
            webhook_give_up_ms: 86_400_000,
        }
    }
}

/// The application's services over one store.
#[derive(Clone, Debug)]
pub struct Services {
    store: Store,
    catalog: Arc<RegionCatalog>,
    config: Arc<ServiceConfig>,
    clock: Clock,
    feed: crate::feed::Feed,
    /// Which cloud provider the reconciler runs, for the operator area.
    provider_name: Arc<std::sync::OnceLock<&'static str>>,
    /// Password checks run on blocking threads, this many at once.
    password_checks: Arc<sessions::PasswordChecks>,
    /// Session lookups through these services are not activity (see [`Services::quietly`]).
    quiet_sessions: bool,
}

impl Services {
    pub fn new(store: Store, catalog: RegionCatalog, config: ServiceConfig, clock: Clock) -> Self {
        Self {
            feed: crate::feed::Feed::new(store.clone()),
            store,
            catalog: Arc::new(catalog),
            config: Arc::new(config),
            clock,
            provider_name: Arc::default(),
            password_checks: Arc::default(),
            quiet_sessions: false,
        }
    }

    /// The same services, for a page read that a live update made rather than the person:
    /// its session lookups do not count as activity, so an open page that only follows
    /// changes never keeps an idle session alive.
    pub fn quietly(&self) -> Self {
        Self {
            quiet_sessions: true,
            ..self.clone()
        }
    }

    /// The change feed (data-plane streams and live pages read it).
    pub fn feed(&self) -> &crate::feed::Feed {
        &self.feed
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn catalog(&self) -> &RegionCatalog {
        &self.catalog
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The settings the rules were configured with.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }
}
