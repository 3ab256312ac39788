//! Groups and Projects tabs of the Team page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        groups::{
            list_groups, list_projects, AddGroupMembers, CreateGroup, CreateProject, DeleteGroup,
            GroupRow, ProjectRow, RenameGroup, RenameProject, SetProjectArchived,
        },
        members::list_members,
    },
    components::form::newest_failure,
    domain::{directory::DirectoryParams, LabelName, Permission},
    error::AppError,
    pages::team::{group_members_href, TeamTabs},
};

fn can_manage() -> Signal<bool> {
    let session = crate::components::session::use_session();
    Signal::derive(move || {
        session
            .signed_in()
            .is_some_and(|me| me.can(Permission::ManageGroupsAndProjects))
    })
}

fn error_view(error: RwSignal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let text = e
                .field_message("name")
                .or_else(|| e.field_message("members"))
                .unwrap_or_else(|| e.to_string());
            view! { <div class="alert alert-error" role="alert">{text}</div> }
        })
    }
}

/// "New group" / "New project": a name field checked as you type.
#[component]
fn CreateForm(
    label: &'static str,
    parse: fn(&str) -> Result<LabelName, String>,
    on_create: Callback<String>,
    error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let local_error = RwSignal::new(None::<String>);
    let input_id = format!("new-{}", label.to_lowercase());
    view! {
        <form class="inline-form" on:submit=move |ev| {
            ev.prevent_default();
            match parse(&name.get_untracked()) {
                Ok(valid) => {
                    local_error.set(None);
                    error.set(None);
                    on_create.run(valid.as_str().to_owned());
                    name.set(String::new());
                }
                Err(message) => local_error.set(Some(message)),
            }
        }>
            <label for=input_id.clone()>{format!("New {}", label.to_lowercase())}</label>
            <input id=input_id type="text" name="name" maxlength="100" autocomplete="off"
                prop:value=move || name.get()
                on:input=move |ev| { name.set(event_target_value(&ev)); local_error.set(None); }
                aria-invalid=move || local_error.get().is_some().then_some("true") />
            <button type="submit" class="button button-primary">{format!("Create {}", label.to_lowercase())}</button>
            {move || local_error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </form>
    }
}

/// What a names page (Groups, Projects) says around its table.
struct NamesTable {
    noun: &'static str,
    count_header: &'static str,
    empty_title: &'static str,
    empty_text: &'static str,
}

impl NamesTable {
    /// The page's list: an empty state, the table with one `row` per
    /// entry, or what went wrong.
    fn show<T>(&self, answer: Result<Vec<T>, AppError>, row: impl Fn(T) -> AnyView) -> AnyView {
        match answer {
            Ok(rows) if rows.is_empty() => view! {
                <div class="empty-state">
                    <h2>{self.empty_title}</h2>
                    <p>{self.empty_text}</p>
                </div>
            }
            .into_any(),
            Ok(rows) => view! {
                <table class="data-table">
                    <thead><tr>
                        <th scope="col">{self.noun}</th>
                        <th scope="col">{self.count_header}</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>{rows.into_iter().map(row).collect_view()}</tbody>
                </table>
            }
            .into_any(),
            Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }
                .into_any(),
        }
    }
}

/// The changes a group row can make; the page lists the groups again after
/// each one.
#[derive(Clone, Copy)]
struct GroupActions {
    rename: ServerAction<RenameGroup>,
    delete: ServerAction<DeleteGroup>,
    add: ServerAction<AddGroupMembers>,
}

/// The changes a project row can make.
#[derive(Clone, Copy)]
struct ProjectActions {
    rename: ServerAction<RenameProject>,
    archive: ServerAction<SetProjectArchived>,
}

const GROUPS_TABLE: NamesTable = NamesTable {
    noun: "Group",
    count_header: "Members",
    empty_title: "No groups yet",
    empty_text: "Create a group for each team, department or office.",
};

