//! Hot reads: the rows nearly every call reads — the caller's API key and user, the project,
//! its organization, the caller's membership, the project's network version and the live
//! proxies — kept in bounded in-process caches that are exactly as fresh as the database.
//!
//! Why that holds: every change to those rows is audited, and every audited change bumps the
//! feed head in its own transaction (`append_event!`). A cached row carries the head that was
//! read before the row was loaded; a call uses it only when its own head reading — from a
//! query begun after the call (or its HTTP request) started — is the same number. So a change
//! committed anywhere — in this process, on another instance, by the operator CLI on the same
//! SQLite file — is seen by every call that starts after its commit, as without the cache.
//! The head readings are shared: one is in flight at a time, and every call that arrived
//! before it began takes its answer, so many concurrent calls cost one small query. On
//! SQLite the reading is made on the caller's thread by a [`HeadProbe`] (no round trip to a
//! pool worker). A commit in this process forgets the last reading at once, so a caller
//! reads its own writes.
//!
//! Proxy heartbeats are not audited: the live-proxy list is kept for at most a second and
//! forgotten when this process records a heartbeat that moves a version.

use std::{
    future::Future,
    hash::Hash,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use moka::future::Cache;

use super::{
    head_probe::HeadProbe, ApiKeyRow, OrganizationRow, ProjectRow, ProxyHeartbeatRow, Store,
    StoreError, UserRow,
};

/// Rows kept per kind; the least used go first.
const ROWS_PER_KIND: u64 = 20_000;
/// A belt to the head's braces: no row is served older than this, whatever the head says.
const MAX_AGE: Duration = Duration::from_secs(5);
/// How long the live-proxy list is reused (heartbeats do not move the head).
const LIVE_PROXIES_MAX_AGE: Duration = Duration::from_secs(1);

/// The feed head as read by a query that began after a given moment: cached rows loaded at
/// the same head are as fresh as reading the database again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadStamp {
    head: i64,
}

#[derive(Clone)]
struct Entry<V> {
    head: i64,
    loaded_at: Instant,
    value: V,
}

/// One kind of row, by key.
struct Rows<K, V> {
    cache: Cache<K, Entry<V>>,
}

impl<K, V> Rows<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new() -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(ROWS_PER_KIND)
                .time_to_live(MAX_AGE)
                .build(),
        }
    }

    /// The row as of `at`: from the cache when it was loaded at the same head, otherwise
    /// from `load` (and kept when it exists; absent rows are not cached, so nobody fills the
    /// cache with keys that do not exist).
    async fn through(
        &self,
        at: ReadStamp,
        key: K,
        load: impl Future<Output = Result<Option<V>, StoreError>>,
    ) -> Result<Option<V>, StoreError> {
        if let Some(entry) = self.cache.get(&key).await {
            if entry.head == at.head && entry.loaded_at.elapsed() < MAX_AGE {
                return Ok(Some(entry.value));
            }
        }
        let loaded_at = Instant::now();
        let value = load.await?;
        if let Some(value) = &value {
            let entry = Entry {
                head: at.head,
                loaded_at,
                value: value.clone(),
            };
            self.cache.insert(key, entry).await;
        }
        Ok(value)
    }
}

/// The caches and the shared head reading, one set per [`Store`] (clones share them).
pub(super) struct HotReads {
    /// Reads the head on the caller's thread (SQLite files only).
    probe: Option<HeadProbe>,
    /// The newest head reading and when its query began.
    latest: Mutex<HeadReading>,
    /// Held while a head reading is in flight, so concurrent calls share one.
    reading: tokio::sync::Mutex<()>,
    api_keys: Rows<String, ApiKeyRow>,
    users: Rows<String, UserRow>,
    projects: Rows<String, ProjectRow>,
    organizations: Rows<String, OrganizationRow>,
    memberships: Rows<(String, String), String>,
    network_versions: Rows<String, i64>,
    live_proxies: Mutex<LiveProxies>,
}

#[derive(Default)]
struct HeadReading {
    /// When the reading's query began, and the head it read.
    latest: Option<(Instant, i64)>,
    /// Bumped by every local commit: a reading begun before one is not kept.
    commits: u64,
}

#[derive(Default)]
struct LiveProxies {
    /// When the list was read, the `since` it was read with, and the proxies.
    list: Option<(Instant, i64, Arc<Vec<ProxyHeartbeatRow>>)>,
    /// Bumped by every heartbeat that moved a version: a list read before one is not kept.
    heartbeats: u64,
}

impl std::fmt::Debug for HotReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotReads").finish_non_exhaustive()
    }
}

impl HotReads {
    pub(super) fn new(probe: Option<HeadProbe>) -> Self {
        Self {
            probe,
            latest: Mutex::new(HeadReading::default()),
            reading: tokio::sync::Mutex::new(()),
            api_keys: Rows::new(),
            users: Rows::new(),
            projects: Rows::new(),
            organizations: Rows::new(),
            memberships: Rows::new(),
            network_versions: Rows::new(),
            live_proxies: Mutex::new(LiveProxies::default()),
        }
    }

    /// Something was committed here (or elsewhere, said a notification): the next call reads
    /// the head again.
    pub(super) fn forget_head(&self) {
        let mut state = self.latest.lock().expect("head reading lock");
        state.latest = None;
        state.commits = state.commits.wrapping_add(1);
    }

    /// The store is closing: the probe lets go of its connection.
    pub(super) fn close_probe(&self) {
        if let Some(probe) = &self.probe {
            probe.close();
        }
    }

    fn commits(&self) -> u64 {
        self.latest.lock().expect("head reading lock").commits
    }

