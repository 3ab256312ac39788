//! The bell in the header: notices for the signed-in person (e.g. an
//! Owner viewed Teamroom as them; Dismiss) and invitations waiting for them
//! (Accept / Decline), with an unread count. Invitations are shown only to
//! a confirmed address; until then the bell offers the confirmation mail.

use leptos::prelude::*;

use crate::{
    api::{
        bell::{answer_invitation, my_invitations, Bell},
        email_verification::resend_verification,
        notices::{dismiss_notice, my_notices, BellNotice},
    },
    components::session::use_session,
    error::AppError,
};

#[component]
pub fn BellMenu() -> impl IntoView {
    let version = RwSignal::new(0_u32);
    // Fetched by the browser only, like the Team page's count: the header
    // then hydrates the same whatever the answer.
    let bell = crate::components::fetched::fetched(move || {
        version.get();
        my_invitations()
    });
    let shown: RwSignal<Option<Result<Bell, AppError>>> = RwSignal::new(None);
    Effect::new(move |_| shown.set(bell.get()));
    let notices = crate::components::fetched::fetched(move || {
        version.get();
        my_notices()
    });
    let shown_notices: RwSignal<Vec<BellNotice>> = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        if let Some(Ok(list)) = notices.get() {
            shown_notices.set(list);
        }
    });
    let open = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let session = use_session();

    let unread = move || {
        shown
            .get()
            .and_then(Result::ok)
            .map_or(0, |b| b.invitations.len())
            + shown_notices.with(Vec::len)
    };
    let dismiss = move |notice_id: i64| {
        leptos::task::spawn_local(async move {
            match dismiss_notice(notice_id).await {
                Ok(()) => version.update(|v| *v += 1),
                Err(error) => message.set(Some(error.to_string())),
            }
        });
    };
    let answer = move |workspace_id: i64, invitation_id: i64, accept: bool| {
        leptos::task::spawn_local(async move {
            match answer_invitation(workspace_id, invitation_id, accept).await {
                Ok(()) => {
                    message.set(Some(if accept {
                        "Invitation accepted: the workspace is now in your switcher.".into()
                    } else {
                        "Invitation declined.".into()
                    }));
                    version.update(|v| *v += 1);
                    if accept {
                        session.refresh();
                    }
                }
                Err(error) => message.set(Some(error.to_string())),
            }
        });
    };
    let resend = move |_| {
        leptos::task::spawn_local(async move {
            message.set(Some(match resend_verification().await {
                Ok(()) => "A new confirmation link is on its way.".into(),
                Err(error) => error.to_string(),
            }));
        });
    };

    view! {
        <div class="bell">
            <button
                type="button"
                class="bell-button"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                aria-controls="bell-panel"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <svg class="bell-icon" aria-hidden="true" viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                    <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
                    <path d="M13.7 21a2 2 0 0 1-3.4 0" />
                </svg>
                <span class="visually-hidden">"Notifications"</span>
                {move || {
                    let n = unread();
                    (n > 0).then(|| view! {
                        <span class="bell-count" data-testid="bell-count">{n}<span class="visually-hidden">" unread"</span></span>
                    })
                }}
            </button>
            <div id="bell-panel" class="bell-panel" role="region" aria-label="Notifications" hidden=move || !open.get()>
                {move || message.get().map(|m| view! { <p class="bell-message" role="status">{m}</p> })}
                {move || {
                    let list = shown_notices.get();
                    (!list.is_empty()).then(|| view! {
                        <ul class="bell-list">
                            {list.into_iter().map(|notice| {
                                let id = notice.id;
                                view! {
                                    <li class="bell-item bell-notice" data-testid="bell-notice">
                                        <p>{notice.body}</p>
                                        <div class="actions">
                                            <button type="button" class="button" on:click=move |_| dismiss(id)>"Dismiss"</button>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    })
                }}
                {move || match shown.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(error)) => view! { <p class="muted">{error.to_string()}</p> }.into_any(),
                    Some(Ok(bell)) if !bell.verified => view! {
                        <p>"Confirm your email address ("{bell.email}") to see invitations sent to it."</p>
                        <button type="button" class="button" on:click=resend>"Send the link again"</button>
                    }.into_any(),
                    Some(Ok(bell)) if bell.invitations.is_empty() => {
                        if shown_notices.with(Vec::is_empty) {
                            view! { <p class="muted">"No new notifications."</p> }.into_any()
                        } else {
                            ().into_any()
                        }
                    }
                    Some(Ok(bell)) => view! {
                        <ul class="bell-list">
                            {bell.invitations.into_iter().map(|invitation| {
                                let (ws, id) = (invitation.workspace_id, invitation.invitation_id);
                                let who = invitation.inviter_name.clone().unwrap_or_else(|| "Someone".into());
                                view! {
                                    <li class="bell-item">
                                        <p><strong>{who}</strong>" invited you to "<strong>{invitation.workspace_name.clone()}</strong></p>
                                        <div class="actions">
                                            <button type="button" class="button button-primary" on:click=move |_| answer(ws, id, true)>"Accept"</button>
                                            <button type="button" class="button" on:click=move |_| answer(ws, id, false)>"Decline"</button>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
            </div>
        </div>
    }
}
