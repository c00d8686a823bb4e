//! Forms that change something. Each is an `ActionForm` over one server function of
//! [`crate::server_fns::changes`], rendered on the server: it posts to the server function,
//! which sends the browser back to the page with the outcome ([`Outcome`]). Pages are server
//! components (islands mode), so this is how every change form works, with or without the
//! wasm.

use leptos::prelude::*;
use leptos::server_fn::{client::Client, codec::PostUrl, request::ClientReq, Http, ServerFn};
use leptos::web_sys::FormData;
use serde::de::DeserializeOwned;

use crate::components::session::CsrfField;
use crate::domain::{ConsoleError, Done, Flash};

/// The page's action for server function `S` (one per page, shared by its forms): it names
/// the address the forms post to. Each page makes its actions at its root: the server may
/// render a section more than once (async SSR re-runs it when its data arrives), which would
/// dispose an action made inside it while a form still holds it.
pub fn change_action<S>() -> ServerAction<S>
where
    S: ServerFn<Output = Done, Error = ConsoleError> + Clone + Send + Sync + 'static,
{
    if let Some(existing) = use_context::<ServerAction<S>>() {
        return existing;
    }
    let action = ServerAction::<S>::new();
    provide_context(action);
    action
}

/// The page's live region for outcomes: the one a form post brought back.
#[component]
pub fn Outcome(#[prop(into)] initial: Option<Flash>) -> impl IntoView {
    view! {
        <div role="status" aria-live="polite" class="outcome">
            {initial.filter(|f| !f.message.is_empty()).map(|f| view! {
                <p class=if f.ok { "notice" } else { "error" } data-testid="flash">{f.message}</p>
            })}
        </div>
    }
}

/// A change form: an `ActionForm` with the CSRF field. Attributes given as `attr:…` land on
/// the `<form>`.
#[component]
pub fn ChangeForm<S, P>(action: ServerAction<S>, children: Children) -> impl IntoView
where
    S: DeserializeOwned + ServerFn<Protocol = Http<PostUrl, P>> + Clone + Send + Sync + 'static,
    <<S::Client as Client<S::Error>>::Request as ClientReq<S::Error>>::FormData: From<FormData>,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
    <S as ServerFn>::Client: Client<<S as ServerFn>::Error>,
{
    view! {
        <ActionForm action>
            <CsrfField/>
            <fieldset class="form-fields">
                {children()}
            </fieldset>
        </ActionForm>
    }
}
