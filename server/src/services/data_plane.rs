//! What the data plane asks of the control plane: the route and policy for a host label,
//! its heartbeats (which make "applied" a fact), and aggregated connection evidence. Only the
//! data plane (and the server and operators) may ask; operators set upstream addresses.

use app::domain::ErrorCode;
use app::domain::{EndpointState, ProjectId};
use serde_json::json;

use super::{accounts::require_operator, Caller, Principal, ServiceError, Services};
use crate::{
    data_plane_api::{EvidenceReport, Heartbeat, Route, RouteEndpoint, MAX_EVIDENCE_ITEMS},
    store::{EvidenceRow, ProjectRow, ProxyHeartbeatRow},
};

fn data_plane_only(caller: &Caller) -> Result<(), ServiceError> {
    match caller.principal {
        Principal::DataPlane | Principal::System | Principal::OperatorCli => Ok(()),
        _ => Err(ServiceError::new(
            ErrorCode::PermissionDenied,
            "Only the data plane may ask this.",
        )),
    }
}

/// Whether `label` can be a project's host label (a DNS label of `[a-z0-9-]`, at most 63
/// characters). Anything else is never looked up.
pub fn valid_host_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Where a project's network change stands in the data plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rollout {
    /// Every live proxy has applied it.
    Applied { proxies: usize },
    /// `acknowledged` of `proxies` live proxies have applied it.
    Applying { acknowledged: usize, proxies: usize },
    /// No proxy has reported within the window: nothing enforces it yet.
    NoDataPlane,
}

impl Rollout {
    /// `applied`, `applying` or `no_data_plane`.
    pub fn state(&self) -> &'static str {
        match self {
            Rollout::Applied { .. } => "applied",
            Rollout::Applying { .. } => "applying",
            Rollout::NoDataPlane => "no_data_plane",
        }
    }
}

fn invalid(message: String) -> ServiceError {
    ServiceError::new(ErrorCode::InvalidInput, message)
}

impl Services {
    /// The policy a proxy applies to a project: its settings, restrictions and the
    /// organization's endpoints in its region, read at (or after) `version`.
    pub(crate) async fn route_of_project(
        &self,
        project: &ProjectRow,
        version: i64,
    ) -> Result<Route, ServiceError> {
        let restrictions = self
            .store
            .restrictions_of_project(&project.id)
            .await?
            .into_iter()
            .map(|r| r.vpc_endpoint_id)
            .collect();
        let endpoints = self
            .store
            .assignments_of_org(&project.org_id, Some(&project.region_id))
            .await?
            .into_iter()
            .map(|a| RouteEndpoint {
                state: EndpointState::parse(&a.state).unwrap_or(EndpointState::Rejected),
                vpc_endpoint_id: a.vpc_endpoint_id,
            })
            .collect();
        let upstream = self.store.project_upstream(&project.id).await?;
        Ok(Route {
            project_id: project.id.clone(),
            org_id: project.org_id.clone(),
            region_id: project.region_id.clone(),
            upstream: upstream.address.filter(|a| !a.is_empty()),
            pooler_upstream: upstream.pooler_address.filter(|a| !a.is_empty()),
            block_public_connections: project.block_public_connections,
            public_block_report_only: project.public_block_report_only,
            block_vpc_connections: project.block_vpc_connections,
            allowed_ips: project.allowed_ip_rules(),
            restrictions,
            endpoints,
            version,
        })
    }

    /// The route for the project a client names by its host label. The feed version is read
    /// first, so any change committed after the policy was read arrives on the feed.
    pub async fn route(&self, caller: &Caller, label: &str) -> Result<Option<Route>, ServiceError> {
        data_plane_only(caller)?;
        if !valid_host_label(label) {
            return Err(invalid(format!(
                "Invalid endpoint label {:?}: a host label is 1-63 characters of a-z, 0-9 and -.",
                label.chars().take(70).collect::<String>()
            )));
        }
        let version = self.store.feed_head().await?;
        let Some(project) = self.store.project_by_host_label(label).await? else {
            return Ok(None);
        };
        Ok(Some(self.route_of_project(&project, version).await?))
    }

