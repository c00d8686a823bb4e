//! The reconciler: a background task that drives what the cloud side decides. It asks a
//! [`Provider`] about endpoints in state `new`, and now and then prunes old data-plane
//! evidence and feed events. The built-in [`Simulator`] stands in for AWS locally and in
//! tests; a real AWS provider implements the same trait. Settings reach the data plane
//! through the change feed, not through here: they are `applied` when the proxies say so.

use std::time::Duration;

use app::domain::{Cloud, EndpointState, Region, RegionId, VpcEndpointId};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    config::ReconcilerConfig,
    services::{Caller, ServiceError, Services},
    store::{AssignmentRow, Settlement},
};

/// The provider's view of an endpoint connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Review {
    /// Under way (accepted in the cloud, not available yet); ask again next pass.
    Pending,
    /// The cloud has no connection request from the endpoint yet: it stays `new` with this
    /// reason (one the admin can act on) and is asked about again with backoff.
    NotYet {
        reason: String,
    },
    /// Accepted: on which of the region's service names, and who is on the other side if
    /// known — on AWS the owner's account (which the organization must allow); on Google
    /// Cloud the consumer's forwarding rule (`projects/P/regions/R/forwardingRules/F`); on
    /// Azure the private endpoint's resource id. Shown beside the endpoint.
    Accept {
        service_name: String,
        owner_account: Option<String>,
    },
    Reject {
        reason: String,
    },
}

/// What the reconciler asks the provider about one `new` assignment.
#[derive(Clone, Copy, Debug)]
pub struct ReviewRequest<'a> {
    pub org_id: &'a str,
    pub region: &'a Region,
    pub endpoint: &'a VpcEndpointId,
    /// How long ago it was assigned.
    pub age_ms: i64,
    /// The service names the organization's accepted endpoints in the region connect to.
    pub covered: &'a [String],
    /// The AWS accounts the organization allows to own its endpoints.
    pub allowed_owners: &'a [String],
}

/// A connection request on one of the platform's endpoint services, as the cloud lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRequest {
    pub vpc_endpoint_id: String,
    pub service_id: String,
    pub owner_account: String,
    pub state: String,
}

/// A cloud call that is failing, for the operator area.
pub type ProviderProblem = crate::store::ProviderProblemRow;

/// The reason an endpoint owned by an account its organization has not allowed is refused.
pub fn owner_not_allowed_reason(owner: &str, org_id: &str) -> String {
    format!(
        "The endpoint belongs to AWS account {owner}, which organization {org_id} has not \
         allowed. Add the account to the organization's allowed AWS accounts, then create a \
         new endpoint from it."
    )
}

/// The cloud side of private networking.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// `simulator` or `aws`, for the operator area.
    fn name(&self) -> &'static str;

    /// Decides on (or moves along) the connection request from an assigned endpoint.
    async fn review_endpoint(&self, request: &ReviewRequest<'_>) -> anyhow::Result<Review>;

    /// Keeps the endpoint services' allowed principals to exactly these accounts (the union
    /// of every organization's allowed AWS accounts). Called every pass; a provider acts
    /// only when the set differs from what it last applied.
    async fn sync_allowed_accounts(&self, accounts: &[String]) -> anyhow::Result<()>;

    /// Disconnects a removed endpoint from the platform's services (done if it is not
    /// connected).
    async fn disconnect_endpoint(
        &self,
        _region: &Region,
        _endpoint: &VpcEndpointId,
    ) -> anyhow::Result<()> {
        Ok(())
    }

    /// Connection requests waiting for acceptance on the region's services.
    async fn connection_requests(
        &self,
        _region: &Region,
    ) -> anyhow::Result<Vec<ConnectionRequest>> {
        Ok(Vec::new())
    }

    /// The calls failing now (which call, which region, since when).
    fn problems(&self) -> Vec<ProviderProblem> {
        Vec::new()
    }
}

