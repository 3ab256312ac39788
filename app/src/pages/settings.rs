use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::lifecycle::{seat_usage, SetPlan},
    components::session::use_session,
    domain::{Permission, Plan},
    error::AppError,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <div class="page-head"><h1>"Settings"</h1></div>
        // Every card reads who is signed in: inside a Suspense the server
        // renders them once the session is known, as the browser hydrates.
        <Suspense fallback=|| ()>
            <WorkspaceDetails />
            <TwoFactorPolicy />
            <crate::components::impersonation::ImpersonationPolicy />
            <PlanAndSeats />
            <crate::pages::scim::ScimCard />
            <KioskDevicesCard />
        </Suspense>
    }
}

#[component]
fn WorkspaceDetails() -> impl IntoView {
    let session = use_session();
    move || {
        session.signed_in().map(|me| {
            let workspace = me.workspace.clone();
            view! {
                <section class="card">
                    <h2>"Workspace"</h2>
                    {workspace.map(|w| {
                        let roles: Vec<&str> = w.positions.held().map(|p| p.label()).collect();
                        view! {
                            <dl class="details">
                                <dt>"Name"</dt><dd>{w.name}</dd>
                                <dt>"Plan"</dt><dd>{w.plan.label()}</dd>
                                <dt>"Your roles"</dt><dd>{roles.join(", ")}</dd>
                            </dl>
                        }
                    })}
                </section>
                <section class="card">
                    <h2>"Your account"</h2>
                    <dl class="details">
                        <dt>"Name"</dt><dd>{me.name}</dd>
                        <dt>"Email"</dt><dd>{me.email}</dd>
                    </dl>
                </section>
            }
        })
    }
}

/// Plan and seats: the Owner changes them (no payment step); everyone who
/// sees the Team page sees how many seats are used.
#[component]
fn PlanAndSeats() -> impl IntoView {
    let session = use_session();
    let action = ServerAction::<SetPlan>::new();
    // Browser-only, like the Team page's count: the page hydrates the same
    // whatever the answer.
    let usage = crate::components::fetched::fetched(move || {
        action.version().get();
        seat_usage()
    });
    let shown = RwSignal::new(None::<Result<crate::api::lifecycle::Seats, AppError>>);
    Effect::new(move |_| shown.set(usage.get()));
    let is_owner = move || {
        session
            .signed_in()
            .is_some_and(|me| me.can(Permission::ManageWorkspace))
    };
    let message = move || {
        action.value().get().map(|result| match result {
            Ok(_) => view! { <p class="notice" role="status">"Plan saved."</p> }.into_any(),
            Err(e) => {
                let text = e
                    .field_message("seats")
                    .or_else(|| e.field_message("plan"))
                    .unwrap_or_else(|| e.to_string());
                view! { <div class="alert alert-error" role="alert">{text}</div> }.into_any()
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="plan-head" data-testid="plan-and-seats">
            <h2 id="plan-head">"Plan and seats"</h2>
            {move || match shown.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(_)) => view! { <p class="muted">"Seat usage is shown to owners and admins."</p> }.into_any(),
                Some(Ok(u)) => {
                    let plan = u.plan;
                    let summary = if plan == Plan::Free {
                        format!("Free plan: unlimited members, invited up to 5 at a time. {} full members hold a place.", u.used)
                    } else {
                        format!("{} of {} seats used ({} free). Each active or invited full member holds one.", u.used, u.seats, (i64::from(u.seats) - u.used).max(0))
                    };
                    view! {
                        <p data-testid="seat-summary">{summary}</p>
                        {is_owner().then(|| view! {
                            <ActionForm action>
                                <div class="inline-form">
                                    <label class="filter">
                                        <span class="filter-label">"Plan"</span>
                                        <select name="plan">
                                            {[Plan::Free, Plan::Pro, Plan::Enterprise].into_iter().map(|p| view! {
                                                <option value=p.as_str() selected=p == plan>{p.label()}</option>
                                            }).collect_view()}
                                        </select>
                                    </label>
                                    <label class="filter">
                                        <span class="filter-label">"Seats"</span>
                                        <input name="seats" type="number" min="0" inputmode="numeric" value=u.seats.to_string() class="seats-input" />
                                    </label>
                                    <button type="submit" class="button button-primary">"Save plan"</button>
                                </div>
                            </ActionForm>
                        })}
                    }.into_any()
                }
            }}
            {message}
        </section>
    }
}

/// "Owners and Admins must use two-factor": the Owner's switch.
#[component]
fn TwoFactorPolicy() -> impl IntoView {
    use crate::api::two_factor::SetWorkspaceTwoFactor;
    let session = use_session();
    let problem = RwSignal::new(None::<String>);
    let save = ServerAction::<SetWorkspaceTwoFactor>::new();
    let saving = save.pending();
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            problem.set(
                result
                    .err()
                    .map(|e| e.field_message("required").unwrap_or_else(|| e.to_string())),
            );
            session.refresh();
        }
    });
    move || {
        let workspace = session
            .signed_in()
            .and_then(|me| me.workspace)
            .filter(|w| w.positions.owner)?;
        let on = workspace.require_two_factor;
        let toggle = move |ev: leptos::ev::Event| {
            let wanted = event_target_checked(&ev);
            save.dispatch(SetWorkspaceTwoFactor { required: wanted });
        };
        Some(view! {
            <section class="card" data-testid="two-factor-policy">
                <h2>"Security"</h2>
                <label class="check">
                    <input type="checkbox" prop:checked=on disabled=move || saving.get() on:change=toggle />
                    " Owners and Admins must use two-factor authentication"
                </label>
                <p class="muted small">"Those without it are sent to their profile to turn it on before anything else."</p>
                {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </section>
        })
    }
}

