//! The three pages people most often open cold on a phone (sign in, an
//! invitation from a mail, the Kiosk on a shared tablet) each run an app of
//! their own: the router with that one page, built into a wasm file of its
//! own (`frontend`'s `sign-in-app`, `invitation-app` and `kiosk-app`
//! features, built by `cargo xtask`). The whole app's shared core and the
//! page's chunks weigh 300-360 KB of brotli; an app of one page, 195-237 KB
//! (README, "Page weight").
//!
//! The server renders the page with the same app it hydrates with (`shell`),
//! so the two always agree. A link or a redirect to any other page loads
//! that page in full, where the whole app takes over (`leave_by_full_loads`);
//! the router's fallback does the same for any other way there.

use leptos::prelude::*;
use leptos_meta::provide_meta_context;
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    components::session::provide_session,
    pages::{auth::SignInPage, invite::AcceptInvitePage, kiosk::KioskPage, NotFound},
    DocumentHead, MarkHydrated,
};

/// A page with an app of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageApp {
    SignIn,
    AcceptInvite,
    Kiosk,
}

impl PageApp {
    pub const ALL: [PageApp; 3] = [PageApp::SignIn, PageApp::AcceptInvite, PageApp::Kiosk];

    /// The start of its files' names (`sign-in-app.<hash>.js`), which is
    /// also the `frontend` feature that builds it.
    pub fn name(self) -> &'static str {
        match self {
            PageApp::SignIn => "sign-in-app",
            PageApp::AcceptInvite => "invitation-app",
            PageApp::Kiosk => "kiosk-app",
        }
    }

    /// Its route, as the app's `Route` has it (`:token` is one segment).
    pub fn route(self) -> &'static str {
        match self {
            PageApp::SignIn => "/signin",
            PageApp::AcceptInvite => "/invite/:token",
            PageApp::Kiosk => "/kiosk",
        }
    }

    /// The page app whose route `path` is, exactly: a trailing slash or an
    /// empty segment is left to the whole app, so the server never renders
    /// a page app on a path its router would not take.
    pub fn for_path(path: &str) -> Option<PageApp> {
        PageApp::ALL
            .into_iter()
            .find(|app| is_route(app.route(), path))
    }
}

/// Whether `path` is exactly a page at `route` (a Leptos path: `:name` is
/// any one non-empty segment).
pub fn is_route(route: &str, path: &str) -> bool {
    let want: Vec<&str> = route.split('/').collect();
    let have: Vec<&str> = path.split('/').collect();
    want.len() == have.len()
        && want.iter().zip(&have).all(|(part, segment)| {
            if part.starts_with(':') {
                !segment.is_empty()
            } else {
                part == segment
            }
        })
}

/// Where a page app's router finds no route: a link or a redirect to
/// another page, which then loads in full. Never a reload of the page the
/// app was opened on (the server only renders a page app on its route, so
/// that would be a loop): "not found" there.
#[component]
fn ElsewhereInFull() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let location = leptos_router::hooks::use_location();
        let opened_on = use_context::<OpenedOn>();
        Effect::new(move |_| {
            let path = location.pathname.get();
            let search = location.search.get();
            let hash = location.hash.get();
            if opened_on.as_ref().is_none_or(|first| first.0 == path) {
                return;
            }
            let mut target = path;
            if !search.is_empty() {
                target.push('?');
                target.push_str(&search);
            }
            if !hash.is_empty() {
                if !hash.starts_with('#') {
                    target.push('#');
                }
                target.push_str(&hash);
            }
            // On this origin, whatever the path looks like: a path such as
            // `//elsewhere.example` alone would be read as another host.
            let here = leptos::prelude::location();
            if let Ok(origin) = here.origin() {
                let _ = here.assign(&format!("{origin}{target}"));
            }
        });
    }
    view! { <NotFound /> }
}

/// Hands every way out of the page app to the browser, before its router
/// sees it: a click on a link to another page (the router would otherwise
/// find no route and show its fallback first), and a server function's
/// redirect (signing in, accepting an invitation). Both load the new page
/// in full.
#[cfg(feature = "hydrate")]
fn leave_by_full_loads(app: PageApp) {
    use wasm_bindgen::{closure::Closure, JsCast};

    // The first hook set is the one kept: set before the router sets its own.
    let _ = server_fn::redirect::set_redirect_hook(|to: &str| {
        let _ = location().assign(to);
    });
    let on_click =
        Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |event: web_sys::MouseEvent| {
            if event.default_prevented()
                || event.button() != 0
                || event.meta_key()
                || event.ctrl_key()
                || event.shift_key()
                || event.alt_key()
            {
                return;
            }
            let Some(link) = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
                .and_then(|element| element.closest("a[href]").ok().flatten())
                .and_then(|element| element.dyn_into::<web_sys::HtmlAnchorElement>().ok())
            else {
                return;
            };
            let same_origin = location()
                .origin()
                .is_ok_and(|origin| origin == link.origin());
            if !same_origin
                || !link.target().is_empty()
                || link.has_attribute("download")
                || PageApp::for_path(&link.pathname()) == Some(app)
            {
                return;
            }
            event.prevent_default();
            let _ = location().assign(&link.href());
        });
    // Capture, on the document: before the router's listener on the window.
    let _ = document().add_event_listener_with_callback_and_bool(
        "click",
        on_click.as_ref().unchecked_ref(),
        true,
    );
    // Kept for the page's life, like the router's own listener.
    on_click.forget();
}

