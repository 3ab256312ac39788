//! Who is signed in, as a resource every page can read.

use leptos::prelude::*;

use crate::{
    api::auth::{current_user, Me},
    error::AppError,
};

#[derive(Clone, Copy)]
pub struct SessionContext {
    pub me: Resource<Result<Me, AppError>>,
    version: RwSignal<u32>,
    /// Whether a signed-in page has been shown in this tab already.
    shown_once: StoredValue<bool>,
}

impl SessionContext {
    /// Reload who is signed in (after sign-in, a workspace switch...).
    pub fn refresh(&self) {
        self.version.update(|v| *v += 1);
    }

    /// The signed-in person once known. Read with `try_get`: when a browser
    /// abandons a page mid-stream the server disposes the request's
    /// signals while a suspended view may still be resolving, and a plain
    /// `get` would panic the worker.
    pub fn signed_in(&self) -> Option<Me> {
        self.me.try_get().flatten().and_then(Result::ok)
    }

    /// Called when a signed-in page mounts. After the first page, asks the
    /// server again and reloads only if something changed, so a member
    /// deactivated (or given a role) elsewhere sees it on their next click
    /// without every navigation re-rendering the page.
    pub fn recheck_after_navigation(&self) {
        if !self.shown_once.get_value() {
            self.shown_once.set_value(true);
            return;
        }
        let this = *self;
        leptos::task::spawn_local(async move {
            let fresh = current_user().await;
            let known = this.me.get_untracked();
            if known.as_ref() != Some(&fresh) {
                this.refresh();
            }
        });
    }
}

pub fn provide_session() {
    let version = RwSignal::new(0u32);
    let me = Resource::new(move || version.get(), |_| current_user());
    provide_context(SessionContext {
        me,
        version,
        shown_once: StoredValue::new(false),
    });
}

#[track_caller]
pub fn use_session() -> SessionContext {
    expect_context::<SessionContext>()
}
