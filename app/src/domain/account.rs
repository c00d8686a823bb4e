//! What the console shows about organizations and API keys.

use serde::{Deserialize, Serialize};

/// An organization the signed-in person belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub id: String,
    pub name: String,
    pub plan: super::Plan,
    pub role: super::Role,
}

/// A project as the organization page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    pub region_id: String,
    pub hostname: String,
    pub block_public_connections: bool,
}

/// An endpoint assignment as the organization page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSummary {
    pub vpc_endpoint_id: String,
    pub region_id: String,
    pub label: String,
    pub state: super::EndpointState,
    pub rejection_reason: Option<String>,
    /// Projects restricted to this endpoint, as `name (id)`.
    pub restricted_projects: Vec<String>,
    /// The latest connection a data-plane proxy let through this endpoint (to any of the
    /// organization's projects), within the evidence retention.
    pub last_connection: Option<LastConnectionView>,
    /// What removing it would refuse of the last 24 h of traffic, when that needs a
    /// confirmation.
    #[serde(default)]
    pub remove_impact: Option<String>,
}

/// When a proxy last let a connection through, and from which client network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastConnectionView {
    pub at_ms: i64,
    pub client_network: String,
}

impl LastConnectionView {
    /// "2026-11-27 12:03 UTC from 10.0.3.0/24", or "never" (a warning on an accepted endpoint).
    pub fn describe(last: &Option<LastConnectionView>) -> String {
        match last {
            Some(l) => format!("{} from {}", format_time(l.at_ms), l.client_network),
            None => "never".to_string(),
        }
    }
}

/// Everything the organization page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgPageView {
    pub org: OrgSummary,
    pub admins: Vec<String>,
    pub entitled: bool,
    pub projects: Vec<ProjectSummary>,
    pub endpoints: Vec<EndpointSummary>,
    /// Regions offering private networking, for the assign form.
    pub regions: Vec<String>,
    /// AWS accounts allowed to create endpoints for the organization.
    pub allowed_accounts: Vec<AllowedAccountView>,
    /// The outcome of the last form post, shown once.
    pub flash: Option<Flash>,
    /// A digest of what the page shows; live updates carry the current one, and the page
    /// reloads its data only when they differ.
    pub live_version: String,
}

/// An AWS account the organization allows to create endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedAccountView {
    pub account_id: String,
    pub note: String,
}

/// What a console change did, in words for the page; a created API key's secret rides along
/// (shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub message: String,
    pub new_key: Option<NewKeyView>,
}

impl Done {
    pub fn said(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            new_key: None,
        }
    }
}

/// The outcome of the last change, as a page shows it (success or the error's words).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub ok: bool,
    pub message: String,
}

/// An API key as listed (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The first characters, to tell keys apart.
    pub prefix: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    pub expires_at_ms: Option<i64>,
    pub revoked: bool,
}

/// A key just created, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKeyView {
    pub id: String,
    pub token: String,
}

/// Everything the API keys page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysView {
    pub personal: Vec<ApiKeyView>,
    /// Organizations where the person is admin, with their organization keys.
    pub orgs: Vec<(OrgSummary, Vec<ApiKeyView>)>,
    pub new_key: Option<NewKeyView>,
    /// The outcome of the change that led here (after a plain form post).
    pub flash: Option<Flash>,
}

