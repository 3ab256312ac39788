//! Issue 14 item 8: an account signed in with no workspace at all calls
//! every workspace server function and is refused by the guard each time.
//! The list comes from the registered server functions, so a new function
//! is checked (or must be placed in one of the lists below) the day it is
//! added; a function that forgot its guard answers something else here.

use app::{api::PUBLIC_ENDPOINTS, error::AppError};
use sqlx::PgPool;

use crate::helpers::{error_of, fns, spawn, Call, GOOD_PASSWORD};

/// The person's own things, meant to work without a workspace (signing
/// out, profile security, invitations, making or switching workspaces).
const ACCOUNT_LEVEL: &[&str] = &[
    "sign_out",
    "current_user",
    "request_email_change",
    "my_invitations",
    "answer_invitation",
    "resend_verification",
    "my_notices",
    "dismiss_notice",
    "change_password",
    "my_sessions",
    "end_session",
    "end_other_sessions",
    "two_factor_status",
    "begin_two_factor",
    "confirm_two_factor",
    "disable_two_factor",
    "regenerate_recovery_codes",
    "create_workspace",
    "switch_workspace",
    "end_impersonation",
];

/// Functions whose specified refusal is NotFound (the Accounts tab and
/// SCIM tokens do not admit they exist to those who may not use them).
const HIDDEN: &[&str] = &[
    "list_accounts",
    "stop_member_timer",
    "correct_member_entry",
    "remove_member_two_factor",
    "set_member_password",
    "revoke_member_api_keys",
    "start_impersonation",
    "list_scim_tokens",
    "create_scim_token",
    "revoke_scim_token",
];

fn text(value: &str) -> String {
    value.to_owned()
}

