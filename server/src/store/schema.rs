//! The schema's version, as this binary sees it: migrations are applied by an explicit,
//! locked step (`enclave migrate`, or `serve --migrate`), and every other start only checks
//! that the database is not *behind* this binary. A database *ahead* of it (a newer binary
//! migrated first, during a rolling upgrade) is served: migrations only ever add, so the
//! older binary's queries keep working until it is replaced.

use std::collections::HashMap;

use super::{Pool, Store, StoreError};

/// How the database's applied migrations compare with the ones this binary carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaCheck {
    /// Exactly this binary's migrations.
    Current { version: i64 },
    /// Everything this binary needs, and newer migrations it does not know (a newer binary
    /// migrated): served as is.
    Ahead { version: i64, newest_known: i64 },
    /// Migrations this binary needs are not applied: it must not serve until they are.
    Behind { missing: Vec<i64> },
}

fn migrator(backend: app::domain::DatabaseBackend) -> sqlx::migrate::Migrator {
    let mut migrator = match backend {
        app::domain::DatabaseBackend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        app::domain::DatabaseBackend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    // Migrations a newer binary applied are not an error: this one has nothing to do.
    migrator.set_ignore_missing(true);
    migrator
}

impl Store {
    /// Applies every pending migration under the migration lock (PostgreSQL takes an
    /// advisory lock, SQLite's write lock serializes), so several instances may run it at
    /// once. A database a newer binary already migrated is left as it is.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = migrator(self.backend());
        match &self.pool {
            Pool::Sqlite(pool) => migrator.run(pool).await?,
            Pool::Postgres(pool) => migrator.run(pool).await?,
        }
        Ok(())
    }

    /// SQLite's journal mode and synchronous setting, as a pooled connection runs them
    /// (`None` on PostgreSQL), for the start-up log and tests.
    pub async fn sqlite_durability(&self) -> Result<Option<(String, String)>, StoreError> {
        let Pool::Sqlite(pool) = &self.pool else {
            return Ok(None);
        };
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await?;
        let synchronous = match synchronous {
            0 => "off",
            1 => "normal",
            2 => "full",
            3 => "extra",
            _ => "unknown",
        };
        Ok(Some((
            journal.to_ascii_lowercase(),
            synchronous.to_string(),
        )))
    }

    /// Compares the applied migrations with this binary's. A migration applied with other
    /// contents than this binary's, or one that failed half-way, is an error: the schema is
    /// not what any binary expects.
    pub async fn check_schema(&self) -> Result<SchemaCheck, StoreError> {
        let exists: bool = on_pool!(self, pool => {
            let sql = match self.backend() {
                app::domain::DatabaseBackend::Sqlite => {
                    "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
                }
                app::domain::DatabaseBackend::Postgres => {
                    "SELECT to_regclass('_sqlx_migrations') IS NOT NULL"
                }
            };
            sqlx::query_scalar(sql).fetch_one(pool).await
        })?;
        let applied: Vec<(i64, bool, Vec<u8>)> = if exists {
            on_pool!(self, pool => {
                sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
                    .fetch_all(pool)
                    .await
            })?
        } else {
            Vec::new()
        };
        let migrator = migrator(self.backend());
        let applied_by_version: HashMap<i64, (bool, &[u8])> = applied
            .iter()
            .map(|(v, ok, sum)| (*v, (*ok, sum.as_slice())))
            .collect();
        if let Some((version, _, _)) = applied.iter().find(|(_, ok, _)| !ok) {
            return Err(StoreError::Schema(format!(
                "migration {version} failed part-way; repair the database before serving"
            )));
        }
        let mut missing = Vec::new();
        let mut newest_known = 0;
        for migration in migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
        {
            newest_known = newest_known.max(migration.version);
            match applied_by_version.get(&migration.version) {
                None => missing.push(migration.version),
                Some((_, checksum)) if *checksum != migration.checksum.as_ref() => {
                    return Err(StoreError::Schema(format!(
                        "migration {} ({}) was applied with different contents than this \
                         binary carries",
                        migration.version, migration.description
                    )));
                }
                Some(_) => {}
            }
        }
        if !missing.is_empty() {
            return Ok(SchemaCheck::Behind { missing });
        }
        let version = applied.last().map(|(v, _, _)| *v).unwrap_or(0);
        Ok(if version > newest_known {
            SchemaCheck::Ahead {
                version,
                newest_known,
            }
        } else {
            SchemaCheck::Current { version }
        })
    }
}
