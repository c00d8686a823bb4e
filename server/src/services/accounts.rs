//! Organizations, users, memberships, projects and API keys.

use std::time::Instant;

use app::domain::ErrorCode;
use app::domain::{OrgId, Plan, ProjectId, RegionId, Role, API_KEY_MAX_EXPIRY_DAYS};
use argon2::{password_hash::SaltString, Argon2, PasswordHasher};
use rand::{distributions::Alphanumeric, Rng};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{
    names, principal::org_not_found, Caller, ErrorKind, Principal, ServiceError, Services,
};
use crate::store::{
    ApiKeyRow, InsertKeyOutcome, MemberOrganizationRow, NewApiKey, NewOrganization, NewProject,
    NewUser, OrganizationRow, ProjectRow, StoreError, UserRow, LIVE_API_KEYS_PER_OWNER,
};

/// Every API key starts with this, so a leaked key is easy to recognise (and to scan for).
pub const API_KEY_PREFIX: &str = "enclave_";

/// Whose rights an API key carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    /// Acts as the user.
    User(String),
    /// Admin of the organization.
    Org(OrgId),
}

/// A freshly created key. `token` is shown once and never stored.
#[derive(Clone, Debug)]
pub struct CreatedApiKey {
    pub id: String,
    /// The number Neon's API names the key by.
    pub public_id: i64,
    pub name: String,
    pub token: String,
    pub created_at_ms: i64,
    /// The user who created it (none for the operator CLI or an organization key).
    pub created_by: Option<String>,
    pub expires_at_ms: Option<i64>,
}

/// Public key numbers are drawn from 1..=2^52: exact as JavaScript numbers (neonctl checks
/// `Number.isSafeInteger`) and too many to guess.
pub const API_KEY_PUBLIC_ID_MAX: i64 = 1 << 52;

/// Last-use times are refreshed at most this often, so reads do not all become writes.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn require_operator(caller: &Caller) -> Result<(), ServiceError> {
    match caller.principal {
        Principal::OperatorCli => Ok(()),
        Principal::User {
            is_operator: true, ..
        } => Ok(()),
        _ => Err(ServiceError::new(
            ErrorCode::PermissionDenied,
            "Only platform operators can do this.",
        )),
    }
}

fn non_empty_name(field: &str, value: &str) -> Result<String, ServiceError> {
    let name = value.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ServiceError::new(
            ErrorCode::InvalidInput,
            format!("Invalid {field}: enter 1 to 100 printable characters."),
        ));
    }
    if let Some(c) = app::domain::deceptive_char(name) {
        return Err(ServiceError::new(
            ErrorCode::InvalidInput,
            format!(
                "Invalid {field}: it contains the invisible or text-direction character U+{:04X}, \
                 which would make it read differently from what it is; type it without that \
                 character.",
                c as u32
            ),
        ));
    }
    Ok(name.to_string())
}

fn parse_email(value: &str) -> Result<String, ServiceError> {
    let email = value.trim().to_ascii_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(ServiceError::new(
            ErrorCode::InvalidInput,
            "Invalid email: enter an address such as ada@example.com.",
        ));
    }
    Ok(email)
}

impl Services {
    /// Creates an organization (operators only).
    pub async fn create_organization(
        &self,
        caller: &Caller,
        name: &str,
        plan: Plan,
    ) -> Result<OrganizationRow, ServiceError> {
        require_operator(caller)?;
        let name = non_empty_name("name", name)?;
        // Ids are random; on the rare collision, draw again (never a 500 for bad luck).
        let mut attempt = 0;
        let id = loop {
            attempt += 1;
            let id = names::org_id();
            let audit = self
                .audit(caller, "organization.create", &id)
                .org(&id)
                .after(json!({"name": name, "plan": plan}));
            let org = NewOrganization {
                id: &id,
                name: &name,
                plan: plan.as_str(),
            };
            match self.store.insert_organization(&org, &audit).await {
                Ok(()) => break id,
                Err(StoreError::UniqueViolation { .. }) if attempt < 5 => continue,
                Err(e) => return Err(e.into()),
            }
        };
        self.store
            .organization(&id)
            .await?
            .ok_or_else(|| ServiceError::internal("organization vanished after insert", &id))
    }

