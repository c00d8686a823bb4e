//! The operator area: platform staff only (everyone else gets "not found"). Trial requests
//! to review — approve with an end date (14 days unless changed) or decline with a reason —
//! every organization on the control plane, and the cloud provider's health (failing calls,
//! connection requests nobody assigned).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::change_form::{change_action, ChangeForm, Outcome};
use crate::domain::{format_time, OrgSummary, ProviderStatusView, TrialReviewView, TrialState};
use crate::server_fns::changes::{ApproveTrial, DeclineTrial};
use crate::server_fns::{operator_orgs, operator_provider, operator_trials};

#[component]
pub fn OperatorPage() -> impl IntoView {
    let orgs = Resource::new(|| (), |_| operator_orgs());
    let trials = Resource::new(|| (), |_| operator_trials());
    let provider = Resource::new(|| (), |_| operator_provider());
    // The page's change actions, made at its root (see `change_action`).
    change_action::<ApproveTrial>();
    change_action::<DeclineTrial>();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let orgs = orgs.get()?;
                let trials = trials.get()?;
                let provider = provider.get()?;
                Some(match (orgs, trials, provider) {
                    (Ok(orgs), Ok(trials), Ok(provider)) => view! {
                        <Title text="Operator area"/>
                        <section class="panel" aria-labelledby="operator-heading">
                            <h1 id="operator-heading">"Operator area"</h1>
                            <p class="muted">"Platform staff only."</p>
                            <Outcome initial=trials.flash.clone()/>
                        </section>
                        <TrialReview trials=trials.trials default_end_date=trials.default_end_date/>
                        <ProviderHealth provider/>
                        <Organizations orgs/>
                    }
                    .into_any(),
                    _ => view! { <crate::pages::not_found::NotFound/> }.into_any(),
                })
            }}
        </Suspense>
    }
}

