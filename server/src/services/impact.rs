//! What a network-settings change would refuse, judged from the proxies' evidence: the
//! connections let through in the last 24 hours are decided again under the new settings
//! (with the same rule the proxies apply), and a change that would refuse some of them, or
//! block public access while no private path has ever worked, needs an acknowledgement.

use app::domain::ErrorCode;
use app::domain::{AllowedIpRule, IpAllowEntry};

use super::{Caller, ServiceError, Services};
use crate::store::{ProjectRow, SettingsChange};

/// How far back recent traffic is judged.
pub const IMPACT_WINDOW_MS: i64 = 24 * 3_600_000;

/// What a change would refuse.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Impact {
    /// Connections seen in the last 24 h that the new settings would refuse.
    pub refused_connections: i64,
    /// Public client networks among them.
    pub refused_public_networks: usize,
    /// Endpoints among them.
    pub refused_endpoints: Vec<String>,
    /// The change blocks public access while no private connection has ever been seen
    /// (within the evidence retention) or no accepted endpoint can reach the project.
    pub no_private_path: bool,
    /// One sentence per finding, for people.
    pub findings: Vec<String>,
}

impl Impact {
    pub fn needs_acknowledgement(&self) -> bool {
        !self.findings.is_empty()
    }

    pub fn summary(&self) -> String {
        self.findings.join(" ")
    }
}

