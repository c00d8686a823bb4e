//! Persistence: the only module that speaks SQL.
//!
//! One [`Store`] fronts either an embedded SQLite file (the default) or PostgreSQL. Every
//! query is written once with `$n` placeholders, which both engines accept, and run against
//! whichever pool is configured; each backend keeps its own migrations under
//! `server/migrations/<backend>/`.

use std::{path::Path, str::FromStr, time::Duration};

use app::domain::{DatabaseBackend, SystemStatus};
use sqlx::{
    postgres::{PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same expression against whichever pool backs the store. Each arm is compiled
/// separately, so the expression is type-checked against both drivers.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

mod accounts;
mod audit;
mod aws_accounts;
mod bulk;
mod data_plane;
mod error;
pub(crate) mod feed;
mod head_probe;
mod hot;
mod leases;
mod network;
mod provider;
mod schema;
mod sessions;
mod setup;
mod trials;
pub(crate) mod webhooks;

pub use accounts::{
    AllowedIpRecord, ApiKeyRow, InsertKeyOutcome, MemberOrganizationRow, NewApiKey, NewUser,
    OrganizationRow, ProjectRow, UserRow, LIVE_API_KEYS_PER_OWNER,
};
pub use audit::{AuditActor, AuditEntry, AuditRow};
pub use aws_accounts::AllowedAccountRow;
pub use bulk::ScaleOrg;
pub use data_plane::{EvidenceRow, ProxyHeartbeatRow, UpstreamRow};
pub use error::StoreError;
pub use feed::ChangeEvent;
pub use hot::ReadStamp;
pub use leases::LeaseRow;
pub use network::{
    AssignOutcome, AssignRequest, AssignmentRow, RemoveOutcome, RestrictOutcome, RestrictionRow,
    SettingsChange, SettingsOutcome, Settlement, UnrestrictOutcome,
};
pub use provider::{
    ConnectionRequestRow, PendingDisconnectRow, ProviderProblemRow, UNASSIGNED_REQUESTS_CAP,
};
pub use schema::SchemaCheck;
pub use sessions::SessionRow;
pub use setup::SetupProgressRow;
pub use trials::{TrialDecision, TrialNotice, TrialRequestRow, TrialReviewRow};
pub use webhooks::{
    Attempt, AttemptOutcome, AttemptRow, DeliveryRow, DueDelivery, InsertWebhookOutcome, WebhookRow,
};

use audit::insert_audit;

/// Handle to the control plane's database. Cheap to clone (pools are reference counted).
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// Bumped after every commit in this process (and, on PostgreSQL, on every other
    /// instance's commit): the change feed's readers wake on it.
    signal: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// The rows nearly every call reads, cached no staler than the database.
    hot: std::sync::Arc<hot::HotReads>,
}

fn new_signal() -> std::sync::Arc<tokio::sync::watch::Sender<u64>> {
    std::sync::Arc::new(tokio::sync::watch::Sender::new(0))
}

/// A new organization as the store receives it (already validated by the caller).
#[derive(Clone, Debug)]
pub struct NewOrganization<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub plan: &'a str,
}

/// A new project as the store receives it (already validated by the caller).
#[derive(Clone, Debug)]
pub struct NewProject<'a> {
    pub id: &'a str,
    /// The first label of the host name, which clients name; unique.
    pub host_label: &'a str,
    pub org_id: &'a str,
    pub name: &'a str,
    pub region_id: &'a str,
    pub hostname: &'a str,
}

impl Store {
    /// Opens a pool for `database_url` (`sqlite://…` or `postgres://…`). A SQLite file and
    /// its directory are created when missing; SQLite runs in WAL mode with a busy timeout so
    /// concurrent writers wait instead of failing, and with `synchronous=FULL`: a commit is
    /// on disk before it returns, so a change answered 200 survives a power cut (`NORMAL`
    /// could lose the last commits, and a lost block would come back unblocked).
    pub async fn connect(database_url: &str) -> Result<Self, StoreError> {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(database_url)
                .await?;
            return Ok(Self {
                pool: Pool::Postgres(pool),
                signal: new_signal(),
                hot: std::sync::Arc::new(hot::HotReads::new(None)),
            });
        }
        if !database_url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl);
        }
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let file = options.get_filename().to_path_buf();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !Path::new(dir).exists() {
                std::fs::create_dir_all(dir).map_err(StoreError::CreateDir)?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A file connection does not go stale the way a network one does; pinging its
            // worker thread before every query would double the cost of each read.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        // Opened after the pool, which created the file.
        let probe = head_probe::HeadProbe::open(&file);
        Ok(Self {
            pool: Pool::Sqlite(pool),
            signal: new_signal(),
            hot: std::sync::Arc::new(hot::HotReads::new(probe)),
        })
    }

    /// Which engine this store uses.
    pub fn backend(&self) -> DatabaseBackend {
        match self.pool {
            Pool::Sqlite(_) => DatabaseBackend::Sqlite,
            Pool::Postgres(_) => DatabaseBackend::Postgres,
        }
    }

    /// A trivial round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Closes every connection; used at shutdown so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        self.hot.close_probe();
        on_pool!(self, pool => pool.close().await)
    }

    /// A snapshot for the overview page: schema version and object counts.
    pub async fn system_status(&self) -> Result<SystemStatus, StoreError> {
        let (schema_version, schema_description): (i64, String) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT version, description FROM _sqlx_migrations \
                 WHERE success = TRUE ORDER BY version DESC LIMIT 1",
            )
            .fetch_one(pool)
            .await
        })?;
        let (organizations,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM organizations").fetch_one(pool).await
        })?;
        let (projects,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM projects").fetch_one(pool).await
        })?;
        Ok(SystemStatus {
            database: self.backend(),
            schema_version,
            schema_description,
            organizations,
            projects,
            server_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    pub async fn insert_organization(
        &self,
        org: &NewOrganization<'_>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO organizations (id, name, plan) VALUES ($1, $2, $3)")
                .bind(org.id)
                .bind(org.name)
                .bind(org.plan)
                .execute(&mut *tx)
                .await?;
            insert_audit!(tx, audit)?;
            self.commit(tx).await
        })?;
        Ok(())
    }

    pub async fn insert_project(
        &self,
        project: &NewProject<'_>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO projects (id, org_id, name, region_id, hostname, endpoint_label) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(project.id)
            .bind(project.org_id)
            .bind(project.name)
            .bind(project.region_id)
            .bind(project.hostname)
            .bind(project.host_label)
            .execute(&mut *tx)
            .await?;
            insert_audit!(tx, audit)?;
            self.commit(tx).await
        })?;
        Ok(())
    }

    /// Renames a project; its id, host name and settings stay.
    pub async fn rename_project(
        &self,
        project_id: &str,
        name: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE projects SET name = $1 WHERE id = $2")
                .bind(name)
                .bind(project_id)
                .execute(&mut *tx)
                .await?;
            insert_audit!(tx, audit)?;
            self.commit(tx).await
        })?;
        Ok(())
    }
}
