//! The Time page: start and stop the timer, this week's entries (edit,
//! delete, add), the member's time zone, week start and Kiosk PIN, and, for
//! those allowed, launching the Kiosk on this device.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::{
    api::{
        kiosk::LaunchKiosk,
        time::{
            my_week, time_zones, DeleteEntry, EntryRow, ProjectChoice, SaveEntry, SetTimeSettings,
            StartTimer, StopTimer, TimeWeek,
        },
    },
    components::{
        session::use_session,
        timer::{tick_while_mounted, use_timer},
    },
    domain::{
        time::{clock, hours_minutes, Description, EntryTimes, WeekStart},
        Permission,
    },
    error::AppError,
    pages::member_time::KioskPinForm,
};

#[component]
pub fn TimePage() -> impl IntoView {
    let query = use_query_map();
    let offset = Memo::new(move |_| {
        query
            .with(|q| q.get("week"))
            .and_then(|w| w.parse::<i32>().ok())
            .unwrap_or(0)
    });
    let version = RwSignal::new(0_u32);
    let week = Resource::new(
        move || (offset.get(), version.get()),
        |(offset, _)| my_week(offset),
    );
    let timer = use_timer();
    Effect::new(move |_| {
        if let Some(Ok(week)) = week.get() {
            timer.set(week.running.clone());
        }
    });
    let reload = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        <Title text="Time" />
            <div class="page-head"><h1>"Time"</h1></div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match week.await {
                        Ok(week) => view! { <TimeBody week reload /> }.into_any(),
                        Err(error) => view! {
                            <div class="alert alert-error" role="alert">{error.to_string()}</div>
                        }.into_any(),
                    }
                })}
            </Suspense>
    }
}

#[component]
fn TimeBody(week: TimeWeek, reload: Callback<()>) -> impl IntoView {
    let projects = StoredValue::new(week.projects.clone());
    let may_edit = week.may_edit;
    let adding = RwSignal::new(false);
    let navigate = use_navigate();
    let go_week = move |offset: i32| {
        let url = if offset == 0 {
            "/time".to_owned()
        } else {
            format!("/time?week={offset}")
        };
        navigate(&url, Default::default());
    };
    let (prev, next, this) = (go_week.clone(), go_week.clone(), go_week);
    let offset = week.offset;
    let days = week.days.clone();
    let empty = days.is_empty();
    view! {
        <TimerBar projects=projects.get_value() reload />
        <section class="card" aria-labelledby="week-head">
            <div class="week-head">
                <h2 id="week-head">
                    {if offset == 0 { "This week".to_owned() } else { "Week".to_owned() }}
                    <span class="muted week-range">{week.label.clone()}</span>
                </h2>
                <div class="week-nav">
                    <button type="button" class="button button-small" on:click=move |_| prev(offset - 1)>
                        <span aria-hidden="true">"‹ "</span>"Previous"
                    </button>
                    {(offset != 0).then(|| view! {
                        <button type="button" class="button button-small" on:click=move |_| this(0)>"This week"</button>
                    })}
                    <button type="button" class="button button-small" on:click=move |_| next(offset + 1)>
                        "Next"<span aria-hidden="true">" ›"</span>
                    </button>
                </div>
            </div>
            <p class="week-total">
                "Total "<strong data-testid="week-total">{hours_minutes(week.total_seconds)}</strong>
                <span class="muted">{format!(" · times in {}", week.time_zone)}</span>
            </p>
            {may_edit.then(|| view! {
                <Show
                    when=move || adding.get()
                    fallback=move || view! {
                        <button type="button" class="button" on:click=move |_| adding.set(true)>"Add time"</button>
                    }
                >
                    <EntryForm
                        entry=None
                        projects=projects.get_value()
                        on_done=Callback::new(move |saved: bool| {
                            adding.set(false);
                            if saved {
                                reload.run(());
                            }
                        })
                    />
                </Show>
            })}
            {(!may_edit).then(|| view! {
                <p class="muted small">"Your admin has turned off editing your own entries; the timer still works."</p>
            })}
            {empty.then(|| view! {
                <div class="empty-state">
                    <h3>"No time tracked this week"</h3>
                    <p>"Start the timer above, or add time you forgot to track."</p>
                </div>
            })}
            {days.into_iter().map(|day| view! {
                <div class="day">
                    <h3 class="day-head">
                        <span>{day.label}</span>
                        <span class="day-total">{hours_minutes(day.total_seconds)}</span>
                    </h3>
                    <ul class="entries">
                        {day.entries.into_iter().map(|entry| view! {
                            <EntryItem entry projects=projects.get_value() may_edit reload />
                        }).collect_view()}
                    </ul>
                </div>
            }).collect_view()}
        </section>
        <TimeSettings
            time_zone=week.time_zone.clone()
            week_start=week.week_start
            has_pin=week.has_pin
            reload
        />
        <Suspense fallback=|| ()><KioskLauncher /></Suspense>
    }
}

