//! The Team page: every member, searchable as you type, filtered and sorted,
//! with the whole view in the URL.

use leptos::{either::Either, prelude::*};
use leptos_meta::Title;
use leptos_router::{hooks::use_navigate, hooks::use_query_map, NavigateOptions};

use crate::{
    api::{
        groups::list_groups,
        members::{count_members, list_members, MemberPage, MemberRow},
    },
    components::{fetched::fetched, layout::initials},
    domain::{
        directory::{
            label_of, url_encode, DirectoryParams, DirectoryQuery, MatchNote, MemberCount, SortDir,
            SortKey, SORT_OPTIONS,
        },
        MemberKind, MemberStatus, Permission, Position,
    },
    error::AppError,
    pages::invite_dialog::{PendingActions, TeamDialog},
    pages::team_bulk::{BulkBar, RowCheck, RowMenu, RowSelection, SelectAllShown},
    pages::team_controls::DirectoryControls,
    pages::team_on_demand::{on_demand, OnDemand},
};

#[component]
pub fn TeamPage() -> impl IntoView {
    let url_query = use_query_map();
    // The search as typed, ahead of the router's address (see
    // `team_controls::SEARCH_URL_PAUSE_MS` and `show_in_address`). Any navigation (a filter,
    // a sort, back/forward) makes the address the view again.
    let typed_search: RwSignal<Option<String>> = RwSignal::new(None);
    Effect::new(move |_| {
        url_query.track();
        if typed_search.get_untracked().is_some() {
            typed_search.set(None);
        }
    });
    let params = Memo::new(move |_| {
        let mut params = url_query.with(params_from_url);
        if let Some(text) = typed_search.get() {
            params.set("q", &text);
        }
        params
    });
    // Bumped after an invite, resend or revoke, so the list shows it.
    let reload = RwSignal::new(0_u32);
    let first_page = Resource::new(
        move || (params.get(), reload.get()),
        |(p, _)| list_members(p, None),
    );
    view! {
        <Title text="Team" />
            <TeamTabs current="members" />
            <MembersView params typed_search reload first_page />
    }
}

/// Members | Groups | Projects.
#[component]
pub fn TeamTabs(current: &'static str) -> impl IntoView {
    let tab = move |key: &'static str, href: &'static str, label: &'static str| {
        view! {
            <a href=href aria-current=(current == key).then_some("page")>{label}</a>
        }
    };
    view! {
        <div class="page-head">
            <h1>"Team"</h1>
        </div>
        <nav class="tabs" aria-label="Team sections">
            {tab("members", "/team", "Members")}
            {tab("groups", "/team/groups", "Groups")}
            {tab("projects", "/team/projects", "Projects")}
        </nav>
    }
}

pub fn roles_label(row: &MemberRow) -> String {
    let labels: Vec<&str> = row
        .positions
        .held()
        .filter(|p| *p != Position::Member)
        .map(|p| p.label())
        .collect();
    if labels.is_empty() {
        "Member".to_owned()
    } else {
        labels.join(", ")
    }
}

fn params_from_url(map: &leptos_router::params::ParamsMap) -> DirectoryParams {
    let mut params = DirectoryParams::default();
    for key in DirectoryParams::KEYS {
        if let Some(value) = map.get(key) {
            params.set(key, value);
        }
    }
    params
}

