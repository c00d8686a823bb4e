//! Webhooks' storage: receivers, the delivery outbox (written by the audit writer in the
//! transaction of the change an event reports), attempts, and what the dispatcher claims.

use serde::Serialize;
use serde_json::json;

use super::{
    audit::{finish, insert_audit},
    AuditEntry, Pool, Store, StoreError,
};

/// A registered receiver. `secret` is only ever read by the dispatcher (to sign).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: String,
    pub org_id: String,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    /// `,endpoint.accepted,trial.ended,`
    pub events: String,
    pub refusal_threshold: i64,
    pub created_at: i64,
}

impl WebhookRow {
    /// The subscribed event types, in the order they were chosen.
    pub fn event_types(&self) -> Vec<String> {
        self.events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

const WEBHOOK_COLUMNS: &str = "id, org_id, url, secret, events, refusal_threshold, created_at";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Also the `webhook-id` header: the same for every attempt, so receivers can drop repeats.
    pub id: String,
    pub webhook_id: String,
    pub org_id: String,
    pub seq: i64,
    pub event_type: String,
    pub payload: String,
    pub created_at: i64,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub last_status_code: Option<i32>,
    pub last_error: String,
    pub finished_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.org_id, d.seq, d.event_type, d.payload, \
     d.created_at, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, \
     d.finished_at";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt: i32,
    pub at: i64,
    pub status_code: Option<i32>,
    pub error: String,
    pub duration_ms: i64,
}

/// A delivery due now, with where it goes and the secret to sign it with.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueDelivery {
    #[sqlx(flatten)]
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret: String,
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// Not accepted; try again at this time.
    RetryAt(i64),
    /// Not accepted, and the retry window is over.
    GaveUp,
}

/// One attempt, as recorded.
pub struct Attempt<'a> {
    pub delivery_id: &'a str,
    pub at_ms: i64,
    pub status_code: Option<u16>,
    pub error: &'a str,
    pub duration_ms: i64,
    pub outcome: AttemptOutcome,
}

/// What adding a receiver came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertWebhookOutcome {
    Created,
    /// The organization already has the most receivers it may; nothing was written.
    LimitReached,
}

/// The event a committed change reports to webhooks, if any: its type, its body (Standard
/// Webhooks' `{"type", "timestamp", "data"}`) and, for refusal counts, the range of
/// thresholds it crosses (a receiver is told when its own threshold lies in it).
pub struct OutboxEvent {
    pub event_type: &'static str,
    pub org_id: String,
    pub payload: String,
    pub thresholds: (i64, i64),
}