/// A change whose effect on recent traffic is judged.
#[derive(Clone, Debug)]
pub enum NetworkChange<'a> {
    Settings(&'a SettingsChange),
    /// Restrict the project to one more endpoint.
    Restrict(&'a str),
    /// Lift the restriction to an endpoint.
    Unrestrict(&'a str),
}

/// How the caller deals with the acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acknowledgement {
    /// The console: the person ticked the box (or not).
    Given(bool),
    /// Neon-compatible API calls apply changes as Neon does, without asking.
    NotAsked,
}

/// The first address of a client network as evidence records it (`203.0.113.0/24`).
fn network_address(network: &str) -> Option<std::net::IpAddr> {
    network.split('/').next()?.parse().ok()
}

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Services {
    /// What a settings `change` would refuse for `project`, from the evidence.
    pub async fn settings_impact(
        &self,
        project: &ProjectRow,
        change: &SettingsChange,
    ) -> Result<Impact, ServiceError> {
        self.change_impact(project, &NetworkChange::Settings(change))
            .await
    }

    /// What `change` would refuse for `project`, from the evidence.
    pub async fn change_impact(
        &self,
        project: &ProjectRow,
        change: &NetworkChange<'_>,
    ) -> Result<Impact, ServiceError> {
        let mut impacts = self
            .change_impacts(project, std::slice::from_ref(change))
            .await?;
        Ok(impacts.pop().unwrap_or_default())
    }

    /// [`Services::change_impact`] for several changes, reading the project's route and
    /// evidence once (a page judges every row's restrict or lift).
    pub async fn change_impacts(
        &self,
        project: &ProjectRow,
        changes: &[NetworkChange<'_>],
    ) -> Result<Vec<Impact>, ServiceError> {
        let route = self.route_of_project(project, 0).await?;
        let evidence = self
            .store
            .evidence_of_project(&project.id, "allowed", 1_000)
            .await?;
        Ok(changes
            .iter()
            .map(|change| self.judge_against(project, route.clone(), &evidence, change))
            .collect())
    }

    /// What one change would refuse, given the project's current route and evidence.
    fn judge_against(
        &self,
        project: &ProjectRow,
        mut route: crate::data_plane_api::Route,
        evidence: &[crate::store::EvidenceRow],
        change: &NetworkChange<'_>,
    ) -> Impact {
        let now = self.clock.now_ms();
        let empty = SettingsChange::default();
        let settings = match change {
            NetworkChange::Settings(settings) => settings,
            NetworkChange::Restrict(id) => {
                if !route.restrictions.iter().any(|r| r == id) {
                    route.restrictions.push(id.to_string());
                }
                &empty
            }
            NetworkChange::Unrestrict(id) => {
                route.restrictions.retain(|r| r != id);
                &empty
            }
        };
        let change = settings;
        if let Some(v) = change.block_public_connections {
            route.block_public_connections = v;
        }
        if let Some(v) = change.block_vpc_connections {
            route.block_vpc_connections = v;
        }
        if let Some(v) = change.public_block_report_only {
            route.public_block_report_only = v;
        }
        if let Some(list) = &change.allowed_ips {
            route.allowed_ips = list
                .iter()
                .filter_map(|r| {
                    IpAllowEntry::parse(&r.entry)
                        .ok()
                        .map(|entry| AllowedIpRule {
                            entry,
                            expires_at_ms: r.expires_at,
                        })
                })
                .collect();
        }
        let mut impact = Impact::default();
        let mut public_networks = std::collections::BTreeSet::new();
        let mut private_ever = false;
        for row in evidence {
            let endpoint = Some(row.vpc_endpoint_id.as_str()).filter(|e| !e.is_empty());
            private_ever |= endpoint.is_some();
            if row.last_seen < now - IMPACT_WINDOW_MS {
                continue;
            }
            let decision = route.decide(endpoint, network_address(&row.client_network), now);
            if decision.allow {
                continue;
            }
            impact.refused_connections += row.count;
            match endpoint {
                None => {
                    public_networks.insert(row.client_network.clone());
                }
                Some(e) => {
                    if !impact.refused_endpoints.iter().any(|x| x == e) {
                        impact.refused_endpoints.push(e.to_string());
                    }
                }
            }
        }
        impact.refused_public_networks = public_networks.len();
        let public_count: i64 = evidence
            .iter()
            .filter(|r| r.vpc_endpoint_id.is_empty() && r.last_seen >= now - IMPACT_WINDOW_MS)
            .filter(|r| public_networks.contains(&r.client_network))
            .map(|r| r.count)
            .sum();
        if impact.refused_public_networks > 0 {
            let named: Vec<&str> = public_networks.iter().take(5).map(String::as_str).collect();
            let more = public_networks.len().saturating_sub(named.len());
            impact.findings.push(format!(
                "Public connections from {} network(s), {} in the last 24 h, would be refused ({}{}).",
                impact.refused_public_networks,
                thousands(public_count),
                named.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            ));
        }
        if !impact.refused_endpoints.is_empty() {
            impact.findings.push(format!(
                "Connections through {} seen in the last 24 h would be refused.",
                impact.refused_endpoints.join(", ")
            ));
        }
        let newly_blocks_public =
            change.block_public_connections == Some(true) && !project.block_public_connections;
        if newly_blocks_public {
            let reachable = self.project_reachable_in_route(&route);
            if !reachable {
                impact.no_private_path = true;
                impact.findings.push(
                    "No accepted VPC endpoint can reach this project now: blocking public access \
                     will lock everyone out until one can."
                        .to_string(),
                );
            } else if !private_ever {
                impact.no_private_path = true;
                impact.findings.push(
                    "No private connection has ever been seen for this project: test one through \
                     an endpoint first (setup step 5), or confirm."
                        .to_string(),
                );
            }
        }
        impact
    }

    /// What removing an endpoint from the organization would refuse: every connection
    /// through it in the last 24 hours, to any of the organization's projects.
    pub async fn removal_impact(
        &self,
        org_id: &str,
        endpoint: &str,
    ) -> Result<Impact, ServiceError> {
        let evidence = self.store.allowed_evidence_of_org(org_id, None).await?;
        Ok(self.removal_impact_from(&evidence, endpoint))
    }

    /// [`Services::removal_impact`] from the organization's allowed evidence, read once by a
    /// caller that judges several endpoints (the organization page).
    pub fn removal_impact_from(
        &self,
        evidence: &[crate::store::EvidenceRow],
        endpoint: &str,
    ) -> Impact {
        let since = self.clock.now_ms() - IMPACT_WINDOW_MS;
        let rows: Vec<_> = evidence
            .iter()
            .filter(|r| r.vpc_endpoint_id == endpoint && r.last_seen >= since)
            .collect();
        let mut impact = Impact::default();
        if rows.is_empty() {
            return impact;
        }
        let projects: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r.project_id.as_str()).collect();
        impact.refused_connections = rows.iter().map(|r| r.count).sum();
        impact.refused_endpoints = vec![endpoint.to_string()];
        impact.findings.push(format!(
            "Connections through {endpoint} to {} project(s), {} in the last 24 h, would be refused.",
            projects.len(),
            thousands(impact.refused_connections)
        ));
        impact
    }

    /// Whether some accepted endpoint may reach the project under `route`'s policy.
    fn project_reachable_in_route(&self, route: &crate::data_plane_api::Route) -> bool {
        !route.block_vpc_connections
            && route.endpoints.iter().any(|e| {
                e.state == app::domain::EndpointState::Accepted
                    && (route.restrictions.is_empty()
                        || route.restrictions.contains(&e.vpc_endpoint_id))
            })
    }

    /// The preview of a settings change for a project the caller may see (the REST API's
    /// `dry_run`, the console's confirmation forms).
    pub async fn preview_settings_change(
        &self,
        caller: &Caller,
        project_id: &app::domain::ProjectId,
        change: &SettingsChange,
    ) -> Result<Impact, ServiceError> {
        let (project, _, _) = self.project_access(caller, project_id.as_str()).await?;
        self.settings_impact(&project, change).await
    }
}

/// The refusal when a change needs an acknowledgement it did not get.
pub fn acknowledgement_required(impact: &Impact) -> ServiceError {
    ServiceError::new(
        ErrorCode::AcknowledgementRequired,
        format!(
            "Nothing changed: {} Confirm that this is what you want to apply it.",
            impact.summary()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_well() {
        assert_eq!(thousands(1_204), "1,204");
        assert_eq!(thousands(12), "12");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(
            network_address("203.0.113.0/24"),
            Some("203.0.113.0".parse().unwrap())
        );
    }
}
