//! Routed pages of the console.
//!
//! Every page is a lazy route: built with `cargo leptos build --split`, each page's view code
//! is its own wasm chunk, so the first load of a page downloads the application shell and that
//! page, not the whole console. The server names the page's chunks in the HTML it renders (as
//! preloads) and the browser hydrates once they have arrived.

pub mod activity;
pub mod api_keys;
pub mod not_found;
pub mod operator;
pub mod org;
pub mod overview;
pub mod project;
pub mod setup;
pub mod sign_in;
pub mod trial;
pub mod webhooks;

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// Declares `$route`, the lazy route that renders the component `$page`. The page loads its
/// own data (its resources), so the route has none of its own to start early.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                component_view($page, ()).into_any()
            }
        }
    };
}

lazy_page!(
    /// `/`: the organizations and projects the caller can see.
    OverviewRoute => overview::OverviewPage
);
lazy_page!(
    /// `/sign-in`.
    SignInRoute => sign_in::SignInPage
);
lazy_page!(
    /// `/api-keys`: the caller's personal API keys.
    ApiKeysRoute => api_keys::ApiKeysPage
);
lazy_page!(
    /// `/orgs/:org_id`: an organization's projects, endpoints and trial.
    OrgRoute => org::OrgPage
);
lazy_page!(
    /// `/orgs/:org_id/activity`: the organization's audit log.
    ActivityRoute => activity::ActivityPage
);
lazy_page!(
    /// `/projects/:project_id`: the project's Network Security page.
    ProjectRoute => project::ProjectPage
);
lazy_page!(
    /// `/projects/:project_id/setup/:step`: the guided setup.
    SetupRoute => setup::SetupPage
);
lazy_page!(
    /// `/operator`: the operator area.
    OperatorRoute => operator::OperatorPage
);
lazy_page!(
    /// `/orgs/:org_id/webhooks`: the organization's webhook receivers and deliveries.
    WebhooksRoute => webhooks::WebhooksPage
);
