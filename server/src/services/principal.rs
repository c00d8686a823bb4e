//! Who is calling, and what they may see and change. Every service method starts here.

use std::time::Instant;

use app::domain::ErrorCode;
use app::domain::{private_networking_entitled, Plan, Role, Trial};

use super::{ErrorKind, ServiceError, Services};
use crate::store::{AuditActor, AuditEntry, OrganizationRow, ProjectRow};

/// The authenticated identity behind a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A person, signed in or through one of their personal API keys.
    User {
        user_id: String,
        email: String,
        is_operator: bool,
        via_api_key: Option<String>,
    },
    /// An organization API key: admin rights in that organization only.
    OrgApiKey {
        org_id: String,
        key_id: String,
        key_name: String,
    },
    /// The operator CLI, run by platform staff against the server's own database.
    OperatorCli,
    /// The data plane asking for access decisions (internal token).
    DataPlane,
    /// The server itself (the reconciler).
    System,
}

/// A principal and the request it arrived with (for the audit log).
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: Option<String>,
    /// When the HTTP request carrying this call arrived: its reads may share a database
    /// reading begun after that (see `store::hot`). `None` (the CLI, the reconciler, a caller
    /// kept across calls): every call reads as of its own start.
    request_started: Option<Instant>,
}

impl Caller {
    pub fn new(principal: Principal, request_id: Option<String>) -> Self {
        Self {
            principal,
            request_id,
            request_started: None,
        }
    }

    /// This call serves one HTTP request that arrived at `at`.
    pub fn in_request_started_at(mut self, at: Instant) -> Self {
        self.request_started = Some(at);
        self
    }

    /// The moment this call's reads must be fresh from: the request's arrival, or now.
    pub(crate) fn reads_since(&self) -> Instant {
        self.request_started.unwrap_or_else(Instant::now)
    }

    pub fn operator_cli() -> Self {
        Self::new(Principal::OperatorCli, None)
    }

    pub fn system() -> Self {
        Self::new(Principal::System, None)
    }

    pub(crate) fn actor(&self) -> AuditActor {
        match &self.principal {
            Principal::User {
                user_id,
                email,
                via_api_key: None,
                ..
            } => AuditActor {
                kind: "user",
                id: user_id.clone(),
                name: email.clone(),
            },
            Principal::User {
                email,
                via_api_key: Some(key),
                ..
            } => AuditActor {
                kind: "api_key",
                id: key.clone(),
                name: format!("personal key of {email}"),
            },
            Principal::OrgApiKey {
                key_id, key_name, ..
            } => AuditActor {
                kind: "api_key",
                id: key_id.clone(),
                name: format!("organization key {key_name}"),
            },
            Principal::OperatorCli => AuditActor {
                kind: "operator_cli",
                id: "cli".into(),
                name: "operator CLI".into(),
            },
            Principal::DataPlane => AuditActor {
                kind: "data_plane",
                id: "data-plane".into(),
                name: "data plane".into(),
            },
            Principal::System => AuditActor {
                kind: "system",
                id: "reconciler".into(),
                name: "Enclave reconciler".into(),
            },
        }
    }
}

/// The same answer whether the organization does not exist or the caller is not a member:
/// outsiders learn nothing about which organizations exist.
pub(crate) fn org_not_found(org_id: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::OrganizationNotFound,
        format!("Organization {org_id} was not found, or you are not a member of it."),
    )
}

pub(crate) fn project_not_found(project_id: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::ProjectNotFound,
        format!("Project {project_id} was not found, or you do not have access to it."),
    )
}

impl Services {
    /// The organization and the caller's role in it; `404` for non-members.
    pub(crate) async fn org_access(
        &self,
        caller: &Caller,
        org_id: &str,
    ) -> Result<(OrganizationRow, Role), ServiceError> {
        let at = self.store.read_stamp(caller.reads_since()).await?;
        let role = match &caller.principal {
            Principal::User { user_id, .. } => self
                .store
                .membership_role_as_of(at, org_id, user_id)
                .await?
                .and_then(|r| Role::parse(&r).ok()),
            Principal::OrgApiKey { org_id: own, .. } => (own == org_id).then_some(Role::Admin),
            Principal::OperatorCli | Principal::System => Some(Role::Admin),
            Principal::DataPlane => None,
        };
        let Some(role) = role else {
            return Err(org_not_found(org_id));
        };
        let org = self
            .store
            .organization_as_of(at, org_id)
            .await?
            .ok_or_else(|| org_not_found(org_id))?;
        Ok((org, role))
    }

    /// The project, its organization and the caller's role; `404` for non-members.
    pub(crate) async fn project_access(
        &self,
        caller: &Caller,
        project_id: &str,
    ) -> Result<(ProjectRow, OrganizationRow, Role), ServiceError> {
        let at = self.store.read_stamp(caller.reads_since()).await?;
        let project = self
            .store
            .project_as_of(at, project_id)
            .await?
            .ok_or_else(|| project_not_found(project_id))?;
        let (org, role) = self
            .org_access(caller, &project.org_id)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => project_not_found(project_id),
                _ => e,
            })?;
        Ok((project, org, role))
    }

    /// Changes need the admin role.
    pub(crate) fn require_admin(org: &OrganizationRow, role: Role) -> Result<(), ServiceError> {
        match role {
            Role::Admin => Ok(()),
            Role::Member => Err(ServiceError::new(
                ErrorCode::PermissionDenied,
                format!(
                    "Only admins of organization {} can change private networking; your role is \
                     member. Ask an admin to make the change or to make you an admin.",
                    org.name
                ),
            )),
        }
    }

    /// Loosening private networking (and new assignments) needs a plan that includes the
    /// feature, a running trial, or an operator's lift of the freeze. Tightening (blocking,
    /// restricting, removing) never does.
    pub(crate) fn require_entitlement(&self, org: &OrganizationRow) -> Result<(), ServiceError> {
        let plan = Plan::parse(&org.plan).unwrap_or(Plan::Free);
        let trial = org.trial_ends_at.map(|ends_at_ms| Trial { ends_at_ms });
        let now = self.clock.now_ms();
        if private_networking_entitled(plan, trial, now)
            || org.freeze_lifted_until.is_some_and(|until| until > now)
        {
            return Ok(());
        }
        let why = match trial {
            Some(_) => "its private networking trial has ended".to_string(),
            None => format!("the {plan} plan does not include private networking"),
        };
        Err(ServiceError::new(
            ErrorCode::FeatureNotAvailable,
            format!(
                "Organization {} cannot loosen private networking or assign endpoints: {why}. \
                 Blocking, restricting and removing stay allowed, and existing configuration \
                 stays in force. Request a trial from a project's Network Security page, or \
                 upgrade to the Scale, Business or Enterprise plan.",
                org.name
            ),
        ))
    }

    /// Starts an audit entry for a change the caller makes now.
    pub(crate) fn audit(&self, caller: &Caller, action: &'static str, target: &str) -> AuditEntry {
        AuditEntry {
            org_id: None,
            project_id: None,
            actor: caller.actor(),
            action,
            target: target.to_string(),
            before: None,
            after: None,
            request_id: caller.request_id.clone(),
            at_ms: self.clock.now_ms(),
        }
    }
}
