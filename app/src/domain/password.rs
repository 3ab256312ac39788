#[cfg(feature = "ssr")]
use std::sync::OnceLock;

/// NIST SP 800-63B: at least 8 characters, at least 64 allowed, no
/// composition rules, and refuse passwords known from breaches.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// 11,611 of the most common passwords of 8 or more characters, lower-cased
/// and byte-sorted (from the zxcvbn project, MIT licence, see the LICENSE file
/// beside it). Shorter ones are refused by length already. Server only: it
/// would be about 38 KB of brotli in every phone's download; the pages ask
/// the server while the person types (`api::auth::check_new_password`).
#[cfg(feature = "ssr")]
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

#[cfg(feature = "ssr")]
fn common_passwords() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| COMMON_PASSWORDS.lines().collect())
}

/// A password that meets the rules. Checked exactly as typed: no trimming,
/// no normalisation, so what the person typed is what gets hashed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// What the browser shows when the server finds the password on the list.
    pub const COMMON_MESSAGE: &'static str =
        "This password is on a list of commonly used passwords. Choose a less common one.";

    /// Every rule: length here, then the common-password list.
    #[cfg(feature = "ssr")]
    pub fn parse(input: &str) -> Result<Self, String> {
        Self::check_length(input)?;
        if is_common(input) {
            return Err(Self::COMMON_MESSAGE.into());
        }
        Ok(Self(input.to_owned()))
    }

    /// Whether a password of an allowed length is on the common list.
    #[cfg(feature = "ssr")]
    pub fn is_on_common_list(input: &str) -> bool {
        Self::check_length(input).is_ok() && is_common(input)
    }

    /// The rules the browser checks on its own, as you type.
    pub fn check_length(input: &str) -> Result<(), String> {
        let chars = input.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!(
                "Use at least {MIN_PASSWORD_CHARS} characters ({chars} so far)."
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!("Use at most {MAX_PASSWORD_CHARS} characters."));
        }
        Ok(())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "ssr")]
pub fn is_common(candidate: &str) -> bool {
    let lowered = candidate.to_lowercase();
    common_passwords().binary_search(&lowered.as_str()).is_ok()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn list_is_large_sorted_and_searchable() {
        let list = common_passwords();
        assert!(list.len() >= 10_000, "{} passwords", list.len());
        assert!(
            list.windows(2).all(|w| w[0] < w[1]),
            "list must stay sorted"
        );
        assert!(is_common("password"));
        assert!(is_common("PassWord1"));
        assert!(!is_common("correct horse battery staple 42"));
    }

    #[test]
    fn length_rules_count_characters_not_bytes() {
        assert!(Password::parse("short").unwrap_err().contains("at least 8"));
        assert!(Password::parse("ñññññññ").is_err(), "7 characters");
        assert!(
            Password::parse("ñññññññx").is_ok(),
            "8 characters, 16 bytes"
        );
        assert!(
            Password::parse(&"long pass phrase ".repeat(4)).is_ok(),
            "68 chars allowed"
        );
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn refuses_common_passwords_and_keeps_spaces() {
        assert!(Password::parse("12345678")
            .unwrap_err()
            .contains("commonly used"));
        assert!(Password::parse("Qwertyuiop")
            .unwrap_err()
            .contains("commonly used"));
        let spaced = Password::parse("  my quiet lake  ").unwrap();
        assert_eq!(spaced.expose(), "  my quiet lake  ");
    }
}
