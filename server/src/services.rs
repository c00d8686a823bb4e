//! The service layer: every rule and authorization check lives here. REST handlers and
//! console server functions are thin callers of [`Services`].

use app::backend::{BackendError, ConsoleBackend};
use app::domain::SystemStatus;

use crate::store::{Store, StoreError};

/// The application's services over one store.
#[derive(Clone, Debug)]
pub struct Services {
    store: Store,
}

impl Services {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// Logs the internal detail and returns a message that is safe to show anyone.
fn internal(context: &str, err: StoreError) -> BackendError {
    tracing::error!(error = %err, "{context}");
    BackendError {
        code: "internal_error",
        message: "Something went wrong on our side. Try again; if it keeps happening, \
                  contact support with the request id."
            .to_string(),
    }
}

#[async_trait::async_trait]
impl ConsoleBackend for Services {
    async fn system_status(&self) -> Result<SystemStatus, BackendError> {
        self.store
            .system_status()
            .await
            .map_err(|e| internal("reading system status failed", e))
    }
}
