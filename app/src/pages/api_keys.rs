//! The API keys page: create personal or organization keys (the key is shown once, with a
//! copy button), see when each was created and last used, revoke. The forms are change forms
//! (server functions), so the page works the same with or without the wasm.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::change_form::{change_action, ChangeForm, Outcome};
use crate::domain::{format_time, ApiKeyView, ApiKeysView, NewKeyView};
use crate::server_fns::api_keys_page;
use crate::server_fns::changes::{CreateApiKey, RevokeApiKey};

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let keys = Resource::new(|| (), |_| api_keys_page());
    // The page's change actions, made at its root (see `change_action`).
    let create = change_action::<CreateApiKey>();
    change_action::<RevokeApiKey>();

    view! {
        <Title text="API keys"/>
        <section class="panel" aria-labelledby="keys-heading">
            <h1 id="keys-heading">"API keys"</h1>
            <p class="muted">
                "Keys authenticate automation against the REST API at " <code>"/api/v2"</code>
                " (send " <code>"Authorization: Bearer <key>"</code>
                "). A personal key acts as you; an organization key has admin rights in its organization."
            </p>
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
            {move || {
                keys.get()
                    .map(|result| match result {
                        Ok(view) => view! { <KeysBody view create/> }.into_any(),
                        Err(e) if e.code == crate::domain::ErrorCode::Unauthenticated => {
                            view! {
                                <section class="panel">
                                    <p>"Sign in to manage your API keys."</p>
                                    <a class="button" href="/sign-in">"Sign in"</a>
                                </section>
                            }
                                .into_any()
                        }
                        Err(e) => {
                            view! {
                                <section class="panel">
                                    <p class="error">"Could not load your keys: " {e.for_people()}</p>
                                </section>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn KeysBody(view: ApiKeysView, create: ServerAction<CreateApiKey>) -> impl IntoView {
    let ApiKeysView {
        personal,
        orgs,
        new_key,
        flash,
    } = view;
    // The key just created, handed over once after the form post.
    let created = move || new_key.clone();
    let owners: Vec<(String, String)> =
        std::iter::once(("personal".to_string(), "Personal (acts as you)".to_string()))
            .chain(
                orgs.iter()
                    .map(|(o, _)| (o.id.clone(), format!("Organization: {}", o.name))),
            )
            .collect();
    view! {
        <Outcome initial=flash/>
        {move || created().map(|key| view! { <NewKey key/> })}
        <section class="panel" aria-labelledby="create-heading">
            <h2 id="create-heading">"Create a key"</h2>
            <ChangeForm action=create attr:class="stack">
                <label for="key-name">"Name"</label>
                <input id="key-name" name="name" type="text" required maxlength="100" placeholder="CI deploys"/>
                <label for="key-owner">"Owner"</label>
                <select id="key-owner" name="owner">
                    {owners
                        .into_iter()
                        .map(|(value, label)| view! { <option value=value>{label}</option> })
                        .collect_view()}
                </select>
                <label for="key-expires">"Expires"</label>
                <select id="key-expires" name="expires">
                    <option value="never">"Never"</option>
                    <option value="30">"In 30 days"</option>
                    <option value="90">"In 90 days"</option>
                    <option value="365">"In a year"</option>
                </select>
                <button type="submit" class="button">"Create key"</button>
            </ChangeForm>
        </section>
        <KeyTable title="Your personal keys".to_string() keys=personal/>
        {orgs
            .into_iter()
            .map(|(org, keys)| view! { <KeyTable title=format!("Keys of {}", org.name) keys/> })
            .collect_view()}
    }
}

/// The key just created, shown once, with a copy button that works once the page's wasm runs
/// (`page_scripts`).
#[component]
fn NewKey(key: NewKeyView) -> impl IntoView {
    view! {
        <section class="panel highlight" aria-labelledby="new-key-heading" data-copy-scope="">
            <h2 id="new-key-heading">"Your new key"</h2>
            <p>"Copy it now: it is shown only this once. Store it like a password."</p>
            <label for="new-key">"API key"</label>
            <div class="copy-row">
                <input id="new-key" type="text" readonly value=key.token data-testid="new-key" data-copy-source=""/>
                <button type="button" class="button secondary" data-copy="Copied to the clipboard.">"Copy"</button>
            </div>
            <p role="status" aria-live="polite" class="muted" data-copy-status=""></p>
        </section>
    }
}

#[component]
fn KeyTable(title: String, keys: Vec<ApiKeyView>) -> impl IntoView {
    let empty = keys.is_empty();
    view! {
        <section class="panel">
            <h2>{title.clone()}</h2>
            {if empty {
                view! { <p class="muted">"No keys yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <caption class="visually-hidden">{title}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Key"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col">"Last used"</th>
                                    <th scope="col">"Expires"</th>
                                    <th scope="col">"Status"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {keys.into_iter().map(|k| view! { <KeyRow key=k/> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn KeyRow(key: ApiKeyView) -> impl IntoView {
    let label = format!("Revoke key {}", key.name);
    let revoke = change_action::<RevokeApiKey>();
    view! {
        <tr>
            <td>{key.name.clone()}</td>
            <td><code>{format!("{}…", key.prefix)}</code></td>
            <td>{format_time(key.created_at_ms)}</td>
            <td>{key.last_used_at_ms.map(format_time).unwrap_or_else(|| "Never".into())}</td>
            <td>{key.expires_at_ms.map(format_time).unwrap_or_else(|| "Never".into())}</td>
            <td>
                {if key.revoked {
                    view! { <span class="badge muted">"Revoked"</span> }.into_any()
                } else {
                    view! {
                        <ChangeForm action=revoke attr:class="inline-form">
                            <input type="hidden" name="id" value=key.id.clone()/>
                            <button type="submit" class="button danger small" aria-label=label>
                                "Revoke"
                            </button>
                        </ChangeForm>
                    }
                        .into_any()
                }}
            </td>
        </tr>
    }
}
