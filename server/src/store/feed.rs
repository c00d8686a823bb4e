//! The change feed's storage: versioned events written with every audited change, the wake-up
//! signal a commit sends to this process's readers, and (on PostgreSQL) the `LISTEN/NOTIFY`
//! channel that carries it to other instances.

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, SqliteConnection};

use super::{Pool, Store, StoreError};

/// The PostgreSQL channel a committed change notifies (the payload is empty: readers ask the
/// table for everything after the version they have).
pub const FEED_CHANNEL: &str = "enclave_feed";

/// One committed change, as the feed carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ChangeEvent {
    pub version: i64,
    pub org_id: Option<String>,
    pub project_id: Option<String>,
    pub action: String,
    pub target: String,
    pub at: i64,
}

/// What a transaction runs so that other instances hear of its commit.
pub trait NotifyDialect {
    fn notify_sql(&self) -> Option<&'static str>;
}

impl NotifyDialect for SqliteConnection {
    fn notify_sql(&self) -> Option<&'static str> {
        // One instance per SQLite file: the in-process signal is enough.
        None
    }
}

impl NotifyDialect for PgConnection {
    fn notify_sql(&self) -> Option<&'static str> {
        // Delivered at commit, to every listening instance (this one included).
        Some("SELECT pg_notify('enclave_feed', '')")
    }
}

/// Appends a change event on an open transaction and answers its version. Takes the feed
/// head's row lock, held until commit, so versions commit in order.
macro_rules! append_event {
    ($tx:expr, $entry:expr) => {{
        let entry: &$crate::store::AuditEntry = $entry;
        match sqlx::query_as::<_, (i64,)>(
            "UPDATE change_feed_head SET version = version + 1 WHERE id = 1 RETURNING version",
        )
        .fetch_one(&mut *$tx)
        .await
        {
            Err(e) => Err(e),
            Ok((version,)) => match sqlx::query(
                "INSERT INTO change_events (version, org_id, project_id, action, target, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(version)
            .bind(entry.org_id.as_deref())
            .bind(entry.project_id.as_deref())
            .bind(entry.action)
            .bind(entry.target.as_str())
            .bind(entry.at_ms)
            .execute(&mut *$tx)
            .await
            {
                Err(e) => Err(e),
                Ok(_) => match $crate::store::feed::NotifyDialect::notify_sql(&*$tx) {
                    Some(sql) => sqlx::query(sql).execute(&mut *$tx).await.map(|_| version),
                    None => Ok(version),
                },
            },
        }
    }};
}
pub(crate) use append_event;

impl Store {
    /// Commits a transaction and wakes this process's feed readers.
    pub(crate) async fn commit<DB: sqlx::Database>(
        &self,
        tx: sqlx::Transaction<'static, DB>,
    ) -> Result<(), sqlx::Error> {
        tx.commit().await?;
        self.wake();
        Ok(())
    }

    /// Tells this process's feed readers that something may have changed.
    pub fn wake(&self) {
        self.hot.forget_head();
        self.forget_live_proxies();
        self.signal.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes whenever a commit (here, or on PostgreSQL anywhere) may have
    /// added events.
    pub fn wakes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.signal.subscribe()
    }

    /// Forwards other instances' commits (PostgreSQL `LISTEN`) to [`Store::wakes`] until the
    /// process ends; reconnects on its own. On SQLite there is nothing to listen to.
    pub async fn listen_for_other_instances(&self) {
        let Pool::Postgres(pool) = &self.pool else {
            return std::future::pending().await;
        };
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "change feed: could not listen; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(FEED_CHANNEL).await {
                tracing::warn!(error = %e, "change feed: LISTEN failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            // Whatever was committed while not listening is read now.
            self.wake();
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => self.wake(),
                    // The connection dropped (and may have lost notifications): reconnect
                    // and read again.
                    Ok(None) => {
                        self.wake();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "change feed: listener failed; reconnecting");
                        break;
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// The newest version written.
    pub async fn feed_head(&self) -> Result<i64, StoreError> {
        let (v,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT version FROM change_feed_head WHERE id = 1")
                .fetch_one(pool)
                .await
        })?;
        Ok(v)
    }

    /// The oldest version still stored (`None` when the table is empty).
    pub async fn feed_oldest(&self) -> Result<Option<i64>, StoreError> {
        let (v,): (Option<i64>,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT MIN(version) FROM change_events").fetch_one(pool).await
        })?;
        Ok(v)
    }

    /// Events after `version`, oldest first, at most `limit`.
    pub async fn events_after(
        &self,
        version: i64,
        limit: i64,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, ChangeEvent>(
                "SELECT version, org_id, project_id, action, target, at FROM change_events \
                 WHERE version > $1 ORDER BY version LIMIT $2",
            )
            .bind(version)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// The version of the latest change to a project's network settings or restrictions.
    pub async fn project_network_version(&self, project_id: &str) -> Result<i64, StoreError> {
        let (v,): (Option<i64>,) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT MAX(version) FROM change_events WHERE project_id = $1 AND action IN \
                 ('project.settings', 'project.restrict', 'project.unrestrict')",
            )
            .bind(project_id)
            .fetch_one(pool)
            .await
        })?;
        Ok(v.unwrap_or(0))
    }

    /// Drops events older than `before_ms`, always keeping the newest `keep` so a briefly
    /// disconnected reader can catch up. Answers how many went.
    pub async fn prune_feed(&self, before_ms: i64, keep: i64) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM change_events WHERE at < $1 AND version <= \
                 (SELECT version FROM change_feed_head WHERE id = 1) - $2",
            )
            .bind(before_ms)
            .bind(keep)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?)
    }
}

impl Store {
    /// Wakes every instance's feed readers without an event (a proxy acknowledged a version,
    /// so pages showing "applying" should look again).
    pub async fn announce_acknowledgement(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Postgres(pool) => {
                sqlx::query("SELECT pg_notify('enclave_feed', '')")
                    .execute(pool)
                    .await?;
            }
            Pool::Sqlite(_) => self.wake(),
        }
        Ok(())
    }
}
