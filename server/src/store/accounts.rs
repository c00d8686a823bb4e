//! Organizations, users, memberships, projects and API keys.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{
    audit::{finish, insert_audit},
    AuditEntry, Pool, Store, StoreError,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub trial_ends_at: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// An operator lifted the entitlement freeze until then (ms since the epoch).
    pub freeze_lifted_until: Option<i64>,
}

/// An organization with the caller's role in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MemberOrganizationRow {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub created_at: DateTime<Utc>,
    pub role: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub is_operator: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub region_id: String,
    pub hostname: String,
    pub block_public_connections: bool,
    pub block_vpc_connections: bool,
    pub block_public_connections_state: String,
    pub block_vpc_connections_state: String,
    pub created_at: DateTime<Utc>,
    /// Public connections are let through but reported as ones blocking would refuse.
    pub public_block_report_only: bool,
    /// The IP allow list, as JSON (see [`ProjectRow::allowed_ips`]).
    #[serde(skip)]
    pub allowed_ips: String,
}

/// One entry of a project's IP allow list as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AllowedIpRecord {
    pub entry: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl ProjectRow {
    /// The IP allow list (entries that no longer parse are dropped, never widened).
    pub fn allowed_ips(&self) -> Vec<AllowedIpRecord> {
        serde_json::from_str(&self.allowed_ips).unwrap_or_default()
    }

    /// The allow list as the data plane applies it. An entry that does not parse any more
    /// becomes one that admits nobody, so a damaged list never opens the project.
    pub fn allowed_ip_rules(&self) -> Vec<app::domain::AllowedIpRule> {
        let records: Vec<AllowedIpRecord> = match serde_json::from_str(&self.allowed_ips) {
            Ok(records) => records,
            Err(_) => vec![AllowedIpRecord {
                entry: "0.0.0.0".into(),
                note: String::new(),
                expires_at: Some(0),
            }],
        };
        records
            .into_iter()
            .map(|r| match app::domain::IpAllowEntry::parse(&r.entry) {
                Ok(entry) => app::domain::AllowedIpRule {
                    entry,
                    expires_at_ms: r.expires_at,
                },
                Err(_) => app::domain::AllowedIpRule {
                    entry: app::domain::IpAllowEntry::parse("0.0.0.0").expect("a valid address"),
                    expires_at_ms: Some(0),
                },
            })
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    /// The number Neon's API names the key by (`/api_keys/{key_id}`).
    pub public_id: Option<i64>,
    pub token_prefix: String,
    pub name: String,
    pub user_id: Option<String>,
    pub org_id: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The client address of the last use ('' before the first).
    pub last_used_from_addr: String,
    pub revoked_at: Option<i64>,
    /// The user who created the key (none for the operator CLI or an organization key).
    pub created_by: Option<String>,
}

const API_KEY_COLUMNS: &str = "id, public_id, token_prefix, name, user_id, org_id, created_at, \
     expires_at, last_used_at, last_used_from_addr, revoked_at, created_by";

/// How many live (neither revoked nor expired) keys one user or one organization may hold.
pub const LIVE_API_KEYS_PER_OWNER: i64 = 100;

/// What inserting a key came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertKeyOutcome {
    Created,
    /// The owner already holds [`LIVE_API_KEYS_PER_OWNER`] live keys; nothing was written.
    LimitReached,
}

pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub is_operator: bool,
    pub at_ms: i64,
}

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub public_id: i64,
    pub token_hash: &'a str,
    pub token_prefix: &'a str,
    pub name: &'a str,
    pub user_id: Option<&'a str>,
    pub org_id: Option<&'a str>,
    pub created_by: Option<&'a str>,
    pub expires_at: Option<i64>,
    pub at_ms: i64,
}

pub(crate) const PROJECT_COLUMNS: &str = "id, org_id, name, region_id, hostname, block_public_connections, \
     block_vpc_connections, block_public_connections_state, block_vpc_connections_state, created_at, \
     public_block_report_only, allowed_ips";

