//! Server-only code: database access, sessions, the permission guard, audit.
//! Compiled only with the `ssr` feature, so none of it reaches the browser.

pub mod accounts;
pub mod accounts_tab;
pub mod api_keys;
pub mod audit;
pub mod bell;
pub mod bulk;
pub mod chunk_warmup;
pub mod credentials;
pub mod csp;
pub mod csv_import;
pub mod db;
pub mod directory;
pub mod email_change;
pub mod email_verification;
pub mod groups;
pub mod guard;
pub mod impersonation;
pub mod invitations;
pub mod joining;
pub mod kiosk;
pub mod lifecycle;
pub mod mail;
pub mod members;
pub mod notices;
pub mod outbox;
pub mod page_script;
pub mod password;
pub mod password_reset;
pub mod profile;
pub mod reports;
pub mod scim;
pub mod session;
pub mod state;
pub mod throttle;
pub mod time;
pub mod two_factor;
pub mod user_agent;
pub mod workspace;

pub use guard::{
    require, require_account, require_account_even_impersonating, require_in, require_on,
    AccountCtx, Ctx,
};
pub use state::{app_state, AppState, AuthSettings, BodiesInFlight, BodySlot};
