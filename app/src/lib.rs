//! Teamroom: the people side of a team time tracker. This crate is the
//! Leptos app, compiled twice: `ssr` for the server, `hydrate` for the
//! browser.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    components::session::provide_session,
    pages::{
        accounts::AccountsPage,
        audit::AuditPage,
        auth::SignInPage,
        auth::SignUpPage,
        groups::{GroupsPage, ProjectsPage},
        home::HomePage,
        import::ImportPage,
        invite::{AcceptInvitePage, VerifyEmailPage},
        kiosk::KioskPage,
        member::MemberPage,
        password_reset::{ForgotPasswordPage, ResetPasswordPage},
        profile::{EmailChangePage, ProfilePage},
        reports::ReportsPage,
        settings::SettingsPage,
        team::TeamPage,
        time::TimePage,
        two_factor::TwoFactorPage,
        workspace::NewWorkspacePage,
        NotFound,
    },
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The CSP header names this page's nonce, which Leptos puts on its own
    // inline scripts; the after-load script below carries it too.
    #[cfg(feature = "ssr")]
    server::csp::send_page_policy();
    // Pages opened from an email on a phone (the invitation, the address
    // confirmation) are complete without the app's script: it is fetched
    // only after the page has loaded and the browser is idle, with no
    // preload hints, so it never competes with the first paint on a slow
    // connection. Other pages hydrate at once.
    let path = use_context::<http::request::Parts>()
        .map(|parts| parts.uri.path().to_owned())
        .unwrap_or_default();
    let after_load = path.starts_with("/invite/") || path.starts_with("/verify-email/");
    let scripts = if after_load {
        let pkg = format!("/{}/{}", options.site_pkg_dir, options.output_name);
        let script = format!(
            "window.addEventListener('load', () => {{ const go = () => import('{pkg}.js')\
             .then(m => m.default({{ module_or_path: '{pkg}.wasm' }}).then(() => m.hydrate())); \
             if ('requestIdleCallback' in window) {{ requestIdleCallback(go, {{ timeout: 2000 }}); }} \
             else {{ setTimeout(go, 1); }} }});"
        );
        view! { <script type="module" nonce=leptos::nonce::use_nonce()>{script}</script> }
            .into_any()
    } else {
        view! { <HydrationScripts options=options.clone() /> }.into_any()
    };
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                {scripts}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_session();
    components::timer::provide_timer();
    // Lets browser tests wait until the page is interactive.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/teamroom.css" />
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
        <Meta name="description" content="Teamroom: invite, organise and look after the people in your time-tracking workspace." />
        <Meta name="theme-color" content="#1f5fbf" />
        <Title formatter=|text: String| if text.is_empty() { "Teamroom".to_owned() } else { format!("{text} · Teamroom") } />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                <Route path=path!("/signin") view=SignInPage />
                <Route path=path!("/signup") view=SignUpPage />
                <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                <Route path=path!("/signin/two-factor") view=TwoFactorPage />
                <Route path=path!("/reset-password/:token") view=ResetPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view=AcceptInvitePage ssr=SsrMode::Async />
                <Route path=path!("/verify-email/:token") view=VerifyEmailPage />
                <Route path=path!("/team/import") view=ImportPage ssr=SsrMode::Async />
                <Route path=path!("/workspaces/new") view=NewWorkspacePage ssr=SsrMode::Async />
                <Route path=path!("/team") view=TeamPage ssr=SsrMode::Async />
                <Route path=path!("/team/groups") view=GroupsPage ssr=SsrMode::Async />
                <Route path=path!("/team/projects") view=ProjectsPage ssr=SsrMode::Async />
                <Route path=path!("/team/members/:id") view=MemberPage ssr=SsrMode::Async />
                <Route path=path!("/time") view=TimePage ssr=SsrMode::Async />
                <Route path=path!("/reports") view=ReportsPage ssr=SsrMode::Async />
                <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async />
                <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                <Route path=path!("/email-change/:token") view=EmailChangePage />
                <Route path=path!("/kiosk") view=KioskPage ssr=SsrMode::Async />
                <Route path=path!("/accounts") view=AccountsPage ssr=SsrMode::Async />
                <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
