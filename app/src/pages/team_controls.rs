//! The Team page's search box, filters and sort: the list follows each
//! keystroke, the address follows when typing pauses, and every other
//! change is a navigation, so the URL is always the view.

use leptos::prelude::*;
use leptos_router::{hooks::use_navigate, NavigateOptions};

use crate::domain::directory::{
    DirectoryQuery, SortDir, KIND_OPTIONS, ROLE_OPTIONS, SORT_OPTIONS, STATUS_OPTIONS,
};

/// Pause in typing after which the address follows the search box (replacing
/// the history entry). The list itself follows every keystroke at once: the
/// server answers in a few milliseconds and a resource keeps only its newest
/// load. `cargo xtask bench ui` measured a 50 ms pause before each search as
/// half the wait from the last letter to the rows, and a router navigation
/// per keystroke as most of the rest.
const SEARCH_URL_PAUSE_MS: u64 = 300;

fn options_of<T>(table: &[(&'static str, T, &'static str)]) -> Vec<(String, String)> {
    table
        .iter()
        .map(|(key, _, label)| ((*key).to_owned(), (*label).to_owned()))
        .collect()
}

/// The search box (the list follows each keystroke, the address follows
/// when typing pauses), the filters and the sort. Every change but typing
/// is a navigation, so the URL is always the view.
#[component]
pub fn DirectoryControls(
    view_query: Memo<DirectoryQuery>,
    typed_search: RwSignal<Option<String>>,
    group_options: RwSignal<Vec<(String, String)>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let go = {
        let navigate = navigate.clone();
        move |query: DirectoryQuery, replace: bool| {
            navigate(
                &format!("/team{}", query.to_query_string()),
                NavigateOptions {
                    replace,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    };
    // The search box keeps its own text while typing; the list follows at
    // once and the URL when typing pauses (replacing, not pushing, history
    // entries).
    let search_text = RwSignal::new(view_query.get_untracked().search().to_owned());
    Effect::new(move |_| {
        let from_url = view_query.with(|q| q.search().to_owned());
        if search_text.get_untracked().trim() != from_url {
            search_text.set(from_url);
        }
    });
    let pending_search: StoredValue<Option<leptos::leptos_dom::helpers::TimeoutHandle>> =
        StoredValue::new(None);
    let on_search_input = {
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            search_text.set(text.clone());
            typed_search.set(Some(text));
            if let Some(handle) = pending_search.get_value() {
                handle.clear();
            }
            let handle = set_timeout_with_handle(
                move || {
                    if let Some(shown) = view_query.try_get_untracked() {
                        show_in_address(&format!("/team{}", shown.to_query_string()));
                    }
                },
                std::time::Duration::from_millis(SEARCH_URL_PAUSE_MS),
            )
            .ok();
            pending_search.set_value(handle);
        }
    };

    // Leaving the page while the address is catching up must not bring the
    // person back to the Team page 300 ms later.
    on_cleanup(move || {
        if let Some(Some(handle)) = pending_search.try_get_value() {
            handle.clear();
        }
    });

    let search_ref = NodeRef::<leptos::html::Input>::new();
    // Marks the controls as live once this part of the page has hydrated
    // (it can be later than the rest: it sits inside the session's
    // Suspense); browser tests wait for it before using them.
    let controls_ref = NodeRef::<leptos::html::Search>::new();
    Effect::new(move |_| {
        if let Some(controls) = controls_ref.get() {
            let _ = controls.set_attribute("data-ready", "true");
        }
    });
    // "/" focuses the search box from anywhere but another text field.
    let slash_listener = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let typing = document().active_element().is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.has_attribute("contenteditable")
        });
        if !typing {
            if let Some(input) = search_ref.get() {
                ev.prevent_default();
                let _ = input.focus();
                input.select();
            }
        }
    });
    on_cleanup(move || slash_listener.remove());

    let on_filter = {
        let go = go.clone();
        move |field: &'static str, value: String| {
            let mut current = view_query.get_untracked().to_params();
            let value = (!value.is_empty()).then_some(value);
            match field {
                "status" => current.status = value,
                "role" => current.role = value,
                "group" => current.group = value,
                "kind" => current.kind = value,
                _ => {}
            }
            if let Ok(next) = DirectoryQuery::parse(&current) {
                go(next, false);
            }
        }
    };
    let filter_select = {
        let on_filter = on_filter.clone();
        move |field: &'static str,
              label: &'static str,
              any_label: Option<&'static str>,
              options: Signal<Vec<(String, String)>>,
              selected: Signal<String>| {
            let on_filter = on_filter.clone();
            let id = format!("filter-{field}");
            view! {
                <label class="filter">
                    <span class="filter-label">{label}</span>
                    <select
                        id=id
                        name=field
                        on:change=move |ev| on_filter(field, event_target_value(&ev))
                        prop:value=move || selected.get()
                    >
                        {any_label.map(|text| view! { <option value="">{text}</option> })}
                        {move || {
                            options
                                .get()
                                .into_iter()
                                .map(|(value, text)| {
                                    let is_selected = {
                                        let value = value.clone();
                                        move || selected.get() == value
                                    };
                                    view! { <option value=value selected=is_selected>{text}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
            }
        }
    };
    let status_options = Signal::stored(options_of(STATUS_OPTIONS));
    let role_options = Signal::stored(options_of(ROLE_OPTIONS));
    let kind_options = Signal::stored(options_of(KIND_OPTIONS));
    view! {
            <search class="directory-controls" aria-label="Find members" node_ref=controls_ref>
                <label class="search-box">
                    <span class="visually-hidden">"Search members"</span>
                    <input
                        node_ref=search_ref
                        type="search"
                        name="q"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="Search name, email, group or manager   /"
                        maxlength="200"
                        prop:value=move || search_text.get()
                        on:input=on_search_input
                        aria-describedby="member-count"
                    />
                </label>
                {filter_select(
                    "status",
                    "Status",
                    None,
                    status_options,
                    Signal::derive(move || view_query.get().status_key().to_owned()),
                )}
                {filter_select(
                    "role",
                    "Role",
                    Some("Any role"),
                    role_options,
                    Signal::derive(move || view_query.get().role_key().to_owned()),
                )}
                {filter_select(
                    "group",
                    "Group",
                    Some("Any group"),
                    group_options.into(),
                    Signal::derive(move || {
                        view_query.get().group.map(|g| g.to_string()).unwrap_or_default()
                    }),
                )}
                {filter_select(
                    "kind",
                    "Kind",
                    Some("Full and limited"),
                    kind_options,
                    Signal::derive(move || view_query.get().kind_key().to_owned()),
                )}
                <label class="filter sort-filter">
                    <span class="filter-label">"Sort"</span>
                    <select
                        name="sort"
                        on:change={
                            let go = go.clone();
                            move |ev| {
                                let value = event_target_value(&ev);
                                let (sort, dir) = value.split_once(':').unwrap_or(("name", "asc"));
                                let mut params = view_query.get_untracked().to_params();
                                params.sort = Some(sort.to_owned());
                                params.dir = Some(dir.to_owned());
                                if let Ok(next) = DirectoryQuery::parse(&params) {
                                    go(next, false);
                                }
                            }
                        }
                        prop:value=move || {
                            let query = view_query.get();
                            let dir = if query.dir == SortDir::Desc { "desc" } else { "asc" };
                            format!("{}:{dir}", query.sort_key())
                        }
                    >
                        {SORT_OPTIONS
                            .iter()
                            .flat_map(|(key, _, label)| {
                                [
                                    (format!("{key}:asc"), format!("{label}, ascending")),
                                    (format!("{key}:desc"), format!("{label}, descending")),
                                ]
                            })
                            .map(|(value, text)| view! { <option value=value>{text}</option> })
                            .collect_view()}
                    </select>
                </label>
            </search>
    }
}

/// Writes the typed search into the address bar (for reload, sharing and
/// back/forward) by replacing the history entry, without a router
/// navigation: the list already shows it, and a navigation here could
/// overtake one the person just started by clicking a link (a lazy page
/// still loading its code). Only while the address is still the Team page.
fn show_in_address(path_and_query: &str) {
    let window = window();
    let location = window.location();
    let (Ok(path), Ok(search)) = (location.pathname(), location.search()) else {
        return;
    };
    if path != "/team" || format!("{path}{search}") == path_and_query {
        return;
    }
    if let Ok(history) = window.history() {
        let state = history.state().unwrap_or(wasm_bindgen::JsValue::NULL);
        let _ = history.replace_state_with_url(&state, "", Some(path_and_query));
    }
}
