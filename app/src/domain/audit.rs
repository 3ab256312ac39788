//! The audit log's vocabulary: every action code written to
//! `audit_events`, with the words the audit page shows for it.

/// Action codes whose names start with this are the Owner's Accounts-tab
/// events (log in as, API keys, 2FA...): Admins do not see them.
pub const OWNER_ONLY_PREFIX: &str = "owner_access.";

/// Codes of events about an account itself, not a workspace (signing in,
/// a password change): written with no workspace, never in a workspace's log.
const ACCOUNT_PREFIX: &str = "account.";

/// Declares every audit action once: its variant, the code stored in
/// `audit_events.action`, and the words the audit page shows.
macro_rules! audit_actions {
    ($($variant:ident = $code:literal, $label:literal;)*) => {
        /// Something the audit log records. Writers name a variant, so an
        /// event without a code or a label cannot be written.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($variant,)*
        }

        impl AuditAction {
            /// Every action, workspace ones in the order the filter lists them.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            /// The code stored in `audit_events.action`.
            pub const fn code(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $code,)*
                }
            }

            /// What the audit page and exports show.
            pub const fn label(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $label,)*
                }
            }

            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(AuditAction::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

audit_actions! {
    MemberInvited = "member.invited", "Member invited";
    InvitationSent = "invitation.sent", "Invitation sent";
    InvitationResent = "invitation.resent", "Invitation resent";
    InvitationRevoked = "invitation.revoked", "Invitation revoked";
    InvitationAccepted = "invitation.accepted", "Invitation accepted";
    InvitationDeclined = "invitation.declined", "Invitation declined";
    LimitedMemberAdded = "member.limited_added", "Limited member added";
    RoleGiven = "member.role_given", "Role given";
    RoleTaken = "member.role_taken", "Role taken";
    MemberDeactivated = "member.deactivated", "Member deactivated";
    MemberReactivated = "member.reactivated", "Member reactivated";
    MemberDeleted = "member.deleted", "Member deleted";
    AccountUnlocked = "member.unlocked", "Account unlocked";
    ProjectsSet = "member.projects_set", "Projects set";
    TimePermissionChanged = "member.time_permission_changed", "Time permission changed";
    ProfileChanged = "member.profile_changed", "Profile changed";
    PhotoChanged = "member.photo_changed", "Photo changed";
    PhotoRemoved = "member.photo_removed", "Photo removed";
    GroupCreated = "group.created", "Group created";
    GroupRenamed = "group.renamed", "Group renamed";
    GroupDeleted = "group.deleted", "Group deleted";
    GroupMembersAdded = "group.members_added", "Added to group";
    GroupMemberRemoved = "group.member_removed", "Removed from group";
    ProjectCreated = "project.created", "Project created";
    ProjectRenamed = "project.renamed", "Project renamed";
    ProjectArchived = "project.archived", "Project archived";
    ProjectRestored = "project.restored", "Project restored";
    WorkspaceCreated = "workspace.created", "Workspace created";
    PlanChanged = "workspace.plan_changed", "Plan changed";
    OwnershipTransferred = "workspace.ownership_transferred", "Ownership transferred";
    TwoFactorPolicyChanged = "workspace.two_factor_policy_changed", "Two-factor requirement changed";
    ImpersonationPolicyChanged = "workspace.impersonation_policy_changed", "“Log in as user” switched";
    ImpersonationStarted = "owner_access.impersonation_started", "Logged in as user";
    ImpersonationEnded = "owner_access.impersonation_ended", "Back from “Log in as user”";
    KioskLaunched = "kiosk.launched", "Kiosk launched";
    KioskEnded = "kiosk.ended", "Kiosk device ended";
    KioskPinSet = "kiosk.pin_set", "Kiosk PIN set";
    TimerStoppedByOwner = "owner_access.timer_stopped", "Timer stopped by the Owner";
    EntryCorrectedByOwner = "owner_access.entry_corrected", "Entry corrected by the Owner";
    TwoFactorRemovedByOwner = "owner_access.two_factor_removed", "Two-factor removed by the Owner";
    PasswordSetByOwner = "owner_access.password_set", "Password set by the Owner";
    ApiKeyCreated = "api_key.created", "API key created";
    ApiKeyRevoked = "api_key.revoked", "API key revoked";
    ApiKeysDeactivated = "api_key.revoked_all", "API keys deactivated";
    ScimTokenCreated = "workspace.scim_token_created", "SCIM token created";
    ScimTokenRevoked = "workspace.scim_token_revoked", "SCIM token revoked";
    SignedUp = "account.signed_up", "Signed up";
    SignedIn = "account.signed_in", "Signed in";
    AccountClaimed = "account.claimed", "Invited account claimed";
    EmailVerified = "account.email_verified", "Email address confirmed";
    EmailChangeRequested = "account.email_change_requested", "Email change requested";
    EmailChanged = "account.email_changed", "Email address changed";
    PasswordChanged = "account.password_changed", "Password changed";
    PasswordResetRequested = "account.password_reset_requested", "Password reset requested";
    PasswordReset = "account.password_reset", "Password reset";
    RecoveryCodeUsed = "account.recovery_code_used", "Recovery code used";
    RecoveryCodesRegenerated = "account.recovery_codes_regenerated", "Recovery codes replaced";
    SessionEnded = "account.session_ended", "Session ended";
    OtherSessionsEnded = "account.other_sessions_ended", "Other sessions ended";
    TwoFactorEnabled = "account.two_factor_enabled", "Two-factor turned on";
    TwoFactorDisabled = "account.two_factor_disabled", "Two-factor turned off";
}

impl AuditAction {
    /// Whether a workspace's audit log shows it (and its filter offers it).
    pub fn in_workspace_log(self) -> bool {
        !self.code().starts_with(ACCOUNT_PREFIX)
    }

    /// The Owner's Accounts-tab events, which Admins do not see.
    pub fn owner_only(self) -> bool {
        self.code().starts_with(OWNER_ONLY_PREFIX)
    }

    /// The actions a workspace's log filter offers, in order.
    pub fn in_workspace() -> impl Iterator<Item = AuditAction> {
        Self::ALL.iter().copied().filter(|a| a.in_workspace_log())
    }
}

/// The label for a stored action code; a code this build does not know
/// (written by an older one) shows as it is.
pub fn action_label(code: &str) -> String {
    AuditAction::parse(code).map_or_else(|| code.to_owned(), |a| a.label().to_owned())
}

/// Whether `code` is one a workspace's log filter accepts.
pub fn is_known_action(code: &str) -> bool {
    AuditAction::parse(code).is_some_and(AuditAction::in_workspace_log)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_and_label_is_distinct_and_reads_back() {
        let mut codes = HashSet::new();
        let mut labels = HashSet::new();
        for &action in AuditAction::ALL {
            assert!(codes.insert(action.code()), "{} twice", action.code());
            assert!(labels.insert(action.label()), "{} twice", action.label());
            assert_eq!(AuditAction::parse(action.code()), Some(action));
            assert_eq!(action_label(action.code()), action.label());
        }
        assert_eq!(action_label("something.else"), "something.else");
        assert_eq!(AuditAction::parse("member.Deleted"), None);
    }

    #[test]
    fn the_workspace_filter_offers_workspace_events_only() {
        assert!(is_known_action("member.deleted"));
        assert!(is_known_action("owner_access.password_set"));
        // Account events have no workspace: the filter would show nothing.
        assert!(!is_known_action("account.signed_in"));
        assert!(!is_known_action("member.eaten"));
        assert!(AuditAction::in_workspace().all(|a| !a.code().starts_with("account.")));
        assert!(AuditAction::PasswordSetByOwner.owner_only());
        assert!(!AuditAction::MemberDeleted.owner_only());
        // The stored codes are data: renaming one would orphan old rows.
        assert_eq!(
            AuditAction::ApiKeysDeactivated.code(),
            "api_key.revoked_all"
        );
        assert_eq!(AuditAction::AccountUnlocked.code(), "member.unlocked");
    }
}
