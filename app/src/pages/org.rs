//! An organization's page: its projects and its private-networking endpoints across regions.
//! Admins get the forms that change things; members see the same information read-only with
//! the names of the admins who can make changes. Non-members get "not found".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::session::CsrfField;
use crate::domain::{EndpointSummary, OrgPageView, ProjectSummary, VpcEndpointId};
use crate::server_fns::{org_page, SIGN_IN_FIRST};

#[component]
pub fn OrgPage() -> impl IntoView {
    let params = use_params_map();
    let org_id = move || params.read().get("org_id").unwrap_or_default();
    let page = Resource::new(org_id, org_page);

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the organization…"</p> }>
            {move || {
                page.get()
                    .map(|result| match result {
                        Ok(view) => view! { <OrgBody view/> }.into_any(),
                        Err(e) if e.to_string().contains(SIGN_IN_FIRST) => {
                            view! {
                                <Title text="Sign in"/>
                                <section class="panel">
                                    <p>"Sign in to see this organization."</p>
                                    <a class="button" href="/sign-in">"Sign in"</a>
                                </section>
                            }
                                .into_any()
                        }
                        Err(_) => view! { <OrgNotFound/> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn OrgNotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Not found"/>
        <section class="panel">
            <h1>"Organization not found"</h1>
            <p>"This organization does not exist, or you are not a member of it. "
                <a href="/">"Back to your organizations"</a>"."</p>
        </section>
    }
}

#[component]
fn OrgBody(view: OrgPageView) -> impl IntoView {
    let OrgPageView {
        org,
        admins,
        entitled,
        projects,
        endpoints,
        regions,
        flash,
    } = view;
    let is_admin = org.role == "admin";
    let admin_list = if admins.is_empty() {
        "none yet".to_string()
    } else {
        admins.join(", ")
    };
    let action = format!("/orgs/{}/endpoints/assign", org.id);
    let remove_action = format!("/orgs/{}/endpoints/remove", org.id);
    view! {
        <Title text=org.name.clone()/>
        <section class="panel" aria-labelledby="org-heading">
            <h1 id="org-heading">{org.name.clone()}</h1>
            <dl class="facts">
                <div><dt>"Organization id"</dt><dd><code>{org.id.clone()}</code></dd></div>
                <div><dt>"Plan"</dt><dd>{org.plan.clone()}</dd></div>
                <div><dt>"Your role"</dt><dd data-testid="role">{org.role.clone()}</dd></div>
                <div><dt>"Admins"</dt><dd>{admin_list.clone()}</dd></div>
            </dl>
            {(!is_admin).then(|| view! {
                <p class="note" data-testid="read-only-note">
                    "You can see everything here, but only the organization's admins can change it: "
                    {admin_list.clone()} "."
                </p>
            })}
            {(!entitled).then(|| view! {
                <p class="note warn">
                    "Private networking is not included in the " {org.plan.clone()}
                    " plan. It is part of the Scale, Business and Enterprise plans; existing settings stay in force."
                </p>
            })}
            <div role="status" aria-live="polite">
                {flash.map(|f| view! {
                    <p class=if f.ok { "notice" } else { "error" } data-testid="flash">{f.message}</p>
                })}
            </div>
        </section>
        <ProjectsPanel projects/>
        <section class="panel" aria-labelledby="endpoints-heading">
            <h2 id="endpoints-heading">"Private networking: VPC endpoints"</h2>
            {is_admin.then(|| view! {
                <p class="muted">
                    "Removing an endpoint is permanent: the same endpoint id can never be assigned to this organization again."
                </p>
            })}
            <EndpointsTable endpoints is_admin remove_action/>
            {(is_admin && entitled).then(|| view! { <AssignForm action regions/> })}
        </section>
    }
}

#[component]
fn ProjectsPanel(projects: Vec<ProjectSummary>) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="projects-heading">
            <h2 id="projects-heading">"Projects"</h2>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Region"</th>
                            <th scope="col">"Host name"</th>
                            <th scope="col">"Public access"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {projects.into_iter().map(|p| view! {
                            <tr>
                                <td><a href=format!("/projects/{}", p.id)>{p.name}</a><br/><code class="muted">{p.id}</code></td>
                                <td>{p.region_id}</td>
                                <td><code>{p.hostname}</code></td>
                                <td>{if p.block_public_connections { "Blocked" } else { "Allowed" }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn EndpointsTable(
    endpoints: Vec<EndpointSummary>,
    is_admin: bool,
    remove_action: String,
) -> impl IntoView {
    if endpoints.is_empty() {
        return view! { <p class="muted">"No VPC endpoints are assigned yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Endpoint id"</th>
                        <th scope="col">"Region"</th>
                        <th scope="col">"Label"</th>
                        <th scope="col">"State"</th>
                        {is_admin.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {endpoints.into_iter().map(|e| {
                        let remove_action = remove_action.clone();
                        let label = format!("Remove endpoint {}", e.vpc_endpoint_id);
                        view! {
                            <tr>
                                <td><code>{e.vpc_endpoint_id.clone()}</code></td>
                                <td>{e.region_id.clone()}</td>
                                <td>{e.label.clone()}</td>
                                <td>
                                    <span class=format!("badge state-{}", e.state)>{e.state.clone()}</span>
                                    {e.rejection_reason.map(|r| view! { <br/><span class="muted">{r}</span> })}
                                </td>
                                {is_admin.then(|| view! {
                                    <td>
                                        <form method="post" action=remove_action class="inline-form">
                                            <CsrfField/>
                                            <input type="hidden" name="region_id" value=e.region_id.clone()/>
                                            <input type="hidden" name="vpc_endpoint_id" value=e.vpc_endpoint_id.clone()/>
                                            <button type="submit" class="button danger small" aria-label=label>"Remove"</button>
                                        </form>
                                    </td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
        .into_any()
}

/// Assign form. Once hydrated, the endpoint id is checked as it is typed with the same parser
/// the server uses; the server checks it again along with ownership, limit and history.
#[component]
fn AssignForm(action: String, regions: Vec<String>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let problem = move || {
        let value = typed.get();
        if value.trim().is_empty() {
            return None;
        }
        VpcEndpointId::parse(&value).err().map(|e| e.message)
    };
    view! {
        <form method="post" action=action class="stack" aria-labelledby="assign-heading">
            <h3 id="assign-heading">"Assign a VPC endpoint"</h3>
            <CsrfField/>
            <label for="assign-region">"Region"</label>
            <select id="assign-region" name="region_id">
                {regions.into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
            </select>
            <label for="assign-endpoint">"VPC endpoint id"</label>
            <input
                id="assign-endpoint"
                name="vpc_endpoint_id"
                type="text"
                required
                placeholder="vpce-1234567890abcdef0"
                autocomplete="off"
                spellcheck="false"
                aria-describedby="assign-endpoint-help"
                on:input=move |ev| typed.set(event_target_value(&ev))
            />
            <p id="assign-endpoint-help" class="muted" aria-live="polite">
                {move || problem().map(|p| view! { <span class="error">"VPC endpoint id " {p}</span> })}
            </p>
            <label for="assign-label">"Label (optional)"</label>
            <input id="assign-label" name="label" type="text" maxlength="64"/>
            <button type="submit" class="button">"Assign endpoint"</button>
        </form>
    }
}
