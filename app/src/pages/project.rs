//! A project's Network Security page: public access and its switch (with the lockout
//! interlock), the organization's endpoints in the project's region with their states and
//! the project's restrictions, service-name coverage, limit usage, host name and recent
//! activity. Admins get the forms; members see the same read-only.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::change_form::{change_action, ChangeForm, Outcome};
use crate::components::live::{FollowLive, LivePart};
use crate::domain::{
    format_time, AllowedIpView, DeniedConnectionView, LastConnectionView, ProjectEndpointView,
    ProjectPageView, RolloutState, RolloutView,
};
use crate::server_fns::changes::{
    AddAllowedIp, RemoveAllowedIp, RequestTrial, RestrictProject, SetPublicAccess, SetReportOnly,
    UnrestrictProject,
};
use crate::server_fns::project_page;

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let project_id = move || params.read().get("project_id").unwrap_or_default();
    let page = Resource::new(project_id, project_page);
    // The page's change actions, made at its root (see `change_action`).
    change_action::<SetPublicAccess>();
    change_action::<SetReportOnly>();
    change_action::<AddAllowedIp>();
    change_action::<RemoveAllowedIp>();
    change_action::<RestrictProject>();
    change_action::<UnrestrictProject>();
    change_action::<RequestTrial>();
    let current = Signal::derive(move || page.get().and_then(|r| r.ok()).map(|v| v.live_version));

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the project…"</p> }>
            {move || {
                page.get()
                    .map(|result| match result {
                        Ok(view) => view! { <ProjectBody view/> }.into_any(),
                        Err(e) if e.code == crate::domain::ErrorCode::Unauthenticated => {
                            view! { <SignInFirst/> }.into_any()
                        }
                        // Our failure is not "not found": say so, with what to do.
                        Err(e) if e.code == crate::domain::ErrorCode::InternalError => view! {
                            <p class="error" role="alert" data-testid="server-error">{e.for_people()}</p>
                        }.into_any(),
                        Err(_) => view! { <crate::pages::not_found::NotFound/> }.into_any(),
                    })
            }}
        </Transition>
        <FollowLive url=Signal::derive(move || format!("/events/projects/{}", project_id())) current/>
    }
}

/// What a project page shows to someone who is not signed in.
#[component]
pub fn SignInFirst() -> impl IntoView {
    view! {
        <Title text="Sign in"/>
        <section class="panel">
            <p>"Sign in to see this project."</p>
            <a class="button" href="/sign-in">"Sign in"</a>
        </section>
    }
}

