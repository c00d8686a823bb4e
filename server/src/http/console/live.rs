//! Live status for open console pages: `GET /events/projects/{id}` and
//! `GET /events/orgs/{id}` as server-sent events.
//!
//! Each stream belongs to the signed-in person and checks their access on every look, so a
//! page only hears about what its viewer may see, and a session that ends ends the stream.
//! The stream wakes on the change feed (a commit here or, on PostgreSQL, on any instance; or
//! a proxy acknowledging a change), recomputes a digest of the page's data and sends it when
//! it changes; the first event of every connection carries the current digest, which is how
//! a reconnecting browser catches up on whatever it missed. With nothing happening it looks
//! again only every [`RECHECK`], so an ended session still ends its stream.

use std::{convert::Infallible, time::Duration};

use app::backend::ConsoleBackend;
use axum::{
    extract::{Path, State},
    http::{HeaderValue, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use futures::stream::{self, Stream};

use super::SessionCookie;
use crate::http::AppState;
use crate::services::Services;

/// How often an idle stream re-checks its viewer's access (changes arrive on the feed).
const RECHECK: Duration = Duration::from_secs(30);

/// Wake-ups closer together than this are read as one.
const SETTLE: Duration = Duration::from_millis(50);

#[derive(Clone, Copy)]
enum Subject {
    Project,
    Org,
}

async fn version(
    services: &Services,
    session: &str,
    subject: Subject,
    id: &str,
) -> Result<String, app::backend::BackendError> {
    match subject {
        Subject::Project => services
            .project_page(session, id)
            .await
            .map(|v| v.live_version),
        Subject::Org => services.org_page(session, id).await.map(|v| v.live_version),
    }
}

/// What an open stream carries from one look to the next.
struct Watch {
    services: Services,
    session: String,
    subject: Subject,
    id: String,
    /// The last digest sent.
    last: String,
    opened: bool,
    stopping: tokio::sync::watch::Receiver<bool>,
    ticks: tokio::sync::watch::Receiver<u64>,
}

fn changes(watch: Watch) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(watch, |mut watch| async move {
        if !watch.opened {
            watch.opened = true;
            let event = Event::default().event("change").data(watch.last.clone());
            return Some((Ok(event), watch));
        }
        loop {
            let woken = tokio::select! {
                _ = tokio::time::sleep(RECHECK) => false,
                changed = watch.ticks.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    true
                }
                // The server is stopping: end the stream (the browser reconnects to whichever
                // server comes back).
                _ = watch.stopping.wait_for(|s| *s) => return None,
            };
            if woken {
                tokio::time::sleep(SETTLE).await;
                watch.ticks.borrow_and_update();
            }
            match version(&watch.services, &watch.session, watch.subject, &watch.id).await {
                Ok(current) if current != watch.last => {
                    watch.last = current.clone();
                    let event = Event::default().event("change").data(current);
                    return Some((Ok(event), watch));
                }
                Ok(_) => continue,
                // Signed out, expired, or access lost: end the stream. The browser's
                // reconnect then gets a 401/404 and stops.
                Err(_) => return None,
            }
        }
    })
}

async fn open(state: AppState, session: SessionCookie, subject: Subject, id: String) -> Response {
    let SessionCookie(Some(session)) = session else {
        return (StatusCode::UNAUTHORIZED, "Sign in to receive live updates.").into_response();
    };
    // Subscribed before the first look, so nothing committed after it is missed.
    let ticks = state.services.feed().ticks();
    let first = match version(&state.services, &session, subject, &id).await {
        Ok(v) => v,
        Err(e) if e.code == "unauthenticated" => {
            return (StatusCode::UNAUTHORIZED, "Sign in to receive live updates.").into_response()
        }
        Err(e) => return (StatusCode::NOT_FOUND, e.message).into_response(),
    };
    let stream = changes(Watch {
        services: state.services.clone(),
        session,
        subject,
        id,
        last: first,
        opened: false,
        stopping: state.stopping.clone(),
        ticks,
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    // Proxies must not buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

pub async fn project_events(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    session: SessionCookie,
) -> Response {
    open(state, session, Subject::Project, project_id).await
}

pub async fn org_events(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    session: SessionCookie,
) -> Response {
    open(state, session, Subject::Org, org_id).await
}
