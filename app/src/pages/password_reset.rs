//! "Forgot password?" and the page its mailed link opens. Both work without
//! JavaScript (plain form posts); with it, fields are checked as you type.

use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::{
    api::password_reset::{password_reset_state, RequestPasswordReset, ResetPassword, RESET_SENT},
    components::form::{
        field_error, new_password_problem, track_action_errors, Field, FormAlert, ServerErrors,
    },
    domain::EmailAddress,
};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let errors = ServerErrors::new("/api/request_password_reset");
    track_action_errors(action, errors);
    let email = RwSignal::new(String::new());
    let left = RwSignal::new(false);
    let submitted = RwSignal::new(false);
    let email_error = field_error(
        "email",
        move || EmailAddress::parse(&email.get()).err(),
        move || (left.get() && !email.with(String::is_empty)) || submitted.get(),
        errors,
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        errors.set(None);
        if EmailAddress::parse(&email.get_untracked()).is_ok() {
            action.dispatch(RequestPasswordReset {
                email: email.get_untracked(),
            });
        }
    };
    // Without JavaScript the post lands back here with `?sent`.
    let sent_by_redirect =
        leptos_router::hooks::use_query_map().with_untracked(|q| q.get("sent").is_some());
    let sent = move || sent_by_redirect || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Forgot password" />
        <main class="auth-page">
            <div class="card narrow">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true">"T"</span>" Teamroom"</p>
                <h1>"Forgot your password?"</h1>
                <Show
                    when=sent
                    fallback=move || view! {
                        <p class="lede">"Enter the address you sign in with. We mail you a link to choose a new password."</p>
                        <form method="post" action=RequestPasswordReset::url() on:submit=on_submit novalidate>
                            <FormAlert errors />
                            <Field
                                label="Email"
                                name="email"
                                input_type="email"
                                autocomplete="email"
                                value=email
                                error=email_error
                                autofocus=true
                                on_input=Callback::new(move |_| errors.clear_field("email"))
                                on_blur=Callback::new(move |_| left.set(true))
                            />
                            <button type="submit" class="button button-primary button-wide" disabled=move || action.pending().get()>
                                {move || if action.pending().get() { "Sending…" } else { "Send me a link" }}
                            </button>
                        </form>
                    }
                >
                    <p class="notice" role="status" data-testid="reset-sent">{RESET_SENT}</p>
                </Show>
                <p class="auth-switch"><a href="/signin">"Back to sign in"</a></p>
            </div>
        </main>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let token = Memo::new(move |_| params.with(|p| p.get("token").unwrap_or_default()));
    let set_by_owner =
        leptos_router::hooks::use_query_map().with_untracked(|q| q.get("set-by-owner").is_some());
    let open = Resource::new(move || token.get(), password_reset_state);
    let action = ServerAction::<ResetPassword>::new();
    let errors = ServerErrors::new("/api/reset_password");
    track_action_errors(action, errors);
    let password = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    // The rules show while typing, as on sign-up.
    let new_password = new_password_problem(password);
    let password_error = field_error(
        "password",
        move || new_password.get(),
        move || submitted.get() || !password.with(String::is_empty),
        errors,
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        errors.set(None);
        if new_password.get_untracked().is_none() {
            action.dispatch(ResetPassword {
                token: token.get_untracked(),
                password: password.get_untracked(),
            });
        }
    };
    // After success the server's redirect takes the browser on; a full
    // load makes the header pick up the new session.
    crate::components::form::reload_home_on_success(action);
    view! {
        <Title text="Choose a new password" />
        <main class="auth-page">
            <div class="card narrow">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true">"T"</span>" Teamroom"</p>
                <h1>"Choose a new password"</h1>
                <Suspense fallback=|| view! { <p class="muted">"Checking the link…"</p> }>
                    {move || Suspend::new(async move {
                        match open.await {
                            Ok(true) => view! {
                                {set_by_owner.then(|| view! {
                                    <div class="alert alert-info" role="status">"Your workspace Owner set your password. Choose your own to go on."</div>
                                })}
                                <p class="lede">"Every device signed in to your account is signed out. You stay signed in here."</p>
                                <form method="post" action=ResetPassword::url() on:submit=on_submit novalidate>
                                    <input type="hidden" name="token" value=move || token.get() />
                                    <FormAlert errors />
                                    <Field
                                        label="New password"
                                        name="password"
                                        input_type="password"
                                        autocomplete="new-password"
                                        hint="At least 8 characters. Spaces and long phrases are welcome."
                                        value=password
                                        error=password_error
                                        autofocus=true
                                        on_input=Callback::new(move |_| errors.clear_field("password"))
                                    />
                                    <button type="submit" class="button button-primary button-wide" disabled=move || action.pending().get()>
                                        {move || if action.pending().get() { "Saving…" } else { "Save and sign in" }}
                                    </button>
                                </form>
                            }.into_any(),
                            _ => view! {
                                <p class="alert alert-error" role="alert" data-testid="reset-dead">
                                    {crate::api::password_reset::RESET_LINK_DEAD}
                                </p>
                                <a class="button button-primary button-wide" href="/forgot-password">"Ask for a new link"</a>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}
