//! The "Time tracking" part of a member's card, for Owners and Admins:
//! whether they may edit their own entries, their Kiosk PIN, and whether
//! a timer is running.

use leptos::prelude::*;

use crate::{
    api::time::{time_settings_of, MemberTimeSettings, SetKioskPin, SetTimePermission},
    domain::time::KioskPin,
    error::AppError,
};

#[component]
pub fn MemberTime(membership_id: i64, name: String) -> impl IntoView {
    let change = ServerAction::<SetTimePermission>::new();
    let pin_saves = RwSignal::new(0_u32);
    // Browser-only: the card hydrates the same whatever the answer. Read
    // again after each change is answered.
    let settings = crate::components::fetched::fetched(move || {
        change.version().get();
        pin_saves.get();
        time_settings_of(membership_id)
    });
    let shown = RwSignal::new(None::<Result<MemberTimeSettings, AppError>>);
    Effect::new(move |_| {
        if let Some(result) = settings.get() {
            shown.set(Some(result));
        }
    });
    let notice = RwSignal::new(None::<Result<String, String>>);
    let name = StoredValue::new(name);
    // What was asked for, for the message (an action's input is cleared
    // once it answers).
    let asked_allowed = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(result) = change.value().get() else {
            return;
        };
        notice.set(Some(match result {
            Ok(()) => Ok(if asked_allowed.get_value() {
                format!("{} can edit their own entries.", name.get_value())
            } else {
                format!(
                    "{} can no longer edit or delete their own entries.",
                    name.get_value()
                )
            }),
            Err(e) => Err(e.to_string()),
        }));
    });
    let toggle = move |allowed: bool| {
        asked_allowed.set_value(allowed);
        change.dispatch(SetTimePermission {
            membership_id,
            may_edit_own_time: allowed,
        });
    };
    view! {
        <section class="card" aria-labelledby="member-time-head" data-testid="member-time">
            <h2 id="member-time-head">"Time tracking"</h2>
            {move || match shown.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{e.to_string()}</p> }.into_any(),
                Some(Ok(s)) => {
                    let allowed = s.may_edit_own_time;
                    view! {
                        <dl class="details">
                            <dt>"Timer"</dt>
                            <dd>{match &s.running {
                                Some(r) if r.description.is_empty() => "Running".to_owned(),
                                Some(r) => format!("Running: {}", r.description),
                                None => "Not running".to_owned(),
                            }}</dd>
                            <dt>"Kiosk PIN"</dt>
                            <dd>{match (s.has_pin, s.pin_locked) {
                                (true, true) => "Set · paused after wrong PINs",
                                (true, false) => "Set",
                                (false, _) => "Not set",
                            }}</dd>
                        </dl>
                        <label class="checkbox">
                            <input
                                type="checkbox"
                                prop:checked=allowed
                                on:change=move |ev| toggle(event_target_checked(&ev))
                            />
                            "May edit and delete their own time entries"
                        </label>
                    }.into_any()
                }
            }}
            <KioskPinForm
                membership_id=Some(membership_id)
                label="New Kiosk PIN (4-6 digits)"
                saved=format!("Kiosk PIN set for {}. Tell them in person.", name.get_value())
                on_saved=Callback::new(move |_| pin_saves.update(|v| *v += 1))
            />
            {move || notice.get().map(|n| match n {
                Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
                Err(m) => view! { <div class="alert alert-error" role="alert">{m}</div> }.into_any(),
            })}
        </section>
    }
}

/// Sets a Kiosk PIN: the signed-in member's own (`membership_id` None) or,
/// for Owners and Admins, someone else's. Checked as typed, like the server.
#[component]
pub fn KioskPinForm(
    membership_id: Option<i64>,
    label: &'static str,
    /// Said once the PIN is saved.
    saved: String,
    on_saved: Callback<()>,
) -> impl IntoView {
    let pin = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let notice = RwSignal::new(None::<Result<String, String>>);
    let saved = StoredValue::new(saved);
    let action = ServerAction::<SetKioskPin>::new();
    Effect::new(move |_| {
        let Some(result) = action.value().get() else {
            return;
        };
        notice.set(Some(match result {
            Ok(()) => {
                pin.set(String::new());
                touched.set(false);
                on_saved.run(());
                Ok(saved.get_value())
            }
            Err(e) => Err(e.field_message("pin").unwrap_or_else(|| e.to_string())),
        }));
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        let value = pin.get_untracked();
        if KioskPin::parse(&value).is_err() {
            return;
        }
        action.dispatch(SetKioskPin {
            membership_id,
            pin: value,
        });
    };
    let error = move || {
        touched
            .get()
            .then(|| KioskPin::parse(&pin.get()).err())
            .flatten()
    };
    view! {
        <form class="inline-form" on:submit=submit novalidate>
            <label class="filter">
                <span class="filter-label">{label}</span>
                <input
                    type="password"
                    name="pin"
                    inputmode="numeric"
                    autocomplete="new-password"
                    maxlength="6"
                    class="pin-input"
                    bind:value=pin
                    on:blur=move |_| touched.set(true)
                />
            </label>
            <button type="submit" class="button">"Set PIN"</button>
        </form>
        {move || error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        {move || notice.get().map(|n| match n {
            Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
            Err(m) => view! { <div class="alert alert-error" role="alert">{m}</div> }.into_any(),
        })}
    }
}
