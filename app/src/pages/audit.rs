//! The audit log (Owner, Admin): newest first, filters in the URL, "Load
//! more" continues after the last event shown (keyset, never OFFSET).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::{
    api::audit::{audit_log, AuditFilters, AuditPage, AuditRow},
    domain::{audit::AuditAction, directory::url_encode},
    error::AppError,
};

/// `actor=..&target=..` with only the filters that are set.
pub fn filter_query(filters: &AuditFilters) -> String {
    [
        ("actor", &filters.actor),
        ("target", &filters.target),
        ("action", &filters.action),
        ("from", &filters.from),
        ("to", &filters.to),
    ]
    .into_iter()
    .filter(|(_, value)| !value.trim().is_empty())
    .map(|(key, value)| format!("{key}={}", url_encode(value.trim())))
    .collect::<Vec<_>>()
    .join("&")
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| AuditFilters {
            actor: q.get("actor").unwrap_or_default(),
            target: q.get("target").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            from: q.get("from").unwrap_or_default(),
            to: q.get("to").unwrap_or_default(),
        })
    });
    let first = Resource::new(
        move || filters.get(),
        |f| audit_log(f.actor, f.target, f.action, f.from, f.to, None),
    );
    view! {
        <Title text="Audit log" />
            <div class="page-head"><h1>"Audit log"</h1></div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let asked = filters.get_untracked();
                    let result = first.await;
                    view! {
                        <AuditFilterForm asked=asked.clone() />
                        {match result {
                            Ok(page) => view! { <AuditTable first=page asked /> }.into_any(),
                            Err(error) => {
                                let message = ["action", "from", "to"]
                                    .iter()
                                    .find_map(|f| error.field_message(f))
                                    .unwrap_or_else(|| error.to_string());
                                view! { <div class="alert alert-error" role="alert">{message}</div> }.into_any()
                            }
                        }}
                    }
                })}
            </Suspense>
    }
}

