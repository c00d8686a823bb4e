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
            self.metrics.cache(true);
            return Ok(route);
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
            Ok(route) => Ok(route),
            Err(e) => {
                if matches!(*e, LookupError::NotFound) {
                    self.missing.insert(label.to_string(), ()).await;
                }
                Err((*e).clone())
            }
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
