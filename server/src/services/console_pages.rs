//! Page assembly for the console: the [`ConsoleBackend`] port's readers build each page's
//! view from the services (scoped to the caller, like every other call).

use app::backend::{BackendError, ConsoleBackend, ConsoleChange};
use app::domain::{format_time, Done, EndpointState, ErrorCode, Flash, LastConnectionView, Plan};
use app::domain::{
    ActivityView, ApiKeyView, ApiKeysView, EndpointSummary, OperatorTrialsView, OrgId, OrgPageView,
    OrgSummary, ProjectEndpointView, ProjectPageView, ProjectSummary, ProviderProblemView,
    ProviderStatusView, RegionId, Role, SetupPageView, SetupStep, StatusReport, TrialReviewView,
    UnassignedRequestView,
};
use app::session::SessionUser;

/// A stored plan, typed for the page; an unknown one reads as the plan without the feature.
fn plan_of(stored: &str) -> Plan {
    Plan::parse(stored).unwrap_or(Plan::Free)
}

/// A stored role, typed; an unknown one reads as the role that changes nothing.
fn role_of(stored: &str) -> Role {
    Role::parse(stored).unwrap_or(Role::Member)
}

/// A stored endpoint state, typed; an unknown one reads as not (yet) accepted.
fn state_of(stored: &str) -> EndpointState {
    EndpointState::parse(stored).unwrap_or(EndpointState::New)
}

use super::{
    network_project_not_found, principal, Caller, KeyOwner, NetworkChange, Principal, Rollout,
    ServiceError, Services, DEFAULT_TRIAL_DAYS,
};
#[async_trait::async_trait]
impl ConsoleBackend for Services {
    async fn status_report(&self, session: Option<&str>) -> Result<StatusReport, BackendError> {
        let operator = match session {
            Some(token) => matches!(
                self.session_principal(token).await?,
                Some(Principal::User {
                    is_operator: true,
                    ..
                })
            ),
            None => false,
        };
        let reading = |e| ServiceError::internal("reading system status failed", e);
        let detail = if operator {
            Some(self.store.system_status().await.map_err(reading)?)
        } else {
            self.store.ping().await.map_err(reading)?;
            None
        };
        Ok(StatusReport {
            database_reachable: true,
            detail,
        })
    }

    async fn org_activity(
        &self,
        session: &str,
        org_id: &str,
        filter: &app::domain::ActivityFilter,
        cursor: Option<i64>,
    ) -> Result<app::domain::ActivityPageView, BackendError> {
        let caller = self.session_caller(session).await?;
        let org_id = app::domain::OrgId::parse(org_id).map_err(ServiceError::from)?;
        Ok(self
            .org_activity(
                &caller,
                &org_id,
                filter,
                super::ActivityRange::Page {
                    cursor,
                    limit: None,
                },
            )
            .await?)
    }

