//! What the cloud-provider work keeps between reconciler passes: review backoff for
//! endpoints AWS has no connection request for yet, removed endpoints still to disconnect,
//! provider health for operators, and connection requests nobody assigned.

use super::{audit::finish, AuditEntry, Pool, Store, StoreError};

/// A provider call that is failing, for the operator area.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ProviderProblemRow {
    /// The cloud API call (`DescribeVpcEndpointConnections`).
    pub call: String,
    /// The cloud region it was made in.
    pub region: String,
    pub message: String,
    /// When it started failing, and when it last failed (ms since the epoch).
    pub since: i64,
    pub last_seen: i64,
}

/// A connection request on one of the platform's endpoint services.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ConnectionRequestRow {
    pub vpc_endpoint_id: String,
    pub region_id: String,
    pub service_id: String,
    pub owner_account: String,
    pub state: String,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// A removed endpoint the provider has not disconnected yet.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingDisconnectRow {
    pub org_id: String,
    pub vpc_endpoint_id: String,
    pub region_id: String,
}

/// Unassigned requests kept for operators, at most.
pub const UNASSIGNED_REQUESTS_CAP: usize = 500;

impl Store {
    /// Keeps a `new` assignment `new`, with the reason the admin can act on, until
    /// `next_review_at(attempts)` (attempts counts this one). Audited (so live pages and the feed see it) only when the reason
    /// changes; answers how many times the endpoint has been deferred.
    pub async fn defer_review(
        &self,
        vpc_endpoint_id: &str,
        reason: &str,
        audit: &AuditEntry,
        next_review_at: impl Fn(i64) -> i64,
    ) -> Result<i64, StoreError> {
        let attempts = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // Write first: on SQLite a transaction that reads and then writes cannot wait for
            // another writer (it fails "database is locked", and the pass skips the endpoint
            // with nothing recorded); one that writes first waits its turn.
            sqlx::query(
                "UPDATE vpc_endpoint_assignments SET review_attempts = review_attempts \
                 WHERE vpc_endpoint_id = $1",
            )
            .bind(vpc_endpoint_id)
            .execute(&mut *tx)
            .await?;
            let before: Option<(Option<String>, i32)> = sqlx::query_as(
                "SELECT state_reason, review_attempts FROM vpc_endpoint_assignments \
                 WHERE vpc_endpoint_id = $1 AND state = 'new'",
            )
            .bind(vpc_endpoint_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((old_reason, attempts)) = before else {
                tx.rollback().await?;
                return Ok(0);
            };
            sqlx::query(
                "UPDATE vpc_endpoint_assignments SET state_reason = $2, next_review_at = $3, \
                 review_attempts = review_attempts + 1 WHERE vpc_endpoint_id = $1 AND state = 'new'",
            )
            .bind(vpc_endpoint_id)
            .bind(reason)
            .bind(next_review_at(i64::from(attempts) + 1))
            .execute(&mut *tx)
            .await?;
            if old_reason.as_deref() == Some(reason) {
                tx.commit().await?;
            } else {
                finish!(self, tx, true, audit);
            }
            Ok::<_, sqlx::Error>(i64::from(attempts) + 1)
        })?;
        Ok(attempts)
    }

    /// Removed endpoints not yet disconnected at the provider, oldest first.
    pub async fn endpoints_to_disconnect(
        &self,
        limit: i64,
    ) -> Result<Vec<PendingDisconnectRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, PendingDisconnectRow>(
                "SELECT org_id, vpc_endpoint_id, region_id FROM removed_vpc_endpoints \
                 WHERE disconnected_at IS NULL ORDER BY removed_at, vpc_endpoint_id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    pub async fn mark_disconnected(
        &self,
        org_id: &str,
        vpc_endpoint_id: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE removed_vpc_endpoints SET disconnected_at = $3 \
                 WHERE org_id = $1 AND vpc_endpoint_id = $2",
            )
            .bind(org_id)
            .bind(vpc_endpoint_id)
            .bind(at_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Replaces the provider's failing calls with `problems` (the provider keeps `since`).
    pub async fn replace_provider_problems(
        &self,
        problems: &[ProviderProblemRow],
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM provider_problems").execute(&mut *tx).await?;
            for p in problems {
                sqlx::query(
                    "INSERT INTO provider_problems (call, region, message, since, last_seen) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&p.call)
                .bind(&p.region)
                .bind(&p.message)
                .bind(p.since)
                .bind(p.last_seen)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn provider_problems(&self) -> Result<Vec<ProviderProblemRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ProviderProblemRow>(
                "SELECT call, region, message, since, last_seen FROM provider_problems \
                 ORDER BY since, call, region",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    /// Records the connection requests seen in a region that no organization assigned (and
    /// forgets the region's earlier ones that are gone). Keeps at most
    /// [`UNASSIGNED_REQUESTS_CAP`] rows in all, dropping the least recently seen.
    pub async fn record_unassigned_requests(
        &self,
        region_id: &str,
        requests: &[ConnectionRequestRow],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for r in requests.iter().take(UNASSIGNED_REQUESTS_CAP) {
                sqlx::query(
                    "INSERT INTO unassigned_connection_requests \
                     (vpc_endpoint_id, region_id, service_id, owner_account, state, first_seen, last_seen) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (vpc_endpoint_id) DO UPDATE SET \
                     region_id = excluded.region_id, service_id = excluded.service_id, \
                     owner_account = excluded.owner_account, state = excluded.state, \
                     last_seen = excluded.last_seen",
                )
                .bind(&r.vpc_endpoint_id)
                .bind(region_id)
                .bind(&r.service_id)
                .bind(&r.owner_account)
                .bind(&r.state)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "DELETE FROM unassigned_connection_requests WHERE region_id = $1 AND last_seen < $2",
            )
            .bind(region_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM unassigned_connection_requests WHERE vpc_endpoint_id NOT IN \
                 (SELECT vpc_endpoint_id FROM unassigned_connection_requests \
                  ORDER BY last_seen DESC, vpc_endpoint_id LIMIT $1)",
            )
            .bind(UNASSIGNED_REQUESTS_CAP as i64)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn unassigned_requests(
        &self,
        limit: i64,
    ) -> Result<Vec<ConnectionRequestRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ConnectionRequestRow>(
                "SELECT vpc_endpoint_id, region_id, service_id, owner_account, state, first_seen, \
                 last_seen FROM unassigned_connection_requests \
                 ORDER BY first_seen, vpc_endpoint_id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }
}
