use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{layout::AppShell, session::use_session};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <AppShell>
            <div class="page-head"><h1>"Settings"</h1></div>
            <WorkspaceDetails />
        </AppShell>
    }
}

#[component]
fn WorkspaceDetails() -> impl IntoView {
    let session = use_session();
    move || {
        session.me.get().and_then(Result::ok).map(|me| {
            let workspace = me.workspace.clone();
            view! {
                <section class="card">
                    <h2>"Workspace"</h2>
                    {workspace.map(|w| {
                        let roles: Vec<&str> = w.positions.held().map(|p| p.label()).collect();
                        view! {
                            <dl class="details">
                                <dt>"Name"</dt><dd>{w.name}</dd>
                                <dt>"Plan"</dt><dd>{w.plan.label()}</dd>
                                <dt>"Your roles"</dt><dd>{roles.join(", ")}</dd>
                            </dl>
                        }
                    })}
                </section>
                <section class="card">
                    <h2>"Your account"</h2>
                    <dl class="details">
                        <dt>"Name"</dt><dd>{me.name}</dd>
                        <dt>"Email"</dt><dd>{me.email}</dd>
                    </dl>
                </section>
            }
        })
    }
}