/// The member list: the controls, the count, the list's first page with its
/// empty states, the pages "Load more" adds, and the dialogs and bulk bar
/// that change it.
#[component]
fn MembersView(
    params: Memo<DirectoryParams>,
    typed_search: RwSignal<Option<String>>,
    reload: RwSignal<u32>,
    first_page: Resource<Result<MemberPage, AppError>>,
) -> impl IntoView {
    let parsed = Memo::new(move |_| DirectoryQuery::parse(&params.get()));
    // The view the controls show: the parsed URL, or the default view when
    // the URL is broken (its message is shown above the list).
    let view_query = Memo::new(move |_| parsed.get().unwrap_or_default());

    let dialog = RwSignal::new(TeamDialog::Closed);
    let notice = RwSignal::new(None::<String>);
    let on_changed = Callback::new(move |message: String| {
        notice.set(Some(message));
        reload.update(|n| *n += 1);
    });
    // The count and the group names are fetched by the browser only: they
    // render "Counting…" / no group options on the server and in the first
    // browser pass alike, so hydration never depends on which answer
    // arrived first (with server-side resources here, reloading the page
    // sometimes failed to hydrate). Not resources: see `fetched`.
    let shown_count: ReadSignal<Option<Result<MemberCount, AppError>>> = fetched(move || {
        reload.track();
        count_members(params.get())
    });
    let groups = fetched(list_groups);
    // Group names arrive after hydration (an Effect never runs on the
    // server), so server and browser render the same empty list first: a
    // Transition here made hydration fail now and then.
    let group_options: RwSignal<Vec<(String, String)>> = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        if let Some(Ok(list)) = groups.get() {
            group_options.set(
                list.iter()
                    .map(|g| (g.id.to_string(), g.name.clone()))
                    .collect(),
            );
        }
    });
    let more = MorePages::new(params, reload);

    let url_error = move || parsed.get().err();
    let session = crate::components::session::use_session();
    let can_invite = move || {
        session
            .signed_in()
            .is_some_and(|me| me.can(Permission::InviteMembers))
    };
    // Rows picked for a bulk action: the first page's ids (written by the
    // table once it is in the browser) and those loaded by "Load more".
    let first_ids: RwSignal<Vec<i64>> = RwSignal::new(Vec::new());
    let shown_ids = Memo::new(move |_| {
        let mut ids = first_ids.get();
        more.rows
            .with(|rows| ids.extend(rows.iter().map(|r| r.membership_id)));
        ids
    });
    let selection = RowSelection::new(shown_ids);
    Effect::new(move |_| {
        params.track();
        reload.track();
        selection.clear();
    });
    let after_bulk = Callback::new(move |_: String| reload.update(|n| *n += 1));
    // The dialogs, the bulk bar and the row menus come with their own code
    // (`team_on_demand`): it is fetched when someone first moves the mouse,
    // touches the screen or presses a key here, ahead of the click that
    // needs it, and never by a page load alone.
    Effect::new(move |_| {
        // Each listener is removed at the first event: one preload, and no
        // listener left running on every later mouse move.
        let listeners = StoredValue::new(Vec::<WindowListenerHandle>::new());
        let remove_all = move || {
            listeners
                .try_update_value(|all| {
                    let had_any = !all.is_empty();
                    all.drain(..).for_each(WindowListenerHandle::remove);
                    had_any
                })
                .unwrap_or(false)
        };
        let start = move || {
            if remove_all() {
                crate::pages::team_on_demand::preload();
            }
        };
        listeners.set_value(vec![
            window_event_listener(leptos::ev::pointermove, move |_| start()),
            window_event_listener(leptos::ev::touchstart, move |_| start()),
            window_event_listener(leptos::ev::keydown, move |_| start()),
        ]);
        on_cleanup(move || {
            remove_all();
        });
    });

    view! {
        <DirectoryControls view_query typed_search group_options />
        {move || url_error().map(|errors| {
            let message = errors
                .0
                .values()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ");
            view! { <div class="alert alert-error" role="alert">{message}</div> }
        })}
        <ResultBar view_query count=shown_count dialog />
        {move || notice.get().map(|m| view! {
            <div class="alert alert-info" role="status" data-testid="team-notice">{m}
                <button type="button" class="button button-quiet button-small" aria-label="Dismiss" on:click=move |_| notice.set(None)>"✕"</button>
            </div>
        })}
        {move || match dialog.get() {
            TeamDialog::Closed => None,
            TeamDialog::Invite => Some(on_demand(OnDemand::Invite { dialog, on_done: on_changed }, || ().into_any())),
            TeamDialog::Limited => Some(on_demand(OnDemand::Limited { dialog, on_done: on_changed }, || ().into_any())),
        }}
        <Suspense fallback=|| ()>
            {move || can_invite().then(|| view! {
                <BulkBar selection params count=shown_count group_options on_done=after_bulk />
            })}
        </Suspense>
        <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading members…"</p> }>
            {move || first_page.get().map(|answer| match answer {
                Ok(page) => {
                    let first_next = page.next.clone();
                    let empty = page.rows.is_empty();
                    // Only the person looking at it, in the default view: a
                    // new workspace.
                    let alone = page.rows.len() == 1
                        && page.next.is_none()
                        && view_query.get_untracked() == DirectoryQuery::default();
                    Either::Left(view! {
                        <MembersTable first=page.rows more=more.rows view_query
                            on_changed=can_invite().then_some(on_changed)
                            selection=can_invite().then_some(selection)
                            first_ids />
                        {empty.then(|| {
                            let searching = !view_query.get_untracked().search().is_empty();
                            view! {
                                <div class="empty-state">
                                    <h2>{if searching { "No members match" } else { "No members in this view" }}</h2>
                                    <p>{if can_invite() {
                                        "Try another search or filter, or invite the people you are looking for."
                                    } else {
                                        "Try another search or filter."
                                    }}</p>
                                </div>
                            }
                        })}
                        {(alone && can_invite()).then(|| view! {
                            <div class="empty-state">
                                <h2>"Invite your team"</h2>
                                <p>"You are the only member so far. Invite the people you work with so they can track time in this workspace."</p>
                            </div>
                        })}
                        <LoadMore more first_next params />
                    })
                }
                Err(AppError::Forbidden) => Either::Right(view! {
                    <div class="empty-state">
                        <h2>"The member list is for owners and admins"</h2>
                        <p>"Ask an admin of this workspace if you need to see who is in it."</p>
                    </div>
                }.into_any()),
                Err(error) => Either::Right(view! {
                    <div class="alert alert-error" role="alert">{error.to_string()}</div>
                }.into_any()),
            })}
        </Transition>
    }
}

