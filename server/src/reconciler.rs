//! The reconciler: a background task that drives what the cloud side decides. It asks a
//! [`Provider`] about endpoints in state `new`, and now and then prunes old data-plane
//! evidence and feed events. The built-in [`Simulator`] stands in for AWS locally and in
//! tests; a real AWS provider implements the same trait. Settings reach the data plane
//! through the change feed, not through here: they are `applied` when the proxies say so.

use std::time::Duration;

use app::domain::{EndpointState, Region, RegionId, VpcEndpointId};
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
    /// Not decided yet; ask again later.
    Pending,
    /// Accepted: on which of the region's service names, and the owner's account if known.
    Accept {
        service_name: String,
        owner_account: Option<String>,
    },
    Reject {
        reason: String,
    },
}

/// The cloud side of private networking.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Decides on a connection request from `endpoint` to one of `region`'s endpoint
    /// services, assigned `age_ms` ago. `covered` names the services the organization's
    /// accepted endpoints in the region already connect to.
    async fn review_endpoint(
        &self,
        region: &Region,
        endpoint: &VpcEndpointId,
        age_ms: i64,
        covered: &[String],
    ) -> anyhow::Result<Review>;

    /// Keeps the endpoint services' allowed principals to exactly these accounts (the union
    /// of every organization's allowed AWS accounts). Called every pass; a provider acts
    /// only when the set differs from what it last applied.
    async fn sync_allowed_accounts(&self, accounts: &[String]) -> anyhow::Result<()>;
}

/// Accepts every endpoint after a delay, except ids matching a pattern, which it rejects with
/// a reason. Every state can be shown and tested with it.
#[derive(Clone, Debug)]
pub struct Simulator {
    pub accept_delay_ms: i64,
    pub reject_pattern: String,
    pub reject_reason: String,
    /// The simulated services' allowed principals, as last synced.
    pub allowed_accounts: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Simulator {
    pub fn from_config(config: &ReconcilerConfig) -> Self {
        Self {
            accept_delay_ms: config.simulator_accept_delay_ms,
            reject_pattern: config.simulator_reject_pattern.to_ascii_lowercase(),
            reject_reason: config.simulator_reject_reason.clone(),
            allowed_accounts: Default::default(),
        }
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
    async fn review_endpoint(
        &self,
        region: &Region,
        endpoint: &VpcEndpointId,
        age_ms: i64,
        covered: &[String],
    ) -> anyhow::Result<Review> {
        if glob_matches(&self.reject_pattern, endpoint.as_str()) {
            return Ok(Review::Reject {
                reason: self.reject_reason.clone(),
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

/// One pass over the outstanding work. Returns how many changes it made.
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
    for assignment in services.store().assignments_awaiting_review(100).await? {
        if settle(services, provider, &caller, &assignment, now).await? {
            changes += 1;
        }
    }
    Ok(changes)
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
        VpcEndpointId::parse(&assignment.vpc_endpoint_id),
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
    let review = match provider
        .review_endpoint(region, &endpoint, now - assignment.created_at, &covered)
        .await
    {
        Ok(review) => review,
        Err(e) => {
            tracing::warn!(endpoint = %endpoint, error = %e, "provider review failed; will retry");
            return Ok(false);
        }
    };
    // AWS names the endpoint's owner: it must be an account the organization allows.
    let owner_not_allowed = match &review {
        Review::Accept {
            owner_account: Some(owner),
            ..
        } => !services
            .store()
            .allowed_accounts(&assignment.org_id)
            .await?
            .iter()
            .any(|a| &a.account_id == owner),
        _ => false,
    };
    let (state, reason, service_name, owner_account) = match review {
        Review::Pending => return Ok(false),
        Review::Accept {
            service_name,
            owner_account: Some(owner),
        } if owner_not_allowed => (
            EndpointState::Rejected,
            Some(format!(
                "The endpoint belongs to AWS account {owner}, which organization {} has not \
                 allowed. Add the account to the organization's allowed AWS accounts, then \
                 create a new endpoint from it.",
                assignment.org_id
            )),
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

/// Runs [`reconcile_once`] every `interval` until `stop` resolves.
pub async fn run(
    services: Services,
    provider: Box<dyn Provider>,
    interval: Duration,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut stop = stop;
    let mut last_prune: Option<std::time::Instant> = None;
    loop {
        if let Err(e) = reconcile_once(&services, provider.as_ref()).await {
            tracing::warn!(error = %e, "reconciler pass failed; will retry");
        }
        if last_prune.is_none_or(|t| t.elapsed() > Duration::from_secs(300)) {
            last_prune = Some(std::time::Instant::now());
            if let Err(e) = services.prune_data_plane().await {
                tracing::warn!(error = %e, "pruning data-plane evidence failed; will retry");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

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
