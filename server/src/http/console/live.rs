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
    // Quietly: a stream's looks are not activity, so an open page never keeps an idle
    // session alive (the stream ends once the session does).
    let caller = services.session_caller_quietly(session).await?;
    match subject {
        Subject::Project => services
            .project_page_as(&caller, id)
            .await
            .map(|v| v.live_version),
        Subject::Org => services
            .org_page_as(&caller, id)
            .await
            .map(|v| v.live_version),
    }
}

/// Open streams one session may hold (a page holds one; several tabs, several)…
pub const STREAMS_PER_SESSION: usize = 8;
/// …and one person across all their sessions: so one browser, or a script with a stolen
/// cookie, cannot hold an unbounded number of streams (and the database looks they cost).
pub const STREAMS_PER_USER: usize = 16;

/// The live streams open on this server, counted per session and per person. Entries leave
/// the map when their count reaches zero, so it holds no more than the open streams.
#[derive(Debug, Default)]
pub struct LiveStreams {
    open: std::sync::Mutex<std::collections::HashMap<String, usize>>,
}

/// One open stream's place in the counts, given back when the stream is dropped (the browser
/// went away, the session ended or the server stops).
struct StreamSlot {
    streams: std::sync::Arc<LiveStreams>,
    keys: [String; 2],
}

impl LiveStreams {
    fn take(
        self: &std::sync::Arc<Self>,
        session: &str,
        user: &str,
    ) -> Result<StreamSlot, &'static str> {
        let keys = [format!("session:{session}"), format!("user:{user}")];
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.get(&keys[0]).copied().unwrap_or(0) >= STREAMS_PER_SESSION {
            return Err(
                "Too many live pages are open in this browser session: close some tabs \
                        (each page follows changes on its own), then reload this one.",
            );
        }
        if open.get(&keys[1]).copied().unwrap_or(0) >= STREAMS_PER_USER {
            return Err(
                "Too many live pages are open for your account across browsers: close \
                        some, then reload this one.",
            );
        }
        for key in &keys {
            *open.entry(key.clone()).or_insert(0) += 1;
        }
        Ok(StreamSlot {
            streams: self.clone(),
            keys,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            if let Some(count) = open.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

/// What an open stream carries from one look to the next.
struct Watch {
    /// Held for as long as the stream is open.
    _slot: StreamSlot,
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
    let user = match state.services.session_caller_quietly(&session).await {
        Ok(caller) => match caller.principal {
            crate::services::Principal::User { user_id, .. } => user_id,
            _ => session.clone(),
        },
        Err(_) => {
            return (StatusCode::UNAUTHORIZED, "Sign in to receive live updates.").into_response()
        }
    };
    let slot = match state.live_streams.take(&session, &user) {
        Ok(slot) => slot,
        Err(message) => return (StatusCode::TOO_MANY_REQUESTS, message).into_response(),
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
        _slot: slot,
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
