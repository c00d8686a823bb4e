//! An organization's Activity page: every change in its audit log (endpoints and their states,
//! restrictions, settings, trials, keys, members) with who, before → after, when and the
//! request id, narrowed by project, endpoint and actor, older pages below, and the same as CSV.
//! The filters are a plain GET form, so the page works the same without JavaScript; any member
//! may read it; non-members get "not found".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::domain::{format_time, ActivityEntry, ActivityPageView, ErrorCode};
use crate::server_fns::org_activity;

#[component]
pub fn ActivityPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let request = move || {
        let q = query.read();
        (
            params.read().get("org_id").unwrap_or_default(),
            q.get("project_id").unwrap_or_default(),
            q.get("vpc_endpoint_id").unwrap_or_default(),
            q.get("actor").unwrap_or_default(),
            q.get("cursor").and_then(|c| c.parse::<i64>().ok()),
        )
    };
    let page = Resource::new(request, |(org, project, endpoint, actor, cursor)| {
        org_activity(org, project, endpoint, actor, cursor)
    });

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the activity…"</p> }>
            {move || {
                page.get()
                    .map(|result| match result {
                        Ok(view) => view! { <ActivityBody view/> }.into_any(),
                        Err(e) if e.code == ErrorCode::Unauthenticated => view! {
                            <Title text="Sign in"/>
                            <section class="panel">
                                <p>"Sign in to see this organization's activity."</p>
                                <a class="button" href="/sign-in">"Sign in"</a>
                            </section>
                        }
                            .into_any(),
                        Err(e) if e.code == ErrorCode::InvalidInput => view! {
                            <Title text="Activity"/>
                            <section class="panel">
                                <p class="error" role="alert" data-testid="filter-error">{e.for_people()}</p>
                                <a class="button" href=move || format!("/orgs/{}/activity", request().0)>"Show all activity"</a>
                            </section>
                        }
                            .into_any(),
                        Err(e) if e.code == ErrorCode::InternalError => view! {
                            <p class="error" role="alert" data-testid="server-error">{e.for_people()}</p>
                        }
                            .into_any(),
                        Err(_) => view! { <crate::pages::org::OrgNotFound/> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn ActivityBody(view: ActivityPageView) -> impl IntoView {
    let ActivityPageView {
        org,
        projects,
        filter,
        entries,
        next_cursor,
    } = view;
    let base = format!("/orgs/{}/activity", org.id);
    let query = filter.query();
    let csv = if query.is_empty() {
        format!("{base}.csv")
    } else {
        format!("{base}.csv?{query}")
    };
    let older = next_cursor.map(|cursor| {
        if query.is_empty() {
            format!("{base}?cursor={cursor}")
        } else {
            format!("{base}?{query}&cursor={cursor}")
        }
    });
    let chosen_project = filter.project_id.as_ref().map(|p| p.to_string());
    let endpoint = filter
        .vpc_endpoint_id
        .as_ref()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let actor = filter.actor.clone().unwrap_or_default();
    let count = entries.len();
    view! {
        <Title text=format!("Activity · {}", org.name)/>
        <nav class="muted" aria-label="Breadcrumb">
            <a href=format!("/orgs/{}", org.id)>{org.name.clone()}</a>
            " / Activity"
        </nav>
        <h1>"Activity"</h1>
        <p class="muted">"Every change to this organization's private networking, keys and members, newest first: who made it, what it was before and after, and the request that made it."</p>
        <section class="panel" aria-labelledby="filter-heading">
            <h2 id="filter-heading">"Filter"</h2>
            <form method="get" action=base.clone() class="filters" data-testid="activity-filter">
                <label for="filter-project">"Project"</label>
                <select id="filter-project" name="project_id">
                    <option value="" selected=chosen_project.is_none()>"All projects"</option>
                    {projects.into_iter().map(|(id, name)| {
                        let selected = chosen_project.as_deref() == Some(id.as_str());
                        view! { <option value=id.clone() selected=selected>{format!("{name} ({id})")}</option> }
                    }).collect_view()}
                </select>
                <label for="filter-endpoint">"VPC endpoint"</label>
                <input id="filter-endpoint" name="vpc_endpoint_id" value=endpoint placeholder="vpce-…" autocomplete="off"/>
                <label for="filter-actor">"Actor"</label>
                <input id="filter-actor" name="actor" value=actor placeholder="email or API key name" autocomplete="off"/>
                <div class="actions">
                    <button type="submit" class="button">"Show"</button>
                    <a class="button secondary" href=base.clone()>"Clear"</a>
                    <a class="button secondary" href=csv download="" data-testid="activity-csv">"Export CSV"</a>
                </div>
            </form>
        </section>
        <section class="panel" aria-labelledby="entries-heading">
            <h2 id="entries-heading">"Changes"</h2>
            <p class="muted" role="status">{format!("{count} change{} shown.", if count == 1 { "" } else { "s" })}</p>
            {if entries.is_empty() {
                view! { <p class="muted" data-testid="no-activity">"No changes match."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="activity-table" data-testid="activity">
                            <thead>
                                <tr>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"What"</th>
                                    <th scope="col">"Before → after"</th>
                                    <th scope="col">"Request"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {entries.into_iter().map(|e| view! { <EntryRow e/> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            {older.map(|href| view! { <a class="button secondary" href=href data-testid="older">"Older changes"</a> })}
        </section>
    }
}

#[component]
fn EntryRow(e: ActivityEntry) -> impl IntoView {
    let change = match (&e.before, &e.after) {
        (None, None) => "—".to_string(),
        (before, after) => format!(
            "{} → {}",
            before.as_deref().unwrap_or("—"),
            after.as_deref().unwrap_or("—")
        ),
    };
    view! {
        <tr data-action=e.action.clone()>
            <td data-label="When">{format_time(e.at_ms)}</td>
            <td data-label="Who">{e.actor.clone()}<br/><span class="muted">{e.actor_kind.replace('_', " ")}</span></td>
            <td data-label="What"><code>{e.action.clone()}</code><br/><code class="muted">{e.target.clone()}</code></td>
            <td data-label="Before → after"><code class="wrap">{change}</code></td>
            <td data-label="Request"><code class="muted">{e.request_id.clone().unwrap_or_else(|| "—".into())}</code></td>
        </tr>
    }
}
