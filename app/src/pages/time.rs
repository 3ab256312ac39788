use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::AppShell;

#[component]
pub fn TimePage() -> impl IntoView {
    view! {
        <Title text="Time" />
        <AppShell>
            <div class="page-head"><h1>"Time"</h1></div>
            <div class="empty-state">
                <h2>"No time tracked yet"</h2>
                <p>"Your timer and this week's entries will appear here."</p>
            </div>
        </AppShell>
    }
}
