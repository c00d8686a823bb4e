//! Forms that change something. Each is an `ActionForm` over one server function of
//! [`crate::server_fns::changes`], so the same markup works two ways: without JavaScript it
//! posts to the server function, which sends the browser back to the page with the outcome;
//! with JavaScript it is sent in the background, its fields are disabled while it is under
//! way (it cannot be sent twice), and the outcome is announced in the page's live region
//! ([`Outcome`]) while the page's data is read again in place.

use leptos::prelude::*;
use leptos::server_fn::{client::Client, codec::PostUrl, request::ClientReq, Http, ServerFn};
use leptos::web_sys::FormData;
use serde::de::DeserializeOwned;

use crate::components::session::CsrfField;
use crate::domain::{ConsoleError, Done, Flash};

/// What a page shares with its change forms: where outcomes are shown, and how to read the
/// page's data again after a change.
#[derive(Clone, Copy)]
pub struct PageChanges {
    pub outcome: RwSignal<Option<Flash>>,
    pub reload: Callback<()>,
}

/// Sets up a page for change forms; `reload` reads the page's data again.
pub fn provide_page_changes(reload: impl Fn() + Send + Sync + 'static) -> PageChanges {
    let changes = PageChanges {
        outcome: RwSignal::new(None),
        reload: Callback::new(move |_| reload()),
    };
    provide_context(changes);
    changes
}

/// The page's action for server function `S`: the page makes each once (so it outlives the
/// forms that come and go with the page's data), and forms below take it from there. Its
/// outcome goes to the page's live region; a success reloads the page's data.
pub fn change_action<S>() -> ServerAction<S>
where
    S: ServerFn<Output = Done, Error = ConsoleError> + Clone + Send + Sync + 'static,
{
    if let Some(existing) = use_context::<ServerAction<S>>() {
        return existing;
    }
    let action = ServerAction::<S>::new();
    if let Some(changes) = use_context::<PageChanges>() {
        let seen = StoredValue::new(0usize);
        Effect::new(move |_| {
            let version = action.version().get();
            if version == seen.get_value() {
                return;
            }
            if let Some(result) = action.value().get() {
                seen.set_value(version);
                let ok = result.is_ok();
                changes.outcome.set(Some(match result {
                    Ok(done) => Flash {
                        ok: true,
                        message: done.message,
                    },
                    Err(e) => Flash {
                        ok: false,
                        message: e.for_people(),
                    },
                }));
                if ok {
                    changes.reload.run(());
                }
            }
        });
    }
    provide_context(action);
    action
}

/// The page's live region for outcomes: the last change's, or the one a plain form post
/// brought back (`initial`).
#[component]
pub fn Outcome(#[prop(into)] initial: Option<Flash>) -> impl IntoView {
    let changes = use_context::<PageChanges>();
    // In the browser the brought-back outcome becomes the page's, so it outlives re-renders.
    // The server only shows it (`shown` falls back to it): a signal written while the server
    // renders re-runs parts it is still resolving.
    #[cfg(feature = "hydrate")]
    if let (Some(changes), Some(flash)) = (changes, initial.clone()) {
        if changes
            .outcome
            .with_untracked(|o| o.as_ref() != Some(&flash))
        {
            changes.outcome.set(Some(flash));
        }
    }
    let shown = move || {
        changes
            .and_then(|c| c.outcome.get())
            .or_else(|| initial.clone())
    };
    view! {
        <div role="status" aria-live="polite" class="outcome">
            {move || shown().filter(|f| !f.message.is_empty()).map(|f| view! {
                <p class=if f.ok { "notice" } else { "error" } data-testid="flash">{f.message}</p>
            })}
        </div>
    }
}

/// A change form: an `ActionForm` with the CSRF field, its fields disabled while the change
/// is under way. Attributes given as `attr:…` land on the `<form>`.
#[component]
pub fn ChangeForm<S, P>(action: ServerAction<S>, children: Children) -> impl IntoView
where
    S: DeserializeOwned + ServerFn<Protocol = Http<PostUrl, P>> + Clone + Send + Sync + 'static,
    <<S::Client as Client<S::Error>>::Request as ClientReq<S::Error>>::FormData: From<FormData>,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
    <S as ServerFn>::Client: Client<<S as ServerFn>::Error>,
{
    let pending = action.pending();
    view! {
        <ActionForm action>
            <CsrfField/>
            <fieldset class="form-fields" disabled=move || pending.get() aria-busy=move || pending.get().to_string()>
                {children()}
            </fieldset>
        </ActionForm>
    }
}
