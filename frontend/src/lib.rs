//! The browser entry point: hydrate the server-rendered page and nothing else.
//! Built without features, it is the whole app, split by page; with one of
//! its features, the app of that one page (`app::page_apps`).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    #[cfg(feature = "sign-in-app")]
    leptos::mount::hydrate_body(app::page_apps::SignInApp);
    #[cfg(feature = "invitation-app")]
    leptos::mount::hydrate_body(app::page_apps::AcceptInviteApp);
    #[cfg(feature = "kiosk-app")]
    leptos::mount::hydrate_body(app::page_apps::KioskApp);
    // Waits for the opened page's chunk before hydrating (see `lazy_pages!`).
    #[cfg(not(any(
        feature = "sign-in-app",
        feature = "invitation-app",
        feature = "kiosk-app"
    )))]
    leptos::mount::hydrate_lazy(app::App);
}
