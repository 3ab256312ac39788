//! Selecting rows on the Team list (checkbox, shift-click range, "select
//! all N matching") and the bar that applies a bulk action to them in
//! batches, with a progress bar and a report of who was skipped and why.

use leptos::prelude::*;

use crate::{
    api::{
        bulk::{bulk_members, BulkMembers, BulkOp, BulkSelection, BulkStep, Skipped, BATCH_SIZE},
        lifecycle::{DeleteMember, RoleName},
    },
    domain::{
        directory::{DirectoryParams, MemberCount},
        MemberKind, MemberStatus,
    },
    error::AppError,
    pages::team_on_demand::{on_demand, OnDemand},
};

/// Which rows are picked. `all_matching` means every member of the view,
/// loaded or not.
#[derive(Clone, Copy)]
pub struct RowSelection {
    ids: RwSignal<Vec<i64>>,
    all_matching: RwSignal<bool>,
    /// The last row clicked without Shift: one end of a Shift-click range.
    anchor: StoredValue<Option<i64>>,
    /// Ids of the rows shown, in order (for ranges and "select all shown").
    pub shown: Memo<Vec<i64>>,
}

impl RowSelection {
    pub fn new(shown: Memo<Vec<i64>>) -> Self {
        Self {
            ids: RwSignal::new(Vec::new()),
            all_matching: RwSignal::new(false),
            anchor: StoredValue::new(None),
            shown,
        }
    }

    pub fn clear(&self) {
        self.ids.set(Vec::new());
        self.all_matching.set(false);
        self.anchor.set_value(None);
    }

    pub fn is_selected(&self, id: i64) -> bool {
        self.all_matching.get() || self.ids.with(|ids| ids.contains(&id))
    }

    pub fn is_empty(&self) -> bool {
        !self.all_matching.get() && self.ids.with(Vec::is_empty)
    }

    /// A row's checkbox changed to `checked`; with Shift, every row between
    /// the anchor and this one takes the same state.
    pub fn click(&self, id: i64, checked: bool, shift: bool) {
        self.all_matching.set(false);
        let range: Vec<i64> = match (shift, self.anchor.get_value()) {
            (true, Some(anchor)) => self.shown.with_untracked(|shown| {
                let at = |x: i64| shown.iter().position(|&s| s == x);
                match (at(anchor), at(id)) {
                    (Some(a), Some(b)) => shown[a.min(b)..=a.max(b)].to_vec(),
                    _ => vec![id],
                }
            }),
            _ => vec![id],
        };
        self.ids.update(|ids| {
            ids.retain(|x| !range.contains(x));
            if checked {
                ids.extend(range);
            }
        });
        if !shift {
            self.anchor.set_value(Some(id));
        }
    }

    /// The header checkbox: every shown row, or none.
    pub fn set_all_shown(&self, on: bool) {
        self.all_matching.set(false);
        self.ids.set(if on {
            self.shown.get_untracked()
        } else {
            Vec::new()
        });
    }

    pub fn all_shown(&self) -> bool {
        let shown = self.shown.get();
        !shown.is_empty()
            && (self.all_matching.get()
                || self.ids.with(|ids| shown.iter().all(|s| ids.contains(s))))
    }
}

/// The header cell's checkbox.
#[component]
pub fn SelectAllShown(selection: RowSelection) -> impl IntoView {
    view! {
        <th scope="col" class="select-cell">
            <input
                type="checkbox"
                aria-label="Select all members shown"
                prop:checked=move || selection.all_shown()
                on:change=move |ev| selection.set_all_shown(event_target_checked(&ev))
            />
        </th>
    }
}

