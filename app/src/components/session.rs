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
}

impl SessionContext {
    /// Reload who is signed in (after sign-in, a workspace switch...).
    pub fn refresh(&self) {
        self.version.update(|v| *v += 1);
    }
}

pub fn provide_session() {
    let version = RwSignal::new(0u32);
    let me = Resource::new(move || version.get(), |_| current_user());
    provide_context(SessionContext { me, version });
}

pub fn use_session() -> SessionContext {
    expect_context::<SessionContext>()
}
