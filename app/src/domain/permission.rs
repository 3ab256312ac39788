//! Who may do what (PRODUCT.md section 2), as data. The guard on the server
//! consults `Positions::access`; the UI uses the same call only to hide what
//! would be refused anyway.

use serde::{Deserialize, Serialize};

/// A place a person can hold in a workspace. A membership holds any set of
/// the manager/admin roles; `Owner` is exactly one account per workspace;
/// `Member` is what everyone active holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Position {
    Owner,
    Admin,
    ProjectManager,
    TeamManager,
    Member,
}

impl Position {
    pub const ALL: [Position; 5] = [
        Position::Owner,
        Position::Admin,
        Position::ProjectManager,
        Position::TeamManager,
        Position::Member,
    ];

    fn column(self) -> usize {
        self as usize
    }

    pub fn label(self) -> &'static str {
        match self {
            Position::Owner => "Owner",
            Position::Admin => "Admin",
            Position::ProjectManager => "Project manager",
            Position::TeamManager => "Team manager",
            Position::Member => "Member",
        }
    }
}

/// On the wire as its stored text (`free`, `pro`, `enterprise`), the
/// same word `set_plan` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Pro,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "free" => Ok(Plan::Free),
            "pro" => Ok(Plan::Pro),
            "enterprise" => Ok(Plan::Enterprise),
            other => Err(format!("Unknown plan \"{other}\".")),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Plan::Free => "Free",
            Plan::Pro => "Pro",
            Plan::Enterprise => "Enterprise",
        }
    }
}

#[cfg(feature = "ssr")]
stored_as_text!(Plan);

/// Everything the permission guard can be asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// See the Team page, search and filter members.
    ViewTeam,
    /// Invite full members, add limited members, resend invites, CSV import.
    InviteMembers,
    /// Edit another member's profile, groups, billing rate.
    EditMemberProfile,
    /// Edit one's own profile.
    EditOwnProfile,
    GrantAdmin,
    /// Take the Admin role away, deactivate or delete an Admin.
    AdministerAdmins,
    /// Give or take Project manager / Team manager roles.
    ManageManagerRoles,
    /// Deactivate, reactivate or delete a member who is not an Admin.
    ManageMembers,
    TransferOwnership,
    UnlockAccount,
    /// The Accounts tab and what hangs off it: log in as user, API keys,
    /// stop their timer, remove 2FA, set their password. Enterprise only.
    AccountsTab,
    /// SCIM tokens on Settings, for an identity provider. Enterprise only.
    ManageScim,
    LaunchKiosk,
    ViewAuditLog,
    ManageGroupsAndProjects,
    /// Plan, seats and other workspace settings.
    ManageWorkspace,
    /// Summary reports of tracked time.
    ViewReports,
    TrackOwnTime,
}

/// What a position may do with an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Access {
    Denied,
    /// Read-only, limited to their own team or projects.
    Scoped,
    Allowed,
}

use Access::{Allowed as Y, Denied as N, Scoped as S};

/// Columns: Owner, Admin, Project manager, Team manager, Member.
pub const MATRIX: &[(Permission, [Access; 5])] = &[
    (Permission::ViewTeam, [Y, Y, S, S, N]),
    (Permission::InviteMembers, [Y, Y, N, N, N]),
    (Permission::EditMemberProfile, [Y, Y, N, N, N]),
    (Permission::EditOwnProfile, [Y, Y, Y, Y, Y]),
    (Permission::GrantAdmin, [Y, Y, N, N, N]),
    (Permission::AdministerAdmins, [Y, N, N, N, N]),
    (Permission::ManageManagerRoles, [Y, Y, N, N, N]),
    (Permission::ManageMembers, [Y, Y, N, N, N]),
    (Permission::TransferOwnership, [Y, N, N, N, N]),
    (Permission::UnlockAccount, [Y, Y, N, N, N]),
    (Permission::AccountsTab, [Y, N, N, N, N]),
    (Permission::ManageScim, [Y, N, N, N, N]),
    (Permission::LaunchKiosk, [Y, Y, Y, N, N]),
    (Permission::ViewAuditLog, [Y, Y, N, N, N]),
    (Permission::ManageGroupsAndProjects, [Y, Y, N, N, N]),
    (Permission::ManageWorkspace, [Y, N, N, N, N]),
    (Permission::ViewReports, [Y, Y, S, S, N]),
    (Permission::TrackOwnTime, [Y, Y, Y, Y, Y]),
];

impl Permission {
    pub fn all() -> impl Iterator<Item = Permission> {
        MATRIX.iter().map(|(action, _)| *action)
    }

    /// Plan a workspace must be on for anyone to use this action.
    pub fn required_plan(self) -> Option<Plan> {
        match self {
            Permission::AccountsTab | Permission::ManageScim => Some(Plan::Enterprise),
            _ => None,
        }
    }

