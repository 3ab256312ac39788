//! A membership's status and kind: stored as text in `memberships.status`
//! and `memberships.kind` (checked there by constraints), read into these
//! types once, where a row leaves the database, so the rest of the code
//! compares variants the compiler knows instead of strings.

use serde::{Deserialize, Serialize};

/// Where a member is in their life in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// Invited, not joined yet (full members) or added without an account
    /// yet (never for limited members, who are active at once).
    Pending,
    Active,
    /// Deactivated: no access, no seat, hours kept.
    Inactive,
}

impl MemberStatus {
    /// The stored text (`memberships.status`) and the wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Pending => "pending",
            MemberStatus::Active => "active",
            MemberStatus::Inactive => "inactive",
        }
    }

    /// The stored text back; anything else is a bug in the caller's SQL.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "pending" => Ok(MemberStatus::Pending),
            "active" => Ok(MemberStatus::Active),
            "inactive" => Ok(MemberStatus::Inactive),
            other => Err(format!("Unknown member status \"{other}\".")),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MemberStatus::Pending => "Pending",
            MemberStatus::Active => "Active",
            MemberStatus::Inactive => "Inactive",
        }
    }
}

/// Full members have an account and sign in; limited members are people
/// whose time someone else tracks (the Kiosk, an admin), with no account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberKind {
    Full,
    Limited,
}

impl MemberKind {
    /// The stored text (`memberships.kind`) and the wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberKind::Full => "full",
            MemberKind::Limited => "limited",
        }
    }

    /// The stored text back; anything else is a bug in the caller's SQL.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "full" => Ok(MemberKind::Full),
            "limited" => Ok(MemberKind::Limited),
            other => Err(format!("Unknown member kind \"{other}\".")),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MemberKind::Full => "Full",
            MemberKind::Limited => "Limited",
        }
    }
}

#[cfg(feature = "ssr")]
stored_as_text!(MemberStatus);
#[cfg(feature = "ssr")]
stored_as_text!(MemberKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips_and_matches_the_wire() {
        for status in [
            MemberStatus::Pending,
            MemberStatus::Active,
            MemberStatus::Inactive,
        ] {
            assert_eq!(MemberStatus::parse(status.as_str()), Ok(status));
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::Value::String(status.as_str().into()))
            );
        }
        for kind in [MemberKind::Full, MemberKind::Limited] {
            assert_eq!(MemberKind::parse(kind.as_str()), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::String(kind.as_str().into()))
            );
        }
        assert!(MemberStatus::parse("Active").is_err());
        assert!(MemberKind::parse("").is_err());
    }
}
