//! The Kiosk screen on a shared tablet: pick your name, enter your PIN,
//! clocked in or out, and the screen resets. Large touch targets, and
//! every step works from a keyboard too.

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::kiosk::{kiosk_info, kiosk_people, ExitKiosk, KioskPerson, KioskPunch, Punch},
    domain::time::{clock, KioskPin},
    error::AppError,
};

/// How long the "clocked in" message stays before the screen resets.
const RESET_AFTER: Duration = Duration::from_secs(6);

#[derive(Clone, PartialEq)]
enum Step {
    Pick,
    Pin(KioskPerson),
    Done(Punch),
}

#[component]
pub fn KioskPage() -> impl IntoView {
    let info = Resource::new(|| (), |_| kiosk_info());
    view! {
        <Title text="Kiosk" />
        <main id="main" class="kiosk">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(info) => view! { <KioskScreen workspace=info.workspace_name /> }.into_any(),
                        Err(_) => view! {
                            <div class="card narrow kiosk-off">
                                <h1>"This device is not a Kiosk"</h1>
                                <p>"An Owner, Admin or Project manager can turn it into one: sign in, open Time, and choose “Launch Kiosk on this device”."</p>
                                <a class="button button-primary" href="/signin">"Sign in"</a>
                            </div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn KioskScreen(workspace: String) -> impl IntoView {
    let step = RwSignal::new(Step::Pick);
    let search = RwSignal::new(String::new());
    let refresh = RwSignal::new(0_u32);
    let people = crate::components::fetched::fetched(move || {
        let text = search.get();
        refresh.get();
        kiosk_people(text)
    });
    let shown = RwSignal::new(None::<Result<Vec<KioskPerson>, AppError>>);
    Effect::new(move |_| {
        if let Some(result) = people.get() {
            shown.set(Some(result));
        }
    });
    // Marks the screen live for browser tests and for keyboard focus.
    let ready = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = ready.get() {
            let _ = el.set_attribute("data-ready", "true");
        }
    });
    let reset = move || {
        step.set(Step::Pick);
        search.set(String::new());
        refresh.update(|r| *r += 1);
    };
    let exiting = RwSignal::new(false);
    let exit_action = ServerAction::<ExitKiosk>::new();
    // Whatever the answer, this device leaves the Kiosk for the sign-in page.
    Effect::new(move |_| {
        if exit_action.value().get().is_some() {
            let _ = window().location().set_href("/signin");
        }
    });
    let exit = move |_| {
        exit_action.dispatch(ExitKiosk {});
    };
    view! {
        <div class="kiosk-screen" node_ref=ready data-testid="kiosk">
            <header class="kiosk-head">
                <span class="brand-mark" aria-hidden="true">"T"</span>
                <span class="kiosk-workspace">{workspace}</span>
                <span class="muted">" · Kiosk"</span>
            </header>
            {move || match step.get() {
                Step::Pick => view! {
                    <section class="kiosk-pick" aria-labelledby="kiosk-pick-head">
                        <h1 id="kiosk-pick-head">"Who are you?"</h1>
                        <label class="kiosk-search">
                            <span class="visually-hidden">"Find your name"</span>
                            <input
                                type="search"
                                placeholder="Type your name"
                                autocomplete="off"
                                prop:value=move || search.get()
                                on:input=move |ev| search.set(event_target_value(&ev))
                            />
                        </label>
                        <ul class="kiosk-people">
                            {move || match shown.get() {
                                None => view! { <li class="muted">"Loading names…"</li> }.into_any(),
                                Some(Err(e)) => view! { <li class="alert alert-error" role="alert">{e.to_string()}</li> }.into_any(),
                                Some(Ok(list)) if list.is_empty() => view! {
                                    <li class="muted">"No one by that name. Check the spelling, or ask an admin to add you."</li>
                                }.into_any(),
                                Some(Ok(list)) => list.into_iter().map(|person| {
                                    let chosen = person.clone();
                                    let disabled = !person.has_pin;
                                    let state = if !person.has_pin {
                                        "No PIN yet"
                                    } else if person.clocked_in {
                                        "In"
                                    } else {
                                        "Out"
                                    };
                                    view! {
                                        <li>
                                            <button
                                                type="button"
                                                class="kiosk-person"
                                                class:is-in=person.clocked_in
                                                disabled=disabled
                                                on:click=move |_| step.set(Step::Pin(chosen.clone()))
                                            >
                                                <span class="kiosk-person-name">{person.name.clone()}</span>
                                                <span class="kiosk-person-state">{state}</span>
                                            </button>
                                        </li>
                                    }
                                }).collect_view().into_any(),
                            }}
                        </ul>
                    </section>
                }.into_any(),
                Step::Pin(person) => view! { <PinPad person step /> }.into_any(),
                Step::Done(punch) => {
                    if let Ok(handle) = set_timeout_with_handle(move || {
                        if matches!(step.try_get_untracked(), Some(Step::Done(_))) {
                            reset();
                        }
                    }, RESET_AFTER) {
                        on_cleanup(move || handle.clear());
                    }
                    let headline = if punch.clocked_in {
                        format!("{}, you're clocked in", punch.name)
                    } else {
                        format!("{}, you're clocked out", punch.name)
                    };
                    let detail = match punch.worked_seconds {
                        Some(seconds) => format!("Out at {} · {} worked", punch.at, clock(seconds)),
                        None => format!("In at {}", punch.at),
                    };
                    view! {
                        <section class="kiosk-done" role="status" data-testid="kiosk-done">
                            <p class="kiosk-check" aria-hidden="true">"✓"</p>
                            <h1>{headline}</h1>
                            <p class="kiosk-detail">{detail}</p>
                            <button type="button" class="button button-primary kiosk-big" on:click=move |_| reset()>"Done"</button>
                        </section>
                    }.into_any()
                }
            }}
            <footer class="kiosk-foot">
                <Show
                    when=move || exiting.get()
                    fallback=move || view! {
                        <button type="button" class="button-link" on:click=move |_| exiting.set(true)>"Exit Kiosk"</button>
                    }
                >
                    <span>"Exit Kiosk mode on this device? Someone must sign in to launch it again."</span>
                    <button type="button" class="button button-small danger" on:click=exit>"Exit Kiosk"</button>
                    <button type="button" class="button button-small" on:click=move |_| exiting.set(false)>"Stay"</button>
                </Show>
            </footer>
        </div>
    }
}

#[component]
fn PinPad(person: KioskPerson, step: RwSignal<Step>) -> impl IntoView {
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let punch = ServerAction::<KioskPunch>::new();
    let busy = punch.pending();
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| match punch.value().get() {
        Some(Ok(done)) => step.set(Step::Done(done)),
        Some(Err(e)) => {
            let message = match &e {
                AppError::RateLimited { retry_after_secs } => {
                    format!("Too many wrong PINs. Try again in {retry_after_secs} seconds.")
                }
                other => other
                    .field_message("pin")
                    .unwrap_or_else(|| other.to_string()),
            };
            error.set(Some(message));
            pin.set(String::new());
            if let Some(el) = input.get_untracked() {
                let _ = el.focus();
            }
        }
        None => {}
    });
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    let membership_id = person.membership_id;
    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        let value = pin.get_untracked();
        if let Err(message) = KioskPin::parse(&value) {
            error.set(Some(message));
            return;
        }
        punch.dispatch(KioskPunch {
            membership_id,
            pin: value,
        });
    };
    let press = move |digit: char| {
        error.set(None);
        pin.update(|p| {
            if p.len() < KioskPin::MAX_DIGITS {
                p.push(digit);
            }
        });
    };
    let keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];
    view! {
        <section class="kiosk-pin" aria-labelledby="kiosk-pin-head">
            <h1 id="kiosk-pin-head">{format!("Hi {}", person.name)}</h1>
            <p class="muted">{if person.clocked_in { "Enter your PIN to clock out." } else { "Enter your PIN to clock in." }}</p>
            <form on:submit=move |ev| { ev.prevent_default(); submit(); } novalidate>
                <label class="visually-hidden" for="kiosk-pin-input">"PIN"</label>
                <input
                    id="kiosk-pin-input"
                    node_ref=input
                    class="kiosk-pin-input"
                    type="password"
                    inputmode="numeric"
                    autocomplete="off"
                    maxlength="6"
                    prop:value=move || pin.get()
                    on:input=move |ev| { error.set(None); pin.set(event_target_value(&ev)); }
                    aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                    aria-describedby="kiosk-pin-error"
                />
                <p class="field-error kiosk-error" id="kiosk-pin-error" role="alert">{move || error.get()}</p>
                <div class="keypad" role="group" aria-label="Keypad">
                    {keys.into_iter().map(|k| view! {
                        <button type="button" class="key" on:click=move |_| press(k)>{k.to_string()}</button>
                    }).collect_view()}
                    <button type="button" class="key key-quiet" aria-label="Delete last digit"
                        on:click=move |_| pin.update(|p| { p.pop(); })>"⌫"</button>
                    <button type="button" class="key" on:click=move |_| press('0')>"0"</button>
                    <button type="submit" class="key key-go" disabled=move || busy.get()>"OK"</button>
                </div>
            </form>
            <button type="button" class="button kiosk-big" on:click=move |_| step.set(Step::Pick)>"Not me"</button>
        </section>
    }
}