/// `2026-11-24 09:30 UTC` for a time in milliseconds since the epoch. Written from the
/// calendar fields rather than a `strftime` pattern: this runs in the browser too, and
/// chrono's pattern parser and formatter would be downloaded for this one line.
pub fn format_time(ms: i64) -> String {
    use chrono::{Datelike, Timelike};
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_as_utc() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            super::format_time(1_795_512_345_678),
            "2026-11-24 09:25 UTC"
        );
    }

    #[test]
    fn coverage_counts_service_names_with_an_accepted_endpoint() {
        let endpoint = |state: &str, service: Option<&str>| super::ProjectEndpointView {
            last_connection: None,
            change_impact: None,
            vpc_endpoint_id: "vpce-0a0000000000000a1".into(),
            label: String::new(),
            state: super::super::EndpointState::parse(state).unwrap(),
            rejection_reason: None,
            restricted: false,
            service_name: service.map(str::to_owned),
            consumer: None,
        };
        let names = vec!["svc-a".to_string(), "svc-b".to_string()];
        let covered = |endpoints: Vec<super::ProjectEndpointView>| {
            let view = super::ProjectEndpointCoverage {
                service_names: &names,
                endpoints: &endpoints,
            };
            (view.missing(), view.covered())
        };
        // Two accepted endpoints on the same service cover one name, not two.
        let (missing, n) = covered(vec![
            endpoint("accepted", Some("svc-a")),
            endpoint("accepted", Some("svc-a")),
            endpoint("new", Some("svc-b")),
        ]);
        assert_eq!((missing, n), (vec!["svc-b".to_string()], 1));
        let (missing, n) = covered(vec![
            endpoint("accepted", Some("svc-a")),
            endpoint("accepted", Some("svc-b")),
        ]);
        assert_eq!((missing.len(), n), (0, 2));
    }
}

/// An organization endpoint in the project's region, as the project page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectEndpointView {
    pub vpc_endpoint_id: String,
    pub label: String,
    pub state: super::EndpointState,
    pub rejection_reason: Option<String>,
    /// The project is restricted to this endpoint.
    pub restricted: bool,
    /// The endpoint service name it connected to (known once accepted).
    pub service_name: Option<String>,
    /// On Google Cloud the consumer's forwarding rule, on Azure the private endpoint's
    /// resource id, when the cloud reported it.
    #[serde(default)]
    pub consumer: Option<String>,
    /// The latest connection a proxy let through this endpoint to this project.
    pub last_connection: Option<LastConnectionView>,
    /// What restricting to it (or, when restricted, lifting it) would refuse of the last
    /// 24 h of traffic, when that needs a confirmation.
    #[serde(default)]
    pub change_impact: Option<String>,
}

/// One line of recent activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
}

/// Everything a project's Network Security page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPageView {
    pub project: ProjectSummary,
    pub org: OrgSummary,
    pub admins: Vec<String>,
    pub entitled: bool,
    pub block_public_connections: bool,
    /// Report-only blocking of public connections is on.
    pub public_block_report_only: bool,
    /// Public connections only from these (empty: from anywhere).
    pub allowed_ips: Vec<AllowedIpView>,
    /// What blocking public access would refuse (judged from the last 24 h of traffic),
    /// when it needs a confirmation; `None` when nothing seen would be refused.
    pub block_public_impact: Option<String>,
    /// Public connections let through in report-only mode that blocking would refuse,
    /// aggregated, most recent first.
    pub would_be_refused: Vec<DeniedConnectionView>,
    /// Where the project's latest network change stands in the data plane.
    pub rollout: RolloutView,
    pub block_vpc_connections: bool,
    pub region_name: String,
    pub service_names: Vec<String>,
    pub availability_zone_notes: Vec<String>,
    pub endpoints: Vec<ProjectEndpointView>,
    pub endpoint_limit: i64,
    /// Whether some accepted endpoint may reach the project now (VPC connections allowed,
    /// and allowed by the restrictions): blocking public access would not lock everyone out.
    pub reachable_privately: bool,
    pub activity: Vec<ActivityView>,
    pub flash: Option<Flash>,
    /// A digest of what the page shows (see [`OrgPageView::live_version`]).
    pub live_version: String,
    /// The organization's plan includes private networking (no trial needed).
    pub plan_includes_feature: bool,
    /// The organization's latest trial request, if any.
    pub trial: Option<TrialView>,
    /// Regions offering private networking (for the trial request form).
    pub offered_regions: Vec<String>,
    /// Connections the data-plane proxies refused, aggregated, most recent first.
    pub denied: Vec<DeniedConnectionView>,
}

/// Where a network change stands in the data plane, and how many proxies have applied it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutView {
    pub state: super::RolloutState,
    pub acknowledged: u32,
    pub proxies: u32,
}