#[component]
pub fn GroupsPage() -> impl IntoView {
    let actions = GroupActions {
        rename: ServerAction::new(),
        delete: ServerAction::new(),
        add: ServerAction::new(),
    };
    let create = ServerAction::<CreateGroup>::new();
    // Any change the page made lists the groups again.
    let groups = Resource::new(
        move || {
            (
                create.version().get(),
                actions.rename.version().get(),
                actions.delete.version().get(),
                actions.add.version().get(),
            )
        },
        |_| list_groups(),
    );
    let error = RwSignal::new(None::<AppError>);
    newest_failure(create, error);
    newest_failure(actions.rename, error);
    newest_failure(actions.delete, error);
    newest_failure(actions.add, error);
    let manage = can_manage();
    let on_create = Callback::new(move |name: String| {
        create.dispatch(CreateGroup { name });
    });
    view! {
        <Title text="Groups" />
            <TeamTabs current="groups" />
            <p class="lede">"Groups are named sets of members, such as a department or an office. Filter the member list by group, and add new people to groups when you invite them."</p>
            <Suspense fallback=|| ()>
                {move || manage.get().then(|| view! {
                    <CreateForm label="Group" parse=LabelName::parse_group on_create error />
                })}
            </Suspense>
            {error_view(error)}
            <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading groups…"</p> }>
                {move || groups.get().map(|answer| GROUPS_TABLE.show(answer, |group| view! {
                    <GroupRowView group manage actions />
                }.into_any()))}
            </Transition>
    }
}

#[component]
fn GroupRowView(group: GroupRow, manage: Signal<bool>, actions: GroupActions) -> impl IntoView {
    let editing = RwSignal::new(false);
    let adding = RwSignal::new(false);
    let draft = RwSignal::new(group.name.clone());
    let id = group.id;
    let name = group.name.clone();
    let count = group.member_count;
    // The list is fetched again after a rename, which rebuilds this row.
    let rename = move || {
        actions.rename.dispatch(RenameGroup {
            group_id: id,
            name: draft.get_untracked(),
        });
    };
    let delete_name = name.clone();
    let delete = move |_| {
        let question = format!(
            "Delete the group \"{delete_name}\"? Its {count} member(s) stay in the workspace; only the group goes."
        );
        if window().confirm_with_message(&question).unwrap_or(false) {
            actions.delete.dispatch(DeleteGroup { group_id: id });
        }
    };
    view! {
        <tr>
            <td data-label="Group">
                {move || if editing.get() {
                    view! {
                        <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); rename(); }>
                            <label class="visually-hidden" for=format!("rename-group-{id}")>"Group name"</label>
                            <input id=format!("rename-group-{id}") type="text" maxlength="100"
                                prop:value=move || draft.get()
                                on:input=move |ev| draft.set(event_target_value(&ev)) />
                            <button type="submit" class="button button-primary"
                                disabled=move || actions.rename.pending().get()>"Save"</button>
                            <button type="button" class="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </form>
                    }.into_any()
                } else {
                    view! { <a href=group_members_href(id)>{draft.get()}</a> }.into_any()
                }}
            </td>
            <td data-label="Members">{count}</td>
            <td class="row-actions">
                {move || manage.get().then(|| view! {
                    <button type="button" class="button button-quiet" on:click=move |_| adding.update(|a| *a = !*a)>"Add members"</button>
                    <button type="button" class="button button-quiet" on:click=move |_| editing.set(true)>"Rename"</button>
                    <button type="button" class="button button-quiet danger" on:click=delete.clone()>"Delete"</button>
                })}
            </td>
        </tr>
        {move || adding.get().then(|| view! {
            <tr class="panel-row"><td colspan="3">
                <AddMembersPanel group_id=id group_name=name.clone() add=actions.add />
            </td></tr>
        })}
    }
}

