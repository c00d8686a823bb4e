//! The browser entry point: hydrates the console's islands (the interactive parts of the
//! server-rendered pages; see `app::components`).

// Links the application crate, whose islands are the wasm's exports.
#[allow(unused_imports)]
use app::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
