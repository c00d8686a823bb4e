//! Live status: keeps an open page current with server-sent events (see the server's
//! `http::live`). The server sends a digest of the page's data whenever it changes, and once
//! on every (re)connection; when it differs from what the page shows, the page reloads its
//! data. A dropped connection is retried, and the digest sent on reconnecting catches up on
//! whatever changed meanwhile.

use leptos::prelude::*;

use crate::domain::ConsoleError;

/// Newer data for a page after a change or a live update. A page renders its first load from
/// its resource (on the server too), then reads its sections from `fresh`: a refresh
/// re-renders what shows the data and leaves the forms, and what is being typed in them, alone.
/// `reload` reads the data again into `fresh`.
pub fn fresh_data<T, Fut>(
    fetch: impl Fn() -> Fut + Send + Sync + 'static,
) -> (
    RwSignal<Option<T>>,
    impl Fn() + Send + Sync + Clone + 'static,
)
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, ConsoleError>> + 'static,
{
    let fresh = RwSignal::new(None);
    let fetch = std::sync::Arc::new(fetch);
    let reload = move || {
        let read = fetch();
        leptos::task::spawn_local(async move {
            if let Ok(data) = read.await {
                fresh.set(Some(data));
            }
        });
    };
    (fresh, reload)
}

/// The state of the live connection, shown to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    /// Before the page is interactive (and without JavaScript).
    Off,
    Connecting,
    Live,
    Reconnecting,
    /// The server refused the stream: this person has too many live pages open.
    TooMany,
}

/// How long a page whose stream was refused for too many open pages waits before asking again.
#[cfg(feature = "hydrate")]
const TOO_MANY_RETRY_MS: u32 = 10_000;

/// Subscribes to `url` while mounted; calls `on_change` when the server's digest differs
/// from `current` (the digest of the data on the page).
#[component]
pub fn LiveUpdates(
    #[prop(into)] url: String,
    #[prop(into)] current: Signal<Option<String>>,
    #[prop(into)] on_change: Callback<()>,
) -> impl IntoView {
    let status = RwSignal::new(LiveStatus::Off);
    let updated = RwSignal::new(0u32);

    #[cfg(feature = "hydrate")]
    {
        let (cancel_tx, cancel_rx) = futures::channel::oneshot::channel::<()>();
        let cancel_tx = std::sync::Mutex::new(Some(cancel_tx));
        on_cleanup(move || {
            if let Some(tx) = cancel_tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(());
            }
        });
        leptos::task::spawn_local(follow(url, current, on_change, status, updated, cancel_rx));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, current, on_change);

    view! {
        <p class="live-status muted" data-testid="live-status" data-live=move || format!("{:?}", status.get()).to_lowercase()>
            <span class="live-dot" aria-hidden="true"></span>
            {move || match status.get() {
                LiveStatus::Off => "Reload the page to see changes.",
                LiveStatus::Connecting => "Connecting to live updates…",
                LiveStatus::Live => "Live: changes appear here as they happen.",
                LiveStatus::Reconnecting => "Live updates interrupted; reconnecting…",
                LiveStatus::TooMany => "Live updates paused: too many live pages are open for your account. Close some other tabs; this page tries again every 10 seconds.",
            }}
        </p>
        <p class="visually-hidden" role="status" aria-live="polite">
            {move || (updated.get() > 0).then_some("The page was updated with the latest state.")}
        </p>
    }
}

#[cfg(feature = "hydrate")]
async fn follow(
    url: String,
    current: Signal<Option<String>>,
    on_change: Callback<()>,
    status: RwSignal<LiveStatus>,
    updated: RwSignal<u32>,
    cancel: futures::channel::oneshot::Receiver<()>,
) {
    use futures::{future::Either, StreamExt};
    use gloo_net::eventsource::{futures::EventSource, State};

    let mut cancel = cancel;
    let mut delay_ms: u32 = 1_000;
    loop {
        status.set(LiveStatus::Connecting);
        let Ok(mut source) = EventSource::new(&url) else {
            return;
        };
        let Ok(mut events) = source.subscribe("change") else {
            return;
        };
        loop {
            match futures::future::select(events.next(), &mut cancel).await {
                Either::Right(_) => {
                    source.close();
                    return;
                }
                Either::Left((Some(Ok((_, message))), _)) => {
                    delay_ms = 1_000;
                    status.set(LiveStatus::Live);
                    let digest = message.data().as_string();
                    if digest.is_some() && digest != current.get_untracked() {
                        on_change.run(());
                        updated.update(|n| *n += 1);
                    }
                }
                // The browser retries a dropped connection by itself; once it gives up (the
                // server answered with an error, or ended the stream), try again ourselves.
                Either::Left((Some(Err(_)), _)) => {
                    if source.state() != State::Closed {
                        status.set(LiveStatus::Reconnecting);
                        continue;
                    }
                    break;
                }
                Either::Left((None, _)) => break,
            }
        }
        drop(events);
        source.close();
        // An EventSource cannot tell why it was refused; ask once, to tell "too many open
        // pages" (429) from a dropped connection.
        let wait_ms = if refused_status(&url).await == Some(429) {
            status.set(LiveStatus::TooMany);
            TOO_MANY_RETRY_MS
        } else {
            status.set(LiveStatus::Reconnecting);
            delay_ms
        };
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        set_timeout(
            move || {
                let _ = tx.send(());
            },
            std::time::Duration::from_millis(u64::from(wait_ms)),
        );
        if let Either::Right(_) = futures::future::select(rx, &mut cancel).await {
            return;
        }
        delay_ms = (delay_ms * 2).min(30_000);
    }
}

/// The status the server answers `url` with right now; the request is aborted as soon as the
/// status is known, so it never holds a stream open.
#[cfg(feature = "hydrate")]
async fn refused_status(url: &str) -> Option<u16> {
    let controller = web_sys::AbortController::new().ok()?;
    let signal = controller.signal();
    let answer = gloo_net::http::Request::get(url)
        .abort_signal(Some(&signal))
        .send()
        .await;
    controller.abort();
    answer.ok().map(|response| response.status())
}

/// [`LiveUpdates`] for a page whose data is in `current`: mounted only once the page loaded
/// (a stream for a page the viewer may not see would only be refused), and reconnected when
/// `url` changes (client-side navigation to another project or organization).
#[component]
pub fn FollowLive(
    #[prop(into)] url: Signal<String>,
    #[prop(into)] current: Signal<Option<String>>,
    #[prop(into)] on_change: Callback<()>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            <Show when=move || current.get().is_some()>
                {move || view! { <LiveUpdates url=url.get() current on_change/> }}
            </Show>
        </Transition>
    }
}
