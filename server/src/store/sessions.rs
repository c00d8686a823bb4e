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

    pub async fn record_sign_in_failure(
        &self,
        email: &str,
        client: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO sign_in_failures (email, client, at) VALUES ($1, $2, $3)")
                .bind(email)
                .bind(client)
                .bind(at_ms)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Failed attempts after `since_ms`: for this email, and from this client.
    pub async fn sign_in_failures_since(
        &self,
        email: &str,
        client: &str,
        since_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        let (by_email,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM sign_in_failures WHERE email = $1 AND at > $2")
                .bind(email)
                .bind(since_ms)
                .fetch_one(pool)
                .await
        })?;
        let (by_client,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM sign_in_failures WHERE client = $1 AND at > $2")
                .bind(client)
                .bind(since_ms)
                .fetch_one(pool)
                .await
        })?;
        Ok((by_email, by_client))
    }

    /// A successful sign-in forgets the account's failures.
    pub async fn clear_sign_in_failures(&self, email: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM sign_in_failures WHERE email = $1")
                .bind(email)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}
