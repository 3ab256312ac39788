//! One member's card: what the Team list shows, plus their projects.
//! Owners and admins can take them out of a group and set their projects.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::{
        groups::{list_groups, list_projects, remove_group_member, set_member_projects},
        lifecycle::RoleName,
        members::{member_detail, MemberRow},
    },
    components::layout::initials,
    domain::{MemberKind, MemberStatus, Permission},
    error::AppError,
    pages::team::{roles_label, TeamTabs},
};

#[component]
pub fn MemberPage() -> impl IntoView {
    let params = use_params_map();
    let membership_id = Memo::new(move |_| {
        params
            .with(|p| p.get("id"))
            .and_then(|id| id.parse::<i64>().ok())
    });
    let version = RwSignal::new(0_u32);
    let detail = Resource::new(
        move || (membership_id.get(), version.get()),
        |(id, _)| async move {
            match id {
                Some(id) => member_detail(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let session = crate::components::session::use_session();
    let go = {
        let navigate = leptos_router::hooks::use_navigate();
        Callback::new(move |path: &'static str| navigate(path, Default::default()))
    };
    let can_manage = move || {
        session
            .signed_in()
            .is_some_and(|me| me.can(Permission::ManageGroupsAndProjects))
    };
    // Lives above the member card, which is rebuilt after every change.
    let notice = RwSignal::new(None::<Result<String, AppError>>);
    let can_act = move || {
        session
            .signed_in()
            .is_some_and(|me| me.can(Permission::ManageMembers))
    };
    let can_unlock = move || {
        session
            .signed_in()
            .is_some_and(|me| me.can(Permission::UnlockAccount))
    };
    view! {
        <Title text="Member" />
            <TeamTabs current="members" />
            <p><a href="/team" on:click=|ev| {
                // Back to the exact list view (search, filters, scroll) when
                // we came from it.
                if let Ok(history) = window().history() {
                    if history.length().unwrap_or(0) > 1 {
                        ev.prevent_default();
                        let _ = history.back();
                    }
                }
            }>"← Back to members"</a></p>
            {move || notice.get().map(|n| match n {
                Ok(m) => view! { <p class="alert alert-info" role="status">{m}</p> }.into_any(),
                Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
            })}
            <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Loading member…"</p> }>
                {move || Suspend::new(async move {
                    // Who is looking decides the buttons: known before the
                    // card renders, on the server as in the browser.
                    let _ = session.me.await;
                    match detail.await {
                        Ok(detail) => {
                            let row = detail.row.clone();
                            let id = row.membership_id;
                            let inactive = row.status == MemberStatus::Inactive;
                            view! {
                                <section class="card member-card" aria-labelledby="member-name">
                                    <div class="member-card-head">
                                        <span class="avatar" aria-hidden="true">{initials(&row.name)}</span>
                                        <div>
                                            <h2 id="member-name" class:struck=inactive>{row.name.clone()}</h2>
                                            <p class="muted">{row.email.clone().unwrap_or_else(|| "No email (limited member)".to_owned())}</p>
                                        </div>
                                        <span class=format!("badge badge-{}", row.status.as_str())>{row.status.label()}</span>
                                    </div>
                                    <dl class="details">
                                        <dt>"Roles"</dt><dd>{roles_label(&row)}</dd>
                                        <dt>"Kind"</dt><dd>{row.kind.label()}</dd>
                                        <dt>"Team manager"</dt><dd>{row.team_manager.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                                        <dt>"Last active"</dt><dd>{row.last_active_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "Never".to_owned())}</dd>
                                        <dt>"Added"</dt><dd>{row.created_at.format("%Y-%m-%d").to_string()}</dd>
                                        <dt>"Account"</dt><dd>
                                            {if row.locked { "Locked after failed sign-ins" } else { "Not locked" }}
                                            {(row.locked && can_unlock()).then(|| view! { <UnlockButton id version notice /> })}
                                        </dd>
                                    </dl>
                                </section>
                                {can_act().then(|| view! { <MemberActions row=row.clone() version notice session go /> })}
                                {(can_act() && row.status != MemberStatus::Pending).then(|| view! {
                                    <crate::pages::profile::ProfileEditor membership_id=Some(id) />
                                })}
                                {(can_act() && row.status != MemberStatus::Pending).then(|| view! {
                                    <crate::pages::member_time::MemberTime membership_id=id name=row.name.clone() />
                                })}
                                <MemberGroups id groups=row.groups.clone() can_manage=can_manage() version />
                                <MemberProjects id all=detail.all_projects projects=detail.projects.clone() can_manage=can_manage() version />
                            }.into_any()
                        }
                        Err(error) => view! {
                            <div class="empty-state">
                                <h2>"Member not found"</h2>
                                <p>{error.to_string()}</p>
                            </div>
                        }.into_any(),
                    }
                })}
            </Suspense>
    }
}

#[component]
fn MemberGroups(
    id: i64,
    groups: Vec<String>,
    can_manage: bool,
    version: RwSignal<u32>,
) -> impl IntoView {
    let all_groups = Resource::new(|| (), |_| list_groups());
    let error = RwSignal::new(None::<AppError>);
    let remove = Action::new(move |group_id: &i64| {
        let group_id = *group_id;
        async move {
            match remove_group_member(group_id, id).await {
                Ok(()) => version.update(|v| *v += 1),
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="groups-head">
            <h2 id="groups-head">"Groups"</h2>
            {if groups.is_empty() {
                view! { <p class="muted">"Not in any group."</p> }.into_any()
            } else {
                view! {
                    <ul class="chip-list">
                        {groups.into_iter().map(|name| {
                            let lookup = name.clone();
                            view! {
                                <li class="chip">
                                    {name.clone()}
                                    {can_manage.then(|| view! {
                                        <button
                                            type="button"
                                            class="chip-remove"
                                            aria-label=format!("Remove from {name}")
                                            on:click=move |_| {
                                                let group_id = all_groups
                                                    .get()
                                                    .and_then(Result::ok)
                                                    .and_then(|all| all.into_iter().find(|g| g.name == lookup))
                                                    .map(|g| g.id);
                                                if let Some(group_id) = group_id {
                                                    remove.dispatch(group_id);
                                                }
                                            }
                                        >"×"</button>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {move || error.get().map(|e| view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> })}
        </section>
    }
}

#[component]
fn MemberProjects(
    id: i64,
    all: bool,
    projects: Vec<String>,
    can_manage: bool,
    version: RwSignal<u32>,
) -> impl IntoView {
    let all_projects = Resource::new(|| (), |_| list_projects());
    let everything = RwSignal::new(all);
    let chosen: RwSignal<Vec<String>> = RwSignal::new(projects.clone());
    let message = RwSignal::new(None::<Result<(), AppError>>);
    let save = Action::new(move |_: &()| async move {
        let listed = all_projects
            .get_untracked()
            .and_then(Result::ok)
            .unwrap_or_default();
        let ids: Vec<i64> = listed
            .into_iter()
            .filter(|p| chosen.with_untracked(|c| c.contains(&p.name)))
            .map(|p| p.id)
            .collect();
        let result = set_member_projects(id, everything.get_untracked(), ids).await;
        if result.is_ok() {
            version.update(|v| *v += 1);
        }
        message.set(Some(result));
    });
    view! {
        <section class="card" aria-labelledby="projects-head">
            <h2 id="projects-head">"Projects"</h2>
            {if !can_manage {
                let summary = if all { "All projects".to_owned() } else if projects.is_empty() { "No projects".to_owned() } else { projects.join(", ") };
                view! { <p>{summary}</p> }.into_any()
            } else {
                view! {
                    <label class="check">
                        <input type="checkbox" prop:checked=move || everything.get()
                            on:change=move |ev| everything.set(event_target_checked(&ev)) />
                        " All projects, including new ones"
                    </label>
                    <Transition fallback=|| ()>
                        {move || (!everything.get()).then(|| {
                            let listed = all_projects.get().and_then(Result::ok).unwrap_or_default();
                            if listed.is_empty() {
                                return view! { <p class="muted">"No projects yet. Create them on the Projects tab."</p> }.into_any();
                            }
                            view! {
                                <ul class="check-list">
                                    {listed.into_iter().map(|p| {
                                        let name = p.name.clone();
                                        let checked = {
                                            let name = name.clone();
                                            move || chosen.with(|c| c.contains(&name))
                                        };
                                        view! {
                                            <li><label class="check">
                                                <input type="checkbox" prop:checked=checked
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        let name = name.clone();
                                                        chosen.update(|c| {
                                                            c.retain(|n| *n != name);
                                                            if on { c.push(name); }
                                                        });
                                                    } />
                                                " " {p.name.clone()}
                                                {p.archived.then_some(" (archived)")}
                                            </label></li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        })}
                    </Transition>
                    <div class="actions">
                        <button type="button" class="button button-primary" on:click=move |_| { save.dispatch(()); }
                            disabled=move || save.pending().get()>"Save projects"</button>
                    </div>
                    {move || message.get().map(|m| match m {
                        Ok(()) => view! { <p class="notice" role="status">"Projects saved."</p> }.into_any(),
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                    })}
                }.into_any()
            }}
        </section>
    }
}

/// Roles, deactivate / reactivate / delete and ownership transfer for one
/// member. The server checks every rule again; this only hides what the
/// signed-in person cannot do and asks before anything that is hard to undo.
#[component]
fn MemberActions(
    row: MemberRow,
    version: RwSignal<u32>,
    notice: RwSignal<Option<Result<String, AppError>>>,
    /// Passed in rather than looked up: this card is rebuilt inside the
    /// page's Suspend after every change, where the context lookup can find
    /// its owner already disposed.
    session: crate::components::session::SessionContext,
    /// Navigation, for the same reason.
    go: Callback<&'static str>,
) -> impl IntoView {
    use crate::api::lifecycle::{
        DeactivateMember, DeleteMember, ReactivateMember, SetMemberRole, TransferOwnership,
    };
    let id = row.membership_id;
    let name = row.name.clone();
    let email = row.email.clone().unwrap_or_default();
    let i_am_owner = move || {
        session
            .signed_in()
            .and_then(|me| me.workspace)
            .is_some_and(|w| w.positions.owner)
    };
    let set_role = ServerAction::<SetMemberRole>::new();
    let deactivate = ServerAction::<DeactivateMember>::new();
    let reactivate = ServerAction::<ReactivateMember>::new();
    let delete = ServerAction::<DeleteMember>::new();
    let transfer_action = ServerAction::<TransferOwnership>::new();
    let busy = move || {
        set_role.pending().get()
            || deactivate.pending().get()
            || reactivate.pending().get()
            || delete.pending().get()
            || transfer_action.pending().get()
    };
    // What a role answer says on success: it depends on the toggle clicked,
    // which the action's input no longer holds by then.
    let role_message: StoredValue<String> = StoredValue::new(String::new());
    // Each answer: the notice, then the card again (or, after a delete, the
    // Team list: the member is gone).
    let answered = move |answer: Option<Result<(), AppError>>,
                         label: String,
                         after: Option<&'static str>| match answer {
        Some(Ok(())) => {
            notice.set(Some(Ok(label)));
            match after {
                Some(path) => go.run(path),
                None => version.update(|v| *v += 1),
            }
        }
        Some(Err(e)) => notice.set(Some(Err(e))),
        None => {}
    };
    Effect::new(move |_| answered(set_role.value().get(), role_message.get_value(), None));
    Effect::new({
        let name = name.clone();
        move |_| {
            answered(
                deactivate.value().get(),
                format!("{name} is deactivated."),
                None,
            )
        }
    });
    Effect::new({
        let name = name.clone();
        move |_| {
            answered(
                reactivate.value().get(),
                format!("{name} is active again."),
                None,
            )
        }
    });
    Effect::new({
        let name = name.clone();
        move |_| {
            answered(
                delete.value().get(),
                format!("{name} was deleted."),
                Some("/team?status=all"),
            )
        }
    });
    Effect::new({
        let name = name.clone();
        move |_| {
            let answer = transfer_action.value().get();
            if matches!(answer, Some(Ok(()))) {
                // Your own role changed: the header and the controls follow.
                session.refresh();
            }
            answered(answer, format!("{name} is now the Owner."), None)
        }
    });
    let is_owner = row.positions.owner;
    let full = row.kind == MemberKind::Full;
    let roles = (!is_owner && full).then(|| {
        let toggles = [
            (RoleName::Admin, row.positions.admin),
            (RoleName::ProjectManager, row.positions.project_manager),
            (RoleName::TeamManager, row.positions.team_manager),
        ];
        view! {
            <div class="role-toggles" role="group" aria-label="Roles">
                {toggles.into_iter().map(|(role, held)| {
                    let label = if held { format!("✓ {}", role.label()) } else { format!("+ {}", role.label()) };
                    let title = if held { format!("Take the {} role away", role.label()) } else { format!("Give the {} role", role.label()) };
                    view! {
                        <button type="button" class="button button-small" class:role-held=held aria-pressed=if held { "true" } else { "false" }
                            title=title.clone() aria-label=title
                            disabled=busy
                            on:click=move |_| {
                                let message = if held { format!("{} role taken away.", role.label()) } else { format!("{} role given.", role.label()) };
                                role_message.set_value(message);
                                notice.set(None);
                                set_role.dispatch(SetMemberRole { membership_id: id, role, on: !held });
                            }>{label}</button>
                    }
                }).collect_view()}
            </div>
        }
    });
    let status_actions = {
        let (name, email) = (name.clone(), email.clone());
        match row.status {
            MemberStatus::Active if !is_owner => view! {
                <button type="button" class="button danger" disabled=busy on:click=move |_| {
                    let question = format!("Deactivate {name}? They are signed out of this workspace at once; their time entries stay.");
                    if window().confirm_with_message(&question).unwrap_or(false) {
                        notice.set(None);
                        deactivate.dispatch(DeactivateMember { membership_id: id });
                    }
                }>"Deactivate"</button>
            }.into_any(),
            MemberStatus::Inactive => {
                view! {
                    <button type="button" class="button" disabled=busy on:click=move |_| {
                        notice.set(None);
                        reactivate.dispatch(ReactivateMember { membership_id: id });
                    }>"Reactivate"</button>
                    <button type="button" class="button danger" disabled=busy on:click=move |_| {
                        let who = if email.is_empty() { name.clone() } else { format!("{name} ({email})") };
                        let question = format!("Delete {who} from this workspace for good? Their time entries stay under \"Deleted user\". To come back they need a new invitation.");
                        if window().confirm_with_message(&question).unwrap_or(false) {
                            notice.set(None);
                            delete.dispatch(DeleteMember { membership_id: id });
                        }
                    }>"Delete…"</button>
                }.into_any()
            }
            _ => ().into_any(),
        }
    };
    let transfer = (!is_owner && full && row.status == MemberStatus::Active).then(|| {
        let (name, email) = (name.clone(), email.clone());
        move || i_am_owner().then(|| {
            let (name, email) = (name.clone(), email.clone());
            view! {
                <button type="button" class="button" disabled=busy on:click=move |_| {
                    let question = format!("Make {name} <{email}> the Owner of this workspace? You become an Admin.");
                    if window().confirm_with_message(&question).unwrap_or(false) {
                        notice.set(None);
                        transfer_action.dispatch(TransferOwnership { membership_id: id });
                    }
                }>"Transfer ownership…"</button>
            }
        })
    });
    view! {
        <section class="card" aria-labelledby="actions-head" data-testid="member-actions">
            <h2 id="actions-head">"Manage"</h2>
            {roles}
            <div class="actions">{status_actions}{transfer}</div>
        </section>
    }
}

/// "Unlock" beside a locked account: ends the waits its failed sign-ins
/// caused, at once.
#[component]
fn UnlockButton(
    id: i64,
    version: RwSignal<u32>,
    notice: RwSignal<Option<Result<String, AppError>>>,
) -> impl IntoView {
    let unlock = ServerAction::<crate::api::lifecycle::UnlockMember>::new();
    Effect::new(move |_| {
        if let Some(answer) = unlock.value().get() {
            notice.set(Some(answer.map(|()| {
                "The account is unlocked: it can sign in again now.".to_owned()
            })));
            version.update(|v| *v += 1);
        }
    });
    view! {
        " "
        <button type="button" class="button button-small" disabled=move || unlock.pending().get() on:click=move |_| {
            unlock.dispatch(crate::api::lifecycle::UnlockMember { membership_id: id });
        }>"Unlock"</button>
    }
}