    fn row(self) -> &'static [Access; 5] {
        MATRIX
            .iter()
            .find(|(action, _)| *action == self)
            .map(|(_, row)| row)
            .unwrap_or(&[N; 5])
    }
}

/// The positions one membership holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Positions {
    pub owner: bool,
    pub admin: bool,
    pub project_manager: bool,
    pub team_manager: bool,
}

impl Positions {
    pub fn held(self) -> impl Iterator<Item = Position> {
        [
            (self.owner, Position::Owner),
            (self.admin, Position::Admin),
            (self.project_manager, Position::ProjectManager),
            (self.team_manager, Position::TeamManager),
            (true, Position::Member),
        ]
        .into_iter()
        .filter_map(|(held, position)| held.then_some(position))
    }

    /// The widest access any held position gives, on this plan.
    pub fn access(self, action: Permission, plan: Plan) -> Access {
        if action.required_plan().is_some_and(|needed| needed != plan) {
            return Access::Denied;
        }
        let row = action.row();
        self.held()
            .map(|position| row[position.column()])
            .max()
            .unwrap_or(Access::Denied)
    }

    /// The most senior position, for display.
    pub fn headline(self) -> Position {
        self.held().next().unwrap_or(Position::Member)
    }

    pub fn only(position: Position) -> Self {
        let mut positions = Positions::default();
        match position {
            Position::Owner => positions.owner = true,
            Position::Admin => positions.admin = true,
            Position::ProjectManager => positions.project_manager = true,
            Position::TeamManager => positions.team_manager = true,
            Position::Member => {}
        }
        positions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_its_stored_word_on_the_wire_and_back() {
        for plan in [Plan::Free, Plan::Pro, Plan::Enterprise] {
            assert_eq!(Plan::parse(plan.as_str()), Ok(plan));
            assert_eq!(
                serde_json::to_value(plan).ok(),
                Some(serde_json::Value::String(plan.as_str().into()))
            );
        }
        assert!(Plan::parse("Enterprise").is_err());
    }

    /// PRODUCT.md section 2 transcribed by hand, so a change to `MATRIX` that
    /// drifts from the product rules fails here. y = yes, r = read-only
    /// (scoped), n = no; columns Owner, Admin, PM, TM, Member.
    const PRODUCT_TABLE: &str = "
        ViewTeam                y y r r n
        InviteMembers           y y n n n
        EditMemberProfile       y y n n n
        EditOwnProfile          y y y y y
        GrantAdmin              y y n n n
        AdministerAdmins        y n n n n
        ManageManagerRoles      y y n n n
        ManageMembers           y y n n n
        TransferOwnership       y n n n n
        UnlockAccount           y y n n n
        AccountsTab             y n n n n
        ManageScim              y n n n n
        LaunchKiosk             y y y n n
        ViewAuditLog            y y n n n
        ManageGroupsAndProjects y y n n n
        ManageWorkspace         y n n n n
        ViewReports             y y r r n
        TrackOwnTime            y y y y y
    ";

    #[test]
    fn every_role_and_action_matches_the_product_table() {
        let mut checked = 0;
        for line in PRODUCT_TABLE
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let mut cells = line.split_whitespace();
            let name = cells.next().unwrap();
            let action = Permission::all()
                .find(|a| format!("{a:?}") == name)
                .unwrap_or_else(|| panic!("{name} is not a Permission"));
            for (position, cell) in Position::ALL.into_iter().zip(cells) {
                let expected = match cell {
                    "y" => Access::Allowed,
                    "r" => Access::Scoped,
                    _ => Access::Denied,
                };
                let got = Positions::only(position).access(action, Plan::Enterprise);
                assert_eq!(got, expected, "{position:?} x {action:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, MATRIX.len() * 5, "the table names every action");
    }

    #[test]
    fn accounts_tab_needs_the_enterprise_plan() {
        let owner = Positions::only(Position::Owner);
        assert_eq!(
            owner.access(Permission::AccountsTab, Plan::Pro),
            Access::Denied
        );
        assert_eq!(
            owner.access(Permission::AccountsTab, Plan::Free),
            Access::Denied
        );
        assert_eq!(
            owner.access(Permission::AccountsTab, Plan::Enterprise),
            Access::Allowed
        );
    }

    #[test]
    fn several_roles_combine_to_the_widest_access() {
        let pm_and_tm = Positions {
            project_manager: true,
            team_manager: true,
            ..Default::default()
        };
        assert_eq!(
            pm_and_tm.access(Permission::LaunchKiosk, Plan::Free),
            Access::Allowed
        );
        assert_eq!(
            pm_and_tm.access(Permission::ViewTeam, Plan::Free),
            Access::Scoped
        );
        assert_eq!(
            pm_and_tm.access(Permission::InviteMembers, Plan::Free),
            Access::Denied
        );
    }
}
