//! The signed-in frame: header with workspace switcher, navigation and the
//! person; redirects to sign-in when there is no session.

use leptos::prelude::*;
use leptos_router::{
    components::{Outlet, Redirect, A},
    hooks::{use_location, use_navigate},
};
use server_fn::ServerFn;

use crate::{
    api::{
        auth::{Me, SignOut},
        workspaces::SwitchWorkspace,
    },
    components::session::use_session,
    domain::Permission,
    error::AppError,
};

/// Up to two initials for an avatar.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// Where a signed-in page sends the person instead, if anywhere: people
/// without a workspace create one first, and an Owner or Admin who must
/// turn on two-factor sees only their profile until they do.
pub fn frame_redirect(me: &Me, path: &str) -> Option<&'static str> {
    const CREATE_WORKSPACE: &str = "/workspaces/new";
    const PROFILE: &str = "/profile";
    if me.workspace.is_none() && path != CREATE_WORKSPACE {
        Some(CREATE_WORKSPACE)
    } else if me.must_enrol_two_factor && path != PROFILE {
        Some(PROFILE)
    } else {
        None
    }
}

/// The signed-in frame, a parent route around every signed-in page: the
/// header and the session's redirects wait for the session, while the
/// page itself sits in `<main>` outside any of the frame's `Suspense`, so
/// a page's resources and `Suspense` are its own (a page inside the
/// frame's `Suspend` hydrated out of step). The header stays mounted
/// while people move between pages.
#[component]
pub fn SignedInFrame() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        session.recheck_after_navigation();
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                session.me.await.ok().map(|me| view! { <Header me /> })
            })}
        </Transition>
        <Suspense fallback=|| ()>
            {move || {
                let path = location.pathname.get();
                Suspend::new(async move {
                    match session.me.await {
                        Err(AppError::Unauthenticated) => {
                            view! { <Redirect path="/signin" /> }.into_any()
                        }
                        Err(error) => view! {
                            <div class="content">
                                <div class="alert alert-error" role="alert">{error.to_string()}</div>
                            </div>
                        }.into_any(),
                        Ok(me) => match frame_redirect(&me, &path) {
                            Some(to) => view! { <Redirect path=to /> }.into_any(),
                            None => ().into_any(),
                        },
                    }
                })
            }}
        </Suspense>
        <main id="main" class="content"><Outlet /></main>
    }
}

#[component]
fn Header(me: Me) -> impl IntoView {
    let navigate_to_new = use_navigate();
    let switch = ServerAction::<SwitchWorkspace>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = switch.value().get() {
            // A whole new workspace: load the page afresh rather than
            // re-render this frame from inside itself (which disposed the
            // header mid-update and panicked).
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href("/team");
            }
        }
    });
    let on_switch = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if value == "new" {
            navigate_to_new("/workspaces/new", Default::default());
        } else if let Ok(workspace_id) = value.parse::<i64>() {
            switch.dispatch(SwitchWorkspace { workspace_id });
        }
    };
    let current_id = me.workspace.as_ref().map(|w| w.id);
    let show_accounts = me.can(Permission::AccountsTab);
    let show_reports = me.can(Permission::ViewReports);
    let show_audit = me.can(Permission::ViewAuditLog);
    let role = me
        .workspace
        .as_ref()
        .map(|w| w.positions.headline().label())
        .unwrap_or("");
    let workspaces = me.workspaces.clone();
    // While the Owner views as someone the view is pinned to this
    // workspace: no switcher (the server refuses switching anyway).
    let viewing_as = me.viewing_as.clone();
    let show_switcher = viewing_as.is_none();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        {viewing_as.map(|viewing| {
            view! { <crate::components::impersonation::ViewingAsBanner viewing /> }.into_any()
        })}
        <header class="topbar">
            <div class="topbar-row">
                <a class="brand" href="/team">
                    <span class="brand-mark" aria-hidden="true">"T"</span>
                    <span class="brand-name">"Teamroom"</span>
                </a>
                {show_switcher.then(|| view! {
                    <label class="switcher">
                        <span class="visually-hidden">"Workspace"</span>
                        <select name="workspace" on:change=on_switch>
                            {workspaces
                                .into_iter()
                                .map(|w| {
                                    let selected = Some(w.id) == current_id;
                                    view! { <option value=w.id.to_string() selected=selected>{w.name}</option> }
                                })
                                .collect_view()}
                            <option value="new">"+ New workspace"</option>
                        </select>
                    </label>
                }.into_any())}
                // Type-erased: the header's view type is otherwise too deep
                // for the compiler's default recursion limit.
                {view! { <crate::components::timer::HeaderTimer /> }.into_any()}
                {view! { <crate::components::bell::BellMenu /> }.into_any()}
                <div class="person">
                    <span class="avatar" aria-hidden="true">{initials(&me.name)}</span>
                    <span class="person-text">
                        <a class="person-name" href="/profile">{me.name.clone()}</a>
                        <span class="person-role">{role}</span>
                    </span>
                    <form method="post" action=SignOut::url()>
                        <button type="submit" class="button button-quiet">"Sign out"</button>
                    </form>
                </div>
            </div>
            <nav class="mainnav" aria-label="Main">
                <A href="/team">"Team"</A>
                <A href="/time">"Time"</A>
                {show_reports.then(|| view! { <A href="/reports">"Reports"</A> })}
                {show_accounts.then(|| view! { <A href="/accounts">"Accounts"</A> })}
                {show_audit.then(|| view! { <A href="/audit">"Audit log"</A> })}
                <A href="/settings">"Settings"</A>
            </nav>
        </header>
    }
}

#[cfg(test)]
mod tests {
    use super::{frame_redirect, initials};
    use crate::{
        api::auth::{CurrentWorkspace, Me},
        domain::{Plan, Positions},
    };

    fn me(workspace: bool, must_enrol_two_factor: bool) -> Me {
        Me {
            account_id: 1,
            name: "Ada".into(),
            email: "ada@example.com".into(),
            workspace: workspace.then(|| CurrentWorkspace {
                id: 1,
                name: "Acme".into(),
                plan: Plan::Free,
                positions: Positions {
                    admin: true,
                    ..Positions::default()
                },
                require_two_factor: must_enrol_two_factor,
            }),
            workspaces: Vec::new(),
            must_enrol_two_factor,
            viewing_as: None,
        }
    }

    #[test]
    fn the_frame_sends_people_without_a_workspace_to_create_one() {
        let no_workspace = me(false, false);
        assert_eq!(
            frame_redirect(&no_workspace, "/team"),
            Some("/workspaces/new")
        );
        assert_eq!(
            frame_redirect(&no_workspace, "/profile"),
            Some("/workspaces/new")
        );
        assert_eq!(frame_redirect(&no_workspace, "/workspaces/new"), None);
    }

    #[test]
    fn an_admin_who_must_enrol_two_factor_sees_only_the_profile() {
        let must_enrol = me(true, true);
        assert_eq!(frame_redirect(&must_enrol, "/team"), Some("/profile"));
        assert_eq!(
            frame_redirect(&must_enrol, "/workspaces/new"),
            Some("/profile")
        );
        assert_eq!(frame_redirect(&must_enrol, "/profile"), None);
        assert_eq!(frame_redirect(&me(true, false), "/team"), None);
    }

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("ada lovelace byron"), "AL");
        assert_eq!(initials("Zoë"), "Z");
        assert_eq!(initials("  "), "");
    }
}