/// How many members the view holds, and what may be done from here:
/// invite, add a limited member, import, export the view.
#[component]
fn ResultBar(
    view_query: Memo<DirectoryQuery>,
    count: ReadSignal<Option<Result<MemberCount, AppError>>>,
    dialog: RwSignal<TeamDialog>,
) -> impl IntoView {
    let shown_count = count;
    let session = crate::components::session::use_session();
    let can_invite = move || {
        session
            .signed_in()
            .is_some_and(|me| me.can(Permission::InviteMembers))
    };
    let export_href = move || {
        let query = view_query.get().to_query_string();
        format!("/api/members.csv{query}")
    };
    view! {
            <div class="result-bar">
                <p class="count" id="member-count" aria-live="polite" data-testid="member-count">
    {move || match shown_count.get() {
                        Some(Ok(count)) => count.describe(),
                        Some(Err(_)) => "Count unavailable".to_owned(),
                        None => "Counting…".to_owned(),
                    }}
                </p>
                <div class="result-actions">
                    // Read inside a Suspense: the server renders it once
                    // the session is known, as the browser hydrates it.
                    <Suspense fallback=|| ()>
                        {move || can_invite().then(|| view! {
                            <button type="button" class="button button-primary" on:click=move |_| dialog.set(TeamDialog::Invite)>"Invite members"</button>
                            <button type="button" class="button" on:click=move |_| dialog.set(TeamDialog::Limited)>"Add limited member"</button>
                            <a class="button" href="/team/import">"Import CSV"</a>
                        })}
                    </Suspense>
                    <a class="button" href=export_href download="members.csv">"Export CSV"</a>
                </div>
            </div>
    }
}

/// The pages after the first, appended by "Load more". A generation number
/// drops an answer that arrives after the view has changed.
#[derive(Clone, Copy)]
struct MorePages {
    rows: RwSignal<Vec<MemberRow>>,
    /// The cursor after the last page loaded; `None` until one is.
    next: RwSignal<Option<Option<String>>>,
    error: RwSignal<Option<AppError>>,
    loading: RwSignal<bool>,
    generation: StoredValue<u64>,
}

impl MorePages {
    /// Empty again whenever the view changes or the list is reloaded.
    fn new(params: Memo<DirectoryParams>, reload: RwSignal<u32>) -> Self {
        let more = Self {
            rows: RwSignal::new(Vec::new()),
            next: RwSignal::new(None),
            error: RwSignal::new(None),
            loading: RwSignal::new(false),
            generation: StoredValue::new(0),
        };
        Effect::new(move |_| {
            params.track();
            reload.track();
            more.generation.update_value(|g| *g += 1);
            more.rows.set(Vec::new());
            more.next.set(None);
            more.error.set(None);
            more.loading.set(false);
        });
        more
    }

