//! An organization's page: its projects and its private-networking endpoints across regions.
//! Admins get the forms that change things; members see the same information read-only with
//! the names of the admins who can make changes. Non-members get "not found".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::change_form::{change_action, ChangeForm, Outcome};
use crate::components::endpoint_form::{AssignEndpointForm, RegionChoice};
use crate::components::live::{FollowLive, LivePart};
use crate::domain::{AllowedAccountView, EndpointSummary, OrgPageView, ProjectSummary};
use crate::server_fns::changes::{
    AllowAwsAccount, AssignEndpoint, DisallowAwsAccount, RemoveEndpoint,
};
use crate::server_fns::org_page;

#[component]
pub fn OrgPage() -> impl IntoView {
    let params = use_params_map();
    let org_id = move || params.read().get("org_id").unwrap_or_default();
    let page = Resource::new(org_id, org_page);
    // The page's change actions, made at its root (see `change_action`).
    change_action::<AssignEndpoint>();
    change_action::<RemoveEndpoint>();
    change_action::<AllowAwsAccount>();
    change_action::<DisallowAwsAccount>();
    let current = Signal::derive(move || page.get().and_then(|r| r.ok()).map(|v| v.live_version));

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the organization…"</p> }>
            {move || {
                page.get()
                    .map(|result| match result {
                        Ok(view) => view! { <OrgBody view/> }.into_any(),
                        Err(e) if e.code == crate::domain::ErrorCode::Unauthenticated => {
                            view! {
                                <Title text="Sign in"/>
                                <section class="panel">
                                    <p>"Sign in to see this organization."</p>
                                    <a class="button" href="/sign-in">"Sign in"</a>
                                </section>
                            }
                                .into_any()
                        }
                        // Our failure is not "not found": say so, with what to do.
                        Err(e) if e.code == crate::domain::ErrorCode::InternalError => view! {
                            <p class="error" role="alert" data-testid="server-error">{e.for_people()}</p>
                        }.into_any(),
                        Err(_) => view! { <OrgNotFound/> }.into_any(),
                    })
            }}
        </Transition>
        <FollowLive url=Signal::derive(move || format!("/events/orgs/{}", org_id())) current/>
    }
}

