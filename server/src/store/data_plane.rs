//! What the data-plane proxy reads and writes: projects by endpoint name, upstream addresses,
//! refused connections.

use super::{Pool, ProjectRow, Store, StoreError};

/// A connection the proxy refused.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DeniedConnectionRow {
    pub project_id: String,
    pub vpc_endpoint_id: Option<String>,
    pub reason: String,
    pub message: String,
    pub client_addr: String,
    pub at: i64,
}

impl Store {
    /// The project whose hostname starts with `label.` (the Postgres "endpoint" a client
    /// names, e.g. `ep-bold-firefly-809439`). Only `[a-z0-9-]` labels are looked up, so the
    /// pattern can hold no wildcard.
    pub async fn project_by_endpoint_label(
        &self,
        label: &str,
    ) -> Result<Option<ProjectRow>, StoreError> {
        let label = label.trim().to_ascii_lowercase();
        if label.is_empty()
            || label.len() > 63
            || !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Ok(None);
        }
        let pattern = format!("{label}.%");
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ProjectRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM projects WHERE hostname LIKE $1 LIMIT 1",
                super::accounts::PROJECT_COLUMNS
            )))
            .bind(&pattern)
            .fetch_optional(pool)
            .await
        })?)
    }

    pub async fn project_upstream(&self, project_id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT address FROM project_upstreams WHERE project_id = $1")
                .bind(project_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(a,)| a))
    }

    pub async fn set_project_upstream(
        &self,
        project_id: &str,
        address: &str,
        at_ms: i64,
        audit: &super::AuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO project_upstreams (project_id, address, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (project_id) DO UPDATE SET address = excluded.address, \
                 updated_at = excluded.updated_at",
            )
            .bind(project_id)
            .bind(address)
            .bind(at_ms)
            .execute(&mut *tx)
            .await?;
            super::audit::insert_audit!(tx, audit)?;
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn insert_denied_connection(
        &self,
        row: &DeniedConnectionRow,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO denied_connections \
                 (project_id, vpc_endpoint_id, reason, message, client_addr, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&row.project_id)
            .bind(&row.vpc_endpoint_id)
            .bind(&row.reason)
            .bind(&row.message)
            .bind(&row.client_addr)
            .bind(row.at)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The most recent refused connections of a project, newest first.
    pub async fn denied_connections(
        &self,
        project_id: &str,
        limit: i64,
    ) -> Result<Vec<DeniedConnectionRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT project_id, vpc_endpoint_id, reason, message, client_addr, at \
                 FROM denied_connections WHERE project_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
            )
            .bind(project_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }
}