    /// Loads the page after `cursor` for `view` and appends it.
    fn load(self, view: DirectoryParams, cursor: String) {
        let asked_in = self.generation.get_value();
        self.loading.set(true);
        leptos::task::spawn_local(async move {
            let answer = list_members(view, Some(cursor)).await;
            if self.generation.try_get_value() != Some(asked_in) {
                return;
            }
            self.loading.set(false);
            match answer {
                Ok(MemberPage { rows, next }) => {
                    self.rows.update(|all| all.extend(rows));
                    self.next.set(Some(next));
                    self.error.set(None);
                }
                Err(error) => self.error.set(Some(error)),
            }
        });
    }
}

/// "Load more" under the list, while there is more; its error, if any.
#[component]
fn LoadMore(
    more: MorePages,
    /// The first page's cursor to the next.
    first_next: Option<String>,
    params: Memo<DirectoryParams>,
) -> impl IntoView {
    let cursor = move || more.next.get().unwrap_or_else(|| first_next.clone());
    let load_more = {
        let cursor = cursor.clone();
        move |_| {
            if let Some(after) = cursor() {
                more.load(params.get_untracked(), after);
            }
        }
    };
    view! {
        {move || cursor().map(|_| {
            let load_more = load_more.clone();
            view! {
                <div class="load-more">
                    <button
                        type="button"
                        class="button"
                        on:click=load_more
                        disabled=move || more.loading.get()
                    >
                        {move || if more.loading.get() { "Loading…" } else { "Load more" }}
                    </button>
                </div>
            }
        })}
        {move || more.error.get().map(|e| view! {
            <div class="alert alert-error" role="alert">{e.to_string()}</div>
        })}
    }
}

/// Moves focus to the row above or below, or opens the focused member.
fn row_keydown(ev: leptos::ev::KeyboardEvent, membership_id: i64) {
    use wasm_bindgen::JsCast;
    let Some(row) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    let target = match ev.key().as_str() {
        "ArrowDown" => row.next_element_sibling(),
        "ArrowUp" => row.previous_element_sibling(),
        "Home" => row.parent_element().and_then(|p| p.first_element_child()),
        "End" => row.parent_element().and_then(|p| p.last_element_child()),
        "Enter" => {
            ev.prevent_default();
            use_navigate()(
                &format!("/team/members/{membership_id}"),
                NavigateOptions::default(),
            );
            return;
        }
        _ => return,
    };
    ev.prevent_default();
    if let Some(next) = target.and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = next.focus();
    }
}

