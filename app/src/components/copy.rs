//! A command or value shown in full, with a copy button once the page is interactive (before
//! that, the text is there to select by hand).

use leptos::prelude::*;

/// `text` in a `<pre>`, labelled for screen readers, and a "Copy" button.
#[component]
pub fn CopyBlock(
    /// What the block holds, e.g. "create-vpc-endpoint command for service 1".
    #[prop(into)]
    label: String,
    #[prop(into)] text: Signal<String>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            if let Some(window) = web_sys::window() {
                let _ = window
                    .navigator()
                    .clipboard()
                    .write_text(&text.get_untracked());
                copied.set(true);
            }
        }
    };
    let button_label = format!("Copy the {label}");
    view! {
        <div class="copy-block">
            <pre tabindex="0" aria-label=label.clone()><code>{move || text.get()}</code></pre>
            <button type="button" class="button secondary small" aria-label=button_label on:click=copy>
                "Copy"
            </button>
            <span class="muted" role="status" aria-live="polite">
                {move || copied.get().then_some("Copied.")}
            </span>
        </div>
    }
}