/// Well-formed arguments for every workspace function, built from each
/// function's own argument struct (so they reach the function: a 400 for
/// bad arguments would hide a missing guard, and counts as a failure).
fn workspace_functions() -> Vec<Call> {
    use app::{
        api::{
            accounts::*, api_keys::*, audit::*, bulk::*, groups::*, impersonation::*, import::*,
            invitations::*, kiosk::*, lifecycle::*, members::*, profile::*, reports::*, scim::*,
            time::*, two_factor::SetWorkspaceTwoFactor,
        },
        domain::accounts::TwoFactorMethod,
    };
    let x = || text("x");
    vec![
        Call::form(ListAccounts {
            search: x(),
            filter: x(),
            cursor: None,
        }),
        Call::form(StopMemberTimer { membership_id: 1 }),
        Call::form(CorrectMemberEntry {
            membership_id: 1,
            entry_id: 1,
            start: x(),
            end: x(),
        }),
        Call::form(RemoveMemberTwoFactor {
            membership_id: 1,
            method: TwoFactorMethod::All,
        }),
        Call::form(SetMemberPassword {
            membership_id: 1,
            own_password: x(),
            new_password: x(),
        }),
        Call::form(ListMyApiKeys {}),
        Call::form(CreateApiKey {
            name: x(),
            expires_in_days: None,
        }),
        Call::form(RevokeApiKey { id: 1 }),
        Call::form(RevokeMemberApiKeys { membership_id: 1 }),
        Call::form(AuditLog {
            actor: x(),
            target: x(),
            action: x(),
            from: x(),
            to: x(),
            before: None,
        }),
        Call::json(BulkMembers {
            op: BulkOp::Deactivate,
            selection: BulkSelection::Rows(vec![1]),
        }),
        Call::form(ListGroups {}),
        Call::form(CreateGroup { name: x() }),
        Call::form(RenameGroup {
            group_id: 1,
            name: x(),
        }),
        Call::form(DeleteGroup { group_id: 1 }),
        Call::form(AddGroupMembers {
            group_id: 1,
            membership_ids: vec![1],
        }),
        Call::form(RemoveGroupMember {
            group_id: 1,
            membership_id: 1,
        }),
        Call::form(ListProjects {}),
        Call::form(CreateProject { name: x() }),
        Call::form(RenameProject {
            project_id: 1,
            name: x(),
        }),
        Call::form(SetProjectArchived {
            project_id: 1,
            archived: false,
        }),
        Call::form(SetMemberProjects {
            membership_id: 1,
            all_projects: false,
            project_ids: vec![1],
        }),
        Call::form(StartImpersonation {
            membership_id: 1,
            reason: None,
        }),
        Call::form(ImpersonationSetting {}),
        Call::form(SetImpersonationAllowed { allowed: false }),
        Call::json(PreviewImport {
            file_text: text("email\nnew.person@example.com\n"),
        }),
        Call::json(ImportMembers {
            rows: Vec::new(),
            send_email: false,
        }),
        Call::form(CheckInviteAddresses {
            addresses: vec![text("new.person@example.com")],
        }),
        Call::form(InviteMembers {
            addresses: x(),
            send_email: false,
            group_ids: Vec::new(),
            all_projects: false,
            project_ids: Vec::new(),
        }),
        Call::form(AddLimitedMember {
            name: x(),
            group_ids: Vec::new(),
        }),
        Call::form(SendInvite { membership_id: 1 }),
        Call::form(RevokeInvite { membership_id: 1 }),
        Call::form(LaunchKiosk {}),
        Call::form(ListKioskDevices {}),
        Call::form(EndKioskDevice { id: 1 }),
        Call::form(SetMemberRole {
            membership_id: 1,
            role: RoleName::Admin,
            on: false,
        }),
        Call::form(DeactivateMember { membership_id: 1 }),
        Call::form(UnlockMember { membership_id: 1 }),
        Call::form(ReactivateMember { membership_id: 1 }),
        Call::form(DeleteMember { membership_id: 1 }),
        Call::form(TransferOwnership { membership_id: 1 }),
        Call::form(SeatUsage {}),
        Call::form(SetPlan {
            plan: x(),
            seats: x(),
        }),
        Call::form(ListMembers {
            view: Default::default(),
            after: None,
        }),
        Call::form(CountMembers {
            view: Default::default(),
        }),
        Call::form(MemberDetail { membership_id: 1 }),
        Call::form(ProfileOf {
            membership_id: None,
        }),
        Call::json(SaveProfile {
            membership_id: None,
            form: ProfileForm {
                name: text("Nobody"),
                working_days: vec![1],
                capacity: String::new(),
                week_start: String::new(),
                team_manager_id: None,
                billing_rate: String::new(),
                currency: String::new(),
                notify_weekly_summary: false,
                notify_timer_reminders: false,
            },
        }),
        Call::form(SummaryReport {
            from: x(),
            to: x(),
            inactive: false,
            person: x(),
        }),
        Call::form(ListScimTokens {}),
        Call::form(CreateScimToken { name: x() }),
        Call::form(RevokeScimToken { id: 1 }),
        Call::form(CurrentTimer {}),
        Call::form(StartTimer {
            description: x(),
            project_id: None,
        }),
        Call::form(StopTimer {}),
        Call::form(MyWeek { offset: 1 }),
        Call::form(SaveEntry {
            entry_id: None,
            description: x(),
            project_id: None,
            start: x(),
            end: x(),
        }),
        Call::form(DeleteEntry { entry_id: 1 }),
        Call::form(TimeZones {}),
        Call::form(SetTimeSettings {
            time_zone: x(),
            week_start: x(),
        }),
        Call::form(SetKioskPin {
            membership_id: None,
            pin: x(),
        }),
        Call::form(TimeSettingsOf { membership_id: 1 }),
        Call::form(SetTimePermission {
            membership_id: 1,
            may_edit_own_time: false,
        }),
        Call::form(SetWorkspaceTwoFactor { required: false }),
    ]
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_account_without_a_workspace_is_refused_every_workspace_function(pool: PgPool) {
    let app = spawn(pool).await;
    let signed_up = app
        .sign_up("nora@example.com", "Nora Nomad", GOOD_PASSWORD)
        .await;
    assert!(signed_up.status().is_success(), "{}", signed_up.status());
    // Her only workspace is deleted: she stays signed in, with none.
    sqlx::query(
        "DELETE FROM workspaces WHERE owner_account_id = (SELECT id FROM accounts WHERE email = 'nora@example.com')",
    )
    .execute(&app.pool)
    .await
    .expect("delete the workspace");
    assert_eq!(
        app.count("SELECT count(*) FROM memberships").await,
        0,
        "no workspace left"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM sessions WHERE active_workspace_id IS NOT NULL")
            .await,
        0
    );
    let me = app.run(fns::CurrentUser {}).await;
    assert!(me.status().is_success(), "still signed in: {}", me.status());

    let functions = workspace_functions();
    let mut registered: Vec<String> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .collect();
    registered.sort();
    registered.dedup();
    assert!(registered.len() >= 90, "{registered:?}");
    // Every registered function is public, the account's own, or checked.
    for name in &registered {
        let places = [
            PUBLIC_ENDPOINTS.contains(&format!("/api/{name}").as_str()),
            ACCOUNT_LEVEL.contains(&name.as_str()),
            functions.iter().any(|call| call.name() == name),
        ];
        assert_eq!(
            places.iter().filter(|p| **p).count(),
            1,
            "{name}: list it once, in PUBLIC_ENDPOINTS, ACCOUNT_LEVEL or workspace_functions() (with arguments)"
        );
    }
    for name in functions.iter().map(Call::name) {
        assert!(
            registered.iter().any(|r| r == name),
            "{name} is not registered"
        );
    }
    for name in ACCOUNT_LEVEL.iter().chain(HIDDEN) {
        assert!(
            registered.iter().any(|r| r == name),
            "{name} is not registered"
        );
    }

    let mut wrong = Vec::new();
    let checked = functions.len();
    for call in functions {
        let name = call.name();
        let response = app.send_with(&app.client, call).await;
        let status = response.status().as_u16();
        let (want_status, want) = if HIDDEN.contains(&name) {
            (404, AppError::NotFound)
        } else {
            (403, AppError::Forbidden)
        };
        let answer = if response.status().is_success() {
            None
        } else {
            Some(error_of(response).await)
        };
        if status != want_status || answer.as_ref() != Some(&want) {
            wrong.push(format!("{name}: {status} {answer:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "not refused as expected:\n{}",
        wrong.join("\n")
    );
    assert!(checked >= 60, "only {checked} checked");
}
