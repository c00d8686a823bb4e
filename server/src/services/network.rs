//! Private networking: endpoint assignments, project restrictions, network settings and the
//! access decision (SPEC §4).

use app::domain::ErrorCode;
use app::domain::{
    AccessDecision, IpAllowEntry, Label, OrgId, ProjectId, Region, RegionId, VpcEndpointId,
    MAX_ALLOWED_IPS,
};
use serde_json::json;

use super::{
    impact::{acknowledgement_required, Acknowledgement, NetworkChange},
    principal::project_not_found,
    Caller, Principal, ServiceError, Services,
};
use crate::store::{
    AllowedIpRecord, AssignOutcome, AssignRequest, AssignmentRow, ProjectRow, RemoveOutcome,
    RestrictOutcome, RestrictionRow, SettingsChange, SettingsOutcome, StoreError,
    UnrestrictOutcome,
};

/// An assignment with the projects restricted to it.
#[derive(Clone, Debug)]
pub struct EndpointDetails {
    pub assignment: AssignmentRow,
    pub restricted_projects: Vec<String>,
}

/// One batch of an organization's projects (cursor-paged, as the API lists them).
#[derive(Clone, Debug)]
pub struct ProjectBatch {
    pub projects: Vec<ProjectRow>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

fn endpoint_not_found(id: &VpcEndpointId, org: &str, region: &RegionId) -> ServiceError {
    ServiceError::new(
        ErrorCode::VpcEndpointNotFound,
        format!("VPC endpoint {id} is not assigned to organization {org} in region {region}."),
    )
}

impl Services {
    /// The catalog entry of a region that offers private networking.
    pub(crate) fn region(&self, id: &RegionId) -> Result<&Region, ServiceError> {
        match self.catalog.get(id) {
            Some(region) if region.private_networking => Ok(region),
            _ => {
                let offered: Vec<&str> = self
                    .catalog
                    .regions
                    .iter()
                    .filter(|r| r.private_networking)
                    .map(|r| r.id.as_str())
                    .collect();
                Err(ServiceError::new(
                    ErrorCode::RegionNotSupported,
                    format!(
                        "Private networking is not offered in region {id}. Choose one of: {}.",
                        offered.join(", ")
                    ),
                ))
            }
        }
    }

    /// Every assignment of the organization, optionally in one region.
    pub async fn list_org_endpoints(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        region_id: Option<&RegionId>,
    ) -> Result<Vec<AssignmentRow>, ServiceError> {
        let (org, _role) = self.org_access(caller, org_id.as_str()).await?;
        if let Some(region_id) = region_id {
            self.region(region_id)?;
        }
        Ok(self
            .store
            .assignments_of_org(&org.id, region_id.map(RegionId::as_str))
            .await?)
    }

    pub async fn endpoint_details(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        region_id: &RegionId,
        vpc_endpoint_id: &VpcEndpointId,
    ) -> Result<EndpointDetails, ServiceError> {
        let (org, _role) = self.org_access(caller, org_id.as_str()).await?;
        self.region(region_id)?;
        let assignment = self
            .store
            .assignment(vpc_endpoint_id.as_str())
            .await?
            .filter(|a| a.org_id == org.id && a.region_id == region_id.as_str())
            .ok_or_else(|| endpoint_not_found(vpc_endpoint_id, &org.id, region_id))?;
        let restricted_projects = self
            .store
            .projects_restricted_to(vpc_endpoint_id.as_str())
            .await?;
        Ok(EndpointDetails {
            assignment,
            restricted_projects,
        })
    }

