//! The AWS provider: decides on endpoint connections to the platform's PrivateLink endpoint
//! services with the official AWS SDK. AWS is the source of truth: an endpoint is accepted
//! only after AWS shows its connection request on one of the region's catalogued services
//! and reports the connection available. Throttling and 5xx answers are retried by the
//! SDK's standard retry strategy (exponential backoff with jitter); every call is logged
//! with its request id; failures are kept per (call, region) as provider health for the
//! operator area, never shown raw to tenants.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
    time::Duration,
};

use anyhow::{anyhow, bail};
use app::domain::{Region, RegionCatalog, VpcEndpointId};
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion};
use aws_sdk_ec2::{
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::RequestId,
    types::{Filter, VpcEndpointConnection},
    Client,
};

use crate::reconciler::{
    owner_not_allowed_reason, ConnectionRequest, Provider, ProviderProblem, Review, ReviewRequest,
};

/// How Enclave reaches AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsSettings {
    /// Send every call here instead of AWS's regional endpoints (tests, AWS-compatible
    /// services).
    pub endpoint_url: Option<String>,
    /// A named profile from the shared config files, instead of the default chain's choice.
    pub profile: Option<String>,
    /// Attempts per call, the first included (throttling and 5xx are retried).
    pub max_attempts: u32,
}

/// One catalogued endpoint service.
#[derive(Clone, Debug)]
struct CatalogService {
    name: String,
    id: String,
}

/// A region's client and services.
struct AwsRegion {
    region: Region,
    client: Client,
    services: Vec<CatalogService>,
}

impl AwsRegion {
    fn service(&self, id: &str) -> Option<&CatalogService> {
        self.services.iter().find(|s| s.id == id)
    }

    fn cloud_region(&self) -> &str {
        self.region.cloud_region()
    }
}

/// What checking the catalog against AWS found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogCheck {
    /// Every service exists and requires acceptance.
    Verified,
    /// A catalog entry is wrong (AWS answered definitively): Enclave must not start.
    Bad(String),
    /// AWS could not be asked (credentials, permissions, network): start, show provider
    /// health, accept nothing until a later check passes.
    Unverified(String),
}

/// The AWS provider. One SDK client per catalogued AWS region.
pub struct AwsProvider {
    regions: BTreeMap<String, AwsRegion>,
    /// Failing calls keyed by (call, cloud region).
    problems: Mutex<BTreeMap<(String, String), ProviderProblem>>,
    /// The principals last applied to every service; `None` until the first success.
    applied_accounts: tokio::sync::Mutex<Option<Vec<String>>>,
    catalog_verified: AtomicBool,
}

/// Accepts or rejects one endpoint's connection to a service (the two calls have the same
/// shape): logged with the request id, recorded as provider health, and an "unsuccessful"
/// item is an error.
macro_rules! decide_connection {
    ($self:ident, $region:ident, $service_id:ident, $endpoint:ident, $method:ident, $call:literal, $done:literal) => {{
        const CALL: &str = $call;
        let output = match $region
            .client
            .$method()
            .service_id($service_id)
            .vpc_endpoint_ids($endpoint)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) => bail!("{CALL} failed: {}", $self.failed(CALL, $region, &e)),
        };
        tracing::info!(
            call = CALL,
            region = $region.cloud_region(),
            request_id = output.request_id().unwrap_or("-"),
            endpoint = $endpoint,
            service_id = $service_id,
            concat!($done, " an endpoint connection")
        );
        $self.succeeded(CALL, $region, output.request_id());
        if let Some(item) = output.unsuccessful().first() {
            let error = item.error();
            bail!(
                "{CALL} was refused for {}: {} {}",
                $endpoint,
                error.and_then(|e| e.code()).unwrap_or_default(),
                error.and_then(|e| e.message()).unwrap_or_default()
            );
        }
        Ok(())
    }};
}

/// The IAM principal AWS uses for a whole account.
pub fn account_principal(account_id: &str) -> String {
    format!("arn:aws:iam::{account_id}:root")
}

