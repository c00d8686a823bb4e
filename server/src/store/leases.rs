//! Leases: which instance does a piece of background work, so several `enclave serve` on one
//! database never do it twice at once.

use super::{Pool, Store, StoreError};

/// A lease as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct LeaseRow {
    pub name: String,
    pub holder: String,
    pub expires_at: i64,
}

impl Store {
    /// Takes or renews lease `name` for `holder` until `now_ms + ttl_ms`, if it is free,
    /// expired, or already `holder`'s. One statement (an upsert whose update applies only
    /// then), so two instances racing for it cannot both win. Returns whether `holder` holds it.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        let taken = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_at = excluded.expires_at \
                 WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
            )
            .bind(name)
            .bind(holder)
            .bind(now_ms + ttl_ms)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(taken == 1)
    }

    /// Gives lease `name` up if `holder` has it (at shutdown, so another instance need not
    /// wait for it to expire).
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn lease(&self, name: &str) -> Result<Option<LeaseRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as("SELECT name, holder, expires_at FROM leases WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await
        })?)
    }
}
