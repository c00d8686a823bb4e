//! Console sessions and failed sign-in attempts.

use super::{Pool, Store, StoreError, UserRow};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub email: String,
    pub is_operator: bool,
}

impl Store {
    /// The user and their password hash (if they have a password).
    pub async fn user_with_password(
        &self,
        email: &str,
    ) -> Result<Option<(UserRow, Option<String>)>, StoreError> {
        let row: Option<(String, String, bool, i64, Option<String>)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, email, is_operator, created_at, password_hash FROM users WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(|(id, email, is_operator, created_at, hash)| {
            (
                UserRow {
                    id,
                    email,
                    is_operator,
                    created_at,
                },
                hash,
            )
        }))
    }

    /// Starts a session; `replaces` (the previous session of this browser) ends in the same
    /// transaction, so a sign-in always rotates the session id.
    pub async fn insert_session(
        &self,
        id_hash: &str,
        user_id: &str,
        at_ms: i64,
        expires_at: i64,
        replaces: Option<&str>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if let Some(old) = replaces {
                sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $3, $4)",
            )
            .bind(id_hash)
            .bind(user_id)
            .bind(at_ms)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            self.commit(tx).await
        })?;
        Ok(())
    }

    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, SessionRow>(
                "SELECT s.user_id, s.created_at, s.last_seen_at, s.expires_at, u.email, u.is_operator \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
            )
            .bind(id_hash)
            .fetch_optional(pool)
            .await
        })?)
    }

    pub async fn touch_session(&self, id_hash: &str, at_ms: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
                .bind(id_hash)
                .bind(at_ms)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Counts a sign-in attempt as a failure *before* its password is checked, unless the
    /// limits are reached: at most `per_account_and_client` failures for this email from this
    /// client, and `per_client` from this client, after `since_ms`. The check and the insert
    /// are one statement under a per-client lock (PostgreSQL: a transaction-scoped advisory
    /// lock; SQLite: its single writer), so parallel attempts cannot all pass. Returns the
    /// attempt's id, or `None` when refused.
    pub async fn reserve_sign_in_attempt(
        &self,
        email: &str,
        client: &str,
        at_ms: i64,
        since_ms: i64,
        per_account_and_client: i64,
        per_client: i64,
    ) -> Result<Option<i64>, StoreError> {
        const RESERVE: &str = "INSERT INTO sign_in_failures (email, client, at) \
             SELECT $1, $2, $3 \
             WHERE (SELECT COUNT(*) FROM sign_in_failures \
                    WHERE email = $1 AND client = $2 AND at > $4) < $5 \
               AND (SELECT COUNT(*) FROM sign_in_failures WHERE client = $2 AND at > $4) < $6 \
             RETURNING id";
        let id: Option<i64> = match &self.pool {
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
                    .bind(format!("sign-in client {client}"))
                    .execute(&mut *tx)
                    .await?;
                let id = sqlx::query_scalar(RESERVE)
                    .bind(email)
                    .bind(client)
                    .bind(at_ms)
                    .bind(since_ms)
                    .bind(per_account_and_client)
                    .bind(per_client)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                id
            }
            Pool::Sqlite(pool) => {
                sqlx::query_scalar(RESERVE)
                    .bind(email)
                    .bind(client)
                    .bind(at_ms)
                    .bind(since_ms)
                    .bind(per_account_and_client)
                    .bind(per_client)
                    .fetch_optional(pool)
                    .await?
            }
        };
        Ok(id)
    }

    /// A successful sign-in takes back its reserved attempt and forgets the account's
    /// failures from that client.
    pub async fn clear_sign_in_failures(
        &self,
        email: &str,
        client: &str,
        attempt: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM sign_in_failures WHERE id = $3 OR (email = $1 AND client = $2)")
                .bind(email)
                .bind(client)
                .bind(attempt)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Failed sign-ins in the database (for retention checks).
    pub async fn sign_in_failure_rows(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures").fetch_one(pool).await
        })?)
    }

    /// Deletes failures at or before `failures_before_ms` and sessions past their absolute
    /// expiry (`now_ms`) or idle since `idle_before_ms`. Returns the rows removed.
    pub async fn prune_sign_ins(
        &self,
        failures_before_ms: i64,
        now_ms: i64,
        idle_before_ms: i64,
    ) -> Result<u64, StoreError> {
        let failures = on_pool!(self, pool => {
            sqlx::query("DELETE FROM sign_in_failures WHERE at <= $1")
                .bind(failures_before_ms)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        let sessions = on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now_ms)
                .bind(idle_before_ms)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(failures + sessions)
    }
}
