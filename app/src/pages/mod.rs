//! One module per page.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod groups;
pub mod home;
pub mod import;
pub mod invite;
pub mod invite_dialog;
pub mod kiosk;
pub mod member;
pub mod member_time;
pub mod password_reset;
pub mod profile;
pub mod reports;
pub mod scim;
pub mod settings;
pub mod team;
pub mod team_bulk;
pub mod team_controls;
pub mod team_on_demand;
pub mod time;
pub mod two_factor;
pub mod workspace;

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <main class="centered-page">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p>"That page does not exist. It may have moved."</p>
                <p><a class="button" href="/">"Go to Teamroom"</a></p>
            </div>
        </main>
    }
}
