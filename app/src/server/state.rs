use std::sync::Arc;

use leptos::prelude::use_context;
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Session and cookie settings, read from the environment by the server.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// A session unused for this long is over.
    pub session_idle: chrono::Duration,
    /// A session is over this long after sign-in, used or not.
    pub session_absolute: chrono::Duration,
    /// Mark cookies `Secure` (the site is served over https).
    pub secure_cookies: bool,
    /// `scheme://host[:port]` for links in mail; the request's Host when unset.
    pub public_origin: Option<String>,
    /// How long an invitation link works.
    pub invitation_ttl: chrono::Duration,
    /// Invitation emails a workspace may send in any rolling hour.
    pub invitations_per_hour: i64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_idle: chrono::Duration::days(7),
            session_absolute: chrono::Duration::days(30),
            secure_cookies: false,
            public_origin: None,
            invitation_ttl: chrono::Duration::days(14),
            invitations_per_hour: 12_000,
        }
    }
}

/// What every request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub auth: Arc<AuthSettings>,
    /// Bounds how many argon2 hashes run at once, so a sign-in storm queues
    /// instead of eating every core and all memory (19 MiB each).
    pub hashing_slots: Arc<Semaphore>,
}

impl AppState {
    pub fn new(pool: PgPool, auth: AuthSettings) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            pool,
            auth: Arc::new(auth),
            hashing_slots: Arc::new(Semaphore::new(cores)),
        }
    }
}

/// The state provided to server functions through Leptos context.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}