/// The webhook event an audited change is, if it is one.
pub fn outbox_event(entry: &AuditEntry, version: i64) -> Option<OutboxEvent> {
    use app::domain::WebhookEvent as E;
    let org_id = entry.org_id.clone()?;
    let after = |field: &str| entry.after.as_ref().and_then(|a| a.get(field).cloned());
    let event = match entry.action {
        "vpc_endpoint.state" => match after("state")?.as_str()? {
            "accepted" => E::EndpointAccepted,
            "rejected" => E::EndpointRejected,
            _ => return None,
        },
        "vpc_endpoint.remove" => E::EndpointRemoved,
        "project.restrict" | "project.unrestrict" => E::RestrictionChanged,
        "project.settings_applied" => E::SettingsApplied,
        "project.refusals" => E::RefusalsAboveThreshold,
        "trial.approve" => E::TrialApproved,
        "trial.decline" => E::TrialDeclined,
        "trial.ending" => E::TrialEnding,
        "trial.ended" => E::TrialEnded,
        _ => return None,
    };
    let thresholds = if event == E::RefusalsAboveThreshold {
        (
            after("previous")?.as_i64()?,
            after("refused_this_hour")?.as_i64()?,
        )
    } else {
        (i64::MIN, i64::MAX)
    };
    let timestamp = chrono::DateTime::from_timestamp_millis(entry.at_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let payload = json!({
        "type": event.as_str(),
        "timestamp": timestamp,
        "data": {
            "organization_id": org_id,
            "project_id": entry.project_id,
            "target": entry.target,
            "action": entry.action,
            "before": entry.before,
            "after": entry.after,
            "actor": {"kind": entry.actor.kind, "name": entry.actor.name},
            "request_id": entry.request_id,
            "version": version,
        },
    });
    Some(OutboxEvent {
        event_type: event.as_str(),
        org_id,
        payload: payload.to_string(),
        thresholds,
    })
}

/// Writes one delivery per subscribed receiver of the entry's organization, on the open
/// transaction that writes the entry (so a change and its deliveries commit together).
macro_rules! enqueue_deliveries {
    ($tx:expr, $entry:expr, $version:expr) => {{
        let entry: &$crate::store::AuditEntry = $entry;
        match $crate::store::webhooks::outbox_event(entry, $version) {
            None => Ok(()),
            Some(event) => sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook_id, org_id, seq, event_type, payload, \
                 created_at, status, attempts, next_attempt_at) \
                 SELECT 'msg_' || $1 || '_' || id, id, org_id, $2, $3, $4, $5, 'pending', 0, $5 \
                 FROM webhooks WHERE org_id = $6 AND events LIKE $7 \
                 AND refusal_threshold > $8 AND refusal_threshold <= $9",
            )
            .bind($version.to_string())
            .bind($version)
            .bind(event.event_type)
            .bind(&event.payload)
            .bind(entry.at_ms)
            .bind(&event.org_id)
            .bind(format!("%,{},%", event.event_type))
            .bind(event.thresholds.0)
            .bind(event.thresholds.1)
            .execute(&mut *$tx)
            .await
            .map(|_| ()),
        }
    }};
}
pub(crate) use enqueue_deliveries;

