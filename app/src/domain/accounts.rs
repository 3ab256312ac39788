//! The Owner's Accounts tab: what can be asked of its list, parsed the same
//! way in the browser (the URL) and on the server.

use serde::{Deserialize, Serialize};

/// Longest search the tab accepts; longer input is refused, not cut.
pub const MAX_SEARCH_CHARS: usize = 200;
/// More words than this cannot narrow a name and an address further.
pub const MAX_SEARCH_WORDS: usize = 8;
/// Rows per page of the tab.
pub const PAGE_ROWS: usize = 50;

/// One of the tab's filters (at most one at a time, like a saved view).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountFilter {
    #[default]
    All,
    Locked,
    TwoFactor,
    TimerRunning,
    ApiKeys,
}

/// (URL key, filter, label), in the order the filter menu lists them.
pub const ACCOUNT_FILTERS: &[(&str, AccountFilter, &str)] = &[
    ("", AccountFilter::All, "All accounts"),
    ("locked", AccountFilter::Locked, "Locked"),
    ("two-factor", AccountFilter::TwoFactor, "Two-factor on"),
    ("timer", AccountFilter::TimerRunning, "Timer running"),
    ("api-keys", AccountFilter::ApiKeys, "Has API keys"),
];

impl AccountFilter {
    pub fn key(self) -> &'static str {
        ACCOUNT_FILTERS
            .iter()
            .find(|(_, filter, _)| *filter == self)
            .map_or("", |(key, _, _)| key)
    }

    /// An unknown key is an error, so a mistyped link does not quietly show
    /// every account.
    pub fn parse(key: &str) -> Result<Self, String> {
        ACCOUNT_FILTERS
            .iter()
            .find(|(known, _, _)| *known == key)
            .map(|(_, filter, _)| *filter)
            .ok_or_else(|| "Choose one of the listed filters.".to_owned())
    }
}

/// A search of the tab: name or email words, folded on the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSearch(String);

impl AccountSearch {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.chars().count() > MAX_SEARCH_CHARS {
            return Err(format!(
                "Search for at most {MAX_SEARCH_CHARS} characters: a name or an email address."
            ));
        }
        if text.chars().any(char::is_control) {
            return Err("Search text cannot contain control characters.".to_owned());
        }
        if text.split_whitespace().count() > MAX_SEARCH_WORDS {
            return Err(format!("Search for at most {MAX_SEARCH_WORDS} words."));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn words(&self) -> Vec<String> {
        self.0.split_whitespace().map(str::to_owned).collect()
    }
}

/// Which of a person's two-factor methods the Owner removes (seed 002:
/// "a single or all of the user's configured methods").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TwoFactorMethod {
    /// The unused recovery codes; the authenticator app stays.
    RecoveryCodes,
    /// The authenticator app, and with it the codes that back it up:
    /// two-factor is off until the person turns it on again.
    All,
}

/// Longest reason an Owner may give for viewing as someone.
pub const MAX_REASON_CHARS: usize = 500;

/// The optional reason for viewing as someone: trimmed, at most `MAX_REASON_CHARS`, one line of
/// plain text (it is shown in the audit log, the bell and a mail).
pub fn parse_reason(reason: Option<&str>) -> Result<Option<String>, String> {
    let Some(text) = reason.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(format!(
            "Keep the reason to {MAX_REASON_CHARS} characters or fewer."
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(
            "The reason must be plain text on one line (no line breaks or control characters)."
                .to_owned(),
        );
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_their_url_keys() {
        for (key, filter, _) in ACCOUNT_FILTERS {
            assert_eq!(AccountFilter::parse(key), Ok(*filter));
            assert_eq!(filter.key(), *key);
        }
        assert!(AccountFilter::parse("admins").is_err());
    }

    #[test]
    fn searches_are_bounded_and_plain() {
        assert_eq!(AccountSearch::parse("  Mia  ").unwrap().as_str(), "Mia");
        assert!(AccountSearch::parse(&"a".repeat(201)).is_err());
        assert!(AccountSearch::parse(&"a".repeat(200)).is_ok());
        assert!(AccountSearch::parse("a\u{0}b").is_err());
        assert!(AccountSearch::parse("a b c d e f g h i").is_err());
        assert_eq!(
            AccountSearch::parse("mia example").unwrap().words(),
            vec!["mia", "example"]
        );
    }
}
