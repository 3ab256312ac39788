//! The profile editor: one's own at `/profile`, anyone's on their member
//! card for Owners and Admins. Every field is checked as typed with the
//! same parsers the server runs.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::profile::{profile_of, ProfileForm, ProfileView, SaveProfile},
    components::layout::initials,
    domain::{
        profile::{BillingRate, Capacity, WorkingDays, CURRENCIES},
        time::WeekStart,
        DisplayName,
    },
    error::AppError,
    pages::{api_keys::ApiKeysCard, two_factor::TwoFactorCard},
};

/// Largest photo the browser sends (the server checks again).
const MAX_PHOTO_BYTES: f64 = 2.0 * 1024.0 * 1024.0;

#[component]
pub fn ProfilePage() -> impl IntoView {
    view! {
        <Title text="Your profile" />
            <div class="page-head"><h1>"Your profile"</h1></div>
            <ProfileEditor membership_id=None />
            <Suspense fallback=|| ()><CredentialCards /></Suspense>
    }
}

/// Password, two-factor, sessions and API keys: the person's own, so an
/// Owner viewing as them sees why they are not there (the server refuses
/// each of them too).
#[component]
fn CredentialCards() -> impl IntoView {
    let session = crate::components::session::use_session();
    let viewing_as = move || {
        session
            .signed_in()
            .and_then(|me| me.viewing_as)
            .map(|viewing| viewing.name)
    };
    move || {
        match viewing_as() {
        Some(name) => view! {
            <section class="card" data-testid="credentials-out-of-reach">
                <h2>"Password, two-factor, sessions and API keys"</h2>
                <p>{format!("While you view as {name}, their password, email, two-factor, sessions and API keys stay out of reach. Use “Back to my view” first.")}</p>
            </section>
        }
        .into_any(),
        None => view! {
            <PasswordCard />
            <TwoFactorCard />
            <SessionsCard />
            <ApiKeysCard />
        }
        .into_any(),
    }
    }
}

