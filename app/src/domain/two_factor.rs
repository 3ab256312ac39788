//! What a person types at the second step of signing in: a six-digit code
//! from their authenticator app, or one of their recovery codes. Parsed the
//! same way in the browser (instant messages) and on the server.

/// Recovery codes are 16 characters of this alphabet (80 bits), shown in
/// groups of four: `k7qm-2x6c-vb4t-h3pa`.
pub const RECOVERY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
pub const RECOVERY_CODE_CHARS: usize = 16;
/// How many recovery codes an account gets.
pub const RECOVERY_CODES: usize = 10;
/// Longest input looked at; anything longer is refused before any work.
const MAX_INPUT_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneTimeCode {
    /// Six digits from the app.
    App(String),
    /// A recovery code, lower case, without separators.
    Recovery(String),
}

impl OneTimeCode {
    /// Spaces and dashes are ignored (apps show `123 456`, recovery codes
    /// are printed in groups); case does not matter.
    pub fn parse(input: &str) -> Result<Self, String> {
        if input.chars().count() > MAX_INPUT_CHARS {
            return Err("That is too long to be a code.".into());
        }
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        if compact.is_empty() {
            return Err("Enter the 6-digit code from your authenticator app.".into());
        }
        if compact.chars().all(|c| c.is_ascii_digit()) {
            return if compact.len() == 6 {
                Ok(Self::App(compact))
            } else {
                Err("The code from your app has 6 digits.".into())
            };
        }
        if compact.len() == RECOVERY_CODE_CHARS
            && compact.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))
        {
            return Ok(Self::Recovery(compact));
        }
        Err("Enter the 6 digits from your app, or a recovery code like k7qm-2x6c-vb4t-h3pa.".into())
    }

    /// An app code only (turning two-factor on confirms with the app).
    pub fn parse_app(input: &str) -> Result<String, String> {
        match Self::parse(input)? {
            Self::App(code) => Ok(code),
            Self::Recovery(_) => Err("Enter the 6-digit code your app shows now.".into()),
        }
    }
}

/// A recovery code as shown to people: four groups of four.
pub fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_codes_accept_spaces_and_dashes() {
        assert_eq!(
            OneTimeCode::parse("123 456"),
            Ok(OneTimeCode::App("123456".into()))
        );
        assert_eq!(
            OneTimeCode::parse(" 123-456 "),
            Ok(OneTimeCode::App("123456".into()))
        );
        assert!(OneTimeCode::parse("12345")
            .unwrap_err()
            .contains("6 digits"));
        assert!(OneTimeCode::parse("1234567")
            .unwrap_err()
            .contains("6 digits"));
        assert!(OneTimeCode::parse("").is_err());
    }

    #[test]
    fn recovery_codes_ignore_case_and_groups() {
        assert_eq!(
            OneTimeCode::parse("K7QM-2X6C-VB4T-H3PA"),
            Ok(OneTimeCode::Recovery("k7qm2x6cvb4th3pa".into()))
        );
        assert_eq!(grouped("k7qm2x6cvb4th3pa"), "k7qm-2x6c-vb4t-h3pa");
        // 0, 1, 8 and 9 are not in the alphabet; letters in a short code are not a code.
        assert!(OneTimeCode::parse("k7qm-2x6c-vb4t-h3p0").is_err());
        assert!(OneTimeCode::parse("12ab56").is_err());
        assert!(OneTimeCode::parse_app("k7qm-2x6c-vb4t-h3pa").is_err());
    }

    #[test]
    fn a_ten_kilobyte_code_is_refused_at_once() {
        let huge = "1".repeat(10 * 1024);
        assert!(OneTimeCode::parse(&huge).unwrap_err().contains("too long"));
    }
}
