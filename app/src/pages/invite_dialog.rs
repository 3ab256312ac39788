//! The Team page's invite dialog, "Add limited member", and the actions on
//! a pending member's row (Send invite / Resend / Revoke).

use std::collections::HashSet;

use leptos::prelude::*;

use crate::{
    api::{
        groups::{list_groups, list_projects, GroupRow, ProjectRow},
        invitations::{
            check_invite_addresses, AddLimitedMember, InviteMembers, InviteReport, RevokeInvite,
            SendInvite,
        },
        members::MemberRow,
    },
    components::session::use_session,
    domain::{
        invite::{check_addresses, AddressVerdict, FREE_PLAN_BATCH},
        DisplayName, Plan,
    },
    error::AppError,
};

/// Which dialog is open on the Team page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamDialog {
    Closed,
    Invite,
    Limited,
}

fn is_free_plan() -> Signal<bool> {
    let session = use_session();
    Signal::derive(move || {
        session
            .signed_in()
            .and_then(|me| me.workspace)
            .is_some_and(|w| w.plan == Plan::Free)
    })
}

/// What the Team page says after invitations went out.
fn invite_message(report: &InviteReport) -> String {
    let mut message = match (report.invited.len(), report.emailed) {
        (0, _) => "Nobody new to invite.".to_owned(),
        (1, true) => "Invitation sent to 1 person.".to_owned(),
        (n, true) => format!("Invitations sent to {n} people."),
        (1, false) => "1 person added as pending; send the invite when ready.".to_owned(),
        (n, false) => format!("{n} people added as pending; send their invites when ready."),
    };
    if !report.already_members.is_empty() {
        message.push_str(&format!(
            " Already members: {}.",
            report.already_members.join(", ")
        ));
    }
    message
}

/// A modal panel: Escape and the close button end it; focus starts inside.
#[component]
fn Modal(title: &'static str, dialog: RwSignal<TeamDialog>, children: Children) -> impl IntoView {
    let close = move || dialog.set(TeamDialog::Closed);
    view! {
        <div class="modal-backdrop" on:click=move |_| close()></div>
        <div
            class="modal"
            role="dialog"
            aria-modal="true"
            aria-labelledby="modal-title"
            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            <div class="modal-head">
                <h2 id="modal-title">{title}</h2>
                <button type="button" class="button button-quiet" aria-label="Close" on:click=move |_| close()>"✕"</button>
            </div>
            {children()}
        </div>
    }
}

