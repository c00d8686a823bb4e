//! Live status: keeps an open page current with server-sent events (see the server's
//! `http::live`). The server sends a digest of the page's data whenever it changes, and once
//! on every (re)connection; when it differs from the one the page was rendered with, the
//! page's live parts ([`LivePart`]) are replaced with the server's newer rendering of them
//! (read quietly: a look on the person's behalf is not their activity).
//! Nothing else on the page is touched, so what is being typed in a form stays. A dropped
//! connection is retried, and the digest sent on reconnecting catches up on whatever changed
//! meanwhile.

use leptos::prelude::*;

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

/// A part of a page that shows data: a live update replaces it with the server's newer
/// rendering (matched by `id`, unique on the page). Forms with text fields stay outside
/// parts, so an update never takes away what is being typed; parts hold no islands.
#[component]
pub fn LivePart(#[prop(into)] id: String, children: Children) -> impl IntoView {
    view! { <div class="live-part" id=id data-live-part="">{children()}</div> }
}

/// How long a page whose stream was refused for too many open pages waits before asking again.
#[cfg(feature = "hydrate")]
const TOO_MANY_RETRY_MS: u32 = 10_000;

/// Subscribes to `url` (the page's event stream) while the page is open; `digest` is the
/// digest of the data the page was rendered with.
#[island]
pub fn LiveUpdates(url: String, digest: String) -> impl IntoView {
    let status = RwSignal::new(LiveStatus::Off);
    let updated = RwSignal::new(0u32);

    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(browser::follow(url, digest.clone(), status, updated));
    #[cfg(not(feature = "hydrate"))]
    let _ = url;

    view! {
        <p class="live-status muted" data-testid="live-status" data-live-digest=digest
            data-live=move || format!("{:?}", status.get()).to_lowercase()>
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

/// A page's [`LiveUpdates`], once its data has loaded (a stream for a page the viewer may
/// not see would only be refused): `current` is the digest of the data it shows.
#[component]
pub fn FollowLive(
    #[prop(into)] url: Signal<String>,
    #[prop(into)] current: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || current.get().map(|digest| view! { <LiveUpdates url=url.get() digest/> })}
        </Transition>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use futures::StreamExt;
    use gloo_net::eventsource::{futures::EventSource, State};
    use leptos::prelude::*;
    use leptos::wasm_bindgen::JsCast;
    use web_sys::{DomParser, SupportedType};

    use super::{LiveStatus, TOO_MANY_RETRY_MS};

    pub async fn follow(
        url: String,
        digest: String,
        status: RwSignal<LiveStatus>,
        updated: RwSignal<u32>,
    ) {
        let mut shown = digest;
        let mut delay_ms: u32 = 1_000;
        loop {
            status.set(LiveStatus::Connecting);
            let Ok(mut source) = EventSource::new(&url) else {
                return;
            };
            let Ok(mut events) = source.subscribe("change") else {
                return;
            };
            while let Some(event) = events.next().await {
                match event {
                    Ok((_, message)) => {
                        delay_ms = 1_000;
                        status.set(LiveStatus::Live);
                        let Some(digest) = message.data().as_string() else {
                            continue;
                        };
                        if digest != shown {
                            // Whatever the outcome, this digest has been dealt with: a page
                            // that cannot be read now is read again at the next change.
                            shown = replace_live_parts().await.unwrap_or(digest);
                            updated.update(|n| *n += 1);
                        }
                    }
                    // The browser retries a dropped connection by itself; once it gives up
                    // (the server answered with an error, or ended the stream), try again
                    // ourselves.
                    Err(_) if source.state() != State::Closed => {
                        status.set(LiveStatus::Reconnecting);
                    }
                    Err(_) => break,
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
            sleep(wait_ms).await;
            delay_ms = (delay_ms * 2).min(30_000);
        }
    }

    async fn sleep(ms: u32) {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        set_timeout(
            move || {
                let _ = tx.send(());
            },
            std::time::Duration::from_millis(u64::from(ms)),
        );
        let _ = rx.await;
    }

    /// Reads this page again from the server and replaces each live part with its newer
    /// rendering; answers the digest the newer rendering was made from.
    async fn replace_live_parts() -> Option<String> {
        let window = web_sys::window()?;
        let document = window.document()?;
        let here = window.location().href().ok()?;
        let response = gloo_net::http::Request::get(&here)
            .header("accept", "text/html")
            .header(crate::session::LIVE_REFRESH_HEADER, "1")
            .send()
            .await
            .ok()?;
        if !response.ok() {
            return None;
        }
        let html = response.text().await.ok()?;
        let newer = DomParser::new()
            .ok()?
            .parse_from_string(&html, SupportedType::TextHtml)
            .ok()?;
        let parts = document.query_selector_all("[data-live-part]").ok()?;
        for i in 0..parts.length() {
            let Some(old) = parts
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let Some(new) = newer.get_element_by_id(&old.id()) else {
                continue;
            };
            if new.outer_html() != old.outer_html() {
                old.set_outer_html(&new.outer_html());
            }
        }
        newer
            .query_selector("[data-live-digest]")
            .ok()
            .flatten()
            .and_then(|e| e.get_attribute("data-live-digest"))
    }

    /// The status the server answers `url` with right now; the request is aborted as soon as
    /// the status is known, so it never holds a stream open.
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
}