/// Loads the profile in the browser (the card and page hydrate the same
/// whatever the answer) and shows the form.
#[component]
pub fn ProfileEditor(membership_id: Option<i64>) -> impl IntoView {
    let version = RwSignal::new(0_u32);
    let loaded = crate::components::fetched::fetched(move || {
        version.get();
        profile_of(membership_id)
    });
    let shown = RwSignal::new(None::<Result<ProfileView, AppError>>);
    Effect::new(move |_| {
        if let Some(result) = loaded.get() {
            shown.set(Some(result));
        }
    });
    let reload = Callback::new(move |_: ()| version.update(|v| *v += 1));
    view! {
        <section class="card profile-card" aria-labelledby="profile-head" data-testid="profile-editor">
            <h2 id="profile-head">"Profile"</h2>
            {move || match shown.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{e.to_string()}</p> }.into_any(),
                Some(Ok(profile)) => view! { <ProfileForm profile reload /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ProfileForm(profile: ProfileView, reload: Callback<()>) -> impl IntoView {
    let target = (!profile.is_self).then_some(profile.membership_id);
    let name = RwSignal::new(profile.name.clone());
    let days = RwSignal::new(
        (1..=7u8)
            .filter(|d| WorkingDays::from_bits(profile.working_days).has(*d))
            .collect::<Vec<u8>>(),
    );
    let capacity = RwSignal::new(Capacity::from_minutes(profile.capacity_minutes).hours_text());
    let week_start = RwSignal::new(profile.week_start.to_string());
    let manager = RwSignal::new(
        profile
            .team_manager_id
            .map(|m| m.to_string())
            .unwrap_or_default(),
    );
    let rate = RwSignal::new(profile.billing_rate.clone());
    let currency = RwSignal::new(profile.currency.clone());
    let weekly = RwSignal::new(profile.notify_weekly_summary);
    let reminders = RwSignal::new(profile.notify_timer_reminders);
    let server_error = RwSignal::new(None::<AppError>);
    let save = ServerAction::<SaveProfile>::new();
    let busy = save.pending();
    // "Profile saved." shows until the next save is sent.
    let saved = Signal::derive(move || !busy.get() && matches!(save.value().get(), Some(Ok(()))));
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            server_error.set(result.err());
        }
    });

    let local = move |field: &str| -> Option<String> {
        match field {
            "name" => DisplayName::parse(&name.get()).err(),
            "capacity" => Capacity::parse(&capacity.get()).err(),
            "billing_rate" => BillingRate::parse(&rate.get(), &currency.get()).err(),
            _ => None,
        }
    };
    let message = move |field: &'static str| {
        move || {
            local(field)
                .or_else(|| server_error.with(|e| e.as_ref().and_then(|e| e.field_message(field))))
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if ["name", "capacity", "billing_rate"]
            .iter()
            .any(|f| local(f).is_some())
            || busy.get_untracked()
        {
            return;
        }
        let form = ProfileForm {
            name: name.get_untracked(),
            working_days: days.get_untracked(),
            capacity: capacity.get_untracked(),
            week_start: week_start.get_untracked(),
            team_manager_id: manager.get_untracked().parse().ok(),
            billing_rate: rate.get_untracked(),
            currency: currency.get_untracked(),
            notify_weekly_summary: weekly.get_untracked(),
            notify_timer_reminders: reminders.get_untracked(),
        };
        save.dispatch(SaveProfile {
            membership_id: target,
            form,
        });
    };
    let manager_name = profile
        .team_manager_id
        .and_then(|id| profile.team_managers.iter().find(|m| m.membership_id == id))
        .map(|m| m.name.clone())
        .unwrap_or_else(|| "None".to_owned());
    let admin_fields = profile.admin_fields;
    let form_error = move || {
        server_error.with(|e| match e {
            None | Some(AppError::Validation(_)) => None,
            Some(other) => Some(other.to_string()),
        })
    };
    let name_error = message("name");
    let capacity_error = message("capacity");
    let rate_error = message("billing_rate");
    let manager_error = message("team_manager");
    view! {
        <PhotoField profile=profile.clone() reload />
        <form class="profile-form" on:submit=submit novalidate>
            <div class="field" class:invalid=move || name_error().is_some()>
                <label for="profile-name">"Name"</label>
                <input id="profile-name" type="text" maxlength="100" bind:value=name
                    disabled=!profile.name_editable aria-describedby="profile-name-hint" />
                <p class="hint" id="profile-name-hint">{if profile.name_editable {
                    "Shown to everyone in the workspace."
                } else {
                    "Their account's name, used in every workspace: only they can change it."
                }}</p>
                <p class="field-error" aria-live="polite">{name_error}</p>
            </div>
            {if profile.is_self && profile.account_id.is_some() {
                view! { <EmailChangeForm current=profile.email.clone().unwrap_or_default() /> }.into_any()
            } else {
                view! {
                    <div class="field">
                        <span class="field-label">"Email"</span>
                        <p class="static-value">{profile.email.clone().unwrap_or_else(|| "No email (limited member)".to_owned())}</p>
                    </div>
                }.into_any()
            }}
            <fieldset class="choice-list working-days">
                <legend>"Working days"</legend>
                {(1..=7u8).map(|day| view! {
                    <label class="checkbox">
                        <input
                            type="checkbox"
                            prop:checked=move || days.with(|d| d.contains(&day))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                days.update(|d| {
                                    d.retain(|x| *x != day);
                                    if on {
                                        d.push(day);
                                        d.sort_unstable();
                                    }
                                });
                            }
                        />
                        {WorkingDays::NAMES[usize::from(day - 1)]}
                    </label>
                }).collect_view()}
            </fieldset>
            <div class="field-row">
                <div class="field" class:invalid=move || capacity_error().is_some()>
                    <label for="profile-capacity">"Daily capacity (hours)"</label>
                    <input id="profile-capacity" type="text" inputmode="decimal" bind:value=capacity />
                    <p class="field-error" aria-live="polite">{capacity_error}</p>
                </div>
                <div class="field">
                    <label for="profile-week-start">"Week starts on"</label>
                    <select id="profile-week-start" on:change=move |ev| week_start.set(event_target_value(&ev))>
                        {(1..=7u8).map(|d| {
                            let selected = d == profile.week_start;
                            view! { <option value=d.to_string() selected=selected>{WeekStart::NAMES[usize::from(d - 1)]}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <div class="field-row">
                <div class="field" class:invalid=move || manager_error().is_some()>
                    <label for="profile-manager">"Team manager"</label>
                    {if admin_fields {
                        let current = profile.team_manager_id;
                        view! {
                            <select id="profile-manager" on:change=move |ev| manager.set(event_target_value(&ev))>
                                <option value="" selected=current.is_none()>"None"</option>
                                {profile.team_managers.iter().map(|m| view! {
                                    <option value=m.membership_id.to_string() selected=Some(m.membership_id) == current>{m.name.clone()}</option>
                                }).collect_view()}
                            </select>
                        }.into_any()
                    } else {
                        view! { <p class="static-value" id="profile-manager">{manager_name.clone()}</p> }.into_any()
                    }}
                    <p class="field-error" aria-live="polite">{manager_error}</p>
                </div>
                <div class="field" class:invalid=move || rate_error().is_some()>
                    <label for="profile-rate">"Billing rate per hour"</label>
                    {if admin_fields {
                        view! {
                            <div class="money">
                                <input id="profile-rate" type="text" inputmode="decimal" placeholder="No rate" bind:value=rate />
                                <select aria-label="Currency" on:change=move |ev| currency.set(event_target_value(&ev))>
                                    {CURRENCIES.iter().map(|c| view! {
                                        <option value=*c selected=*c == profile.currency>{*c}</option>
                                    }).collect_view()}
                                </select>
                            </div>
                        }.into_any()
                    } else {
                        let shown = if profile.billing_rate.is_empty() {
                            "Not set".to_owned()
                        } else {
                            format!("{} {}", profile.billing_rate, profile.currency)
                        };
                        view! { <p class="static-value" id="profile-rate">{shown}</p> }.into_any()
                    }}
                    <p class="field-error" aria-live="polite">{rate_error}</p>
                </div>
            </div>
            <fieldset class="choice-list">
                <legend>"Email notifications"</legend>
                <label class="checkbox"><input type="checkbox" bind:checked=weekly />"Weekly summary of tracked time"</label>
                <label class="checkbox"><input type="checkbox" bind:checked=reminders />"Reminder when a timer runs past the working day"</label>
            </fieldset>
            {move || form_error().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
            {move || saved.get().then(|| view! { <p class="notice" role="status">"Profile saved."</p> })}
            <div class="actions">
                <button type="submit" class="button button-primary" disabled=move || busy.get()>"Save profile"</button>
            </div>
        </form>
    }
}

/// The photo, with "Upload" and "Remove". The browser refuses files over
/// 2 MB or of another type before sending; the server checks the content.
#[component]
fn PhotoField(profile: ProfileView, reload: Callback<()>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let target = (!profile.is_self).then_some(profile.membership_id);
    let url = match target {
        Some(id) => format!("/api/photo?member={id}"),
        None => "/api/photo".to_owned(),
    };
    let url = StoredValue::new(url);
    let send = move |file: Option<web_sys::File>| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = send_photo(&url.get_value(), file).await;
            let _ = busy.try_set(false);
            match result {
                Ok(()) => reload.run(()),
                Err(message) => {
                    let _ = error.try_set(Some(message));
                }
            }
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        input.set_value("");
        if file.size() > MAX_PHOTO_BYTES {
            error.set(Some("A photo can be at most 2 MB.".into()));
            return;
        }
        if !["image/png", "image/jpeg", "image/webp"].contains(&file.type_().as_str()) {
            error.set(Some("Choose a PNG, JPEG or WebP image.".into()));
            return;
        }
        send(Some(file));
    };
    let photo = profile
        .account_id
        .zip(profile.photo_version)
        .map(|(account, version)| format!("/api/photos/{account}.png?v={version}"));
    let has_photo = photo.is_some();
    view! {
        <div class="photo-field">
            {match photo {
                Some(src) => view! { <img class="photo" src=src alt=format!("Photo of {}", profile.name) width="96" height="96" /> }.into_any(),
                None => view! { <span class="avatar photo" aria-hidden="true">{initials(&profile.name)}</span> }.into_any(),
            }}
            // Only the person changes their own photo (it follows their
            // account into every workspace).
            {(profile.is_self && profile.account_id.is_some()).then(|| view! {
                <div class="photo-actions">
                    <label class="button button-small">
                        {if has_photo { "Change photo" } else { "Upload photo" }}
                        <input type="file" class="visually-hidden-file" accept="image/png,image/jpeg,image/webp" on:change=on_file disabled=move || busy.get() />
                    </label>
                    {has_photo.then(|| view! {
                        <button type="button" class="button button-small" on:click=move |_| send(None) disabled=move || busy.get()>"Remove photo"</button>
                    })}
                    <p class="hint">"PNG, JPEG or WebP, up to 2 MB; cropped to a square."</p>
                    <p class="field-error" role="alert">{move || error.get()}</p>
                </div>
            })}
        </div>
    }
}

/// POSTs the file as the body (or DELETEs when None); the server's error
/// message on failure.
async fn send_photo(url: &str, file: Option<web_sys::File>) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let init = web_sys::RequestInit::new();
    match &file {
        Some(file) => {
            init.set_method("POST");
            init.set_body(file);
        }
        None => init.set_method("DELETE"),
    }
    let failed = || "The photo could not be sent. Try again.".to_owned();
    let answer = wasm_bindgen_futures::JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| failed())?;
    let response: web_sys::Response = answer.dyn_into().map_err(|_| failed())?;
    if response.ok() {
        return Ok(());
    }
    if response.status() == 413 {
        return Err("A photo can be at most 2 MB.".into());
    }
    let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(|_| failed())?)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    match serde_json::from_str::<AppError>(&text) {
        Ok(error) => Err(error
            .field_message("photo")
            .unwrap_or_else(|| error.to_string())),
        Err(_) => Err(failed()),
    }
}

