//! Every way to do a step, as tabs: one radio button per way (the AWS CLI, the AWS console's
//! click-path, Terraform; `neonctl`, `curl`) and a panel each, switched by CSS alone, so they
//! work the same before and without the wasm, and arrow keys move between them as in any
//! radio group.

use leptos::prelude::*;

use super::copy::CopyBlock;

/// One way: its tab's name, and its panel (usually what to run or follow, filled in with the
/// user's values).
pub struct Way {
    pub name: &'static str,
    pub panel: AnyView,
}

impl Way {
    /// A way that is one text to copy, labelled "<name> for <what>".
    pub fn text(name: &'static str, what: &str, text: impl Into<Signal<String>>) -> Self {
        let label = format!("{name} for {what}");
        let text = text.into();
        Self {
            name,
            panel: view! { <CopyBlock label text/> }.into_any(),
        }
    }

    pub fn view(name: &'static str, panel: AnyView) -> Self {
        Self { name, panel }
    }
}

/// A labelled group of ways; `id` must be unique on the page (it names the radio group). The
/// first way is chosen at first; at most four ways per group.
#[component]
pub fn Ways(
    #[prop(into)] id: String,
    #[prop(into)] legend: String,
    ways: Vec<Way>,
) -> impl IntoView {
    debug_assert!(ways.len() <= 4, "the stylesheet switches at most four ways");
    let choices = ways
        .iter()
        .enumerate()
        .map(|(i, way)| {
            let input = format!("{id}-{i}");
            view! {
                <input type="radio" class="way-choice" name=id.clone() id=input.clone() checked=i == 0/>
                <label for=input>{way.name}</label>
            }
        })
        .collect_view();
    let panels = ways
        .into_iter()
        .map(|way| view! { <div class="way-panel" data-way=way.name>{way.panel}</div> })
        .collect_view();
    view! {
        <fieldset class="ways" data-testid=format!("ways-{id}")>
            <legend>{legend.clone()}</legend>
            {choices}
            <div class="way-panels">{panels}</div>
        </fieldset>
    }
}
