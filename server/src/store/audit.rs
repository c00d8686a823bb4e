//! The audit log: one row per change, written in the same transaction as the change.

use serde::Serialize;

use super::{Pool, Store, StoreError};

/// Who did something, as recorded in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditActor {
    /// `user`, `api_key`, `operator_cli` or `system`.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
}

/// One change, as the service layer describes it.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub org_id: Option<String>,
    pub project_id: Option<String>,
    pub actor: AuditActor,
    pub action: &'static str,
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub at_ms: i64,
}

/// An audit log row as read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub org_id: Option<String>,
    pub project_id: Option<String>,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub before_value: Option<String>,
    pub after_value: Option<String>,
    pub request_id: Option<String>,
    pub created_at: i64,
}

/// Inserts an audit entry on an open transaction, and the change event that carries it on the
/// feed; answers the event's version (works for both engines: the macro expands once per
/// driver). Call it last in a transaction: it takes the feed head's lock until commit.
macro_rules! insert_audit {
    ($tx:expr, $entry:expr) => {{
        let entry: &$crate::store::AuditEntry = $entry;
        match sqlx::query(
            "INSERT INTO audit_log (org_id, project_id, actor_kind, actor_id, actor_name, action, \
             target, before_value, after_value, request_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(entry.org_id.as_deref())
        .bind(entry.project_id.as_deref())
        .bind(entry.actor.kind)
        .bind(entry.actor.id.as_str())
        .bind(entry.actor.name.as_str())
        .bind(entry.action)
        .bind(entry.target.as_str())
        .bind(entry.before.as_ref().map(|v| v.to_string()))
        .bind(entry.after.as_ref().map(|v| v.to_string()))
        .bind(entry.request_id.as_deref())
        .bind(entry.at_ms)
        .execute(&mut *$tx)
        .await
        {
            Err(e) => Err(e),
            Ok(_) => match $crate::store::feed::append_event!($tx, entry) {
                Err(e) => Err(e),
                Ok(version) => $crate::store::webhooks::enqueue_deliveries!($tx, entry, version)
                    .map(|_| version),
            },
        }
    }};
}
pub(crate) use insert_audit;

/// Ends a transaction that changes something only when `$changed`: then the audit entry (and
/// its feed event) is written and the transaction committed; otherwise it is rolled back, so
/// a refused or no-op request writes nothing.
macro_rules! finish {
    ($store:expr, $tx:ident, $changed:expr, $audit:expr) => {
        if $changed {
            $crate::store::audit::insert_audit!($tx, $audit)?;
            $store.commit($tx).await?;
        } else {
            $tx.rollback().await?;
        }
    };
}
pub(crate) use finish;

impl Store {
    /// Records a change that has no other row to write (e.g. creating an API key is written
    /// with its own statement; this is for entries on their own).
    pub async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            insert_audit!(tx, entry)?;
            self.commit(tx).await
        })?;
        Ok(())
    }

    /// The newest entries for a project, newest first.
    pub async fn audit_of_project(
        &self,
        project_id: &str,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, AuditRow>(
                "SELECT * FROM audit_log WHERE project_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(project_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// An organization's entries (its projects included), newest first, narrowed by
    /// `filter`, older than `before_id` when paging, at most `limit`.
    pub async fn activity_of_org(
        &self,
        org_id: &str,
        filter: &app::domain::ActivityFilter,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let project = filter.project_id.as_ref().map(|p| p.as_str().to_string());
        let endpoint = filter
            .vpc_endpoint_id
            .as_ref()
            .map(|e| e.as_str().to_string());
        // Endpoint ids are parsed (`vpce-` and hex), so they hold no LIKE wildcard.
        let endpoint_mention = endpoint.as_ref().map(|e| format!("%\"{e}\"%"));
        // A person acts in the console as themselves and elsewhere through their personal
        // keys; an organization key is known by its name (see `Caller::actor`).
        let actor = filter.actor.clone();
        let via_personal_key = actor.as_ref().map(|a| format!("personal key of {a}"));
        let org_key = actor.as_ref().map(|a| format!("organization key {a}"));
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, AuditRow>(
                "SELECT * FROM audit_log WHERE org_id = $1 \
                 AND ($2 IS NULL OR project_id = $2) \
                 AND ($3 IS NULL OR target = $3 OR before_value LIKE $4 OR after_value LIKE $4) \
                 AND ($5 IS NULL OR actor_name = $5 OR actor_id = $5 OR actor_name = $8 \
                      OR actor_name = $9) \
                 AND ($6 IS NULL OR id < $6) \
                 ORDER BY id DESC LIMIT $7",
            )
            .bind(org_id)
            .bind(project.as_deref())
            .bind(endpoint.as_deref())
            .bind(endpoint_mention.as_deref())
            .bind(actor.as_deref())
            .bind(before_id)
            .bind(limit)
            .bind(via_personal_key.as_deref())
            .bind(org_key.as_deref())
            .fetch_all(pool)
            .await
        })?)
    }

    /// The newest entries for an organization (its projects included), newest first.
    pub async fn audit_of_org(
        &self,
        org_id: &str,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, AuditRow>(
                "SELECT * FROM audit_log WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(org_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }
}

impl AuditEntry {
    pub fn org(mut self, org_id: &str) -> Self {
        self.org_id = Some(org_id.to_string());
        self
    }

    pub fn project(mut self, project_id: &str) -> Self {
        self.project_id = Some(project_id.to_string());
        self
    }

    pub fn before(mut self, value: serde_json::Value) -> Self {
        self.before = Some(value);
        self
    }

    pub fn after(mut self, value: serde_json::Value) -> Self {
        self.after = Some(value);
        self
    }
}
