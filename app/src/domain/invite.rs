//! Invitations: the address list typed into the invite dialog, the link
//! token, and the limits both sides enforce.

use serde::{Deserialize, Serialize};

use super::EmailAddress;

/// Addresses one batch may hold on the Free plan (unlimited batches).
pub const FREE_PLAN_BATCH: usize = 5;
/// Addresses one dialog submission may hold on any plan; bigger lists go
/// through the CSV import, which shows a preview first.
pub const MAX_DIALOG_BATCH: usize = 500;
/// Rows one CSV file may hold, and its size in bytes.
pub const MAX_IMPORT_ROWS: usize = 10_000;
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Rows the browser sends per import call (the progress bar's step).
pub const IMPORT_CHUNK_ROWS: usize = 500;

/// One address as typed, and what the dialog will do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressCheck {
    pub text: String,
    pub verdict: AddressVerdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressVerdict {
    Valid,
    Invalid(String),
    /// The same address appears earlier in the list.
    Duplicate,
    /// Already in this workspace (active, inactive or pending).
    AlreadyMember,
}

impl AddressVerdict {
    pub fn label(&self) -> String {
        match self {
            Self::Valid => "valid".into(),
            Self::Invalid(reason) => format!("invalid: {reason}"),
            Self::Duplicate => "duplicate".into(),
            Self::AlreadyMember => "already a member".into(),
        }
    }
}

/// Splits pasted text on commas, semicolons, spaces and new lines; a
/// `Name <address>` form keeps only the address (mail clients copy that).
pub fn split_addresses(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        // `Name <a@b.c>`: take what is inside the angle brackets.
        if let Some(open) = rest.find('<') {
            let (before, after) = rest.split_at(open);
            if let Some(close) = after.find('>') {
                let inner = &after[1..close];
                // Words before `<` are a display name, not addresses, unless
                // they contain an @ themselves.
                out.extend(
                    before
                        .split(is_separator)
                        .filter(|w| w.contains('@'))
                        .map(str::to_owned),
                );
                out.push(inner.trim().to_owned());
                rest = &after[close + 1..];
                continue;
            }
        }
        out.extend(
            rest.split(is_separator)
                .filter(|w| !w.is_empty())
                .map(str::to_owned),
        );
        break;
    }
    out.retain(|w| !w.trim().is_empty());
    out
}

fn is_separator(c: char) -> bool {
    c == ',' || c == ';' || c.is_whitespace()
}

/// Checks every address of a pasted list. `is_member` answers for the
/// lower-cased address (the server's list; empty before it has answered).
pub fn check_addresses(input: &str, is_member: impl Fn(&str) -> bool) -> Vec<AddressCheck> {
    let mut seen = std::collections::HashSet::new();
    split_addresses(input)
        .into_iter()
        .map(|text| {
            let verdict = match EmailAddress::parse(&text) {
                Err(reason) => AddressVerdict::Invalid(reason),
                Ok(email) => {
                    let key = email.normalized();
                    if !seen.insert(key.clone()) {
                        AddressVerdict::Duplicate
                    } else if is_member(&key) {
                        AddressVerdict::AlreadyMember
                    } else {
                        AddressVerdict::Valid
                    }
                }
            };
            AddressCheck { text, verdict }
        })
        .collect()
}

/// The secret in an invitation or verification link: 32 random bytes as
/// unpadded base64url, 43 characters. Parsing only checks the shape; the
/// server looks up its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkToken(String);

pub const TOKEN_CHARS: usize = 43;

