//! What the data-plane proxy asks of the control plane: which project a connection names,
//! where that project's Postgres listens, and a record of every connection it refused. Only
//! the data plane (and the server and operators) may ask; operators set upstream addresses.

use app::domain::ProjectId;
use serde_json::json;

use super::{accounts::require_operator, Caller, ErrorKind, Principal, ServiceError, Services};
use crate::store::DeniedConnectionRow;

/// A connection's destination, as the proxy needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionTarget {
    pub project_id: String,
    /// `host:port` of the project's Postgres; `None` until an operator sets it.
    pub upstream: Option<String>,
}

fn data_plane_only(caller: &Caller) -> Result<(), ServiceError> {
    match caller.principal {
        Principal::DataPlane | Principal::System | Principal::OperatorCli => Ok(()),
        _ => Err(ServiceError::new(
            ErrorKind::Forbidden,
            "permission_denied",
            "Only the data plane may ask this.",
        )),
    }
}

impl Services {
    /// The project a client names by its endpoint (the first label of its host name).
    pub async fn connection_target(
        &self,
        caller: &Caller,
        endpoint: &str,
    ) -> Result<Option<ConnectionTarget>, ServiceError> {
        data_plane_only(caller)?;
        let Some(project) = self.store.project_by_endpoint_label(endpoint).await? else {
            return Ok(None);
        };
        let upstream = self.store.project_upstream(&project.id).await?;
        Ok(Some(ConnectionTarget {
            project_id: project.id,
            upstream,
        }))
    }

    /// Records a refused connection (the project's page lists recent ones).
    pub async fn record_denied_connection(
        &self,
        caller: &Caller,
        row: DeniedConnectionRow,
    ) -> Result<(), ServiceError> {
        data_plane_only(caller)?;
        Ok(self.store.insert_denied_connection(&row).await?)
    }

    /// Sets where a project's Postgres listens (`host:port`; operators only).
    pub async fn set_project_upstream(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        address: &str,
    ) -> Result<(), ServiceError> {
        require_operator(caller)?;
        let address = address.trim();
        let valid = address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !valid {
            return Err(ServiceError::new(
                ErrorKind::BadRequest,
                "invalid_input",
                format!("Invalid address: {address:?} is not host:port, e.g. 10.0.3.12:5432."),
            ));
        }
        let project = self
            .store
            .project(project_id.as_str())
            .await?
            .ok_or_else(|| super::principal::project_not_found(project_id.as_str()))?;
        let audit = self
            .audit(caller, "project.set_upstream", &project.id)
            .org(&project.org_id)
            .project(&project.id)
            .after(json!({"address": address}));
        self.store
            .set_project_upstream(&project.id, address, self.clock.now_ms(), &audit)
            .await?;
        Ok(())
    }
}