/// Public internet access: its state and, for admins, the switch with its confirmations.
/// Blocking while no accepted endpoint can reach the project needs the lockout acknowledged.
#[component]
pub fn PublicAccess(
    block_public_connections: bool,
    rollout: RolloutView,
    block_vpc_connections: bool,
    /// May block (tighten).
    can_change: bool,
    /// May also allow again (loosen): needs the entitlement.
    #[prop(default = true)]
    can_loosen: bool,
    /// Report-only blocking of public connections is on.
    #[prop(default = false)]
    report_only: bool,
    /// What blocking would refuse, when it needs a confirmation.
    #[prop(default = None)]
    block_impact: Option<String>,
    reachable_privately: bool,
    project_id: String,
    /// The page the confirmation links and "Cancel" lead back to.
    here: String,
    /// A setup step to come back to after the post.
    #[prop(optional)]
    return_to: Option<String>,
) -> impl IntoView {
    let query = use_query_map();
    let confirm = move || query.read().get("confirm");
    view! {
            <p data-testid="public-state">
                {if block_public_connections { "Blocked" } else { "Allowed" }}
            </p>
            <p data-testid="rollout" data-state=rollout.state.as_str() role="status"
                class=if rollout.state == RolloutState::Applied { "muted" } else { "note warn" }>
                {rollout.describe()}
            </p>
            {block_vpc_connections.then(|| view! { <p class="note warn">"VPC connections are blocked for this project."</p> })}
            {(report_only && !block_public_connections).then(|| view! {
                <p class="note" data-testid="report-only">
                    "Report-only: public connections are let through, and each is recorded below as one blocking would refuse."
                </p>
            })}
            {(can_change && !block_public_connections).then(|| {
                let report = change_action::<SetReportOnly>();
                let return_to = return_to.clone();
                let project_id = project_id.clone();
                view! {
                    <ChangeForm action=report attr:class="inline-form">
                        <input type="hidden" name="project_id" value=project_id/>
                        <input type="hidden" name="report_only" value=if report_only { "false" } else { "true" }/>
                        {return_to.map(|to| view! { <input type="hidden" name="return_to" value=to/> })}
                        <button type="submit" class="button secondary small">
                            {if report_only { "Stop reporting" } else { "Watch first: report what blocking would refuse" }}
                        </button>
                    </ChangeForm>
                }
            })}
            {can_change.then(|| {
                let public = change_action::<SetPublicAccess>();
                let project_id = project_id.clone();
                let here = here.clone();
                let return_to = return_to.clone();
                view! {
                    {move || match confirm().as_deref() {
                        Some("block") if !block_public_connections => {
                            let (project_id, return_to, here, block_impact) =
                                (project_id.clone(), return_to.clone(), here.clone(), block_impact.clone());
                            view! {
                            <ChangeForm action=public attr:class="stack confirm">
                                <input type="hidden" name="project_id" value=project_id/>
                                <input type="hidden" name="block" value="true"/>
                                <input type="hidden" name="confirm" value="yes"/>
                                {return_to.map(|to| view! { <input type="hidden" name="return_to" value=to/> })}
                                <p><strong>"Block connections from the public internet?"</strong>
                                    " Only accepted VPC endpoints will reach the project."</p>
                                {block_impact.map(|impact| view! {
                                    <p class="error" role="alert" data-testid="block-impact">{impact}</p>
                                    <label class="check">
                                        <input type="checkbox" name="acknowledge_lockout"/>
                                        {if reachable_privately {
                                            " I understand: block anyway"
                                        } else {
                                            " I understand that nobody will be able to connect"
                                        }}
                                    </label>
                                })}
                                <div class="row">
                                    <button type="submit" class="button danger">"Block public access"</button>
                                    <a class="button secondary" href=here>"Cancel"</a>
                                </div>
                            </ChangeForm>
                        }.into_any()
                        }
                        Some("allow") if block_public_connections && can_loosen => {
                            let (project_id, return_to, here) =
                                (project_id.clone(), return_to.clone(), here.clone());
                            view! {
                            <ChangeForm action=public attr:class="stack confirm">
                                <input type="hidden" name="project_id" value=project_id/>
                                <input type="hidden" name="block" value="false"/>
                                <input type="hidden" name="confirm" value="yes"/>
                                {return_to.map(|to| view! { <input type="hidden" name="return_to" value=to/> })}
                                <p><strong>"Allow connections from the public internet again?"</strong>
                                    " Anyone with the connection string and password can then connect from anywhere."</p>
                                <div class="row">
                                    <button type="submit" class="button">"Allow public access"</button>
                                    <a class="button secondary" href=here>"Cancel"</a>
                                </div>
                            </ChangeForm>
                        }.into_any()
                        }
                        _ => if block_public_connections && !can_loosen {
                            view! { <p class="muted" data-testid="loosen-frozen">"Allowing public access again needs private networking on the organization's plan, or a trial."</p> }.into_any()
                        } else if block_public_connections {
                            view! { <a class="button secondary" href=format!("{here}?confirm=allow")>"Allow public access…"</a> }.into_any()
                        } else {
                            view! { <a class="button secondary" href=format!("{here}?confirm=block")>"Block public access…"</a> }.into_any()
                        },
                    }}
                }
            })}
    }
    .into_any()
}

/// What a row's restrict or lift would refuse of recent traffic, with the box that
/// acknowledges it (nothing when it would refuse nothing seen).
#[component]
fn ImpactAcknowledgement(impact: Option<String>) -> impl IntoView {
    impact.map(|text| {
        view! {
            <span class="warn-text impact" data-testid="row-impact">{text}</span>
            <label class="check">
                <input type="checkbox" name="acknowledge"/>
                " I understand"
            </label>
        }
    })
}

/// "Last connection: … from 10.0.3.0/24" under an endpoint's state; "never" is a warning
/// on an accepted endpoint (it may connect, yet nothing has come through it).
#[component]
pub fn LastConnection(
    state: crate::domain::EndpointState,
    last: Option<LastConnectionView>,
) -> impl IntoView {
    let never_accepted = last.is_none() && state == crate::domain::EndpointState::Accepted;
    let text = format!("Last connection: {}", LastConnectionView::describe(&last));
    view! {
        <br/>
        <span class=if never_accepted { "warn-text" } else { "muted" } data-testid="last-connection">{text}</span>
    }
}

