//! Types both sides share. A value that exists is valid: `parse` is the only
//! way in, and it runs in the browser for instant feedback and again on the
//! server, from this same code.

pub mod directory;
mod email;
mod name;
mod password;
pub mod permission;

pub use email::EmailAddress;
pub use name::{DisplayName, LabelName, WorkspaceName};
pub use password::Password;
pub use permission::{Access, Action, Plan, Position, Positions};
