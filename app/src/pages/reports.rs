//! The summary report: hours per member for a date range, with totals.
//! The filters live in the URL, so a report can be shared and reloaded.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::{
    api::reports::{summary_report, Summary, ROWS_SHOWN},
    domain::{
        directory::url_encode,
        time::{hours_minutes, DateRange},
    },
};

#[derive(Debug, Clone, PartialEq, Default)]
struct Filters {
    from: String,
    to: String,
    inactive: bool,
    person: String,
}

impl Filters {
    fn query(&self) -> String {
        format!(
            "from={}&to={}&inactive={}&person={}",
            url_encode(&self.from),
            url_encode(&self.to),
            self.inactive,
            url_encode(&self.person)
        )
    }
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| Filters {
            from: q.get("from").unwrap_or_default(),
            to: q.get("to").unwrap_or_default(),
            inactive: q.get("inactive").is_some_and(|v| v == "true" || v == "1"),
            person: q.get("person").unwrap_or_default(),
        })
    });
    let report = Resource::new(
        move || filters.get(),
        |f| summary_report(f.from, f.to, f.inactive, f.person),
    );
    view! {
        <Title text="Reports" />
            <div class="page-head"><h1>"Summary report"</h1></div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let asked = filters.get_untracked();
                    match report.await {
                        Ok(summary) => view! { <ReportBody summary asked /> }.into_any(),
                        Err(error) => {
                            let message = error
                                .field_message("from")
                                .or_else(|| error.field_message("to"))
                                .unwrap_or_else(|| error.to_string());
                            view! {
                                <FilterForm asked=asked.clone() />
                                <div class="alert alert-error" role="alert">{message}</div>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
    }
}

#[component]
fn FilterForm(asked: Filters) -> impl IntoView {
    let from = RwSignal::new(asked.from.clone());
    let to = RwSignal::new(asked.to.clone());
    let person = RwSignal::new(asked.person.clone());
    let inactive = RwSignal::new(asked.inactive);
    let local_error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let next = Filters {
            from: from.get_untracked(),
            to: to.get_untracked(),
            inactive: inactive.get_untracked(),
            person: person.get_untracked().trim().to_owned(),
        };
        if let Err(errors) = DateRange::parse(&next.from, &next.to) {
            local_error.set(
                errors
                    .first("from")
                    .or_else(|| errors.first("to"))
                    .map(str::to_owned),
            );
            return;
        }
        local_error.set(None);
        navigate(&format!("/reports?{}", next.query()), Default::default());
    };
    view! {
        <form class="card report-filters" on:submit=apply data-testid="report-filters">
            <label class="filter">
                <span class="filter-label">"From"</span>
                <input type="date" name="from" bind:value=from />
            </label>
            <label class="filter">
                <span class="filter-label">"To"</span>
                <input type="date" name="to" bind:value=to />
            </label>
            <label class="filter search-box">
                <span class="filter-label">"Member"</span>
                <input type="search" name="person" placeholder="Name or email" bind:value=person />
            </label>
            <label class="checkbox">
                <input type="checkbox" name="inactive" bind:checked=inactive />
                "Inactive"
                <span class="visually-hidden">" members included"</span>
            </label>
            <button type="submit" class="button button-primary">"Apply"</button>
            {move || local_error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </form>
    }
}

#[component]
fn ReportBody(summary: Summary, asked: Filters) -> impl IntoView {
    // The form shows the range actually reported (filled in when blank).
    let shown = Filters {
        from: summary.from.clone(),
        to: summary.to.clone(),
        ..asked
    };
    let csv = format!("/api/summary.csv?{}", shown.query());
    let hidden_rows = summary.row_count.saturating_sub(summary.rows.len());
    let empty = summary.rows.is_empty();
    let inactive_hint = (!shown.inactive)
        .then_some("Inactive members are left out; tick Inactive to include them.");
    view! {
        <FilterForm asked=shown.clone() />
        <section class="card" aria-labelledby="report-head">
            <div class="week-head">
                <h2 id="report-head">
                    {format!("{} – {}", summary.from, summary.to)}
                </h2>
                <a class="button button-small" href=csv download>"Export CSV"</a>
            </div>
            {summary.scope_note.clone().map(|n| view! { <p class="muted small">{n}</p> })}
            {inactive_hint.map(|h| view! { <p class="muted small">{h}</p> })}
            {if empty {
                view! {
                    <div class="empty-state">
                        <h3>"No tracked time in this range"</h3>
                        <p>"Pick other dates, or include inactive members."</p>
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="data-table report-table" data-testid="report-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Member"</th>
                                    <th scope="col" class="num">"Entries"</th>
                                    <th scope="col" class="num">"Hours"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {summary.rows.iter().map(|row| {
                                    let deleted = row.membership_id.is_none();
                                    view! {
                                        <tr class:deleted-row=deleted>
                                            <td data-label="Member">
                                                <span class:struck=row.inactive class:muted=deleted class="member-name-text">{row.name.clone()}</span>
                                                {row.inactive.then(|| view! { <span class="badge badge-inactive">"Inactive"</span> })}
                                                {row.email.clone().map(|e| view! { <span class="muted small report-email">{e}</span> })}
                                            </td>
                                            <td data-label="Entries" class="num">{row.entries}</td>
                                            <td data-label="Hours" class="num">{hours_minutes(row.seconds)}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                            <tfoot>
                                <tr>
                                    <th scope="row">"Total"</th>
                                    <td class="num" data-label="Entries">{summary.total_entries}</td>
                                    <td class="num" data-label="Hours" data-testid="report-total">{hours_minutes(summary.total_seconds)}</td>
                                </tr>
                            </tfoot>
                        </table>
                    </div>
                    {(hidden_rows > 0).then(|| view! {
                        <p class="muted small">{format!("Showing the first {ROWS_SHOWN} of {} members; the CSV export has them all. The total counts everyone.", summary.row_count)}</p>
                    })}
                }.into_any()
            }}
        </section>
    }
}