fn project_options(projects: &[ProjectChoice], selected: Option<i64>) -> impl IntoView {
    let options = projects
        .iter()
        .map(|p| {
            view! { <option value=p.id.to_string() selected=Some(p.id) == selected>{p.name.clone()}</option> }
        })
        .collect_view();
    view! {
        <option value="" selected=selected.is_none()>"No project"</option>
        {options}
    }
}

/// Start with a description and project, or stop what is running.
#[component]
fn TimerBar(projects: Vec<ProjectChoice>, reload: Callback<()>) -> impl IntoView {
    let projects = StoredValue::new(projects);
    let timer = use_timer();
    tick_while_mounted(timer);
    let description = RwSignal::new(String::new());
    let project = RwSignal::new(String::new());
    let start_action = ServerAction::<StartTimer>::new();
    let stop_action = ServerAction::<StopTimer>::new();
    let busy = Signal::derive(move || start_action.pending().get() || stop_action.pending().get());
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match start_action.value().get() {
        Some(Ok(running)) => {
            timer.set(Some(running));
            description.set(String::new());
        }
        Some(Err(e)) => {
            error.set(Some(
                e.field_message("description")
                    .or_else(|| e.field_message("project"))
                    .unwrap_or_else(|| e.to_string()),
            ));
            timer.reload();
        }
        None => {}
    });
    Effect::new(move |_| {
        if let Some(result) = stop_action.value().get() {
            if let Err(e) = result {
                error.set(Some(e.to_string()));
            }
            timer.set(None);
            reload.run(());
        }
    });
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let text = description.get_untracked();
        if let Err(message) = Description::parse(&text) {
            error.set(Some(message));
            return;
        }
        error.set(None);
        start_action.dispatch(StartTimer {
            description: text,
            project_id: project.get_untracked().parse::<i64>().ok(),
        });
    };
    let stop = move |_| {
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        stop_action.dispatch(StopTimer {});
    };
    view! {
        <section class="card timer-bar" aria-label="Timer" data-testid="timer-bar">
            {move || match timer.running() {
                Some(running) => {
                    let title = if running.description.is_empty() { "(no description)".to_owned() } else { running.description.clone() };
                    let project = running.project.clone();
                    let shown = running.clone();
                    view! {
                        <div class="timer-running">
                            <div class="timer-what">
                                <span class="timer-title">{title}</span>
                                {project.map(|p| view! { <span class="chip">{p}</span> })}
                            </div>
                            <span class="timer-clock" role="timer" data-testid="timer-clock">{move || clock(timer.elapsed(&shown))}</span>
                            <button type="button" class="button button-stop" on:click=stop disabled=move || busy.get()>"Stop"</button>
                        </div>
                    }.into_any()
                }
                None => view! {
                    <form class="timer-form" on:submit=start>
                        <label class="timer-description">
                            <span class="visually-hidden">"What are you working on?"</span>
                            <input
                                type="text"
                                name="description"
                                placeholder="What are you working on?"
                                maxlength="500"
                                bind:value=description
                            />
                        </label>
                        <label class="filter">
                            <span class="visually-hidden">"Project"</span>
                            <select name="project" on:change=move |ev| project.set(event_target_value(&ev))>
                                {projects.try_with_value(|p| project_options(p, None))}
                            </select>
                        </label>
                        <span class="timer-clock muted" aria-hidden="true">"0:00:00"</span>
                        <button type="submit" class="button button-primary" disabled=move || busy.get()>"Start"</button>
                    </form>
                }.into_any(),
            }}
            {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </section>
    }
}

