//! Sign in and sign up. Both forms post to their server function and work
//! without JavaScript; with it, fields are checked as you type.

use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::{
    api::auth::{SignIn, SignUp},
    components::{
        form::{
            field_error, new_password_problem, track_action_errors, Field, FormAlert, ServerErrors,
        },
        session::use_session,
    },
    domain::{DisplayName, EmailAddress},
};

/// Refreshes who is signed in once an auth action succeeds (the server's
/// redirect then takes the person on).
fn refresh_on_success<I>(action: ServerAction<I>)
where
    I: server_fn::ServerFn<Output = (), Error = crate::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let session = use_session();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            session.refresh();
        }
    });
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let errors = ServerErrors::new("/api/sign_in");
    track_action_errors(action, errors);
    refresh_on_success(action);

    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let email_left = RwSignal::new(false);
    let submitted = RwSignal::new(false);

    // Leaving the field empty says nothing until the form is sent: the
    // message would push "Forgot password?" away from under the pointer
    // that is on its way to it.
    let email_error = field_error(
        "email",
        move || EmailAddress::parse(&email.get()).err(),
        move || (email_left.get() && !email.with(String::is_empty)) || submitted.get(),
        errors,
    );
    let password_error = field_error(
        "password",
        move || {
            password
                .with(|p| p.is_empty())
                .then(|| "Enter your password.".to_owned())
        },
        move || submitted.get(),
        errors,
    );

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        errors.set(None);
        let valid = EmailAddress::parse(&email.get_untracked()).is_ok()
            && !password.with_untracked(String::is_empty);
        if valid {
            action.dispatch(SignIn {
                email: email.get_untracked(),
                password: password.get_untracked(),
            });
        }
    };

    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <div class="card narrow">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true">"T"</span>" Teamroom"</p>
                <h1>"Sign in"</h1>
                <form method="post" action=SignIn::url() on:submit=on_submit novalidate>
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
                        on_blur=Callback::new(move |_| email_left.set(true))
                    />
                    <Field
                        label="Password"
                        name="password"
                        input_type="password"
                        autocomplete="current-password"
                        value=password
                        error=password_error
                        on_input=Callback::new(move |_| errors.clear_field("password"))
                    />
                    <p class="field-aside"><a href="/forgot-password">"Forgot password?"</a></p>
                    <button type="submit" class="button button-primary button-wide" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </form>
                <p class="auth-switch">"New to Teamroom? "<a href="/signup">"Create an account"</a></p>
            </div>
        </main>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let errors = ServerErrors::new("/api/sign_up");
    track_action_errors(action, errors);
    refresh_on_success(action);

    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let left = RwSignal::new((false, false, false));
    let submitted = RwSignal::new(false);

    let email_error = field_error(
        "email",
        move || EmailAddress::parse(&email.get()).err(),
        move || left.get().0 || submitted.get(),
        errors,
    );
    let name_error = field_error(
        "name",
        move || DisplayName::parse(&name.get()).err(),
        move || left.get().1 || submitted.get(),
        errors,
    );
    // Password rules show while typing: people want to know before they finish.
    let new_password = new_password_problem(password);
    let password_error = field_error(
        "password",
        move || new_password.get(),
        move || left.get().2 || submitted.get() || !password.with(String::is_empty),
        errors,
    );

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        errors.set(None);
        let valid = EmailAddress::parse(&email.get_untracked()).is_ok()
            && DisplayName::parse(&name.get_untracked()).is_ok()
            && new_password.get_untracked().is_none();
        if valid {
            action.dispatch(SignUp {
                email: email.get_untracked(),
                name: name.get_untracked(),
                password: password.get_untracked(),
            });
        }
    };

    view! {
        <Title text="Create your account" />
        <main class="auth-page">
            <div class="card narrow">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true">"T"</span>" Teamroom"</p>
                <h1>"Create your account"</h1>
                <p class="lede">"You will get a workspace of your own, where you are the Owner."</p>
                <form method="post" action=SignUp::url() on:submit=on_submit novalidate>
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
                        on_blur=Callback::new(move |_| left.update(|l| l.0 = true))
                    />
                    <Field
                        label="Full name"
                        name="name"
                        autocomplete="name"
                        value=name
                        error=name_error
                        on_input=Callback::new(move |_| errors.clear_field("name"))
                        on_blur=Callback::new(move |_| left.update(|l| l.1 = true))
                    />
                    <Field
                        label="Password"
                        name="password"
                        input_type="password"
                        autocomplete="new-password"
                        hint="At least 8 characters. Spaces and long phrases are welcome."
                        value=password
                        error=password_error
                        on_input=Callback::new(move |_| errors.clear_field("password"))
                        on_blur=Callback::new(move |_| left.update(|l| l.2 = true))
                    />
                    <button type="submit" class="button button-primary button-wide" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Creating account…" } else { "Create account" }}
                    </button>
                </form>
                <p class="auth-switch">"Already have an account? "<a href="/signin">"Sign in"</a></p>
            </div>
        </main>
    }
}