    async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
        previous: Option<&str>,
    ) -> Result<app::session::SessionGrant, BackendError> {
        let signed_in = Services::sign_in(self, email, password, client, previous).await?;
        Ok(app::session::SessionGrant {
            token: signed_in.token,
            max_age_secs: signed_in.max_age_secs,
        })
    }

    async fn sign_out(&self, token: &str) -> Result<(), BackendError> {
        Ok(Services::sign_out(self, token).await?)
    }

    async fn session_user(&self, token: &str) -> Result<Option<SessionUser>, BackendError> {
        Ok(match self.session_principal(token).await? {
            Some(Principal::User {
                email, is_operator, ..
            }) => Some(SessionUser { email, is_operator }),
            _ => None,
        })
    }

    async fn organizations(&self, session: &str) -> Result<Vec<OrgSummary>, BackendError> {
        let caller = self.session_caller(session).await?;
        Ok(self
            .organizations_of_caller(&caller)
            .await?
            .into_iter()
            .map(|o| OrgSummary {
                id: o.id,
                name: o.name,
                plan: plan_of(&o.plan),
                role: role_of(&o.role),
            })
            .collect())
    }

    async fn api_keys(&self, session: &str) -> Result<ApiKeysView, BackendError> {
        let caller = self.session_caller(session).await?;
        let Principal::User { user_id, .. } = &caller.principal else {
            return Err(ServiceError::internal("session without a user", "").into());
        };
        let view = |rows: Vec<crate::store::ApiKeyRow>| -> Vec<ApiKeyView> {
            rows.into_iter()
                .map(|k| ApiKeyView {
                    prefix: k.token_prefix,
                    id: k.id,
                    name: k.name,
                    created_at_ms: k.created_at,
                    last_used_at_ms: k.last_used_at,
                    expires_at_ms: k.expires_at,
                    revoked: k.revoked_at.is_some(),
                })
                .collect()
        };
        let personal = view(
            self.list_api_keys(&caller, &KeyOwner::User(user_id.clone()))
                .await?,
        );
        let mut orgs = Vec::new();
        for org in self.organizations_of_caller(&caller).await? {
            if org.role != Role::Admin.as_str() {
                continue;
            }
            let id = OrgId::parse(&org.id).map_err(ServiceError::from)?;
            let keys = view(self.list_api_keys(&caller, &KeyOwner::Org(id)).await?);
            orgs.push((
                OrgSummary {
                    id: org.id,
                    name: org.name,
                    plan: plan_of(&org.plan),
                    role: role_of(&org.role),
                },
                keys,
            ));
        }
        Ok(ApiKeysView {
            personal,
            orgs,
            new_key: None,
            flash: None,
        })
    }

    async fn org_page(&self, session: &str, org_id: &str) -> Result<OrgPageView, BackendError> {
        let caller = self.session_caller(session).await?;
        self.org_page_as(&caller, org_id).await
    }

    async fn project_page(
        &self,
        session: &str,
        project_id: &str,
    ) -> Result<ProjectPageView, BackendError> {
        let caller = self.session_caller(session).await?;
        self.project_page_as(&caller, project_id).await
    }

    async fn setup_page(
        &self,
        session: &str,
        project_id: &str,
        step: i64,
    ) -> Result<SetupPageView, BackendError> {
        let page = self.project_page(session, project_id).await?;
        let caller = self.session_caller(session).await?;
        let Some(_) = SetupStep::from_number(step) else {
            return Err(network_project_not_found(project_id).into());
        };
        let progress = self.setup_progress(&caller, project_id).await?;
        let cloud_region = RegionId::parse(&page.project.region_id)
            .ok()
            .and_then(|id| self.catalog.get(&id).map(|r| r.cloud_region().to_string()))
            .unwrap_or_else(|| page.project.region_id.clone());
        Ok(SetupPageView {
            cloud: self.project_cloud(&page.project.region_id),
            page,
            cloud_region,
            saved_step: progress.step,
            vpc_id: progress.vpc_id,
            subnet_ids: progress.subnet_ids,
            security_group_id: progress.security_group_id,
            consumer_network: progress.consumer_network,
            api_base: String::new(),
        })
    }

    async fn webhooks_page(
        &self,
        session: &str,
        org_id: &str,
    ) -> Result<app::domain::WebhooksPageView, BackendError> {
        use app::domain::{WebhookDeliveryView, WebhookView, WebhooksPageView};
        let caller = self.session_caller(session).await?;
        let org_id = OrgId::parse(org_id).map_err(ServiceError::from)?;
        let (org, role) = self.org_access(&caller, org_id.as_str()).await?;
        let mut page = WebhooksPageView {
            org_id: org.id.clone(),
            org_name: org.name.clone(),
            is_admin: role == Role::Admin,
            webhooks: Vec::new(),
            new_secret: None,
            allow_private: self.config().webhooks_allow_private,
            flash: None,
        };
        if role != Role::Admin {
            return Ok(page);
        }
        for webhook in self.list_webhooks(&caller, &org_id).await? {
            let (_, log) = self
                .webhook_deliveries(&caller, &org_id, &webhook.id)
                .await?;
            page.webhooks.push(WebhookView {
                events: webhook.event_types(),
                id: webhook.id,
                url: webhook.url,
                refusal_threshold: webhook.refusal_threshold,
                created_at: format_time(webhook.created_at),
                deliveries: log
                    .into_iter()
                    .take(20)
                    .map(|entry| {
                        let d = entry.delivery;
                        WebhookDeliveryView {
                            next_attempt_at: (d.status == "pending")
                                .then(|| format_time(d.next_attempt_at)),
                            id: d.id,
                            event: d.event_type,
                            status: d.status,
                            created_at: format_time(d.created_at),
                            attempts: i64::from(d.attempts),
                            last_status_code: d.last_status_code.map(i64::from),
                            last_error: d.last_error,
                        }
                    })
                    .collect(),
            });
        }
        Ok(page)
    }

    async fn operator_trials(&self, session: &str) -> Result<OperatorTrialsView, BackendError> {
        let caller = self.session_caller(session).await?;
        let rows = self.list_trial_requests(&caller, None).await.map_err(|e| {
            // Everyone but operators: the same "not found" as for any unknown page.
            if e.code == "permission_denied" {
                ServiceError::not_found("There is nothing at this address.")
            } else {
                e
            }
        })?;
        let trials = rows
            .into_iter()
            .map(|r| TrialReviewView {
                id: r.request.id.clone(),
                org_id: r.request.org_id.clone(),
                org_name: r.org_name,
                org_plan: plan_of(&r.org_plan),
                request: self
                    .trial_view(self.status_of_row(r.request))
                    .expect("a request is never TrialStatus::None"),
            })
            .collect();
        let default_end = self.clock.now_ms() + DEFAULT_TRIAL_DAYS * 86_400_000;
        let default_end_date = chrono::DateTime::from_timestamp_millis(default_end)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        Ok(OperatorTrialsView {
            trials,
            default_end_date,
            flash: None,
        })
    }

    async fn operator_provider(&self, session: &str) -> Result<ProviderStatusView, BackendError> {
        let caller = self.session_caller(session).await?;
        let status = self.provider_status(&caller).await.map_err(|e| {
            // Everyone but operators: the same "not found" as for any unknown page.
            if e.code == "permission_denied" {
                ServiceError::not_found("There is nothing at this address.")
            } else {
                e
            }
        })?;
        Ok(ProviderStatusView {
            provider: status.provider.to_string(),
            problems: status
                .problems
                .into_iter()
                .map(|p| ProviderProblemView {
                    call: p.call,
                    region: p.region,
                    message: p.message,
                    since: format_time(p.since),
                    last_seen: format_time(p.last_seen),
                })
                .collect(),
            unassigned: status
                .unassigned
                .into_iter()
                .map(|r| UnassignedRequestView {
                    vpc_endpoint_id: r.vpc_endpoint_id,
                    region_id: r.region_id,
                    service_id: r.service_id,
                    owner_account: r.owner_account,
                    first_seen: format_time(r.first_seen),
                })
                .collect(),
        })
    }

    async fn operator_orgs(&self, session: &str) -> Result<Vec<OrgSummary>, BackendError> {
        let caller = self.session_caller(session).await?;
        Ok(self
            .operator_organizations(&caller)
            .await?
            .into_iter()
            .map(|o| OrgSummary {
                id: o.id,
                name: o.name,
                plan: plan_of(&o.plan),
                role: Role::Member,
            })
            .collect())
    }

    async fn change(
        &self,
        session: &str,
        request_id: Option<String>,
        change: ConsoleChange,
    ) -> Result<Done, BackendError> {
        Ok(self.console_change(session, request_id, change).await?)
    }

    fn seal_outcome(&self, session: &str, outcome: &Flash) -> String {
        super::console_changes::seal_outcome(session, outcome)
    }

    fn open_outcome(&self, session: &str, sealed: &str) -> Option<Flash> {
        super::console_changes::open_outcome(session, sealed)
    }
}

