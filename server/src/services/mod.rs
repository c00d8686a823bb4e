//! The service layer: every rule and every authorization check lives here. REST handlers,
//! console server functions, the operator CLI and the reconciler are thin callers of
//! [`Services`]; each call names its [`Caller`].

mod accounts;
mod clock;
mod error;
mod names;
mod network;
mod principal;
mod sessions;

use std::sync::Arc;

use app::backend::{BackendError, ConsoleBackend};
use app::domain::{RegionCatalog, SystemStatus};
use app::session::SessionUser;

use crate::store::Store;

pub use accounts::{CreatedApiKey, KeyOwner};
pub use clock::Clock;
pub use error::{ErrorKind, ServiceError};
pub use network::{EndpointDetails, ProjectPage, ProjectRef};
pub use principal::{Caller, Principal};
pub use sessions::{SignedIn, SIGN_IN_WINDOW_MS};

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
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            endpoint_limit: 10,
            hostname_domain: "db.enclave.internal".to_string(),
            session_idle_ms: 2 * 3_600_000,
            session_absolute_ms: 7 * 86_400_000,
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
}

impl Services {
    pub fn new(store: Store, catalog: RegionCatalog, config: ServiceConfig, clock: Clock) -> Self {
        Self {
            store,
            catalog: Arc::new(catalog),
            config: Arc::new(config),
            clock,
        }
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
}

#[async_trait::async_trait]
impl ConsoleBackend for Services {
    async fn system_status(&self) -> Result<SystemStatus, BackendError> {
        self.store
            .system_status()
            .await
            .map_err(|e| ServiceError::internal("reading system status failed", e).into())
    }

    async fn session_user(&self, token: &str) -> Result<Option<SessionUser>, BackendError> {
        Ok(match self.session_principal(token).await? {
            Some(Principal::User {
                email, is_operator, ..
            }) => Some(SessionUser { email, is_operator }),
            _ => None,
        })
    }
}
