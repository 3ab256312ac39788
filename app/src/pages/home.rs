use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::{api::auth::landing_path, components::session::use_session};

/// `/` sends people where they belong: their workspace, or sign-in.
#[component]
pub fn HomePage() -> impl IntoView {
    let session = use_session();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let path = match session.me.await {
                    Ok(me) => landing_path(me.workspace.is_some()),
                    Err(_) => "/signin",
                };
                view! { <Redirect path=path /> }
            })}
        </Suspense>
    }
}