/// Accepts every endpoint after a delay, except ids matching a pattern, which it rejects with
/// a reason. Every state can be shown and tested with it.
#[derive(Clone, Debug)]
pub struct Simulator {
    pub accept_delay_ms: i64,
    pub reject_pattern: String,
    pub reject_reason: String,
    /// Ids matching this pattern (empty: none) have made no connection request: the cloud
    /// reports nothing for them, and the endpoint waits with that cloud's explanation.
    pub missing_pattern: String,
    /// The simulated services' allowed principals, as last synced.
    pub allowed_accounts: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Simulator {
    pub fn from_config(config: &ReconcilerConfig) -> Self {
        Self {
            accept_delay_ms: config.simulator_accept_delay_ms,
            reject_pattern: config.simulator_reject_pattern.to_ascii_lowercase(),
            reject_reason: config.simulator_reject_reason.clone(),
            missing_pattern: config.simulator_missing_pattern.to_ascii_lowercase(),
            allowed_accounts: Default::default(),
        }
    }
}

/// Why an assigned endpoint has no connection on the platform's side yet, in its cloud's
/// words (the state each cloud reports for it) and with what to create.
fn no_connection_yet(region: &Region, endpoint: &VpcEndpointId, covered: &[String]) -> String {
    let service = region
        .service_names
        .iter()
        .find(|name| !covered.contains(name))
        .or_else(|| region.service_names.first())
        .map(String::as_str)
        .unwrap_or_default();
    let number = endpoint
        .as_str()
        .split_once('-')
        .map_or(endpoint.as_str(), |(_, n)| n);
    let (id, cloud_region) = (region.id.as_str(), region.cloud_region());
    match endpoint.cloud() {
        Cloud::Aws => format!(
            "No connection request from {endpoint} yet on the endpoint services of {} ({id}). \
             Create it there with service name {service} (an interface endpoint in AWS region \
             {cloud_region}); Enclave checks again automatically.",
            region.display_name
        ),
        Cloud::Gcp => format!(
            "The service attachment {service} has no Private Service Connect connection with id \
             {number}: it was CLOSED (its forwarding rule deleted) or never made. Create the \
             forwarding rule in {cloud_region} with --target-service-attachment={service} and \
             assign the pscConnectionId it gets; Enclave checks again automatically."
        ),
        Cloud::Azure => format!(
            "The Private Link service {service} has no private endpoint connection with LinkID \
             {number}: it is Disconnected (its private endpoint deleted) or was never requested. \
             Create the private endpoint in {cloud_region} with --private-connection-resource-id \
             {service} --manual-request true; Enclave checks again automatically."
        ),
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[async_trait::async_trait]
impl Provider for Simulator {
    fn name(&self) -> &'static str {
        "simulator"
    }

    async fn review_endpoint(&self, request: &ReviewRequest<'_>) -> anyhow::Result<Review> {
        let ReviewRequest {
            region,
            endpoint,
            age_ms,
            covered,
            ..
        } = *request;
        if glob_matches(&self.reject_pattern, endpoint.as_str()) {
            // Each cloud words a refused connection its own way.
            let reason = match endpoint.cloud() {
                Cloud::Aws => self.reject_reason.clone(),
                Cloud::Gcp => format!(
                    "The Private Service Connect connection is REJECTED: the consumer project is \
                     not on the service attachment's accept list. {}",
                    self.reject_reason
                ),
                Cloud::Azure => format!(
                    "The private endpoint connection is Rejected by the Private Link service. {}",
                    self.reject_reason
                ),
            };
            return Ok(Review::Reject { reason });
        }
        if !self.missing_pattern.is_empty()
            && glob_matches(&self.missing_pattern, endpoint.as_str())
        {
            return Ok(Review::NotYet {
                reason: no_connection_yet(region, endpoint, covered),
            });
        }
        if age_ms < self.accept_delay_ms {
            return Ok(Review::Pending);
        }
        // The simulated customer creates one endpoint per service name, as the setup guide
        // asks: the first name not yet covered; once all are, one picked by the id.
        let digest = Sha256::digest(endpoint.as_str().as_bytes());
        let pick = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
        let service_name = region
            .service_names
            .iter()
            .find(|name| !covered.contains(name))
            .or_else(|| {
                region
                    .service_names
                    .get((pick % region.service_names.len().max(1) as u64) as usize)
            })
            .cloned()
            .unwrap_or_default();
        Ok(Review::Accept {
            service_name,
            owner_account: None,
        })
    }

    async fn sync_allowed_accounts(&self, accounts: &[String]) -> anyhow::Result<()> {
        if let Ok(mut allowed) = self.allowed_accounts.lock() {
            if allowed.as_slice() != accounts {
                tracing::info!(
                    accounts = accounts.len(),
                    "simulated endpoint services' allowed principals updated"
                );
                *allowed = accounts.to_vec();
            }
        }
        Ok(())
    }
}

/// Longest wait between two looks for an endpoint the cloud has no request from yet.
const MAX_REVIEW_BACKOFF_MS: i64 = 300_000;
/// First wait after "not yet"; doubled (with jitter) on each further look.
const FIRST_REVIEW_BACKOFF_MS: i64 = 1_000;

/// One pass over the outstanding work: allowed principals, `new` assignments, removed
/// endpoints to disconnect. One failing item never stops the pass. Returns how many
/// changes it made.
pub async fn reconcile_once(
    services: &Services,
    provider: &dyn Provider,
) -> Result<usize, ServiceError> {
    let caller = Caller::system();
    let mut changes = 0;
    let now = services.clock().now_ms();
    let accounts = services.store().all_allowed_accounts().await?;
    if let Err(e) = provider.sync_allowed_accounts(&accounts).await {
        tracing::warn!(error = %e, "keeping the services' allowed accounts in step failed; will retry");
    }
    for assignment in services
        .store()
        .assignments_awaiting_review(100, now)
        .await?
    {
        match settle(services, provider, &caller, &assignment, now).await {
            Ok(true) => changes += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(endpoint = %assignment.vpc_endpoint_id, error = %e, "settling an endpoint failed; will retry")
            }
        }
    }
    for removed in services.store().endpoints_to_disconnect(50).await? {
        let (Ok(region_id), Ok(endpoint)) = (
            RegionId::parse(&removed.region_id),
            VpcEndpointId::parse_any(&removed.vpc_endpoint_id),
        ) else {
            services
                .store()
                .mark_disconnected(&removed.org_id, &removed.vpc_endpoint_id, now)
                .await?;
            continue;
        };
        let Some(region) = services.catalog().get(&region_id) else {
            services
                .store()
                .mark_disconnected(&removed.org_id, &removed.vpc_endpoint_id, now)
                .await?;
            continue;
        };
        match provider.disconnect_endpoint(region, &endpoint).await {
            Ok(()) => {
                services
                    .store()
                    .mark_disconnected(&removed.org_id, &removed.vpc_endpoint_id, now)
                    .await?;
            }
            Err(e) => {
                tracing::warn!(endpoint = %endpoint, error = %e, "disconnecting a removed endpoint failed; will retry")
            }
        }
    }
    Ok(changes)
}

/// Lists the connection requests on every private-networking region's services and keeps
/// the ones no organization assigned for operators (they are never accepted).
pub async fn survey_connection_requests(
    services: &Services,
    provider: &dyn Provider,
) -> Result<(), ServiceError> {
    for region in services
        .catalog()
        .regions
        .iter()
        .filter(|r| r.private_networking)
    {
        let requests = match provider.connection_requests(region).await {
            Ok(requests) => requests,
            Err(e) => {
                tracing::warn!(region = %region.id, error = %e, "listing connection requests failed; will retry");
                continue;
            }
        };
        let mut unassigned = Vec::new();
        for r in requests {
            if services
                .store()
                .assignment(&r.vpc_endpoint_id)
                .await?
                .is_none()
            {
                unassigned.push(crate::store::ConnectionRequestRow {
                    vpc_endpoint_id: r.vpc_endpoint_id,
                    region_id: region.id.as_str().to_string(),
                    service_id: r.service_id,
                    owner_account: r.owner_account,
                    state: r.state,
                    first_seen: 0,
                    last_seen: 0,
                });
            }
        }
        let now = services.clock().now_ms();
        services
            .store()
            .record_unassigned_requests(region.id.as_str(), &unassigned, now)
            .await?;
    }
    Ok(())
}

/// The wait before the `attempts`-th next look: doubling from one second to five minutes,
/// with up to a fifth added at random so that many endpoints do not ask in step.
fn review_backoff_ms(attempts: i64) -> i64 {
    use rand::Rng;
    let doubled = FIRST_REVIEW_BACKOFF_MS.saturating_mul(1_i64 << attempts.clamp(0, 20));
    let base = doubled.min(MAX_REVIEW_BACKOFF_MS);
    base + rand::thread_rng().gen_range(0..=base / 5)
}

async fn settle(
    services: &Services,
    provider: &dyn Provider,
    caller: &Caller,
    assignment: &AssignmentRow,
    now: i64,
) -> Result<bool, ServiceError> {
    let (Ok(region_id), Ok(endpoint)) = (
        RegionId::parse(&assignment.region_id),
        VpcEndpointId::parse_any(&assignment.vpc_endpoint_id),
    ) else {
        return Ok(false);
    };
    let Some(region) = services.catalog().get(&region_id) else {
        tracing::warn!(region = %region_id, "an assignment's region is not in the catalog");
        return Ok(false);
    };
    let covered: Vec<String> = services
        .store()
        .assignments_of_org(&assignment.org_id, Some(&assignment.region_id))
        .await?
        .into_iter()
        .filter(|a| a.state == EndpointState::Accepted.as_str())
        .filter_map(|a| a.service_name)
        .collect();
    let allowed_owners: Vec<String> = services
        .store()
        .allowed_accounts(&assignment.org_id)
        .await?
        .into_iter()
        .map(|a| a.account_id)
        .collect();
    let request = ReviewRequest {
        org_id: &assignment.org_id,
        region,
        endpoint: &endpoint,
        age_ms: now - assignment.created_at,
        covered: &covered,
        allowed_owners: &allowed_owners,
    };
    let review = match provider.review_endpoint(&request).await {
        Ok(review) => review,
        Err(e) => {
            tracing::warn!(endpoint = %endpoint, error = %e, "provider review failed; will retry");
            return Ok(false);
        }
    };
    let (state, reason, service_name, owner_account) = match review {
        Review::Pending => return Ok(false),
        Review::NotYet { reason } => {
            let audit = services
                .audit(caller, "vpc_endpoint.awaiting_request", endpoint.as_str())
                .org(&assignment.org_id)
                .after(json!({"state": "new", "reason": reason}));
            let attempts = services
                .store()
                .defer_review(&assignment.vpc_endpoint_id, &reason, &audit, |attempts| {
                    now + review_backoff_ms(attempts - 1)
                })
                .await?;
            tracing::info!(endpoint = %endpoint, attempts, "no connection request from the endpoint yet; will look again");
            return Ok(false);
        }
        // AWS names the endpoint's owner: it must be an account the organization allows.
        Review::Accept {
            service_name,
            owner_account: Some(owner),
        } if endpoint.cloud() == Cloud::Aws && !allowed_owners.contains(&owner) => (
            EndpointState::Rejected,
            Some(owner_not_allowed_reason(&owner, &assignment.org_id)),
            Some(service_name),
            Some(owner),
        ),
        Review::Accept {
            service_name,
            owner_account,
        } => (
            EndpointState::Accepted,
            None,
            Some(service_name),
            owner_account,
        ),
        Review::Reject { reason } => (EndpointState::Rejected, Some(reason), None, None),
    };
    let audit = services
        .audit(caller, "vpc_endpoint.state", endpoint.as_str())
        .org(&assignment.org_id)
        .before(json!({"state": assignment.state}))
        .after(json!({"state": state, "reason": reason, "service_name": service_name}));
    let settlement = Settlement {
        state: state.as_str(),
        reason: reason.as_deref(),
        service_name: service_name.as_deref(),
        owner_account: owner_account.as_deref(),
    };
    Ok(services
        .store()
        .settle_assignment(endpoint.as_str(), &settlement, &audit)
        .await?)
}

/// Runs [`reconcile_once`] every `interval` until `stop` resolves; now and then lists the
/// connection requests nobody assigned and prunes old data-plane evidence. The provider's
/// health is written for operators whenever it changes.
pub async fn run(
    services: Services,
    provider: Box<dyn Provider>,
    interval: Duration,
    leadership: Leadership,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut stop = stop;
    let mut last_prune: Option<std::time::Instant> = None;
    let mut last_survey: Option<std::time::Instant> = None;
    let mut last_problems: Option<Vec<(String, String, String, i64)>> = None;
    let mut leading = false;
    loop {
        // Only the instance holding the lease works; the others wait for it to lapse.
        let holds = leadership.renew(&services).await;
        if holds != leading {
            leading = holds;
            if holds {
                tracing::info!(instance = %leadership.instance, "this instance now does the background work");
            } else {
                tracing::info!(instance = %leadership.instance, "another instance does the background work");
            }
        }
        if !holds {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        if let Err(e) = reconcile_once(&services, provider.as_ref()).await {
            tracing::warn!(error = %e, "reconciler pass failed; will retry");
        }
        if last_survey.is_none_or(|t| t.elapsed() > SURVEY_EVERY) {
            last_survey = Some(std::time::Instant::now());
            if let Err(e) = survey_connection_requests(&services, provider.as_ref()).await {
                tracing::warn!(error = %e, "recording unassigned connection requests failed; will retry");
            }
        }
        let problems = provider.problems();
        let key: Vec<_> = problems
            .iter()
            .map(|p| (p.call.clone(), p.region.clone(), p.message.clone(), p.since))
            .collect();
        if last_problems.as_ref() != Some(&key) {
            match services.store().replace_provider_problems(&problems).await {
                Ok(()) => last_problems = Some(key),
                Err(e) => {
                    tracing::warn!(error = %e, "recording provider health failed; will retry")
                }
            }
        }
        if let Err(e) = services.send_trial_notices().await {
            tracing::warn!(error = %e, "sending trial deadline notices failed; will retry");
        }
        if last_prune.is_none_or(|t| t.elapsed() > Duration::from_secs(300)) {
            last_prune = Some(std::time::Instant::now());
            if let Err(e) = services.prune_data_plane().await {
                tracing::warn!(error = %e, "pruning data-plane evidence failed; will retry");
            }
            let now = services.clock().now_ms();
            if let Err(e) = services.store().prune_webhook_deliveries(now).await {
                tracing::warn!(error = %e, "pruning old webhook deliveries failed; will retry");
            }
            if let Err(e) = services.prune_sign_ins().await {
                tracing::warn!(error = %e, "pruning old sign-in failures and sessions failed; will retry");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {
                leadership.release(&services).await;
                return;
            }
        }
    }
}

/// The lease under which one instance at a time does the background work.
pub const RECONCILER_LEASE: &str = "reconciler";

/// Which instance this is, and how long its hold on the background work lasts unrenewed: a
/// crashed leader's work is taken over by another instance after at most `ttl`.
#[derive(Clone, Debug)]
pub struct Leadership {
    pub instance: String,
    pub ttl: Duration,
}

impl Leadership {
    /// A name for this process that operators can trace: host, process id, and a random
    /// part (process ids are reused).
    pub fn for_this_process(ttl: Duration) -> Self {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".into());
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self {
            instance: format!("{host}:{}:{}", std::process::id(), &random[..8]),
            ttl,
        }
    }

    /// Wall-clock time (shared by every instance), not the services' clock, which tests move
    /// by hand.
    fn now_ms() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }

    async fn renew(&self, services: &Services) -> bool {
        self.renew_named(services, RECONCILER_LEASE).await
    }

    /// Takes or keeps the lease called `name` (each kind of background work has its own).
    pub async fn renew_named(&self, services: &Services, name: &str) -> bool {
        match services
            .store()
            .try_lease(
                name,
                &self.instance,
                Self::now_ms(),
                self.ttl.as_millis() as i64,
            )
            .await
        {
            Ok(holds) => holds,
            Err(e) => {
                // Not knowing is not holding: never work without the lease.
                tracing::warn!(error = %e, "renewing the background-work lease failed");
                false
            }
        }
    }

    async fn release(&self, services: &Services) {
        self.release_named(services, RECONCILER_LEASE).await
    }

    /// Gives up the lease called `name` at once (it would lapse by itself).
    pub async fn release_named(&self, services: &Services, name: &str) {
        if let Err(e) = services.store().release_lease(name, &self.instance).await {
            tracing::warn!(error = %e, "releasing the background-work lease failed; it lapses by itself");
        }
    }
}

/// How often unassigned connection requests are listed.
const SURVEY_EVERY: Duration = Duration::from_secs(15);

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn glob_patterns() {
        assert!(glob_matches("vpce-0bad*", "vpce-0bad567890abcdef0"));
        assert!(!glob_matches("vpce-0bad*", "vpce-1bad567890abcdef0"));
        assert!(glob_matches("*dead*", "vpce-12dead7890abcdef0"));
        assert!(glob_matches(
            "vpce-1234567890abcdef0",
            "vpce-1234567890abcdef0"
        ));
        assert!(!glob_matches("a*b*c", "ab"));
    }
}
