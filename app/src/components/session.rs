//! The session in the page: the header's account menu and the hidden CSRF field every
//! state-changing form carries.

use leptos::prelude::*;

use crate::session::{SessionView, CSRF_FIELD};

/// The session resource, provided by [`crate::App`] for every page.
pub type SessionResource = Resource<Result<SessionView, crate::domain::ConsoleError>>;

pub fn use_session() -> Option<SessionResource> {
    use_context::<SessionResource>()
}

/// `<input type="hidden" name="csrf_token">` with this page's token. Plain forms post it and
/// the server refuses state-changing requests without it.
#[component]
pub fn CsrfField() -> impl IntoView {
    let token = move || {
        use_session()
            .and_then(|s| s.get())
            .and_then(Result::ok)
            .map(|v| v.csrf_token)
            .unwrap_or_default()
    };
    view! {
        <Suspense fallback=|| ()>
            <input type="hidden" name=CSRF_FIELD value=token/>
        </Suspense>
    }
}

/// Who is signed in, with a sign-out button; or a link to sign in.
#[component]
pub fn AccountMenu() -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let view = use_session().and_then(|s| s.get()).and_then(Result::ok);
                match view.and_then(|v| v.user.map(|u| (u, v.csrf_token))) {
                    Some((user, csrf)) => {
                        view! {
                            <div class="account">
                                <span class="account-email" data-testid="signed-in-as">
                                    {user.email}
                                </span>
                                <form method="post" action="/fn/sign_out" class="inline-form">
                                    <input type="hidden" name=CSRF_FIELD value=csrf/>
                                    <button type="submit" class="button secondary small">
                                        "Sign out"
                                    </button>
                                </form>
                            </div>
                        }
                            .into_any()
                    }
                    None => view! { <a class="button small" href="/sign-in">"Sign in"</a> }.into_any(),
                }
            }}
        </Suspense>
    }
}

/// The signed-in person's organizations, for the switcher and the overview.
pub type OrgsResource =
    Resource<Result<Vec<crate::domain::OrgSummary>, crate::domain::ConsoleError>>;

/// A disclosure listing the person's organizations; works without the wasm (`<details>`).
#[component]
pub fn OrgSwitcher() -> impl IntoView {
    let orgs = use_context::<OrgsResource>();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let list = orgs.and_then(|o| o.get()).and_then(Result::ok).unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <details class="org-switcher">
                        <summary>"Organizations"</summary>
                        <ul>
                            {list.into_iter().map(|o| view! {
                                <li><a href=format!("/orgs/{}", o.id)>{o.name}</a></li>
                            }).collect_view()}
                        </ul>
                    </details>
                })
            }}
        </Suspense>
    }
}

/// The navigation entry of the operator area, for operators only.
#[component]
pub fn OperatorLink() -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let operator = use_session()
                    .and_then(|s| s.get())
                    .and_then(Result::ok)
                    .and_then(|v| v.user)
                    .is_some_and(|u| u.is_operator);
                operator.then(|| view! { <li><a href="/operator">"Operator area"</a></li> })
            }}
        </Suspense>
    }
}
