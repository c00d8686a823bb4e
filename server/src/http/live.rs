//! Live status for open console pages: `GET /events/projects/{id}` and
//! `GET /events/orgs/{id}` as server-sent events.
//!
//! Each stream belongs to the signed-in person and checks their access on every look, so a
//! page only hears about what its viewer may see, and a session that ends ends the stream.
//! The server compares a digest of the page's data once a second and sends it when it
//! changes; the first event of every connection carries the current digest, which is how a
//! reconnecting browser catches up on whatever it missed. Reading the store (not an
//! in-process bus) means changes made by any server instance, the API, the CLI or the
//! reconciler all arrive.

use std::{convert::Infallible, time::Duration};

use app::{
    backend::ConsoleBackend,
    session::{cookie_value, SESSION_COOKIE},
};
use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use futures::stream::{self, Stream};

use super::AppState;
use crate::services::Services;

/// How often an open stream looks for changes.
const POLL: Duration = Duration::from_secs(1);

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

fn changes(
    services: Services,
    session: String,
    subject: Subject,
    id: String,
    first: String,
) -> impl Stream<Item = Result<Event, Infallible>> {
    // State: the last digest sent, and whether the opening event went out.
    stream::unfold(
        (services, session, id, first, false),
        move |(services, session, id, last, opened)| async move {
            if !opened {
                let event = Event::default().event("change").data(last.clone());
                return Some((Ok(event), (services, session, id, last, true)));
            }
            loop {
                tokio::time::sleep(POLL).await;
                match version(&services, &session, subject, &id).await {
                    Ok(current) if current != last => {
                        let event = Event::default().event("change").data(current.clone());
                        return Some((Ok(event), (services, session, id, current, true)));
                    }
                    Ok(_) => continue,
                    // Signed out, expired, or access lost: end the stream. The browser's
                    // reconnect then gets a 401/404 and stops.
                    Err(_) => return None,
                }
            }
        },
    )
}

async fn open(state: AppState, headers: HeaderMap, subject: Subject, id: String) -> Response {
    let Some(session) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| cookie_value(h, SESSION_COOKIE))
        .map(str::to_owned)
    else {
        return (StatusCode::UNAUTHORIZED, "Sign in to receive live updates.").into_response();
    };
    let first = match version(&state.services, &session, subject, &id).await {
        Ok(v) => v,
        Err(e) if e.code == "unauthenticated" => {
            return (StatusCode::UNAUTHORIZED, "Sign in to receive live updates.").into_response()
        }
        Err(e) => return (StatusCode::NOT_FOUND, e.message).into_response(),
    };
    let stream = changes(state.services.clone(), session, subject, id, first);
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
    headers: HeaderMap,
) -> Response {
    open(state, headers, Subject::Project, project_id).await
}

pub async fn org_events(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    open(state, headers, Subject::Org, org_id).await
}