/// `/email-change/{token}`: the new address confirms with a button (a POST,
/// so a mail scanner opening the link changes nothing).
#[component]
pub fn EmailChangePage() -> impl IntoView {
    use crate::{
        api::email_change::ConfirmEmailChange,
        components::form::{track_action_errors, FormAlert, ServerErrors},
    };
    use server_fn::ServerFn;
    let params = leptos_router::hooks::use_params_map();
    let token = Memo::new(move |_| params.with(|p| p.get("token").unwrap_or_default()));
    let action = ServerAction::<ConfirmEmailChange>::new();
    let errors = ServerErrors::new("/api/confirm_email_change");
    track_action_errors(action, errors);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(None);
        action.dispatch(ConfirmEmailChange {
            token: token.get_untracked(),
        });
    };
    view! {
        <Title text="Confirm your new email" />
        <main class="auth-page">
            <div class="card narrow">
                <p class="auth-brand"><span class="brand-mark" aria-hidden="true">"T"</span>" Teamroom"</p>
                <h1>"Confirm your new email address"</h1>
                {move || match action.value().get() {
                    Some(Ok(address)) => view! {
                        <p class="notice" role="status" data-testid="email-changed">
                            {format!("Done: your account's address is now {address}. Use it to sign in.")}
                        </p>
                        <a class="button button-primary button-wide" href="/profile">"Back to Teamroom"</a>
                    }.into_any(),
                    _ => view! {
                        <p class="lede">"Your account will use this address to sign in and for mail. The old address is told."</p>
                        <form method="post" action=ConfirmEmailChange::url() on:submit=on_submit>
                            <input type="hidden" name="token" value=move || token.get() />
                            <FormAlert errors />
                            <button type="submit" class="button button-primary button-wide" disabled=move || action.pending().get()>
                                "Confirm my new address"
                            </button>
                        </form>
                    }.into_any(),
                }}
            </div>
        </main>
    }
}

