//! The one error type that crosses the wire. Internal details are logged on
//! the server and never serialised: the browser only ever sees `Internal`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// Messages per form field, keyed by the field's input name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Keeps a parsed value, or records why it failed under `field`.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first(&self, field: &str) -> Option<&str> {
        self.0
            .get(field)
            .and_then(|m| m.first())
            .map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("You don't have permission to do that.")]
    Forbidden,
    #[error("That could not be found. It may have been removed.")]
    NotFound,
    #[error("Please correct the highlighted fields.")]
    Validation(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request never got a proper answer (network down, bad arguments).
    #[error("The request could not be completed: {0}")]
    Transport(String),
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        AppError::Validation(errors)
    }

    /// The message to show next to an input, if this error names it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation(errors) => errors.first(field).map(str::to_owned),
            _ => None,
        }
    }

    /// HTTP status for REST handlers and the middleware's own refusals.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Validation(_) | AppError::Transport(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        AppError::Validation(errors)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// For `map_err`: an unexpected failure becomes `Internal`, logged once
    /// here (inside the request's span, so the line carries the request id)
    /// with what was being done and where; the client sees only the
    /// generic message.
    #[track_caller]
    pub fn internal<E: std::fmt::Debug>(what: &'static str) -> impl FnOnce(E) -> AppError {
        let at = std::panic::Location::caller();
        move |error| {
            tracing::error!(?error, %at, "{what}");
            AppError::Internal
        }
    }

    /// `Internal` for a state that should not happen (no underlying error
    /// to show), logged like `internal`.
    #[track_caller]
    pub fn bug(what: &'static str) -> AppError {
        let at = std::panic::Location::caller();
        tracing::error!(%at, "{what}");
        AppError::Internal
    }
}

/// Database errors a caller did not map (see `server::db::on_constraint`)
/// are internal: logged with the `?` that raised them.
#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    #[track_caller]
    fn from(error: sqlx::Error) -> Self {
        let at = std::panic::Location::caller();
        // Two writes that waited on each other (PostgreSQL picked one to
        // fail) or a serialization failure: nothing was changed, and the
        // same click again is answered on the state the other one left.
        let code = error
            .as_database_error()
            .and_then(|db| db.code())
            .map(|code| code.into_owned());
        if matches!(code.as_deref(), Some("40P01" | "40001")) {
            tracing::warn!(%error, %at, "concurrent write refused");
            return AppError::Conflict(
                "Someone changed this at the same moment. Nothing was changed; try again.".into(),
            );
        }
        tracing::error!(%error, %at, "database error");
        AppError::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_survive_the_wire() {
        let mut errors = FieldErrors::default();
        let kept: Option<u8> = errors.take("email", Err("Enter an email address.".into()));
        assert!(kept.is_none());
        let error = AppError::from(errors);
        let bytes = error.ser();
        let back = AppError::de(bytes);
        assert_eq!(
            back.field_message("email").as_deref(),
            Some("Enter an email address.")
        );
        assert_eq!(back.field_message("password"), None);
    }

    #[test]
    fn internal_errors_carry_no_detail() {
        let text = String::from_utf8(AppError::Internal.ser().to_vec()).unwrap();
        assert_eq!(text, "\"Internal\"");
    }
}
