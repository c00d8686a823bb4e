//! The guided setup of private networking for one project (SPEC §6): six steps, each at its
//! own address (`/projects/{id}/setup/{n}`), with back and next links. The server remembers
//! the step an admin was on, so `/projects/{id}/setup` resumes there. Every form is a plain
//! post that works before (and without) the wasm; its islands check ids and fill in commands
//! as the admin types, and endpoint states update live.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::change_form::{change_action, ChangeForm, Outcome};
use crate::components::copy::CopyBlock;
use crate::components::endpoint_form::{AssignEndpointForm, RegionChoice};
use crate::components::live::{FollowLive, LivePart};
use crate::components::session::CsrfField;
use crate::components::ways::{Way, Ways};
use crate::domain::consumer_network::{
    azure_create_click_path, azure_create_commands, azure_create_terraform, azure_dns_click_path,
    azure_dns_commands, azure_dns_terraform, gcp_create_click_path, gcp_create_commands,
    gcp_create_terraform, gcp_dns_click_path, gcp_dns_commands, gcp_dns_terraform,
};
use crate::domain::setup::{
    create_endpoint_click_path, create_endpoint_commands, create_endpoint_terraform,
    enable_private_dns_command, nslookup_command, private_dns_click_path, private_dns_terraform,
    psql_command, security_group_rule_command, Automation,
};
use crate::domain::{
    AwsDetails, Cloud, ConsumerNetwork, ProjectEndpointView, SetupPageView, SetupStep,
};
use crate::pages::project::{ConsumerOf, EndpointRows, PrivateBadge, PublicAccess, SignInFirst};
use crate::server_fns::changes::{
    AssignEndpoint, GoToSetupStep, RestrictProject, SaveAwsDetails, SaveConsumerNetwork,
    SetPublicAccess, SetReportOnly, UnrestrictProject,
};
use crate::server_fns::setup_page;

