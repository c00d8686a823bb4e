//! Sign in with email and password: a plain form posting to the `sign_in` server function
//! (`/fn/sign_in`), so it works the same with or without the wasm; the server answers with a
//! redirect either way (home, or back here with `?error=…`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::session::{use_session, CsrfField};
use crate::session::sign_in_error_message;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query
            .read()
            .get("error")
            .and_then(|code| sign_in_error_message(&code))
    };
    let signed_out = move || query.read().get("signed_out").is_some();
    let signed_in_as = move || {
        use_session()
            .and_then(|s| s.get())
            .and_then(Result::ok)
            .and_then(|v| v.user)
            .map(|u| u.email)
    };

    view! {
        <Title text="Sign in"/>
        <section class="panel narrow" aria-labelledby="sign-in-heading">
            <h1 id="sign-in-heading">"Sign in to Enclave"</h1>
            <div role="status" aria-live="polite">
                <Show when=signed_out>
                    <p class="notice">"You are signed out."</p>
                </Show>
                <Suspense fallback=|| ()>
                    {move || {
                        signed_in_as()
                            .map(|email| {
                                view! {
                                    <p class="notice">
                                        "You are signed in as " <strong>{email}</strong>
                                        ". Signing in again switches account."
                                    </p>
                                }
                            })
                    }}
                </Suspense>
            </div>
            <div role="alert">
                {move || error().map(|message| view! { <p class="error" id="sign-in-error">{message}</p> })}
            </div>
            <form method="post" action="/fn/sign_in" class="stack">
                <CsrfField/>
                <label for="email">"Email"</label>
                <input
                    id="email"
                    name="email"
                    type="email"
                    autocomplete="username"
                    required
                    aria-describedby=move || error().map(|_| "sign-in-error")
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                />
                <button type="submit" class="button">"Sign in"</button>
            </form>
        </section>
    }
}