impl Store {
    /// Adds a receiver unless the organization has `limit` already (counted under its lock).
    pub async fn insert_webhook(
        &self,
        webhook: &WebhookRow,
        limit: i64,
        audit: &AuditEntry,
    ) -> Result<InsertWebhookOutcome, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE organizations SET write_version = write_version + 1 WHERE id = $1")
                .bind(&webhook.org_id)
                .execute(&mut *tx)
                .await?;
            let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhooks WHERE org_id = $1")
                .bind(&webhook.org_id)
                .fetch_one(&mut *tx)
                .await?;
            if count >= limit {
                tx.rollback().await?;
                InsertWebhookOutcome::LimitReached
            } else {
                sqlx::query(
                    "INSERT INTO webhooks (id, org_id, url, secret, events, refusal_threshold, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&webhook.id)
                .bind(&webhook.org_id)
                .bind(&webhook.url)
                .bind(&webhook.secret)
                .bind(&webhook.events)
                .bind(webhook.refusal_threshold)
                .bind(webhook.created_at)
                .execute(&mut *tx)
                .await?;
                insert_audit!(tx, audit)?;
                self.commit(tx).await?;
                InsertWebhookOutcome::Created
            }
        }))
    }

    pub async fn webhooks_of_org(&self, org_id: &str) -> Result<Vec<WebhookRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, WebhookRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE org_id = $1 ORDER BY created_at, id"
            )))
            .bind(org_id)
            .fetch_all(pool)
            .await
        })?)
    }

    pub async fn webhook(&self, id: &str) -> Result<Option<WebhookRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, WebhookRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Removes a receiver and its deliveries; answers whether it existed.
    pub async fn delete_webhook(&self, id: &str, audit: &AuditEntry) -> Result<bool, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM webhook_attempts WHERE delivery_id IN \
                         (SELECT id FROM webhook_deliveries WHERE webhook_id = $1)")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query("DELETE FROM webhooks WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            finish!(self, tx, n == 1, audit);
            n == 1
        }))
    }

    /// A receiver's deliveries, newest first, at most `limit`.
    pub async fn deliveries_of(
        &self,
        webhook_id: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, DeliveryRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.webhook_id = $1 \
                 ORDER BY d.seq DESC LIMIT $2"
            )))
            .bind(webhook_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    pub async fn delivery(&self, id: &str) -> Result<Option<DeliveryRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, DeliveryRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// A delivery's attempts, oldest first.
    pub async fn attempts_of(&self, delivery_id: &str) -> Result<Vec<AttemptRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, AttemptRow>(
                "SELECT delivery_id, attempt, at, status_code, error, duration_ms \
                 FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt",
            )
            .bind(delivery_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Deliveries due at `now_ms`: for each receiver only its oldest pending one (a receiver
    /// gets its events in order, one at a time), oldest first, at most `limit`.
    pub async fn due_deliveries(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, DueDelivery>(sqlx::AssertSqlSafe(format!(
                "SELECT {DELIVERY_COLUMNS}, w.url, w.secret FROM webhook_deliveries d \
                 JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.webhook_id = d.webhook_id \
                   AND o.status = 'pending' AND o.seq < d.seq) \
                 ORDER BY d.seq LIMIT $2"
            )))
            .bind(now_ms)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// When the next sendable delivery (a receiver's oldest pending one) falls due, if any.
    /// Deliveries queued behind a receiver's waiting one do not count: they go after it.
    pub async fn next_delivery_due(&self) -> Result<Option<i64>, StoreError> {
        let (at,): (Option<i64>,) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d WHERE d.status = 'pending' \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.webhook_id = d.webhook_id \
                   AND o.status = 'pending' AND o.seq < d.seq)",
            )
            .fetch_one(pool)
            .await
        })?;
        Ok(at)
    }

    /// Records an attempt and where the delivery now stands, in one transaction.
    pub async fn record_attempt(&self, attempt: &Attempt<'_>) -> Result<(), StoreError> {
        let (status, next, finished) = match attempt.outcome {
            AttemptOutcome::Delivered => ("delivered", attempt.at_ms, Some(attempt.at_ms)),
            AttemptOutcome::RetryAt(at) => ("pending", at, None),
            AttemptOutcome::GaveUp => ("failed", attempt.at_ms, Some(attempt.at_ms)),
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let (number,): (i32,) = sqlx::query_as(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, \
                 next_attempt_at = $3, last_status_code = $4, last_error = $5, finished_at = $6 \
                 WHERE id = $1 RETURNING attempts",
            )
            .bind(attempt.delivery_id)
            .bind(status)
            .bind(next)
            .bind(attempt.status_code.map(i32::from))
            .bind(attempt.error)
            .bind(finished)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(attempt.delivery_id)
            .bind(number)
            .bind(attempt.at_ms)
            .bind(attempt.status_code.map(i32::from))
            .bind(attempt.error)
            .bind(attempt.duration_ms)
            .execute(&mut *tx)
            .await?;
            // Not a change anyone audits; wake the dispatcher's and live pages' readers.
            self.commit(tx).await
        })?;
        Ok(())
    }

    /// Puts a delivery back in the queue to be sent now ("send again"); answers whether it
    /// was found. Its retry window starts again from now.
    pub async fn redeliver(
        &self,
        id: &str,
        now_ms: i64,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, \
                 created_at = $2, finished_at = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            finish!(self, tx, n == 1, audit);
            n == 1
        }))
    }

    /// At `now_ms`: drops deliveries finished over 30 days ago (and their attempts), and
    /// hourly refusal counts over a day old (a project without new refusals never drops its
    /// own). Answers how many deliveries went.
    pub async fn prune_webhook_deliveries(&self, now_ms: i64) -> Result<u64, StoreError> {
        let before_ms = now_ms - 30 * 86_400_000;
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM refusal_hours WHERE hour < $1")
                .bind(now_ms - 86_400_000)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries \
                 WHERE status <> 'pending' AND finished_at < $1)",
            )
            .bind(before_ms)
            .execute(&mut *tx)
            .await?;
            let n = sqlx::query(
                "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < $1",
            )
            .bind(before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            n
        }))
    }
}

