//! The Enclave console: the Leptos application rendered on the server, its islands (the
//! interactive parts, the only components compiled to wasm and hydrated in the browser), the
//! server functions it calls, and the domain types both sides share.
//!
//! Nothing in this crate talks to a database. On the server, server functions reach the
//! service layer through the [`backend::ConsoleBackend`] trait, which the `enclave` binary
//! implements and provides as Leptos context.
// The page views are deep nested types; hydrating them needs more than the default 128.
#![recursion_limit = "256"]

pub mod components;
pub mod domain;
pub mod pages;
pub mod server_fns;
pub mod session;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

/// The HTML document around the application, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="enclave"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The console application: header, navigation and routed pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    // Who is signed in and the CSRF token, read once per page load (sign-in and sign-out are
    // full page loads) and shared with every component.
    let session: components::session::SessionResource =
        Resource::new(|| (), |_| server_fns::current_session());
    provide_context(session);
    let orgs: components::session::OrgsResource =
        Resource::new(|| (), |_| server_fns::my_organizations());
    provide_context(orgs);

    view! {
        <Title formatter=|text: String| if text.is_empty() { "Enclave".to_string() } else { format!("{text} · Enclave") }/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="site-header">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    <span class="brand-name">"Enclave"</span>
                </A>
                <nav aria-label="Main">
                    <ul class="nav-list">
                        <li><A href="/">"Overview"</A></li>
                        <li><A href="/api-keys">"API keys"</A></li>
                        <components::session::OperatorLink/>
                    </ul>
                </nav>
                <components::session::OrgSwitcher/>
                <components::session::AccountMenu/>
            </header>
            // `data-hydrated` turns "true" in the browser once the page's islands have hydrated
            // (set by `PageScripts`, the last island on the page).
            <main id="main" tabindex="-1" data-hydrated="false">
                <Routes fallback=pages::not_found::NotFound>
                    // Async SSR: the server waits for the page's data and sends complete HTML, so
                    // every page reads correctly before (or without) the wasm.
                    <Route path=path!("") view=pages::overview::OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("sign-in") view=pages::sign_in::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("api-keys") view=pages::api_keys::ApiKeysPage ssr=SsrMode::Async/>
                    <Route path=path!("orgs/:org_id") view=pages::org::OrgPage ssr=SsrMode::Async/>
                    <Route path=path!("orgs/:org_id/activity") view=pages::activity::ActivityPage ssr=SsrMode::Async/>
                    <Route path=path!("orgs/:org_id/webhooks") view=pages::webhooks::WebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("projects/:project_id") view=pages::project::ProjectPage ssr=SsrMode::Async/>
                    <Route path=path!("projects/:project_id/setup/:step") view=pages::setup::SetupPage ssr=SsrMode::Async/>
                    <Route path=path!("operator") view=pages::operator::OperatorPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <components::page_scripts::PageScripts/>
            <footer class="site-footer">
                <p>"Enclave — private networking for managed Postgres"</p>
            </footer>
        </Router>
    }
}
