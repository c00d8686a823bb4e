//! Trial requests and their review.

use super::{audit::insert_audit, AuditEntry, Pool, Store, StoreError};

/// A trial request as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TrialRequestRow {
    pub id: String,
    pub org_id: String,
    /// `pending`, `approved` or `declined`.
    pub status: String,
    pub use_case: String,
    /// Region ids, space separated.
    pub regions: String,
    pub expected_endpoints: i64,
    pub requested_by: String,
    pub requested_at: i64,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    pub decline_reason: Option<String>,
    pub trial_ends_at: Option<i64>,
}

/// A trial request with its organization, for the operators' list.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TrialReviewRow {
    #[sqlx(flatten)]
    pub request: TrialRequestRow,
    pub org_name: String,
    pub org_plan: String,
}

const COLUMNS: &str = "t.id, t.org_id, t.status, t.use_case, t.regions, t.expected_endpoints, \
     t.requested_by, t.requested_at, t.reviewed_by, t.reviewed_at, t.decline_reason, t.trial_ends_at";

/// What a review decided.
#[derive(Clone, Debug)]
pub enum TrialDecision<'a> {
    Approve { ends_at_ms: i64 },
    Decline { reason: &'a str },
}

/// Which deadline notice a trial is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialNotice {
    /// It ends within the notice window.
    Ending,
    /// It has ended.
    Ended,
}

impl Store {
    /// Approved trials due a deadline notice at `now_ms`: those ending within `window_ms`
    /// not yet told so, and those ended not yet told so (at most `limit`).
    pub async fn trials_due_notice(
        &self,
        now_ms: i64,
        window_ms: i64,
        limit: i64,
    ) -> Result<Vec<(TrialRequestRow, TrialNotice)>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, CASE WHEN t.trial_ends_at <= $1 THEN 1 ELSE 0 END AS ended \
             FROM trial_requests t WHERE t.status = 'approved' AND t.trial_ends_at IS NOT NULL \
             AND ((t.trial_ends_at <= $1 AND t.ended_notice_at IS NULL) \
               OR (t.trial_ends_at > $1 AND t.trial_ends_at <= $2 AND t.ending_notice_at IS NULL)) \
             ORDER BY t.trial_ends_at LIMIT $3"
        );
        #[derive(sqlx::FromRow)]
        struct Due {
            #[sqlx(flatten)]
            request: TrialRequestRow,
            ended: i32,
        }
        let rows: Vec<Due> = on_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now_ms)
                .bind(now_ms + window_ms)
                .bind(limit)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|d| {
                let notice = if d.ended == 1 {
                    TrialNotice::Ended
                } else {
                    TrialNotice::Ending
                };
                (d.request, notice)
            })
            .collect())
    }

    /// Marks a trial's notice sent and writes its audit entry (which carries it to the feed
    /// and webhooks), once: answers false when another pass got there first. An ended trial
    /// that was never told it was ending is not told so afterwards.
    pub async fn mark_trial_notice(
        &self,
        id: &str,
        notice: TrialNotice,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let sql = match notice {
            TrialNotice::Ending => {
                "UPDATE trial_requests SET ending_notice_at = $2 WHERE id = $1 AND ending_notice_at IS NULL"
            }
            TrialNotice::Ended => {
                "UPDATE trial_requests SET ended_notice_at = $2, \
                 ending_notice_at = COALESCE(ending_notice_at, $2) \
                 WHERE id = $1 AND ended_notice_at IS NULL"
            }
        };
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(sql)
                .bind(id)
                .bind(audit.at_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            super::audit::finish!(self, tx, n == 1, audit);
            n == 1
        }))
    }

    /// Stores a new pending request. Fails with a unique violation
    /// (`trial_requests_one_pending`) when the organization already has one.
    pub async fn insert_trial_request(
        &self,
        request: &TrialRequestRow,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO trial_requests (id, org_id, status, use_case, regions, \
                 expected_endpoints, requested_by, requested_at) \
                 VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7)",
            )
            .bind(&request.id)
            .bind(&request.org_id)
            .bind(&request.use_case)
            .bind(&request.regions)
            .bind(request.expected_endpoints)
            .bind(&request.requested_by)
            .bind(request.requested_at)
            .execute(&mut *tx)
            .await?;
            insert_audit!(tx, audit)?;
            self.commit(tx).await
        })?;
        Ok(())
    }

    /// The organization's most recent request, if any.
    pub async fn latest_trial_request(
        &self,
        org_id: &str,
    ) -> Result<Option<TrialRequestRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM trial_requests t WHERE t.org_id = $1 \
             ORDER BY t.requested_at DESC, t.id DESC LIMIT 1"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(org_id)
                .fetch_optional(pool)
                .await
        })?)
    }

    pub async fn trial_request(&self, id: &str) -> Result<Option<TrialRequestRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM trial_requests t WHERE t.id = $1");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// Requests with their organizations, newest first; only `status` when given.
    pub async fn trial_requests(
        &self,
        status: Option<&str>,
    ) -> Result<Vec<TrialReviewRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, o.name AS org_name, o.plan AS org_plan \
             FROM trial_requests t JOIN organizations o ON o.id = t.org_id \
             WHERE (CAST($1 AS TEXT) IS NULL OR t.status = $1) \
             ORDER BY t.requested_at DESC, t.id DESC LIMIT 500"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(status)
                .fetch_all(pool)
                .await
        })?)
    }

    /// Settles a pending request; `false` when it was no longer pending (someone else was
    /// faster). Approval also sets the organization's trial end, in the same transaction.
    pub async fn review_trial_request(
        &self,
        id: &str,
        org_id: &str,
        decision: &TrialDecision<'_>,
        reviewed_by: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let (status, reason, ends_at) = match decision {
            TrialDecision::Approve { ends_at_ms } => ("approved", None, Some(*ends_at_ms)),
            TrialDecision::Decline { reason } => ("declined", Some(reason.to_string()), None),
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE trial_requests SET status = $1, decline_reason = $2, trial_ends_at = $3, \
                 reviewed_by = $4, reviewed_at = $5 WHERE id = $6 AND status = 'pending'",
            )
            .bind(status)
            .bind(&reason)
            .bind(ends_at)
            .bind(reviewed_by)
            .bind(audit.at_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            if let Some(ends_at) = ends_at {
                sqlx::query("UPDATE organizations SET trial_ends_at = $1 WHERE id = $2")
                    .bind(ends_at)
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_audit!(tx, audit)?;
            self.commit(tx).await?;
            Ok::<bool, sqlx::Error>(true)
        })
        .map_err(StoreError::from)
    }
}
