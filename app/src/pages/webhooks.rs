//! An organization's Webhooks page (admins): add an HTTPS receiver with the events it wants
//! (its signing secret is shown once), see each receiver's recent deliveries with their
//! status codes and errors, send one again, remove a receiver. The forms are change forms
//! (server functions), so the page works the same with or without the wasm.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::change_form::{change_action, ChangeForm, Outcome};
use crate::domain::{
    ErrorCode, WebhookDeliveryView, WebhookEvent, WebhookView, WebhooksPageView,
    DEFAULT_REFUSAL_THRESHOLD,
};
use crate::server_fns::changes::{CreateWebhook, DeleteWebhook, RedeliverWebhook};
use crate::server_fns::webhooks_page;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org_id").unwrap_or_default();
    let page = Resource::new(org, webhooks_page);
    // The page's change actions, made at its root (see `change_action`).
    let create = change_action::<CreateWebhook>();
    change_action::<DeleteWebhook>();
    change_action::<RedeliverWebhook>();

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading webhooks…"</p> }>
            {move || {
                page.get()
                    .map(|result| match result {
                        Ok(view) => view! { <WebhooksBody view create/> }.into_any(),
                        Err(e) if e.code == ErrorCode::Unauthenticated => view! {
                            <Title text="Sign in"/>
                            <section class="panel">
                                <p>"Sign in to manage this organization's webhooks."</p>
                                <a class="button" href="/sign-in">"Sign in"</a>
                            </section>
                        }
                            .into_any(),
                        Err(e) if e.code == ErrorCode::InternalError => view! {
                            <p class="error" role="alert">{e.for_people()}</p>
                        }
                            .into_any(),
                        Err(_) => view! { <crate::pages::org::OrgNotFound/> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn WebhooksBody(view: WebhooksPageView, create: ServerAction<CreateWebhook>) -> impl IntoView {
    let WebhooksPageView {
        org_id,
        org_name,
        is_admin,
        webhooks,
        new_secret,
        allow_private,
        flash,
    } = view;
    // The receiver just added: from the change (JavaScript), or handed over once after a
    // plain form post.
    let created = move || {
        create
            .value()
            .get()
            .and_then(Result::ok)
            .and_then(|done| done.new_key)
            .map(|key| (key.id, key.token))
            .or_else(|| new_secret.clone())
    };
    let placeholder = if allow_private {
        "https://hooks.example.com/enclave (or http:// on your network)"
    } else {
        "https://hooks.example.com/enclave"
    };
    view! {
        <Title text=format!("Webhooks · {org_name}")/>
        <section class="panel" aria-labelledby="webhooks-heading">
            <p class="muted"><a href=format!("/orgs/{org_id}")>{format!("← {org_name}")}</a></p>
            <h1 id="webhooks-heading">"Webhooks"</h1>
            <p class="muted">
                "Enclave posts each event to your receivers as it happens, signed the "
                <a href="https://www.standardwebhooks.com/">"Standard Webhooks"</a>
                " way (" <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code> ", "
                <code>"webhook-signature"</code>
                "). Deliveries are retried for a day with growing waits, in order per receiver."
            </p>
        </section>
        <Outcome initial=flash/>
        {if !is_admin {
            view! {
                <section class="panel">
                    <p class="note" data-testid="admins-only">
                        "Only the organization's admins can see and change its webhooks."
                    </p>
                </section>
            }
                .into_any()
        } else {
            let org_for_form = org_id.clone();
            view! {
                {move || created().map(|(id, secret)| view! { <NewSecret id secret/> })}
                <section class="panel" aria-labelledby="add-heading">
                    <h2 id="add-heading">"Add a receiver"</h2>
                    <ChangeForm action=create attr:class="stack">
                        <input type="hidden" name="org_id" value=org_for_form/>
                        <label for="webhook-url">"Receiver URL"</label>
                        <input id="webhook-url" name="url" type="url" required maxlength="2000"
                            placeholder=placeholder autocomplete="off"/>
                        <fieldset class="events">
                            <legend>"Events"</legend>
                            {WebhookEvent::ALL
                                .into_iter()
                                .enumerate()
                                .map(|(i, event)| {
                                    let id = format!("event-{}", event.as_str().replace('.', "-"));
                                    view! {
                                        <div class="check">
                                            <input type="checkbox" id=id.clone() name=format!("events[{i}]")
                                                value=event.as_str() checked=true/>
                                            <label for=id>
                                                <code>{event.as_str()}</code> " — " {event.describe()}
                                            </label>
                                        </div>
                                    }
                                })
                                .collect_view()}
                        </fieldset>
                        <label for="webhook-threshold">"Refusal threshold (per project per hour)"</label>
                        <input id="webhook-threshold" name="refusal_threshold" type="number" min="1"
                            max="1000000" inputmode="numeric" placeholder=DEFAULT_REFUSAL_THRESHOLD.to_string()/>
                        <button type="submit" class="button">"Add receiver"</button>
                    </ChangeForm>
                </section>
                {if webhooks.is_empty() {
                    view! {
                        <section class="panel"><p class="muted" data-testid="no-webhooks">"No receivers yet."</p></section>
                    }
                        .into_any()
                } else {
                    webhooks
                        .into_iter()
                        .map(|webhook| view! { <Receiver org_id=org_id.clone() webhook/> })
                        .collect_view()
                        .into_any()
                }}
            }
                .into_any()
        }}
    }
}

/// A new receiver's signing secret, shown once.
#[component]
fn NewSecret(id: String, secret: String) -> impl IntoView {
    view! {
        <section class="panel highlight" aria-labelledby="secret-heading">
            <h2 id="secret-heading">"Signing secret"</h2>
            <p>
                "Receiver " <code>{id}</code>
                " is added. Copy its signing secret now: it is shown only this once. Verify each delivery's "
                <code>"webhook-signature"</code> " with it."
            </p>
            <label for="webhook-secret">"Secret"</label>
            <input id="webhook-secret" type="text" readonly value=secret data-testid="webhook-secret"/>
        </section>
    }
}

#[component]
fn Receiver(org_id: String, webhook: WebhookView) -> impl IntoView {
    let delete = change_action::<DeleteWebhook>();
    let heading = format!("heading-{}", webhook.id);
    let labelled_by = heading.clone();
    let label = format!("Remove receiver {}", webhook.url);
    view! {
        <section class="panel" aria-labelledby=labelled_by data-testid="webhook">
            <h2 id=heading class="webhook-url">{webhook.url.clone()}</h2>
            <dl class="facts">
                <div><dt>"Id"</dt><dd><code>{webhook.id.clone()}</code></dd></div>
                <div><dt>"Added"</dt><dd>{webhook.created_at.clone()}</dd></div>
                <div><dt>"Events"</dt><dd>{webhook.events.join(", ")}</dd></div>
                <div><dt>"Refusal threshold"</dt><dd>{format!("{} per hour", webhook.refusal_threshold)}</dd></div>
            </dl>
            <h3>"Recent deliveries"</h3>
            {if webhook.deliveries.is_empty() {
                view! { <p class="muted">"Nothing sent yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <caption class="visually-hidden">{format!("Deliveries to {}", webhook.url)}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Event"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Attempts"</th>
                                    <th scope="col">"Last answer"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {webhook
                                    .deliveries
                                    .into_iter()
                                    .map(|d| view! { <DeliveryRow org_id=org_id.clone() delivery=d/> })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
            <ChangeForm action=delete attr:class="inline-form">
                <input type="hidden" name="org_id" value=org_id.clone()/>
                <input type="hidden" name="id" value=webhook.id.clone()/>
                <button type="submit" class="button danger small" aria-label=label>"Remove receiver"</button>
            </ChangeForm>
        </section>
    }
}

#[component]
fn DeliveryRow(org_id: String, delivery: WebhookDeliveryView) -> impl IntoView {
    let redeliver = change_action::<RedeliverWebhook>();
    let answer = match (delivery.last_status_code, delivery.last_error.is_empty()) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, false) => delivery.last_error.clone(),
        (None, true) => "—".to_string(),
    };
    let status = match (delivery.status.as_str(), &delivery.next_attempt_at) {
        ("pending", Some(next)) if delivery.attempts > 0 => format!("retrying (next {next})"),
        ("pending", _) => "sending".to_string(),
        (other, _) => other.to_string(),
    };
    let label = format!("Send again: the {} delivery", delivery.event);
    view! {
        <tr data-testid="delivery">
            <td><code>{delivery.event.clone()}</code></td>
            <td class=format!("delivery-{}", delivery.status)>{status}</td>
            <td>{delivery.attempts}</td>
            <td title=delivery.last_error.clone()>{answer}</td>
            <td>{delivery.created_at.clone()}</td>
            <td>
                <ChangeForm action=redeliver attr:class="inline-form">
                    <input type="hidden" name="org_id" value=org_id/>
                    <input type="hidden" name="delivery" value=delivery.id.clone()/>
                    <button type="submit" class="button secondary small" aria-label=label>"Send again"</button>
                </ChangeForm>
            </td>
        </tr>
    }
}
