use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::{
    api::workspaces::CreateWorkspace,
    components::{
        form::{field_error, track_action_errors, Field, FormAlert, ServerErrors},
        session::use_session,
    },
    domain::WorkspaceName,
};

#[component]
pub fn NewWorkspacePage() -> impl IntoView {
    view! {
        <Title text="Create a workspace" />
            <Suspense fallback=|| ()><NewWorkspaceForm /></Suspense>
    }
}

#[component]
fn NewWorkspaceForm() -> impl IntoView {
    let session = use_session();
    let action = ServerAction::<CreateWorkspace>::new();
    let errors = ServerErrors::new("/api/create_workspace");
    track_action_errors(action, errors);
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            session.refresh();
        }
    });
    let name = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let name_error = field_error(
        "name",
        move || WorkspaceName::parse(&name.get()).err(),
        move || submitted.get(),
        errors,
    );
    let has_workspace = move || {
        session
            .signed_in()
            .is_some_and(|me| !me.workspaces.is_empty())
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if WorkspaceName::parse(&name.get_untracked()).is_ok() {
            action.dispatch(CreateWorkspace {
                name: name.get_untracked(),
            });
        }
    };
    view! {
        <div class="card narrow">
            <h1>"Create a workspace"</h1>
            <Show
                when=has_workspace
                fallback=|| view! {
                    <p class="lede">"You are not a member of any active workspace right now. Create one to invite your team and start tracking time, or ask an admin to invite you back."</p>
                }
            >
                <p class="lede">"A new workspace starts empty, with you as its Owner."</p>
            </Show>
            <form method="post" action=CreateWorkspace::url() on:submit=on_submit novalidate>
                <FormAlert errors />
                <Field
                    label="Workspace name"
                    name="name"
                    autocomplete="organization"
                    value=name
                    error=name_error
                    autofocus=true
                    on_input=Callback::new(move |_| errors.clear_field("name"))
                />
                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                    "Create workspace"
                </button>
            </form>
        </div>
    }
}
