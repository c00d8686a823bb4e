//! The browser entry point: hydrates the server-rendered console.
// The console's page views are deep nested types; hydrating them needs more than the
// default 128.
#![recursion_limit = "256"]

use leptos::prelude::document;
use leptos::tachys::dom::body;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are lazy routes (split wasm chunks): hydration waits for the page's chunk. This is
    // `leptos::mount::hydrate_lazy`, plus a mark once it has finished.
    wasm_bindgen_futures::spawn_local(async {
        let view = leptos::mount::hydrate_from_async(body(), app::App).await;
        mark_hydrated();
        view.forget();
    });
}

/// Marks `<main>` once the whole page, its lazily loaded chunk included, is live: tests and
/// styles tell a working page from a server-rendered one by it. An effect in the shell would
/// fire while the page's chunk is still on its way.
fn mark_hydrated() {
    if let Ok(Some(main)) = document().query_selector("main#main") {
        let _ = main.set_attribute("data-hydrated", "true");
    }
}
