//! The invitation link's page, and the email confirmation page. Both are
//! rendered on the server and post plain forms, so they work on a phone
//! before (or without) JavaScript; with it, fields are checked as you type.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use server_fn::ServerFn;

use crate::{
    api::{
        accept::{invitation_preview, link_problem, AcceptInvitation, InvitePreview, LinkState},
        email_verification::VerifyEmail,
    },
    components::form::{
        field_error, new_password_problem, track_action_errors, typed_before_hydration, Field,
        FormAlert, ServerErrors,
    },
    domain::DisplayName,
};

fn token_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("token").unwrap_or_default()))
}

#[component]
pub fn AcceptInvitePage() -> impl IntoView {
    let token = token_param();
    let preview = Resource::new(move || token.get(), invitation_preview);
    view! {
        <Title text="Your invitation" />
        <main class="auth-page invite-page">
            <div class="card narrow">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true">"T"</span>" Teamroom"</p>
                <Suspense fallback=|| view! { <p aria-busy="true">"Opening your invitation…"</p> }>
                    {move || Suspend::new(async move {
                        match preview.await {
                            Ok(found) if found.state == LinkState::Open => {
                                view! { <AcceptForm token=token.get_untracked() found /> }.into_any()
                            }
                            Ok(found) => view! { <LinkProblem found /> }.into_any(),
                            Err(error) => view! {
                                <h1>"This invitation could not be opened"</h1>
                                <p class="alert alert-error" role="alert">{error.to_string()}</p>
                            }
                            .into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

#[component]
fn LinkProblem(found: InvitePreview) -> impl IntoView {
    let heading = match found.state {
        LinkState::Accepted => "Invitation already accepted",
        LinkState::Expired => "This invitation has expired",
        LinkState::Revoked => "This invitation was withdrawn",
        LinkState::Replaced => "This link was replaced by a newer one",
        LinkState::Declined => "This invitation was declined",
        LinkState::Open | LinkState::Unknown => "This invitation link does not work",
    };
    let message = link_problem(found.state, found.inviter_name.as_deref());
    let contact = found
        .inviter_email
        .clone()
        .filter(|_| found.state != LinkState::Accepted);
    view! {
        <h1>{heading}</h1>
        <p class="link-problem" role="status">{message}</p>
        {found.workspace_name.clone().map(|name| view! { <p class="muted">"Workspace: "{name}</p> })}
        {contact.map(|email| {
            let href = format!("mailto:{email}?subject=Please%20send%20me%20a%20new%20Teamroom%20invitation");
            view! { <p><a class="button button-wide" href=href>"Ask for a new invitation"</a></p> }
        })}
        <p class="auth-switch"><a href="/signin">"Sign in"</a>" · "<a href="/signup">"Create an account"</a></p>
    }
}

#[component]
fn AcceptForm(token: String, found: InvitePreview) -> impl IntoView {
    let action = ServerAction::<AcceptInvitation>::new();
    let errors = ServerErrors::new("/api/accept_invitation");
    track_action_errors(action, errors);
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            crate::components::session::use_session().refresh();
        }
    });

    // The script on this page loads after the page; keep what was typed.
    let name = RwSignal::new(typed_before_hydration("field-name"));
    let password = RwSignal::new(typed_before_hydration("field-password"));
    let left = RwSignal::new((false, false));
    let submitted = RwSignal::new(false);
    let new_account = !found.has_account;
    let needs_password = !found.signed_in_as_invitee;

    let name_error = field_error(
        "name",
        move || DisplayName::parse(&name.get()).err(),
        move || left.get().0 || submitted.get(),
        errors,
    );
    let new_password = new_password_problem(password);
    let password_error = field_error(
        "password",
        move || {
            if new_account {
                new_password.get()
            } else {
                password
                    .with(String::is_empty)
                    .then(|| "Enter your password.".to_owned())
            }
        },
        move || {
            left.get().1 || submitted.get() || (new_account && !password.with(String::is_empty))
        },
        errors,
    );

    let submit_token = token.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        errors.set(None);
        let valid = if new_account {
            DisplayName::parse(&name.get_untracked()).is_ok()
                && new_password.get_untracked().is_none()
        } else {
            !needs_password || !password.with_untracked(String::is_empty)
        };
        if valid {
            action.dispatch(AcceptInvitation {
                token: submit_token.clone(),
                name: name.get_untracked(),
                password: password.get_untracked(),
            });
        }
    };

    let workspace = found.workspace_name.clone().unwrap_or_default();
    let inviter = found
        .inviter_name
        .clone()
        .unwrap_or_else(|| "Someone".to_owned());
    let email = found.email.clone().unwrap_or_default();
    let expiry = found
        .expires_at
        .map(|at| at.format("%-d %B %Y").to_string())
        .unwrap_or_default();
    let button = if !needs_password {
        format!("Join {workspace}")
    } else if new_account {
        "Create account and join".to_owned()
    } else {
        "Sign in and join".to_owned()
    };
    let busy_label = "Joining…";

    view! {
        <h1>"Join "{workspace.clone()}</h1>
        <p class="lede">
            <strong>{inviter.clone()}</strong>
            {found.inviter_email.clone().map(|e| format!(" ({e})"))}
            " invited you to the workspace "<strong>{workspace.clone()}</strong>" on Teamroom."
        </p>
        <form method="post" action=AcceptInvitation::url() on:submit=on_submit novalidate>
            <input type="hidden" name="token" value=token />
            <FormAlert errors />
            <div class="field">
                <span class="field-label">"Email"</span>
                <p class="static-value" data-testid="invited-email">{email}</p>
            </div>
            {new_account.then(|| view! {
                <Field
                    label="Your full name"
                    name="name"
                    autocomplete="name"
                    value=name
                    error=name_error
                    autofocus=true
                    on_input=Callback::new(move |_| errors.clear_field("name"))
                    on_blur=Callback::new(move |_| left.update(|l| l.0 = true))
                />
            })}
            {needs_password.then(|| view! {
                <Field
                    label=if new_account { "Choose a password" } else { "Your Teamroom password" }
                    name="password"
                    input_type="password"
                    autocomplete=if new_account { "new-password" } else { "current-password" }
                    hint=if new_account { "At least 8 characters. Spaces and long phrases are welcome." } else { "You already have a Teamroom account with this email." }
                    value=password
                    error=password_error
                    autofocus=!new_account
                    on_input=Callback::new(move |_| errors.clear_field("password"))
                    on_blur=Callback::new(move |_| left.update(|l| l.1 = true))
                />
            })}
            <button type="submit" class="button button-primary button-wide" disabled=move || action.pending().get()>
                {move || if action.pending().get() { busy_label.to_owned() } else { button.clone() }}
            </button>
        </form>
        <p class="muted small">"This link works once, until "{expiry}"."</p>
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let token = token_param();
    let action = ServerAction::<VerifyEmail>::new();
    let errors = ServerErrors::new("/api/verify_email");
    track_action_errors(action, errors);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(None);
        action.dispatch(VerifyEmail {
            token: token.get_untracked(),
        });
    };
    view! {
        <Title text="Confirm your email" />
        <main class="auth-page">
            <div class="card narrow">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true">"T"</span>" Teamroom"</p>
                <h1>"Confirm your email address"</h1>
                <p class="lede">"Confirming shows you the invitations sent to this address, and joins the workspaces you were invited to."</p>
                <form method="post" action=VerifyEmail::url() on:submit=on_submit>
                    <input type="hidden" name="token" value=move || token.get() />
                    <FormAlert errors />
                    <button type="submit" class="button button-primary button-wide" disabled=move || action.pending().get()>
                        "Confirm my email"
                    </button>
                </form>
            </div>
        </main>
    }
}
