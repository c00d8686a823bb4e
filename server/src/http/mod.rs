//! The HTTP surface: health probes, the console (SSR, server functions, static assets) and
//! the layers every request passes through.

pub mod api;
mod health;
pub(crate) mod request_id;

use std::sync::Arc;

use app::{backend::SharedBackend, shell, App};
use axum::{extract::FromRef, routing::get, Router};
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::services::Services;

/// Everything a handler may need, extracted piecewise with `FromRef`.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    /// The token the data plane authenticates with; `None` disables the internal API.
    pub data_plane_token: Option<Arc<str>>,
}

/// Builds the complete router for one application instance.
pub fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(state.services.clone());
    let console_context = move || provide_context(backend.clone());
    let routes = generate_route_list(App);

    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(api::router())
        .leptos_routes_with_context(&state, routes, console_context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(console_context, shell))
        .with_state(state);
    request_id::apply(router)
}
