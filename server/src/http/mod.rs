//! The HTTP surface: health probes, the console (SSR, server functions, static assets) and
//! the layers every request passes through.

pub mod api;
pub mod console;
mod health;
pub mod limits;
pub(crate) mod request_id;
pub mod security;
pub mod serve;

use std::sync::Arc;

use app::{backend::SharedBackend, shell, App};
use axum::{extract::FromRef, routing::get, Router};
use leptos::prelude::{provide_context, use_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::services::Services;

/// The wasm, JS and CSS bundle: the brotli or gzip file the build precompressed when the
/// browser accepts it, and — when the names carry content hashes — cached for a year as
/// immutable (a new build has new names); otherwise revalidated on every use.
fn pkg_files(
    options: &LeptosOptions,
) -> tower_http::set_header::SetResponseHeader<
    tower_http::services::ServeDir,
    axum::http::HeaderValue,
> {
    use axum::http::{header, HeaderValue};
    use tower_http::{services::ServeDir, set_header::SetResponseHeader};
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let cache = if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    SetResponseHeader::overriding(
        ServeDir::new(dir).precompressed_br().precompressed_gzip(),
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache),
    )
}

/// Everything a handler may need. Cloned for every request (axum hands each handler its
/// own), so it is one shared pointer; handlers extract [`Services`] (and leptos its options)
/// with `FromRef`.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

/// What [`AppState`] shares.
pub struct AppParts {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    /// The token the data plane authenticates with; `None` disables the internal API.
    pub data_plane_token: Option<Arc<str>>,
    /// HTTPS and client-address facts about the proxy in front, if any.
    pub front_door: console::csrf::FrontDoor,
    /// Becomes `true` when the server starts shutting down.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Live streams open on this server, capped per session and per person.
    pub live_streams: Arc<console::live::LiveStreams>,
    /// A handler must start its answer within this.
    pub request_timeout: std::time::Duration,
}

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Services {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}

/// The console's routes, listed once per process. Listing them renders the app with resource
/// loading switched off process-wide (leptos' `SuppressResourceLoad` is a global flag), so a
/// page rendered by another instance in this process at that moment would wait forever for its
/// data (leptos-rs/leptos#4773; seen as a test's request timing out while another test's
/// server started). Listed once, before any router exists, nothing can render meanwhile.
fn console_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Builds the complete router for one application instance.
pub fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(state.services.clone());
    let quiet_backend: SharedBackend = Arc::new(state.services.quietly());
    let console_context = move || {
        // A page read a live update made is rendered with services whose session lookups are
        // not activity.
        let live_refresh = use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .contains_key(app::session::LIVE_REFRESH_HEADER)
        });
        provide_context(if live_refresh {
            quiet_backend.clone()
        } else {
            backend.clone()
        });
        // The renderer stamps this nonce on its inline hydration script; the security
        // middleware put it in the request and sends the matching CSP header.
        if let Some(parts) = use_context::<axum::http::request::Parts>() {
            if let Some(security::CspNonce(nonce)) = parts.extensions.get::<security::CspNonce>() {
                provide_context(leptos::nonce::Nonce::from_value(nonce.as_str()));
            }
        }
    };
    let routes = console_routes();
    let front_door = state.front_door.clone();
    let force_secure = front_door.force_secure;
    let request_timeout = state.request_timeout;

    // Everything but the API, which has no cookies, is guarded against cross-site requests.
    let console = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/projects/{project_id}/setup",
            get(console::setup::resume_setup),
        )
        .route(
            "/events/projects/{project_id}",
            get(console::live::project_events),
        )
        .route("/events/orgs/{org_id}", get(console::live::org_events))
        .route(
            "/orgs/{org_id}/activity.csv",
            get(console::activity::activity_csv_file),
        )
        .nest_service("/pkg", pkg_files(&state.leptos_options))
        .leptos_routes_with_context(&state, routes, console_context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(console_context, shell))
        .layer(axum::middleware::from_fn(move |req, next| {
            console::csrf::protect(front_door.clone(), req, next)
        }));
    let router = console.merge(api::router()).with_state(state.clone());
    // The layers every request passes, outermost first. They wrap the router once, as one
    // service: `Router::layer` would wrap every route with each of them instead, so that a
    // request went through a boxed clone of the route per layer (that, and a middleware per
    // limit, cost about a seventh of a cached REST read's time).
    let stack = tower::ServiceBuilder::new()
        .layer(axum::middleware::map_request(
            request_id::drop_malformed_request_id,
        ))
        .layer(request_id::assign())
        .layer(request_id::trace())
        .layer(request_id::echo())
        .layer(axum::middleware::from_fn(move |req, next| {
            limits::enforce(request_timeout, req, next)
        }))
        .layer(axum::middleware::from_fn(move |req, next| {
            security::headers(force_secure, req, next)
        }))
        .service(router);
    Router::new().fallback_service(stack)
}
