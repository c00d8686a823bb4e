//! The operator area: platform staff only (everyone else gets "not found"). Trial review
//! builds on it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::server_fns::operator_orgs;

#[component]
pub fn OperatorPage() -> impl IntoView {
    let orgs = Resource::new(|| (), |_| operator_orgs());
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                orgs.get()
                    .map(|result| match result {
                        Ok(list) => view! {
                            <Title text="Operator area"/>
                            <section class="panel" aria-labelledby="operator-heading">
                                <h1 id="operator-heading">"Operator area"</h1>
                                <p class="muted">"Platform staff only. Every organization on this control plane:"</p>
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
                                            {list.into_iter().map(|o| view! {
                                                <tr><td>{o.name}</td><td><code>{o.id}</code></td><td>{o.plan}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            </section>
                        }
                            .into_any(),
                        Err(_) => view! { <crate::pages::not_found::NotFound/> }.into_any(),
                    })
            }}
        </Suspense>
    }
}