impl Store {
    pub async fn organization(&self, id: &str) -> Result<Option<OrganizationRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, OrganizationRow>(
                "SELECT id, name, plan, trial_ends_at, created_at, freeze_lifted_until FROM organizations WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
        })?)
    }

    pub async fn insert_user(
        &self,
        user: &NewUser<'_>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, is_operator, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(user.id)
            .bind(user.email)
            .bind(user.password_hash)
            .bind(user.is_operator)
            .bind(user.at_ms)
            .execute(&mut *tx)
            .await?;
            insert_audit!(tx, audit)?;
            self.commit(tx).await
        })?;
        Ok(())
    }

    /// How many people have accounts.
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await
        })?)
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(
                "SELECT id, email, is_operator, created_at FROM users WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
        })?)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, UserRow>(
                "SELECT id, email, is_operator, created_at FROM users WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Adds a member or changes their role.
    pub async fn upsert_membership(
        &self,
        org_id: &str,
        user_id: &str,
        role: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(org_id)
            .bind(user_id)
            .bind(role)
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await?;
            insert_audit!(tx, audit)?;
            self.commit(tx).await
        })?;
        Ok(())
    }

    pub async fn membership_role(
        &self,
        org_id: &str,
        user_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
                .bind(org_id)
                .bind(user_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(role,)| role))
    }

    pub async fn organizations_of_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<MemberOrganizationRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, MemberOrganizationRow>(
                "SELECT o.id, o.name, o.plan, o.created_at, m.role FROM organizations o \
                 JOIN memberships m ON m.org_id = o.id WHERE m.user_id = $1 ORDER BY o.name, o.id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Lifts (or, with `None`, restores) an organization's entitlement freeze; answers
    /// whether the organization exists.
    pub async fn set_freeze_lifted_until(
        &self,
        org_id: &str,
        until_ms: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let found = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query("UPDATE organizations SET freeze_lifted_until = $2 WHERE id = $1")
                .bind(org_id)
                .bind(until_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            finish!(self, tx, n == 1, audit);
            Ok::<_, sqlx::Error>(n == 1)
        })?;
        Ok(found)
    }

    /// Every organization, by name (the operator area).
    pub async fn all_organizations(&self) -> Result<Vec<OrganizationRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, OrganizationRow>(
                "SELECT id, name, plan, trial_ends_at, created_at, freeze_lifted_until FROM organizations ORDER BY name, id",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    /// Grants or withdraws the operator role; answers whether the user exists.
    pub async fn set_operator(
        &self,
        email: &str,
        is_operator: bool,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let found = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query("UPDATE users SET is_operator = $2 WHERE email = $1")
                .bind(email)
                .bind(is_operator)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                insert_audit!(tx, audit)?;
            }
            self.commit(tx).await.map(|_| n == 1)
        })?;
        Ok(found)
    }

    /// Members of an organization (email, role), admins first.
    pub async fn members_of_org(&self, org_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
                 WHERE m.org_id = $1 ORDER BY m.role, u.email",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await
        })?)
    }

    pub async fn project(&self, id: &str) -> Result<Option<ProjectRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ProjectRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await
        })?)
    }

    pub async fn project_by_hostname(
        &self,
        hostname: &str,
    ) -> Result<Option<ProjectRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ProjectRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {PROJECT_COLUMNS} FROM projects WHERE hostname = $1"
            )))
            .bind(hostname)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// An organization's projects ordered by id, starting after `after` (keyset pagination).
    pub async fn projects_of_org(
        &self,
        org_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ProjectRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ProjectRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = $1 AND id > $2 \
                 ORDER BY id LIMIT $3"
            )))
            .bind(org_id)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Inserts a key unless its owner already holds [`LIVE_API_KEYS_PER_OWNER`] live keys,
    /// counted under the owner's lock (the user's or the organization's row), so parallel
    /// requests cannot pass the limit together.
    pub async fn insert_api_key(
        &self,
        key: &NewApiKey<'_>,
        audit: &AuditEntry,
    ) -> Result<InsertKeyOutcome, StoreError> {
        let outcome = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let lock = match (key.user_id, key.org_id) {
                (Some(user_id), _) => sqlx::query("UPDATE users SET email = email WHERE id = $1").bind(user_id),
                (None, org_id) => sqlx::query(
                    "UPDATE organizations SET write_version = write_version + 1 WHERE id = $1",
                )
                .bind(org_id),
            };
            lock.execute(&mut *tx).await?;
            let (live,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM api_keys WHERE (user_id = $1 OR org_id = $2) \
                 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)",
            )
            .bind(key.user_id)
            .bind(key.org_id)
            .bind(key.at_ms)
            .fetch_one(&mut *tx)
            .await?;
            if live >= LIVE_API_KEYS_PER_OWNER {
                tx.rollback().await?;
                return Ok(InsertKeyOutcome::LimitReached);
            }
            sqlx::query(
                "INSERT INTO api_keys (id, public_id, token_hash, token_prefix, name, user_id, \
                 org_id, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(key.id)
            .bind(key.public_id)
            .bind(key.token_hash)
            .bind(key.token_prefix)
            .bind(key.name)
            .bind(key.user_id)
            .bind(key.org_id)
            .bind(key.created_by)
            .bind(key.at_ms)
            .bind(key.expires_at)
            .execute(&mut *tx)
            .await?;
            insert_audit!(tx, audit)?;
            self.commit(tx).await.map(|_| InsertKeyOutcome::Created)
        })?;
        Ok(outcome)
    }

    pub async fn api_key_by_hash(&self, token_hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        self.api_key_where("token_hash = $1", token_hash).await
    }

    pub async fn api_key_by_id(&self, id: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        self.api_key_where("id = $1", id).await
    }

    /// The key Neon's API names by this number.
    pub async fn api_key_by_public_id(
        &self,
        public_id: i64,
    ) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE public_id = $1"
            )))
            .bind(public_id)
            .fetch_optional(pool)
            .await
        })?)
    }

    async fn api_key_where(
        &self,
        condition: &'static str,
        value: &str,
    ) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE {condition}"
            )))
            .bind(value)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// A user's personal keys or an organization's keys, newest first.
    pub async fn api_keys_of(
        &self,
        user_id: Option<&str>,
        org_id: Option<&str>,
    ) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys \
                 WHERE user_id = $1 OR org_id = $2 ORDER BY created_at DESC, id"
            )))
            .bind(user_id)
            .bind(org_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Records that a key was used. Callers throttle this so reads do not turn into writes.
    pub async fn touch_api_key(
        &self,
        id: &str,
        token_hash: &str,
        at_ms: i64,
        from_addr: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE api_keys SET last_used_at = $2, last_used_from_addr = $3 WHERE id = $1")
                .bind(id)
                .bind(at_ms)
                .bind(from_addr)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        self.forget_api_key(token_hash).await;
        Ok(())
    }

    /// Revokes a key; answers whether a live key was revoked.
    pub async fn revoke_api_key(&self, id: &str, audit: &AuditEntry) -> Result<bool, StoreError> {
        let revoked = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(audit.at_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                insert_audit!(tx, audit)?;
            }
            self.commit(tx).await.map(|_| n == 1)
        })?;
        Ok(revoked)
    }
}