/// The path the page app was started on.
#[cfg(feature = "hydrate")]
#[derive(Clone)]
struct OpenedOn(String);

macro_rules! page_app {
    ($(#[$doc:meta])* $app:ident, $which:expr, $path:expr, $page:ident, $ssr:expr) => {
        $(#[$doc])*
        #[component]
        pub fn $app() -> impl IntoView {
            provide_meta_context();
            provide_session();
            #[cfg(feature = "hydrate")]
            {
                provide_context(OpenedOn(location().pathname().unwrap_or_default()));
                leave_by_full_loads($which);
            }
            view! {
                <DocumentHead />
                <Router>
                    <Routes fallback=ElsewhereInFull>
                        <Route path=$path view=|| view! { <$page /> <MarkHydrated /> } ssr=$ssr />
                    </Routes>
                </Router>
            }
        }
    };
}

page_app!(
    /// Sign in, alone.
    SignInApp,
    PageApp::SignIn,
    path!("/signin"),
    SignInPage,
    SsrMode::OutOfOrder
);
page_app!(
    /// Accepting an invitation, alone.
    AcceptInviteApp,
    PageApp::AcceptInvite,
    path!("/invite/:token"),
    AcceptInvitePage,
    SsrMode::Async
);
page_app!(
    /// The Kiosk, alone.
    KioskApp,
    PageApp::Kiosk,
    path!("/kiosk"),
    KioskPage,
    SsrMode::Async
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_app_takes_exactly_its_route() {
        assert_eq!(PageApp::for_path("/signin"), Some(PageApp::SignIn));
        assert_eq!(
            PageApp::for_path("/invite/abc-DEF_1"),
            Some(PageApp::AcceptInvite)
        );
        assert_eq!(PageApp::for_path("/kiosk"), Some(PageApp::Kiosk));
        for elsewhere in [
            "/",
            "/signin/",
            "/signin/two-factor",
            "/signup",
            "/invite/",
            "/invite",
            "/invite/abc/more",
            "/kiosk/",
            "/team",
            "",
        ] {
            assert_eq!(PageApp::for_path(elsewhere), None, "{elsewhere}");
        }
    }

    /// The names are written where each build step needs them: here (the
    /// server finds the files), in `frontend`'s features (which app
    /// `hydrate()` mounts) and in xtask's list of apps to build (std-only,
    /// so it cannot use this crate). If they drift, the server would quietly
    /// serve the page in the whole app.
    #[test]
    fn every_page_app_is_a_frontend_feature_and_is_built_by_xtask() {
        let features = include_str!("../../frontend/Cargo.toml");
        let features_of_frontend = features
            .split("[features]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap_or_default();
        let xtask = include_str!("../../xtask/src/page_apps.rs");
        let built = xtask
            .lines()
            .find(|line| line.starts_with("pub const PAGE_APPS"))
            .unwrap_or_default();
        for app in PageApp::ALL {
            let name = app.name();
            assert!(
                features_of_frontend.contains(&format!("\n{name} = [\"app/page-app\"]")),
                "frontend/Cargo.toml has no feature {name}"
            );
            assert!(
                built.contains(&format!("\"{name}\"")),
                "xtask's PAGE_APPS does not build {name}: {built}"
            );
        }
        assert_eq!(
            built.matches('"').count(),
            2 * PageApp::ALL.len(),
            "xtask builds an app this crate does not know: {built}"
        );
    }

    /// `App` routes the same paths to the same pages, so a page renders the
    /// same in either app.
    #[test]
    fn the_whole_app_routes_each_page_app_path_to_the_same_page() {
        let app = include_str!("lib.rs");
        for (route, page) in [
            ("/signin", "SignIn"),
            ("/invite/:token", "AcceptInvite"),
            ("/kiosk", "Kiosk"),
        ] {
            let line =
                format!("<Route path=path!(\"{route}\") view={{Lazy::<{page}Route>::new()}}");
            assert!(app.contains(&line), "{line}");
            assert!(
                app.contains(&format!("{page}Route => {page}Page")),
                "{page}"
            );
        }
    }
}
