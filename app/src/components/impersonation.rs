//! The banner on every signed-in page while an Owner views the workspace as
//! someone ("Log in as user"): who, time left, "Back to my view".

use std::time::Duration;

use leptos::prelude::*;
use server_fn::ServerFn;

use crate::api::impersonation::{EndImpersonation, ViewingAs};

/// Minutes left until `ends_at_ms`, by this browser's clock (rounded up).
pub fn minutes_left(ends_at_ms: i64, now_ms: f64) -> i64 {
    ((ends_at_ms as f64 - now_ms) / 60_000.0).ceil().max(0.0) as i64
}

/// "Back to my view" is a plain form post (like Sign out), so it works
/// before hydration and lands on a fresh page as the Owner. The time left
/// is shown only in the browser (empty on the server and while hydrating,
/// so both render the same); when it runs out the page reloads once, and
/// the server returns the Owner to their own view.
#[component]
pub fn ViewingAsBanner(viewing: ViewingAs) -> impl IntoView {
    let left = RwSignal::new(None::<i64>);
    let ends_at_ms = viewing.ends_at_ms;
    Effect::new(move |_| {
        let now = js_sys::Date::now();
        let _ = left.try_set(Some(minutes_left(ends_at_ms, now)));
        // Reload only if the view was still running when the page came up:
        // a browser whose clock runs ahead must not reload for ever.
        let running_at_mount = (ends_at_ms as f64) > now;
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let now = js_sys::Date::now();
                let _ = left.try_set(Some(minutes_left(ends_at_ms, now)));
                if running_at_mount && now > ends_at_ms as f64 + 3_000.0 {
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href("/");
                    }
                }
            },
            Duration::from_secs(10),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let time_left = move || {
        left.get().map(|n| {
            let text = if n <= 1 {
                " — less than a minute left".to_owned()
            } else {
                format!(" — {n} min left")
            };
            view! { <span class="impersonation-left" data-testid="impersonation-left">{text}</span> }
        })
    };
    view! {
        <div class="impersonation-banner" role="status" data-testid="impersonation-banner">
            <span class="impersonation-text">
                "Viewing as "<strong>{viewing.name.clone()}</strong>" ("{viewing.email.clone()}")"
                {time_left}
            </span>
            <form method="post" action=EndImpersonation::url()>
                <button type="submit" class="button impersonation-back">"Back to my view"</button>
            </form>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::minutes_left;

    #[test]
    fn minutes_left_round_up_and_stop_at_zero() {
        assert_eq!(minutes_left(30 * 60_000, 0.0), 30);
        assert_eq!(minutes_left(30 * 60_000, 1.0), 30);
        assert_eq!(minutes_left(60_000, 59_999.0), 1);
        assert_eq!(minutes_left(60_000, 120_000.0), 0);
    }
}

/// "Log in as user" on or off: the Owner's switch on the Settings page.
/// Loaded in the browser only (like the bell), so the page hydrates the
/// same whatever the answer; shown to the Owner only.
#[component]
pub fn ImpersonationPolicy() -> impl IntoView {
    use crate::api::impersonation::{impersonation_setting, set_impersonation_allowed};
    use crate::components::session::use_session;
    let session = use_session();
    let version = RwSignal::new(0_u32);
    let setting = crate::components::fetched::fetched(move || {
        version.get();
        impersonation_setting()
    });
    let problem = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    move || {
        let is_owner = session
            .signed_in()
            .and_then(|me| me.workspace)
            .is_some_and(|w| w.positions.owner);
        let current = setting.get().and_then(Result::ok);
        let (true, Some(current)) = (is_owner, current) else {
            return None;
        };
        let toggle = move |ev: leptos::ev::Event| {
            let wanted = event_target_checked(&ev);
            saving.set(true);
            leptos::task::spawn_local(async move {
                match set_impersonation_allowed(wanted).await {
                    Ok(()) => problem.set(None),
                    Err(e) => problem.set(Some(e.to_string())),
                }
                saving.set(false);
                version.update(|v| *v += 1);
            });
        };
        Some(view! {
            <section class="card" data-testid="impersonation-policy">
                <h2>"Log in as user"</h2>
                <label class="check">
                    <input type="checkbox" prop:checked=current.allowed disabled=move || saving.get() on:change=toggle />
                    " The Owner may view this workspace as one of its members"
                </label>
                <p class="muted small">
                    {if current.enterprise {
                        "From the Accounts tab, for a limited time, with the member's password, two-factor, sessions and API keys out of reach. Each view is audited and the member is told afterwards. Turning this off ends any view at once."
                    } else {
                        "Available on the Enterprise plan."
                    }}
                </p>
                {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </section>
        })
    }
}