/// Search members and add the ticked ones to a group.
#[component]
fn AddMembersPanel(
    group_id: i64,
    group_name: String,
    add: ServerAction<AddGroupMembers>,
) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let picked: RwSignal<Vec<i64>> = RwSignal::new(Vec::new());
    let results = Resource::new(
        move || search.get(),
        |q| async move {
            list_members(
                DirectoryParams {
                    q: Some(q),
                    ..Default::default()
                },
                None,
            )
            .await
        },
    );
    let add_picked = move |_| {
        let membership_ids = picked.get_untracked();
        if !membership_ids.is_empty() {
            add.dispatch(AddGroupMembers {
                group_id,
                membership_ids,
            });
        }
    };
    view! {
        <div class="add-panel">
            <label>
                {format!("Find people to add to {group_name}")}
                <input type="search" placeholder="Name or email" prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev)) />
            </label>
            <Transition fallback=|| ()>
                {move || results.get().and_then(Result::ok).map(|page| view! {
                    <ul class="check-list">
                        {page.rows.into_iter().map(|row| {
                            let id = row.membership_id;
                            view! {
                                <li><label class="check">
                                    <input type="checkbox" prop:checked=move || picked.with(|p| p.contains(&id))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            picked.update(|p| { p.retain(|x| *x != id); if on { p.push(id); } });
                                        } />
                                    " " {row.name.clone()} " "
                                    <span class="muted">{row.email.clone().unwrap_or_default()}</span>
                                </label></li>
                            }
                        }).collect_view()}
                    </ul>
                })}
            </Transition>
            <button type="button" class="button button-primary" on:click=add_picked
                disabled=move || picked.with(Vec::is_empty) || add.pending().get()>
                {move || format!("Add {} to group", picked.with(Vec::len))}
            </button>
        </div>
    }
}

const PROJECTS_TABLE: NamesTable = NamesTable {
    noun: "Project",
    count_header: "Members given it",
    empty_title: "No projects yet",
    empty_text: "Create the projects your team tracks time on.",
};

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let actions = ProjectActions {
        rename: ServerAction::new(),
        archive: ServerAction::new(),
    };
    let create = ServerAction::<CreateProject>::new();
    let projects = Resource::new(
        move || {
            (
                create.version().get(),
                actions.rename.version().get(),
                actions.archive.version().get(),
            )
        },
        |_| list_projects(),
    );
    let error = RwSignal::new(None::<AppError>);
    newest_failure(create, error);
    newest_failure(actions.rename, error);
    newest_failure(actions.archive, error);
    let manage = can_manage();
    let on_create = Callback::new(move |name: String| {
        create.dispatch(CreateProject { name });
    });
    view! {
        <Title text="Projects" />
            <TeamTabs current="projects" />
            <p class="lede">"Members can be given every project or only some. Set a member's projects on their page."</p>
            <Suspense fallback=|| ()>
                {move || manage.get().then(|| view! {
                    <CreateForm label="Project" parse=LabelName::parse_project on_create error />
                })}
            </Suspense>
            {error_view(error)}
            <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading projects…"</p> }>
                {move || projects.get().map(|answer| PROJECTS_TABLE.show(answer, |project| view! {
                    <ProjectRowView project manage actions />
                }.into_any()))}
            </Transition>
    }
}

#[component]
fn ProjectRowView(
    project: ProjectRow,
    manage: Signal<bool>,
    actions: ProjectActions,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(project.name.clone());
    let id = project.id;
    let archived = project.archived;
    let rename = move || {
        actions.rename.dispatch(RenameProject {
            project_id: id,
            name: draft.get_untracked(),
        });
    };
    let toggle_archive = move |_| {
        actions.archive.dispatch(SetProjectArchived {
            project_id: id,
            archived: !archived,
        });
    };
    view! {
        <tr class:archived=archived>
            <td data-label="Project">
                {move || if editing.get() {
                    view! {
                        <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); rename(); }>
                            <label class="visually-hidden" for=format!("rename-project-{id}")>"Project name"</label>
                            <input id=format!("rename-project-{id}") type="text" maxlength="100"
                                prop:value=move || draft.get()
                                on:input=move |ev| draft.set(event_target_value(&ev)) />
                            <button type="submit" class="button button-primary"
                                disabled=move || actions.rename.pending().get()>"Save"</button>
                            <button type="button" class="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </form>
                    }.into_any()
                } else {
                    view! {
                        <span>{draft.get()}</span>
                        {archived.then(|| view! { " " <span class="badge badge-inactive">"Archived"</span> })}
                    }.into_any()
                }}
            </td>
            <td data-label="Members given it">{project.member_count}</td>
            <td class="row-actions">
                {move || manage.get().then(|| view! {
                    <button type="button" class="button button-quiet" on:click=move |_| editing.set(true)>"Rename"</button>
                    <button type="button" class="button button-quiet" on:click=toggle_archive
                        disabled=move || actions.archive.pending().get()>
                        {if archived { "Restore" } else { "Archive" }}
                    </button>
                })}
            </td>
        </tr>
    }
}
