//! API keys as both sides see them: the name a person gives a key and how
//! long it may live. The secret itself never reaches this module.

use serde::{Deserialize, Serialize};

/// Longest key name: enough for "CI deploy (staging)", not for a paste.
pub const MAX_NAME_CHARS: usize = 60;

/// Live (not revoked, not expired) keys one membership may hold: enough for
/// every script a person runs, few enough that a stolen session cannot mint
/// an unbounded supply.
pub const MAX_LIVE_KEYS: i64 = 20;

/// Longest lifetime a key can be given; "never" is the other choice.
pub const MAX_EXPIRY_DAYS: u32 = 365;

/// The lifetimes the profile form offers (None: never expires).
pub const EXPIRY_CHOICES: [(Option<u32>, &str); 4] = [
    (None, "Never"),
    (Some(30), "30 days"),
    (Some(90), "90 days"),
    (Some(365), "365 days"),
];

/// A key's name, as its owner recognises it in the list: trimmed, 1 to 60
/// characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyName(String);

impl ApiKeyName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim();
        if value.is_empty() {
            return Err("Name the key, so you can tell it apart later.".to_owned());
        }
        if value.chars().count() > MAX_NAME_CHARS {
            return Err(format!(
                "A key name can have at most {MAX_NAME_CHARS} characters."
            ));
        }
        if value.chars().any(char::is_control) {
            return Err("A key name cannot contain control characters.".to_owned());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a requested lifetime: none, or 1 to 365 days.
pub fn parse_expiry(days: Option<u32>) -> Result<Option<u32>, String> {
    match days {
        Some(d) if !(1..=MAX_EXPIRY_DAYS).contains(&d) => Err(format!(
            "A key expires after 1 to {MAX_EXPIRY_DAYS} days, or never."
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            ApiKeyName::parse("  CI deploy ").unwrap().as_str(),
            "CI deploy"
        );
        assert!(ApiKeyName::parse("   ").is_err());
        assert!(ApiKeyName::parse(&"é".repeat(60)).is_ok());
        assert_eq!(
            ApiKeyName::parse(&"x".repeat(61)).unwrap_err(),
            "A key name can have at most 60 characters."
        );
        assert!(ApiKeyName::parse("a\nb").is_err());
    }

    #[test]
    fn expiry_is_never_or_one_to_365_days() {
        assert_eq!(parse_expiry(None), Ok(None));
        assert_eq!(parse_expiry(Some(1)), Ok(Some(1)));
        assert_eq!(parse_expiry(Some(365)), Ok(Some(365)));
        assert!(parse_expiry(Some(0)).is_err());
        assert!(parse_expiry(Some(366)).is_err());
    }
}
