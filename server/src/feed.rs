//! The change feed, in process: one task per server reads newly committed events from the
//! store whenever a commit wakes it (here, or through PostgreSQL `LISTEN` from another
//! instance) and fans them out. Data-plane streams and live console pages subscribe here;
//! nobody polls tables. A subscriber that asks for "everything after V" is served the
//! backlog from the table first, then live events, with nothing lost or repeated.

use std::sync::{Arc, OnceLock};

use futures::Stream;
use tokio::sync::{broadcast, watch};

use crate::store::{ChangeEvent, Store, StoreError};

/// Events read from the table per query.
const PAGE: i64 = 500;

/// What a subscriber receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedItem {
    Event(Arc<ChangeEvent>),
    /// Events after the requested version were pruned: drop what is cached and continue
    /// from this version.
    Reset(i64),
}

/// Handle to this process's feed hub. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Feed {
    store: Store,
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    events: broadcast::Sender<Arc<ChangeEvent>>,
    /// Bumped after each wake-up has been read through (events or acknowledgements).
    ticks: watch::Sender<u64>,
    /// The version the hub started from, once it has read it: a subscriber waits for it, so
    /// every event after its own starting point is either in the table or broadcast.
    started_at: watch::Sender<Option<i64>>,
    started: OnceLock<()>,
}

impl Feed {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            inner: Arc::new(Inner {
                events: broadcast::channel(1024).0,
                ticks: watch::Sender::new(0),
                started_at: watch::Sender::new(None),
                started: OnceLock::new(),
            }),
        }
    }

    /// Starts the hub on first use (operator commands that never subscribe never start it).
    fn start(&self) {
        self.inner.started.get_or_init(|| {
            let store = self.store.clone();
            let inner = self.inner.clone();
            tokio::spawn({
                let store = store.clone();
                async move { store.listen_for_other_instances().await }
            });
            tokio::spawn(async move { hub(store, inner).await });
        });
    }

    /// A receiver that changes after every wake-up the hub has read through: live pages
    /// recompute what they show when it does.
    pub fn ticks(&self) -> watch::Receiver<u64> {
        self.start();
        self.inner.ticks.subscribe()
    }

    /// Every event after `after` (`None`: from now on), in version order.
    pub async fn subscribe(
        &self,
        after: Option<i64>,
    ) -> Result<(i64, impl Stream<Item = Result<FeedItem, StoreError>>), StoreError> {
        self.start();
        // Subscribe before reading the head, so nothing committed in between is missed; and
        // only once the hub runs, so everything after its starting point is broadcast.
        let live = self.inner.events.subscribe();
        let _ = self
            .inner
            .started_at
            .subscribe()
            .wait_for(Option::is_some)
            .await;
        let head = self.store.feed_head().await?;
        let mut start = after.unwrap_or(head).min(head);
        let mut reset = None;
        if after.is_some_and(|a| a > head) {
            // The reader has seen versions this database never wrote (it was restored or
            // replaced): nothing it cached can be trusted.
            reset = Some(head);
        } else if start < head {
            let oldest = self.store.feed_oldest().await?;
            if oldest.is_none_or(|o| o > start + 1) {
                reset = Some(head);
                start = head;
            }
        }
        let state = Subscription {
            store: self.store.clone(),
            live,
            last: start,
            backlog: std::collections::VecDeque::new(),
            reading_table: true,
            reset,
        };
        Ok((head, futures::stream::unfold(state, next)))
    }
}

struct Subscription {
    store: Store,
    live: broadcast::Receiver<Arc<ChangeEvent>>,
    last: i64,
    backlog: std::collections::VecDeque<ChangeEvent>,
    /// Catching up from the table (at the start, or after falling behind the broadcast).
    reading_table: bool,
    reset: Option<i64>,
}

async fn next(mut s: Subscription) -> Option<(Result<FeedItem, StoreError>, Subscription)> {
    if let Some(version) = s.reset.take() {
        return Some((Ok(FeedItem::Reset(version)), s));
    }
    loop {
        if let Some(event) = s.backlog.pop_front() {
            s.last = event.version;
            return Some((Ok(FeedItem::Event(Arc::new(event))), s));
        }
        if s.reading_table {
            match s.store.events_after(s.last, PAGE).await {
                Ok(page) if page.is_empty() => s.reading_table = false,
                Ok(page) => {
                    s.backlog.extend(page);
                    continue;
                }
                Err(e) => return Some((Err(e), s)),
            }
        }
        match s.live.recv().await {
            Ok(event) if event.version <= s.last => continue,
            Ok(event) if event.version == s.last + 1 => {
                s.last = event.version;
                return Some((Ok(FeedItem::Event(event)), s));
            }
            // A gap (or a lagging receiver): read the table again from where we are.
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => s.reading_table = true,
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// Reads what each wake-up committed and fans it out.
async fn hub(store: Store, inner: Arc<Inner>) {
    let mut wakes = store.wakes();
    let mut last = loop {
        match store.feed_head().await {
            Ok(v) => {
                inner.started_at.send_replace(Some(v));
                break v;
            }
            Err(e) => {
                tracing::warn!(error = %e, "change feed: cannot read the head; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    };
    loop {
        wakes.borrow_and_update();
        loop {
            match store.events_after(last, PAGE).await {
                Ok(page) => {
                    let full = page.len() as i64 == PAGE;
                    for event in page {
                        last = event.version;
                        let _ = inner.events.send(Arc::new(event));
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change feed: reading events failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
        }
        inner.ticks.send_modify(|n| *n = n.wrapping_add(1));
        if wakes.changed().await.is_err() {
            return;
        }
    }
}
