//! Teamroom: the people side of a team time tracker. This crate is the
//! Leptos app, compiled twice: `ssr` for the server, `hydrate` for the
//! browser.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod domain;
pub mod error;
pub mod page_apps;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;
#[cfg(not(feature = "page-app"))]
use leptos_meta::provide_meta_context;
use leptos_meta::{Link, Meta, Title};
#[cfg(not(feature = "page-app"))]
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

#[cfg(not(feature = "page-app"))]
use crate::{
    components::{layout::SignedInFrame, session::provide_session},
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

/// Wraps `fetch` so a 404 for a file under `/pkg/` (a wasm chunk of an older
/// build) loads the page afresh: the page of the link just clicked (the
/// router fetches a page's chunk before it changes the address), else this
/// one. At most once a minute, so a broken build cannot loop. The failed
/// fetch never settles: the old page does not run a chunk it lacks while it
/// unloads.
#[cfg(feature = "ssr")]
const STALE_CHUNK_RELOAD: &str = "(() => { let clicked = null; \
document.addEventListener('click', (event) => { const link = event.target.closest && event.target.closest('a[href]'); \
if (link && link.origin === location.origin) { clicked = { href: link.href, at: Date.now() }; } }, true); \
const original = window.fetch; \
window.fetch = async (...args) => { const response = await original(...args); \
const url = String(args[0] && args[0].url ? args[0].url : args[0]); \
if (response.status === 404 && url.includes('/pkg/')) { \
const key = 'teamroom-stale-reload'; const last = Number(sessionStorage.getItem(key) || 0); \
if (Date.now() - last > 60000) { sessionStorage.setItem(key, String(Date.now())); \
if (clicked && Date.now() - clicked.at < 10000) { location.assign(clicked.href); } else { location.reload(); } \
return new Promise(() => {}); } } \
return response; }; })();";

/// The HTML document around the app, rendered on the server.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::{HashedStylesheet, MetaTags};

    // The CSP header names this page's nonce, which Leptos puts on its own
    // inline scripts; the after-load script below carries it too.
    server::csp::send_page_policy();
    let path = use_context::<http::request::Parts>()
        .map(|parts| parts.uri.path().to_owned())
        .unwrap_or_default();
    // Sign in, an invitation and the Kiosk run an app of their own, when
    // the build has it (`page_apps`); every other page runs the whole one.
    let page_app = page_apps::PageApp::for_path(&path).and_then(|app| {
        server::page_script::page_app_files(&options, app).map(|files| (app, files))
    });
    // Every page paints from its HTML and stylesheet before its code is
    // fetched (`server::page_script`). Pages opened from an email on a
    // phone (the invitation, the address confirmation) are complete
    // without it: theirs starts when the browser is idle.
    let when_idle = path.starts_with("/invite/") || path.starts_with("/verify-email/");
    let chunk_warmup = server::chunk_warmup::script(&options, &path, page_app.is_some());
    let page_script = match &page_app {
        Some((_, files)) => server::page_script::script_of_page_app(files, when_idle),
        None => server::page_script::script(&options, &path, when_idle),
    };
    let body = match page_app.map(|(app, _)| app) {
        Some(page_apps::PageApp::SignIn) => view! { <page_apps::SignInApp /> }.into_any(),
        Some(page_apps::PageApp::AcceptInvite) => {
            view! { <page_apps::AcceptInviteApp /> }.into_any()
        }
        Some(page_apps::PageApp::Kiosk) => view! { <page_apps::KioskApp /> }.into_any(),
        None => view! { <App /> }.into_any(),
    };
    let nonce = use_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                // Named with a content hash when cargo-leptos hashes files, so
                // it can be cached for good (see `server::static_files`).
                <HashedStylesheet options id="leptos" />
                // Before the app's script: a page opened before a deploy asks
                // for chunk names the new build no longer has (404). It reloads
                // once to get the new build instead of staying dead.
                // Before it too: the warm-up keeps the unwrapped `fetch`.
                {chunk_warmup.map(|script| view! { <script nonce=nonce.clone()>{script}</script> })}
                <script nonce=nonce.clone()>{STALE_CHUNK_RELOAD}</script>
                <script type="module" nonce=nonce>{page_script}</script>
                <MetaTags />
            </head>
            <body>
                {body}
            </body>
        </html>
    }
}

/// What every app puts in the head: the icon, the description, the title's
/// form.
#[component]
fn DocumentHead() -> impl IntoView {
    view! {
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
        <Meta name="description" content="Teamroom: invite, organise and look after the people in your time-tracking workspace." />
        <Meta name="theme-color" content="#1f5fbf" />
        <Title formatter=|text: String| if text.is_empty() { "Teamroom".to_owned() } else { format!("{text} · Teamroom") } />
    }
}