/// A row's checkbox; Shift-click selects the range from the last click.
#[component]
pub fn RowCheck(selection: RowSelection, id: i64, name: String) -> impl IntoView {
    view! {
        <td class="select-cell" data-label="Select">
            <input
                type="checkbox"
                aria-label=format!("Select {name}")
                prop:checked=move || selection.is_selected(id)
                on:click=move |ev| {
                    let checked = event_target_checked(&ev);
                    selection.click(id, checked, ev.shift_key());
                }
                on:keydown=|ev| ev.stop_propagation()
            />
        </td>
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Run {
    Idle,
    Confirming,
    Running {
        done: u32,
        processed: u32,
        total: Option<i64>,
    },
    Finished {
        op: String,
        done: u32,
        skipped: Vec<Skipped>,
    },
    Failed(AppError),
}

fn parse_op(choice: &str, group: &str) -> Option<BulkOp> {
    let role = |name: &str| match name {
        "Admin" => Some(RoleName::Admin),
        "ProjectManager" => Some(RoleName::ProjectManager),
        "TeamManager" => Some(RoleName::TeamManager),
        _ => None,
    };
    match choice.split_once(':') {
        None if choice == "deactivate" => Some(BulkOp::Deactivate),
        None if choice == "reactivate" => Some(BulkOp::Reactivate),
        None if choice == "add-group" => group.parse().ok().map(BulkOp::AddToGroup),
        None if choice == "remove-group" => group.parse().ok().map(BulkOp::RemoveFromGroup),
        Some(("give", name)) => role(name).map(BulkOp::GiveRole),
        Some(("take", name)) => role(name).map(BulkOp::TakeRole),
        _ => None,
    }
}

/// What the bulk bar remembers while it is hidden: kept by the page, so the
/// chosen action survives a selection emptied and made again, and a run's
/// report stays up after the list reloads (which clears the selection).
#[derive(Clone, Copy)]
struct BulkBarState {
    choice: RwSignal<String>,
    group: RwSignal<String>,
    run: RwSignal<Run>,
}

/// What the bar works with: the page's selection, view, count and groups,
/// and what to tell the page when a run ends.
#[derive(Clone, Copy)]
pub struct BulkBarParts {
    selection: RowSelection,
    params: Memo<DirectoryParams>,
    count: ReadSignal<Option<Result<MemberCount, AppError>>>,
    group_options: RwSignal<Vec<(String, String)>>,
    on_done: Callback<String>,
    state: BulkBarState,
}

/// Shown while rows are selected: pick an action, confirm, watch it run.
/// Its body is fetched with the page's other on-demand parts.
#[component]
pub fn BulkBar(
    selection: RowSelection,
    params: Memo<DirectoryParams>,
    count: ReadSignal<Option<Result<MemberCount, AppError>>>,
    group_options: RwSignal<Vec<(String, String)>>,
    on_done: Callback<String>,
) -> impl IntoView {
    let state = BulkBarState {
        choice: RwSignal::new(String::new()),
        group: RwSignal::new(String::new()),
        run: RwSignal::new(Run::Idle),
    };
    let shown = move || !selection.is_empty() || !matches!(state.run.get(), Run::Idle);
    view! {
        <Show when=shown>
            {move || on_demand(
                OnDemand::BulkBar(BulkBarParts { selection, params, count, group_options, on_done, state }),
                || ().into_any(),
            )}
        </Show>
    }
}

/// The bar itself (`BulkBar`).
pub fn bulk_bar_body(parts: BulkBarParts) -> impl IntoView {
    let BulkBarParts {
        selection,
        params,
        count,
        group_options,
        on_done,
        state: BulkBarState { choice, group, run },
    } = parts;
    let matching = move || count.get().and_then(Result::ok).map(|c| c.value);
    let selected_count = move || {
        if selection.all_matching.get() {
            matching()
        } else {
            Some(selection.ids.with(Vec::len) as i64)
        }
    };
    let who = move || match selected_count() {
        Some(1) => "1 member".to_owned(),
        Some(n) if selection.all_matching.get() => format!("all {n} matching members"),
        Some(n) => format!("{n} members"),
        None => "every matching member".to_owned(),
    };
    let op = move || parse_op(&choice.get(), &group.get());
    let start = move |_| {
        let Some(op) = op() else { return };
        let total = selected_count();
        let selection_now = if selection.all_matching.get_untracked() {
            None
        } else {
            Some(selection.ids.get_untracked())
        };
        let view = params.get_untracked();
        run.set(Run::Running {
            done: 0,
            processed: 0,
            total,
        });
        leptos::task::spawn_local(async move {
            let mut done = 0_u32;
            let mut processed = 0_u32;
            let mut skipped: Vec<Skipped> = Vec::new();
            let mut record = |step: &BulkStep| {
                done += step.done;
                processed += step.done + step.skipped.len() as u32;
                skipped.extend(step.skipped.iter().cloned());
                let _ = run.try_set(Run::Running {
                    done,
                    processed,
                    total,
                });
            };
            let outcome: Result<(), AppError> = async {
                match selection_now {
                    Some(ids) => {
                        for chunk in ids.chunks(BATCH_SIZE) {
                            let step =
                                bulk_members(op, BulkSelection::Rows(chunk.to_vec())).await?;
                            record(&step);
                        }
                    }
                    None => {
                        let mut after = None;
                        loop {
                            let step = bulk_members(
                                op,
                                BulkSelection::Matching {
                                    view: view.clone(),
                                    after,
                                },
                            )
                            .await?;
                            record(&step);
                            match step.after.clone() {
                                Some(next) => after = Some(next),
                                None => break,
                            }
                        }
                    }
                }
                Ok(())
            }
            .await;
            let _ = run.try_set(match outcome {
                Ok(()) => Run::Finished {
                    op: op.label(),
                    done,
                    skipped,
                },
                Err(error) => Run::Failed(error),
            });
            on_done.run(format!("{}: {done} done.", op.label()));
        });
    };
    let options = [
        ("deactivate", "Deactivate"),
        ("reactivate", "Reactivate"),
        ("give:Admin", "Give Admin"),
        ("give:ProjectManager", "Give Project manager"),
        ("give:TeamManager", "Give Team manager"),
        ("take:Admin", "Take Admin"),
        ("take:ProjectManager", "Take Project manager"),
        ("take:TeamManager", "Take Team manager"),
        ("add-group", "Add to group…"),
        ("remove-group", "Remove from group…"),
    ];
    let needs_group = move || choice.with(|c| c.ends_with("-group"));
    let select_all_offer = move || {
        let shown = selection.shown.with(Vec::len) as i64;
        let all_shown = selection.all_shown();
        let total = matching();
        (all_shown && !selection.all_matching.get() && total.is_some_and(|t| t > shown))
            .then(|| total.unwrap_or_default())
    };
    view! {
            <div class="bulk-bar" role="region" aria-label="Bulk actions" data-testid="bulk-bar">
                <div class="bulk-row">
                    <strong>{move || if selection.is_empty() { "Nothing selected".to_owned() } else { format!("{} selected", who()) }}</strong>
                    {move || select_all_offer().map(|total| view! {
                        <button type="button" class="button-link" on:click=move |_| selection.all_matching.set(true)>
                            {format!("Select all {total} matching")}
                        </button>
                    })}
                    <button type="button" class="button-link" on:click=move |_| { selection.clear(); run.set(Run::Idle); }>"Clear selection"</button>
                </div>
                <div class="bulk-row">
                    <label class="filter">
                        <span class="filter-label">"Action"</span>
                        <select on:change=move |ev| { choice.set(event_target_value(&ev)); run.set(Run::Idle); } prop:value=move || choice.get()>
                            <option value="">"Choose an action"</option>
                            {options.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                        </select>
                    </label>
                    <Show when=needs_group>
                        <label class="filter">
                            <span class="filter-label">"Group"</span>
                            <select on:change=move |ev| group.set(event_target_value(&ev)) prop:value=move || group.get()>
                                <option value="">"Choose a group"</option>
                                {move || group_options.get().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                            </select>
                        </label>
                    </Show>
                    <button
                        type="button"
                        class="button button-primary"
                        disabled=move || op().is_none() || matches!(run.get(), Run::Running { .. })
                        on:click=move |_| run.set(Run::Confirming)
                    >"Apply"</button>
                </div>
                {move || match run.get() {
                    Run::Idle => ().into_any(),
                    Run::Confirming => {
                        let label = op().map(BulkOp::label).unwrap_or_default();
                        view! {
                            <div class="confirm-row" role="alert">
                                <span>{format!("{label} for {}? Members the rules do not allow are skipped and listed.", who())}</span>
                                <button type="button" class="button button-primary" on:click=start>{format!("{label} now")}</button>
                                <button type="button" class="button" on:click=move |_| run.set(Run::Idle)>"Cancel"</button>
                            </div>
                        }.into_any()
                    }
                    Run::Running { done, processed, total } => {
                        let max = total.unwrap_or(i64::from(processed).max(1));
                        view! {
                            <div class="bulk-progress" role="status">
                                <progress max=max.to_string() value=processed.to_string()></progress>
                                <span>{format!("{processed} of {max} processed, {done} done…")}</span>
                            </div>
                        }.into_any()
                    }
                    Run::Finished { op, done, skipped } => view! {
                        <div class="bulk-report" role="status" data-testid="bulk-report">
                            <p>
                                <strong>{format!("{op}: {done} done, {} skipped.", skipped.len())}</strong>" "
                                <button type="button" class="button-link" on:click=move |_| run.set(Run::Idle)>"Close"</button>
                            </p>
                            {(!skipped.is_empty()).then(|| view! {
                                <ul class="bulk-skipped">
                                    {skipped.into_iter().map(|s| view! {
                                        <li><strong>{s.name}</strong>": "{s.reason}</li>
                                    }).collect_view()}
                                </ul>
                            })}
                        </div>
                    }.into_any(),
                    Run::Failed(error) => view! {
                        <div class="alert alert-error" role="alert">{format!("Stopped: {error}. Members already done stay done.")}</div>
                    }.into_any(),
                }}
            </div>
    }
}

/// A row's "⋯" menu (Owners and Admins): open the profile, deactivate or
/// reactivate, delete an inactive member, give or take roles. Each action
/// runs through the same rules as everywhere else and says why when it is
/// refused.
///
/// Closed, it is the `<details>` and its "⋯": what it holds is rendered
/// (and its code fetched, with the page's other on-demand parts) when it
/// opens, and dropped when it closes, so each opening starts afresh.
#[component]
pub fn RowMenu(row: crate::api::members::MemberRow, on_changed: Callback<String>) -> impl IntoView {
    let open = RwSignal::new(false);
    let label = format!("Actions for {}", row.name);
    let row = StoredValue::new(row);
    view! {
        <details class="row-menu" prop:open=move || open.get() on:toggle=move |ev| {
            use wasm_bindgen::JsCast;
            if let Some(details) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok()) {
                open.set(details.open());
            }
        } on:keydown=|ev| ev.stop_propagation()>
            <summary class="button button-small button-quiet" aria-label=label>"⋯"</summary>
            {move || open.get().then(|| on_demand(
                OnDemand::RowMenu { row: row.get_value(), on_changed, open },
                || view! { <div class="row-menu-list" aria-busy="true"><p class="muted small row-menu-note">"Loading…"</p></div> }.into_any(),
            ))}
        </details>
    }
}

/// What an open "⋯" menu holds (`RowMenu`).
pub fn row_menu_list(
    row: crate::api::members::MemberRow,
    on_changed: Callback<String>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let id = row.membership_id;
    let name = StoredValue::new(row.name.clone());
    let confirm_delete = RwSignal::new(false);
    let refusal = RwSignal::new(None::<String>);
    let change = ServerAction::<BulkMembers>::new();
    // The action's input is cleared when it answers; the message needs it.
    let last_op = StoredValue::new(None::<BulkOp>);
    let delete_action = ServerAction::<DeleteMember>::new();
    // A change that went through closes the menu and tells the list; a
    // refusal stays in the menu with its reason.
    Effect::new(move |_| match change.value().get() {
        Some(Ok(step)) if step.done == 1 => {
            let _ = open.try_set(false);
            if let Some(op) = last_op.get_value() {
                on_changed.run(format!("{}: {}.", op.label(), name.get_value()));
            }
        }
        Some(Ok(step)) => {
            let reason = step
                .skipped
                .first()
                .map(|s| s.reason.clone())
                .unwrap_or_default();
            let _ = refusal.try_set(Some(reason));
        }
        Some(Err(error)) => {
            let _ = refusal.try_set(Some(error.to_string()));
        }
        None => {}
    });
    Effect::new(move |_| match delete_action.value().get() {
        Some(Ok(())) => {
            let _ = open.try_set(false);
            on_changed.run(format!("Deleted {}.", name.get_value()));
        }
        Some(Err(error)) => {
            let _ = refusal.try_set(Some(error.to_string()));
        }
        None => {}
    });
    let run = move |op: BulkOp| {
        last_op.set_value(Some(op));
        change.dispatch(BulkMembers {
            op,
            selection: BulkSelection::Rows(vec![id]),
        });
    };
    let delete = move |_| {
        delete_action.dispatch(DeleteMember { membership_id: id });
    };
    let status = row.status;
    let full = row.kind == MemberKind::Full && status != MemberStatus::Pending;
    let roles = [
        (RoleName::Admin, row.positions.admin),
        (RoleName::ProjectManager, row.positions.project_manager),
        (RoleName::TeamManager, row.positions.team_manager),
    ];
    let is_owner = row.positions.owner;
    view! {
            <div class="row-menu-list" role="group" aria-label=format!("Actions for {}", row.name)>
                <a class="row-menu-item" href=format!("/team/members/{id}")>"Edit profile"</a>
                {(status == MemberStatus::Active && !is_owner).then(|| view! {
                    <button type="button" class="row-menu-item" on:click=move |_| run(BulkOp::Deactivate)>"Deactivate"</button>
                })}
                {(status == MemberStatus::Inactive).then(|| view! {
                    <button type="button" class="row-menu-item" on:click=move |_| run(BulkOp::Reactivate)>"Reactivate"</button>
                    <Show
                        when=move || confirm_delete.get()
                        fallback=move || view! {
                            <button type="button" class="row-menu-item danger" on:click=move |_| confirm_delete.set(true)>"Delete…"</button>
                        }
                    >
                        <button type="button" class="row-menu-item danger" on:click=delete>
                            {format!("Delete {} for good", name.get_value())}
                        </button>
                    </Show>
                })}
                {(full && !is_owner).then(|| roles.into_iter().map(|(role, held)| {
                    let op = if held { BulkOp::TakeRole(role) } else { BulkOp::GiveRole(role) };
                    view! { <button type="button" class="row-menu-item" on:click=move |_| run(op)>{op.label()}</button> }
                }).collect_view())}
                {is_owner.then(|| view! { <p class="muted small row-menu-note">"The Owner's roles change only by transfer."</p> })}
                {move || refusal.get().map(|r| view! { <p class="field-error row-menu-note" role="alert">{r}</p> })}
            </div>
    }
}
