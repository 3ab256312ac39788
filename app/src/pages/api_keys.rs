//! "API keys" on the profile: the member's own keys in this workspace, a
//! form to make one (its secret shown once, with a Copy button) and Revoke.

use leptos::prelude::*;

use crate::{
    api::api_keys::{list_my_api_keys, CreateApiKey, RevokeApiKey},
    components::form::{field_error, track_action_errors, ServerErrors},
    domain::api_key::{ApiKeyName, EXPIRY_CHOICES, MAX_NAME_CHARS},
};

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[component]
pub fn ApiKeysCard() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    // The list is read again after every create or revoke.
    let keys = crate::components::fetched::fetched(move || {
        create.version().get();
        revoke.version().get();
        list_my_api_keys()
    });
    let errors = ServerErrors::new("/api/create_api_key");
    track_action_errors(create, errors);
    let name = RwSignal::new(String::new());
    let expiry = RwSignal::new(String::new());
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
        create.dispatch(CreateApiKey {
            name: name.get_untracked(),
            expires_in_days: expiry.get_untracked().parse().ok(),
        });
    };
    // A made key empties the form for the next one.
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
            submitted.set(false);
        }
    });
    let revoke_problem =
        move || {
            revoke.value().get().and_then(Result::err).map(
                |e| view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> },
            )
        };
    let form_problem = move || {
        errors
            .form_message()
            .or_else(|| errors.field("expires_in_days"))
            .map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })
    };
    view! {
        <section class="card" aria-labelledby="api-keys-head" data-testid="api-keys">
            <h2 id="api-keys-head">"API keys"</h2>
            <p class="muted small">
                "Keys let your scripts use Teamroom's API as you, in this workspace only. "
                "Send one as "<code>"Authorization: Bearer <key>"</code>". Revoke any you no longer use."
            </p>
            {move || create.value().get().and_then(Result::ok).map(|made| view! {
                <NewSecret name=made.key.name secret=made.secret />
            })}
            {revoke_problem}
            {move || match keys.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="muted" data-testid="no-api-keys">"You have no API keys."</p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="session-list">
                        {list.into_iter().map(|k| {
                            let id = k.id;
                            let details = format!(
                                "{}… · created {} · last used {} · {}",
                                k.prefix,
                                when(k.created_at),
                                k.last_used_at.map(when).unwrap_or_else(|| "never".into()),
                                match k.expires_at {
                                    None => "never expires".to_owned(),
                                    Some(at) if k.expired => format!("expired {}", when(at)),
                                    Some(at) => format!("expires {}", when(at)),
                                },
                            );
                            let label = format!("Revoke {}", k.name);
                            view! {
                                <li data-testid="api-key">
                                    <div class="session-what">
                                        <strong>{k.name.clone()}</strong>
                                        {k.expired.then(|| view! { <span class="badge badge-inactive badge-this">"Expired"</span> })}
                                        <div class="muted session-when">{details}</div>
                                    </div>
                                    <button type="button" class="button" aria-label=label
                                        disabled=move || revoke.pending().get()
                                        on:click=move |_| { revoke.dispatch(RevokeApiKey { id }); }>
                                        "Revoke"
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            <form class="stack" on:submit=on_submit novalidate data-testid="api-key-form">
                <h3>"New key"</h3>
                {form_problem}
                <div class="field-row">
                    <div class="field" class:invalid=move || name_error.get().is_some()>
                        <label for="api-key-name">"Name"</label>
                        <input id="api-key-name" type="text" name="name" maxlength=MAX_NAME_CHARS.to_string()
                            placeholder="e.g. Payroll export"
                            aria-describedby="api-key-name-error"
                            aria-invalid=move || if name_error.get().is_some() { "true" } else { "false" }
                            prop:value=move || name.get()
                            on:input=move |ev| {
                                name.set(event_target_value(&ev));
                                errors.clear_field("name");
                            } />
                        <p class="field-error" id="api-key-name-error" aria-live="polite">{move || name_error.get()}</p>
                    </div>
                    <div class="field">
                        <label for="api-key-expiry">"Expires"</label>
                        <select id="api-key-expiry" name="expires_in_days"
                            on:change=move |ev| expiry.set(event_target_value(&ev))>
                            {EXPIRY_CHOICES.iter().map(|(days, label)| {
                                let value = days.map(|d| d.to_string()).unwrap_or_default();
                                view! { <option value=value>{*label}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                </div>
                <div class="actions">
                    <button type="submit" class="button button-primary" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create key" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// The secret of a key just made, this once, in a read-only field with a
/// Copy button.
#[component]
pub(crate) fn NewSecret(name: String, secret: String) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let value = StoredValue::new(secret.clone());
    let copy = move |_| {
        let ok = copy_to_clipboard(&value.get_value());
        copied.set(Some(ok));
    };
    view! {
        <div class="alert alert-info recovery" role="status" data-testid="api-key-secret">
            <p><strong>{format!("Your new key \u{201c}{name}\u{201d}.")}</strong>" Copy it now: it will not be shown again."</p>
            <div class="field">
                <label for="api-key-secret">"Key"</label>
                <input id="api-key-secret" type="text" readonly value=secret spellcheck="false"
                    autocomplete="off"
                    on:focus=move |ev| {
                        use wasm_bindgen::JsCast;
                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                            input.select();
                        }
                    } />
            </div>
            <button type="button" class="button" on:click=copy>"Copy"</button>
            {move || copied.get().map(|ok| view! {
                <span class="muted small" role="status">{if ok { " Copied." } else { " Select the key and copy it yourself." }}</span>
            })}
        </div>
    }
}

/// `navigator.clipboard.writeText(text)`, looked up at run time (no extra
/// web-sys features); false when the browser offers no clipboard.
fn copy_to_clipboard(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{JsCast, JsValue};
        let get = |target: &JsValue, key: &str| {
            js_sys::Reflect::get(target, &JsValue::from_str(key)).ok()
        };
        let window: JsValue = window().into();
        let Some(clipboard) = get(&window, "navigator").and_then(|n| get(&n, "clipboard")) else {
            return false;
        };
        let Some(write) =
            get(&clipboard, "writeText").and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return false;
        };
        return write.call1(&clipboard, &JsValue::from_str(text)).is_ok();
    }
    #[allow(unreachable_code)]
    {
        let _ = text;
        false
    }
}
