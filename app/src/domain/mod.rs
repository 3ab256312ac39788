//! Types both sides share. A value that exists is valid: `parse` is the only
//! way in, and it runs in the browser for instant feedback and again on the
//! server, from this same code.

pub mod accounts;
pub mod api_key;
pub mod audit;
pub mod directory;
mod email;
pub mod invite;
pub mod limits;
mod name;
mod password;
pub mod permission;
pub mod profile;
pub mod scim;
pub mod time;
pub mod two_factor;

pub use email::EmailAddress;
pub use name::{DisplayName, LabelName, WorkspaceName};
pub use password::Password;
pub use permission::{Access, Action, Plan, Position, Positions};

/// Spreadsheets run cells that start with these as formulas; a leading
/// apostrophe keeps a name from becoming one (CSV injection) in every CSV
/// we hand out (member export, import report).
pub fn spreadsheet_safe(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}
