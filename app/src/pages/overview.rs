//! The overview page: what Enclave is and the live state of this control plane.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::domain::{ConsoleError, StatusReport, SystemStatus};
use crate::server_fns::get_system_status;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_system_status());

    view! {
        <Title text="Overview"/>
        <section class="panel intro">
            <h1>"Private networking for your Postgres projects"</h1>
            <p>
                "Enclave connects your AWS VPCs to your databases over PrivateLink, limits which "
                "VPC endpoints may reach each project, and can shut the public internet out."
            </p>
        </section>
        <YourOrganizations/>
        <Suspense fallback=|| view! { <p class="muted">"Reading status…"</p> }>
            {move || status.get().map(|initial| view! { <StatusPanel initial/> })}
        </Suspense>
    }
}

/// The control plane's status as read when the page was rendered, and "Check again" (an
/// island: the button reads it again in place).
#[island]
fn StatusPanel(initial: Result<StatusReport, ConsoleError>) -> impl IntoView {
    let report = RwSignal::new(initial);
    let checks = RwSignal::new(1u32);
    let check_again = move |_| {
        checks.update(|n| *n += 1);
        leptos::task::spawn_local(async move {
            report.set(get_system_status().await);
        });
    };
    view! {
        <section class="panel" aria-labelledby="status-heading">
            <div class="panel-head">
                <h2 id="status-heading">"Control plane status"</h2>
                <button type="button" class="button secondary" on:click=check_again>
                    "Check again"
                </button>
            </div>
            <div role="status" aria-live="polite" class="status-body">
                {move || match report.get() {
                    Ok(StatusReport { detail: Some(s), .. }) => view! { <StatusTable status=s/> }.into_any(),
                    Ok(StatusReport { detail: None, .. }) => view! {
                        <p data-testid="reachable">"The control plane and its database are answering."</p>
                        <p class="muted">"Operators see the database, schema version and counts here."</p>
                    }
                    .into_any(),
                    Err(e) => view! {
                        <p class="error">"Could not read the status: " {e.for_people()}</p>
                    }
                    .into_any(),
                }}
                <p class="muted checks">
                    {move || match checks.get() {
                        1 => "Checked once since this page opened.".to_string(),
                        n => format!("Checked {n} times since this page opened."),
                    }}
                </p>
            </div>
        </section>
    }
}

#[component]
fn StatusTable(status: SystemStatus) -> impl IntoView {
    view! {
        <dl class="facts">
            <div>
                <dt>"Database"</dt>
                <dd data-testid="database">{status.database.display_name()}</dd>
            </div>
            <div>
                <dt>"Schema version"</dt>
                <dd data-testid="schema">
                    {format!("{} — {}", status.schema_version, status.schema_description)}
                </dd>
            </div>
            <div>
                <dt>"Organizations"</dt>
                <dd data-testid="organizations">{status.organizations}</dd>
            </div>
            <div>
                <dt>"Projects"</dt>
                <dd data-testid="projects">{status.projects}</dd>
            </div>
            <div>
                <dt>"Server version"</dt>
                <dd>{status.server_version}</dd>
            </div>
        </dl>
    }
}

/// The signed-in person's organizations, or why they need one.
#[component]
fn YourOrganizations() -> impl IntoView {
    use crate::components::session::{use_session, OrgsResource};
    let orgs = use_context::<OrgsResource>();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let signed_in = use_session()
                    .and_then(|s| s.get())
                    .and_then(Result::ok)
                    .and_then(|v| v.user)
                    .is_some();
                if !signed_in {
                    return None;
                }
                let list = orgs.and_then(|o| o.get()).and_then(Result::ok).unwrap_or_default();
                Some(if list.is_empty() {
                    view! {
                        <section class="panel" aria-labelledby="orgs-heading" data-testid="no-org">
                            <h2 id="orgs-heading">"You are not in an organization yet"</h2>
                            <p>
                                "Private networking belongs to an organization: its VPC endpoints are "
                                "assigned per organization and region, and its admins decide which "
                                "endpoints may reach each project. Ask an admin of your organization to "
                                "add you, or ask your platform operator to create an organization for you."
                            </p>
                        </section>
                    }
                        .into_any()
                } else {
                    view! {
                        <section class="panel" aria-labelledby="orgs-heading">
                            <h2 id="orgs-heading">"Your organizations"</h2>
                            <ul class="org-list">
                                {list.into_iter().map(|o| view! {
                                    <li>
                                        <a href=format!("/orgs/{}", o.id)>{o.name}</a>
                                        " "<span class="muted">{format!("{} plan · {}", o.plan, o.role)}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </section>
                    }
                        .into_any()
                })
            }}
        </Suspense>
    }
}
