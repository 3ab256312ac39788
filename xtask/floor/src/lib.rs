//! The smallest Leptos 0.8 app shaped like Teamroom's shell: router, meta,
//! one server function behind a form, two routes. Its wasm is the
//! framework's floor for `bench wasm`'s core.
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

#[server]
pub async fn ping(name: String) -> Result<String, ServerFnError> {
    Ok(name)
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let action = ServerAction::<Ping>::new();
    view! {
        <Title text="floor" />
        <Router>
            <Routes fallback=|| "not found">
                <Route path=path!("/") view=move || view! {
                    <ActionForm action>
                        <input name="name" />
                        <button>"Go"</button>
                    </ActionForm>
                    <p>{move || action.value().get().map(|r| format!("{r:?}"))}</p>
                } />
                <Route path=path!("/other") view=|| view! { <a href="/">"home"</a> } />
            </Routes>
        </Router>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}
