use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::team::{team_overview, MemberRow, TeamSummary},
    components::layout::{initials, AppShell},
    domain::Action,
    error::AppError,
};

#[component]
pub fn TeamPage() -> impl IntoView {
    view! {
        <Title text="Team" />
        <AppShell>
            <TeamOverviewView />
        </AppShell>
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "active" => "Active",
        "pending" => "Pending",
        "inactive" => "Inactive",
        _ => "Unknown",
    }
}

fn roles_label(row: &MemberRow) -> String {
    let labels: Vec<&str> = row
        .positions
        .held()
        .filter(|p| *p != crate::domain::Position::Member)
        .map(|p| p.label())
        .collect();
    if labels.is_empty() {
        "Member".to_owned()
    } else {
        labels.join(", ")
    }
}

#[component]
fn TeamOverviewView() -> impl IntoView {
    let overview = Resource::new(|| (), |_| team_overview());
    let session = crate::components::session::use_session();
    let can_invite = move || {
        session
            .me
            .get()
            .and_then(Result::ok)
            .is_some_and(|me| me.can(Action::InviteMembers))
    };
    view! {
        <div class="page-head">
            <h1>"Team"</h1>
        </div>
        <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Loading members…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(data) => members_table(data, can_invite()).into_any(),
                    Err(AppError::Forbidden) => view! {
                        <div class="empty-state">
                            <h2>"The member list is for owners and admins"</h2>
                            <p>"Ask an admin of this workspace if you need to see who is in it."</p>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <div class="alert alert-error" role="alert">{error.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn members_table(data: TeamSummary, can_invite: bool) -> impl IntoView {
    let alone = data.total <= 1;
    let shown = data.members.len();
    view! {
        <p class="count" aria-live="polite">
            {format!("{} member{}", data.total, if data.total == 1 { "" } else { "s" })}
            {((shown as i64) < data.total).then(|| format!(" · showing the first {shown}"))}
        </p>
        <table class="data-table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Last active"</th>
                </tr>
            </thead>
            <tbody>
                {data
                    .members
                    .into_iter()
                    .map(|row| {
                        let inactive = row.status == "inactive";
                        let status = status_label(&row.status);
                        let roles = roles_label(&row);
                        let last_active = row
                            .last_active_at
                            .map(|t| t.format("%Y-%m-%d").to_string())
                            .unwrap_or_else(|| "Never".to_owned());
                        view! {
                            <tr>
                                <td data-label="Name">
                                    <span class="member-name" class:struck=inactive>
                                        <span class="avatar small" aria-hidden="true">{initials(&row.name)}</span>
                                        {row.name.clone()}
                                    </span>
                                </td>
                                <td data-label="Email">{row.email.clone().unwrap_or_else(|| "—".to_owned())}</td>
                                <td data-label="Role">{roles}</td>
                                <td data-label="Status">
                                    <span class=format!("badge badge-{}", row.status)>{status}</span>
                                </td>
                                <td data-label="Last active">{last_active}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        {(alone && can_invite).then(|| view! {
            <div class="empty-state">
                <h2>"Invite your team"</h2>
                <p>"You are the only member so far. Invite the people you work with so they can track time in this workspace."</p>
            </div>
        })}
    }
}