#[component]
fn AuditFilterForm(asked: AuditFilters) -> impl IntoView {
    let actor = RwSignal::new(asked.actor.clone());
    let target = RwSignal::new(asked.target.clone());
    let action = RwSignal::new(asked.action.clone());
    let from = RwSignal::new(asked.from.clone());
    let to = RwSignal::new(asked.to.clone());
    let navigate = use_navigate();
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let next = AuditFilters {
            actor: actor.get_untracked(),
            target: target.get_untracked(),
            action: action.get_untracked(),
            from: from.get_untracked(),
            to: to.get_untracked(),
        };
        navigate(
            &format!("/audit?{}", filter_query(&next)),
            Default::default(),
        );
    };
    let selected = asked.action.clone();
    view! {
        <form class="card report-filters" on:submit=apply data-testid="audit-filters">
            <label class="filter">
                <span class="filter-label">"Who"</span>
                <input type="search" placeholder="Name or email" bind:value=actor />
            </label>
            <label class="filter">
                <span class="filter-label">"To whom"</span>
                <input type="search" placeholder="Name or email" bind:value=target />
            </label>
            <label class="filter">
                <span class="filter-label">"Action"</span>
                <select on:change=move |ev| action.set(event_target_value(&ev))>
                    <option value="" selected=selected.is_empty()>"All actions"</option>
                    {AuditAction::in_workspace().map(|action| view! {
                        <option value=action.code() selected=selected == action.code()>{action.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="filter">
                <span class="filter-label">"From"</span>
                <input type="date" bind:value=from />
            </label>
            <label class="filter">
                <span class="filter-label">"To"</span>
                <input type="date" bind:value=to />
            </label>
            <button type="submit" class="button button-primary">"Apply"</button>
        </form>
    }
}

#[component]
fn AuditTable(first: AuditPage, asked: AuditFilters) -> impl IntoView {
    let rows = RwSignal::new(first.rows.clone());
    let next = RwSignal::new(first.next_before);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let asked = StoredValue::new(asked);
    let load_more = move |_| {
        let Some(before) = next.get_untracked() else {
            return;
        };
        loading.set(true);
        let f = asked.get_value();
        leptos::task::spawn_local(async move {
            match audit_log(f.actor, f.target, f.action, f.from, f.to, Some(before)).await {
                Ok(page) => {
                    rows.update(|r| r.extend(page.rows));
                    let _ = next.try_set(page.next_before);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
            let _ = loading.try_set(false);
        });
    };
    let csv = {
        let query = filter_query(&asked.get_value());
        if query.is_empty() {
            "/api/audit.csv".to_owned()
        } else {
            format!("/api/audit.csv?{query}")
        }
    };
    let empty = first.rows.is_empty();
    view! {
        <section class="card" aria-labelledby="audit-head">
            <div class="week-head">
                <h2 id="audit-head">"Events"</h2>
                <a class="button button-small" href=csv download>"Export CSV"</a>
            </div>
            <p class="muted small">{format!("Newest first; times in {}.", first.time_zone)}</p>
            {if empty {
                view! {
                    <div class="empty-state">
                        <h3>"No events match"</h3>
                        <p>"Clear a filter, or widen the dates."</p>
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="data-table audit-table" data-testid="audit-table">
                            <thead>
                                <tr>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"Action"</th>
                                    <th scope="col">"To whom"</th>
                                    <th scope="col">"Change"</th>
                                    <th scope="col">"From"</th>
                                </tr>
                            </thead>
                            <tbody>
                                <For each=move || rows.get() key=|row| row.id let:row>
                                    <AuditLine row />
                                </For>
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            {move || error.get().map(|e| view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> })}
            {move || next.get().is_some().then(|| view! {
                <button type="button" class="button load-more" on:click=load_more disabled=move || loading.get()>
                    {move || if loading.get() { "Loading…" } else { "Load more" }}
                </button>
            })}
        </section>
    }
}

#[component]
fn AuditLine(row: AuditRow) -> impl IntoView {
    let acting = row.acting_as.clone();
    view! {
        <tr>
            <td data-label="When" class="nowrap">{row.at.clone()}</td>
            <td data-label="Who">
                {row.actor.clone()}
                {acting.map(|a| view! { <span class="acting-as">{format!(" as {a}")}</span> })}
            </td>
            <td data-label="Action"><span class="badge">{row.action_label.clone()}</span></td>
            <td data-label="To whom">{row.target.clone()}</td>
            <td data-label="Change">
                <ul class="audit-details">
                    {describe_details(&row.details).into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                </ul>
            </td>
            <td data-label="From" title=row.user_agent.clone()>{row.ip.clone()}</td>
        </tr>
    }
}

fn scalar(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null | serde_json::Value::Bool(false) => None,
        serde_json::Value::Bool(true) => Some("yes".into()),
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Array(items) => Some(format!("{} items", items.len())),
        other => Some(other.to_string()),
    }
}

/// An event's details as short lines: the fields that changed when it has
/// "before" and "after", else its non-empty fields.
pub fn describe_details(details: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(details)
    else {
        return Vec::new();
    };
    let label = |key: &str| key.replace('_', " ");
    if let (Some(serde_json::Value::Object(before)), Some(serde_json::Value::Object(after))) =
        (map.get("before"), map.get("after"))
    {
        let mut lines: Vec<String> = after
            .iter()
            .filter(|(key, value)| before.get(*key) != Some(*value))
            .map(|(key, value)| {
                let old = before
                    .get(key)
                    .and_then(scalar)
                    .unwrap_or_else(|| "none".into());
                let new = scalar(value).unwrap_or_else(|| "none".into());
                format!("{}: {old} → {new}", label(key))
            })
            .collect();
        lines.extend(
            map.iter()
                .filter(|(key, _)| *key != "before" && *key != "after")
                .filter_map(|(key, value)| scalar(value).map(|v| format!("{}: {v}", label(key)))),
        );
        return lines;
    }
    map.iter()
        .filter_map(|(key, value)| match value {
            serde_json::Value::Object(inner) => {
                let parts: Vec<String> = inner
                    .iter()
                    .filter_map(|(k, v)| scalar(v).map(|v| format!("{} {v}", label(k))))
                    .collect();
                (!parts.is_empty()).then(|| format!("{}: {}", label(key), parts.join(", ")))
            }
            other => scalar(other).map(|v| format!("{}: {v}", label(key))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::describe_details;

    #[test]
    fn details_read_as_changes() {
        let role =
            r#"{"role":"Admin","before":{"admin":false,"name":"Ada"},"after":{"admin":true}}"#;
        assert_eq!(describe_details(role), ["admin: none → yes", "role: Admin"]);
        let deactivated =
            r#"{"before":{"name":"Max","status":"active","admin":false},"stopped_timer_entry":12}"#;
        assert_eq!(
            describe_details(deactivated),
            ["before: name Max, status active", "stopped timer entry: 12"]
        );
        assert!(describe_details("").is_empty());
    }
}
