//! "SCIM provisioning" on Settings (Enterprise Owner only): tokens an
//! identity provider (Okta, Microsoft Entra) uses on `/scim/v2`; made here
//! (the secret shown once, with Copy), listed with when they were last
//! used, and revoked.

use leptos::prelude::*;

use crate::{
    api::scim::{list_scim_tokens, CreateScimToken, RevokeScimToken},
    components::{
        form::{field_error, track_action_errors, ServerErrors},
        session::use_session,
    },
    domain::{api_key::ApiKeyName, Permission},
    pages::api_keys::NewSecret,
};

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Shown only to whoever may manage SCIM (the Enterprise Owner).
#[component]
pub fn ScimCard() -> impl IntoView {
    let session = use_session();
    move || {
        session
            .signed_in()
            .filter(|me| me.can(Permission::ManageScim))
            .map(|_| view! { <ScimTokens /> })
    }
}

#[component]
fn ScimTokens() -> impl IntoView {
    let create = ServerAction::<CreateScimToken>::new();
    let revoke = ServerAction::<RevokeScimToken>::new();
    let tokens = crate::components::fetched::fetched(move || {
        create.version().get();
        revoke.version().get();
        list_scim_tokens()
    });
    let errors = ServerErrors::new("/api/create_scim_token");
    track_action_errors(create, errors);
    let name = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let name_error = field_error(
        "name",
        move || ApiKeyName::parse(&name.get()).err(),
        move || submitted.get(),
        errors,
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        errors.set(None);
        if ApiKeyName::parse(&name.get_untracked()).is_err() {
            return;
        }
        create.dispatch(CreateScimToken {
            name: name.get_untracked(),
        });
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
            submitted.set(false);
        }
    });
    let problem = move || {
        revoke
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
            .or_else(|| errors.form_message())
            .map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })
    };
    view! {
        <section class="card" aria-labelledby="scim-head" data-testid="scim-tokens">
            <h2 id="scim-head">"SCIM provisioning"</h2>
            <p class="muted small">
                "Let Okta or Microsoft Entra add, update and deactivate members. Point it at this site's "
                <code>"/scim/v2"</code>" with a token from here as the Bearer token. "
                "Changes it makes are recorded in the audit log as yours."
            </p>
            {move || create.value().get().and_then(Result::ok).map(|made| view! {
                <NewSecret name=made.token.name secret=made.secret />
            })}
            {problem}
            {move || match tokens.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="muted" data-testid="no-scim-tokens">"No SCIM tokens."</p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="session-list">
                        {list.into_iter().map(|t| {
                            let id = t.id;
                            let details = format!(
                                "{}… · created {}{} · last used {}",
                                t.prefix,
                                when(t.created_at),
                                t.created_by.map(|n| format!(" by {n}")).unwrap_or_default(),
                                t.last_used_at.map(when).unwrap_or_else(|| "never".into()),
                            );
                            let label = format!("Revoke {}", t.name);
                            view! {
                                <li data-testid="scim-token">
                                    <div class="session-what">
                                        <strong>{t.name.clone()}</strong>
                                        <div class="muted session-when">{details}</div>
                                    </div>
                                    <button type="button" class="button" aria-label=label
                                        disabled=move || revoke.pending().get()
                                        on:click=move |_| { revoke.dispatch(RevokeScimToken { id }); }>
                                        "Revoke"
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            <form class="stack" on:submit=on_submit novalidate data-testid="scim-token-form">
                <div class="field" class:invalid=move || name_error.get().is_some()>
                    <label for="scim-token-name">"Token name"</label>
                    <input id="scim-token-name" type="text" name="name" maxlength="60"
                        placeholder="e.g. Okta"
                        aria-describedby="scim-token-name-error"
                        aria-invalid=move || if name_error.get().is_some() { "true" } else { "false" }
                        prop:value=move || name.get()
                        on:input=move |ev| {
                            name.set(event_target_value(&ev));
                            errors.clear_field("name");
                        } />
                    <p class="field-error" id="scim-token-name-error" aria-live="polite">{move || name_error.get()}</p>
                </div>
                <div class="actions">
                    <button type="submit" class="button button-primary" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create SCIM token" }}
                    </button>
                </div>
            </form>
        </section>
    }
}
