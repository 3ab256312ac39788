//! Every server function added for the member lifecycle, time and
//! profiles, called over HTTP by each role: refused (403) exactly where
//! the product table says, and an Admin of workspace A naming workspace B's
//! members or groups gets NotFound.

use app::{
    api::{
        bulk::{BulkMembers, BulkOp, BulkSelection},
        lifecycle::*,
        members::MemberDetail,
        profile::{ProfileForm, ProfileOf, SaveProfile},
        reports::SummaryReport,
        time::{CurrentTimer, MyWeek, SetKioskPin, SetTimePermission, TimeSettingsOf},
    },
    error::AppError,
};
use sqlx::PgPool;

use crate::{
    helpers::{error_of, whole_audit_log, Call},
    lifecycle::{member, other_workspace, owner_app, Person},
};

fn text(value: &str) -> String {
    value.to_owned()
}

fn bulk(op: BulkOp, rows: Vec<i64>) -> Call {
    Call::json(BulkMembers {
        op,
        selection: BulkSelection::Rows(rows),
    })
}

async fn set_roles(
    app: &crate::helpers::TestApp,
    person: &Person,
    admin: bool,
    pm: bool,
    tm: bool,
) {
    sqlx::query(
        "UPDATE memberships SET is_admin = $2, is_project_manager = $3, is_team_manager = $4 WHERE id = $1",
    )
    .bind(person.membership_id)
    .bind(admin)
    .bind(pm)
    .bind(tm)
    .execute(&app.pool)
    .await
    .expect("roles");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn each_role_is_refused_exactly_where_the_product_table_says(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let ada = member(&app, workspace_id, "ada@example.com", "Ada Admin").await;
    let pam = member(&app, workspace_id, "pam@example.com", "Pam Projects").await;
    let tim = member(&app, workspace_id, "tim@example.com", "Tim Team").await;
    let mel = member(&app, workspace_id, "mel@example.com", "Mel Member").await;
    let tara = member(&app, workspace_id, "tara@example.com", "Tara Target").await;
    set_roles(&app, &ada, true, false, false).await;
    set_roles(&app, &pam, false, true, false).await;
    set_roles(&app, &tim, false, false, true).await;
    let limited: i64 = sqlx::query_scalar(
        "INSERT INTO memberships (workspace_id, kind, status, display_name) VALUES ($1, 'limited', 'active', 'Lou Limited') RETURNING id",
    )
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("limited");
    let t = tara.membership_id;
    let tara_profile = ProfileForm {
        name: text("Tara Target"),
        working_days: vec![1, 2, 3, 4, 5],
        capacity: text("8"),
        week_start: text("1"),
        team_manager_id: None,
        billing_rate: String::new(),
        currency: text("USD"),
        notify_weekly_summary: true,
        notify_timer_reminders: true,
    };
    let role = |role, on| {
        Call::form(SetMemberRole {
            membership_id: t,
            role,
            on,
        })
    };
    // (call, allowed for Owner, Admin, PM, TM, Member)
    let calls: Vec<(Call, [bool; 5])> = vec![
        (
            role(RoleName::ProjectManager, true),
            [true, true, false, false, false],
        ),
        (
            role(RoleName::Admin, false),
            [true, false, false, false, false],
        ),
        (
            Call::form(DeactivateMember { membership_id: t }),
            [true, true, false, false, false],
        ),
        (
            Call::form(ReactivateMember { membership_id: t }),
            [true, true, false, false, false],
        ),
        (
            Call::form(DeleteMember { membership_id: t }),
            [true, true, false, false, false],
        ),
        (
            Call::form(TransferOwnership {
                membership_id: limited,
            }),
            [true, false, false, false, false],
        ),
        (
            Call::form(SetPlan {
                plan: text("free"),
                seats: text("0"),
            }),
            [true, false, false, false, false],
        ),
        (Call::form(SeatUsage {}), [true, true, true, true, false]),
        (
            Call::form(whole_audit_log()),
            [true, true, false, false, false],
        ),
        (
            Call::form(SummaryReport {
                from: text("2026-01-01"),
                to: text("2026-01-31"),
                inactive: false,
                person: String::new(),
            }),
            [true, true, true, true, false],
        ),
        (
            Call::form(TimeSettingsOf { membership_id: t }),
            [true, true, false, false, false],
        ),
        (
            Call::form(SetTimePermission {
                membership_id: t,
                may_edit_own_time: true,
            }),
            [true, true, false, false, false],
        ),
        (
            Call::form(SetKioskPin {
                membership_id: Some(t),
                pin: text("2468"),
            }),
            [true, true, false, false, false],
        ),
        (
            Call::form(ProfileOf {
                membership_id: Some(t),
            }),
            [true, true, false, false, false],
        ),
        (
            Call::json(SaveProfile {
                membership_id: Some(t),
                form: tara_profile,
            }),
            [true, true, false, false, false],
        ),
        (
            bulk(BulkOp::Reactivate, vec![t]),
            [true, true, false, false, false],
        ),
        (
            bulk(BulkOp::GiveRole(RoleName::Admin), vec![t]),
            [true, true, false, false, false],
        ),
        (
            bulk(BulkOp::TakeRole(RoleName::Admin), vec![t]),
            [true, false, false, false, false],
        ),
        // Everyone may track and edit their own.
        (
            Call::form(ProfileOf {
                membership_id: None,
            }),
            [true, true, true, true, true],
        ),
        (Call::form(CurrentTimer {}), [true, true, true, true, true]),
        (
            Call::form(MyWeek { offset: 0 }),
            [true, true, true, true, true],
        ),
    ];
    let people: [(&str, &reqwest::Client); 5] = [
        ("Owner", &app.client),
        ("Admin", &ada.browser),
        ("Project manager", &pam.browser),
        ("Team manager", &tim.browser),
        ("Member", &mel.browser),
    ];
    let mut checked = 0;
    for (call, allowed) in &calls {
        let endpoint = call.name();
        for ((role, who), may) in people.iter().zip(allowed) {
            let response = app.send_with(who, call.clone()).await;
            let status = response.status();
            if *may {
                // Allowed means it ran: a success, or a refusal of the
                // state the earlier calls left (409, e.g. "already
                // inactive"). 400, 404 and 500 are failures too: a call
                // that cannot run proves nothing about its permission.
                assert!(
                    status.is_success() || status == 409,
                    "{role} may call {endpoint}, got {status}: {:?}",
                    response.text().await
                );
            } else {
                assert_eq!(
                    error_of(response).await,
                    AppError::Forbidden,
                    "{role} calling {endpoint}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, calls.len() * 5);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_admin_of_one_workspace_naming_anothers_members_or_groups_gets_not_found(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let ada = member(&app, workspace_id, "ada@example.com", "Ada Admin").await;
    set_roles(&app, &ada, true, false, false).await;
    // Workspace B, with a member and a group.
    let (_, b, _) = other_workspace(&app).await;
    let bob: i64 = sqlx::query_scalar(
        "INSERT INTO memberships (workspace_id, kind, status, display_name) VALUES ($1, 'limited', 'active', 'Bob Elsewhere') RETURNING id",
    )
    .bind(b)
    .fetch_one(&app.pool)
    .await
    .expect("bob");
    let group_b: i64 = sqlx::query_scalar(
        "INSERT INTO groups (workspace_id, name) VALUES ($1, 'B team') RETURNING id",
    )
    .bind(b)
    .fetch_one(&app.pool)
    .await
    .expect("group b");
    let calls = vec![
        Call::form(SetMemberRole {
            membership_id: bob,
            role: RoleName::TeamManager,
            on: true,
        }),
        Call::form(DeactivateMember { membership_id: bob }),
        Call::form(ReactivateMember { membership_id: bob }),
        Call::form(DeleteMember { membership_id: bob }),
        Call::form(MemberDetail { membership_id: bob }),
        Call::form(TimeSettingsOf { membership_id: bob }),
        Call::form(SetTimePermission {
            membership_id: bob,
            may_edit_own_time: false,
        }),
        Call::form(SetKioskPin {
            membership_id: Some(bob),
            pin: text("1357"),
        }),
        Call::form(ProfileOf {
            membership_id: Some(bob),
        }),
        bulk(BulkOp::AddToGroup(group_b), Vec::new()),
        bulk(BulkOp::RemoveFromGroup(group_b), Vec::new()),
    ];
    for call in calls {
        let endpoint = call.name();
        let response = app.send_with(&ada.browser, call).await;
        assert_eq!(
            error_of(response).await,
            AppError::NotFound,
            "{endpoint} with B's ids"
        );
    }
    // Picked rows from B are skipped, by name unknown, and nothing changes.
    let step: serde_json::Value = app
        .send_with(&ada.browser, bulk(BulkOp::Deactivate, vec![bob]))
        .await
        .json()
        .await
        .expect("step");
    assert_eq!(step["done"], 0);
    assert_eq!(
        step["skipped"][0]["reason"],
        "Not a member of this workspace."
    );
    let status: String = sqlx::query_scalar("SELECT status FROM memberships WHERE id = $1")
        .bind(bob)
        .fetch_one(&app.pool)
        .await
        .expect("status");
    assert_eq!(status, "active");
    assert_eq!(
        app.count("SELECT count(*) FROM group_members").await,
        0,
        "B's group untouched"
    );
}