#[component]
fn MembersTable(
    first: Vec<MemberRow>,
    more: RwSignal<Vec<MemberRow>>,
    view_query: Memo<DirectoryQuery>,
    /// Set for people who may invite: pending rows get their actions.
    on_changed: Option<Callback<String>>,
    /// Set for people who may act on members: rows get checkboxes.
    selection: Option<RowSelection>,
    /// Where this table writes its first page's ids, once in the browser.
    first_ids: RwSignal<Vec<i64>>,
) -> impl IntoView {
    let ids: Vec<i64> = first.iter().map(|r| r.membership_id).collect();
    Effect::new(move |_| first_ids.set(ids.clone()));
    let header = move |sort: SortKey| {
        let label = label_of(SORT_OPTIONS, &sort);
        let aria_sort = move || {
            let query = view_query.get();
            if query.sort != sort {
                "none"
            } else if query.dir == SortDir::Asc {
                "ascending"
            } else {
                "descending"
            }
        };
        let href = move || {
            format!(
                "/team{}",
                view_query.get().sorted_by(sort).to_query_string()
            )
        };
        let arrow = move || match aria_sort() {
            "ascending" => " ▲",
            "descending" => " ▼",
            _ => "",
        };
        view! {
            <th scope="col" aria-sort=aria_sort data-col=label>
                <a class="sort-link" href=href>{label}<span aria-hidden="true">{arrow}</span></a>
            </th>
        }
    };
    view! {
        <div class="table-wrap">
            <table class="data-table members-table">
                <caption class="visually-hidden">
                    "Members. Use the arrow keys to move between rows and Enter to open one."
                </caption>
                <thead>
                    <tr>
                        {selection.map(|selection| view! { <SelectAllShown selection /> })}
                        {header(SortKey::Name)}
                        {header(SortKey::Email)}
                        {header(SortKey::Roles)}
                        {header(SortKey::Groups)}
                        {header(SortKey::Status)}
                        {header(SortKey::Kind)}
                        {header(SortKey::LastActive)}
                        {header(SortKey::Added)}
                        {selection.map(|_| view! { <th scope="col" class="menu-cell"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {first.into_iter().map(|row| member_row(row, on_changed, selection)).collect_view()}
                    // Keyed: "Load more" adds only the new page's rows to
                    // the DOM instead of redrawing every row loaded so far.
                    <For
                        each=move || more.get()
                        key=|row| row.membership_id
                        children=move |row| member_row(row, on_changed, selection)
                    />
                </tbody>
            </table>
        </div>
    }
}

fn member_row(
    row: MemberRow,
    on_changed: Option<Callback<String>>,
    selection: Option<RowSelection>,
) -> impl IntoView {
    let id = row.membership_id;
    let inactive = row.status == MemberStatus::Inactive;
    let status = row.status.label();
    let roles = roles_label(&row);
    let groups = if row.groups.is_empty() {
        "—".to_owned()
    } else {
        row.groups.join(", ")
    };
    let last_active = row
        .last_active_at
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "Never".to_owned());
    let added = row.created_at.format("%Y-%m-%d").to_string();
    let href = format!("/team/members/{id}");
    view! {
        <tr tabindex="0" data-member-id=id on:keydown=move |ev| row_keydown(ev, id)>
            {selection.map(|selection| view! { <RowCheck selection id name=row.name.clone() /> })}
            <td data-label="Name">
                <a class="member-name" href=href tabindex="-1">
                    <span class="avatar small" aria-hidden="true">{initials(&row.name)}</span>
                    <span class="member-name-text" class:struck=inactive>{row.name.clone()}</span>
                </a>
                {row.locked.then(|| view! { <span class="lock" title="Locked after failed sign-ins">" 🔒"<span class="visually-hidden">"locked"</span></span> })}
                {match_notes(&row.matched)}
            </td>
            <td data-label="Email" class="cell-email">{row.email.clone().unwrap_or_else(|| "—".to_owned())}</td>
            <td data-label="Roles">{roles}</td>
            <td data-label="Groups">{groups}</td>
            <td data-label="Status">
                <span class=format!("badge badge-{}", row.status.as_str())>{status}</span>
                {row.delivery_error.clone().filter(|_| row.status == MemberStatus::Pending).map(|reason| view! {
                    <span class="delivery-failing" role="note">
                        <span aria-hidden="true">"⚠ "</span>
                        "Delivery failing: "{reason}
                    </span>
                })}
                {(row.status == MemberStatus::Pending && row.kind == MemberKind::Full)
                    .then_some(on_changed)
                    .flatten()
                    .map(|on_done| view! { <PendingActions row=row.clone() on_done /> })}
            </td>
            <td data-label="Kind">{row.kind.label()}</td>
            <td data-label="Last active">{last_active}</td>
            <td data-label="Added">{added}</td>
            {selection.zip(on_changed).map(|(_, on_changed)| view! {
                <td class="menu-cell" data-label="Actions"><RowMenu row=row.clone() on_changed /></td>
            })}
        </tr>
    }
}

/// "group: <mark>Mar</mark>keting" under the name, when the search matched
/// the row through its groups or team manager rather than its name.
fn match_notes(notes: &[MatchNote]) -> Option<impl IntoView> {
    (!notes.is_empty()).then(|| {
        let notes = notes
            .iter()
            .map(|note| {
                let parts = note
                    .parts
                    .iter()
                    .map(|(text, marked)| {
                        if *marked {
                            view! { <mark>{text.clone()}</mark> }.into_any()
                        } else {
                            text.clone().into_any()
                        }
                    })
                    .collect_view();
                view! { <span class="match-note">{note.field.label()}": "{parts}</span> }
            })
            .collect_view();
        view! { <span class="match-notes" data-testid="match-notes">{notes}</span> }
    })
}

/// `?group=ID&status=all`: the Members tab showing one group.
pub fn group_members_href(group_id: i64) -> String {
    format!(
        "/team?status=all&group={}",
        url_encode(&group_id.to_string())
    )
}