#[component]
pub fn SetupPage() -> impl IntoView {
    let params = use_params_map();
    let project_id = move || params.read().get("project_id").unwrap_or_default();
    let step = move || {
        params
            .read()
            .get("step")
            .and_then(|s| SetupStep::parse(&s))
            .map_or(0, SetupStep::number)
    };
    let page = Resource::new(
        move || (project_id(), step()),
        |(project_id, step)| setup_page(project_id, step),
    );
    let current =
        Signal::derive(move || page.get().and_then(|r| r.ok()).map(|v| v.page.live_version));
    // The page's change actions, made at its root (see `change_action`).
    change_action::<GoToSetupStep>();
    change_action::<AssignEndpoint>();
    change_action::<RestrictProject>();
    change_action::<UnrestrictProject>();
    change_action::<SetPublicAccess>();
    change_action::<SetReportOnly>();

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the setup…"</p> }>
            {move || {
                page.get()
                    .map(|result| match result {
                        Ok(view) => {
                            let step = SetupStep::from_number(step()).unwrap_or(SetupStep::RegionAndServiceNames);
                            view! { <SetupBody view step/> }.into_any()
                        }
                        Err(e) if e.code == crate::domain::ErrorCode::Unauthenticated => view! { <SignInFirst/> }.into_any(),
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

#[component]
fn SetupBody(view: SetupPageView, step: SetupStep) -> impl IntoView {
    let SetupPageView {
        page,
        cloud,
        cloud_region,
        ..
    } = view.clone();
    // What shows data is a live part, which a live update replaces; the forms with text
    // fields (steps 2 and 3) are not, so an update never takes away what is being typed.
    let data = Signal::stored(view);
    let base = format!("/projects/{}/setup", page.project.id);
    let project_url = format!("/projects/{}", page.project.id);
    let is_admin = page.org.role == crate::domain::Role::Admin;
    let can_change = is_admin && page.entitled;
    let here = format!("{base}/{}", step.number());

    let content = match step {
        SetupStep::RegionAndServiceNames => {
            let cloud_region = cloud_region.clone();
            view! {
                <LivePart id="setup-step">{move || {
                    data.with(
                        |v| view! { <StepRegion page=v.page.clone() cloud cloud_region=cloud_region.clone()/> },
                    )
                }}</LivePart>
            }
            .into_any()
        }
        SetupStep::CreateEndpoint if cloud != Cloud::Aws => {
            let form = Memo::new(move |_| {
                data.with(|v| {
                    (
                        v.page.project.id.clone(),
                        v.page.org.id.clone(),
                        v.page.service_names.clone(),
                        v.consumer_network.clone(),
                    )
                })
            });
            let cloud_region = cloud_region.clone();
            (move || {
                let (project_id, org_id, service_names, saved) = form.get();
                view! {
                    <StepCreateConsumer org_id service_names cloud cloud_region=cloud_region.clone() is_admin saved>
                        <CsrfField/>
                        <input type="hidden" name="project_id" value=project_id/>
                    </StepCreateConsumer>
                }
            })
            .into_any()
        }
        SetupStep::CreateEndpoint => {
            // What the form and its commands need: the service names, the saved details.
            let form = Memo::new(move |_| {
                data.with(|v| {
                    (
                        v.page.project.id.clone(),
                        v.page.service_names.clone(),
                        v.vpc_id.clone(),
                        v.subnet_ids.clone(),
                        v.security_group_id.clone(),
                    )
                })
            });
            let aws_region = cloud_region.clone();
            (move || {
                let (project_id, service_names, vpc_id, subnet_ids, security_group_id) = form.get();
                view! {
                    <StepCreate service_names aws_region=aws_region.clone() is_admin vpc_id subnet_ids security_group_id>
                        <CsrfField/>
                        <input type="hidden" name="project_id" value=project_id/>
                    </StepCreate>
                }
            })
            .into_any()
        }
        SetupStep::AssignEndpoints => {
            let form = Memo::new(move |_| {
                data.with(|v| {
                    (v.page.org.role == crate::domain::Role::Admin && v.page.entitled)
                        .then(|| (v.page.org.id.clone(), v.page.project.region_id.clone()))
                })
            });
            let here = here.clone();
            view! {
                <LivePart id="setup-step">{move || data.with(|v| view! { <StepAssign page=v.page.clone() cloud api_base=v.api_base.clone()/> })}</LivePart>
                {move || form.get().map(|(org_id, region)| view! {
                    <AssignEndpointForm
                        org_id
                        regions=RegionChoice::Fixed(region)
                        return_to=here.clone()
                        heading="Assign an endpoint"
                    />
                })}
            }
            .into_any()
        }
        SetupStep::AwaitAcceptance => {
            view! {
                <LivePart id="setup-step">{move || data.with(|v| view! { <StepAwait page=v.page.clone() cloud/> })}</LivePart>
            }
            .into_any()
        }
        SetupStep::EnablePrivateDns => {
            let cloud_region = cloud_region.clone();
            view! {
                <LivePart id="setup-step">{move || {
                    data.with(
                        |v| view! { <StepDns page=v.page.clone() cloud cloud_region=cloud_region.clone() network=v.consumer_network.clone()/> },
                    )
                }}</LivePart>
            }
            .into_any()
        }
        SetupStep::RestrictAndBlock => {
            let here = here.clone();
            view! {
                <LivePart id="setup-step">{move || data.with(|v| view! {
                    <StepRestrict page=v.page.clone() can_change=is_admin can_loosen=can_change here=here.clone()/>
                    <Automate page=v.page.clone() cloud api_base=v.api_base.clone()/>
                })}</LivePart>
            }
            .into_any()
        }
    };

    view! {
        <Title text=format!("{} · Setup step {} of 6", page.project.name, step.number())/>
        <section class="panel" aria-labelledby="setup-heading">
            <p class="muted">
                <a href=format!("/orgs/{}", page.org.id)>{page.org.name.clone()}</a>
                " › " <a href=project_url.clone()>{page.project.name.clone()}</a> " › setup"
            </p>
            <h1 id="setup-heading">"Set up private networking"</h1>
            {page.reachable_privately.then(|| view! { <PrivateBadge/> })}
            <nav aria-label="Setup steps">
                <ol class="stepper">
                    {SetupStep::ALL.into_iter().map(|s| {
                        let current = s == step;
                        view! {
                            <li class:current=current>
                                <a href=format!("{base}/{}", s.number()) aria-current=current.then_some("step")>
                                    <span class="step-number">{s.number()}</span>
                                    <span class="step-title">{s.title_in(cloud)}</span>
                                </a>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </nav>
            {(!is_admin).then(|| view! {
                <p class="note" data-testid="read-only-note">
                    "You can follow every step, but only the organization's admins can make changes: "
                    {page.admins.join(", ")} "."
                </p>
            })}
            {(!page.entitled).then(|| view! {
                <p class="note warn">
                    "Private networking is not included in the " {page.org.plan.as_str()}
                    " plan, so endpoints cannot be assigned. It is part of the Scale, Business and Enterprise plans."
                </p>
            })}
            <Outcome initial=page.flash.clone()/>
        </section>
        <section class="panel" aria-labelledby="step-heading">
            <h2 id="step-heading">"Step " {step.number()} " of 6: " {step.title_in(cloud)}</h2>
            {content}
            <div class="row step-nav">
                {step.previous().map(|p| view! {
                    <StepButton project_id=page.project.id.clone() to=p record=is_admin>"Back: " {p.title_in(cloud)}</StepButton>
                })}
                {match step.next() {
                    Some(n) => view! {
                        <StepButton project_id=page.project.id.clone() to=n primary=true record=is_admin>"Next: " {n.title_in(cloud)}</StepButton>
                    }.into_any(),
                    None => view! { <a class="button" href=project_url.clone()>"Finish: back to network security"</a> }.into_any(),
                }}
            </div>
        </section>
    }
    .into_any()
}

/// What the region's service names are called, and what is created per name, in a cloud.
fn service_words(cloud: Cloud) -> (&'static str, &'static str, &'static str) {
    match cloud {
        Cloud::Aws => ("service name", "VPC endpoint", "VPC"),
        Cloud::Gcp => (
            "service attachment",
            "Private Service Connect endpoint",
            "VPC network",
        ),
        Cloud::Azure => (
            "Private Link service alias",
            "private endpoint",
            "virtual network",
        ),
    }
}

/// Step 1: the region, its endpoint service names and the availability-zone notes.
#[component]
fn StepRegion(
    page: crate::domain::ProjectPageView,
    cloud: Cloud,
    cloud_region: String,
) -> impl IntoView {
    let count = page.service_names.len();
    let (service, endpoint, network) = service_words(cloud);
    let plural = if count == 1 { "" } else { "s" };
    view! {
        <p data-testid="setup-cloud">
            "The project runs in " <strong>{page.region_name.clone()}</strong> " (" <code>{page.project.region_id.clone()}</code>
            ", " {cloud.display_name()} " region " <code>{cloud_region}</code> "). Your application's " {network}
            " must be in the same " {cloud.display_name()} " region."
        </p>
        <p>
            {format!("Create {count} {endpoint}{plural} in that {network}, one for each {service}:")}
        </p>
        <ol class="service-names">
            {page.service_names.iter().enumerate().map(|(i, name)| view! {
                <li><CopyBlock label=format!("{service} {}", i + 1) text=name.clone()/></li>
            }).collect_view()}
        </ol>
        {(!page.availability_zone_notes.is_empty()).then(|| view! {
            <h3>"Notes for this region"</h3>
            <ul>
                {page.availability_zone_notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
            </ul>
        })}
    }
}

/// Step 2: the admin's VPC, subnets and security group, and the AWS CLI commands filled in
/// with them (as typed once hydrated; after "Save" without JavaScript). An island: `children`
/// are the form's hidden fields, rendered by the server.
#[island]
pub fn StepCreate(
    service_names: Vec<String>,
    aws_region: String,
    is_admin: bool,
    vpc_id: String,
    subnet_ids: String,
    security_group_id: String,
    children: Children,
) -> impl IntoView {
    let vpc = RwSignal::new(vpc_id);
    let subnets = RwSignal::new(subnet_ids);
    let sg = RwSignal::new(security_group_id);
    let parsed = Memo::new(move |_| AwsDetails::parse(&vpc.get(), &subnets.get(), &sg.get()));
    let typed = move || !(vpc.get().trim().is_empty() && subnets.get().trim().is_empty());
    let problem = move |field: &'static str| {
        move || match parsed.get() {
            Err(e) if e.field == field && typed() => {
                Some(view! { <span class="error">{e.message}</span> })
            }
            _ => None,
        }
    };
    let details = Memo::new(move |_| {
        parsed.get().unwrap_or_else(|_| AwsDetails {
            vpc_id: "<vpc-id>".into(),
            subnet_ids: vec!["<subnet-id>".into()],
            security_group_id: Some("<security-group-id>".into()),
        })
    });
    let names = service_names;
    let region = aws_region.clone();
    let rule = Signal::derive(move || {
        security_group_rule_command(&region, &details.get()).unwrap_or_default()
    });
    let has_sg = move || details.get().security_group_id.is_some();

    view! {
        <p class="note warn" role="note">
            <strong>"Do not enable private DNS names yet."</strong>
            " Enable them in step 5, after the endpoints are assigned and accepted; AWS refuses private DNS before that."
        </p>
        <form method="post" action=SaveAwsDetails::url() class="stack" aria-labelledby="aws-heading">
            {children()}
            <fieldset class="form-fields">
            <h3 id="aws-heading">"Your VPC"</h3>
            <label for="vpc-id">"VPC id"</label>
            <input id="vpc-id" name="vpc_id" type="text" placeholder="vpc-0a1b2c3d4e5f67890" autocomplete="off" spellcheck="false"
                value=vpc.get_untracked() on:input=move |ev| vpc.set(event_target_value(&ev))
                aria-describedby="vpc-id-help" disabled=!is_admin/>
            <p id="vpc-id-help" class="muted" aria-live="polite">{problem("vpc_id")}</p>
            <label for="subnet-ids">"Subnet ids (one per availability zone, separated by spaces)"</label>
            <input id="subnet-ids" name="subnet_ids" type="text" placeholder="subnet-0a1b2c3d4e5f67890 subnet-…" autocomplete="off" spellcheck="false"
                value=subnets.get_untracked() on:input=move |ev| subnets.set(event_target_value(&ev))
                aria-describedby="subnet-ids-help" disabled=!is_admin/>
            <p id="subnet-ids-help" class="muted" aria-live="polite">{problem("subnet_ids")}</p>
            <label for="security-group-id">"Security group id (optional; the VPC's default group otherwise)"</label>
            <input id="security-group-id" name="security_group_id" type="text" placeholder="sg-0a1b2c3d4e5f67890" autocomplete="off" spellcheck="false"
                value=sg.get_untracked() on:input=move |ev| sg.set(event_target_value(&ev))
                aria-describedby="security-group-id-help" disabled=!is_admin/>
            <p id="security-group-id-help" class="muted" aria-live="polite">{problem("security_group_id")}</p>
            {is_admin.then(|| view! { <button type="submit" class="button secondary">"Save and fill in the commands"</button> })}
            </fieldset>
        </form>
        <Ways id="create" legend="Create the endpoints" ways=vec![
            Way::view("AWS CLI", view! {
                <p>"Run one command per service name with the AWS CLI, then note each endpoint id (" <code>"vpce-…"</code> ") it prints:"</p>
                {names.iter().enumerate().map(|(i, name)| {
                    let names = names.clone();
                    let region = aws_region.clone();
                    let text = Signal::derive(move || {
                        create_endpoint_commands(&region, &names, &details.get()).get(i).cloned().unwrap_or_default()
                    });
                    view! { <CopyBlock label=format!("create-vpc-endpoint command for {name}") text/> }
                }).collect_view()}
                <Show when=has_sg>
                    <h3>"Allow Postgres through the security group"</h3>
                    <p>"Let the VPC reach the endpoint on port 5432:"</p>
                    <CopyBlock label="security group rule command" text=rule/>
                </Show>
            }.into_any()),
            Way::text("AWS console", "creating the endpoints", {
                let (region, names) = (aws_region.clone(), names.clone());
                Signal::derive(move || create_endpoint_click_path(&region, &names, &details.get()))
            }),
            Way::text("Terraform", "creating the endpoints", {
                let (region, names) = (aws_region.clone(), names.clone());
                Signal::derive(move || create_endpoint_terraform(&region, &names, &details.get()))
            }),
        ]/>
    }
}

/// Step 2 on Google Cloud or Azure: where the endpoint goes (the GCP project or Azure
/// resource group, the network, the subnet), and the gcloud / az commands, console
/// click-path and Terraform filled in with it (as typed once hydrated; after "Save" without
/// JavaScript). An island: `children` are the form's hidden fields, rendered by the server.
#[island]
pub fn StepCreateConsumer(
    org_id: String,
    service_names: Vec<String>,
    cloud: Cloud,
    cloud_region: String,
    is_admin: bool,
    saved: ConsumerNetwork,
    children: Children,
) -> impl IntoView {
    let typed = [
        RwSignal::new(saved.owner),
        RwSignal::new(saved.network),
        RwSignal::new(saved.subnet),
    ];
    let [owner, network, subnet] = typed;
    let parsed = Memo::new(move |_| {
        ConsumerNetwork::parse(cloud, &owner.get(), &network.get(), &subnet.get())
    });
    let started = move || typed.iter().any(|t| !t.get().trim().is_empty());
    let details = Memo::new(move |_| {
        parsed
            .get()
            .unwrap_or_else(|_| ConsumerNetwork::placeholder(cloud))
    });
    let fields = ConsumerNetwork::fields(cloud)
        .into_iter()
        .zip(typed)
        .map(|(field, value)| {
            let id = field.name.replace('_', "-");
            let help = format!("{id}-help");
            let name = field.name;
            let problem = move || match parsed.get() {
                Err(e) if e.field == name && started() => {
                    Some(view! { <span class="error">{e.message}</span> })
                }
                _ => None,
            };
            view! {
                <label for=id.clone()>{field.label}</label>
                <input id=id name=name type="text" placeholder=field.placeholder autocomplete="off" spellcheck="false"
                    value=value.get_untracked() on:input=move |ev| value.set(event_target_value(&ev))
                    aria-describedby=help.clone() disabled=!is_admin/>
                <p id=help class="muted" aria-live="polite">{problem}</p>
            }
        })
        .collect_view();
    let (heading, warning) = match cloud {
        Cloud::Gcp => (
            "Your VPC network",
            "Create the DNS zone in step 5, once the endpoint is assigned and accepted: until then the host name would resolve to an endpoint Enclave does not let through.",
        ),
        _ => (
            "Your virtual network",
            "Leave private DNS zone integration off; step 5 adds the zone once the endpoint is assigned and approved.",
        ),
    };
    let names = service_names;
    let ways = match cloud {
        Cloud::Gcp => vec![
            Way::view("gcloud", view! {
                <p>"Run these with the gcloud CLI, once per service attachment; the last command prints the endpoint's PSC connection id (a number), which step 3 asks for:"</p>
                {names.iter().enumerate().map(|(i, name)| {
                    let (names, region) = (names.clone(), cloud_region.clone());
                    let text = Signal::derive(move || {
                        gcp_create_commands(&region, &names, &details.get()).get(i).cloned().unwrap_or_default()
                    });
                    view! { <CopyBlock label=format!("gcloud commands for {name}") text/> }
                }).collect_view()}
            }.into_any()),
            Way::text("Google Cloud console", "creating the endpoint", {
                let (region, names) = (cloud_region.clone(), names.clone());
                Signal::derive(move || gcp_create_click_path(&region, &names, &details.get()))
            }),
            Way::text("Terraform", "creating the endpoint", {
                let (region, names) = (cloud_region.clone(), names.clone());
                Signal::derive(move || gcp_create_terraform(&region, &names, &details.get()))
            }),
        ],
        _ => vec![
            Way::view("Azure CLI", view! {
                <p>"Run this with the Azure CLI, once per alias. The connection waits as \"Pending\" until Enclave approves it; the last command prints the private endpoint's resource id. Azure reports the endpoint's LinkID (a number), which step 3 asks for, with the connection request to the Private Link service."</p>
                {names.iter().enumerate().map(|(i, name)| {
                    let (names, region, org) = (names.clone(), cloud_region.clone(), org_id.clone());
                    let text = Signal::derive(move || {
                        azure_create_commands(&region, &names, &details.get(), &org).get(i).cloned().unwrap_or_default()
                    });
                    view! { <CopyBlock label=format!("az commands for {name}") text/> }
                }).collect_view()}
            }.into_any()),
            Way::text("Azure portal", "creating the private endpoint", {
                let (region, names, org) = (cloud_region.clone(), names.clone(), org_id.clone());
                Signal::derive(move || azure_create_click_path(&region, &names, &details.get(), &org))
            }),
            Way::text("Terraform", "creating the private endpoint", {
                let (region, names, org) = (cloud_region.clone(), names.clone(), org_id.clone());
                Signal::derive(move || azure_create_terraform(&region, &names, &details.get(), &org))
            }),
        ],
    };
    view! {
        <p class="note warn" role="note"><strong>"Not DNS yet."</strong> " " {warning}</p>
        <form method="post" action=SaveConsumerNetwork::url() class="stack" aria-labelledby="network-heading">
            {children()}
            <fieldset class="form-fields">
            <h3 id="network-heading">{heading}</h3>
            {fields}
            {is_admin.then(|| view! { <button type="submit" class="button secondary">"Save and fill in the commands"</button> })}
            </fieldset>
        </form>
        <Ways id="create" legend=if cloud == Cloud::Gcp { "Create the endpoint" } else { "Create the private endpoint" } ways/>
    }
}

/// Endpoints in a simple, read-only table with their states (and, when rejected, why).
#[component]
fn EndpointStates(endpoints: Vec<ProjectEndpointView>, cloud: Cloud) -> impl IntoView {
    let fix = match cloud {
        Cloud::Aws => "To fix it: create a new endpoint in AWS from the organization's account in this region, assign the new id in step 3, and remove this one on the organization page.",
        Cloud::Gcp => "To fix it: create a new endpoint in Google Cloud from a project the organization uses in this region, assign its PSC connection id in step 3, and remove this one on the organization page.",
        Cloud::Azure => "To fix it: create a new private endpoint in Azure in this region, assign its LinkID in step 3, and remove this one on the organization page.",
    };
    if endpoints.is_empty() {
        return view! { <p class="muted">"No endpoints are assigned in this region yet."</p> }
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
                    </tr>
                </thead>
                <tbody>
                    {endpoints.into_iter().map(|e| view! {
                        <tr>
                            <td><code>{e.vpc_endpoint_id.clone()}</code><ConsumerOf endpoint=e.clone()/></td>
                            <td>{e.label.clone()}</td>
                            <td>
                                <span class=format!("badge state-{}", e.state) data-testid=format!("state-{}", e.vpc_endpoint_id)>{e.state.as_str()}</span>
                                {e.rejection_reason.clone().map(|r| view! {
                                    <p class="error">{r}</p>
                                    <p class="muted">{fix}</p>
                                })}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Step 3: the endpoint ids, assigned to the organization in the project's region.
#[component]
fn StepAssign(
    page: crate::domain::ProjectPageView,
    cloud: Cloud,
    api_base: String,
) -> impl IntoView {
    let used = page.endpoints.len();
    let names = page.service_names.len();
    let endpoint = page
        .endpoints
        .last()
        .map(|e| e.vpc_endpoint_id.clone())
        .unwrap_or_else(|| endpoint_placeholder(cloud).into());
    let (neonctl, curl) =
        Automation { base: &api_base }.assign(&page.org.id, &page.project.region_id, &endpoint);
    view! {
        <p>
            {format!("Assign each endpoint you created ({names} in all, one per {}). ", service_words(cloud).0)}
            {match cloud {
                Cloud::Aws => view! { "Enter the VPC endpoint id (" <code>"vpce-…"</code> "), not the VPC id (" <code>"vpc-…"</code> ")." }.into_any(),
                Cloud::Gcp => view! { "Enter the endpoint's PSC connection id: the number " <code>"gcloud compute forwarding-rules describe … --format='value(pscConnectionId)'"</code> " prints, not the forwarding rule's name." }.into_any(),
                Cloud::Azure => view! { "Enter the private endpoint's LinkID: a number, reported with the endpoint's connection to the Private Link service; not its resource id." }.into_any(),
            }}
        </p>
        <p class="muted" data-testid="limit-usage">{format!("{used} of {} endpoints in {}", page.endpoint_limit, page.project.region_id)}</p>
        <EndpointStates endpoints=page.endpoints.clone() cloud/>
        <Ways id="assign-automation" legend="Assign from automation" ways=vec![
            Way::text("neonctl", "assigning an endpoint", neonctl),
            Way::text("curl", "assigning an endpoint", curl),
        ]/>
    }
}

/// Step 6 from automation: restricting the project to an endpoint, and blocking the public
/// internet, with `neonctl` and `curl`.
#[component]
fn Automate(page: crate::domain::ProjectPageView, cloud: Cloud, api_base: String) -> impl IntoView {
    let auto = Automation { base: &api_base };
    let endpoint = page
        .endpoints
        .iter()
        .find(|e| e.state == crate::domain::EndpointState::Accepted)
        .map(|e| e.vpc_endpoint_id.clone())
        .unwrap_or_else(|| endpoint_placeholder(cloud).into());
    let (restrict_neonctl, restrict_curl) = auto.restrict(&page.project.id, &endpoint);
    let (block_neonctl, block_curl) = auto.block_public(&page.project.id);
    view! {
        <Ways id="restrict-automation" legend="Restrict from automation" ways=vec![
            Way::text("neonctl", "restricting the project", restrict_neonctl),
            Way::text("curl", "restricting the project", restrict_curl),
        ]/>
        <Ways id="block-automation" legend="Block public access from automation" ways=vec![
            Way::text("neonctl", "blocking public access", block_neonctl),
            Way::text("curl", "blocking public access", block_curl),
        ]/>
    }
}

/// How an endpoint id is shown before there is one.
fn endpoint_placeholder(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Aws => "<vpce-id>",
        Cloud::Gcp => "<psc-connection-id>",
        Cloud::Azure => "<linkid>",
    }
}

/// Step 4: each endpoint's state, live; rejected ones with the reason and the fix.
#[component]
fn StepAwait(page: crate::domain::ProjectPageView, cloud: Cloud) -> impl IntoView {
    let total = page.endpoints.len();
    let accepted = page
        .endpoints
        .iter()
        .filter(|e| e.state == crate::domain::EndpointState::Accepted)
        .count();
    let summary = if total == 0 {
        "Nothing to wait for yet: assign the endpoints in step 3 first.".to_string()
    } else if accepted == total {
        format!("All {total} endpoint(s) are accepted. Go on to enable private DNS.")
    } else {
        format!("{accepted} of {total} endpoint(s) accepted. New endpoints are usually accepted within a minute; this page updates by itself.")
    };
    view! {
        <p data-testid="acceptance-summary">{summary}</p>
        <EndpointStates endpoints=page.endpoints.clone() cloud/>
    }
}

/// Step 5: private DNS for each accepted endpoint, then checks from inside the VPC.
#[component]
fn StepDns(
    page: crate::domain::ProjectPageView,
    cloud: Cloud,
    cloud_region: String,
    /// Step 2's network on Google Cloud or Azure, as saved.
    network: ConsumerNetwork,
) -> impl IntoView {
    let aws_region = cloud_region;
    let accepted: Vec<ProjectEndpointView> = page
        .endpoints
        .iter()
        .filter(|e| e.state == crate::domain::EndpointState::Accepted)
        .cloned()
        .collect();
    let hostname = page.project.hostname.clone();
    view! {
        {if accepted.is_empty() {
            view! { <p class="note warn">"No endpoint is accepted yet; come back once step 4 shows them accepted."</p> }.into_any()
        } else if cloud != Cloud::Aws {
            // The zone answers the project's host name with the endpoint's address inside
            // the network; the saved network fills it in (placeholders until step 2 is saved).
            let network = ConsumerNetwork::parse(cloud, &network.owner, &network.network, &network.subnet)
                .unwrap_or_else(|_| ConsumerNetwork::placeholder(cloud));
            let ways = if cloud == Cloud::Gcp {
                vec![
                    Way::text("gcloud", "the private DNS zone", gcp_dns_commands(&aws_region, &hostname, &network)),
                    Way::text("Google Cloud console", "the private DNS zone", gcp_dns_click_path(&hostname, &network)),
                    Way::text("Terraform", "the private DNS zone", gcp_dns_terraform(&hostname, &network)),
                ]
            } else {
                vec![
                    Way::text("Azure CLI", "the private DNS zone", azure_dns_commands(&hostname, &network)),
                    Way::text("Azure portal", "the private DNS zone", azure_dns_click_path(&hostname, &network)),
                    Way::text("Terraform", "the private DNS zone", azure_dns_terraform(&hostname, &network)),
                ]
            };
            let legend = if cloud == Cloud::Gcp {
                "Add a Cloud DNS private zone for the project's host name"
            } else {
                "Add a private DNS zone for the project's host name and link it"
            };
            view! { <Ways id="private-dns" legend ways/> }.into_any()
        } else {
            let ids: Vec<String> = accepted.iter().map(|e| e.vpc_endpoint_id.clone()).collect();
            let clicks = ids
                .iter()
                .map(|id| private_dns_click_path(&aws_region, id))
                .collect::<Vec<_>>()
                .join("\n\n");
            let terraform = private_dns_terraform(&ids);
            view! {
                <Ways id="private-dns" legend="Turn on private DNS for each accepted endpoint" ways=vec![
                    Way::view("AWS CLI", accepted.into_iter().map(|e| {
                        let text = enable_private_dns_command(&aws_region, &e.vpc_endpoint_id);
                        view! { <CopyBlock label=format!("private DNS command for {}", e.vpc_endpoint_id) text/> }
                    }).collect_view().into_any()),
                    Way::text("AWS console", "turning on private DNS", clicks),
                    Way::text("Terraform", "turning on private DNS", terraform),
                ]/>
            }.into_any()
        }}
        <h3>"Verify from inside the " {service_words(cloud).2}</h3>
        <p>"The project's host name should resolve to private addresses (10.x, 172.16–31.x or 192.168.x):"</p>
        <CopyBlock label="nslookup command" text=nslookup_command(&hostname)/>
        <p>"Then connect as usual; the connection string does not change:"</p>
        <CopyBlock label="psql command" text=psql_command(&hostname)/>
        <ConnectionCheck page/>
    }
}

/// Step 5 checks itself: each accepted endpoint turns from "waiting" into "private
/// connection seen" once a data-plane proxy lets a connection through it (the page follows
/// live; without JavaScript a reload shows it). With several service names, each endpoint
/// names the one it covers.
#[component]
fn ConnectionCheck(page: crate::domain::ProjectPageView) -> impl IntoView {
    let several = page.service_names.len() > 1;
    let accepted: Vec<ProjectEndpointView> = page
        .endpoints
        .iter()
        .filter(|e| e.state == crate::domain::EndpointState::Accepted)
        .cloned()
        .collect();
    let seen = accepted
        .iter()
        .filter(|e| e.last_connection.is_some())
        .count();
    let total = accepted.len();
    let summary_class = if total != 0 && seen == total {
        "notice"
    } else {
        "muted"
    };
    view! {
        <h3 id="connection-check-heading">"Connection check"</h3>
        <div role="status" aria-live="polite" aria-labelledby="connection-check-heading">
            <p data-testid="connection-check-summary" class=summary_class>
                {if total == 0 {
                    "Waiting for an accepted endpoint.".to_string()
                } else if seen == total {
                    format!("Private connections seen through all {total} accepted endpoint(s): the private path works.")
                } else {
                    format!("Private connection seen through {seen} of {total} accepted endpoint(s); run the psql command from inside the VPC, through each.")
                }}
            </p>
            <ul class="connection-check">
                {accepted.into_iter().map(|e| {
                    let via = if several {
                        e.service_name.clone().map(|n| format!(" (service {n})")).unwrap_or_default()
                    } else {
                        String::new()
                    };
                    let text = match &e.last_connection {
                        Some(l) => format!(
                            "Private connection seen via {}{via} at {} from {}",
                            e.vpc_endpoint_id,
                            crate::domain::format_time(l.at_ms),
                            l.client_network
                        ),
                        None => format!("Waiting for a connection through {}{via}", e.vpc_endpoint_id),
                    };
                    view! {
                        <li data-testid=format!("connection-check-{}", e.vpc_endpoint_id)
                            data-seen=if e.last_connection.is_some() { "yes" } else { "no" }
                            class=if e.last_connection.is_some() { "check-ok" } else { "check-waiting" }>
                            {text}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

/// Step 6: restrict the project to its endpoints and block the public internet, both
/// optional; blocking asks for confirmation, and for more when it would lock everyone out.
#[component]
fn StepRestrict(
    page: crate::domain::ProjectPageView,
    /// May tighten (restrict, block).
    can_change: bool,
    /// May also loosen (needs the entitlement).
    can_loosen: bool,
    here: String,
) -> impl IntoView {
    let restricted_count = page.endpoints.iter().filter(|e| e.restricted).count();

    view! {
        <p>
            "Optional: allow only some of the organization's endpoints to reach this project. Without restrictions, every accepted endpoint of the organization in "
            <code>{page.project.region_id.clone()}</code> " may connect."
        </p>
        <EndpointRows
            endpoints=page.endpoints.clone()
            can_change
            can_loosen
            project_id=page.project.id.clone()
            restricted_count
            return_to=here.clone()
        />
        <h3>"Public internet access"</h3>
        <PublicAccess
            block_public_connections=page.block_public_connections
            rollout=page.rollout.clone()
            block_vpc_connections=page.block_vpc_connections
            can_change
            can_loosen
            report_only=page.public_block_report_only
            block_impact=page.block_public_impact.clone()
            reachable_privately=page.reachable_privately
            project_id=page.project.id.clone()
            here=here.clone()
            return_to=here
        />
    }
}

/// Back or next. For admins moving between steps is a change (it records where the setup
/// resumes), so it is a form, and reading a step changes nothing; for everyone else nothing is
/// recorded, so it is a link.
#[component]
fn StepButton(
    project_id: String,
    to: SetupStep,
    #[prop(default = false)] primary: bool,
    /// Record the move as where the setup resumes (admins).
    record: bool,
    children: Children,
) -> impl IntoView {
    let class = if primary {
        "button"
    } else {
        "button secondary"
    };
    if !record {
        let href = format!("/projects/{project_id}/setup/{}", to.number());
        return view! { <a class=class href=href>{children()}</a> }.into_any();
    }
    let go = change_action::<GoToSetupStep>();
    view! {
        <ChangeForm action=go attr:class="inline-form">
            <input type="hidden" name="project_id" value=project_id/>
            <input type="hidden" name="step" value=to.number().to_string()/>
            <button type="submit" class=class>{children()}</button>
        </ChangeForm>
    }
    .into_any()
}