/// The `vpce-svc-…` id at the end of an endpoint service name.
pub fn service_id_of(service_name: &str) -> Option<&str> {
    let id = service_name.rsplit('.').next()?;
    let hex = id.strip_prefix("vpce-svc-")?;
    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl AwsProvider {
    /// Builds clients for every AWS region of the catalog that offers private networking.
    /// Credentials come from the standard chain (environment, shared profile, web identity,
    /// ECS or EC2 instance role); nothing is called yet.
    pub async fn connect(catalog: &RegionCatalog, settings: &AwsSettings) -> anyhow::Result<Self> {
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(settings.max_attempts.max(1))
                    .with_initial_backoff(Duration::from_millis(100))
                    .with_max_backoff(Duration::from_secs(5)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let shared = loader.load().await;
        let mut regions = BTreeMap::new();
        for region in catalog
            .regions
            .iter()
            .filter(|r| r.cloud == "aws" && r.private_networking)
        {
            let mut services = Vec::new();
            for name in &region.service_names {
                let id = service_id_of(name).ok_or_else(|| {
                    anyhow!(
                        "region {}: service name {name} does not end in an endpoint service id \
                         (vpce-svc-…); use the name AWS shows for the endpoint service",
                        region.id
                    )
                })?;
                services.push(CatalogService {
                    name: name.clone(),
                    id: id.to_string(),
                });
            }
            let config = aws_sdk_ec2::config::Builder::from(&shared)
                .region(aws_config::Region::new(region.cloud_region().to_string()))
                .build();
            regions.insert(
                region.id.as_str().to_string(),
                AwsRegion {
                    region: region.clone(),
                    client: Client::from_conf(config),
                    services,
                },
            );
        }
        if regions.is_empty() {
            bail!(
                "the region catalog has no AWS region with private networking for --provider aws"
            );
        }
        Ok(Self {
            regions,
            problems: Mutex::new(BTreeMap::new()),
            applied_accounts: tokio::sync::Mutex::new(None),
            catalog_verified: AtomicBool::new(false),
        })
    }

    /// Checks every catalogued service in AWS: it exists, has the catalogued name, and
    /// requires acceptance (otherwise anyone allowed could connect without review).
    pub async fn check_catalog(&self) -> CatalogCheck {
        for region in self.regions.values() {
            for service in &region.services {
                let result = region
                    .client
                    .describe_vpc_endpoint_service_configurations()
                    .service_ids(&service.id)
                    .send()
                    .await;
                let output = match result {
                    Ok(output) => {
                        self.succeeded(
                            "DescribeVpcEndpointServiceConfigurations",
                            region,
                            output.request_id(),
                        );
                        output
                    }
                    Err(e) => {
                        let code = e.code().unwrap_or_default().to_string();
                        let message =
                            self.failed("DescribeVpcEndpointServiceConfigurations", region, &e);
                        if code.contains("NotFound") || code.contains("Malformed") {
                            return CatalogCheck::Bad(format!(
                                "region {}: endpoint service {} ({}) does not exist in AWS region {}: {message}",
                                region.region.id, service.id, service.name, region.cloud_region()
                            ));
                        }
                        return CatalogCheck::Unverified(format!(
                            "could not check endpoint service {} in AWS region {}: {message}",
                            service.id,
                            region.cloud_region()
                        ));
                    }
                };
                let Some(found) = output
                    .service_configurations()
                    .iter()
                    .find(|c| c.service_id() == Some(service.id.as_str()))
                else {
                    return CatalogCheck::Bad(format!(
                        "region {}: endpoint service {} ({}) does not exist in AWS region {}",
                        region.region.id,
                        service.id,
                        service.name,
                        region.cloud_region()
                    ));
                };
                if found.service_name() != Some(service.name.as_str()) {
                    return CatalogCheck::Bad(format!(
                        "region {}: endpoint service {} is named {} in AWS, not {}",
                        region.region.id,
                        service.id,
                        found.service_name().unwrap_or("(no name)"),
                        service.name
                    ));
                }
                if found.acceptance_required() != Some(true) {
                    return CatalogCheck::Bad(format!(
                        "region {}: endpoint service {} ({}) accepts connections without review; \
                         turn on \"acceptance required\" so that only assigned endpoints connect",
                        region.region.id, service.id, service.name
                    ));
                }
            }
        }
        self.catalog_verified.store(true, Ordering::SeqCst);
        CatalogCheck::Verified
    }

    /// Nothing is accepted before the catalog is known good.
    async fn require_verified_catalog(&self) -> anyhow::Result<()> {
        if self.catalog_verified.load(Ordering::SeqCst) {
            return Ok(());
        }
        match self.check_catalog().await {
            CatalogCheck::Verified => Ok(()),
            CatalogCheck::Bad(message) | CatalogCheck::Unverified(message) => {
                bail!("the endpoint service catalog is not verified: {message}")
            }
        }
    }

    fn region(&self, region: &Region) -> anyhow::Result<&AwsRegion> {
        self.regions.get(region.id.as_str()).ok_or_else(|| {
            anyhow!(
                "region {} is not an AWS private-networking region",
                region.id
            )
        })
    }

    fn succeeded(&self, call: &str, region: &AwsRegion, request_id: Option<&str>) {
        tracing::debug!(
            call,
            region = region.cloud_region(),
            request_id = request_id.unwrap_or("-"),
            "AWS call succeeded"
        );
        if let Ok(mut problems) = self.problems.lock() {
            problems.remove(&(call.to_string(), region.cloud_region().to_string()));
        }
    }

    /// Records a failed call as provider health and returns its operator-facing message.
    fn failed<E, R>(&self, call: &str, region: &AwsRegion, error: &SdkError<E, R>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
        SdkError<E, R>: RequestId,
    {
        let request_id = error.request_id().unwrap_or("-").to_string();
        let message = match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_string(),
            _ => DisplayErrorContext(error).to_string(),
        };
        tracing::warn!(call, region = region.cloud_region(), request_id, error = %message, "AWS call failed");
        let now = now_ms();
        if let Ok(mut problems) = self.problems.lock() {
            let entry = problems
                .entry((call.to_string(), region.cloud_region().to_string()))
                .or_insert_with(|| ProviderProblem {
                    call: call.to_string(),
                    region: region.cloud_region().to_string(),
                    message: message.clone(),
                    since: now,
                    last_seen: now,
                });
            entry.message = message.clone();
            entry.last_seen = now;
        }
        message
    }

    /// The region's connections, optionally only those of one endpoint (bounded pages).
    async fn connections(
        &self,
        region: &AwsRegion,
        endpoint: Option<&str>,
    ) -> anyhow::Result<Vec<VpcEndpointConnection>> {
        const CALL: &str = "DescribeVpcEndpointConnections";
        const MAX_PAGES: usize = 20;
        let mut all = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut request = region
                .client
                .describe_vpc_endpoint_connections()
                .max_results(1000);
            if let Some(endpoint) = endpoint {
                request = request.filters(
                    Filter::builder()
                        .name("vpc-endpoint-id")
                        .values(endpoint)
                        .build(),
                );
            }
            if let Some(token) = &next {
                request = request.next_token(token);
            }
            let output = match request.send().await {
                Ok(output) => output,
                Err(e) => bail!("{CALL} failed: {}", self.failed(CALL, region, &e)),
            };
            self.succeeded(CALL, region, output.request_id());
            all.extend(
                output
                    .vpc_endpoint_connections()
                    .iter()
                    .filter(|c| {
                        c.service_id()
                            .is_some_and(|id| region.service(id).is_some())
                    })
                    .cloned(),
            );
            next = output
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        Ok(all)
    }

    async fn accept(
        &self,
        region: &AwsRegion,
        service_id: &str,
        endpoint: &str,
    ) -> anyhow::Result<()> {
        decide_connection!(
            self,
            region,
            service_id,
            endpoint,
            accept_vpc_endpoint_connections,
            "AcceptVpcEndpointConnections",
            "accepted"
        )
    }

    async fn reject(
        &self,
        region: &AwsRegion,
        service_id: &str,
        endpoint: &str,
    ) -> anyhow::Result<()> {
        decide_connection!(
            self,
            region,
            service_id,
            endpoint,
            reject_vpc_endpoint_connections,
            "RejectVpcEndpointConnections",
            "rejected"
        )
    }

    /// Makes one service's allowed principals exactly `wanted`.
    async fn sync_service_principals(
        &self,
        region: &AwsRegion,
        service: &CatalogService,
        wanted: &[String],
    ) -> anyhow::Result<()> {
        const DESCRIBE: &str = "DescribeVpcEndpointServicePermissions";
        const MODIFY: &str = "ModifyVpcEndpointServicePermissions";
        let current = match region
            .client
            .describe_vpc_endpoint_service_permissions()
            .service_id(&service.id)
            .send()
            .await
        {
            Ok(output) => {
                self.succeeded(DESCRIBE, region, output.request_id());
                output
                    .allowed_principals()
                    .iter()
                    .filter_map(|p| p.principal().map(str::to_string))
                    .collect::<Vec<_>>()
            }
            Err(e) => bail!("{DESCRIBE} failed: {}", self.failed(DESCRIBE, region, &e)),
        };
        let wanted: Vec<String> = wanted.iter().map(|a| account_principal(a)).collect();
        let add: Vec<String> = wanted
            .iter()
            .filter(|p| !current.contains(p))
            .cloned()
            .collect();
        // Anything else (another account, a wildcard someone added by hand) goes.
        let remove: Vec<String> = current
            .iter()
            .filter(|p| !wanted.contains(p))
            .cloned()
            .collect();
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let mut request = region
            .client
            .modify_vpc_endpoint_service_permissions()
            .service_id(&service.id);
        if !add.is_empty() {
            request = request.set_add_allowed_principals(Some(add.clone()));
        }
        if !remove.is_empty() {
            request = request.set_remove_allowed_principals(Some(remove.clone()));
        }
        match request.send().await {
            Ok(output) => {
                tracing::info!(call = MODIFY, region = region.cloud_region(), request_id = output.request_id().unwrap_or("-"), service = %service.id, added = add.len(), removed = remove.len(), "endpoint service allowed principals updated");
                self.succeeded(MODIFY, region, output.request_id());
                Ok(())
            }
            Err(e) => bail!("{MODIFY} failed: {}", self.failed(MODIFY, region, &e)),
        }
    }
}

fn lowercase_state(connection: &VpcEndpointConnection) -> String {
    connection
        .vpc_endpoint_state()
        .map(|s| s.as_str().to_ascii_lowercase())
        .unwrap_or_default()
}

#[async_trait::async_trait]
impl Provider for AwsProvider {
    fn name(&self) -> &'static str {
        "aws"
    }

    async fn review_endpoint(&self, request: &ReviewRequest<'_>) -> anyhow::Result<Review> {
        let region = self.region(request.region)?;
        self.require_verified_catalog().await?;
        let endpoint = request.endpoint.as_str();
        let connections = self.connections(region, Some(endpoint)).await?;
        let Some(connection) = connections
            .iter()
            .find(|c| c.vpc_endpoint_id() == Some(endpoint))
        else {
            let suggest = region
                .services
                .iter()
                .map(|s| &s.name)
                .find(|name| !request.covered.contains(name))
                .or_else(|| region.services.first().map(|s| &s.name))
                .cloned()
                .unwrap_or_default();
            return Ok(Review::NotYet {
                reason: format!(
                    "No connection request from {endpoint} yet on the endpoint services of {} \
                     ({}). Create it there with service name {suggest} (an interface endpoint \
                     in AWS region {}, from an allowed AWS account); Enclave checks again \
                     automatically.",
                    request.region.display_name,
                    request.region.id,
                    region.cloud_region()
                ),
            });
        };
        let service_id = connection.service_id().unwrap_or_default();
        let service_name = region
            .service(service_id)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let owner = connection
            .vpc_endpoint_owner()
            .unwrap_or_default()
            .to_string();
        let owner_allowed = request.allowed_owners.contains(&owner);
        let state = lowercase_state(connection);
        match state.as_str() {
            "pendingacceptance" | "pending" | "available" if !owner_allowed => {
                // Never leave a connection from an account the organization did not allow.
                self.reject(region, service_id, endpoint).await?;
                Ok(Review::Reject {
                    reason: owner_not_allowed_reason(&owner, request.org_id),
                })
            }
            "pendingacceptance" => {
                self.accept(region, service_id, endpoint).await?;
                // Accepted once AWS reports the connection available.
                Ok(Review::Pending)
            }
            "pending" => Ok(Review::Pending),
            "available" => Ok(Review::Accept {
                service_name,
                owner_account: Some(owner),
            }),
            "rejected" | "failed" | "expired" | "deleting" | "deleted" => Ok(Review::Reject {
                reason: format!(
                    "AWS reports the connection from {endpoint} to {service_name} as {}. Create \
                     a new endpoint with that service name and assign it.",
                    connection
                        .vpc_endpoint_state()
                        .map(|s| s.as_str())
                        .unwrap_or("failed")
                ),
            }),
            other => {
                tracing::warn!(
                    endpoint,
                    state = other,
                    "unexpected endpoint connection state; will look again"
                );
                Ok(Review::Pending)
            }
        }
    }

    async fn sync_allowed_accounts(&self, accounts: &[String]) -> anyhow::Result<()> {
        let mut applied = self.applied_accounts.lock().await;
        if applied.as_deref() == Some(accounts) {
            return Ok(());
        }
        let mut failures = Vec::new();
        for region in self.regions.values() {
            for service in &region.services {
                if let Err(e) = self
                    .sync_service_principals(region, service, accounts)
                    .await
                {
                    failures.push(format!("{}: {e}", service.id));
                }
            }
        }
        if failures.is_empty() {
            *applied = Some(accounts.to_vec());
            Ok(())
        } else {
            *applied = None;
            bail!("{}", failures.join("; "))
        }
    }

    async fn disconnect_endpoint(
        &self,
        region: &Region,
        endpoint: &VpcEndpointId,
    ) -> anyhow::Result<()> {
        let Ok(aws_region) = self.region(region) else {
            return Ok(());
        };
        for connection in self
            .connections(aws_region, Some(endpoint.as_str()))
            .await?
        {
            let state = lowercase_state(&connection);
            if matches!(
                state.as_str(),
                "pendingacceptance" | "pending" | "available"
            ) {
                let service_id = connection.service_id().unwrap_or_default();
                self.reject(aws_region, service_id, endpoint.as_str())
                    .await?;
            }
        }
        Ok(())
    }

    async fn connection_requests(&self, region: &Region) -> anyhow::Result<Vec<ConnectionRequest>> {
        let Ok(aws_region) = self.region(region) else {
            return Ok(Vec::new());
        };
        Ok(self
            .connections(aws_region, None)
            .await?
            .iter()
            .filter(|c| lowercase_state(c) == "pendingacceptance")
            .map(|c| ConnectionRequest {
                vpc_endpoint_id: c.vpc_endpoint_id().unwrap_or_default().to_string(),
                service_id: c.service_id().unwrap_or_default().to_string(),
                owner_account: c.vpc_endpoint_owner().unwrap_or_default().to_string(),
                state: c
                    .vpc_endpoint_state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })
            .collect())
    }

    fn problems(&self) -> Vec<ProviderProblem> {
        self.problems
            .lock()
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ids_come_from_service_names() {
        assert_eq!(
            service_id_of("com.amazonaws.vpce.us-east-1.vpce-svc-0de57c578b0e614a9"),
            Some("vpce-svc-0de57c578b0e614a9")
        );
        assert_eq!(
            service_id_of("com.amazonaws.vpce.us-east-1.vpce-svc-"),
            None
        );
        assert_eq!(service_id_of("com.example.db"), None);
        assert_eq!(
            account_principal("111122223333"),
            "arn:aws:iam::111122223333:root"
        );
    }
}
