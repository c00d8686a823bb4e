//! Server functions: thin wrappers that hand each call to the service layer.

use leptos::prelude::*;

use crate::domain::SystemStatus;

/// Reads a fresh snapshot of the control plane.
#[server(prefix = "/fn", endpoint = "system_status")]
pub async fn get_system_status() -> Result<SystemStatus, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .system_status()
        .await
        .map_err(|e| ServerFnError::new(e.message))
}