/// Stamps a page view with a digest of its content (flash and digest left out), so live
/// updates can tell an open page whether what it shows is still current.
trait LiveVersion: serde::Serialize + Sized {
    fn blank(&mut self);
    fn set_version(&mut self, version: String);

    fn with_live_version(mut self) -> Self {
        use sha2::{Digest, Sha256};
        self.blank();
        let bytes = serde_json::to_vec(&self).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        let version = hex::encode(&digest[..12]);
        self.set_version(version);
        self
    }
}

impl LiveVersion for OrgPageView {
    fn blank(&mut self) {
        self.flash = None;
        self.live_version.clear();
    }
    fn set_version(&mut self, version: String) {
        self.live_version = version;
    }
}

impl LiveVersion for ProjectPageView {
    fn blank(&mut self) {
        self.flash = None;
        self.live_version.clear();
    }
    fn set_version(&mut self, version: String) {
        self.live_version = version;
    }
}

impl Services {
    /// Whether some accepted endpoint may reach the project: VPC connections are allowed and
    /// the restrictions (if any) include it. Blocking public access when this is false locks
    /// everyone out, so the console makes the admin confirm that explicitly.
    pub fn reachable_privately(
        &self,
        project: &crate::store::ProjectRow,
        endpoints: &[ProjectEndpointView],
        restrictions: &[String],
    ) -> bool {
        !project.block_vpc_connections
            && endpoints.iter().any(|e| {
                e.state == EndpointState::Accepted
                    && (restrictions.is_empty() || restrictions.contains(&e.vpc_endpoint_id))
            })
    }

