//! The Owner's Accounts tab (seed 000): every account behind the
//! workspace's members with its security state, searched and filtered from
//! the URL, paged by keyset, and a "⋯" menu of what the Owner may do.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{hooks::use_navigate, hooks::use_query_map, NavigateOptions};

use crate::{
    api::{
        accounts::{
            list_accounts, AccountRow, AccountsPage as Page, CorrectMemberEntry,
            RemoveMemberTwoFactor, SetMemberPassword, StopMemberTimer, StoppedEntry,
        },
        api_keys::RevokeMemberApiKeys,
        impersonation::StartImpersonation,
        lifecycle::UnlockMember,
    },
    domain::{
        accounts::{parse_reason, AccountFilter, AccountSearch, TwoFactorMethod, ACCOUNT_FILTERS},
        directory::url_encode,
        time::EntryTimes,
        MemberStatus,
    },
    error::AppError,
};

/// The tab's view as the URL says it: search text and filter key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct View {
    search: String,
    filter: String,
}

impl View {
    fn href(&self) -> String {
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!("q={}", url_encode(&self.search)));
        }
        if !self.filter.is_empty() {
            parts.push(format!("filter={}", url_encode(&self.filter)));
        }
        if parts.is_empty() {
            "/accounts".to_owned()
        } else {
            format!("/accounts?{}", parts.join("&"))
        }
    }
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    let url = use_query_map();
    let view = Memo::new(move |_| {
        url.with(|q| View {
            search: q.get("q").unwrap_or_default(),
            filter: q.get("filter").unwrap_or_default(),
        })
    });
    let reload = RwSignal::new(0_u32);
    let first_page = Resource::new(
        move || (view.get(), reload.get()),
        |(view, _)| list_accounts(view.search, view.filter, None),
    );
    view! {
        <Title text="Accounts" />
            <div class="page-head"><h1>"Accounts"</h1></div>
            <p class="muted">"The accounts behind this workspace's members. Only you, the Owner, see this tab; what you do here is in the audit log."</p>
            <AccountsView view reload first_page />
    }
}

