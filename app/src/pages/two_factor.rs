//! Two-factor: the code step of signing in (`/signin/two-factor`) and the
//! card on the profile that turns it on (QR code and key, a confirming
//! code, recovery codes shown once) and off.

use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::{
    api::two_factor::{
        two_factor_status, BeginTwoFactor, ConfirmTwoFactor, DisableTwoFactor,
        RegenerateRecoveryCodes, TwoFactorEnrolment, VerifyTwoFactor,
    },
    components::form::{field_error, track_action_errors, Field, FormAlert, ServerErrors},
    domain::two_factor::OneTimeCode,
    error::AppError,
};

#[component]
pub fn TwoFactorPage() -> impl IntoView {
    let action = ServerAction::<VerifyTwoFactor>::new();
    let errors = ServerErrors::new("/api/verify_two_factor");
    track_action_errors(action, errors);
    let code = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let code_error = field_error(
        "code",
        move || OneTimeCode::parse(&code.get()).err(),
        move || submitted.get(),
        errors,
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        errors.set(None);
        if OneTimeCode::parse(&code.get_untracked()).is_ok() {
            action.dispatch(VerifyTwoFactor {
                code: code.get_untracked(),
            });
        }
    };
    // The server's redirect lands the browser signed in; a full load makes
    // the header read the new session.
    crate::components::form::reload_home_on_success(action);
    view! {
        <Title text="Two-factor code" />
        <main class="auth-page">
            <div class="card narrow">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true">"T"</span>" Teamroom"</p>
                <h1>"Two-factor code"</h1>
                <p class="lede">"Open your authenticator app and type the 6-digit code it shows for Teamroom. Lost your phone? Type one of your recovery codes instead."</p>
                <form method="post" action=VerifyTwoFactor::url() on:submit=on_submit novalidate>
                    <FormAlert errors />
                    <Field
                        label="Code"
                        name="code"
                        autocomplete="one-time-code"
                        value=code
                        error=code_error
                        autofocus=true
                        on_input=Callback::new(move |_| errors.clear_field("code"))
                    />
                    <button type="submit" class="button button-primary button-wide" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Checking…" } else { "Sign in" }}
                    </button>
                </form>
                <p class="auth-switch"><a href="/signin">"Start again"</a></p>
            </div>
        </main>
    }
}

/// Recovery codes, shown once, with a way to copy them.
#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    view! {
        <div class="alert alert-info recovery" role="status">
            <p>
                <strong>"Save these recovery codes now."</strong>
                " Each signs you in once if you lose your phone. They are not shown again."
            </p>
            <ol class="recovery-codes" data-testid="recovery-codes">
                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
            </ol>
        </div>
    }
}

