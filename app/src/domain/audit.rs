//! The audit log's vocabulary: every action code written to
//! `audit_events`, with the words the audit page shows for it.

/// Action codes whose names start with this are the Owner's Accounts-tab
/// events (log in as, API keys, 2FA...): Admins do not see them.
pub const OWNER_ONLY_PREFIX: &str = "owner_access.";

/// (code, label), in the order the filter lists them.
pub const ACTIONS: &[(&str, &str)] = &[
    ("member.invited", "Member invited"),
    ("invitation.sent", "Invitation sent"),
    ("invitation.resent", "Invitation resent"),
    ("invitation.revoked", "Invitation revoked"),
    ("invitation.accepted", "Invitation accepted"),
    ("invitation.declined", "Invitation declined"),
    ("member.limited_added", "Limited member added"),
    ("member.role_given", "Role given"),
    ("member.role_taken", "Role taken"),
    ("member.deactivated", "Member deactivated"),
    ("member.reactivated", "Member reactivated"),
    ("member.deleted", "Member deleted"),
    ("member.unlocked", "Account unlocked"),
    ("member.projects_set", "Projects set"),
    ("member.time_permission_changed", "Time permission changed"),
    ("member.profile_changed", "Profile changed"),
    ("member.photo_changed", "Photo changed"),
    ("member.photo_removed", "Photo removed"),
    ("group.created", "Group created"),
    ("group.renamed", "Group renamed"),
    ("group.deleted", "Group deleted"),
    ("group.members_added", "Added to group"),
    ("group.member_removed", "Removed from group"),
    ("project.created", "Project created"),
    ("project.renamed", "Project renamed"),
    ("project.archived", "Project archived"),
    ("project.restored", "Project restored"),
    ("workspace.created", "Workspace created"),
    ("workspace.plan_changed", "Plan changed"),
    ("workspace.ownership_transferred", "Ownership transferred"),
    (
        "workspace.two_factor_policy_changed",
        "Two-factor requirement changed",
    ),
    (
        "workspace.impersonation_policy_changed",
        "“Log in as user” switched",
    ),
    ("owner_access.impersonation_started", "Logged in as user"),
    (
        "owner_access.impersonation_ended",
        "Back from “Log in as user”",
    ),
    ("kiosk.launched", "Kiosk launched"),
    ("kiosk.ended", "Kiosk device ended"),
    ("kiosk.pin_set", "Kiosk PIN set"),
    ("owner_access.timer_stopped", "Timer stopped by the Owner"),
    (
        "owner_access.entry_corrected",
        "Entry corrected by the Owner",
    ),
    (
        "owner_access.two_factor_removed",
        "Two-factor removed by the Owner",
    ),
    ("owner_access.password_set", "Password set by the Owner"),
    ("api_key.created", "API key created"),
    ("api_key.revoked", "API key revoked"),
    ("api_key.revoked_all", "API keys deactivated"),
    ("workspace.scim_token_created", "SCIM token created"),
    ("workspace.scim_token_revoked", "SCIM token revoked"),
];

/// The label for an action code; unknown codes show as they are.
pub fn action_label(code: &str) -> String {
    ACTIONS
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, label)| (*label).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// Whether `code` is one the filter accepts.
pub fn is_known_action(code: &str) -> bool {
    ACTIONS.iter().any(|(known, _)| *known == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_written_by_the_app_has_a_label() {
        // The codes are grepped from the source, so a new audit event
        // without a label here fails this test.
        let sources = [
            include_str!("../api/lifecycle.rs"),
            include_str!("../api/invitations.rs"),
            include_str!("../api/groups.rs"),
            include_str!("../api/time.rs"),
            include_str!("../api/kiosk.rs"),
            include_str!("../api/import.rs"),
            include_str!("../api/workspaces.rs"),
            include_str!("../api/accounts.rs"),
            include_str!("../server/invitations.rs"),
            include_str!("../server/db.rs"),
            include_str!("../server/api_keys.rs"),
            include_str!("../api/impersonation.rs"),
            include_str!("../server/impersonation.rs"),
            include_str!("../server/scim.rs"),
        ];
        let mut found = 0;
        for source in sources {
            for (index, _) in source.match_indices('"') {
                let rest = &source[index + 1..];
                let Some(end) = rest.find('"') else { continue };
                let literal = &rest[..end];
                let prefixes = [
                    "member.",
                    "invitation.",
                    "group.",
                    "project.",
                    "workspace.",
                    "kiosk.",
                    "api_key.",
                    OWNER_ONLY_PREFIX,
                ];
                let looks_like_code = prefixes
                    .iter()
                    .any(|p| literal.starts_with(p) && literal.len() > p.len())
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
                if looks_like_code {
                    found += 1;
                    assert!(is_known_action(literal), "{literal} has no audit label");
                }
            }
        }
        assert!(found >= 20, "the scan found the codes ({found})");
        assert_eq!(action_label("member.deleted"), "Member deleted");
        assert_eq!(action_label("something.else"), "something.else");
    }
}