impl Store {
    /// Announces `settings.applied` for every project whose network settings changed after
    /// the watermark and at or before `acknowledged` (the version every live proxy has
    /// applied): one audit entry per project, carrying the newest such change, and the
    /// watermark moved, in one transaction. Another instance doing the same at once finds the
    /// watermark moved and writes nothing. Answers how many projects were announced.
    pub async fn announce_applied_settings(
        &self,
        acknowledged: i64,
        entry: impl Fn(&str, &str, i64) -> AuditEntry,
    ) -> Result<usize, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // Write first: on SQLite a transaction that reads and then writes cannot wait for
            // another writer (it fails "database is locked"); one that writes first waits.
            sqlx::query("UPDATE applied_watermark SET version = version WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            let (from,): (i64,) = sqlx::query_as("SELECT version FROM applied_watermark WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            if acknowledged <= from {
                tx.rollback().await?;
                0
            } else {
                let moved = sqlx::query("UPDATE applied_watermark SET version = $2 WHERE id = 1 AND version = $1")
                    .bind(from)
                    .bind(acknowledged)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let changes: Vec<(String, String, i64)> = if moved == 1 {
                    sqlx::query_as(
                        "SELECT e.project_id, e.org_id, MAX(e.version) FROM change_events e \
                         WHERE e.action = 'project.settings' AND e.version > $1 AND e.version <= $2 \
                         AND e.project_id IS NOT NULL AND e.org_id IS NOT NULL \
                         GROUP BY e.project_id, e.org_id ORDER BY MAX(e.version)",
                    )
                    .bind(from)
                    .bind(acknowledged)
                    .fetch_all(&mut *tx)
                    .await?
                } else {
                    Vec::new()
                };
                for (project_id, org_id, version) in &changes {
                    let audit = entry(project_id, org_id, *version);
                    insert_audit!(tx, &audit)?;
                }
                self.commit(tx).await?;
                changes.len()
            }
        }))
    }

    /// Adds `refused` connections to the project's count for the hour starting `hour_ms`
    /// and, when that count passes a threshold some receiver of the organization chose,
    /// writes the `project.refusals` audit entry `entry(org_id, before, after)` (and so the
    /// event) in the same transaction. Answers whether it did.
    pub async fn record_refusals(
        &self,
        project_id: &str,
        hour_ms: i64,
        refused: i64,
        entry: impl Fn(&str, i64, i64) -> AuditEntry,
    ) -> Result<bool, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // The count first (a write: see `announce_applied_settings`), only for a project
            // that exists.
            let counted: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO refusal_hours (project_id, hour, refused) \
                 SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM projects WHERE id = $1) \
                 ON CONFLICT (project_id, hour) DO UPDATE SET refused = refusal_hours.refused + $3 \
                 RETURNING refused",
            )
            .bind(project_id)
            .bind(hour_ms)
            .bind(refused)
            .fetch_optional(&mut *tx)
            .await?;
            let org: Option<(String,)> = match counted {
                None => None,
                Some(_) => sqlx::query_as("SELECT org_id FROM projects WHERE id = $1")
                    .bind(project_id)
                    .fetch_optional(&mut *tx)
                    .await?,
            };
            match (org, counted) {
                (Some((org_id,)), Some((after,))) => {
                    sqlx::query("DELETE FROM refusal_hours WHERE project_id = $1 AND hour < $2")
                        .bind(project_id)
                        .bind(hour_ms - 86_400_000)
                        .execute(&mut *tx)
                        .await?;
                    let before = after - refused;
                    let (wanted,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM webhooks WHERE org_id = $1 \
                         AND events LIKE '%,refusals.above_threshold,%' \
                         AND refusal_threshold > $2 AND refusal_threshold <= $3",
                    )
                    .bind(&org_id)
                    .bind(before)
                    .bind(after)
                    .fetch_one(&mut *tx)
                    .await?;
                    if wanted > 0 {
                        insert_audit!(tx, &entry(&org_id, before, after))?;
                        self.commit(tx).await?;
                    } else {
                        tx.commit().await?;
                    }
                    wanted > 0
                }
                _ => {
                    tx.rollback().await?;
                    false
                }
            }
        }))
    }
}