    /// Assigns an endpoint to the organization in a region, or relabels it; says which.
    pub async fn assign_endpoint(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        region_id: &RegionId,
        vpc_endpoint_id: &VpcEndpointId,
        label: &Label,
    ) -> Result<AssignOutcome, ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        self.require_entitlement(&org)?;
        self.region(region_id)?;
        if vpc_endpoint_id.cloud() != region_id.cloud() {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                format!(
                    "Invalid vpc_endpoint_id: {vpc_endpoint_id} is a {} endpoint, but region \
                     {region_id} is in {}. Assign it in a region of its own cloud, or create \
                     the endpoint in {}.",
                    vpc_endpoint_id.cloud().display_name(),
                    region_id.cloud().display_name(),
                    region_id.cloud().display_name()
                ),
            ));
        }
        let id = vpc_endpoint_id.as_str();
        let audit = self
            .audit(caller, "vpc_endpoint.assign", id)
            .org(&org.id)
            .after(json!({"region_id": region_id, "label": label.as_str()}));
        let request = AssignRequest {
            org_id: &org.id,
            region_id: region_id.as_str(),
            vpc_endpoint_id: id,
            label: label.as_str(),
            limit: self.config.endpoint_limit,
        };
        let conflict = |code, message: String| Err(ServiceError::new(code, message));
        let outcome = match self.store.assign_endpoint(&request, &audit).await {
            // Two organizations inserting the same id at once: the primary key decides, and
            // the loser gets the same answer as if it had come second.
            Err(StoreError::UniqueViolation { .. }) => AssignOutcome::HeldByAnotherOrg,
            other => other?,
        };
        match outcome {
            done @ (AssignOutcome::Created
            | AssignOutcome::Relabelled { .. }
            | AssignOutcome::Unchanged) => Ok(done),
            AssignOutcome::RemovedBefore => conflict(
                ErrorCode::VpcEndpointRemoved,
                format!(
                    "VPC endpoint {id} was removed from organization {} and can never be added \
                     back. Create a new VPC endpoint in AWS and assign that one.",
                    org.id
                ),
            ),
            AssignOutcome::HeldByAnotherOrg => conflict(
                ErrorCode::VpcEndpointInUse,
                format!(
                    "VPC endpoint {id} is already assigned to another organization. An endpoint \
                     can belong to one organization only; create a new VPC endpoint for this one."
                ),
            ),
            AssignOutcome::AssignedInRegion(other) => conflict(
                ErrorCode::VpcEndpointInOtherRegion,
                format!(
                    "VPC endpoint {id} is already assigned to this organization in region \
                     {other}. An endpoint works only in the region where it was created."
                ),
            ),
            AssignOutcome::LimitReached { count } => conflict(
                ErrorCode::VpcEndpointLimitReached,
                format!(
                    "Organization {} already has {count} of {} VPC endpoints in region \
                     {region_id}. Remove one you no longer use before assigning another.",
                    org.id, self.config.endpoint_limit
                ),
            ),
        }
    }

    /// Removes an endpoint from the organization. Refused while projects are restricted to
    /// it, because removing it would change who may connect to them.
    pub async fn remove_endpoint(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        region_id: &RegionId,
        vpc_endpoint_id: &VpcEndpointId,
        ack: Acknowledgement,
    ) -> Result<(), ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        // Removing only ever narrows who may connect: allowed without the entitlement.
        self.region(region_id)?;
        let id = vpc_endpoint_id.as_str();
        if ack == Acknowledgement::Given(false) {
            let impact = self.removal_impact(&org.id, id).await?;
            if impact.needs_acknowledgement() {
                return Err(acknowledgement_required(&impact));
            }
        }
        let before = self.store.assignment(id).await?;
        let mut audit = self.audit(caller, "vpc_endpoint.remove", id).org(&org.id);
        if let Some(before) = &before {
            audit = audit.before(json!({"region_id": before.region_id, "label": before.label, "state": before.state}));
        }
        match self
            .store
            .remove_endpoint(&org.id, region_id.as_str(), id, &audit)
            .await?
        {
            RemoveOutcome::Removed => Ok(()),
            RemoveOutcome::NotFound => Err(endpoint_not_found(vpc_endpoint_id, &org.id, region_id)),
            RemoveOutcome::StillRestricts(projects) => Err(ServiceError::new(
                ErrorCode::VpcEndpointRestrictsProjects,
                format!(
                    "VPC endpoint {id} still restricts {} project(s): {}. Remove it from their \
                     restrictions first, so that no project's access changes by accident.",
                    projects.len(),
                    projects.join(", ")
                ),
            )),
        }
    }

    pub async fn get_project(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
    ) -> Result<ProjectRow, ServiceError> {
        Ok(self.project_access(caller, project_id.as_str()).await?.0)
    }

    /// An organization's projects, `limit` at a time (1–400).
    pub async fn list_projects(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<ProjectBatch, ServiceError> {
        if !(1..=400).contains(&limit) {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "Invalid limit: choose a number from 1 to 400.",
            ));
        }
        let (org, _role) = self.org_access(caller, org_id.as_str()).await?;
        let mut projects = self
            .store
            .projects_of_org(&org.id, cursor, limit + 1)
            .await?;
        let next_cursor = if projects.len() as i64 > limit {
            projects.truncate(limit as usize);
            projects.last().map(|p| p.id.clone())
        } else {
            None
        };
        Ok(ProjectBatch {
            projects,
            next_cursor,
        })
    }

    pub async fn project_restrictions(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
    ) -> Result<Vec<RestrictionRow>, ServiceError> {
        let (project, _, _) = self.project_access(caller, project_id.as_str()).await?;
        Ok(self.store.restrictions_of_project(&project.id).await?)
    }

    /// Restricts the project to an endpoint of its organization in its region (or relabels).
    pub async fn restrict_project(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        vpc_endpoint_id: &VpcEndpointId,
        label: &Label,
        ack: Acknowledgement,
    ) -> Result<(), ServiceError> {
        let (project, org, role) = self.project_access(caller, project_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        let entitlement = self.require_entitlement(&org);
        let id = vpc_endpoint_id.as_str();
        let judged_at = self
            .judge(&project, &NetworkChange::Restrict(id), ack)
            .await?;
        let audit = self
            .audit(caller, "project.restrict", id)
            .org(&org.id)
            .project(&project.id)
            .after(json!({"vpc_endpoint_id": id, "label": label.as_str()}));
        match self
            .store
            .restrict_project(
                &project,
                id,
                label.as_str(),
                entitlement.is_ok(),
                judged_at,
                &audit,
            )
            .await?
        {
            RestrictOutcome::ChangedMeanwhile => Err(changed_meanwhile(&project.id)),
            RestrictOutcome::WouldLoosen => Err(entitlement
                .err()
                .unwrap_or_else(|| ServiceError::internal("restriction refused", id))),
            RestrictOutcome::NotAssigned => Err(ServiceError::new(
                ErrorCode::VpcEndpointNotAssigned,
                format!(
                    "VPC endpoint {id} is not assigned to organization {} in region {}, so \
                     project {} cannot be restricted to it. Assign the endpoint to the \
                     organization in that region first.",
                    org.id, project.region_id, project.id
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Lifts one restriction. Lifting the last one lets every endpoint of the organization in
    /// the region connect again, so it needs `confirm_open`, checked under the lock. Answers
    /// whether that happened (the project is open to every endpoint now).
    pub async fn unrestrict_project(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        vpc_endpoint_id: &VpcEndpointId,
        confirm_open: bool,
        ack: Acknowledgement,
    ) -> Result<bool, ServiceError> {
        let (project, org, role) = self.project_access(caller, project_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        let entitlement = self.require_entitlement(&org);
        let id = vpc_endpoint_id.as_str();
        let judged_at = self
            .judge(&project, &NetworkChange::Unrestrict(id), ack)
            .await?;
        let audit = self
            .audit(caller, "project.unrestrict", id)
            .org(&org.id)
            .project(&project.id)
            .before(json!({"vpc_endpoint_id": id}));
        match self
            .store
            .unrestrict_project(
                &project,
                id,
                entitlement.is_ok(),
                confirm_open,
                judged_at,
                &audit,
            )
            .await?
        {
            UnrestrictOutcome::Lifted { opened } => Ok(opened),
            UnrestrictOutcome::ChangedMeanwhile => Err(changed_meanwhile(&project.id)),
            UnrestrictOutcome::NeedsConfirmation => Err(ServiceError::new(
                ErrorCode::ConfirmationRequired,
                format!(
                    "The restriction to {id} stays: it is the last one of project {}, and without \
                     it every accepted endpoint of the organization in {} may connect. Confirm \
                     opening the project to every endpoint to lift it.",
                    project.id, project.region_id
                ),
            )),
            UnrestrictOutcome::WouldLoosen => Err(entitlement
                .err()
                .unwrap_or_else(|| ServiceError::internal("lift refused", id))),
            UnrestrictOutcome::NotRestricted => Err(ServiceError::new(
                ErrorCode::VpcEndpointNotFound,
                format!(
                    "Project {} is not restricted to VPC endpoint {id}.",
                    project.id
                ),
            )),
        }
    }

    /// Changes `block_public_connections` / `block_vpc_connections`.
    ///
    /// A change that would refuse connections seen in the last 24 hours, or block public
    /// access with no private path that has ever worked, needs `ack` (see
    /// [`Services::settings_impact`]); the judgement holds because the store applies the
    /// change only if the project's network settings are still those it was made on
    /// (checked under the organization's lock).
    pub async fn update_project_settings(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        change: &SettingsChange,
        ack: Acknowledgement,
    ) -> Result<ProjectRow, ServiceError> {
        let (project, org, role) = self.project_access(caller, project_id.as_str()).await?;
        self.apply_settings(caller, project, org, role, change, ack, None)
            .await
    }

    /// Adds an entry to the project's IP allow list (or replaces its note and expiry), or
    /// takes one off. The list is edited as read and written only if the project's network
    /// is still as it was read (under the organization's lock), so two admins editing at
    /// once never lose each other's entries: the later one is told to retry.
    pub async fn edit_allowed_ips(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        edit: AllowListEdit,
        ack: Acknowledgement,
    ) -> Result<ProjectRow, ServiceError> {
        let read_at = self
            .store
            .project_network_version(project_id.as_str())
            .await?;
        let (_, org, role) = self.project_access(caller, project_id.as_str()).await?;
        // The list is edited from a row read after `read_at`, never from a cached one: a row
        // older than `read_at` would pass the store's check and lose another admin's entry.
        let project = self
            .store
            .project(project_id.as_str())
            .await?
            .ok_or_else(|| super::principal::project_not_found(project_id.as_str()))?;
        let mut list = project.allowed_ips();
        match edit {
            AllowListEdit::Add(record) => {
                list.retain(|r| r.entry != record.entry);
                list.push(record);
            }
            AllowListEdit::Remove(entry) => {
                let before = list.len();
                list.retain(|r| r.entry != entry);
                if list.len() == before {
                    return Err(ServiceError::new(
                        ErrorCode::NotFound,
                        format!("{entry} is not on the IP allow list of project {project_id}."),
                    ));
                }
            }
        }
        let change = SettingsChange {
            allowed_ips: Some(list),
            ..Default::default()
        };
        self.apply_settings(caller, project, org, role, &change, ack, Some(read_at))
            .await
    }

    /// Applies a settings change to a project read by the caller; `read_at`, when given, is
    /// the network version the change was built on (the store refuses it if that moved).
    #[allow(clippy::too_many_arguments)]
    async fn apply_settings(
        &self,
        caller: &Caller,
        project: ProjectRow,
        org: crate::store::OrganizationRow,
        role: app::domain::Role,
        change: &SettingsChange,
        ack: Acknowledgement,
        read_at: Option<i64>,
    ) -> Result<ProjectRow, ServiceError> {
        if change.block_public_connections.is_none()
            && change.block_vpc_connections.is_none()
            && change.public_block_report_only.is_none()
            && change.allowed_ips.is_none()
        {
            return Ok(project);
        }
        let mut change = change.clone();
        if let Some(list) = change.allowed_ips.take() {
            change.allowed_ips = Some(checked_allow_list(&project, list)?);
        }
        let change = &change;
        Self::require_admin(&org, role)?;
        let entitlement = self.require_entitlement(&org);
        let judged_at = self
            .judge(&project, &NetworkChange::Settings(change), ack)
            .await?
            .map(|judged| read_at.map_or(judged, |read| read.min(judged)))
            .or(read_at);
        let audit = self
            .audit(caller, "project.settings", &project.id)
            .org(&org.id)
            .project(&project.id)
            .before(json!({
                "block_public_connections": project.block_public_connections,
                "block_vpc_connections": project.block_vpc_connections,
                "public_block_report_only": project.public_block_report_only,
                "allowed_ips": project.allowed_ips().iter().map(|r| r.entry.clone()).collect::<Vec<_>>(),
            }))
            .after(json!({
                "block_public_connections": change.block_public_connections.unwrap_or(project.block_public_connections),
                "block_vpc_connections": change.block_vpc_connections.unwrap_or(project.block_vpc_connections),
                "public_block_report_only": change.public_block_report_only.unwrap_or(project.public_block_report_only),
                "allowed_ips": change.allowed_ips.as_ref().map(|l| l.iter().map(|r| r.entry.clone()).collect::<Vec<_>>()),
            }));
        match self
            .store
            .update_project_settings(
                &project.id,
                &org.id,
                change,
                entitlement.is_ok(),
                judged_at,
                &audit,
            )
            .await?
        {
            SettingsOutcome::WouldLoosen(_) => {
                return Err(entitlement.err().unwrap_or_else(|| {
                    ServiceError::internal("settings change refused", &project.id)
                }))
            }
            SettingsOutcome::ChangedMeanwhile => return Err(changed_meanwhile(&project.id)),
            SettingsOutcome::Changed | SettingsOutcome::Unchanged => {}
        }
        self.store
            .project(&project.id)
            .await?
            .ok_or_else(|| project_not_found(&project.id))
    }

    /// The access decision for a connection to a project (by id or hostname), from the data
    /// plane's point of view. Only the data plane and the server itself may ask.
    pub async fn access_decision(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        vpc_endpoint_id: Option<&VpcEndpointId>,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<AccessDecision, ServiceError> {
        if !matches!(
            caller.principal,
            Principal::DataPlane | Principal::System | Principal::OperatorCli
        ) {
            return Err(ServiceError::new(
                ErrorCode::PermissionDenied,
                "Only the data plane may ask for access decisions.",
            ));
        }
        let project = match project {
            ProjectRef::Id(id) => self.store.project(id.as_str()).await?,
            ProjectRef::Hostname(host) => {
                self.store
                    .project_by_hostname(&host.trim().to_ascii_lowercase())
                    .await?
            }
        };
        let Some(project) = project else {
            return Ok(AccessDecision::project_not_found());
        };
        // The same rule the proxy applies to a cached route.
        let route = self.route_of_project(&project, 0).await?;
        Ok(route.decide(
            vpc_endpoint_id.map(VpcEndpointId::as_str),
            client_ip,
            self.clock.now_ms(),
        ))
    }
}

impl Services {
    /// Judges a change on the project's network as it stands when the caller has not
    /// acknowledged its effect: refuses one that would refuse recent traffic, and otherwise
    /// answers the feed version it was judged at (the store applies the change only if that
    /// is still current, so the judgement holds). Nothing to judge when the caller
    /// acknowledged, or when the API applies changes as Neon does.
    async fn judge(
        &self,
        project: &ProjectRow,
        change: &NetworkChange<'_>,
        ack: Acknowledgement,
    ) -> Result<Option<i64>, ServiceError> {
        if ack != Acknowledgement::Given(false) {
            return Ok(None);
        }
        let judged_at = self.store.project_network_version(&project.id).await?;
        let impact = self.change_impact(project, change).await?;
        if impact.needs_acknowledgement() {
            return Err(acknowledgement_required(&impact));
        }
        Ok(Some(judged_at))
    }
}

/// One edit of a project's IP allow list.
#[derive(Clone, Debug)]
pub enum AllowListEdit {
    Add(AllowedIpRecord),
    Remove(String),
}

fn changed_meanwhile(project_id: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::ChangedMeanwhile,
        format!(
            "Nothing changed: project {project_id}'s network changed while this change was \
             being checked. Look at it again, then retry."
        ),
    )
}

/// Checks a new IP allow list: every entry parses (kept in canonical form), no more than
/// [`MAX_ALLOWED_IPS`], duplicates folded. An entry given without note or expiry keeps
/// those it had (Neon's API sends bare strings).
fn checked_allow_list(
    project: &ProjectRow,
    list: Vec<AllowedIpRecord>,
) -> Result<Vec<AllowedIpRecord>, ServiceError> {
    let existing = project.allowed_ips();
    let mut checked: Vec<AllowedIpRecord> = Vec::new();
    for record in list {
        let entry = IpAllowEntry::parse(&record.entry)?;
        if checked.iter().any(|c| c.entry == entry.as_str()) {
            continue;
        }
        let before = existing.iter().find(|e| e.entry == entry.as_str());
        checked.push(AllowedIpRecord {
            entry: entry.as_str().to_string(),
            note: if record.note.is_empty() {
                before.map(|b| b.note.clone()).unwrap_or_default()
            } else {
                record.note
            },
            expires_at: record.expires_at.or(before.and_then(|b| b.expires_at)),
        });
    }
    if checked.len() > MAX_ALLOWED_IPS {
        return Err(ServiceError::new(
            ErrorCode::TooManyAllowedIps,
            format!(
                "An IP allow list holds at most {MAX_ALLOWED_IPS} entries ({} given): use CIDR \
                 ranges to cover several addresses.",
                checked.len()
            ),
        ));
    }
    Ok(checked)
}

/// How the data plane names the project a connection is for.
#[derive(Clone, Copy, Debug)]
pub enum ProjectRef<'a> {
    Id(&'a ProjectId),
    Hostname(&'a str),
}