/// "Change email" on one's own profile: the new address and the current
/// password; nothing changes until the new address confirms.
#[component]
fn EmailChangeForm(current: String) -> impl IntoView {
    use crate::{api::email_change::RequestEmailChange, domain::EmailAddress};
    let open = RwSignal::new(false);
    let address = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let server_error = RwSignal::new(None::<AppError>);
    let sent = RwSignal::new(None::<String>);
    let request = ServerAction::<RequestEmailChange>::new();
    Effect::new(move |_| match request.value().get() {
        Some(Ok(to)) => {
            sent.set(Some(to));
            server_error.set(None);
            password.set(String::new());
        }
        Some(Err(e)) => server_error.set(Some(e)),
        None => {}
    });
    let local = move || {
        touched
            .get()
            .then(|| EmailAddress::parse(&address.get()).err())
            .flatten()
    };
    let message = move |field: &'static str| {
        server_error.with(|e| e.as_ref().and_then(|e| e.field_message(field)))
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        if EmailAddress::parse(&address.get_untracked()).is_err() {
            return;
        }
        request.dispatch(RequestEmailChange {
            new_email: address.get_untracked(),
            password: password.get_untracked(),
        });
    };
    view! {
        <div class="field">
            <span class="field-label">"Email"</span>
            <p class="static-value">{current}" "
                <button type="button" class="button-link" on:click=move |_| open.update(|o| *o = !*o)>"Change email"</button>
            </p>
        </div>
        <Show when=move || open.get()>
            <form class="email-change" on:submit=submit novalidate data-testid="email-change">
                <div class="field" class:invalid=move || local().or_else(|| message("new_email")).is_some()>
                    <label for="new-email">"New email address"</label>
                    <input id="new-email" type="email" autocomplete="email" bind:value=address />
                    <p class="field-error" aria-live="polite">{move || local().or_else(|| message("new_email"))}</p>
                </div>
                <div class="field" class:invalid=move || message("password").is_some()>
                    <label for="email-password">"Current password"</label>
                    <input id="email-password" type="password" autocomplete="current-password" bind:value=password />
                    <p class="field-error" aria-live="polite">{move || message("password")}</p>
                </div>
                <button type="submit" class="button">"Send confirmation link"</button>
                {move || sent.get().map(|to| view! {
                    <p class="notice" role="status">{format!("Check {to}: we sent a link. Your address changes when you open it.")}</p>
                })}
            </form>
        </Show>
    }
}

