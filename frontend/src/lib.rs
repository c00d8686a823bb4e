//! The browser entry point: hydrates the server-rendered console.
// The console's page views are deep nested types; hydrating them needs more than the
// default 128.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are lazy routes (split wasm chunks): hydration waits for the page's chunk.
    leptos::mount::hydrate_lazy(app::App);
}
