//! An organization's activity: its audit log, read by any member, narrowed by project,
//! endpoint and actor, a page at a time (bounded) or as one bounded export.

use app::domain::{
    ActivityEntry, ActivityFilter, ActivityPageView, OrgId, OrgSummary, Plan, ACTIVITY_EXPORT_MAX,
    ACTIVITY_PAGE, ACTIVITY_PAGE_MAX,
};

use super::{Caller, ServiceError, Services};
use crate::store::AuditRow;

/// The project filter offers at most this many projects (the rest can be typed in the
/// address).
const PROJECTS_IN_FILTER: i64 = 500;

/// How much to read: a page (of `limit`, older than `cursor`), or the newest matches for an
/// export.
#[derive(Clone, Copy, Debug)]
pub enum ActivityRange {
    Page {
        cursor: Option<i64>,
        limit: Option<i64>,
    },
    Export,
}

fn entry(row: AuditRow) -> ActivityEntry {
    ActivityEntry {
        id: row.id,
        at_ms: row.created_at,
        actor_kind: row.actor_kind,
        actor: row.actor_name,
        action: row.action,
        target: row.target,
        project_id: row.project_id,
        before: row.before_value,
        after: row.after_value,
        request_id: row.request_id,
    }
}

impl Services {
    /// The organization's activity as a member sees it; "not found" for everyone else. An
    /// out-of-range page size is refused, naming the bounds.
    pub async fn org_activity(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        filter: &ActivityFilter,
        range: ActivityRange,
    ) -> Result<ActivityPageView, ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        let (cursor, limit) = match range {
            ActivityRange::Page { cursor, limit } => {
                let limit = limit.unwrap_or(ACTIVITY_PAGE);
                if !(1..=ACTIVITY_PAGE_MAX).contains(&limit) {
                    return Err(ServiceError::new(
                        app::domain::ErrorCode::InvalidInput,
                        format!(
                            "Invalid limit: ask for 1 to {ACTIVITY_PAGE_MAX} entries per page; \
                             got {limit}."
                        ),
                    ));
                }
                (cursor, limit)
            }
            ActivityRange::Export => (None, ACTIVITY_EXPORT_MAX),
        };
        // One more than asked says whether an older page exists.
        let mut rows = self
            .store
            .activity_of_org(&org.id, filter, cursor, limit + 1)
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = more.then(|| rows.last().map(|r| r.id)).flatten();
        let projects = self
            .store
            .projects_of_org(&org.id, None, PROJECTS_IN_FILTER)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        Ok(ActivityPageView {
            org: OrgSummary {
                id: org.id,
                name: org.name,
                plan: Plan::parse(&org.plan).unwrap_or(Plan::Free),
                role,
            },
            projects,
            filter: filter.clone(),
            entries: rows.into_iter().map(entry).collect(),
            next_cursor,
        })
    }
}