impl RolloutView {
    /// What the console says about it.
    pub fn describe(&self) -> String {
        match self.state {
            super::RolloutState::Applied => format!(
                "Applied by {} data-plane prox{}.",
                self.proxies,
                if self.proxies == 1 { "y" } else { "ies" }
            ),
            super::RolloutState::Applying => format!(
                "Applying: applied by {} of {} proxies so far.",
                self.acknowledged, self.proxies
            ),
            super::RolloutState::NoDataPlane => {
                "No data plane is connected; this takes effect when one starts.".to_string()
            }
        }
    }
}

/// One entry of a project's IP allow list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedIpView {
    pub entry: String,
    pub note: String,
    /// When it stops admitting (`None`: never), formatted.
    pub expires: Option<String>,
    pub expired: bool,
}

/// Connections the proxies refused, aggregated per endpoint, reason and client network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeniedConnectionView {
    /// The VPC endpoint they came through; `None` for the public internet.
    pub vpc_endpoint_id: Option<String>,
    /// The clients' network, e.g. `198.51.100.0/24`.
    pub client_network: String,
    pub reason: String,
    pub count: i64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

/// An organization's latest trial request, as its members see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialView {
    pub status: super::TrialState,
    pub requested_by: String,
    pub requested_at_ms: i64,
    pub use_case: String,
    pub regions: Vec<String>,
    pub expected_endpoints: i64,
    pub ends_at_ms: Option<i64>,
    /// Whole days left in an active trial (at least 1 while it runs).
    pub days_left: Option<i64>,
    pub decline_reason: Option<String>,
}

/// A trial request as operators review it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialReviewView {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub org_plan: super::Plan,
    pub request: TrialView,
}

/// The operator area's trial review: requests, newest first, and the last post's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorTrialsView {
    pub trials: Vec<TrialReviewView>,
    /// The default end date offered for approvals (`YYYY-MM-DD`, 14 days from now).
    pub default_end_date: String,
    pub flash: Option<Flash>,
}

/// The operator area's view of the cloud provider: which one, which calls are failing,
/// and connection requests on the platform's services that no organization assigned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderStatusView {
    /// `simulator` or `aws`.
    pub provider: String,
    pub problems: Vec<ProviderProblemView>,
    pub unassigned: Vec<UnassignedRequestView>,
}

/// A failing provider call: which call, in which cloud region, since when, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderProblemView {
    pub call: String,
    pub region: String,
    pub message: String,
    pub since: String,
    pub last_seen: String,
}

/// A connection request nobody assigned (never accepted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnassignedRequestView {
    pub vpc_endpoint_id: String,
    pub region_id: String,
    pub service_id: String,
    pub owner_account: String,
    pub first_seen: String,
}

impl ProjectPageView {
    /// Accepted endpoints against service names: "2 of 3 service names have an endpoint".
    pub fn coverage(&self) -> (usize, usize) {
        let coverage = self.service_coverage();
        (coverage.covered(), self.service_names.len())
    }

    /// The region's service names no accepted endpoint connected to.
    pub fn missing_service_names(&self) -> Vec<String> {
        self.service_coverage().missing()
    }

    fn service_coverage(&self) -> ProjectEndpointCoverage<'_> {
        ProjectEndpointCoverage {
            service_names: &self.service_names,
            endpoints: &self.endpoints,
        }
    }
}

/// Which of a region's service names accepted endpoints connect to. A region with several
/// service names (one per platform cell) needs one endpoint per name for every project there
/// to be reachable.
pub struct ProjectEndpointCoverage<'a> {
    pub service_names: &'a [String],
    pub endpoints: &'a [ProjectEndpointView],
}

impl ProjectEndpointCoverage<'_> {
    pub fn missing(&self) -> Vec<String> {
        self.service_names
            .iter()
            .filter(|name| {
                !self.endpoints.iter().any(|e| {
                    e.state == super::EndpointState::Accepted
                        && e.service_name.as_deref() == Some(name.as_str())
                })
            })
            .cloned()
            .collect()
    }

    pub fn covered(&self) -> usize {
        self.service_names.len() - self.missing().len()
    }
}
