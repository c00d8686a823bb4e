//! The form that assigns a private endpoint (an AWS VPC endpoint, a Google Cloud PSC
//! connection, an Azure private endpoint) to an organization, used on the organization page
//! and in the setup stepper. The region and id fields are an island: the id is checked as it
//! is typed with the parser the server uses for the region's cloud; the server checks it
//! again along with ownership, limit and history.

use leptos::prelude::*;

use crate::components::change_form::{change_action, ChangeForm};
use crate::domain::{Cloud, RegionId, VpcEndpointId};
use crate::server_fns::changes::AssignEndpoint;

/// Where the endpoint goes: a choice of regions, or one fixed region.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RegionChoice {
    Any(Vec<String>),
    Fixed(String),
}

#[component]
pub fn AssignEndpointForm(
    /// The organization the endpoint is assigned to.
    org_id: String,
    regions: RegionChoice,
    /// A setup step to come back to after the post, if posted from the stepper.
    #[prop(optional)]
    return_to: Option<String>,
    #[prop(into, default = "Assign a VPC endpoint".to_string())] heading: String,
) -> impl IntoView {
    let assign = change_action::<AssignEndpoint>();
    view! {
        <ChangeForm action=assign attr:class="stack" attr:aria-labelledby="assign-heading">
            <h3 id="assign-heading">{heading}</h3>
            <input type="hidden" name="org_id" value=org_id/>
            {return_to.map(|to| view! { <input type="hidden" name="return_to" value=to/> })}
            <EndpointFields regions/>
            <label for="assign-label">"Label (optional)"</label>
            <input id="assign-label" name="label" type="text" maxlength="64"/>
            <button type="submit" class="button">"Assign endpoint"</button>
        </ChangeForm>
    }
}

/// The region (chosen or fixed) and the endpoint id, checked as it is typed.
#[island]
fn EndpointFields(regions: RegionChoice) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    // The region's cloud says which identifier to expect (and how to name it).
    let region = RwSignal::new(match &regions {
        RegionChoice::Any(all) => all.first().cloned().unwrap_or_default(),
        RegionChoice::Fixed(one) => one.clone(),
    });
    let cloud = move || {
        RegionId::parse(&region.get())
            .map(|r| r.cloud())
            .unwrap_or(Cloud::Aws)
    };
    let problem = move || {
        let value = typed.get();
        if value.trim().is_empty() {
            return None;
        }
        VpcEndpointId::parse_in(cloud(), &value)
            .err()
            .map(|e| e.message)
    };
    let id_name = move || match cloud() {
        Cloud::Aws => "VPC endpoint id",
        Cloud::Gcp => "PSC connection id",
        Cloud::Azure => "Private endpoint LinkID",
    };
    let placeholder = move || match cloud() {
        Cloud::Aws => "vpce-1234567890abcdef0",
        Cloud::Gcp => "12345678901234567",
        Cloud::Azure => "536870913",
    };
    let region_control = match regions {
        RegionChoice::Any(regions) => view! {
            <label for="assign-region">"Region"</label>
            <select id="assign-region" name="region_id" on:change=move |ev| region.set(event_target_value(&ev))>
                {regions.into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        RegionChoice::Fixed(region) => view! {
            <input type="hidden" name="region_id" value=region.clone()/>
            <p class="muted">"Region: " <code>{region}</code></p>
        }
        .into_any(),
    };
    view! {
            {region_control}
            <label for="assign-endpoint">{id_name}</label>
            <input
                id="assign-endpoint"
                name="vpc_endpoint_id"
                type="text"
                required
                placeholder=placeholder
                autocomplete="off"
                spellcheck="false"
                aria-describedby="assign-endpoint-help"
                aria-invalid=move || problem().is_some().to_string()
                on:input=move |ev| typed.set(event_target_value(&ev))
            />
            <p id="assign-endpoint-help" class="muted" aria-live="polite">
                {move || problem().map(|p| view! { <span class="error">{id_name()} " " {p}</span> })}
            </p>
    }
}
