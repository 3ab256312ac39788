//! Types both sides share. A value that exists is valid: `parse` is the only
//! way in, and it runs in the browser for instant feedback and again on the
//! server, from this same code.

// Types stored in `text` columns as their `as_str()` and read back with
// their `parse`, so a query names the type (`m.status AS "status:
// MemberStatus"`) and binds a variant directly; an unknown value is a decode
// error, not a string that compares unequal to everything.
#[cfg(feature = "ssr")]
macro_rules! stored_as_text {
    ($type:ty) => {
        impl sqlx::Type<sqlx::Postgres> for $type {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $type {
            fn decode(
                value: sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                Ok(Self::parse(text)?)
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $type {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }
    };
}

pub mod accounts;
pub mod api_key;
pub mod audit;
pub mod directory;
mod email;
pub mod invite;
pub mod limits;
pub mod member;
mod name;
mod password;
pub mod permission;
pub mod profile;
pub mod scim;
pub mod time;
pub mod two_factor;

#[cfg(feature = "ssr")]
pub use email::mailbox_key;
pub use email::EmailAddress;
pub use member::{MemberKind, MemberStatus};
pub use name::{DisplayName, LabelName, WorkspaceName};
pub use password::Password;
pub use permission::{Access, Permission, Plan, Position, Positions};

/// Characters that make a spreadsheet read a cell as a formula (CSV
/// injection), with the full-width forms some locales accept as well.
const FORMULA_STARTS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];

/// Whether a spreadsheet could run this line of a cell: it starts with a
/// formula character once leading blanks are skipped (importers trim them,
/// and zero-width characters are invisible), or it starts with a tab or a
/// carriage return (OWASP's list: some importers drop them).
fn runs_as_formula(line: &str) -> bool {
    let blank = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
    };
    line.starts_with(['\t', '\r']) || line.trim_start_matches(blank).starts_with(FORMULA_STARTS)
}

/// Neutralises a value for a CSV cell, in every CSV we hand out (member,
/// summary and audit exports, the import report): every line of the cell
/// that a spreadsheet could run as a formula gets a leading apostrophe, so
/// it is shown as text. Lines, not just the first character: a value like
/// `" =HYPERLINK(…)"` or `"x\n=cmd|…"` is as dangerous once an importer
/// trims blanks or splits lines. Harmless text is returned unchanged.
pub fn spreadsheet_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 1);
    let mut rest = value;
    let mut first = true;
    loop {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let (line, tail) = rest.split_at(end);
        // A cell that starts with a line break is on OWASP's list too.
        let starts_with_break = first && line.is_empty() && !tail.is_empty();
        if starts_with_break || runs_as_formula(line) {
            out.push('\'');
        }
        first = false;
        out.push_str(line);
        let Some(brk) = tail.chars().next() else {
            break;
        };
        out.push(brk);
        rest = &tail[brk.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod spreadsheet_tests {
    use super::spreadsheet_safe;

    /// Whether any line of a neutralised cell could still run: after the
    /// apostrophe a spreadsheet shows text.
    fn could_run(cell: &str) -> bool {
        cell.split(['\r', '\n']).any(|line| {
            let trimmed = line.trim_start_matches(|c: char| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
            });
            !line.starts_with('\'')
                && trimmed.starts_with(['=', '+', '-', '@', '＝', '＋', '－', '＠'])
        })
    }

    #[test]
    fn the_classic_attacks_are_text() {
        for (value, expected) in [
            (
                "=HYPERLINK(\"http://evil\",\"x\")",
                "'=HYPERLINK(\"http://evil\",\"x\")",
            ),
            (" =HYPERLINK(1)", "' =HYPERLINK(1)"),
            ("\u{a0}\u{200b}=1+1", "'\u{a0}\u{200b}=1+1"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\tplain", "'\tplain"),
            ("\rplain", "'\rplain"),
            ("\nplain", "'\nplain"),
            ("＝1+1", "'＝1+1"),
            ("Ann\n=cmd|' /C calc'!A0", "Ann\n'=cmd|' /C calc'!A0"),
            ("Ann\r\n  @x", "Ann\r\n'  @x"),
        ] {
            assert_eq!(spreadsheet_safe(value), expected, "{value:?}");
        }
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for value in [
            "",
            "Ann Lee",
            "ann@example.com",
            "O'Brien",
            "Sales; Support",
            "2026-11-30 10:00:00",
            "1.5",
            "a=b",
            "line one\nline two",
        ] {
            assert_eq!(spreadsheet_safe(value), value);
        }
    }

    /// Every combination of a harmless head, blanks, a line break and a
    /// formula character (a small exhaustive stand-in for a property test):
    /// nothing can run afterwards, and removing the added apostrophes gives
    /// the value back.
    #[test]
    fn no_combination_can_run() {
        let heads = ["", "Ann", "x y"];
        let breaks = ["", "\n", "\r", "\r\n", "\n\n"];
        let blanks = ["", " ", "\t", "\u{a0}", "\u{200b}", "\u{feff}", " \t "];
        let starts = ["=", "+", "-", "@", "＝", "＠", "a", "'"];
        let tails = ["", "1+1", "HYPERLINK(\"http://e\")"];
        for head in heads {
            for brk in breaks {
                for blank in blanks {
                    for start in starts {
                        for tail in tails {
                            let value = format!("{head}{brk}{blank}{start}{tail}");
                            let cell = spreadsheet_safe(&value);
                            assert!(!could_run(&cell), "{value:?} -> {cell:?}");
                            assert!(
                                cell.len()
                                    <= value.len() + 2 * value.matches(['\r', '\n']).count() + 1
                            );
                            if !value.contains('\'') {
                                assert_eq!(cell.replace('\'', ""), value);
                            }
                        }
                    }
                }
            }
        }
    }
}
