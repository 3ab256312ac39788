//! Form fields with labels, hints and error messages wired for screen
//! readers, and the plumbing for errors that come back from the server.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use server_fn::error::ServerFnUrlError;

use crate::error::AppError;

/// The server's answer to the last submission, shown until the person edits
/// the field it names.
#[derive(Clone, Copy)]
pub struct ServerErrors(RwSignal<Option<AppError>>);

impl ServerErrors {
    /// Starts from an error carried in the URL: without JavaScript a failed
    /// form post is redirected back here with `__err` in the query.
    pub fn new(endpoint: &'static str) -> Self {
        let query = use_query_map();
        let from_url = query.with_untracked(|q| {
            let path = q.get("__path")?;
            (path == endpoint)
                .then(|| q.get("__err"))
                .flatten()
                .map(|encoded| ServerFnUrlError::<AppError>::decode_err(&encoded))
        });
        Self(RwSignal::new(from_url))
    }

    pub fn set(&self, error: Option<AppError>) {
        self.0.set(error);
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.0
            .with(|e| e.as_ref().and_then(|e| e.field_message(name)))
    }

    pub fn clear_field(&self, name: &str) {
        self.0.update(|error| {
            if let Some(AppError::Validation(fields)) = error {
                fields.0.remove(name);
                if fields.is_empty() {
                    *error = None;
                }
            }
        });
    }

    /// A message that belongs to the whole form rather than one field.
    pub fn form_message(&self) -> Option<String> {
        self.0.with(|error| match error {
            None => None,
            Some(AppError::Validation(fields)) => fields.first("form").map(str::to_owned),
            Some(other) => Some(other.to_string()),
        })
    }
}

/// Keeps `errors` in step with an action's results.
pub fn track_action_errors<I, O>(action: ServerAction<I>, errors: ServerErrors)
where
    I: server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(result) = action.value().get() {
            errors.set(result.err());
        }
    });
}

/// Shows the newest answer of `action` in a page's one alert: its error,
/// or nothing once it succeeds. Several actions may share one `error`; the
/// last to answer wins, as the person's last click does.
pub fn newest_failure<I>(action: ServerAction<I>, error: RwSignal<Option<AppError>>)
where
    I: server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    I::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(result) = action.value().get() {
            error.set(result.err());
        }
    });
}

/// What a person typed into a server-rendered input before the page's
/// script arrived (on the accept page it loads late, on purpose), so
/// hydration keeps it instead of emptying the field. Empty on the server.
pub fn typed_before_hydration(input_id: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = document()
            .get_element_by_id(input_id)
            .and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            return input.value();
        }
    }
    let _ = input_id;
    String::new()
}

/// An error to show for one field: the browser's own check once the person
/// has left the field or tried to submit, else the server's last word.
pub fn field_error(
    name: &'static str,
    check: impl Fn() -> Option<String> + Send + Sync + 'static,
    shown: impl Fn() -> bool + Send + Sync + 'static,
    server: ServerErrors,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        if shown() {
            if let Some(local) = check() {
                return Some(local);
            }
        }
        server.field(name)
    })
}

#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    /// Runs on every keystroke (to clear a stale server error).
    #[prop(optional)]
    on_input: Option<Callback<()>>,
    /// Runs when focus leaves the field (to start showing local checks).
    #[prop(optional)]
    on_blur: Option<Callback<()>>,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    let input_id = format!("field-{name}");
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            ids.join(" ")
        }
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=input_id.clone()>{label}</label>
            <input
                id=input_id
                type=input_type
                name=name
                autocomplete=autocomplete
                autofocus=autofocus
                bind:value=value
                on:input=move |_| {
                    if let Some(callback) = on_input {
                        callback.run(());
                    }
                }
                on:blur=move |_| {
                    if let Some(callback) = on_blur {
                        callback.run(());
                    }
                }
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described_by
            />
            {hint.map(|text| view! { <p class="hint" id=hint_id>{text}</p> })}
            <p class="field-error" id=error_id aria-live="polite">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A message about the whole form (wrong password, rate limit, outage).
#[component]
pub fn FormAlert(errors: ServerErrors) -> impl IntoView {
    move || {
        errors
            .form_message()
            .map(|message| view! { <div class="alert alert-error" role="alert">{message}</div> })
    }
}

/// After a sign-in step that the server ended with a redirect, loads the
/// home page afresh so the header reads the new session from the cookie.
pub fn reload_home_on_success<I>(action: ServerAction<I>)
where
    I: server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href("/");
            }
        }
    });
}

/// How long typing pauses before the server is asked about the list.
const COMMON_PASSWORD_CHECK_MS: u64 = 250;

/// What is wrong with a new password as typed: the length rules at once
/// and, once typing pauses, whether the server finds it on the
/// common-password list (which stays out of the browser's download). An
/// answer about an older value shows nothing; the server checks again on
/// submit whatever the page thought.
pub fn new_password_problem(password: RwSignal<String>) -> Signal<Option<String>> {
    use crate::domain::Password;
    let found_common = RwSignal::new(None::<String>);
    let pending: StoredValue<Option<leptos::leptos_dom::helpers::TimeoutHandle>> =
        StoredValue::new(None);
    Effect::new(move |_| {
        let typed = password.get();
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        if Password::check_length(&typed).is_err() {
            return;
        }
        let handle = set_timeout_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(true) = crate::api::auth::check_new_password(typed.clone()).await {
                        found_common.set(Some(typed));
                    }
                });
            },
            std::time::Duration::from_millis(COMMON_PASSWORD_CHECK_MS),
        )
        .ok();
        pending.set_value(handle);
    });
    Signal::derive(move || {
        password.with(|typed| {
            Password::check_length(typed).err().or_else(|| {
                found_common
                    .with(|common| common.as_deref() == Some(typed.as_str()))
                    .then(|| Password::COMMON_MESSAGE.to_owned())
            })
        })
    })
}