/// "Not found" (404) for an organization that does not exist or the viewer is not a member of.
#[component]
pub fn OrgNotFound() -> impl IntoView {
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

/// The organization's sections. Each one that shows data is a live part, which a live update
/// replaces; the forms with text fields are not, so an update never takes away what is being
/// typed.
#[component]
fn OrgBody(view: OrgPageView) -> impl IntoView {
    let org_id = view.org.id.clone();
    let flash = view.flash.clone();
    let data = Signal::stored(view);
    let is_admin = move || data.with(|v| v.org.role == crate::domain::Role::Admin);
    let admin_list = move || {
        data.with(|v| {
            if v.admins.is_empty() {
                "none yet".to_string()
            } else {
                v.admins.join(", ")
            }
        })
    };
    let assign_form = Memo::new(move |_| {
        data.with(|v| {
            (v.org.role == crate::domain::Role::Admin && v.entitled)
                .then(|| (v.org.id.clone(), v.regions.clone()))
        })
    });
    view! {
        <section class="panel" aria-labelledby="org-heading">
            <LivePart id="org-summary">{move || data.with(|v| view! {
                <Title text=v.org.name.clone()/>
                <h1 id="org-heading">{v.org.name.clone()}</h1>
                <dl class="facts">
                    <div><dt>"Organization id"</dt><dd><code>{v.org.id.clone()}</code></dd></div>
                    <div><dt>"Plan"</dt><dd>{v.org.plan.as_str()}</dd></div>
                    <div><dt>"Your role"</dt><dd data-testid="role">{v.org.role.as_str()}</dd></div>
                    <div><dt>"Admins"</dt><dd>{admin_list()}</dd></div>
                </dl>
                <p><a href=format!("/orgs/{}/activity", v.org.id) data-testid="org-activity">"Activity: every change, who made it, before and after"</a></p>
                {(v.org.role == crate::domain::Role::Admin).then(|| view! {
                    <p><a href=format!("/orgs/{}/webhooks", v.org.id) data-testid="org-webhooks">"Webhooks: tell your systems when endpoints, settings and trials change"</a></p>
                })}
                {(v.org.role != crate::domain::Role::Admin).then(|| view! {
                    <p class="note" data-testid="read-only-note">
                        "You can see everything here, but only the organization's admins can change it: "
                        {admin_list()} "."
                    </p>
                })}
                {(!v.entitled).then(|| view! {
                    <p class="note warn">
                        "Private networking is not included in the " {v.org.plan.as_str()}
                        " plan. It is part of the Scale, Business and Enterprise plans; existing settings stay in force."
                    </p>
                })}
            })}</LivePart>
            <Outcome initial=flash/>
        </section>
        <LivePart id="org-projects">{move || view! { <ProjectsPanel projects=data.with(|v| v.projects.clone())/> }}</LivePart>
        <section class="panel" aria-labelledby="endpoints-heading">
            <h2 id="endpoints-heading">"Private networking: VPC endpoints"</h2>
            {move || is_admin().then(|| view! {
                <p class="muted">
                    "Removing an endpoint is permanent: the same endpoint id can never be assigned to this organization again."
                </p>
            })}
            <LivePart id="org-endpoints">{move || {
                let org_id = org_id.clone();
                view! { <EndpointsTable endpoints=data.with(|v| v.endpoints.clone()) is_admin=is_admin() org_id/> }
            }}</LivePart>
            {move || assign_form.get().map(|(org_id, regions)| view! {
                <AssignEndpointForm org_id regions=RegionChoice::Any(regions)/>
            })}
        </section>
        <AllowedAccounts data/>
    }
    .into_any()
}

/// The AWS accounts allowed to create endpoints for the organization: endpoints owned by
/// any other account are rejected. Removing one is always possible; adding needs the feature.
#[component]
fn AllowedAccounts(data: Signal<OrgPageView>) -> impl IntoView {
    let allow_form = Memo::new(move |_| {
        data.with(|v| {
            (v.org.role == crate::domain::Role::Admin && v.entitled).then(|| v.org.id.clone())
        })
    });
    let allow = change_action::<AllowAwsAccount>();
    view! {
        <section class="panel" aria-labelledby="accounts-heading">
            <h2 id="accounts-heading">"Allowed AWS accounts"</h2>
            <p class="muted">
                "Only endpoints created from these AWS accounts are accepted. The platform's endpoint services allow exactly the accounts listed here."
            </p>
            <LivePart id="org-accounts">{move || data.with(|v| view! {
                <AccountsTable
                    accounts=v.allowed_accounts.clone()
                    is_admin=v.org.role == crate::domain::Role::Admin
                    org_id=v.org.id.clone()
                />
            })}</LivePart>
            {move || allow_form.get().map(|org_id| view! {
                <ChangeForm action=allow attr:class="stack">
                    <input type="hidden" name="org_id" value=org_id/>
                    <label for="aws-account-id">"AWS account id"</label>
                    <input id="aws-account-id" name="aws_account_id" required inputmode="numeric"
                        autocomplete="off" placeholder="123456789012"
                        aria-describedby="aws-account-id-help"/>
                    <p id="aws-account-id-help" class="muted">"12 digits (top right of the AWS console), or an IAM ARN."</p>
                    <label for="aws-account-note">"Note (optional)"</label>
                    <input id="aws-account-note" name="note" maxlength="64" autocomplete="off"/>
                    <button type="submit">"Allow account"</button>
                </ChangeForm>
            })}
        </section>
    }
}

/// The allowed accounts, with a remove button each for admins.
#[component]
fn AccountsTable(
    accounts: Vec<AllowedAccountView>,
    is_admin: bool,
    org_id: String,
) -> impl IntoView {
    let remove = change_action::<DisallowAwsAccount>();
    let rows_org = org_id;
    if accounts.is_empty() {
        return view! { <p class="muted" data-testid="no-accounts">"No AWS account is allowed yet."</p> }.into_any();
    }
    view! {
                    <div class="table-wrap">
                        <table data-testid="allowed-accounts">
                            <thead>
                                <tr>
                                    <th scope="col">"AWS account"</th>
                                    <th scope="col">"Note"</th>
                                    {is_admin.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                                </tr>
                            </thead>
                            <tbody>
                                {accounts.into_iter().map(|a| {
                                    let name = format!("Stop allowing {}", a.account_id);
                                    let row_org = rows_org.clone();
                                    view! {
                                        <tr>
                                            <td><code>{a.account_id.clone()}</code></td>
                                            <td>{a.note}</td>
                                            {is_admin.then(|| view! {
                                                <td>
                                                    <ChangeForm action=remove attr:class="inline-form">
                                                        <input type="hidden" name="org_id" value=row_org/>
                                                        <input type="hidden" name="aws_account_id" value=a.account_id.clone()/>
                                                        <button type="submit" class="secondary" aria-label=name>"Remove"</button>
                                                    </ChangeForm>
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
    org_id: String,
) -> impl IntoView {
    if endpoints.is_empty() {
        return view! { <p class="muted">"No VPC endpoints are assigned yet."</p> }.into_any();
    }
    let query = use_query_map();
    let removing = move || query.read().get("remove");
    let assign = change_action::<AssignEndpoint>();
    let confirm_org = org_id.clone();
    let org_url = format!("/orgs/{org_id}");
    let confirm_list = endpoints.clone();
    view! {
        {move || {
            let target = removing()?;
            let e = confirm_list.iter().find(|e| e.vpc_endpoint_id == target)?.clone();
            Some(view! { <RemoveConfirmation e org_id=confirm_org.clone() cancel=org_url.clone() is_admin/> })
        }}
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Endpoint id"</th>
                        <th scope="col">"Region"</th>
                        <th scope="col">"Label"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Restricted projects"</th>
                        {is_admin.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {endpoints.into_iter().map(|e| {
                        let relabel = format!("Label for {}", e.vpc_endpoint_id);
                        let save = format!("Save the label of {}", e.vpc_endpoint_id);
                        let remove = format!("Remove endpoint {}…", e.vpc_endpoint_id);
                        let remove_href = format!("/orgs/{org_id}?remove={}", e.vpc_endpoint_id);
                        let row_org = org_id.clone();
                        view! {
                            <tr>
                                <td><code>{e.vpc_endpoint_id.clone()}</code></td>
                                <td>{e.region_id.clone()}</td>
                                <td>
                                    {if is_admin {
                                        view! {
                                            <ChangeForm action=assign attr:class="inline-form relabel">
                                                <input type="hidden" name="org_id" value=row_org/>
                                                <input type="hidden" name="region_id" value=e.region_id.clone()/>
                                                <input type="hidden" name="vpc_endpoint_id" value=e.vpc_endpoint_id.clone()/>
                                                <input type="text" name="label" maxlength="64" value=e.label.clone() aria-label=relabel/>
                                                <button type="submit" class="button secondary small" aria-label=save>"Save"</button>
                                            </ChangeForm>
                                        }.into_any()
                                    } else {
                                        view! { <span>{e.label.clone()}</span> }.into_any()
                                    }}
                                </td>
                                <td>
                                    <span class=format!("badge state-{}", e.state)>{e.state.as_str()}</span>
                                    {e.rejection_reason.clone().map(|r| view! { <br/><span class="muted">{r}</span> })}
                                    <crate::pages::project::LastConnection state=e.state last=e.last_connection.clone()/>
                                </td>
                                <td>
                                    {if e.restricted_projects.is_empty() {
                                        view! { <span class="muted">"None"</span> }.into_any()
                                    } else {
                                        view! { <span>{e.restricted_projects.join(", ")}</span> }.into_any()
                                    }}
                                </td>
                                {is_admin.then(|| view! {
                                    <td><a class="button danger small" href=remove_href aria-label=remove>"Remove…"</a></td>
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

/// Removing is permanent, so it is confirmed on its own form; while projects restrict to the
/// endpoint it cannot be removed at all, and the form says which projects to change first.
#[component]
fn RemoveConfirmation(
    e: EndpointSummary,
    org_id: String,
    cancel: String,
    is_admin: bool,
) -> impl IntoView {
    if !is_admin {
        return ().into_any();
    }
    let blocked = !e.restricted_projects.is_empty();
    let remove = change_action::<RemoveEndpoint>();
    view! {
        <ChangeForm action=remove attr:class="stack confirm" attr:aria-labelledby="remove-heading" attr:data-testid="remove-confirmation">
            <h3 id="remove-heading">"Remove " <code>{e.vpc_endpoint_id.clone()}</code> "?"</h3>
            <input type="hidden" name="org_id" value=org_id/>
            <input type="hidden" name="region_id" value=e.region_id.clone()/>
            <input type="hidden" name="vpc_endpoint_id" value=e.vpc_endpoint_id.clone()/>
            {if blocked {
                view! {
                    <p class="error" role="alert">
                        "It cannot be removed while these projects restrict to it: "
                        {e.restricted_projects.join(", ")}
                        ". Lift those restrictions first, so that no project's access changes by accident."
                    </p>
                    <div class="row"><a class="button secondary" href=cancel.clone()>"Back"</a></div>
                }.into_any()
            } else {
                view! {
                    <p class="error" role="alert">
                        "This is permanent: the same endpoint id can never be assigned to this organization again. Connections through it stop."
                    </p>
                    {e.remove_impact.clone().map(|impact| view! {
                        <p class="error" data-testid="remove-impact">{impact}</p>
                        <label class="check">
                            <input type="checkbox" name="acknowledge"/>
                            " I understand that these connections will be refused"
                        </label>
                    })}
                    <div class="row">
                        <button type="submit" class="button danger">"Remove for good"</button>
                        <a class="button secondary" href=cancel.clone()>"Cancel"</a>
                    </div>
                }.into_any()
            }}
        </ChangeForm>
    }
    .into_any()
}