impl LinkToken {
    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim();
        let alphabet_ok = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if value.chars().count() != TOKEN_CHARS || !alphabet_ok {
            return Err(
                "This link is incomplete or was changed. Open it again from the email, \
                 or copy the whole address into the browser."
                    .into(),
            );
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Roles a CSV row can give. The Owner is never imported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRoles {
    pub admin: bool,
    pub project_manager: bool,
    pub team_manager: bool,
}

impl ImportRoles {
    /// Empty, `member`, or any of `admin`, `project manager`,
    /// `team manager`, separated by `;` or `|` (commas would end the cell
    /// in an unquoted CSV).
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut roles = Self::default();
        for word in input.split([';', '|', '+']) {
            let folded: String = word
                .trim()
                .to_lowercase()
                .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            match folded.as_str() {
                "" | "member" | "user" | "regular" => {}
                "admin" | "administrator" => roles.admin = true,
                "project manager" | "pm" => roles.project_manager = true,
                "team manager" | "tm" => roles.team_manager = true,
                "owner" => {
                    return Err("The Owner cannot be imported; transfer ownership instead.".into())
                }
                _ => {
                    return Err(format!(
                        "Unknown role \"{}\": use member, admin, project manager or team manager.",
                        word.trim()
                    ))
                }
            }
        }
        Ok(roles)
    }

    pub fn describe(&self) -> String {
        let mut names = Vec::new();
        if self.admin {
            names.push("Admin");
        }
        if self.project_manager {
            names.push("Project manager");
        }
        if self.team_manager {
            names.push("Team manager");
        }
        if names.is_empty() {
            "Member".into()
        } else {
            names.join(", ")
        }
    }
}

/// How many seats are free on a paid plan, as the refusal tells it.
pub fn seats_message(free: i64, wanted: usize) -> String {
    let free = free.max(0);
    let seats = if free == 1 { "seat is" } else { "seats are" };
    let people = if wanted == 1 { "person" } else { "people" };
    format!(
        "Only {free} {seats} free, and this would invite {wanted} {people}. \
         Add seats in Settings, deactivate someone, or invite fewer."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_commas_spaces_semicolons_and_new_lines() {
        assert_eq!(
            split_addresses("a@x.io, b@x.io;c@x.io\n d@x.io\t\te@x.io,,"),
            vec!["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"]
        );
        assert!(split_addresses(" ,\n ").is_empty());
    }

    #[test]
    fn keeps_the_address_of_a_named_mailbox() {
        assert_eq!(
            split_addresses("Ada Lovelace <ada@x.io>, bob@x.io"),
            vec!["ada@x.io", "bob@x.io"]
        );
    }

    #[test]
    fn marks_invalid_duplicate_and_member_addresses() {
        let checks = check_addresses("ann@x.io, nope, ANN@x.io, old@x.io", |a| a == "old@x.io");
        let verdicts: Vec<_> = checks.iter().map(|c| c.verdict.clone()).collect();
        assert_eq!(verdicts[0], AddressVerdict::Valid);
        assert!(matches!(verdicts[1], AddressVerdict::Invalid(_)));
        assert_eq!(verdicts[2], AddressVerdict::Duplicate);
        assert_eq!(verdicts[3], AddressVerdict::AlreadyMember);
    }

    #[test]
    fn token_shape_is_checked_before_any_lookup() {
        let good = "A".repeat(42) + "_";
        assert!(LinkToken::parse(&good).is_ok());
        assert!(LinkToken::parse(&"A".repeat(42)).is_err());
        assert!(LinkToken::parse(&"A".repeat(44)).is_err());
        assert!(LinkToken::parse(&("A".repeat(42) + "=")).is_err());
        assert!(LinkToken::parse(&("A".repeat(41) + "é")).is_err());
    }

    #[test]
    fn import_roles_accept_common_spellings() {
        assert_eq!(ImportRoles::parse("").unwrap(), ImportRoles::default());
        assert_eq!(
            ImportRoles::parse("Member").unwrap(),
            ImportRoles::default()
        );
        let both = ImportRoles::parse("Admin; project_manager").unwrap();
        assert!(both.admin && both.project_manager && !both.team_manager);
        assert!(ImportRoles::parse("Team-Manager").unwrap().team_manager);
        assert!(ImportRoles::parse("owner").is_err());
        assert!(ImportRoles::parse("boss").unwrap_err().contains("boss"));
    }

    #[test]
    fn seats_message_counts_plainly() {
        assert!(seats_message(1, 3).starts_with("Only 1 seat is free"));
        assert!(seats_message(-2, 1).starts_with("Only 0 seats are free"));
    }
}
