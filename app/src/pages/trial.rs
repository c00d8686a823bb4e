//! The trial panel of a project's Network Security page, for organizations whose plan does
//! not include private networking: what the feature is, which plans have it, where the
//! organization's trial request stands, and (for admins) the request form.

use leptos::prelude::*;

use crate::components::change_form::{change_action, ChangeForm};
use crate::domain::{format_time, TrialState, TrialView};
use crate::server_fns::changes::RequestTrial;

#[component]
pub fn TrialPanel(
    trial: Option<TrialView>,
    plan: String,
    is_admin: bool,
    admins: Vec<String>,
    org_id: String,
    project_id: String,
    offered_regions: Vec<String>,
) -> impl IntoView {
    let can_request = matches!(
        trial.as_ref().map(|t| t.status),
        None | Some(TrialState::Declined) | Some(TrialState::Expired)
    );
    let status = trial.map(|t| match t.status {
        TrialState::Pending => view! {
            <div class="note" data-testid="trial-status" data-status="pending">
                <p><strong>"Trial requested"</strong> " on " {format_time(t.requested_at_ms)} " by " {t.requested_by.clone()}
                    ". It is waiting for review; the decision will appear here."</p>
                <p class="muted">"Use case: " {t.use_case.clone()}</p>
            </div>
        }
        .into_any(),
        TrialState::Active => view! {
            <div class="note" data-testid="trial-status" data-status="active">
                <p><strong>"Trial active"</strong> ": private networking can be used until "
                    {t.ends_at_ms.map(format_time).unwrap_or_default()}
                    {t.days_left.map(|d| format!(" ({d} day{} left)", if d == 1 { "" } else { "s" }))} "."</p>
                <p class="muted">"When it ends, everything configured stays in force; new changes then need the Scale, Business or Enterprise plan, or a new trial."</p>
            </div>
        }
        .into_any(),
        TrialState::Declined => view! {
            <div class="note warn" data-testid="trial-status" data-status="declined">
                <p><strong>"Trial request declined"</strong> ": " {t.decline_reason.clone().unwrap_or_default()}</p>
                <p class="muted">"You can send a new request with more detail, or upgrade to the Scale plan."</p>
            </div>
        }
        .into_any(),
        TrialState::Expired => view! {
            <div class="note warn" data-testid="trial-status" data-status="expired">
                <p><strong>"The trial ended"</strong> " on " {t.ends_at_ms.map(format_time).unwrap_or_default()} "."</p>
                <p>"Everything configured stays in force — assigned endpoints, restrictions and blocked public access — but new assignments and changes are refused. Request a new trial, or upgrade to the Scale, Business or Enterprise plan."</p>
            </div>
        }
        .into_any(),
    });
    view! {
        <section class="panel" aria-labelledby="trial-heading">
            <h2 id="trial-heading">"Private networking trial"</h2>
            <p>
                "Private networking connects your AWS VPCs to this project over AWS PrivateLink, so database traffic never crosses the public internet, and lets you block public access. It is part of the Scale, Business and Enterprise plans; on the "
                <strong>{plan.clone()}</strong> " plan you can request a trial."
            </p>
            {status}
            {match (can_request, is_admin) {
                (true, true) => view! { <TrialForm org_id project_id offered_regions/> }.into_any(),
                (true, false) => view! {
                    <p class="note" data-testid="trial-who">
                        "Only the organization's admins can request a trial: " {admins.join(", ")} "."
                    </p>
                }
                .into_any(),
                _ => ().into_any(),
            }}
        </section>
    }
}

#[component]
fn TrialForm(org_id: String, project_id: String, offered_regions: Vec<String>) -> impl IntoView {
    let request = change_action::<RequestTrial>();
    view! {
        <ChangeForm action=request attr:class="stack" attr:aria-labelledby="trial-form-heading">
            <h3 id="trial-form-heading">"Request a trial"</h3>
            <input type="hidden" name="org_id" value=org_id/>
            <input type="hidden" name="return_to" value=format!("/projects/{project_id}")/>
            <label for="trial-use-case">"What do you want to connect privately? (required)"</label>
            <textarea id="trial-use-case" name="use_case" required rows="3" maxlength="2000"></textarea>
            <fieldset class="regions">
                <legend>"Regions of interest"</legend>
                {offered_regions.into_iter().enumerate().map(|(i, r)| {
                    let id = format!("trial-region-{r}");
                    // Indexed names: the server function reads them as a list.
                    view! {
                        <label class="check">
                            <input type="checkbox" id=id name=format!("regions[{i}]") value=r.clone()/>
                            " " {r.clone()}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <label for="trial-endpoints">"Expected number of VPC endpoints"</label>
            <input id="trial-endpoints" name="expected_endpoints" type="number" min="0" max="1000" inputmode="numeric"/>
            <button type="submit" class="button">"Request a trial"</button>
        </ChangeForm>
    }
}