#[component]
fn TrialReview(trials: Vec<TrialReviewView>, default_end_date: String) -> impl IntoView {
    let (pending, reviewed): (Vec<_>, Vec<_>) = trials
        .into_iter()
        .partition(|t| t.request.status == TrialState::Pending);
    view! {
        <section class="panel" aria-labelledby="trials-heading">
            <h2 id="trials-heading">"Trial requests waiting for review"</h2>
            {if pending.is_empty() {
                view! { <p class="muted" data-testid="no-pending-trials">"No requests are waiting."</p> }.into_any()
            } else {
                view! {
                    <ul class="trial-list">
                        {pending.into_iter().map(|t| {
                            let end = default_end_date.clone();
                            view! { <PendingTrial t end/> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!reviewed.is_empty()).then(|| view! {
                <h3>"Reviewed"</h3>
                <div class="table-wrap">
                    <table>
                        <thead>
                            <tr>
                                <th scope="col">"Organization"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Decision"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {reviewed.into_iter().map(|t| view! {
                                <tr>
                                    <td>{t.org_name.clone()}<br/><code class="muted">{t.org_id.clone()}</code></td>
                                    <td>{t.request.status.as_str()}</td>
                                    <td>{match t.request.status {
                                        TrialState::Declined => t.request.decline_reason.clone().unwrap_or_default(),
                                        _ => format!("until {}", t.request.ends_at_ms.map(format_time).unwrap_or_default()),
                                    }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </section>
    }
}

#[component]
fn PendingTrial(t: TrialReviewView, end: String) -> impl IntoView {
    let approve = change_action::<ApproveTrial>();
    let decline = change_action::<DeclineTrial>();
    let (approve_id, decline_id) = (t.id.clone(), t.id.clone());
    let approve_label = format!("Approve the trial of {}", t.org_name);
    let decline_label = format!("Decline the trial of {}", t.org_name);
    let end_id = format!("ends-on-{}", t.id);
    let reason_id = format!("reason-{}", t.id);
    let regions = if t.request.regions.is_empty() {
        "none named".to_string()
    } else {
        t.request.regions.join(", ")
    };
    view! {
        <li class="trial-request" data-testid=format!("trial-{}", t.org_id)>
            <h3>{t.org_name.clone()} " " <span class="muted">"(" {t.org_plan.as_str()} " plan)"</span></h3>
            <p class="muted">"Requested " {format_time(t.request.requested_at_ms)} " by " {t.request.requested_by.clone()}</p>
            <p><strong>"Use case: "</strong>{t.request.use_case.clone()}</p>
            <p>"Regions: " {regions} " · expected endpoints: " {t.request.expected_endpoints}</p>
            <div class="row review-forms">
                <ChangeForm action=approve attr:class="stack">
                    <input type="hidden" name="id" value=approve_id/>
                    <label for=end_id.clone()>"Trial ends on"</label>
                    <input id=end_id type="date" name="ends_on" value=end required/>
                    <button type="submit" class="button" aria-label=approve_label>"Approve"</button>
                </ChangeForm>
                <ChangeForm action=decline attr:class="stack">
                    <input type="hidden" name="id" value=decline_id/>
                    <label for=reason_id.clone()>"Reason for declining"</label>
                    <input id=reason_id type="text" name="reason" required maxlength="500"/>
                    <button type="submit" class="button danger" aria-label=decline_label>"Decline"</button>
                </ChangeForm>
            </div>
        </li>
    }
}

#[component]
fn Organizations(orgs: Vec<OrgSummary>) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="orgs-heading">
            <h2 id="orgs-heading">"Organizations"</h2>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Organization"</th>
                            <th scope="col">"Id"</th>
                            <th scope="col">"Plan"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {orgs.into_iter().map(|o| view! {
                            <tr><td>{o.name}</td><td><code>{o.id}</code></td><td>{o.plan.as_str()}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// The cloud provider: failing calls (which call, which region, since when) and connection
/// requests on the platform's services that no organization assigned.
#[component]
fn ProviderHealth(provider: ProviderStatusView) -> impl IntoView {
    let healthy = provider.problems.is_empty();
    view! {
        <section class="panel" aria-labelledby="provider-heading" data-testid="provider-health">
            <h2 id="provider-heading">"Cloud provider"</h2>
            <p>
                "Provider: " <strong>{provider.provider.clone()}</strong> " — "
                {if healthy {
                    view! { <span class="badge state-accepted" data-testid="provider-state">"healthy"</span> }.into_any()
                } else {
                    view! { <span class="badge state-rejected" data-testid="provider-state">"failing calls"</span> }.into_any()
                }}
            </p>
            {(!healthy).then(|| view! {
                <div class="table-wrap">
                    <table>
                        <caption class="visually-hidden">"Failing provider calls"</caption>
                        <thead><tr><th scope="col">"Call"</th><th scope="col">"Region"</th><th scope="col">"Since"</th><th scope="col">"Last error"</th></tr></thead>
                        <tbody>
                            {provider.problems.iter().map(|p| view! {
                                <tr>
                                    <td>{p.call.clone()}</td>
                                    <td>{p.region.clone()}</td>
                                    <td>{p.since.clone()}<br/><span class="muted">"last " {p.last_seen.clone()}</span></td>
                                    <td>{p.message.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
            <h3>"Connection requests nobody assigned"</h3>
            {if provider.unassigned.is_empty() {
                view! { <p class="muted" data-testid="no-unassigned">"None. Requests appear here when an endpoint connects to a platform service before any organization assigns it; they are never accepted."</p> }.into_any()
            } else {
                view! {
                    <p class="muted">"Never accepted: an organization must assign the endpoint first."</p>
                    <div class="table-wrap">
                        <table data-testid="unassigned-requests">
                            <caption class="visually-hidden">"Unassigned connection requests"</caption>
                            <thead><tr><th scope="col">"Endpoint"</th><th scope="col">"Region"</th><th scope="col">"Service"</th><th scope="col">"Owner account"</th><th scope="col">"First seen"</th></tr></thead>
                            <tbody>
                                {provider.unassigned.iter().map(|r| view! {
                                    <tr>
                                        <td><code>{r.vpc_endpoint_id.clone()}</code></td>
                                        <td>{r.region_id.clone()}</td>
                                        <td><code>{r.service_id.clone()}</code></td>
                                        <td>{r.owner_account.clone()}</td>
                                        <td>{r.first_seen.clone()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
