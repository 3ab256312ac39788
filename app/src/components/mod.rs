//! Widgets shared by several pages.

pub mod bell;
pub mod fetched;
pub mod form;
pub mod impersonation;
pub mod layout;
pub mod session;
pub mod timer;
