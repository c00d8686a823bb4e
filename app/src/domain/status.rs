//! What the overview page reports about the running control plane.

use serde::{Deserialize, Serialize};

/// Which database engine holds the control plane's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseBackend {
    Sqlite,
    Postgres,
}

impl DatabaseBackend {
    /// The name a person reads in the console.
    pub fn display_name(self) -> &'static str {
        match self {
            DatabaseBackend::Sqlite => "SQLite (embedded)",
            DatabaseBackend::Postgres => "PostgreSQL",
        }
    }
}

/// What the overview page reports. Anyone learns that the control plane and its database
/// answer; only operators see the internals ([`SystemStatus`]: engine, schema, counts,
/// version), which would otherwise tell a stranger what to attack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The database answered this request.
    pub database_reachable: bool,
    /// The internals, for operators only.
    pub detail: Option<SystemStatus>,
}

/// A snapshot of the control plane, read from the store (operators only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    pub database: DatabaseBackend,
    /// The newest applied schema migration (version number and description).
    pub schema_version: i64,
    pub schema_description: String,
    pub organizations: i64,
    pub projects: i64,
    pub server_version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_are_readable() {
        assert_eq!(DatabaseBackend::Sqlite.display_name(), "SQLite (embedded)");
        assert_eq!(DatabaseBackend::Postgres.display_name(), "PostgreSQL");
    }

    #[test]
    fn status_round_trips_through_json() {
        let status = SystemStatus {
            database: DatabaseBackend::Postgres,
            schema_version: 1,
            schema_description: "initial".into(),
            organizations: 2,
            projects: 3,
            server_version: "0.1.0".into(),
        };
        let json = serde_json::to_string(&status).unwrap();
        assert!(json.contains("\"database\":\"postgres\""));
        let back: SystemStatus = serde_json::from_str(&json).unwrap();
        assert_eq!(back, status);
    }
}
