//! What every page does once its wasm runs: the copy buttons, forms that cannot be sent twice,
//! and the mark that the page is interactive. One island, the last on the page, so it
//! hydrates after all the others.

use leptos::prelude::*;

/// Marks `<main>` with `data-hydrated="true"` once the page's islands have hydrated (islands
/// hydrate in document order and this one is last), and makes every copy button work: a click
/// on a `[data-copy]` button copies the `[data-copy-source]` (its value, or its text) of the
/// button's `[data-copy-scope]`, and says so in that scope's `[data-copy-status]`. Delegated
/// from the document, so copy buttons in server-rendered HTML and in sections a live update
/// replaced work alike, with no code per button. A form being sent has its submit buttons
/// disabled and is marked busy until the next page arrives (re-enabled if the browser brings
/// the page back from its history cache), so a second click cannot send it twice.
#[island]
pub fn PageScripts() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::start();
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{Element, HtmlInputElement};

    pub fn start() {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        listen(document.as_ref(), "click", copy_on_click);
        listen(document.as_ref(), "submit", busy_on_submit);
        if let Some(window) = web_sys::window() {
            listen(window.as_ref(), "pageshow", idle_on_pageshow);
        }
        if let Ok(Some(main)) = document.query_selector("main#main") {
            let _ = main.set_attribute("data-hydrated", "true");
        }
    }

    /// Calls `handler` on every `event` at `target`, for as long as the page lives.
    fn listen(target: &web_sys::EventTarget, event: &str, handler: fn(web_sys::Event)) {
        let closure = Closure::<dyn Fn(web_sys::Event)>::new(handler);
        let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        closure.forget();
    }

    fn submit_buttons(form: &Element, disabled: bool) {
        let Ok(buttons) = form.query_selector_all("button[type=submit]") else {
            return;
        };
        for i in 0..buttons.length() {
            if let Some(button) = buttons.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                let _ = if disabled {
                    button.set_attribute("disabled", "")
                } else {
                    button.remove_attribute("disabled")
                };
            }
        }
    }

    /// Runs after the submission has started (the buttons' state no longer matters to it).
    fn busy_on_submit(event: web_sys::Event) {
        if event.default_prevented() {
            return;
        }
        if let Some(form) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) {
            let _ = form.set_attribute("aria-busy", "true");
            submit_buttons(&form, true);
        }
    }

    fn idle_on_pageshow(_: web_sys::Event) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Ok(busy) = document.query_selector_all("form[aria-busy=true]") else {
            return;
        };
        for i in 0..busy.length() {
            if let Some(form) = busy.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                let _ = form.remove_attribute("aria-busy");
                submit_buttons(&form, false);
            }
        }
    }

    fn copy_on_click(event: web_sys::Event) {
        let Some(button) = event
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|e| e.closest("[data-copy]").ok().flatten())
        else {
            return;
        };
        let Some(scope) = button.closest("[data-copy-scope]").ok().flatten() else {
            return;
        };
        let Ok(Some(source)) = scope.query_selector("[data-copy-source]") else {
            return;
        };
        let text = match source.dyn_ref::<HtmlInputElement>() {
            Some(input) => input.value(),
            None => source.text_content().unwrap_or_default(),
        };
        let Some(window) = web_sys::window() else {
            return;
        };
        let _ = window.navigator().clipboard().write_text(&text);
        if let Ok(Some(status)) = scope.query_selector("[data-copy-status]") {
            let message = button.get_attribute("data-copy").unwrap_or_default();
            status.set_text_content(Some(&message));
        }
    }
}