/// "Kiosk devices": the workspace's live Kiosks, for Owners and Admins,
/// each with an End button (the device's next request is refused).
#[component]
fn KioskDevicesCard() -> impl IntoView {
    let session = use_session();
    move || {
        session
            .signed_in()
            .filter(|me| me.can(Permission::ManageMembers))
            .map(|_| view! { <KioskDevices /> })
    }
}

#[component]
fn KioskDevices() -> impl IntoView {
    use crate::api::kiosk::{list_kiosk_devices, EndKioskDevice, KIOSK_IDLE_DAYS};
    let end = ServerAction::<EndKioskDevice>::new();
    let devices = crate::components::fetched::fetched(move || {
        end.version().get();
        list_kiosk_devices()
    });
    let when = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    let problem = move || {
        end.value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> })
    };
    view! {
        <section class="card" aria-labelledby="kiosk-devices-head" data-testid="kiosk-devices">
            <h2 id="kiosk-devices-head">"Kiosk devices"</h2>
            <p class="muted small">
                {format!(
                    "Shared devices in Kiosk mode. A device stops working after {KIOSK_IDLE_DAYS} days without use, \
                     when the person who launched it can no longer launch the Kiosk, or when you end it here."
                )}
            </p>
            {problem}
            {move || match devices.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="muted" data-testid="no-kiosk-devices">"No Kiosk devices."</p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="session-list">
                        {list.into_iter().map(|d| {
                            let id = d.id;
                            let title = d.device.clone().unwrap_or_else(|| "Unknown device".into());
                            let details = format!(
                                "launched {}{} · last used {}",
                                when(d.launched_at),
                                d.launched_by.as_ref().map(|n| format!(" by {n}")).unwrap_or_default(),
                                d.last_used_at.map(when).unwrap_or_else(|| "never".into()),
                            );
                            let label = format!("End Kiosk on {title}");
                            view! {
                                <li data-testid="kiosk-device">
                                    <div class="session-what">
                                        <strong>{title}</strong>
                                        <div class="muted session-when">{details}</div>
                                    </div>
                                    <button type="button" class="button" aria-label=label
                                        disabled=move || end.pending().get()
                                        on:click=move |_| { end.dispatch(EndKioskDevice { id }); }>
                                        "End"
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}