#[component]
pub fn TwoFactorCard() -> impl IntoView {
    let begin = ServerAction::<BeginTwoFactor>::new();
    let turn_on = ServerAction::<ConfirmTwoFactor>::new();
    let turn_off_action = ServerAction::<DisableTwoFactor>::new();
    let new_codes = ServerAction::<RegenerateRecoveryCodes>::new();
    // The card's state is read again after each change is answered.
    let status = crate::components::fetched::fetched(move || {
        turn_on.version().get();
        turn_off_action.version().get();
        new_codes.version().get();
        two_factor_status()
    });
    let enrolment = RwSignal::new(None::<TwoFactorEnrolment>);
    let codes = RwSignal::new(None::<Vec<String>>);
    let problem = RwSignal::new(None::<AppError>);
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = Signal::derive(move || {
        begin.pending().get()
            || turn_on.pending().get()
            || turn_off_action.pending().get()
            || new_codes.pending().get()
    });
    let field = move |name: &'static str| move || problem.get().and_then(|e| e.field_message(name));
    // What each answer does to the card; a failure shows on its field or
    // above the card and keeps what was typed.
    let answered = move |result: Option<Result<(), AppError>>| match result {
        Some(Ok(())) => problem.set(None),
        Some(Err(e)) => problem.set(Some(e)),
        None => {}
    };
    Effect::new(move |_| {
        let result = begin.value().get();
        answered(result.map(|r| r.map(|e| enrolment.set(Some(e)))));
    });
    Effect::new(move |_| {
        let result = turn_on.value().get();
        answered(result.map(|r| {
            r.map(|list| {
                codes.set(Some(list));
                enrolment.set(None);
                code.set(String::new());
                password.set(String::new());
            })
        }));
    });
    Effect::new(move |_| {
        let result = turn_off_action.value().get();
        answered(result.map(|r| {
            r.map(|()| {
                code.set(String::new());
                password.set(String::new());
                codes.set(None);
            })
        }));
    });
    Effect::new(move |_| {
        let result = new_codes.value().get();
        answered(result.map(|r| {
            r.map(|list| {
                codes.set(Some(list));
                password.set(String::new());
            })
        }));
    });

    let start = move |_| {
        begin.dispatch(BeginTwoFactor {});
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Err(message) = OneTimeCode::parse_app(&code.get_untracked()) {
            problem.set(Some(AppError::field("code", message)));
            return;
        }
        turn_on.dispatch(ConfirmTwoFactor {
            password: password.get_untracked(),
            code: code.get_untracked(),
        });
    };
    let turn_off = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Err(message) = OneTimeCode::parse(&code.get_untracked()) {
            problem.set(Some(AppError::field("code", message)));
            return;
        }
        turn_off_action.dispatch(DisableTwoFactor {
            password: password.get_untracked(),
            code: code.get_untracked(),
        });
    };
    let regenerate = move |_| {
        new_codes.dispatch(RegenerateRecoveryCodes {
            password: password.get_untracked(),
        });
    };
    let form_problem = move || {
        problem
            .get()
            .filter(|e| !matches!(e, AppError::Validation(_)))
            .map(|e| {
                view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }
            })
    };

    view! {
        <section class="card two-factor" aria-labelledby="two-factor-head" data-testid="two-factor">
            <h2 id="two-factor-head">"Two-factor authentication"</h2>
            {form_problem}
            {move || codes.get().map(|list| view! { <RecoveryCodes codes=list /> })}
            {move || match status.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{e.to_string()}</p> }.into_any(),
                Some(Ok(s)) if s.enabled => view! {
                    <p><span class="badge badge-active">"On"</span>
                        {format!(" Signing in asks for a code from your app. {} unused recovery codes left.", s.recovery_codes_left)}</p>
                    <form class="stack" on:submit=turn_off novalidate>
                        <label class="field">
                            <span class="label">"Password"</span>
                            <input type="password" name="password" autocomplete="current-password"
                                prop:value=move || password.get()
                                on:input=move |ev| password.set(event_target_value(&ev)) />
                            <p class="field-error" id="tf-password-error">{field("password")}</p>
                        </label>
                        <label class="field">
                            <span class="label">"Code from your app (or a recovery code)"</span>
                            <input type="text" name="code" autocomplete="one-time-code" inputmode="text"
                                prop:value=move || code.get()
                                on:input=move |ev| code.set(event_target_value(&ev)) />
                            <p class="field-error" id="tf-code-error">{field("code")}</p>
                        </label>
                        <div class="actions">
                            <button type="submit" class="button button-stop" disabled=move || busy.get()>"Turn off two-factor"</button>
                            <button type="button" class="button" disabled=move || busy.get() on:click=regenerate>"New recovery codes"</button>
                        </div>
                        <p class="muted small">"New recovery codes need only your password; the old ones stop working."</p>
                    </form>
                }.into_any(),
                Some(Ok(s)) => view! {
                    {s.required.then(|| view! {
                        <div class="alert alert-error" role="alert" data-testid="two-factor-required">
                            "Your workspace requires Owners and Admins to use two-factor. Turn it on to continue."
                        </div>
                    })}
                    <p><span class="badge badge-inactive">"Off"</span>" Add a code from an authenticator app (Google Authenticator, 1Password, Aegis…) to signing in."</p>
                    {move || match enrolment.get() {
                        None => view! {
                            <button type="button" class="button button-primary" disabled=move || busy.get() on:click=start>
                                "Set up two-factor"
                            </button>
                        }.into_any(),
                        Some(e) => view! {
                            <ol class="enrol-steps">
                                <li>"Scan this QR code with your authenticator app:"
                                    <div class="qr" data-testid="two-factor-qr" inner_html=e.qr_svg.clone()></div>
                                </li>
                                <li>"Or type this key into it:"
                                    <p><code class="two-factor-key" data-testid="two-factor-key">{e.key.clone()}</code></p>
                                </li>
                                <li>
                                    <form class="stack" on:submit=confirm novalidate>
                                        <label class="field">
                                            <span class="label">"Your password"</span>
                                            <input type="password" name="password" autocomplete="current-password"
                                                prop:value=move || password.get()
                                                on:input=move |ev| password.set(event_target_value(&ev)) />
                                            <p class="field-error" id="tf-password-error">{field("password")}</p>
                                        </label>
                                        <label class="field">
                                            <span class="label">"Code from your app"</span>
                                            <input type="text" name="code" autocomplete="one-time-code" inputmode="numeric"
                                                prop:value=move || code.get()
                                                on:input=move |ev| code.set(event_target_value(&ev)) />
                                            <p class="field-error" id="tf-code-error">{field("code")}</p>
                                        </label>
                                        <button type="submit" class="button button-primary" disabled=move || busy.get()>"Turn on"</button>
                                    </form>
                                </li>
                            </ol>
                        }.into_any(),
                    }}
                }.into_any(),
            }}
        </section>
    }
}
