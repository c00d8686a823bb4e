//! The console's setup redirect: `GET /projects/{id}/setup` sends the
//! browser to the step the project's setup resumes at. Every change the console makes is a
//! server function (`app::server_fns::changes`); nothing here decides a rule.

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Redirect, Response},
};

use super::SignedIn;
use crate::http::AppState;

/// `GET /projects/{id}/setup`: resumes the guided setup at the step saved for the project.
pub async fn resume_setup(
    State(state): State<AppState>,
    axum::extract::Path(project): axum::extract::Path<String>,
    SignedIn(caller): SignedIn,
) -> Response {
    let step = match state.services.setup_progress(&caller, &project).await {
        Ok(progress) => progress.step,
        // Outsiders get the same "not found" page as for any unknown project.
        Err(_) => return Redirect::to(&format!("/projects/{project}")).into_response(),
    };
    let mut response = Redirect::to(&format!("/projects/{project}/setup/{step}")).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