    fn head_read_since(&self, since: Instant) -> Option<ReadStamp> {
        self.latest
            .lock()
            .expect("head reading lock")
            .latest
            .filter(|(began, _)| *began >= since)
            .map(|(_, head)| ReadStamp { head })
    }

    /// Keeps a reading that began at `began` as the latest, unless a local commit happened
    /// since `commits` was taken (the reading may predate it) or a later reading is kept.
    fn keep_reading(&self, began: Instant, commits: u64, head: i64) {
        let mut state = self.latest.lock().expect("head reading lock");
        if state.commits == commits && state.latest.is_none_or(|(b, _)| b < began) {
            state.latest = Some((began, head));
        }
    }
}

impl Store {
    /// The feed head from a reading that began at or after `since` (the start of the call or
    /// of its HTTP request): shared with every concurrent caller it satisfies.
    pub async fn read_stamp(&self, since: Instant) -> Result<ReadStamp, StoreError> {
        if let Some(stamp) = self.hot.head_read_since(since) {
            return Ok(stamp);
        }
        if let Some(probe) = &self.hot.probe {
            let (began, commits) = (Instant::now(), self.hot.commits());
            if let Some(head) = probe.head() {
                self.hot.keep_reading(began, commits, head);
                return Ok(ReadStamp { head });
            }
        }
        let _turn = self.hot.reading.lock().await;
        // The reading that held the turn may have begun after `since`.
        if let Some(stamp) = self.hot.head_read_since(since) {
            return Ok(stamp);
        }
        let (began, commits) = (Instant::now(), self.hot.commits());
        let head = self.feed_head().await?;
        // A commit here while the query ran may not be in it: such a reading answers this
        // call (which began before the commit) but is not kept for later ones.
        self.hot.keep_reading(began, commits, head);
        Ok(ReadStamp { head })
    }

    /// [`Store::api_key_by_hash`] as of `at`.
    pub async fn api_key_by_hash_as_of(
        &self,
        at: ReadStamp,
        token_hash: &str,
    ) -> Result<Option<ApiKeyRow>, StoreError> {
        self.hot
            .api_keys
            .through(at, token_hash.to_owned(), self.api_key_by_hash(token_hash))
            .await
    }

    /// A key's use was recorded: its cached row (with the old time) goes, so the next call
    /// does not record it again.
    pub(super) async fn forget_api_key(&self, token_hash: &str) {
        self.hot.api_keys.cache.invalidate(token_hash).await;
    }

    /// [`Store::user_by_id`] as of `at`.
    pub async fn user_by_id_as_of(
        &self,
        at: ReadStamp,
        id: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        self.hot
            .users
            .through(at, id.to_owned(), self.user_by_id(id))
            .await
    }

    /// [`Store::project`] as of `at`.
    pub async fn project_as_of(
        &self,
        at: ReadStamp,
        id: &str,
    ) -> Result<Option<ProjectRow>, StoreError> {
        self.hot
            .projects
            .through(at, id.to_owned(), self.project(id))
            .await
    }

    /// [`Store::organization`] as of `at`.
    pub async fn organization_as_of(
        &self,
        at: ReadStamp,
        id: &str,
    ) -> Result<Option<OrganizationRow>, StoreError> {
        self.hot
            .organizations
            .through(at, id.to_owned(), self.organization(id))
            .await
    }

    /// [`Store::membership_role`] as of `at`.
    pub async fn membership_role_as_of(
        &self,
        at: ReadStamp,
        org_id: &str,
        user_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.hot
            .memberships
            .through(
                at,
                (org_id.to_owned(), user_id.to_owned()),
                self.membership_role(org_id, user_id),
            )
            .await
    }

    /// [`Store::project_network_version`] as of `at`.
    pub async fn project_network_version_as_of(
        &self,
        at: ReadStamp,
        project_id: &str,
    ) -> Result<i64, StoreError> {
        let version = self
            .hot
            .network_versions
            .through(at, project_id.to_owned(), async {
                self.project_network_version(project_id).await.map(Some)
            })
            .await?;
        Ok(version.unwrap_or(0))
    }

    /// [`Store::live_proxies`], from a list read within the last second with an earlier or
    /// equal `since` (filtered again, so a proxy that fell silent drops out on time).
    pub async fn recent_live_proxies(
        &self,
        since_ms: i64,
    ) -> Result<Vec<ProxyHeartbeatRow>, StoreError> {
        let (kept, heartbeats) = {
            let state = self.hot.live_proxies.lock().expect("live proxies lock");
            (state.list.clone(), state.heartbeats)
        };
        if let Some((read_at, read_since, proxies)) = kept {
            if read_at.elapsed() < LIVE_PROXIES_MAX_AGE && read_since <= since_ms {
                return Ok(proxies
                    .iter()
                    .filter(|p| p.last_seen_at >= since_ms)
                    .cloned()
                    .collect());
            }
        }
        let read_at = Instant::now();
        let proxies = self.live_proxies(since_ms).await?;
        let mut state = self.hot.live_proxies.lock().expect("live proxies lock");
        if state.heartbeats == heartbeats {
            state.list = Some((read_at, since_ms, Arc::new(proxies.clone())));
        }
        Ok(proxies)
    }

    /// A heartbeat moved a proxy's version (or a new proxy spoke): the list is read again.
    pub(super) fn forget_live_proxies(&self) {
        let mut state = self.hot.live_proxies.lock().expect("live proxies lock");
        state.list = None;
        state.heartbeats = state.heartbeats.wrapping_add(1);
    }
}