#[component]
fn EntryItem(
    entry: EntryRow,
    projects: Vec<ProjectChoice>,
    may_edit: bool,
    reload: Callback<()>,
) -> impl IntoView {
    let projects = StoredValue::new(projects);
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let entry = StoredValue::new(entry);
    let title = entry.with_value(|e| {
        if e.description.is_empty() {
            "(no description)".to_owned()
        } else {
            e.description.clone()
        }
    });
    let delete_action = ServerAction::<DeleteEntry>::new();
    Effect::new(move |_| match delete_action.value().get() {
        Some(Ok(())) => reload.run(()),
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    let remove = move |_| {
        delete_action.dispatch(DeleteEntry {
            entry_id: entry.with_value(|e| e.id),
        });
    };
    view! {
        <li class="entry" data-testid="entry">
            <Show
                when=move || editing.get()
                fallback=move || {
                    let title = title.clone();
                    view! {
                        <div class="entry-row">
                            <div class="entry-what">
                                <span class="entry-title">{title}</span>
                                {entry.with_value(|e| e.project.clone()).map(|p| view! { <span class="chip">{p}</span> })}
                                {entry.with_value(|e| (e.source == "kiosk").then(|| view! { <span class="badge">"Kiosk"</span> }))}
                            </div>
                            <span class="entry-span">{entry.with_value(|e| e.span_label.clone())}</span>
                            <span class="entry-length">{entry.with_value(|e| clock(e.seconds))}</span>
                            {may_edit.then(|| view! {
                                <div class="row-actions">
                                    <button type="button" class="button button-small" on:click=move |_| editing.set(true)>"Edit"</button>
                                    <button type="button" class="button button-small danger" on:click=move |_| confirming.set(true)>"Delete"</button>
                                </div>
                            })}
                        </div>
                        <Show when=move || confirming.get()>
                            <div class="confirm-row" role="alert">
                                <span>{format!("Delete this entry of {}?", entry.with_value(|e| clock(e.seconds)))}</span>
                                <button type="button" class="button button-small danger" on:click=remove>"Delete entry"</button>
                                <button type="button" class="button button-small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                            </div>
                        </Show>
                        {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                    }
                }
            >
                <EntryForm
                    entry=Some(entry.get_value())
                    projects=projects.get_value()
                    on_done=Callback::new(move |saved: bool| {
                        editing.set(false);
                        if saved {
                            reload.run(());
                        }
                    })
                />
            </Show>
        </li>
    }
}

/// Add or edit an entry. The same rules as the server's run as you type.
#[component]
fn EntryForm(
    entry: Option<EntryRow>,
    projects: Vec<ProjectChoice>,
    on_done: Callback<bool>,
) -> impl IntoView {
    let projects = StoredValue::new(projects);
    let entry_id = entry.as_ref().map(|e| e.id);
    let description = RwSignal::new(
        entry
            .as_ref()
            .map(|e| e.description.clone())
            .unwrap_or_default(),
    );
    let project = RwSignal::new(
        entry
            .as_ref()
            .and_then(|e| e.project_id)
            .map(|id| id.to_string())
            .unwrap_or_default(),
    );
    let start = RwSignal::new(
        entry
            .as_ref()
            .map(|e| e.start_local.clone())
            .unwrap_or_default(),
    );
    let end = RwSignal::new(
        entry
            .as_ref()
            .map(|e| e.end_local.clone())
            .unwrap_or_default(),
    );
    let touched = RwSignal::new(false);
    let server_error = RwSignal::new(None::<AppError>);
    let save_action = ServerAction::<SaveEntry>::new();
    let busy = save_action.pending();
    Effect::new(move |_| match save_action.value().get() {
        Some(Ok(())) => on_done.run(true),
        Some(Err(error)) => server_error.set(Some(error)),
        None => {}
    });
    let local = Memo::new(move |_| EntryTimes::parse(&start.get(), &end.get()).err());
    let message = move |field: &'static str| {
        move || {
            if touched.get() {
                if let Some(errors) = local.get() {
                    if let Some(m) = errors.first(field) {
                        return Some(m.to_owned());
                    }
                }
            }
            server_error.with(|e| e.as_ref().and_then(|e| e.field_message(field)))
        }
    };
    let form_message = move || {
        server_error.with(|e| match e {
            Some(AppError::Validation(_)) | None => None,
            Some(other) => Some(other.to_string()),
        })
    };
    let prefix = match entry_id {
        Some(id) => format!("entry-{id}"),
        None => "new-entry".to_owned(),
    };
    let ids = StoredValue::new((
        format!("{prefix}-description"),
        format!("{prefix}-project"),
        format!("{prefix}-start"),
        format!("{prefix}-end"),
    ));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        if local.get_untracked().is_some() || busy.get_untracked() {
            return;
        }
        save_action.dispatch(SaveEntry {
            entry_id,
            description: description.get_untracked(),
            project_id: project.get_untracked().parse::<i64>().ok(),
            start: start.get_untracked(),
            end: end.get_untracked(),
        });
    };
    let start_error = message("start");
    let end_error = message("end");
    let description_error = message("description");
    view! {
        <form class="entry-form" on:submit=submit novalidate data-testid="entry-form">
            <div class="field">
                <label for=ids.with_value(|i| i.0.clone())>"Description"</label>
                <input id=ids.with_value(|i| i.0.clone()) type="text" maxlength="500" bind:value=description />
                <p class="field-error">{description_error}</p>
            </div>
            <div class="field">
                <label for=ids.with_value(|i| i.1.clone())>"Project"</label>
                <select id=ids.with_value(|i| i.1.clone()) on:change=move |ev| project.set(event_target_value(&ev))>
                    {projects.with_value(|p| project_options(p, project.get_untracked().parse().ok()))}
                </select>
            </div>
            <div class="field" class:invalid=move || start_error().is_some()>
                <label for=ids.with_value(|i| i.2.clone())>"Start"</label>
                <input id=ids.with_value(|i| i.2.clone()) name="start" type="datetime-local" bind:value=start
                    on:input=move |_| server_error.set(None) />
                <p class="field-error" aria-live="polite">{start_error}</p>
            </div>
            <div class="field" class:invalid=move || end_error().is_some()>
                <label for=ids.with_value(|i| i.3.clone())>"End"</label>
                <input id=ids.with_value(|i| i.3.clone()) name="end" type="datetime-local" bind:value=end
                    on:input=move |_| server_error.set(None) />
                <p class="field-error" aria-live="polite">{end_error}</p>
            </div>
            {move || form_message().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
            <div class="actions">
                <button type="submit" class="button button-primary" disabled=move || busy.get()>
                    {if entry_id.is_some() { "Save entry" } else { "Add entry" }}
                </button>
                <button type="button" class="button" on:click=move |_| on_done.run(false)>"Cancel"</button>
            </div>
        </form>
    }
}

/// The time zone this browser runs in, to offer when it differs.
fn browser_time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()
        .and_then(|zone| zone.as_string())
}

#[component]
fn TimeSettings(
    time_zone: String,
    week_start: u8,
    has_pin: bool,
    reload: Callback<()>,
) -> impl IntoView {
    let zone = RwSignal::new(time_zone.clone());
    let day = RwSignal::new(week_start.to_string());
    let saved_zone = StoredValue::new(time_zone);
    let notice = RwSignal::new(None::<Result<String, String>>);
    // The full zone list is fetched only in the browser.
    // Read from an Effect, not the view: a LocalResource read in the view
    // would hold the page's Suspense on "Loading…".
    let zones_resource = crate::components::fetched::fetched(time_zones);
    let zones = RwSignal::new(None::<Vec<String>>);
    Effect::new(move |_| {
        if let Some(Ok(list)) = zones_resource.get() {
            zones.set(Some(list));
        }
    });
    let device_zone = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let here = browser_time_zone().filter(|z| *z != saved_zone.get_value());
        device_zone.set(here);
    });
    let save_action = ServerAction::<SetTimeSettings>::new();
    Effect::new(move |_| match save_action.value().get() {
        Some(Ok(())) => {
            notice.set(Some(Ok("Time settings saved.".into())));
            reload.run(());
        }
        Some(Err(e)) => notice.set(Some(Err(e
            .field_message("time_zone")
            .or_else(|| e.field_message("week_start"))
            .unwrap_or_else(|| e.to_string())))),
        None => {}
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save_action.dispatch(SetTimeSettings {
            time_zone: zone.get_untracked(),
            week_start: day.get_untracked(),
        });
    };
    let pin_set = RwSignal::new(has_pin);
    let show = |n: RwSignal<Option<Result<String, String>>>| {
        move || {
            n.get().map(|r| match r {
                Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
                Err(m) => {
                    view! { <div class="alert alert-error" role="alert">{m}</div> }.into_any()
                }
            })
        }
    };
    view! {
        <section class="card" aria-labelledby="time-settings-head">
            <h2 id="time-settings-head">"Your time settings"</h2>
            <form class="inline-form settings-form" on:submit=save>
                <label class="filter">
                    <span class="filter-label">"Time zone"</span>
                    <select name="time_zone" on:change=move |ev| zone.set(event_target_value(&ev)) data-testid="time-zone">
                        {move || {
                            let current = zone.get_untracked();
                            match zones.get() {
                                Some(list) => list.into_iter().map(|z| {
                                    let selected = z == current;
                                    let label = z.clone();
                                    view! { <option value=z selected=selected>{label}</option> }
                                }).collect_view().into_any(),
                                _ => view! { <option value=current.clone() selected=true>{current.clone()}</option> }.into_any(),
                            }
                        }}
                    </select>
                </label>
                <label class="filter">
                    <span class="filter-label">"Week starts on"</span>
                    <select name="week_start" on:change=move |ev| day.set(event_target_value(&ev))>
                        {(1..=7u8).map(|d| {
                            let name = WeekStart::NAMES[usize::from(d - 1)];
                            view! { <option value=d.to_string() selected=d == week_start>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button">"Save"</button>
            </form>
            {move || device_zone.get().map(|here| {
                let use_it = here.clone();
                view! {
                    <p class="muted small">
                        {format!("This device is in {here}. ")}
                        <button type="button" class="button-link" on:click=move |_| zone.set(use_it.clone())>
                            {format!("Use {here}")}
                        </button>
                        " then Save."
                    </p>
                }
            })}
            {show(notice)}
            <h3>"Kiosk PIN"</h3>
            <p class="muted small">
                {move || if pin_set.get() { "You have a PIN. Setting a new one replaces it." } else { "Set a PIN to clock in and out at the workspace Kiosk." }}
            </p>
            <KioskPinForm
                membership_id=None
                label="New PIN (4-6 digits)"
                saved="PIN saved. Use it at the Kiosk.".to_owned()
                on_saved=Callback::new(move |_| pin_set.set(true))
            />
        </section>
    }
}

/// "Launch the Kiosk on this device", for Owners, Admins and Project
/// managers. It signs them out here, so it asks first.
#[component]
fn KioskLauncher() -> impl IntoView {
    let session = use_session();
    let allowed = move || {
        session
            .signed_in()
            .is_some_and(|me| me.can(Permission::LaunchKiosk))
    };
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let launch_action = ServerAction::<LaunchKiosk>::new();
    Effect::new(move |_| match launch_action.value().get() {
        // A full load: this device has no session any more.
        Some(Ok(())) => {
            let _ = window().location().set_href("/kiosk");
        }
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    let launch = move |_| {
        launch_action.dispatch(LaunchKiosk {});
    };
    move || {
        allowed().then(|| view! {
            <section class="card" aria-labelledby="kiosk-head">
                <h2 id="kiosk-head">"Kiosk"</h2>
                <p class="muted">"Turn this device into a shared clock-in screen: members pick their name and enter their PIN. Limited members without an email use it too."</p>
                <Show
                    when=move || confirming.get()
                    fallback=move || view! {
                        <button type="button" class="button" on:click=move |_| confirming.set(true)>"Launch Kiosk on this device"</button>
                    }
                >
                    <div class="confirm-row" role="alert">
                        <span>"This signs you out on this device and shows the Kiosk instead."</span>
                        <button type="button" class="button button-primary" on:click=launch>"Launch Kiosk"</button>
                        <button type="button" class="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </div>
                </Show>
                {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </section>
        })
    }
}
