//! What the data plane needs stored: projects by the host label clients name, upstream
//! addresses, proxies' heartbeats, and aggregated connection evidence.

use serde::{Deserialize, Serialize};

use super::{Pool, ProjectRow, Store, StoreError};

/// Where a project's Postgres (and its pooler) listen.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct UpstreamRow {
    pub address: Option<String>,
    pub pooler_address: Option<String>,
}

/// A proxy as its last heartbeat described it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ProxyHeartbeatRow {
    pub proxy_id: String,
    /// The last change-feed version it applied.
    pub version: i64,
    pub started_at: i64,
    pub last_seen_at: i64,
    /// Its counters, as JSON.
    pub counters: String,
}

/// Connections of one kind, aggregated: per project, endpoint (`""` for the public
/// internet), reason and client network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct EvidenceRow {
    pub project_id: String,
    pub vpc_endpoint_id: String,
    /// `allowed` or `refused`.
    pub outcome: String,
    pub reason: String,
    pub client_network: String,
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl Store {
    /// The project whose host label is `label` (e.g. `ep-bold-firefly-809439`).
    pub async fn project_by_host_label(
        &self,
        label: &str,
    ) -> Result<Option<ProjectRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ProjectRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM projects WHERE endpoint_label = $1",
                super::accounts::PROJECT_COLUMNS
            )))
            .bind(label)
            .fetch_optional(pool)
            .await
        })?)
    }

    pub async fn project_upstream(&self, project_id: &str) -> Result<UpstreamRow, StoreError> {
        let row: Option<UpstreamRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT address, pooler_address FROM project_upstreams WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.unwrap_or_default())
    }

    /// Sets the project's Postgres address, or its pooler's (`pooler`).
    pub async fn set_project_upstream(
        &self,
        project_id: &str,
        address: &str,
        pooler: bool,
        at_ms: i64,
        audit: &super::AuditEntry,
    ) -> Result<(), StoreError> {
        let sql = if pooler {
            "INSERT INTO project_upstreams (project_id, address, pooler_address, updated_at) \
             VALUES ($1, '', $2, $3) ON CONFLICT (project_id) DO UPDATE SET \
             pooler_address = excluded.pooler_address, updated_at = excluded.updated_at"
        } else {
            "INSERT INTO project_upstreams (project_id, address, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id) DO UPDATE SET address = excluded.address, \
             updated_at = excluded.updated_at"
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(sql)
                .bind(project_id)
                .bind(address)
                .bind(at_ms)
                .execute(&mut *tx)
                .await?;
            super::audit::insert_audit!(tx, audit)?;
            self.commit(tx).await
        })?;
        Ok(())
    }

    /// Records a proxy's heartbeat; answers whether its applied version moved (or it is new),
    /// which is when pages showing "applying" need a look.
    pub async fn record_heartbeat(&self, row: &ProxyHeartbeatRow) -> Result<bool, StoreError> {
        let before: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT version FROM data_plane_proxies WHERE proxy_id = $1")
                .bind(&row.proxy_id)
                .fetch_optional(pool)
                .await
        })?;
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO data_plane_proxies (proxy_id, version, started_at, last_seen_at, counters) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (proxy_id) DO UPDATE SET \
                 version = excluded.version, started_at = excluded.started_at, \
                 last_seen_at = excluded.last_seen_at, counters = excluded.counters",
            )
            .bind(&row.proxy_id)
            .bind(row.version)
            .bind(row.started_at)
            .bind(row.last_seen_at)
            .bind(&row.counters)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        let moved = before.map(|(v,)| v) != Some(row.version);
        if moved {
            self.forget_live_proxies();
        }
        Ok(moved)
    }

    /// Proxies heard from at or after `since_ms`, by id.
    pub async fn live_proxies(&self, since_ms: i64) -> Result<Vec<ProxyHeartbeatRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ProxyHeartbeatRow>(
                "SELECT proxy_id, version, started_at, last_seen_at, counters \
                 FROM data_plane_proxies WHERE last_seen_at >= $1 ORDER BY proxy_id",
            )
            .bind(since_ms)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Adds aggregated evidence. A row that exists grows; a new row is added only while the
    /// project has fewer than `per_project_cap` rows, and only for a project that exists.
    /// Answers how many items were dropped at the cap.
    pub async fn add_evidence(
        &self,
        items: &[EvidenceRow],
        per_project_cap: i64,
    ) -> Result<usize, StoreError> {
        let dropped = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut dropped = 0usize;
            for item in items {
                let updated = sqlx::query(
                    "UPDATE connection_evidence SET count = count + $5, \
                     first_seen = CASE WHEN $6 < first_seen THEN $6 ELSE first_seen END, \
                     last_seen = CASE WHEN $7 > last_seen THEN $7 ELSE last_seen END \
                     WHERE project_id = $1 AND vpc_endpoint_id = $2 AND reason = $3 \
                     AND client_network = $4",
                )
                .bind(&item.project_id)
                .bind(&item.vpc_endpoint_id)
                .bind(&item.reason)
                .bind(&item.client_network)
                .bind(item.count)
                .bind(item.first_seen)
                .bind(item.last_seen)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated > 0 {
                    continue;
                }
                let inserted = sqlx::query(
                    "INSERT INTO connection_evidence (project_id, vpc_endpoint_id, outcome, reason, \
                     client_network, count, first_seen, last_seen) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                     WHERE EXISTS (SELECT 1 FROM projects WHERE id = $1) \
                     AND (SELECT COUNT(*) FROM connection_evidence WHERE project_id = $1) < $9",
                )
                .bind(&item.project_id)
                .bind(&item.vpc_endpoint_id)
                .bind(&item.outcome)
                .bind(&item.reason)
                .bind(&item.client_network)
                .bind(item.count)
                .bind(item.first_seen)
                .bind(item.last_seen)
                .bind(per_project_cap)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    dropped += 1;
                }
            }
            // Committed through the store so open pages showing refusals look again.
            self.commit(tx).await?;
            Ok::<_, sqlx::Error>(dropped)
        })?;
        Ok(dropped)
    }

    /// A project's evidence of one outcome, most recent first.
    pub async fn evidence_of_project(
        &self,
        project_id: &str,
        outcome: &str,
        limit: i64,
    ) -> Result<Vec<EvidenceRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, EvidenceRow>(
                "SELECT project_id, vpc_endpoint_id, outcome, reason, client_network, count, \
                 first_seen, last_seen FROM connection_evidence \
                 WHERE project_id = $1 AND outcome = $2 ORDER BY last_seen DESC, reason LIMIT $3",
            )
            .bind(project_id)
            .bind(outcome)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Connections the proxies let through to an organization's projects (one project's
    /// with `project_id`), most recent first: the "last connection" of each endpoint.
    /// Bounded; evidence is already capped per project.
    pub async fn allowed_evidence_of_org(
        &self,
        org_id: &str,
        project_id: Option<&str>,
    ) -> Result<Vec<EvidenceRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, EvidenceRow>(
                "SELECT e.project_id, e.vpc_endpoint_id, e.outcome, e.reason, e.client_network, \
                 e.count, e.first_seen, e.last_seen FROM connection_evidence e \
                 JOIN projects p ON p.id = e.project_id \
                 WHERE p.org_id = $1 AND COALESCE($2, e.project_id) = e.project_id AND e.outcome = 'allowed' \
                 AND e.vpc_endpoint_id <> '' ORDER BY e.last_seen DESC LIMIT 2000",
            )
            .bind(org_id)
            .bind(project_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// How many evidence rows are stored in all.
    pub async fn evidence_rows(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM connection_evidence").fetch_one(pool).await
        })?;
        Ok(n)
    }

    /// Drops evidence last seen before `before_ms` and proxies silent since then.
    pub async fn prune_data_plane(&self, before_ms: i64) -> Result<u64, StoreError> {
        let evidence = on_pool!(self, pool => {
            sqlx::query("DELETE FROM connection_evidence WHERE last_seen < $1")
                .bind(before_ms)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        let proxies = on_pool!(self, pool => {
            sqlx::query("DELETE FROM data_plane_proxies WHERE last_seen_at < $1")
                .bind(before_ms)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(evidence + proxies)
    }
}