/// A shield: the project can be reached over a private connection.
#[component]
pub fn PrivateBadge() -> impl IntoView {
    view! {
        <span class="badge private" data-testid="private-badge">
            <svg aria-hidden="true" width="14" height="14" viewBox="0 0 24 24" fill="currentColor">
                <path d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3z"/>
            </svg>
            " Private connection"
        </span>
    }
}

/// The page's sections. Each one that shows data is a live part, which a live update
/// replaces; the forms with text fields (the IP allow list's, the trial request) are not, so
/// an update never takes away what is being typed.
#[component]
fn ProjectBody(view: ProjectPageView) -> impl IntoView {
    let allow_form = (view.org.role == crate::domain::Role::Admin).then(|| view.project.id.clone());
    let trial = (!view.plan_includes_feature).then(|| {
        (
            view.trial.clone(),
            view.org.plan.as_str().to_string(),
            view.org.role == crate::domain::Role::Admin,
            view.admins.clone(),
            view.org.id.clone(),
            view.project.id.clone(),
            view.offered_regions.clone(),
        )
    });
    let (header, public, private) = (view.clone(), view.clone(), view);
    view! {
        <LivePart id="project-header"><ProjectPart view=header part=Part::Header/></LivePart>
        {trial.map(|(trial, plan, is_admin, admins, org_id, project_id, offered_regions)| view! {
            <crate::pages::trial::TrialPanel trial plan is_admin admins org_id project_id offered_regions/>
        })}
        <section class="panel" aria-labelledby="public-heading">
            <h2 id="public-heading">"Public internet access"</h2>
            <LivePart id="project-public"><ProjectPart view=public part=Part::Public/></LivePart>
            {allow_form.map(|project_id| view! { <AllowListForm project_id/> })}
        </section>
        <LivePart id="project-private"><ProjectPart view=private part=Part::Private/></LivePart>
    }
    .into_any()
}

/// The parts of the page that show data, each a live part.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Header,
    Public,
    Private,
}