    /// Creates a user (operators only). The password, if any, is stored as an argon2id hash.
    pub async fn create_user(
        &self,
        caller: &Caller,
        email: &str,
        password: Option<&str>,
        is_operator: bool,
    ) -> Result<UserRow, ServiceError> {
        require_operator(caller)?;
        let email = parse_email(email)?;
        let password_hash = match password {
            Some(p) if p.chars().count() < 12 => {
                return Err(ServiceError::new(
                    ErrorCode::InvalidInput,
                    "Invalid password: use at least 12 characters.",
                ))
            }
            Some(p) if p.chars().count() > super::MAX_PASSWORD_CHARS => {
                return Err(ServiceError::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "Invalid password: use at most {} characters.",
                        super::MAX_PASSWORD_CHARS
                    ),
                ))
            }
            Some(p) => Some(
                Argon2::default()
                    .hash_password(p.as_bytes(), &SaltString::generate(&mut rand::rngs::OsRng))
                    .map_err(|e| ServiceError::internal("hashing a password failed", e))?
                    .to_string(),
            ),
            None => None,
        };
        let id = names::opaque_id("usr");
        let audit = self
            .audit(caller, "user.create", &id)
            .after(json!({"email": email, "is_operator": is_operator}));
        let user = NewUser {
            id: &id,
            email: &email,
            password_hash: password_hash.as_deref(),
            is_operator,
            at_ms: audit.at_ms,
        };
        match self.store.insert_user(&user, &audit).await {
            Err(StoreError::UniqueViolation { .. }) => {
                return Err(ServiceError::new(
                    ErrorCode::UserExists,
                    format!("A user with email {email} already exists."),
                ))
            }
            other => other?,
        }
        self.store
            .user_by_id(&id)
            .await?
            .ok_or_else(|| ServiceError::internal("user vanished after insert", &id))
    }

    /// Grants or withdraws the platform operator role (operators only).
    pub async fn set_operator(
        &self,
        caller: &Caller,
        email: &str,
        is_operator: bool,
    ) -> Result<(), ServiceError> {
        require_operator(caller)?;
        let email = parse_email(email)?;
        let audit = self
            .audit(caller, "user.operator", &email)
            .after(json!({"is_operator": is_operator}));
        if self.store.set_operator(&email, is_operator, &audit).await? {
            Ok(())
        } else {
            Err(ServiceError::new(
                ErrorCode::UserNotFound,
                format!("No user has the email {email}; create the user first."),
            ))
        }
    }

    /// Every organization, for the operator area (operators only; others get 404).
    pub async fn operator_organizations(
        &self,
        caller: &Caller,
    ) -> Result<Vec<OrganizationRow>, ServiceError> {
        if require_operator(caller).is_err() {
            return Err(ServiceError::not_found("There is nothing at this address."));
        }
        Ok(self.store.all_organizations().await?)
    }

    /// Lets an organization without the private-networking entitlement loosen again (and
    /// assign endpoints) for `days` days, or, with `None`, ends such a lift. Operators only;
    /// audited. Answers when the lift ends.
    pub async fn lift_freeze(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        days: Option<i64>,
    ) -> Result<Option<i64>, ServiceError> {
        require_operator(caller)?;
        if let Some(days) = days {
            if !(1..=90).contains(&days) {
                return Err(ServiceError::new(
                ErrorCode::InvalidDays,
                    format!("days must be between 1 and 90 (got {days}): a lift is temporary; approve a trial or change the plan for longer."),
                ));
            }
        }
        let until = days.map(|d| self.clock.now_ms() + d * 86_400_000);
        let audit = self
            .audit(caller, "org.freeze_lift", org_id.as_str())
            .org(org_id.as_str())
            .after(json!({"freeze_lifted_until": until}));
        if self
            .store
            .set_freeze_lifted_until(org_id.as_str(), until, &audit)
            .await?
        {
            Ok(until)
        } else {
            Err(ServiceError::not_found(format!(
                "Organization {org_id} does not exist."
            )))
        }
    }

    /// Adds a user to an organization or changes their role (operators and org admins).
    pub async fn add_member(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        email: &str,
        role: Role,
    ) -> Result<(), ServiceError> {
        let (org, caller_role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, caller_role)?;
        let email = parse_email(email)?;
        let user = self.store.user_by_email(&email).await?.ok_or_else(|| {
            ServiceError::new(
                ErrorCode::UserNotFound,
                format!("No user has the email {email}; create the user first."),
            )
        })?;
        let audit = self
            .audit(caller, "membership.set", &user.id)
            .org(&org.id)
            .after(json!({"email": email, "role": role}));
        self.store
            .upsert_membership(&org.id, &user.id, role.as_str(), &audit)
            .await?;
        Ok(())
    }

    /// Creates a project in an organization (operators and org admins).
    /// Checks a project name as `create_project` and `rename_project` take it (1 to 100
    /// printable characters, none invisible), without changing anything.
    /// An API key's name as `field` (1–100 printable characters, nothing invisible).
    pub fn check_key_name(field: &str, name: &str) -> Result<String, ServiceError> {
        non_empty_name(field, name)
    }

    pub fn check_project_name(field: &str, name: &str) -> Result<String, ServiceError> {
        non_empty_name(field, name)
    }

    /// Renames a project (admins only); the same name again changes nothing.
    pub async fn rename_project(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        name: &str,
    ) -> Result<ProjectRow, ServiceError> {
        let (project, org, role) = self.project_access(caller, project_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        let name = non_empty_name("project.name", name)?;
        if name == project.name {
            return Ok(project);
        }
        let audit = self
            .audit(caller, "project.rename", &project.id)
            .org(&org.id)
            .project(&project.id)
            .before(json!({"name": project.name}))
            .after(json!({"name": name}));
        self.store
            .rename_project(&project.id, &name, &audit)
            .await?;
        Ok(ProjectRow { name, ..project })
    }

    pub async fn create_project(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        name: &str,
        region_id: &RegionId,
    ) -> Result<ProjectRow, ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        let name = non_empty_name("name", name)?;
        let region = self.region(region_id)?;
        // Ids and host labels are random; on the rare collision, draw again.
        let mut attempt = 0;
        let id = loop {
            attempt += 1;
            let id = names::project_id();
            let hostname = names::hostname(
                &region.cloud,
                region.cloud_region(),
                &self.config.hostname_domain,
            );
            let host_label = hostname.split('.').next().unwrap_or_default().to_string();
            let audit = self
                .audit(caller, "project.create", &id)
                .org(&org.id)
                .project(&id)
                .after(json!({"name": name, "region_id": region_id, "hostname": hostname}));
            let project = NewProject {
                id: &id,
                host_label: &host_label,
                org_id: &org.id,
                name: &name,
                region_id: region_id.as_str(),
                hostname: &hostname,
            };
            match self.store.insert_project(&project, &audit).await {
                Ok(()) => break id,
                Err(StoreError::UniqueViolation { .. }) if attempt < 5 => continue,
                Err(e) => return Err(e.into()),
            }
        };
        self.store
            .project(&id)
            .await?
            .ok_or_else(|| ServiceError::internal("project vanished after insert", &id))
    }

    /// Creates an API key. Personal keys: for oneself (signed in, or with one of one's own
    /// keys), or by an operator; organization keys: by an admin of the organization or with
    /// the organization's own key (or an operator). A key made with another key never
    /// outlives it, so a leaked key cannot mint itself a longer life. Each owner holds at most
    /// [`LIVE_API_KEYS_PER_OWNER`] live keys. The token is returned once.
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        owner: &KeyOwner,
        name: &str,
        expires_at_ms: Option<i64>,
    ) -> Result<CreatedApiKey, ServiceError> {
        let name = non_empty_name("name", name)?;
        let (user_id, org_id) = match owner {
            KeyOwner::User(user_id) => {
                let allowed = match &caller.principal {
                    Principal::OperatorCli => true,
                    Principal::User { user_id: own, .. } => own == user_id,
                    _ => false,
                };
                if !allowed {
                    return Err(ServiceError::new(
                        ErrorCode::PermissionDenied,
                        "Personal API keys can only be created by their owner (signed in or \
                         with one of their own personal keys).",
                    ));
                }
                if self.store.user_by_id(user_id).await?.is_none() {
                    return Err(ServiceError::not_found(format!(
                        "User {user_id} was not found."
                    )));
                }
                (Some(user_id.as_str()), None)
            }
            KeyOwner::Org(org_id) => {
                let (org, role) = self.org_access(caller, org_id.as_str()).await?;
                Self::require_admin(&org, role)?;
                (None, Some(org_id.as_str()))
            }
        };
        let now = self.clock.now_ms();
        if expires_at_ms.is_some_and(|t| t <= now || t > now + API_KEY_MAX_EXPIRY_DAYS * 86_400_000)
        {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                format!(
                    "Invalid expires_at: choose a time in the future, at most \
                     {API_KEY_MAX_EXPIRY_DAYS} days away (or no expiry)."
                ),
            ));
        }
        let expires_at_ms = self
            .expiry_within_minting_key(caller, expires_at_ms)
            .await?;
        let secret: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(40)
            .map(char::from)
            .collect();
        let token = format!("{API_KEY_PREFIX}{secret}");
        let id = names::opaque_id("key");
        let created_by = match &caller.principal {
            Principal::User { user_id, .. } => Some(user_id.clone()),
            _ => None,
        };
        let mut audit = self
            .audit(caller, "api_key.create", &id)
            .after(json!({"name": name, "user_id": user_id, "org_id": org_id, "expires_at": expires_at_ms}));
        if let Some(org_id) = org_id {
            audit = audit.org(org_id);
        }
        let hash = token_hash(&token);
        let mut attempt = 0;
        let public_id = loop {
            attempt += 1;
            let public_id = rand::thread_rng().gen_range(1..=API_KEY_PUBLIC_ID_MAX);
            let key = NewApiKey {
                id: &id,
                public_id,
                token_hash: &hash,
                token_prefix: &token[..API_KEY_PREFIX.len() + 4],
                name: &name,
                user_id,
                org_id,
                created_by: created_by.as_deref(),
                expires_at: expires_at_ms,
                at_ms: audit.at_ms,
            };
            match self.store.insert_api_key(&key, &audit).await {
                Ok(InsertKeyOutcome::Created) => break public_id,
                Ok(InsertKeyOutcome::LimitReached) => {
                    return Err(ServiceError::new(
                        ErrorCode::TooManyApiKeys,
                        format!(
                            "This {} already has {LIVE_API_KEYS_PER_OWNER} live API keys, the \
                             most it may hold. Revoke keys that are no longer used, then \
                             create this one.",
                            if org_id.is_some() {
                                "organization"
                            } else {
                                "account"
                            }
                        ),
                    ))
                }
                // Two random numbers out of 2^52 met: draw again.
                Err(StoreError::UniqueViolation { .. }) if attempt < 5 => continue,
                Err(e) => return Err(e.into()),
            }
        };
        Ok(CreatedApiKey {
            id,
            public_id,
            name,
            token,
            created_at_ms: audit.at_ms,
            created_by,
            expires_at_ms,
        })
    }

    /// The expiry a new key may have when the caller used a key: never later than that key's
    /// own (a key without expiry lends none). Signed-in people and the CLI choose freely.
    async fn expiry_within_minting_key(
        &self,
        caller: &Caller,
        wanted: Option<i64>,
    ) -> Result<Option<i64>, ServiceError> {
        let minting_key = match &caller.principal {
            Principal::User {
                via_api_key: Some(key_id),
                ..
            } => key_id,
            Principal::OrgApiKey { key_id, .. } => key_id,
            _ => return Ok(wanted),
        };
        let Some(limit) = self
            .store
            .api_key_by_id(minting_key)
            .await?
            .and_then(|key| key.expires_at)
        else {
            return Ok(wanted);
        };
        match wanted {
            None => Ok(Some(limit)),
            Some(t) if t <= limit => Ok(Some(t)),
            Some(_) => Err(ServiceError::new(
                ErrorCode::InvalidInput,
                format!(
                    "Invalid expires_at: a key created with another API key cannot outlive it, \
                     and the key you used expires at {}. Choose an earlier time, or create the \
                     key signed in to the console.",
                    chrono::DateTime::from_timestamp_millis(limit)
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_default()
                ),
            )),
        }
    }

    /// Resolves a bearer token to a principal. Unknown, revoked and expired keys get the same
    /// answer, so the response reveals nothing about which keys exist. `from_addr` is the
    /// client's address, recorded (with the time, at most once a minute) as the key's last use.
    pub async fn authenticate_api_key(
        &self,
        token: &str,
        from_addr: Option<std::net::IpAddr>,
    ) -> Result<Principal, ServiceError> {
        let refused = || {
            ServiceError::new(
                ErrorCode::Unauthorized,
                "The API key is missing, invalid, expired or revoked. Send a valid key as \
                 `Authorization: Bearer <key>`.",
            )
        };
        if !token.starts_with(API_KEY_PREFIX) || token.len() > 200 {
            return Err(refused());
        }
        let now = self.clock.now_ms();
        let at = self.store.read_stamp(Instant::now()).await?;
        let hash = token_hash(token);
        let key = self
            .store
            .api_key_by_hash_as_of(at, &hash)
            .await?
            .ok_or_else(refused)?;
        if key.revoked_at.is_some() || key.expires_at.is_some_and(|t| t <= now) {
            return Err(refused());
        }
        if key
            .last_used_at
            .is_none_or(|t| now - t >= LAST_USED_RESOLUTION_MS)
        {
            let from = from_addr.map(|a| a.to_string()).unwrap_or_default();
            self.store.touch_api_key(&key.id, &hash, now, &from).await?;
        }
        match (key.user_id, key.org_id) {
            (Some(user_id), _) => {
                let user = self
                    .store
                    .user_by_id_as_of(at, &user_id)
                    .await?
                    .ok_or_else(refused)?;
                Ok(Principal::User {
                    user_id: user.id,
                    email: user.email,
                    is_operator: user.is_operator,
                    via_api_key: Some(key.id),
                })
            }
            (None, Some(org_id)) => Ok(Principal::OrgApiKey {
                org_id,
                key_id: key.id,
                key_name: key.name,
            }),
            (None, None) => Err(refused()),
        }
    }

    /// May the caller manage keys of this owner? Owners manage their personal keys, admins
    /// their organization's keys, operators everything. Others learn nothing (404).
    async fn may_manage_keys(
        &self,
        caller: &Caller,
        user_id: Option<&str>,
        org_id: Option<&str>,
    ) -> Result<bool, ServiceError> {
        Ok(match (&caller.principal, user_id, org_id) {
            (Principal::OperatorCli, _, _) => true,
            (Principal::User { user_id: own, .. }, Some(owner), _) => own == owner,
            (_, None, Some(org_id)) => match self.org_access(caller, org_id).await {
                Ok((_, role)) => role == Role::Admin,
                Err(e) if e.kind == ErrorKind::NotFound => false,
                Err(e) => return Err(e),
            },
            _ => false,
        })
    }

    /// The keys of a user or an organization (never the secrets: only a short prefix).
    pub async fn list_api_keys(
        &self,
        caller: &Caller,
        owner: &KeyOwner,
    ) -> Result<Vec<ApiKeyRow>, ServiceError> {
        let (user_id, org_id) = match owner {
            KeyOwner::User(id) => (Some(id.as_str()), None),
            KeyOwner::Org(id) => (None, Some(id.as_str())),
        };
        if !self.may_manage_keys(caller, user_id, org_id).await? {
            return Err(match org_id {
                Some(org) => org_not_found(org),
                None => ServiceError::not_found("No such user."),
            });
        }
        Ok(self.store.api_keys_of(user_id, org_id).await?)
    }

    /// Revokes a key at once: the next request with it is refused.
    pub async fn revoke_api_key(&self, caller: &Caller, key_id: &str) -> Result<(), ServiceError> {
        let not_found = || ServiceError::not_found(format!("API key {key_id} was not found."));
        let key = self
            .store
            .api_key_by_id(key_id)
            .await?
            .ok_or_else(not_found)?;
        self.revoke_key(caller, key, key_id).await.map(|_| ())
    }

    /// Revokes the key Neon's API names by `public_id`, which must belong to `owner` (a
    /// personal key on the personal route, the organization's on its route); answers the key
    /// as revoked. A key of another owner is "not found", as is one the caller may not manage.
    pub async fn revoke_numbered_api_key(
        &self,
        caller: &Caller,
        owner: &KeyOwner,
        public_id: i64,
    ) -> Result<ApiKeyRow, ServiceError> {
        let not_found = || {
            ServiceError::not_found(match owner {
                KeyOwner::User(_) => format!(
                    "No personal API key {public_id} of yours. If it is an organization's key, \
                     revoke it with DELETE /organizations/{{org_id}}/api_keys/{public_id}."
                ),
                KeyOwner::Org(org) => format!(
                    "Organization {org} has no API key {public_id}. If it is a personal key, \
                     revoke it with DELETE /api_keys/{public_id}."
                ),
            })
        };
        let key = self
            .store
            .api_key_by_public_id(public_id)
            .await?
            .ok_or_else(not_found)?;
        let belongs = match owner {
            KeyOwner::User(user) => key.user_id.as_deref() == Some(user.as_str()),
            KeyOwner::Org(org) => key.org_id.as_deref() == Some(org.as_str()),
        };
        if !belongs {
            return Err(not_found());
        }
        self.revoke_key(caller, key, &public_id.to_string()).await
    }

    async fn revoke_key(
        &self,
        caller: &Caller,
        key: ApiKeyRow,
        named: &str,
    ) -> Result<ApiKeyRow, ServiceError> {
        if !self
            .may_manage_keys(caller, key.user_id.as_deref(), key.org_id.as_deref())
            .await?
        {
            return Err(ServiceError::not_found(format!(
                "API key {named} was not found."
            )));
        }
        let mut audit = self
            .audit(caller, "api_key.revoke", &key.id)
            .before(json!({"name": key.name}));
        if let Some(org_id) = &key.org_id {
            audit = audit.org(org_id);
        }
        if !self.store.revoke_api_key(&key.id, &audit).await? {
            return Err(ServiceError::new(
                ErrorCode::ApiKeyRevoked,
                format!("API key {named} was already revoked."),
            ));
        }
        Ok(ApiKeyRow {
            revoked_at: Some(audit.at_ms),
            ..key
        })
    }

    /// Whose personal keys the caller manages through the personal-key routes: a person's
    /// own. An organization key has none.
    pub fn personal_key_owner(&self, caller: &Caller) -> Result<KeyOwner, ServiceError> {
        match &caller.principal {
            Principal::User { user_id, .. } => Ok(KeyOwner::User(user_id.clone())),
            Principal::OrgApiKey { org_id, .. } => Err(ServiceError::new(
                ErrorCode::PermissionDenied,
                format!(
                    "An organization API key has no personal keys. Manage organization keys \
                     with /organizations/{org_id}/api_keys, or use a personal key."
                ),
            )),
            _ => Err(ServiceError::new(
                ErrorCode::PermissionDenied,
                "Personal API keys belong to people; sign in or use a personal key.",
            )),
        }
    }

    /// People by id, for "created by" (one lookup per distinct id; an owner's keys have few
    /// creators).
    pub async fn users_by_ids(&self, ids: &[String]) -> Result<Vec<UserRow>, ServiceError> {
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(user) = self.store.user_by_id(id).await? {
                rows.push(user);
            }
        }
        Ok(rows)
    }

    /// The organizations the caller belongs to (an organization key sees its own).
    pub async fn organizations_of_caller(
        &self,
        caller: &Caller,
    ) -> Result<Vec<MemberOrganizationRow>, ServiceError> {
        match &caller.principal {
            Principal::User { user_id, .. } => {
                Ok(self.store.organizations_of_user(user_id).await?)
            }
            Principal::OrgApiKey { org_id, .. } => {
                let org = self
                    .store
                    .organization(org_id)
                    .await?
                    .ok_or_else(|| org_not_found(org_id))?;
                Ok(vec![MemberOrganizationRow {
                    id: org.id,
                    name: org.name,
                    plan: org.plan,
                    created_at: org.created_at,
                    role: Role::Admin.as_str().to_string(),
                }])
            }
            _ => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use app::domain::{OrgId, Plan, RegionId};

    use super::names;
    use crate::services::{Caller, ServiceConfig, Services};

    async fn services() -> (Services, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("enclave-unit-{}.db", uuid::Uuid::new_v4()));
        let store = crate::store::Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let catalog =
            app::domain::RegionCatalog::from_json(crate::config::BUILT_IN_REGIONS).unwrap();
        let services = Services::new(
            store,
            catalog,
            ServiceConfig::default(),
            crate::services::Clock::system(),
        );
        (services, path)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_id_that_is_taken_is_drawn_again() {
        let (services, path) = services().await;
        let op = Caller::operator_cli();
        names::force_next_ids(&["org-calm-lake-11111111"]);
        let first = services
            .create_organization(&op, "First", Plan::Scale)
            .await
            .unwrap();
        assert_eq!(first.id, "org-calm-lake-11111111");
        // The next draw collides with it; the organization is made under a fresh id.
        names::force_next_ids(&["org-calm-lake-11111111"]);
        let second = services
            .create_organization(&op, "Second", Plan::Scale)
            .await
            .unwrap();
        assert_ne!(second.id, first.id);
        // Projects too.
        let org = OrgId::parse(&first.id).unwrap();
        let region = RegionId::parse("aws-us-east-2").unwrap();
        names::force_next_ids(&["quiet-lake-22222222"]);
        let p1 = services
            .create_project(&op, &org, "one", &region)
            .await
            .unwrap();
        names::force_next_ids(&["quiet-lake-22222222"]);
        let p2 = services
            .create_project(&op, &org, "two", &region)
            .await
            .unwrap();
        assert_eq!(p1.id, "quiet-lake-22222222");
        assert_ne!(p2.id, p1.id);
        services.store().close().await;
        let _ = std::fs::remove_file(path);
    }
}
