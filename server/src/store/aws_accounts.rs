//! AWS accounts each organization allows to connect endpoints to the platform's services.

use super::{audit::finish, AuditEntry, Pool, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct AllowedAccountRow {
    pub org_id: String,
    pub account_id: String,
    pub note: String,
    pub created_at: i64,
}

impl Store {
    /// An organization's allowed accounts, by account id.
    pub async fn allowed_accounts(
        &self,
        org_id: &str,
    ) -> Result<Vec<AllowedAccountRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, AllowedAccountRow>(
                "SELECT org_id, account_id, note, created_at FROM allowed_aws_accounts \
                 WHERE org_id = $1 ORDER BY account_id",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Every account some organization allows: the endpoint services' allowed principals.
    pub async fn all_allowed_accounts(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT DISTINCT account_id FROM allowed_aws_accounts ORDER BY account_id")
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }

    /// Adds (or re-notes) an allowed account; answers whether anything changed.
    pub async fn allow_account(
        &self,
        org_id: &str,
        account_id: &str,
        note: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "INSERT INTO allowed_aws_accounts (org_id, account_id, note, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, account_id) DO UPDATE \
                 SET note = excluded.note WHERE allowed_aws_accounts.note <> excluded.note",
            )
            .bind(org_id)
            .bind(account_id)
            .bind(note)
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            finish!(self, tx, n > 0, audit);
            Ok::<_, sqlx::Error>(n > 0)
        })?;
        Ok(changed)
    }

    /// Removes an allowed account; answers whether it was listed.
    pub async fn disallow_account(
        &self,
        org_id: &str,
        account_id: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let removed = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "DELETE FROM allowed_aws_accounts WHERE org_id = $1 AND account_id = $2",
            )
            .bind(org_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            finish!(self, tx, n > 0, audit);
            Ok::<_, sqlx::Error>(n > 0)
        })?;
        Ok(removed)
    }
}