#[component]
fn ProjectPart(view: ProjectPageView, part: Part) -> impl IntoView {
    let is_admin = view.org.role == crate::domain::Role::Admin;
    let (covered, names) = view.coverage();
    let missing = view.missing_service_names();
    let used = view.endpoints.len();
    let project_url = format!("/projects/{}", view.project.id);
    let ProjectPageView {
        project,
        org,
        admins,
        entitled,
        block_public_connections,
        public_block_report_only,
        block_public_impact,
        allowed_ips,
        would_be_refused,
        rollout,
        block_vpc_connections,
        region_name,
        service_names,
        availability_zone_notes,
        endpoints,
        endpoint_limit,
        reachable_privately,
        activity,
        flash,
        live_version: _,
        plan_includes_feature: _,
        trial: _,
        offered_regions: _,
        denied,
    } = view;
    let restricted_count = endpoints.iter().filter(|e| e.restricted).count();
    let admin_list = admins.join(", ");
    // Tightening (block, restrict, remove) never needs the entitlement; loosening does.
    let can_change = is_admin;
    let can_loosen = is_admin && entitled;

    match part {
        Part::Header => view! {
        <Title text=format!("{} · Network security", project.name)/>
        <section class="panel" aria-labelledby="project-heading">
            <p class="muted"><a href=format!("/orgs/{}", org.id)>{org.name.clone()}</a>" › project"</p>
            <h1 id="project-heading">{project.name.clone()} " — network security"</h1>
            {reachable_privately.then(|| view! { <PrivateBadge/> })}
            <dl class="facts">
                <div><dt>"Host name"</dt><dd><code>{project.hostname.clone()}</code></dd></div>
                <div><dt>"Region"</dt><dd>{format!("{} ({})", region_name, project.region_id)}</dd></div>
                <div><dt>"Endpoint limit"</dt><dd data-testid="limit-usage">{format!("{used} of {endpoint_limit} endpoints in {}", project.region_id)}</dd></div>
                <div><dt>"Service names covered"</dt><dd data-testid="coverage">{format!("{covered} of {names} service names have an accepted endpoint")}</dd></div>
            </dl>
            {(!missing.is_empty() && covered > 0).then(|| view! {
                <div class="note warn" data-testid="missing-services">
                    <p>"No accepted endpoint connects to these service names yet; create an endpoint for each:"</p>
                    <ul>{missing.into_iter().map(|n| view! { <li><code>{n}</code></li> }).collect_view()}</ul>
                </div>
            })}
            {(!is_admin).then(|| view! {
                <p class="note" data-testid="read-only-note">
                    "You can see everything here, but only the organization's admins can change it: " {admin_list.clone()} "."
                </p>
            })}
            <p>
                // A server redirect to the saved step, not a console route: full navigation.
                <a class="button" href=format!("{project_url}/setup") rel="external">
                    {if reachable_privately { "Review the private networking setup" } else { "Set up private networking" }}
                </a>
            </p>
            {(!entitled).then(|| view! {
                <p class="note warn" data-testid="not-entitled">
                    "Private networking is not available to this organization now (" {org.plan.as_str()}
                    " plan). Existing settings stay in force and admins can still block, restrict and remove; allowing more and assigning endpoints need the Scale, Business or Enterprise plan, or a trial."
                </p>
            })}
            <Outcome initial=flash/>
        </section>
        }
        .into_any(),
        Part::Public => view! {
            <PublicAccess
                block_public_connections
                rollout
                block_vpc_connections
                can_change
                can_loosen
                report_only=public_block_report_only
                block_impact=block_public_impact
                reachable_privately
                project_id=project.id.clone()
                here=project_url.clone()
            />
            <AllowList entries=allowed_ips can_change project_id=project.id.clone() blocked=block_public_connections/>
        }
        .into_any(),
        Part::Private => view! {

        <section class="panel" aria-labelledby="private-heading">
            <h2 id="private-heading">"Private networking in " {project.region_id.clone()}</h2>
            <p class="muted">
                {if restricted_count == 0 {
                    "No restrictions: every accepted endpoint of the organization in this region may connect.".to_string()
                } else {
                    format!("Restricted to {restricted_count} endpoint(s): only those may connect.")
                }}
            </p>
            <EndpointRows endpoints can_change can_loosen project_id=project.id.clone() restricted_count/>
            <h3>"Service names"</h3>
            <ul class="service-names">
                {service_names.into_iter().map(|n| view! { <li><code>{n}</code></li> }).collect_view()}
            </ul>
            {(!availability_zone_notes.is_empty()).then(|| view! {
                <ul class="muted">
                    {availability_zone_notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                </ul>
            })}
        </section>

        <section class="panel" aria-labelledby="denied-heading">
            <h2 id="denied-heading">"Refused connections"</h2>
            {if denied.is_empty() {
                view! { <p class="muted" data-testid="no-denied">"The proxy has refused no connections to this project recently."</p> }.into_any()
            } else {
                view! { <EvidenceTable rows=denied testid="denied"/> }.into_any()
            }}
            {(public_block_report_only || !would_be_refused.is_empty()).then(|| view! {
                <h3>"Public connections blocking would refuse (report-only)"</h3>
                {if would_be_refused.is_empty() {
                    view! { <p class="muted" data-testid="no-would-be-refused">"None seen yet."</p> }.into_any()
                } else {
                    view! { <EvidenceTable rows=would_be_refused testid="would-be-refused"/> }.into_any()
                }}
            })}
        </section>

        <section class="panel" aria-labelledby="activity-heading">
            <h2 id="activity-heading">"Recent activity"</h2>
            <p><a href=format!("/orgs/{}/activity?project_id={}", org.id, project.id) data-testid="project-activity">
                "All of this project's activity, with before and after"</a></p>
            {if activity.is_empty() {
                view! { <p class="muted">"No changes yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="activity">
                        {activity.into_iter().map(|a| view! {
                            <li><span class="muted">{format_time(a.at_ms)}</span> " " {a.actor} ": " <code>{a.action}</code> " " {a.target}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        }
        .into_any(),
    }
}

/// The IP allow list: public connections only from listed addresses and ranges.
#[component]
fn AllowList(
    entries: Vec<AllowedIpView>,
    can_change: bool,
    project_id: String,
    blocked: bool,
) -> impl IntoView {
    let remove = change_action::<RemoveAllowedIp>();
    let rows_project = project_id;
    // Type-erased: the page's view type is deep enough already.
    view! {
        <h3 id="allow-list-heading">"Public access from listed networks"</h3>
        <p class="muted" data-testid="allow-list-state">
            {match (blocked, entries.is_empty()) {
                (true, _) => "Public access is blocked, so the allow list does not matter now.".to_string(),
                (false, true) => "No allow list: public connections may come from any address.".to_string(),
                (false, false) => format!("Public connections only from these {} entries.", entries.len()),
            }}
        </p>
        {(!entries.is_empty()).then(|| view! {
            <div class="table-wrap">
                <table data-testid="allow-list" aria-labelledby="allow-list-heading">
                    <thead>
                        <tr>
                            <th scope="col">"Address or range"</th>
                            <th scope="col">"Note"</th>
                            <th scope="col">"Expires"</th>
                            {can_change.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {entries.into_iter().map(|e| {
                            let row_project = rows_project.clone();
                            view! {
                                <tr>
                                    <td><code>{e.entry.clone()}</code></td>
                                    <td>{e.note.clone()}</td>
                                    <td>{match (e.expires.clone(), e.expired) {
                                        (None, _) => view! { <span class="muted">"never"</span> }.into_any(),
                                        (Some(t), true) => view! { <span class="warn-text">"expired " {t}</span> }.into_any(),
                                        (Some(t), false) => view! { <span>{t}</span> }.into_any(),
                                    }}</td>
                                    {can_change.then(|| view! {
                                        <td>
                                            <ChangeForm action=remove attr:class="inline-form">
                                                <input type="hidden" name="project_id" value=row_project/>
                                                <input type="hidden" name="entry" value=e.entry.clone()/>
                                                <button type="submit" class="button secondary small"
                                                    aria-label=format!("Remove {} from the allow list", e.entry)>"Remove"</button>
                                            </ChangeForm>
                                        </td>
                                    })}
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
    }
    .into_any()
}

/// Adds an entry to the IP allow list (admins).
#[component]
fn AllowListForm(project_id: String) -> impl IntoView {
    let add = change_action::<AddAllowedIp>();
    view! {
            <ChangeForm action=add attr:class="stack allow-form">
                <input type="hidden" name="project_id" value=project_id/>
                <AllowEntryField/>
                <label>"Note (optional)"
                    <input type="text" name="note" maxlength="64" placeholder="office"/>
                </label>
                <label>"Expires in days (optional)"
                    <input type="number" name="expires_in_days" min="1" max="365" inputmode="numeric"/>
                </label>
                <label class="check">
                    <input type="checkbox" name="acknowledge"/>
                    " Add even if public connections seen in the last 24 h would be refused"
                </label>
                <button type="submit" class="button secondary">"Add to the allow list"</button>
            </ChangeForm>
    }
}

/// The allow list's address field, checked as it is typed with the parser the server uses.
#[island]
pub fn AllowEntryField() -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let problem = move || {
        let value = typed.get();
        if value.trim().is_empty() {
            return None;
        }
        crate::domain::IpAllowEntry::parse(&value)
            .err()
            .map(|e| e.message)
    };
    view! {
        <label>"Address or range"
            <input type="text" name="entry" required placeholder="203.0.113.0/24" autocomplete="off"
                spellcheck="false" aria-describedby="allow-entry-help"
                aria-invalid=move || problem().is_some().to_string()
                on:input=move |ev| typed.set(event_target_value(&ev))/>
        </label>
        <p id="allow-entry-help" class="muted" aria-live="polite">
            {move || problem().map(|p| view! { <span class="error">{p}</span> })}
        </p>
    }
}

/// Aggregated connection evidence: where from, which network, why, how many, when.
#[component]
fn EvidenceTable(rows: Vec<DeniedConnectionView>, testid: &'static str) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid=testid>
                <thead>
                    <tr>
                        <th scope="col">"Last seen"</th>
                        <th scope="col">"From"</th>
                        <th scope="col">"Client network"</th>
                        <th scope="col">"Why"</th>
                        <th scope="col">"Count"</th>
                        <th scope="col">"First seen"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|d| view! {
                        <tr>
                            <td>{format_time(d.last_seen_ms)}</td>
                            <td>{match d.vpc_endpoint_id {
                                Some(id) => view! { <code>{id}</code> }.into_any(),
                                None => view! { <span>"public internet"</span> }.into_any(),
                            }}</td>
                            <td><code>{d.client_network}</code></td>
                            <td>{d.reason.replace('_', " ")}</td>
                            <td>{d.count}</td>
                            <td>{format_time(d.first_seen_ms)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The organization's endpoints in the project's region, with the project's restrictions and,
/// for admins, the forms to restrict and lift.
#[component]
pub fn EndpointRows(
    endpoints: Vec<ProjectEndpointView>,
    /// May restrict a project that has no restrictions, and lift all but the last one.
    can_change: bool,
    /// May also add restrictions to a restricted project and lift the last one (both let
    /// more endpoints in): needs the entitlement.
    #[prop(default = true)]
    can_loosen: bool,
    project_id: String,
    restricted_count: usize,
    /// A setup step to come back to after a post.
    #[prop(optional)]
    return_to: Option<String>,
) -> impl IntoView {
    if endpoints.is_empty() {
        return view! {
            <p class="muted">"The organization has no VPC endpoints in this region yet."</p>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Endpoint id"</th>
                        <th scope="col">"Label"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Restricts this project"</th>
                        {can_change.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {endpoints.into_iter().map(|e| {
                        let add = change_action::<RestrictProject>();
                        let remove = change_action::<UnrestrictProject>();
                        let row_project = project_id.clone();
                        let row_return = return_to.clone();
                        let last = e.restricted && restricted_count == 1;
                        // Without the entitlement only what narrows access is offered.
                        let offered = if e.restricted { can_loosen || !last } else { can_loosen || restricted_count == 0 };
                        view! {
                            <tr>
                                <td><code>{e.vpc_endpoint_id.clone()}</code><ConsumerOf endpoint=e.clone()/></td>
                                <td>{e.label.clone()}</td>
                                <td>
                                    <span class=format!("badge state-{}", e.state)>{e.state.as_str()}</span>
                                    {e.rejection_reason.clone().map(|r| view! { <br/><span class="muted">{r}</span> })}
                                    {e.service_name.clone().map(|n| view! { <br/><span class="muted">"via "<code>{n}</code></span> })}
                                    <LastConnection state=e.state last=e.last_connection.clone()/>
                                </td>
                                <td>{if e.restricted { "Yes" } else { "No" }}</td>
                                {can_change.then(|| view! {
                                    <td>
                                        {if !offered {
                                            view! { <span class="muted">"Needs the entitlement"</span> }.into_any()
                                        } else if e.restricted {
                                            view! {
                                                <ChangeForm action=remove attr:class="inline-form">
                                                    <input type="hidden" name="project_id" value=row_project.clone()/>
                                                    {row_return.clone().map(|to| view! { <input type="hidden" name="return_to" value=to/> })}
                                                    <input type="hidden" name="vpc_endpoint_id" value=e.vpc_endpoint_id.clone()/>
                                                    {last.then(|| view! {
                                                        <label class="check">
                                                            <input type="checkbox" name="confirm_open"/>
                                                            " Allow every endpoint again"
                                                        </label>
                                                    })}
                                                    <ImpactAcknowledgement impact=e.change_impact.clone()/>
                                                    <button type="submit" class="button secondary small"
                                                        aria-label=format!("Lift restriction to {}", e.vpc_endpoint_id)>"Lift"</button>
                                                </ChangeForm>
                                            }.into_any()
                                        } else {
                                            view! {
                                                <ChangeForm action=add attr:class="inline-form">
                                                    <input type="hidden" name="project_id" value=row_project.clone()/>
                                                    {row_return.clone().map(|to| view! { <input type="hidden" name="return_to" value=to/> })}
                                                    <input type="hidden" name="vpc_endpoint_id" value=e.vpc_endpoint_id.clone()/>
                                                    <ImpactAcknowledgement impact=e.change_impact.clone()/>
                                                    <button type="submit" class="button secondary small"
                                                        aria-label=format!("Restrict to {}", e.vpc_endpoint_id)>"Restrict"</button>
                                                </ChangeForm>
                                            }.into_any()
                                        }}
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

/// Who is on the other side of a Google Cloud or Azure endpoint, when the cloud reported it:
/// the consumer's forwarding rule (and its project) or the private endpoint's resource id.
#[component]
pub fn ConsumerOf(endpoint: ProjectEndpointView) -> impl IntoView {
    let id = endpoint.vpc_endpoint_id;
    endpoint.consumer.map(|consumer| {
        let text = match consumer
            .strip_prefix("projects/")
            .and_then(|r| r.split('/').next())
        {
            Some(project) if consumer.contains("/forwardingRules/") => {
                format!("forwarding rule {consumer} (project {project})")
            }
            _ => format!("private endpoint {consumer}"),
        };
        view! { <p class="muted consumer" data-testid=format!("consumer-{id}")>{text}</p> }
    })
}
