//! A command or value shown in full, with a copy button that works once the page's wasm runs
//! (`page_scripts`; before that, the text is there to select by hand).

use leptos::prelude::*;

/// `text` in a `<pre>`, labelled for screen readers, and a "Copy" button.
#[component]
pub fn CopyBlock(
    /// What the block holds, e.g. "create-vpc-endpoint command for service 1".
    #[prop(into)]
    label: String,
    #[prop(into)] text: Signal<String>,
) -> impl IntoView {
    let button_label = format!("Copy the {label}");
    view! {
        <div class="copy-block" data-copy-scope="">
            <pre tabindex="0" aria-label=label data-copy-source=""><code>{move || text.get()}</code></pre>
            <button type="button" class="button secondary small" aria-label=button_label data-copy="Copied.">
                "Copy"
            </button>
            <span class="muted" role="status" aria-live="polite" data-copy-status=""></span>
        </div>
    }
}