    /// [`Services::reachable_privately`] for a project the caller can see.
    pub async fn project_reachable_privately(
        &self,
        caller: &Caller,
        project_id: &str,
    ) -> Result<bool, ServiceError> {
        let (project, org, _) = self.project_access(caller, project_id).await?;
        let restrictions: Vec<String> = self
            .store
            .restrictions_of_project(&project.id)
            .await?
            .into_iter()
            .map(|r| r.vpc_endpoint_id)
            .collect();
        let endpoints = endpoint_views(
            self.store
                .assignments_of_org(&org.id, Some(&project.region_id))
                .await?,
            &restrictions,
            &std::collections::HashMap::new(),
        );
        Ok(self.reachable_privately(&project, &endpoints, &restrictions))
    }

    /// The caller a live stream re-checks as: the session must still be live, but the look
    /// does not count as activity.
    pub async fn session_caller_quietly(&self, session: &str) -> Result<Caller, ServiceError> {
        match self.session_principal_quietly(session).await? {
            Some(principal) => Ok(Caller::new(principal, None)),
            None => Err(ServiceError::new(
                ErrorCode::Unauthenticated,
                app::domain::SIGN_IN_FIRST,
            )),
        }
    }

    /// The caller behind a console session cookie, for one page or change (its reads may share
    /// a database reading begun after this call); a clear error when the session is not live.
    pub async fn session_caller(&self, session: &str) -> Result<Caller, ServiceError> {
        let started = std::time::Instant::now();
        match self.session_principal(session).await? {
            Some(principal) => Ok(Caller::new(principal, None).in_request_started_at(started)),
            None => Err(ServiceError::new(
                ErrorCode::Unauthenticated,
                app::domain::SIGN_IN_FIRST,
            )),
        }
    }
}

impl Services {
    /// The latest allowed connection through each endpoint (of one project, or of any of
    /// the organization's projects).
    async fn last_connections(
        &self,
        org_id: &str,
        project_id: Option<&str>,
    ) -> Result<std::collections::HashMap<String, LastConnectionView>, ServiceError> {
        let evidence = self
            .store
            .allowed_evidence_of_org(org_id, project_id)
            .await?;
        Ok(last_connections_from(evidence))
    }
}

/// Each endpoint's latest allowed connection, from evidence rows newest first.
fn last_connections_from(
    evidence: Vec<crate::store::EvidenceRow>,
) -> std::collections::HashMap<String, LastConnectionView> {
    {
        let mut last = std::collections::HashMap::new();
        for row in evidence {
            // Rows come newest first: the first per endpoint is its latest.
            last.entry(row.vpc_endpoint_id)
                .or_insert(LastConnectionView {
                    at_ms: row.last_seen,
                    client_network: row.client_network,
                });
        }
        last
    }
}

/// A project's view of its organization's endpoints in its region.
fn endpoint_views(
    assignments: Vec<crate::store::AssignmentRow>,
    restrictions: &[String],
    last: &std::collections::HashMap<String, LastConnectionView>,
) -> Vec<ProjectEndpointView> {
    assignments
        .into_iter()
        .map(|a| (a.vpc_endpoint_id.starts_with("vpce-"), a))
        .map(|(aws, a)| ProjectEndpointView {
            last_connection: last.get(&a.vpc_endpoint_id).cloned(),
            change_impact: None,
            restricted: restrictions.contains(&a.vpc_endpoint_id),
            vpc_endpoint_id: a.vpc_endpoint_id,
            label: a.label,
            state: state_of(&a.state),
            rejection_reason: a.state_reason,
            service_name: a.service_name,
            // AWS's owner account is checked against the allowed accounts, not shown here.
            consumer: a.owner_account.filter(|_| !aws),
        })
        .collect()
}