    /// Records a proxy's heartbeat. A proxy whose applied version moved wakes the pages that
    /// show "applying".
    pub async fn record_heartbeat(
        &self,
        caller: &Caller,
        heartbeat: &Heartbeat,
    ) -> Result<(), ServiceError> {
        data_plane_only(caller)?;
        let id = heartbeat.proxy_id.trim();
        if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
            return Err(invalid(
                "Invalid proxy_id: give 1-128 printable characters.".to_string(),
            ));
        }
        let row = ProxyHeartbeatRow {
            proxy_id: id.to_string(),
            version: heartbeat.version.max(0),
            started_at: heartbeat.started_at_ms,
            last_seen_at: self.clock.now_ms(),
            counters: serde_json::to_string(&heartbeat.counters).unwrap_or_default(),
        };
        if self.store.record_heartbeat(&row).await? {
            self.store.announce_acknowledgement().await?;
            self.announce_applied_settings().await?;
        }
        Ok(())
    }

    /// Reports `settings.applied` (to webhooks, through the audit log) for the projects whose
    /// settings changes every live proxy has now applied.
    async fn announce_applied_settings(&self) -> Result<(), ServiceError> {
        let since = self.clock.now_ms() - self.config.proxy_live_window_ms;
        let proxies = self.store.live_proxies(since).await?;
        let Some(acknowledged) = proxies.iter().map(|p| p.version).min() else {
            return Ok(());
        };
        let caller = Caller::system();
        let count = proxies.len();
        self.store
            .announce_applied_settings(acknowledged, |project_id, org_id, version| {
                self.audit(&caller, "project.settings_applied", project_id)
                    .org(org_id)
                    .project(project_id)
                    .after(serde_json::json!({"version": version, "proxies": count}))
            })
            .await?;
        Ok(())
    }

    /// Adds a proxy's aggregated evidence (bounded per report and per project).
    pub async fn record_evidence(
        &self,
        caller: &Caller,
        report: &EvidenceReport,
    ) -> Result<usize, ServiceError> {
        data_plane_only(caller)?;
        if report.items.len() > MAX_EVIDENCE_ITEMS {
            return Err(invalid(format!(
                "Too many evidence items: {} in one report; send at most {MAX_EVIDENCE_ITEMS}.",
                report.items.len()
            )));
        }
        let rows: Vec<EvidenceRow> = report
            .items
            .iter()
            .filter(|i| ProjectId::parse(&i.project_id).is_ok())
            .map(|i| EvidenceRow {
                project_id: i.project_id.clone(),
                vpc_endpoint_id: i
                    .vpc_endpoint_id
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(64)
                    .collect(),
                outcome: if i.allowed { "allowed" } else { "refused" }.to_string(),
                reason: i.reason.chars().take(64).collect(),
                client_network: i.client_network.chars().take(64).collect(),
                count: i.count.min(i64::MAX as u64) as i64,
                first_seen: i.first_seen_ms,
                last_seen: i.last_seen_ms,
            })
            .collect();
        let dropped = self
            .store
            .add_evidence(&rows, self.config.evidence_per_project)
            .await?;
        // Refusals per project this hour, for `refusals.above_threshold`.
        let mut refused: std::collections::BTreeMap<&str, i64> = Default::default();
        for row in rows.iter().filter(|r| r.outcome == "refused") {
            *refused.entry(row.project_id.as_str()).or_default() += row.count;
        }
        let now = self.clock.now_ms();
        let hour = now - now.rem_euclid(3_600_000);
        let caller = Caller::system();
        for (project_id, count) in refused {
            self.store
                .record_refusals(project_id, hour, count, |org_id, before, after| {
                    self.audit(&caller, "project.refusals", project_id)
                        .org(org_id)
                        .project(project_id)
                        .after(serde_json::json!({
                            "previous": before,
                            "refused_this_hour": after,
                            "hour_started_at": chrono::DateTime::from_timestamp_millis(hour)
                                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                        }))
                })
                .await?;
        }
        Ok(dropped)
    }

    /// Where the project's latest network change (settings or restrictions) stands.
    pub async fn rollout(
        &self,
        caller: &Caller,
        project_id: &str,
    ) -> Result<Rollout, ServiceError> {
        let since = self.clock.now_ms() - self.config.proxy_live_window_ms;
        let proxies = self.store.recent_live_proxies(since).await?;
        if proxies.is_empty() {
            return Ok(Rollout::NoDataPlane);
        }
        let at = self.store.read_stamp(caller.reads_since()).await?;
        let version = self
            .store
            .project_network_version_as_of(at, project_id)
            .await?;
        let acknowledged = proxies.iter().filter(|p| p.version >= version).count();
        Ok(if acknowledged == proxies.len() {
            Rollout::Applied {
                proxies: proxies.len(),
            }
        } else {
            Rollout::Applying {
                acknowledged,
                proxies: proxies.len(),
            }
        })
    }

    /// Drops old evidence, silent proxies and old feed events (the reconciler calls this).
    pub async fn prune_data_plane(&self) -> Result<(), ServiceError> {
        let now = self.clock.now_ms();
        self.store
            .prune_data_plane(now - self.config.evidence_retention_ms)
            .await?;
        self.store
            .prune_feed(now - self.config.evidence_retention_ms, 10_000)
            .await?;
        Ok(())
    }

    /// Sets where a project's Postgres (or, with `pooler`, its connection pooler) listens
    /// (`host:port`; operators only).
    pub async fn set_project_upstream(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        address: &str,
        pooler: bool,
    ) -> Result<(), ServiceError> {
        require_operator(caller)?;
        let address = address.trim();
        let valid = address.len() <= 255
            && address.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty()
                    && !host.chars().any(|c| c.is_whitespace() || c.is_control())
                    && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
        if !valid {
            return Err(invalid(format!(
                "Invalid address: {address:?} is not host:port, e.g. 10.0.3.12:5432."
            )));
        }
        let project = self
            .store
            .project(project_id.as_str())
            .await?
            .ok_or_else(|| super::principal::project_not_found(project_id.as_str()))?;
        let audit = self
            .audit(caller, "project.set_upstream", &project.id)
            .org(&project.org_id)
            .project(&project.id)
            .after(json!({"address": address, "pooler": pooler}));
        self.store
            .set_project_upstream(&project.id, address, pooler, self.clock.now_ms(), &audit)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::valid_host_label;

    #[test]
    fn host_labels() {
        assert!(valid_host_label("ep-bold-firefly-809439"));
        assert!(valid_host_label("ep-bold-firefly-809439-pooler"));
        for bad in [
            "",
            "-ep",
            "ep-",
            "EP",
            "ep.x",
            "ep_x",
            &"a".repeat(64),
            "ep%",
        ] {
            assert!(!valid_host_label(bad), "{bad:?}");
        }
    }
}
