//! The browser entry point: hydrate the server-rendered page and nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Waits for the opened page's chunk before hydrating (see `lazy_pages!`).
    leptos::mount::hydrate_lazy(app::App);
}