/// The pages the port's readers and the live streams both build, for a caller already known.
impl Services {
    pub async fn org_page_as(
        &self,
        caller: &Caller,
        org_id: &str,
    ) -> Result<OrgPageView, BackendError> {
        let caller = caller.clone();
        let org_id = OrgId::parse(org_id).map_err(|_| principal::org_not_found(org_id))?;
        let (org, role) = self.org_access(&caller, org_id.as_str()).await?;
        let admins = self
            .store
            .members_of_org(&org.id)
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .filter(|(_, role)| role == Role::Admin.as_str())
            .map(|(email, _)| email)
            .collect();
        let entitled = self.require_entitlement(&org).is_ok();
        let projects: Vec<ProjectSummary> = self
            .list_projects(&caller, &org_id, None, 400)
            .await?
            .projects
            .into_iter()
            .map(|p| ProjectSummary {
                id: p.id,
                name: p.name,
                region_id: p.region_id,
                hostname: p.hostname,
                block_public_connections: p.block_public_connections,
            })
            .collect();
        let project_names: std::collections::HashMap<&str, &str> = projects
            .iter()
            .map(|p: &ProjectSummary| (p.id.as_str(), p.name.as_str()))
            .collect();
        // A fixed number of queries whatever the organization holds: its evidence and its
        // restrictions are read once and shared out per endpoint.
        let evidence = self
            .store
            .allowed_evidence_of_org(&org.id, None)
            .await
            .map_err(ServiceError::from)?;
        let last = last_connections_from(evidence.clone());
        let mut restricted: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (endpoint, project) in self
            .store
            .restrictions_of_org(&org.id)
            .await
            .map_err(ServiceError::from)?
        {
            restricted.entry(endpoint).or_default().push(project);
        }
        let mut endpoints = Vec::new();
        for a in self.list_org_endpoints(&caller, &org_id, None).await? {
            let restricted_projects = restricted
                .remove(&a.vpc_endpoint_id)
                .unwrap_or_default()
                .into_iter()
                .map(|id| match project_names.get(id.as_str()) {
                    Some(name) => format!("{name} ({id})"),
                    None => id,
                })
                .collect();
            let impact = self.removal_impact_from(&evidence, &a.vpc_endpoint_id);
            endpoints.push(EndpointSummary {
                remove_impact: impact.needs_acknowledgement().then(|| impact.summary()),
                last_connection: last.get(&a.vpc_endpoint_id).cloned(),
                vpc_endpoint_id: a.vpc_endpoint_id,
                region_id: a.region_id,
                label: a.label,
                state: state_of(&a.state),
                rejection_reason: a.state_reason,
                restricted_projects,
            });
        }
        let regions = self
            .catalog
            .regions
            .iter()
            .filter(|r| r.private_networking)
            .map(|r| r.id.to_string())
            .collect();
        let allowed_accounts = self
            .store
            .allowed_accounts(&org.id)
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .map(|a| app::domain::AllowedAccountView {
                account_id: a.account_id,
                note: a.note,
            })
            .collect();
        Ok(OrgPageView {
            allowed_accounts,
            org: OrgSummary {
                id: org.id,
                name: org.name,
                plan: plan_of(&org.plan),
                role,
            },
            admins,
            entitled,
            projects,
            endpoints,
            regions,
            flash: None,
            live_version: String::new(),
        }
        .with_live_version())
    }

