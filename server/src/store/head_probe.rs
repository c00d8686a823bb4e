//! The feed head of a SQLite store, read on the calling thread.
//!
//! Every API call checks its cached rows against a fresh reading of the feed head
//! ([`super::hot`]). Through the pool, that reading is a round trip to a connection's worker
//! thread — two thread switches that cost more than the rest of a cached read together (the
//! REST read throughput doubled without them). This probe keeps one connection of its own
//! and reads the head where the caller runs: a read transaction on a WAL database takes no
//! lock a writer waits for, and the one-row query answers in microseconds.
//!
//! It is only a faster path: when it cannot answer (busy, not migrated yet, an in-memory
//! database), the caller reads the head through the pool as before.

use std::{path::Path, sync::Mutex};

use rusqlite::{Connection, OpenFlags};

const HEAD_QUERY: &str = "SELECT version FROM change_feed_head WHERE id = 1";

pub(super) struct HeadProbe {
    /// `None` once the store is closed, so the pool's last connection checkpoints the WAL.
    connection: Mutex<Option<Connection>>,
}

impl HeadProbe {
    /// A probe on the database file the pool opened; `None` for an in-memory database or
    /// when the file cannot be opened (then every reading goes through the pool).
    pub(super) fn open(file: &Path) -> Option<Self> {
        let name = file.to_str()?;
        if name.is_empty() || name == ":memory:" || name.starts_with("file::memory:") {
            return None;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(file, flags).ok()?;
        // Never wait on the caller's thread: a busy database means "ask the pool".
        connection.busy_timeout(std::time::Duration::ZERO).ok()?;
        // This connection only reads.
        connection.pragma_update(None, "query_only", true).ok()?;
        Some(Self {
            connection: Mutex::new(Some(connection)),
        })
    }

    /// The head as committed now, or `None` when this probe cannot tell.
    pub(super) fn head(&self) -> Option<i64> {
        let guard = self.connection.lock().ok()?;
        let connection = guard.as_ref()?;
        let mut statement = connection.prepare_cached(HEAD_QUERY).ok()?;
        statement.query_row([], |row| row.get(0)).ok()
    }

    /// Closes the connection (at shutdown, before the pool closes).
    pub(super) fn close(&self) {
        if let Ok(mut guard) = self.connection.lock() {
            guard.take();
        }
    }
}

impl std::fmt::Debug for HeadProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadProbe").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Pool, Store};

    /// The probe sees each commit made through the pool at once (it answers, rather than
    /// leaving every reading to the pool), and stops answering once closed.
    #[tokio::test]
    async fn the_probe_reads_each_commit_of_the_pool() {
        let dir = std::env::temp_dir().join(format!("enclave-probe-{}", uuid::Uuid::new_v4()));
        let file = dir.join("probe.db");
        let store = Store::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let probe = HeadProbe::open(&file).expect("a probe on a file database");
        let before = probe.head().expect("the probe answers");
        assert_eq!(before, store.feed_head().await.unwrap());
        on_pool!(store, pool => {
            sqlx::query("UPDATE change_feed_head SET version = version + 1 WHERE id = 1")
                .execute(pool)
                .await
                .map(|_| ())
        })
        .expect("a change is committed");
        let after = probe.head().expect("the probe answers");
        assert!(
            after > before,
            "the probe saw the commit: {before} -> {after}"
        );
        assert_eq!(after, store.feed_head().await.unwrap());
        probe.close();
        assert_eq!(probe.head(), None);
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_in_memory_database_has_no_probe() {
        assert!(HeadProbe::open(Path::new(":memory:")).is_none());
        assert!(HeadProbe::open(Path::new("")).is_none());
    }
}
