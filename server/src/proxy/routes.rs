//! Routes by host label, cached: bounded (`moka`), single-flight (concurrent lookups of one
//! label make one call), kept current by the change feed and dropped after the maximum
//! staleness, after which a lookup must reach the control plane or fail closed. Labels that
//! cannot be host labels are refused before any lookup and never cached; labels no project
//! has are remembered briefly in a bounded cache of their own.

use std::{sync::Arc, time::Duration};

use moka::future::Cache;

use super::{
    control_plane::{CallError, ControlPlane},
    metrics::Metrics,
};
use crate::{data_plane_api::Route, services::valid_host_label};

/// Why a lookup gave no route.
#[derive(Clone, Debug, thiserror::Error)]
pub enum LookupError {
    #[error("not a host label")]
    Invalid,
    #[error("no project has this host label")]
    NotFound,
    #[error("{0}")]
    ControlPlane(CallError),
}

pub struct Routes {
    found: Cache<String, Arc<Route>>,
    missing: Cache<String, ()>,
    /// The feed version of the latest change to each project and organization seen. A route
    /// read before it (a lookup that was under way when the change arrived) is not trusted.
    changed_projects: Cache<String, i64>,
    changed_orgs: Cache<String, i64>,
    control_plane: ControlPlane,
    metrics: Metrics,
}

impl Routes {
    pub fn new(
        control_plane: ControlPlane,
        metrics: Metrics,
        capacity: u64,
        max_staleness: Duration,
        not_found_ttl: Duration,
    ) -> Self {
        Self {
            found: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(max_staleness)
                .support_invalidation_closures()
                .build(),
            missing: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(not_found_ttl)
                .build(),
            // Kept as long as a route may be: an older route has expired anyway.
            changed_projects: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(max_staleness)
                .build(),
            changed_orgs: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(max_staleness)
                .build(),
            control_plane,
            metrics,
        }
    }

    /// The route for `label` (already lower-cased, without `-pooler`).
    pub async fn get(&self, label: &str) -> Result<Arc<Route>, LookupError> {
        if !valid_host_label(label) {
            return Err(LookupError::Invalid);
        }
        if self.missing.contains_key(label) {
            self.metrics.cache(true);
            return Err(LookupError::NotFound);
        }
        if let Some(route) = self.found.get(label).await {
            if self.current(&route).await {
                self.metrics.cache(true);
                return Ok(route);
            }
            self.found.invalidate(label).await;
        }
        self.metrics.cache(false);
        let control_plane = &self.control_plane;
        let fetched = self
            .found
            .try_get_with(label.to_string(), async move {
                match control_plane.route(label).await {
                    Ok(Some(route)) => Ok(Arc::new(route)),
                    Ok(None) => Err(LookupError::NotFound),
                    Err(e) => Err(LookupError::ControlPlane(e)),
                }
            })
            .await;
        match fetched {
            // Read before a change this proxy has already seen: read again, once.
            Ok(route) if !self.current(&route).await => {
                self.found.invalidate(label).await;
                match self.control_plane.route(label).await {
                    Ok(Some(route)) => {
                        let route = Arc::new(route);
                        self.found.insert(label.to_string(), route.clone()).await;
                        Ok(route)
                    }
                    Ok(None) => Err(LookupError::NotFound),
                    Err(e) => Err(LookupError::ControlPlane(e)),
                }
            }
            Ok(route) => Ok(route),
            Err(e) => {
                if matches!(*e, LookupError::NotFound) {
                    self.missing.insert(label.to_string(), ()).await;
                }
                Err((*e).clone())
            }
        }
    }

    /// Whether `route` was read at or after every change seen for its project and org.
    async fn current(&self, route: &Route) -> bool {
        let project = self
            .changed_projects
            .get(&route.project_id)
            .await
            .unwrap_or(0);
        let org = self.changed_orgs.get(&route.org_id).await.unwrap_or(0);
        route.version >= project.max(org)
    }

    /// Records that a change at `version` touched a project, or an organization's projects.
    pub async fn changed(&self, org_id: Option<&str>, project_id: Option<&str>, version: i64) {
        match (project_id, org_id) {
            (Some(p), _) => self.changed_projects.insert(p.to_string(), version).await,
            (None, Some(o)) => self.changed_orgs.insert(o.to_string(), version).await,
            (None, None) => {}
        }
    }

    /// Drops cached routes of a project, or of every project of an organization.
    pub fn invalidate(&self, org_id: Option<&str>, project_id: Option<&str>) {
        let (org, project) = (org_id.map(str::to_owned), project_id.map(str::to_owned));
        let _ = self
            .found
            .invalidate_entries_if(move |_, route| match (&project, &org) {
                (Some(p), _) => &route.project_id == p,
                (None, Some(o)) => &route.org_id == o,
                (None, None) => false,
            });
        // A project created meanwhile may now have a label that was missing.
        self.missing.invalidate_all();
    }

    pub fn invalidate_all(&self) {
        self.found.invalidate_all();
        self.missing.invalidate_all();
    }

    /// Entries held now, found and missing (after pending evictions run).
    pub async fn entries(&self) -> (u64, u64) {
        self.found.run_pending_tasks().await;
        self.missing.run_pending_tasks().await;
        (self.found.entry_count(), self.missing.entry_count())
    }
}