fn group_picker(groups: Vec<GroupRow>, chosen: RwSignal<Vec<i64>>) -> impl IntoView {
    (!groups.is_empty()).then(|| {
        view! {
            <fieldset class="choice-list scroll">
                <legend>"Groups (optional)"</legend>
                {groups.into_iter().map(|g| {
                    let id = g.id;
                    view! {
                        <label class="checkbox">
                            <input type="checkbox" name="group" value=id.to_string()
                                prop:checked=move || chosen.with(|c| c.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| { c.retain(|x| *x != id); if on { c.push(id); } });
                                } />
                            " "{g.name}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
        }
    })
}

#[component]
pub fn InviteDialog(dialog: RwSignal<TeamDialog>, on_done: Callback<String>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let send_email = RwSignal::new(true);
    let chosen_groups = RwSignal::new(Vec::<i64>::new());
    let all_projects = RwSignal::new(true);
    let chosen_projects = RwSignal::new(Vec::<i64>::new());
    let members = RwSignal::new(HashSet::<String>::new());
    let server_error = RwSignal::new(None::<AppError>);
    let invite = ServerAction::<InviteMembers>::new();
    let sending = invite.pending();
    // Closing the dialog (Escape) while the request is out drops this
    // Effect with it: nothing is shown then.
    Effect::new(move |_| match invite.value().get() {
        Some(Ok(report)) => {
            dialog.set(TeamDialog::Closed);
            on_done.run(invite_message(&report));
        }
        Some(Err(error)) => server_error.set(Some(error)),
        None => {}
    });
    let free = is_free_plan();
    let groups = crate::components::fetched::fetched(list_groups);
    let projects = crate::components::fetched::fetched(list_projects);

    let checks = Memo::new(move |_| {
        let known = members.get();
        check_addresses(&text.get(), |a| known.contains(a))
    });
    // Ask the server which valid addresses are already members, a moment
    // after typing stops; only the latest answer counts.
    let asked = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let addresses: Vec<String> = text.with(|t| {
            check_addresses(t, |_| false)
                .into_iter()
                .filter(|c| c.verdict == AddressVerdict::Valid)
                .map(|c| c.text.to_lowercase())
                .collect()
        });
        asked.update_value(|n| *n += 1);
        let ticket = asked.get_value();
        leptos::task::spawn_local(async move {
            gloo_timers_sleep(250).await;
            // The dialog may have closed meanwhile (its signals are gone).
            if asked.try_get_value() != Some(ticket) || addresses.is_empty() {
                return;
            }
            if let Ok(found) = check_invite_addresses(addresses).await {
                if asked.try_get_value() == Some(ticket) {
                    members.try_set(found.into_iter().collect());
                }
            }
        });
    });
    let to_invite = move || {
        checks.with(|c| {
            c.iter()
                .filter(|c| c.verdict == AddressVerdict::Valid)
                .count()
        })
    };
    let problems = move || {
        checks.with(|c| {
            c.iter()
                .filter(|c| matches!(c.verdict, AddressVerdict::Invalid(_)))
                .count()
        })
    };
    let local_error = move || {
        let n = to_invite();
        if problems() > 0 {
            Some("Fix or remove the invalid addresses first.".to_owned())
        } else if free.get() && n > FREE_PLAN_BATCH {
            Some(format!(
                "On the Free plan you can invite up to {FREE_PLAN_BATCH} people at a time; this list has {n}."
            ))
        } else {
            None
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if local_error().is_some() || to_invite() == 0 {
            if to_invite() == 0 && problems() == 0 {
                server_error.set(Some(AppError::field(
                    "addresses",
                    "Enter at least one email address.",
                )));
            }
            return;
        }
        server_error.set(None);
        invite.dispatch(InviteMembers {
            addresses: text.get_untracked(),
            send_email: send_email.get_untracked(),
            group_ids: chosen_groups.get_untracked(),
            all_projects: all_projects.get_untracked(),
            project_ids: chosen_projects.get_untracked(),
        });
    };
    let error_text = move || {
        local_error().or_else(|| {
            server_error.get().map(|e| {
                e.field_message("addresses")
                    .or_else(|| e.field_message("groups"))
                    .or_else(|| e.field_message("projects"))
                    .unwrap_or_else(|| e.to_string())
            })
        })
    };

    view! {
        <Modal title="Invite members" dialog>
            <form class="invite-form" on:submit=submit novalidate>
                <div class="field" class:invalid=move || error_text().is_some()>
                    <label for="invite-addresses">"Email addresses"</label>
                    <textarea
                        id="invite-addresses"
                        name="addresses"
                        rows="4"
                        autofocus
                        placeholder="ann@example.com, bob@example.com"
                        aria-describedby="invite-hint invite-error"
                        aria-invalid=move || if error_text().is_some() { "true" } else { "false" }
                        prop:value=move || text.get()
                        on:input=move |ev| { text.set(event_target_value(&ev)); server_error.set(None); }
                    ></textarea>
                    <p class="hint" id="invite-hint">
                        "Separate addresses with commas, spaces or new lines."
                        {move || free.get().then(|| format!(" Free plan: up to {FREE_PLAN_BATCH} at a time."))}
                    </p>
                    <p class="field-error" id="invite-error" role="alert">{error_text}</p>
                </div>
                <ul class="address-checks" aria-label="Addresses" data-testid="address-checks">
                    {move || checks.get().into_iter().map(|c| {
                        let kind = match c.verdict {
                            AddressVerdict::Valid => "valid",
                            AddressVerdict::Invalid(_) => "invalid",
                            AddressVerdict::Duplicate => "duplicate",
                            AddressVerdict::AlreadyMember => "member",
                        };
                        view! {
                            <li class=format!("address address-{kind}")>
                                <span class="address-text">{c.text.clone()}</span>
                                <span class="address-verdict">{c.verdict.label()}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {move || groups.get().and_then(Result::ok).map(|g| group_picker(g, chosen_groups))}
                <fieldset class="choice-list">
                    <legend>"Projects"</legend>
                    <label class="checkbox">
                        <input type="radio" name="projects" prop:checked=move || all_projects.get() on:change=move |_| all_projects.set(true) />
                        " All projects"
                    </label>
                    <label class="checkbox">
                        <input type="radio" name="projects" prop:checked=move || !all_projects.get() on:change=move |_| all_projects.set(false) />
                        " Specific projects"
                    </label>
                    {move || (!all_projects.get()).then(|| {
                        let list: Vec<ProjectRow> = projects.get().and_then(Result::ok).unwrap_or_default();
                        view! {
                            <div class="nested-choices">
                                {list.into_iter().filter(|p| !p.archived).map(|p| {
                                    let id = p.id;
                                    view! {
                                        <label class="checkbox">
                                            <input type="checkbox" prop:checked=move || chosen_projects.with(|c| c.contains(&id))
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    chosen_projects.update(|c| { c.retain(|x| *x != id); if on { c.push(id); } });
                                                } />
                                            " "{p.name}
                                        </label>
                                    }
                                }).collect_view()}
                            </div>
                        }
                    })}
                </fieldset>
                <label class="checkbox">
                    <input type="checkbox" name="send_email" prop:checked=move || send_email.get()
                        on:change=move |ev| send_email.set(event_target_checked(&ev)) />
                    " Send invitation email"
                </label>
                <div class="actions">
                    <button type="submit" class="button button-primary" disabled=move || sending.get()>
                        {move || {
                            let n = to_invite();
                            match (sending.get(), n) {
                                (true, _) => "Inviting…".to_owned(),
                                (false, 1) => "Invite 1 person".to_owned(),
                                (false, n) => format!("Invite {n} people"),
                            }
                        }}
                    </button>
                    <button type="button" class="button" on:click=move |_| dialog.set(TeamDialog::Closed)>"Cancel"</button>
                </div>
            </form>
        </Modal>
    }
}

/// Waits in the browser without blocking (debounce).
async fn gloo_timers_sleep(ms: i32) {
    #[cfg(feature = "hydrate")]
    {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ms;
}

#[component]
pub fn LimitedDialog(dialog: RwSignal<TeamDialog>, on_done: Callback<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let chosen_groups = RwSignal::new(Vec::<i64>::new());
    let server_error = RwSignal::new(None::<AppError>);
    let add = ServerAction::<AddLimitedMember>::new();
    // The name as sent, for the message (an action's input is cleared once
    // it answers).
    let added_name = StoredValue::new(String::new());
    Effect::new(move |_| match add.value().get() {
        Some(Ok(_)) => {
            dialog.set(TeamDialog::Closed);
            on_done.run(format!(
                "{} added as a limited member.",
                added_name.get_value()
            ));
        }
        Some(Err(error)) => server_error.set(Some(error)),
        None => {}
    });
    let groups = crate::components::fetched::fetched(list_groups);
    let error_text = move || {
        touched
            .get()
            .then(|| DisplayName::parse(&name.get()).err())
            .flatten()
            .or_else(|| {
                server_error.get().map(|e| {
                    e.field_message("name")
                        .or_else(|| e.field_message("groups"))
                        .unwrap_or_else(|| e.to_string())
                })
            })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        if DisplayName::parse(&name.get_untracked()).is_err() {
            return;
        }
        let value = name.get_untracked();
        added_name.set_value(value.trim().to_owned());
        add.dispatch(AddLimitedMember {
            name: value,
            group_ids: chosen_groups.get_untracked(),
        });
    };
    view! {
        <Modal title="Add limited member" dialog>
            <p class="muted">"Limited members have a name only: no email and no sign-in. They clock in and out at the Kiosk."</p>
            <form on:submit=submit novalidate>
                <div class="field" class:invalid=move || error_text().is_some()>
                    <label for="limited-name">"Name"</label>
                    <input id="limited-name" name="name" autocomplete="off" autofocus
                        aria-describedby="limited-error"
                        aria-invalid=move || if error_text().is_some() { "true" } else { "false" }
                        prop:value=move || name.get()
                        on:input=move |ev| { name.set(event_target_value(&ev)); server_error.set(None); }
                        on:blur=move |_| touched.set(true) />
                    <p class="field-error" id="limited-error" role="alert">{error_text}</p>
                </div>
                {move || groups.get().and_then(Result::ok).map(|g| group_picker(g, chosen_groups))}
                <div class="actions">
                    <button type="submit" class="button button-primary">"Add"</button>
                    <button type="button" class="button" on:click=move |_| dialog.set(TeamDialog::Closed)>"Cancel"</button>
                </div>
            </form>
        </Modal>
    }
}

/// Send invite / Resend / Revoke on a pending member's row.
#[component]
pub fn PendingActions(row: MemberRow, on_done: Callback<String>) -> impl IntoView {
    let id = row.membership_id;
    let email = row.email.clone().unwrap_or_default();
    let never_sent = row.invite_state.is_none();
    let state_text = match row.invite_state.as_deref() {
        None => "Invite not sent",
        Some("open") => "Invite sent",
        Some("expired") => "Invite expired",
        Some(_) => "Invite ended",
    };
    let send_action = ServerAction::<SendInvite>::new();
    let revoke_action = ServerAction::<RevokeInvite>::new();
    let busy = Signal::derive(move || send_action.pending().get() || revoke_action.pending().get());
    Effect::new(move |_| {
        if let Some(result) = send_action.value().get() {
            on_done.run(match result {
                Ok(()) if never_sent => "Invitation sent.".to_owned(),
                Ok(()) => "A new invitation was sent; the old link no longer works.".to_owned(),
                Err(error) => error.to_string(),
            });
        }
    });
    Effect::new(move |_| {
        if let Some(result) = revoke_action.value().get() {
            on_done.run(match result {
                Ok(()) => "Invitation revoked.".to_owned(),
                Err(error) => error.to_string(),
            });
        }
    });
    let send = move |_| {
        send_action.dispatch(SendInvite { membership_id: id });
    };
    let revoke = {
        let email = email.clone();
        move |_| {
            let question =
                format!("Revoke the invitation to {email}? Their link will stop working.");
            if window().confirm_with_message(&question).unwrap_or(false) {
                revoke_action.dispatch(RevokeInvite { membership_id: id });
            }
        }
    };
    let label = if never_sent { "Send invite" } else { "Resend" };
    view! {
        <span class="invite-state muted">{state_text}</span>
        <span class="row-actions">
            <button type="button" class="button button-small" disabled=move || busy.get() on:click=send
                aria-label=format!("{label} to {email}")>{label}</button>
            <button type="button" class="button button-small button-quiet" disabled=move || busy.get() on:click=revoke
                aria-label=format!("Revoke invitation to {}", row.email.clone().unwrap_or_default())>"Revoke"</button>
        </span>
    }
}