    pub async fn project_page_as(
        &self,
        caller: &Caller,
        project_id: &str,
    ) -> Result<ProjectPageView, BackendError> {
        let caller = caller.clone();
        let (project, org, role) = self.project_access(&caller, project_id).await?;
        let admins = self
            .store
            .members_of_org(&org.id)
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .filter(|(_, r)| r == Role::Admin.as_str())
            .map(|(email, _)| email)
            .collect();
        let entitled = self.require_entitlement(&org).is_ok();
        let region = RegionId::parse(&project.region_id)
            .ok()
            .and_then(|id| self.catalog.get(&id).cloned());
        let restrictions: Vec<String> = self
            .store
            .restrictions_of_project(&project.id)
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .map(|r| r.vpc_endpoint_id)
            .collect();
        let endpoints = endpoint_views(
            self.store
                .assignments_of_org(&org.id, Some(&project.region_id))
                .await
                .map_err(ServiceError::from)?,
            &restrictions,
            &self.last_connections(&org.id, Some(&project.id)).await?,
        );
        let reachable_privately = self.reachable_privately(&project, &endpoints, &restrictions);
        let plan_includes_feature = app::domain::Plan::parse(&org.plan)
            .map(|p| p.includes_private_networking())
            .unwrap_or(false);
        let trial = self.trial_view(self.trial_status(&caller, &org.id).await?);
        let as_view = |d: crate::store::EvidenceRow| app::domain::DeniedConnectionView {
            vpc_endpoint_id: Some(d.vpc_endpoint_id).filter(|e| !e.is_empty()),
            client_network: d.client_network,
            reason: d.reason,
            count: d.count,
            first_seen_ms: d.first_seen,
            last_seen_ms: d.last_seen,
        };
        let denied = self
            .store
            .evidence_of_project(&project.id, "refused", 20)
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .map(as_view)
            .collect();
        // What each row's restrict / lift would refuse (the forms ask for a confirmation).
        let mut endpoints = endpoints;
        let changes: Vec<NetworkChange> = endpoints
            .iter()
            .map(|e| {
                if e.restricted {
                    NetworkChange::Unrestrict(&e.vpc_endpoint_id)
                } else {
                    NetworkChange::Restrict(&e.vpc_endpoint_id)
                }
            })
            .collect();
        let impacts = self.change_impacts(&project, &changes).await?;
        for (e, impact) in endpoints.iter_mut().zip(impacts) {
            if e.state == EndpointState::Accepted && impact.needs_acknowledgement() {
                e.change_impact = Some(impact.summary());
            }
        }
        let block_public_impact = if project.block_public_connections {
            None
        } else {
            let change = crate::store::SettingsChange {
                block_public_connections: Some(true),
                ..Default::default()
            };
            let impact = self.settings_impact(&project, &change).await?;
            impact.needs_acknowledgement().then(|| impact.summary())
        };
        // Let through in report-only mode, but blocking would have refused them.
        let would_be_refused = self
            .store
            .evidence_of_project(&project.id, "allowed", 200)
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .filter(|d| d.reason == app::domain::AccessReason::PublicWouldBeRefused.code())
            .take(20)
            .map(as_view)
            .collect();
        let rollout = match self.rollout(&caller, &project.id).await? {
            Rollout::Applied { proxies } => app::domain::RolloutView {
                state: app::domain::RolloutState::Applied,
                acknowledged: proxies as u32,
                proxies: proxies as u32,
            },
            Rollout::Applying {
                acknowledged,
                proxies,
            } => app::domain::RolloutView {
                state: app::domain::RolloutState::Applying,
                acknowledged: acknowledged as u32,
                proxies: proxies as u32,
            },
            Rollout::NoDataPlane => app::domain::RolloutView {
                state: app::domain::RolloutState::NoDataPlane,
                acknowledged: 0,
                proxies: 0,
            },
        };
        let offered_regions = self
            .catalog
            .regions
            .iter()
            .filter(|r| r.private_networking)
            .map(|r| r.id.to_string())
            .collect();
        let activity = self
            .store
            .audit_of_project(&project.id, 10)
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .map(|e| ActivityView {
                at_ms: e.created_at,
                actor: e.actor_name,
                action: e.action,
                target: e.target,
            })
            .collect();
        Ok(ProjectPageView {
            project: ProjectSummary {
                id: project.id.clone(),
                name: project.name.clone(),
                region_id: project.region_id.clone(),
                hostname: project.hostname.clone(),
                block_public_connections: project.block_public_connections,
            },
            org: OrgSummary {
                id: org.id,
                name: org.name,
                plan: plan_of(&org.plan),
                role,
            },
            admins,
            entitled,
            block_public_connections: project.block_public_connections,
            public_block_report_only: project.public_block_report_only,
            block_public_impact,
            allowed_ips: project
                .allowed_ips()
                .into_iter()
                .map(|r| app::domain::AllowedIpView {
                    expired: r.expires_at.is_some_and(|t| t <= self.clock.now_ms()),
                    expires: r.expires_at.map(format_time),
                    entry: r.entry,
                    note: r.note,
                })
                .collect(),
            would_be_refused,
            rollout,
            block_vpc_connections: project.block_vpc_connections,
            region_name: region
                .as_ref()
                .map(|r| r.display_name.clone())
                .unwrap_or_else(|| project.region_id.clone()),
            service_names: region
                .as_ref()
                .map(|r| r.service_names.clone())
                .unwrap_or_default(),
            availability_zone_notes: region
                .map(|r| r.availability_zone_notes)
                .unwrap_or_default(),
            endpoints,
            endpoint_limit: self.config.endpoint_limit,
            reachable_privately,
            activity,
            flash: None,
            live_version: String::new(),
            plan_includes_feature,
            trial,
            offered_regions,
            denied,
        }
        .with_live_version())
    }
}