/// "Your sessions": every browser signed in to the account, this one first;
/// end one, or every other.
#[component]
fn SessionsCard() -> impl IntoView {
    use crate::api::sessions::{my_sessions, EndOtherSessions, EndSession};
    let end_action = ServerAction::<EndSession>::new();
    let end_others_action = ServerAction::<EndOtherSessions>::new();
    // The list is read again after either is answered, refused or not.
    let sessions = crate::components::fetched::fetched(move || {
        end_action.version().get();
        end_others_action.version().get();
        my_sessions()
    });
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(result) = end_action.value().get() {
            problem.set(result.err().map(|e| e.to_string()));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = end_others_action.value().get() {
            problem.set(result.err().map(|e| e.to_string()));
        }
    });
    let end_one = move |session_id: i64| {
        end_action.dispatch(EndSession { session_id });
    };
    let end_others = move |_| {
        end_others_action.dispatch(EndOtherSessions {});
    };
    let when = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    view! {
        <section class="card" aria-labelledby="sessions-head" data-testid="sessions">
            <h2 id="sessions-head">"Sessions"</h2>
            <p class="muted small">"Browsers signed in to your account. End any you do not recognise, then change your password."</p>
            {move || problem.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
            {move || match sessions.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) => {
                    let others = list.iter().filter(|s| !s.this_device).count();
                    view! {
                        <ul class="session-list">
                            {list.into_iter().map(|s| {
                                let id = s.id;
                                let this = s.this_device;
                                view! {
                                    <li data-testid="session">
                                        <div class="session-what">
                                            <strong>{s.device.clone()}</strong>
                                            {this.then(|| view! { <span class="badge badge-active badge-this">"This device"</span> })}
                                            <div class="muted session-when">
                                                {format!(
                                                    "{} · signed in {} · last seen {}",
                                                    s.ip.clone().unwrap_or_else(|| "address unknown".into()),
                                                    when(s.signed_in_at),
                                                    when(s.last_seen_at),
                                                )}
                                            </div>
                                        </div>
                                        {(!this).then(|| view! {
                                            <button type="button" class="button" on:click=move |_| end_one(id)>
                                                "End session"
                                            </button>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {(others > 0).then(|| view! {
                            <button type="button" class="button button-stop" on:click=end_others>
                                {format!("End all other sessions ({others})")}
                            </button>
                        })}
                    }.into_any()
                }
            }}
        </section>
    }
}

/// Change one's password: the current one, the new one (checked as typed
/// with the sign-up rules), and whether to sign out every other browser.
#[component]
fn PasswordCard() -> impl IntoView {
    use crate::api::password_reset::ChangePassword;
    let current = RwSignal::new(String::new());
    let fresh = RwSignal::new(String::new());
    let end_others = RwSignal::new(true);
    let problem = RwSignal::new(None::<AppError>);
    let done = RwSignal::new(None::<String>);
    let change = ServerAction::<ChangePassword>::new();
    let busy = change.pending();
    Effect::new(move |_| match change.value().get() {
        Some(Ok(ended)) => {
            problem.set(None);
            current.set(String::new());
            fresh.set(String::new());
            done.set(Some(match ended {
                0 => "Password changed.".to_owned(),
                1 => "Password changed; 1 other session was signed out.".to_owned(),
                n => format!("Password changed; {n} other sessions were signed out."),
            }));
        }
        Some(Err(e)) => problem.set(Some(e)),
        None => {}
    });
    let fresh_problem = crate::components::form::new_password_problem(fresh);
    let local = move || {
        fresh
            .with(|p| !p.is_empty())
            .then(|| fresh_problem.get())
            .flatten()
    };
    let server_field = move |name: &'static str| problem.get().and_then(|e| e.field_message(name));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        if let Some(message) = fresh_problem.get_untracked() {
            problem.set(Some(AppError::field("new_password", message)));
            return;
        }
        change.dispatch(ChangePassword {
            current_password: current.get_untracked(),
            new_password: fresh.get_untracked(),
            end_other_sessions: end_others.get_untracked(),
        });
    };
    view! {
        <section class="card" aria-labelledby="password-head" data-testid="password">
            <h2 id="password-head">"Password"</h2>
            {move || problem.get().filter(|e| !matches!(e, AppError::Validation(_))).map(|e| view! {
                <div class="alert alert-error" role="alert">{e.to_string()}</div>
            })}
            {move || done.get().map(|m| view! { <p class="notice" role="status">{m}</p> })}
            <form class="stack password-form" on:submit=submit novalidate>
                <label class="field">
                    <span class="label">"Current password"</span>
                    <input type="password" name="current_password" autocomplete="current-password"
                        prop:value=move || current.get()
                        on:input=move |ev| current.set(event_target_value(&ev)) />
                    <p class="field-error">{move || server_field("current_password")}</p>
                </label>
                <label class="field">
                    <span class="label">"New password"</span>
                    <input type="password" name="new_password" autocomplete="new-password"
                        prop:value=move || fresh.get()
                        on:input=move |ev| fresh.set(event_target_value(&ev)) />
                    <p class="field-error">{move || local().or_else(|| server_field("new_password"))}</p>
                </label>
                <label class="check">
                    <input type="checkbox" prop:checked=move || end_others.get()
                        on:change=move |ev| end_others.set(event_target_checked(&ev)) />
                    " Sign out my other sessions"
                </label>
                <button type="submit" class="button button-primary" disabled=move || busy.get()>"Change password"</button>
            </form>
        </section>
    }
}
