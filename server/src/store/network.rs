//! Endpoint assignments, removed endpoints, project restrictions and network settings.
//!
//! Every write runs in one transaction that first bumps the organization's `write_version`:
//! on PostgreSQL that takes the organization's row lock, on SQLite the database write lock, so
//! concurrent writers for one organization run one after another and checks made inside the
//! transaction (the per-region limit, removed endpoints, restrictions) stay true until commit.

use serde::Serialize;

use super::{audit::finish, AuditEntry, Pool, ProjectRow, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AssignmentRow {
    pub vpc_endpoint_id: String,
    pub org_id: String,
    pub region_id: String,
    pub label: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The endpoint service name it connected to, once the provider accepted it.
    pub service_name: Option<String>,
    /// The AWS account that owns it, once known.
    pub owner_account: Option<String>,
}

/// How the provider settled an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement<'a> {
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub service_name: Option<&'a str>,
    pub owner_account: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RestrictionRow {
    pub project_id: String,
    pub vpc_endpoint_id: String,
    pub label: String,
    pub created_at: i64,
}

/// What assigning an endpoint did, or the fact that stopped it (nothing was written then).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssignOutcome {
    Created,
    Relabelled {
        old_label: String,
    },
    Unchanged,
    /// The endpoint was removed from this organization before.
    RemovedBefore,
    /// Another organization holds the endpoint.
    HeldByAnotherOrg,
    /// This organization holds it in another region.
    AssignedInRegion(String),
    /// The region already has `limit` assignments.
    LimitReached {
        count: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoveOutcome {
    Removed,
    NotFound,
    /// Projects still restricted to the endpoint (ids, ordered).
    StillRestricts(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestrictOutcome {
    Created,
    Relabelled {
        old_label: String,
    },
    Unchanged,
    /// The project is already restricted to other endpoints: adding one lets more in, which
    /// the caller may not do now (nothing was written).
    WouldLoosen,
    /// The project's network changed after the caller judged the change (nothing written).
    ChangedMeanwhile,
    /// The endpoint is not assigned to the project's organization in the project's region.
    NotAssigned,
}

pub struct AssignRequest<'a> {
    pub org_id: &'a str,
    pub region_id: &'a str,
    pub vpc_endpoint_id: &'a str,
    pub label: &'a str,
    pub limit: i64,
}

/// The requested change to a project's settings; `None` leaves a value alone.
#[derive(Clone, Debug, Default)]
pub struct SettingsChange {
    pub block_public_connections: Option<bool>,
    pub block_vpc_connections: Option<bool>,
    /// Report-only blocking of public connections (an Enclave extension).
    pub public_block_report_only: Option<bool>,
    /// The whole new IP allow list (already checked by the service); `None` keeps it.
    pub allowed_ips: Option<Vec<super::AllowedIpRecord>>,
}

/// What lifting a restriction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnrestrictOutcome {
    /// Lifted; `opened` when it was the last one.
    Lifted {
        opened: bool,
    },
    NotRestricted,
    /// It is the last restriction: lifting it lets every endpoint in, which the caller may
    /// not do now (nothing was written).
    WouldLoosen,
    /// It is the last restriction and the caller did not confirm opening the project to
    /// every endpoint (nothing was written).
    NeedsConfirmation,
    /// The project's network changed after the caller judged the change (nothing written).
    ChangedMeanwhile,
}

/// What a settings change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingsOutcome {
    Changed,
    Unchanged,
    /// It would turn this blocking setting off, which the caller may not do now (nothing
    /// was written).
    WouldLoosen(&'static str),
    /// The project's network settings changed after the caller judged the change (nothing
    /// was written).
    ChangedMeanwhile,
}

const ASSIGNMENT_COLUMNS: &str = "vpc_endpoint_id, org_id, region_id, label, state, state_reason, \
     created_at, updated_at, service_name, owner_account";

/// Whether a project's network settings (settings, restrictions) are still at the feed
/// version a caller judged a change on (`None`: nothing was judged); read inside the
/// caller's transaction.
macro_rules! network_unchanged_since {
    ($tx:ident, $project_id:expr, $version:expr) => {{
        match $version {
            None => true,
            Some(judged) => {
                let (version,): (Option<i64>,) = sqlx::query_as(
                    "SELECT MAX(version) FROM change_events WHERE project_id = $1 AND action IN \
             ('project.settings', 'project.restrict', 'project.unrestrict')",
                )
                .bind($project_id)
                .fetch_one(&mut *$tx)
                .await?;
                version.unwrap_or(0) == judged
            }
        }
    }};
}

/// Serializes writers to one organization for the rest of the transaction.
macro_rules! lock_org {
    ($tx:expr, $org_id:expr) => {
        sqlx::query("UPDATE organizations SET write_version = write_version + 1 WHERE id = $1")
            .bind($org_id)
            .execute(&mut *$tx)
            .await
            .map(|r| r.rows_affected())
    };
}

impl Store {
    /// An organization's assignments, in one region or all, ordered by region then id.
    pub async fn assignments_of_org(
        &self,
        org_id: &str,
        region_id: Option<&str>,
    ) -> Result<Vec<AssignmentRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, AssignmentRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM vpc_endpoint_assignments \
                 WHERE org_id = $1 AND ($2 = '' OR region_id = $2) \
                 ORDER BY region_id, vpc_endpoint_id"
            )))
            .bind(org_id)
            .bind(region_id.unwrap_or(""))
            .fetch_all(pool)
            .await
        })?)
    }

    pub async fn assignment(
        &self,
        vpc_endpoint_id: &str,
    ) -> Result<Option<AssignmentRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, AssignmentRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM vpc_endpoint_assignments WHERE vpc_endpoint_id = $1"
            )))
            .bind(vpc_endpoint_id)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Projects restricted to an endpoint, ordered by id.
    pub async fn projects_restricted_to(
        &self,
        vpc_endpoint_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT project_id FROM project_vpc_endpoint_restrictions \
                 WHERE vpc_endpoint_id = $1 ORDER BY project_id",
            )
            .bind(vpc_endpoint_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Every restriction of the organization's projects, as (endpoint, project) pairs: the
    /// organization page's one query for "which projects each endpoint admits to".
    pub async fn restrictions_of_org(
        &self,
        org_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT r.vpc_endpoint_id, r.project_id FROM project_vpc_endpoint_restrictions r \
                 JOIN projects p ON p.id = r.project_id WHERE p.org_id = $1 \
                 ORDER BY r.project_id",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await
        })?)
    }

    pub async fn restrictions_of_project(
        &self,
        project_id: &str,
    ) -> Result<Vec<RestrictionRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, RestrictionRow>(
                "SELECT project_id, vpc_endpoint_id, label, created_at \
                 FROM project_vpc_endpoint_restrictions WHERE project_id = $1 ORDER BY vpc_endpoint_id",
            )
            .bind(project_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Assigns an endpoint to an organization in a region, or relabels it. Every check runs
    /// inside the organization's write lock; a refused request writes nothing.
    pub async fn assign_endpoint(
        &self,
        request: &AssignRequest<'_>,
        audit: &AuditEntry,
    ) -> Result<AssignOutcome, StoreError> {
        let at = audit.at_ms;
        let outcome = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            lock_org!(tx, request.org_id)?;
            let removed: Option<(String,)> = sqlx::query_as(
                "SELECT vpc_endpoint_id FROM removed_vpc_endpoints WHERE org_id = $1 AND vpc_endpoint_id = $2",
            )
            .bind(request.org_id)
            .bind(request.vpc_endpoint_id)
            .fetch_optional(&mut *tx)
            .await?;
            let existing: Option<(String, String, String)> = sqlx::query_as(
                "SELECT org_id, region_id, label FROM vpc_endpoint_assignments WHERE vpc_endpoint_id = $1",
            )
            .bind(request.vpc_endpoint_id)
            .fetch_optional(&mut *tx)
            .await?;
            let outcome = match existing {
                _ if removed.is_some() => AssignOutcome::RemovedBefore,
                Some((org, _, _)) if org != request.org_id => AssignOutcome::HeldByAnotherOrg,
                Some((_, region, _)) if region != request.region_id => AssignOutcome::AssignedInRegion(region),
                Some((_, _, label)) if label == request.label => AssignOutcome::Unchanged,
                Some((_, _, old_label)) => {
                    sqlx::query(
                        "UPDATE vpc_endpoint_assignments SET label = $2, updated_at = $3 WHERE vpc_endpoint_id = $1",
                    )
                    .bind(request.vpc_endpoint_id)
                    .bind(request.label)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                    AssignOutcome::Relabelled { old_label }
                }
                None => {
                    let (count,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM vpc_endpoint_assignments WHERE org_id = $1 AND region_id = $2",
                    )
                    .bind(request.org_id)
                    .bind(request.region_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    if count >= request.limit {
                        AssignOutcome::LimitReached { count }
                    } else {
                        sqlx::query(
                            "INSERT INTO vpc_endpoint_assignments (vpc_endpoint_id, org_id, region_id, label, \
                             state, created_at, updated_at) VALUES ($1, $2, $3, $4, 'new', $5, $5)",
                        )
                        .bind(request.vpc_endpoint_id)
                        .bind(request.org_id)
                        .bind(request.region_id)
                        .bind(request.label)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                        AssignOutcome::Created
                    }
                }
            };
            finish!(self, tx, matches!(outcome, AssignOutcome::Created | AssignOutcome::Relabelled { .. }), audit);
            Ok::<_, sqlx::Error>(outcome)
        })?;
        Ok(outcome)
    }

    /// Removes an endpoint from an organization and remembers it so it is never re-added.
    /// Refused while projects are restricted to it.
    pub async fn remove_endpoint(
        &self,
        org_id: &str,
        region_id: &str,
        vpc_endpoint_id: &str,
        audit: &AuditEntry,
    ) -> Result<RemoveOutcome, StoreError> {
        let outcome = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            lock_org!(tx, org_id)?;
            let found: Option<(String,)> = sqlx::query_as(
                "SELECT vpc_endpoint_id FROM vpc_endpoint_assignments \
                 WHERE vpc_endpoint_id = $1 AND org_id = $2 AND region_id = $3",
            )
            .bind(vpc_endpoint_id)
            .bind(org_id)
            .bind(region_id)
            .fetch_optional(&mut *tx)
            .await?;
            let outcome = if found.is_none() {
                RemoveOutcome::NotFound
            } else {
                let projects: Vec<(String,)> = sqlx::query_as(
                    "SELECT project_id FROM project_vpc_endpoint_restrictions \
                     WHERE vpc_endpoint_id = $1 ORDER BY project_id",
                )
                .bind(vpc_endpoint_id)
                .fetch_all(&mut *tx)
                .await?;
                if !projects.is_empty() {
                    RemoveOutcome::StillRestricts(projects.into_iter().map(|(p,)| p).collect())
                } else {
                    sqlx::query("DELETE FROM vpc_endpoint_assignments WHERE vpc_endpoint_id = $1")
                        .bind(vpc_endpoint_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO removed_vpc_endpoints (org_id, vpc_endpoint_id, region_id, removed_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(org_id)
                    .bind(vpc_endpoint_id)
                    .bind(region_id)
                    .bind(audit.at_ms)
                    .execute(&mut *tx)
                    .await?;
                    RemoveOutcome::Removed
                }
            };
            finish!(self, tx, outcome == RemoveOutcome::Removed, audit);
            Ok::<_, sqlx::Error>(outcome)
        })?;
        Ok(outcome)
    }

    /// Restricts a project to an endpoint (or relabels the restriction). The endpoint must be
    /// assigned to the project's organization in the project's region.
    /// Without `may_loosen`, only the first restriction (which narrows who may connect) or a
    /// relabel is allowed; judged under the organization's lock.
    pub async fn restrict_project(
        &self,
        project: &ProjectRow,
        vpc_endpoint_id: &str,
        label: &str,
        may_loosen: bool,
        judged_at_version: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<RestrictOutcome, StoreError> {
        let outcome = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            lock_org!(tx, project.org_id.as_str())?;
            if !network_unchanged_since!(tx, project.id.as_str(), judged_at_version) {
                tx.rollback().await?;
                return Ok(RestrictOutcome::ChangedMeanwhile);
            }
            let assigned: Option<(String,)> = sqlx::query_as(
                "SELECT vpc_endpoint_id FROM vpc_endpoint_assignments \
                 WHERE vpc_endpoint_id = $1 AND org_id = $2 AND region_id = $3",
            )
            .bind(vpc_endpoint_id)
            .bind(project.org_id.as_str())
            .bind(project.region_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let existing: Option<(String,)> = sqlx::query_as(
                "SELECT label FROM project_vpc_endpoint_restrictions WHERE project_id = $1 AND vpc_endpoint_id = $2",
            )
            .bind(project.id.as_str())
            .bind(vpc_endpoint_id)
            .fetch_optional(&mut *tx)
            .await?;
            let (restrictions,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM project_vpc_endpoint_restrictions WHERE project_id = $1",
            )
            .bind(project.id.as_str())
            .fetch_one(&mut *tx)
            .await?;
            let outcome = match existing {
                _ if assigned.is_none() => RestrictOutcome::NotAssigned,
                None if !may_loosen && restrictions > 0 => RestrictOutcome::WouldLoosen,
                Some((old,)) if old == label => RestrictOutcome::Unchanged,
                Some((old_label,)) => {
                    sqlx::query(
                        "UPDATE project_vpc_endpoint_restrictions SET label = $3 \
                         WHERE project_id = $1 AND vpc_endpoint_id = $2",
                    )
                    .bind(project.id.as_str())
                    .bind(vpc_endpoint_id)
                    .bind(label)
                    .execute(&mut *tx)
                    .await?;
                    RestrictOutcome::Relabelled { old_label }
                }
                None => {
                    sqlx::query(
                        "INSERT INTO project_vpc_endpoint_restrictions (project_id, vpc_endpoint_id, label, created_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(project.id.as_str())
                    .bind(vpc_endpoint_id)
                    .bind(label)
                    .bind(audit.at_ms)
                    .execute(&mut *tx)
                    .await?;
                    RestrictOutcome::Created
                }
            };
            finish!(self, tx, matches!(outcome, RestrictOutcome::Created | RestrictOutcome::Relabelled { .. }), audit);
            Ok::<_, sqlx::Error>(outcome)
        })?;
        Ok(outcome)
    }

    /// Lifts one restriction; answers whether it existed.
    pub async fn unrestrict_project(
        &self,
        project: &ProjectRow,
        vpc_endpoint_id: &str,
        may_loosen: bool,
        confirm_open: bool,
        judged_at_version: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<UnrestrictOutcome, StoreError> {
        let outcome = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            lock_org!(tx, project.org_id.as_str())?;
            if !network_unchanged_since!(tx, project.id.as_str(), judged_at_version) {
                tx.rollback().await?;
                return Ok(UnrestrictOutcome::ChangedMeanwhile);
            }
            let (restrictions,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM project_vpc_endpoint_restrictions WHERE project_id = $1",
            )
            .bind(project.id.as_str())
            .fetch_one(&mut *tx)
            .await?;
            let n = sqlx::query(
                "DELETE FROM project_vpc_endpoint_restrictions WHERE project_id = $1 AND vpc_endpoint_id = $2",
            )
            .bind(project.id.as_str())
            .bind(vpc_endpoint_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let outcome = match n {
                0 => UnrestrictOutcome::NotRestricted,
                _ if restrictions == 1 && !may_loosen => UnrestrictOutcome::WouldLoosen,
                _ if restrictions == 1 && !confirm_open => UnrestrictOutcome::NeedsConfirmation,
                _ => UnrestrictOutcome::Lifted { opened: restrictions == 1 },
            };
            finish!(self, tx, matches!(outcome, UnrestrictOutcome::Lifted { .. }), audit);
            Ok::<_, sqlx::Error>(outcome)
        })?;
        Ok(outcome)
    }

    /// Changes a project's settings. A value that changes goes to `applying` until the data
    /// plane confirms it; the audit entry is written only when something changed.
    /// Without `may_loosen`, turning a blocking setting off is refused (judged under the
    /// organization's lock, against the value there); and nothing is written unless the
    /// project's network settings are still at `judged_at_version` (the feed version of
    /// their last change) — what the caller judged the change on.
    pub async fn update_project_settings(
        &self,
        project_id: &str,
        org_id: &str,
        change: &SettingsChange,
        may_loosen: bool,
        judged_at_version: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<SettingsOutcome, StoreError> {
        let outcome = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            lock_org!(tx, org_id)?;
            if !network_unchanged_since!(tx, project_id, judged_at_version) {
                tx.rollback().await?;
                return Ok(SettingsOutcome::ChangedMeanwhile);
            }
            if !may_loosen {
                let current: Option<(bool, bool)> = sqlx::query_as(
                    "SELECT block_public_connections, block_vpc_connections FROM projects WHERE id = $1",
                )
                .bind(project_id)
                .fetch_optional(&mut *tx)
                .await?;
                let (public, vpc) = current.unwrap_or((false, false));
                let loosening = if public && change.block_public_connections == Some(false) {
                    Some("block_public_connections")
                } else if vpc && change.block_vpc_connections == Some(false) {
                    Some("block_vpc_connections")
                } else if let Some(new) = &change.allowed_ips {
                    let (old,): (String,) =
                        sqlx::query_as("SELECT allowed_ips FROM projects WHERE id = $1")
                            .bind(project_id)
                            .fetch_one(&mut *tx)
                            .await?;
                    let old: Vec<super::AllowedIpRecord> =
                        serde_json::from_str(&old).unwrap_or_default();
                    // A first list, or fewer entries of the same list, narrows who may
                    // connect; emptying it or adding to it widens.
                    let narrows = !new.is_empty()
                        && (old.is_empty()
                            || new.iter().all(|n| old.iter().any(|o| o.entry == n.entry)));
                    let same = new.len() == old.len()
                        && new.iter().all(|n| old.iter().any(|o| o.entry == n.entry));
                    (!narrows && !same).then_some("allowed_ips")
                } else {
                    None
                };
                if let Some(field) = loosening {
                    tx.rollback().await?;
                    return Ok(SettingsOutcome::WouldLoosen(field));
                }
            }
            let mut n = 0;
            if let Some(value) = change.block_public_connections {
                n += sqlx::query(
                    "UPDATE projects SET block_public_connections = $2, \
                     block_public_connections_state = 'applying' \
                     WHERE id = $1 AND block_public_connections <> $2",
                )
                .bind(project_id)
                .bind(value)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            if let Some(value) = change.block_vpc_connections {
                n += sqlx::query(
                    "UPDATE projects SET block_vpc_connections = $2, \
                     block_vpc_connections_state = 'applying' \
                     WHERE id = $1 AND block_vpc_connections <> $2",
                )
                .bind(project_id)
                .bind(value)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            if let Some(list) = &change.allowed_ips {
                let json = serde_json::to_string(list).unwrap_or_else(|_| "[]".to_string());
                n += sqlx::query(
                    "UPDATE projects SET allowed_ips = $2 WHERE id = $1 AND allowed_ips <> $2",
                )
                .bind(project_id)
                .bind(json)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            if let Some(value) = change.public_block_report_only {
                n += sqlx::query(
                    "UPDATE projects SET public_block_report_only = $2 \
                     WHERE id = $1 AND public_block_report_only <> $2",
                )
                .bind(project_id)
                .bind(value)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            finish!(self, tx, n > 0, audit);
            Ok::<_, sqlx::Error>(if n > 0 { SettingsOutcome::Changed } else { SettingsOutcome::Unchanged })
        })?;
        Ok(outcome)
    }

    // ---- for the reconciler ------------------------------------------------------------

    /// Assignments the provider has not decided on yet, oldest first.
    pub async fn assignments_awaiting_review(
        &self,
        limit: i64,
        now_ms: i64,
    ) -> Result<Vec<AssignmentRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, AssignmentRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM vpc_endpoint_assignments WHERE state = 'new' \
                 AND (next_review_at IS NULL OR next_review_at <= $2) \
                 ORDER BY created_at, vpc_endpoint_id LIMIT $1"
            )))
            .bind(limit)
            .bind(now_ms)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Moves an assignment out of `new`. Conditional, so several reconcilers (one per server
    /// instance) never decide twice; answers whether this call made the change.
    pub async fn settle_assignment(
        &self,
        vpc_endpoint_id: &str,
        settlement: &Settlement<'_>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let settled = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE vpc_endpoint_assignments SET state = $2, state_reason = $3, updated_at = $4, \
                 service_name = $5, owner_account = $6, next_review_at = NULL \
                 WHERE vpc_endpoint_id = $1 AND state = 'new'",
            )
            .bind(vpc_endpoint_id)
            .bind(settlement.state)
            .bind(settlement.reason)
            .bind(audit.at_ms)
            .bind(settlement.service_name)
            .bind(settlement.owner_account)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            finish!(self, tx, n == 1, audit);
            Ok::<_, sqlx::Error>(n == 1)
        })?;
        Ok(settled)
    }
}