#[component]
fn AccountsView(
    view: Memo<View>,
    reload: RwSignal<u32>,
    first_page: Resource<Result<Page, AppError>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let typed = RwSignal::new(view.get_untracked().search);
    let search_error = Memo::new(move |_| AccountSearch::parse(&typed.get()).err());
    let go = move |next: View| {
        navigate(
            &next.href(),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let pending_search = StoredValue::new(None::<leptos::prelude::TimeoutHandle>);
    let on_search = {
        let go = go.clone();
        move |text: String| {
            typed.set(text.clone());
            if AccountSearch::parse(&text).is_err() {
                return;
            }
            if let Some(handle) = pending_search.get_value() {
                handle.clear();
            }
            let go = go.clone();
            let handle = set_timeout_with_handle(
                move || {
                    go(View {
                        search: text.trim().to_owned(),
                        filter: view.get_untracked().filter,
                    })
                },
                std::time::Duration::from_millis(150),
            )
            .ok();
            pending_search.set_value(handle);
        }
    };
    let on_filter = move |key: String| {
        go(View {
            search: view.get_untracked().search,
            filter: key,
        })
    };
    let notice = RwSignal::new(None::<String>);
    let changed = Callback::new(move |message: String| {
        notice.set(Some(message));
        reload.update(|n| *n += 1);
    });
    let filter_error = Memo::new(move |_| AccountFilter::parse(&view.get().filter).err());
    // Outside the list, which is rebuilt on every reload: a dialog opened
    // by an action must outlive the reload that action causes.
    let dialog = RwSignal::new(AccountDialog::Closed);
    let reauthenticated = RwSignal::new(None::<DateTime<Utc>>);
    view! {
        <form class="accounts-toolbar" role="search" on:submit=|ev| ev.prevent_default()>
            <div class="field" class:invalid=move || search_error.get().is_some()>
                <label for="accounts-search">"Search by name or email"</label>
                <input id="accounts-search" type="search" name="q" autocomplete="off"
                    prop:value=move || typed.get()
                    on:input=move |ev| on_search(event_target_value(&ev))
                    aria-invalid=move || if search_error.get().is_some() { "true" } else { "false" }
                    aria-describedby="accounts-search-error" />
                <p class="field-error" id="accounts-search-error" aria-live="polite">{move || search_error.get()}</p>
            </div>
            <div class="field" class:invalid=move || filter_error.get().is_some()>
                <label for="accounts-filter">"Show"</label>
                <select id="accounts-filter" name="filter" on:change=move |ev| on_filter(event_target_value(&ev))>
                    {ACCOUNT_FILTERS.iter().map(|(key, _, label)| {
                        let key = *key;
                        view! { <option value=key selected=move || view.get().filter == key>{*label}</option> }
                    }).collect_view()}
                </select>
                <p class="field-error" aria-live="polite">{move || filter_error.get()}</p>
            </div>
        </form>
        <p class="muted" role="status" data-testid="accounts-notice">{move || notice.get()}</p>
        <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading accounts…"</p> }>
            {move || Suspend::new(async move {
                match first_page.await {
                    Ok(page) => {
                        reauthenticated.set(page.reauthenticated_until);
                        view! { <AccountsTable page view dialog changed /> }.into_any()
                    }
                    Err(AppError::NotFound) => view! {
                        <div class="empty-state">
                            <h2>"Page not found"</h2>
                            <p>"Only the workspace Owner on the Enterprise plan has an Accounts tab."</p>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <div class="alert alert-error" role="alert">{error.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
        {move || match dialog.get() {
            AccountDialog::Closed => None,
            AccountDialog::SetPassword { membership_id, name } => Some(view! {
                <SetPasswordDialog membership_id name reauthenticated=reauthenticated.get_untracked() dialog changed />
            }.into_any()),
            AccountDialog::Correct { membership_id, name, entry } => Some(view! {
                <CorrectEntryDialog membership_id name entry dialog changed />
            }.into_any()),
            AccountDialog::ViewAs { membership_id, name } => Some(view! {
                <ViewAsDialog membership_id name dialog />
            }.into_any()),
        }}
    }
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "Never".into())
}

fn two_factor_label(row: &AccountRow) -> String {
    if row.authenticator {
        format!(
            "Authenticator app, {} recovery code{}",
            row.recovery_codes_left,
            if row.recovery_codes_left == 1 {
                ""
            } else {
                "s"
            }
        )
    } else {
        "Off".to_owned()
    }
}

#[component]
fn AccountsTable(
    page: Page,
    view: Memo<View>,
    dialog: RwSignal<AccountDialog>,
    changed: Callback<String>,
) -> impl IntoView {
    let rows = RwSignal::new(page.rows);
    let next = RwSignal::new(page.next);
    let loading = RwSignal::new(false);
    let more_error = RwSignal::new(None::<String>);
    let load_more = move |_| {
        let Some(cursor) = next.get_untracked() else {
            return;
        };
        loading.set(true);
        let current = view.get_untracked();
        leptos::task::spawn_local(async move {
            match list_accounts(current.search, current.filter, Some(cursor)).await {
                Ok(page) => {
                    rows.update(|rows| rows.extend(page.rows));
                    next.set(page.next);
                    more_error.set(None);
                }
                Err(error) => more_error.set(Some(error.to_string())),
            }
            loading.set(false);
        });
    };
    view! {
        <Show when=move || !rows.with(Vec::is_empty) fallback=|| view! {
            <div class="empty-state"><p>"No account matches this view."</p></div>
        }>
            <table class="data-table accounts-table" data-testid="accounts-table">
                <thead>
                    <tr>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"API keys"</th>
                        <th scope="col">"Two-factor"</th>
                        <th scope="col">"Locked"</th>
                        <th scope="col">"Timer"</th>
                        <th scope="col">"Last sign-in"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || rows.get() key=|row| (row.membership_id, row.clone()) let:row>
                        <AccountLine row dialog changed />
                    </For>
                </tbody>
            </table>
        </Show>
        {move || more_error.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
        <Show when=move || next.with(Option::is_some)>
            <button type="button" class="button" on:click=load_more disabled=move || loading.get()>
                {move || if loading.get() { "Loading…" } else { "Load more" }}
            </button>
        </Show>
    }
}

#[derive(Debug, Clone, PartialEq)]
enum AccountDialog {
    Closed,
    SetPassword {
        membership_id: i64,
        name: String,
    },
    Correct {
        membership_id: i64,
        name: String,
        entry: StoppedEntry,
    },
    ViewAs {
        membership_id: i64,
        name: String,
    },
}

#[component]
fn AccountLine(
    row: AccountRow,
    dialog: RwSignal<AccountDialog>,
    changed: Callback<String>,
) -> impl IntoView {
    let locked = row.locked_until.is_some();
    let timer = row.timer.clone().map(|t| {
        let what = match (t.description.is_empty(), t.project) {
            (false, _) => t.description,
            (true, Some(project)) => project,
            (true, None) => "(no description)".to_owned(),
        };
        format!(
            "Since {} — {what}",
            t.started_at.format("%Y-%m-%d %H:%M UTC")
        )
    });
    let status = row.status.label();
    view! {
        <tr data-testid="account-row">
            <td data-label="Account">
                <div class="account-who">
                    <strong>{row.name.clone()}</strong>
                    {locked.then(|| view! { <span class="lock" title="Locked after failed sign-ins">" 🔒"<span class="visually-hidden">"locked"</span></span> })}
                    {row.is_owner.then(|| view! { " "<span class="badge">"Owner"</span> })}
                    <span class="muted small account-email">{row.email.clone()}</span>
                </div>
            </td>
            <td data-label="Status">{status}</td>
            <td data-label="API keys">{row.api_keys}</td>
            <td data-label="Two-factor">{two_factor_label(&row)}</td>
            <td data-label="Locked">{row.locked_until.map(|t| format!("Until {}", t.format("%H:%M UTC"))).unwrap_or_else(|| "No".into())}</td>
            <td data-label="Timer">{timer.unwrap_or_else(|| "Not running".into())}</td>
            <td data-label="Last sign-in">{when(row.last_sign_in_at)}</td>
            <td class="row-actions"><AccountMenu row dialog changed /></td>
        </tr>
    }
}

#[component]
fn AccountMenu(
    row: AccountRow,
    dialog: RwSignal<AccountDialog>,
    changed: Callback<String>,
) -> impl IntoView {
    let id = row.membership_id;
    let name = StoredValue::new(row.name.clone());
    let open = RwSignal::new(false);
    let refusal = RwSignal::new(None::<String>);
    // A second click confirms what cannot be undone.
    let confirming = RwSignal::new(None::<&'static str>);
    // Which two-factor removal was asked for, for the message after it (an
    // action's input is cleared once it answers).
    let codes_only = StoredValue::new(false);
    let finish = move |result: Result<String, AppError>| match result {
        Ok(message) => {
            let _ = open.try_set(false);
            changed.run(message);
        }
        Err(error) => {
            let _ = refusal.try_set(Some(error.to_string()));
        }
    };
    let stop_action = ServerAction::<StopMemberTimer>::new();
    let unlock_action = ServerAction::<UnlockMember>::new();
    let remove_action = ServerAction::<RemoveMemberTwoFactor>::new();
    let revoke_action = ServerAction::<RevokeMemberApiKeys>::new();
    Effect::new(move |_| match stop_action.value().get() {
        Some(Ok(entry)) => {
            finish(Ok(format!("Stopped the timer of {}.", name.get_value())));
            dialog.set(AccountDialog::Correct {
                membership_id: id,
                name: name.get_value(),
                entry,
            });
        }
        Some(Err(error)) => finish(Err(error)),
        None => {}
    });
    Effect::new(move |_| {
        if let Some(result) = unlock_action.value().get() {
            finish(result.map(|()| format!("Unlocked {}.", name.get_value())));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = remove_action.value().get() {
            finish(result.map(|()| {
                if codes_only.get_value() {
                    format!("Removed the recovery codes of {}.", name.get_value())
                } else {
                    format!("Turned off two-factor for {}.", name.get_value())
                }
            }));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = revoke_action.value().get() {
            finish(result.map(|n| {
                format!(
                    "Deactivated {n} API key{} of {}.",
                    if n == 1 { "" } else { "s" },
                    name.get_value()
                )
            }));
        }
    });
    let stop_timer = move |_| {
        stop_action.dispatch(StopMemberTimer { membership_id: id });
    };
    let unlock = move |_| {
        unlock_action.dispatch(UnlockMember { membership_id: id });
    };
    let remove_two_factor = move |method: TwoFactorMethod| {
        codes_only.set_value(method == TwoFactorMethod::RecoveryCodes);
        remove_action.dispatch(RemoveMemberTwoFactor {
            membership_id: id,
            method,
        });
    };
    let revoke_keys = move |_| {
        revoke_action.dispatch(RevokeMemberApiKeys { membership_id: id });
    };
    let has_keys = row.api_keys > 0;
    let reach_note = (!row.within_reach && !row.is_owner).then(|| {
        format!(
            "{} also belongs to a workspace you do not own, so only they can change their password or two-factor.",
            row.name
        )
    });
    let account_wide = row.within_reach && !row.is_owner;
    let has_timer = row.timer.is_some();
    // Who may be viewed as: an active member who is not the Owner (the
    // server checks again, with the workspace's switch).
    let may_view_as = row.status == MemberStatus::Active && !row.is_owner;
    let locked = row.locked_until.is_some();
    let authenticator = row.authenticator;
    let codes = row.recovery_codes_left > 0;
    view! {
        <details class="row-menu" prop:open=move || open.get() on:toggle=move |ev| {
            use wasm_bindgen::JsCast;
            if let Some(details) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok()) {
                open.set(details.open());
                refusal.set(None);
                confirming.set(None);
            }
        } on:keydown=|ev| ev.stop_propagation()>
            <summary class="button button-small button-quiet" aria-label=format!("Actions for {}", row.name)>"⋯"</summary>
            <div class="row-menu-list" role="group" aria-label=format!("Actions for {}", row.name)>
                {may_view_as.then(|| view! {
                    <button type="button" class="row-menu-item" on:click=move |_| {
                        open.set(false);
                        dialog.set(AccountDialog::ViewAs { membership_id: id, name: name.get_value() });
                    }>"Log in as user…"</button>
                })}
                {has_timer.then(|| view! {
                    <button type="button" class="row-menu-item" on:click=stop_timer>"Stop timer"</button>
                })}
                {locked.then(|| view! {
                    <button type="button" class="row-menu-item" on:click=unlock>"Unlock"</button>
                })}
                {has_keys.then(|| view! {
                    <Show when=move || confirming.get() == Some("keys") fallback=move || view! {
                        <button type="button" class="row-menu-item" on:click=move |_| confirming.set(Some("keys"))>"Deactivate API keys…"</button>
                    }>
                        <button type="button" class="row-menu-item danger" on:click=revoke_keys>
                            {format!("Deactivate every API key of {}", name.get_value())}
                        </button>
                    </Show>
                })}
                {(account_wide && codes).then(|| view! {
                    <Show when=move || confirming.get() == Some("codes") fallback=move || view! {
                        <button type="button" class="row-menu-item" on:click=move |_| confirming.set(Some("codes"))>"Remove recovery codes…"</button>
                    }>
                        <button type="button" class="row-menu-item danger" on:click=move |_| remove_two_factor(TwoFactorMethod::RecoveryCodes)>
                            {format!("Remove {}'s recovery codes and sign them out", name.get_value())}
                        </button>
                    </Show>
                })}
                {(account_wide && authenticator).then(|| view! {
                    <Show when=move || confirming.get() == Some("all") fallback=move || view! {
                        <button type="button" class="row-menu-item danger" on:click=move |_| confirming.set(Some("all"))>"Remove two-factor…"</button>
                    }>
                        <button type="button" class="row-menu-item danger" on:click=move |_| remove_two_factor(TwoFactorMethod::All)>
                            {format!("Turn off {}'s two-factor and sign them out", name.get_value())}
                        </button>
                    </Show>
                })}
                {account_wide.then(|| view! {
                    <button type="button" class="row-menu-item" on:click=move |_| {
                        open.set(false);
                        dialog.set(AccountDialog::SetPassword { membership_id: id, name: name.get_value() });
                    }>"Set password…"</button>
                })}
                {reach_note.map(|note| view! { <p class="muted small row-menu-note">{note}</p> })}
                {row.is_owner.then(|| view! { <p class="muted small row-menu-note">"This is you: change your own account from your profile."</p> })}
                {move || refusal.get().map(|m| view! { <p class="field-error row-menu-note" role="alert">{m}</p> })}
            </div>
        </details>
    }
}

/// A modal panel: Escape and the close button end it.
#[component]
fn AccountModal(
    title: String,
    dialog: RwSignal<AccountDialog>,
    children: Children,
) -> impl IntoView {
    let close = move || dialog.set(AccountDialog::Closed);
    view! {
        <div class="modal-backdrop" on:click=move |_| close()></div>
        <div class="modal" role="dialog" aria-modal="true" aria-labelledby="modal-title"
            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Escape" {
                    close();
                }
            }>
            <div class="modal-head">
                <h2 id="modal-title">{title}</h2>
                <button type="button" class="button button-quiet" aria-label="Close" on:click=move |_| close()>"✕"</button>
            </div>
            {children()}
        </div>
    }
}

#[component]
fn SetPasswordDialog(
    membership_id: i64,
    name: String,
    reauthenticated: Option<DateTime<Utc>>,
    dialog: RwSignal<AccountDialog>,
    changed: Callback<String>,
) -> impl IntoView {
    let own = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let server = RwSignal::new(None::<AppError>);
    let action = ServerAction::<SetMemberPassword>::new();
    let busy = action.pending();
    let who = name.clone();
    Effect::new(move |_| match action.value().get() {
        Some(Ok(())) => {
            dialog.set(AccountDialog::Closed);
            changed.run(format!(
                "Set a new password for {who}: they must choose their own at their next sign-in."
            ));
        }
        Some(Err(error)) => server.set(Some(error)),
        None => {}
    });
    let needs_own = reauthenticated.is_none_or(|until| until <= Utc::now());
    let field =
        move |field: &'static str| server.with(|e| e.as_ref().and_then(|e| e.field_message(field)));
    let new_problem = crate::components::form::new_password_problem(new);
    let new_error = move || {
        submitted
            .get()
            .then(|| new_problem.get())
            .flatten()
            .or_else(|| field("new_password"))
    };
    let confirm_error = move || {
        (submitted.get() && confirm.get() != new.get())
            .then(|| "The two passwords differ.".to_owned())
    };
    let own_error = move || {
        (submitted.get() && needs_own && own.get().is_empty())
            .then(|| "Enter your own password first.".to_owned())
            .or_else(|| field("own_password"))
    };
    let form_error = move || {
        server.with(|e| match e {
            Some(AppError::Validation(_)) | None => None,
            Some(other) => Some(other.to_string()),
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        server.set(None);
        if new_problem.get_untracked().is_some()
            || confirm.get_untracked() != new.get_untracked()
            || (needs_own && own.get_untracked().is_empty())
        {
            return;
        }
        action.dispatch(SetMemberPassword {
            membership_id,
            own_password: own.get_untracked(),
            new_password: new.get_untracked(),
        });
    };
    view! {
        <AccountModal title=format!("Set a password for {name}") dialog>
            <form class="stack" on:submit=submit novalidate>
                <p class="muted small">"They are signed out everywhere, mailed, and asked to choose their own password when they next sign in. Give them this password yourself."</p>
                {needs_own.then(|| view! {
                    <div class="field" class:invalid=move || own_error().is_some()>
                        <label for="own-password">"Your own password"</label>
                        <input id="own-password" type="password" name="own_password" autocomplete="current-password" bind:value=own
                            aria-describedby="own-password-error" aria-invalid=move || if own_error().is_some() { "true" } else { "false" } />
                        <p class="field-error" id="own-password-error" aria-live="polite">{own_error}</p>
                    </div>
                })}
                <div class="field" class:invalid=move || new_error().is_some()>
                    <label for="new-password">"New password for them"</label>
                    <input id="new-password" type="password" name="new_password" autocomplete="new-password" bind:value=new
                        aria-describedby="new-password-error" aria-invalid=move || if new_error().is_some() { "true" } else { "false" } />
                    <p class="field-error" id="new-password-error" aria-live="polite">{new_error}</p>
                </div>
                <div class="field" class:invalid=move || confirm_error().is_some()>
                    <label for="confirm-password">"Type it again"</label>
                    <input id="confirm-password" type="password" name="confirm_password" autocomplete="new-password" bind:value=confirm
                        aria-describedby="confirm-password-error" aria-invalid=move || if confirm_error().is_some() { "true" } else { "false" } />
                    <p class="field-error" id="confirm-password-error" aria-live="polite">{confirm_error}</p>
                </div>
                {move || form_error().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                <div class="actions">
                    <button type="submit" class="button button-primary" disabled=move || busy.get()>"Set password"</button>
                </div>
            </form>
        </AccountModal>
    }
}

#[component]
fn CorrectEntryDialog(
    membership_id: i64,
    name: String,
    entry: StoppedEntry,
    dialog: RwSignal<AccountDialog>,
    changed: Callback<String>,
) -> impl IntoView {
    let start = RwSignal::new(entry.start.clone());
    let end = RwSignal::new(entry.end.clone());
    let server = RwSignal::new(None::<AppError>);
    let local = move |field: &str| {
        EntryTimes::parse(&start.get(), &end.get())
            .err()
            .and_then(|errors| errors.first(field).map(str::to_owned))
    };
    let error_of = move |field: &'static str| {
        local(field).or_else(|| server.with(|e| e.as_ref().and_then(|e| e.field_message(field))))
    };
    let other_error = move || {
        server.with(|e| match e {
            Some(AppError::Validation(_)) | None => None,
            Some(other) => Some(other.to_string()),
        })
    };
    let entry_id = entry.entry_id;
    let action = ServerAction::<CorrectMemberEntry>::new();
    let who = name.clone();
    Effect::new(move |_| match action.value().get() {
        Some(Ok(())) => {
            dialog.set(AccountDialog::Closed);
            changed.run(format!("Saved the corrected entry of {who}."));
        }
        Some(Err(error)) => server.set(Some(error)),
        None => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if EntryTimes::parse(&start.get_untracked(), &end.get_untracked()).is_err() {
            return;
        }
        action.dispatch(CorrectMemberEntry {
            membership_id,
            entry_id,
            start: start.get_untracked(),
            end: end.get_untracked(),
        });
    };
    view! {
        <AccountModal title=format!("Timer of {name} stopped") dialog>
            <form class="stack" on:submit=submit novalidate>
                <p class="muted small">{format!("The entry is saved. Correct its times if they forgot it running (times in their zone, {}).", entry.time_zone)}</p>
                <div class="field" class:invalid=move || error_of("start").is_some()>
                    <label for="correct-start">"Started"</label>
                    <input id="correct-start" type="datetime-local" name="start" bind:value=start aria-describedby="start-error" />
                    <p class="field-error" id="start-error" aria-live="polite">{move || error_of("start")}</p>
                </div>
                <div class="field" class:invalid=move || error_of("end").is_some()>
                    <label for="correct-end">"Ended"</label>
                    <input id="correct-end" type="datetime-local" name="end" bind:value=end aria-describedby="end-error" />
                    <p class="field-error" id="end-error" aria-live="polite">{move || error_of("end")}</p>
                </div>
                {move || other_error().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                <div class="actions">
                    <button type="button" class="button" on:click=move |_| dialog.set(AccountDialog::Closed)>"Keep as stopped"</button>
                    <button type="submit" class="button button-primary" disabled=move || action.pending().get()>"Save times"</button>
                </div>
            </form>
        </AccountModal>
    }
}

#[component]
fn ViewAsDialog(
    membership_id: i64,
    name: String,
    dialog: RwSignal<AccountDialog>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let server = RwSignal::new(None::<AppError>);
    let action = ServerAction::<StartImpersonation>::new();
    // Busy until the page is replaced: a full load after success, so the
    // header and banner read the new session from the cookie.
    let busy = Signal::derive(move || {
        action.pending().get() || matches!(action.value().get(), Some(Ok(())))
    });
    Effect::new(move |_| match action.value().get() {
        Some(Ok(())) =>
        {
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href("/");
            }
        }
        Some(Err(error)) => server.set(Some(error)),
        None => {}
    });
    let reason_error = move || {
        parse_reason(Some(&reason.get()))
            .err()
            .or_else(|| server.with(|e| e.as_ref().and_then(|e| e.field_message("reason"))))
    };
    let other_error = move || {
        server.with(|e| match e {
            Some(AppError::Validation(_)) | None => None,
            Some(other) => Some(other.to_string()),
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = reason.get_untracked();
        let Ok(parsed) = parse_reason(Some(&typed)) else {
            return;
        };
        action.dispatch(StartImpersonation {
            membership_id,
            reason: parsed,
        });
    };
    view! {
        <AccountModal title=format!("Log in as {name}") dialog>
            <form class="stack" on:submit=submit novalidate>
                <p class="muted small">{format!(
                    "You see this workspace as {name} sees it, for 30 minutes at most, with a banner and “Back to my view”. Their password, email, two-factor, API keys and sessions stay out of reach. What you do is recorded as you acting as them, and they are told afterwards."
                )}</p>
                <div class="field" class:invalid=move || reason_error().is_some()>
                    <label for="view-as-reason">"Reason (optional, shown to them)"</label>
                    <input id="view-as-reason" type="text" name="reason" maxlength="500" autocomplete="off" bind:value=reason
                        aria-describedby="view-as-reason-error" aria-invalid=move || if reason_error().is_some() { "true" } else { "false" } />
                    <p class="field-error" id="view-as-reason-error" aria-live="polite">{reason_error}</p>
                </div>
                {move || other_error().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                <div class="actions">
                    <button type="submit" class="button button-primary" disabled=move || busy.get()>{format!("Log in as {name}")}</button>
                </div>
            </form>
        </AccountModal>
    }
}