/// The whole app: every page, each in a split of its own or of its group.
#[cfg(not(feature = "page-app"))]
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_session();
    components::timer::provide_timer();
    view! {
        <DocumentHead />
        <Router>
            <Routes fallback=|| view! { <NotFound /> <MarkHydrated /> }>
                <Route path=path!("/") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/signin") view={Lazy::<SignInRoute>::new()} />
                <Route path=path!("/signup") view={Lazy::<SignUpRoute>::new()} />
                <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()} />
                <Route path=path!("/signin/two-factor") view={Lazy::<TwoFactorRoute>::new()} />
                <Route path=path!("/reset-password/:token") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view={Lazy::<AcceptInviteRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/verify-email/:token") view={Lazy::<VerifyEmailRoute>::new()} />
                <Route path=path!("/email-change/:token") view={Lazy::<EmailChangeRoute>::new()} />
                // Every signed-in page sits in the frame: the header and the
                // session's redirects are the parent's, the page its Outlet.
                <ParentRoute path=path!("") view={Lazy::<SignedInFrameRoute>::new()} ssr=SsrMode::Async>
                    <Route path=path!("/team/import") view={Lazy::<ImportRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/workspaces/new") view={Lazy::<NewWorkspaceRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/team") view={Lazy::<TeamRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/team/groups") view={Lazy::<GroupsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/team/projects") view={Lazy::<ProjectsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/team/members/:id") view={Lazy::<MemberRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/time") view={Lazy::<TimeRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/reports") view={Lazy::<ReportsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/profile") view={Lazy::<ProfileRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/accounts") view={Lazy::<AccountsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async />
                </ParentRoute>
                <Route path=path!("/kiosk") view={Lazy::<KioskRoute>::new()} ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// Marks `<body data-hydrated>` once the page's own code has hydrated (its
/// chunk arrives after the core's): browser tests wait for it before they
/// click.
#[component]
fn MarkHydrated() -> impl IntoView {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// A page whose code is a split of its own when built with `cargo leptos
/// build --split`: the browser fetches the shared core plus the splits of
/// the page it opens, and other splits when they are first needed. Without
/// `--split` it is one binary. Only the pages where weight matters most
/// (see `page_group!` for the others).
#[cfg(not(feature = "page-app"))]
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> <MarkHydrated /> }.into_any()
            }
        }
    )*};
}

/// Pages that share one split. wasm-split puts each function that several
/// splits use into a file per set of splits that use it, so every split
/// multiplies the small files each page fetches (a phone on a slow link
/// pays a round trip per few of them, and each is a preload in the head).
/// A group is one `#[lazy]` function choosing the page; each route is a
/// thin `LazyRoute` calling it (no `#[lazy_route]`: that would make each
/// route a split of its own). `$preload` is the function `#[lazy]` makes
/// to fetch the split early (`__preload_` and the group's name).
#[cfg(not(feature = "page-app"))]
macro_rules! page_group {
    ($group:ident, $preload:ident, $which:ident { $($route:ident => $page:ident),* $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(clippy::enum_variant_names)]
        enum $which {
            $($page),*
        }

        #[leptos::lazy]
        fn $group(page: $which) -> AnyView {
            let page = match page {
                $($which::$page => view! { <$page /> }.into_any()),*
            };
            view! { {page} <MarkHydrated /> }.into_any()
        }

        $(
            struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    $group($which::$page).await
                }

                async fn preload() {
                    #[cfg(target_arch = "wasm32")]
                    $preload().await;
                }
            }
        )*
    };
}

/// The signed-in frame (header, bell, timer, banners) and the Team page
/// share one split. The frame is a chunk of its own because, as a plain
/// parent route, its code sat in the shared core every public page (sign
/// in, an invitation, the Kiosk) downloads. The Team page is in it because
/// it is where signing in lands: wasm-split makes a file for every set of
/// splits that share a function, so the frame and Team as two splits cost
/// a cold Team page about twice the files (113 against 58 measured by
/// `cargo xtask bench wasm`) for fewer bytes, and each file is a fetch, a compile and
/// an instantiation on a phone's main thread. The price: a signed-in page
/// opened cold elsewhere fetches Team's code too.
#[cfg(not(feature = "page-app"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FramePart {
    Frame,
    Team,
}

#[cfg(not(feature = "page-app"))]
#[leptos::lazy]
fn signed_in_frame(part: FramePart) -> AnyView {
    match part {
        FramePart::Frame => view! { <SignedInFrame /> }.into_any(),
        FramePart::Team => view! { <TeamPage /> <MarkHydrated /> }.into_any(),
    }
}

/// A route whose view is a part of the frame's split (see `FramePart`).
#[cfg(not(feature = "page-app"))]
macro_rules! frame_routes {
    ($($route:ident => $part:ident),* $(,)?) => {$(
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                signed_in_frame(FramePart::$part).await
            }

            async fn preload() {
                #[cfg(target_arch = "wasm32")]
                __preload_signed_in_frame().await;
            }
        }
    )*};
}

#[cfg(not(feature = "page-app"))]
frame_routes! {
    SignedInFrameRoute => Frame,
    TeamRoute => Team,
}

// The small pages of someone not signed in; sign in keeps its own split,
// the lightest a phone can fetch.
#[cfg(not(feature = "page-app"))]
page_group!(signed_out_page, __preload_signed_out_page, SignedOutPage {
    HomeRoute => HomePage,
    SignUpRoute => SignUpPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    TwoFactorRoute => TwoFactorPage,
    ResetPasswordRoute => ResetPasswordPage,
    VerifyEmailRoute => VerifyEmailPage,
    EmailChangeRoute => EmailChangePage,
});

// Every signed-in page but Team (where signing in lands) and a member's
// card (opened from Team all day), both kept light: opening one fetches
// them all, so the next is instant.
#[cfg(not(feature = "page-app"))]
page_group!(signed_in_page, __preload_signed_in_page, SignedInPage {
    ImportRoute => ImportPage,
    NewWorkspaceRoute => NewWorkspacePage,
    GroupsRoute => GroupsPage,
    ProjectsRoute => ProjectsPage,
    TimeRoute => TimePage,
    ReportsRoute => ReportsPage,
    AuditRoute => AuditPage,
    ProfileRoute => ProfilePage,
    AccountsRoute => AccountsPage,
    SettingsRoute => SettingsPage,
});

#[cfg(not(feature = "page-app"))]
lazy_pages! {
    SignInRoute => SignInPage,
    AcceptInviteRoute => AcceptInvitePage,
    MemberRoute => MemberPage,
    KioskRoute => KioskPage,
}
