//! Every server function added for the member lifecycle, time and
//! profiles, called over HTTP by each role: refused (403) exactly where
//! the product table says, and an Admin of workspace A naming workspace B's
//! members or groups gets NotFound.

use app::error::AppError;
use serde_json::json;
use sqlx::PgPool;

use crate::{
    helpers::{error_of, TestApp},
    lifecycle::{member, other_workspace, owner_app, Person},
};

/// How one call is sent.
enum Body {
    Form(Vec<(&'static str, String)>),
    Json(serde_json::Value),
}

async fn send(
    app: &TestApp,
    who: &reqwest::Client,
    endpoint: &str,
    body: &Body,
) -> reqwest::Response {
    let request = who
        .post(format!("{}/api/{endpoint}", app.base))
        .header("accept", "application/json");
    match body {
        Body::Form(form) => request.form(form),
        Body::Json(value) => request.json(value),
    }
    .send()
    .await
    .expect("request")
}

async fn set_roles(app: &TestApp, person: &Person, admin: bool, pm: bool, tm: bool) {
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
    let t = tara.membership_id.to_string();
    let form = |pairs: &[(&'static str, &str)]| {
        Body::Form(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    };
    let no_filters = [
        ("actor", ""),
        ("target", ""),
        ("action", ""),
        ("from", ""),
        ("to", ""),
    ];
    // (endpoint, body, allowed for Owner, Admin, PM, TM, Member)
    let calls: Vec<(&str, Body, [bool; 5])> = vec![
        (
            "set_member_role",
            form(&[
                ("membership_id", &t),
                ("role", "ProjectManager"),
                ("on", "true"),
            ]),
            [true, true, false, false, false],
        ),
        (
            "set_member_role",
            form(&[("membership_id", &t), ("role", "Admin"), ("on", "false")]),
            [true, false, false, false, false],
        ),
        (
            "deactivate_member",
            form(&[("membership_id", &t)]),
            [true, true, false, false, false],
        ),
        (
            "reactivate_member",
            form(&[("membership_id", &t)]),
            [true, true, false, false, false],
        ),
        (
            "delete_member",
            form(&[("membership_id", &t)]),
            [true, true, false, false, false],
        ),
        (
            "transfer_ownership",
            form(&[("membership_id", &limited.to_string())]),
            [true, false, false, false, false],
        ),
        (
            "set_plan",
            form(&[("plan", "free"), ("seats", "0")]),
            [true, false, false, false, false],
        ),
        ("seat_usage", form(&[]), [true, true, true, true, false]),
        (
            "audit_log",
            form(&no_filters),
            [true, true, false, false, false],
        ),
        (
            "summary_report",
            form(&[
                ("from", "2026-01-01"),
                ("to", "2026-01-31"),
                ("inactive", "false"),
                ("person", ""),
            ]),
            [true, true, true, true, false],
        ),
        (
            "time_settings_of",
            form(&[("membership_id", &t)]),
            [true, true, false, false, false],
        ),
        (
            "set_time_permission",
            form(&[("membership_id", &t), ("may_edit_own_time", "true")]),
            [true, true, false, false, false],
        ),
        (
            "set_kiosk_pin",
            form(&[("membership_id", &t), ("pin", "2468")]),
            [true, true, false, false, false],
        ),
        (
            "profile_of",
            form(&[("membership_id", &t)]),
            [true, true, false, false, false],
        ),
        (
            "save_profile",
            Body::Json(json!({ "membership_id": tara.membership_id, "form": {
                "name": "Tara Target", "working_days": [1, 2, 3, 4, 5], "capacity": "8", "week_start": "1",
                "team_manager_id": null, "billing_rate": "", "currency": "USD",
                "notify_weekly_summary": true, "notify_timer_reminders": true } })),
            [true, true, false, false, false],
        ),
        (
            "bulk_members",
            Body::Json(
                json!({ "op": "Reactivate", "selection": { "Rows": [tara.membership_id] } }),
            ),
            [true, true, false, false, false],
        ),
        (
            "bulk_members",
            Body::Json(
                json!({ "op": { "GiveRole": "Admin" }, "selection": { "Rows": [tara.membership_id] } }),
            ),
            [true, true, false, false, false],
        ),
        (
            "bulk_members",
            Body::Json(
                json!({ "op": { "TakeRole": "Admin" }, "selection": { "Rows": [tara.membership_id] } }),
            ),
            [true, false, false, false, false],
        ),
        // Everyone may track and edit their own.
        ("profile_of", form(&[]), [true, true, true, true, true]),
        ("current_timer", form(&[]), [true, true, true, true, true]),
        (
            "my_week",
            form(&[("offset", "0")]),
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
    for (endpoint, body, allowed) in &calls {
        for ((role, who), may) in people.iter().zip(allowed) {
            let response = send(&app, who, endpoint, body).await;
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
    let bob_id = bob.to_string();
    let form = |pairs: &[(&'static str, &str)]| {
        Body::Form(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    };
    let calls: Vec<(&str, Body)> = vec![
        (
            "set_member_role",
            form(&[
                ("membership_id", &bob_id),
                ("role", "TeamManager"),
                ("on", "true"),
            ]),
        ),
        ("deactivate_member", form(&[("membership_id", &bob_id)])),
        ("reactivate_member", form(&[("membership_id", &bob_id)])),
        ("delete_member", form(&[("membership_id", &bob_id)])),
        ("member_detail", form(&[("membership_id", &bob_id)])),
        ("time_settings_of", form(&[("membership_id", &bob_id)])),
        (
            "set_time_permission",
            form(&[("membership_id", &bob_id), ("may_edit_own_time", "false")]),
        ),
        (
            "set_kiosk_pin",
            form(&[("membership_id", &bob_id), ("pin", "1357")]),
        ),
        ("profile_of", form(&[("membership_id", &bob_id)])),
        (
            "bulk_members",
            Body::Json(json!({ "op": { "AddToGroup": group_b }, "selection": { "Rows": [] } })),
        ),
        (
            "bulk_members",
            Body::Json(
                json!({ "op": { "RemoveFromGroup": group_b }, "selection": { "Rows": [] } }),
            ),
        ),
    ];
    for (endpoint, body) in &calls {
        let response = send(&app, &ada.browser, endpoint, body).await;
        assert_eq!(
            error_of(response).await,
            AppError::NotFound,
            "{endpoint} with B's ids"
        );
    }
    // Picked rows from B are skipped, by name unknown, and nothing changes.
    let step: serde_json::Value = send(
        &app,
        &ada.browser,
        "bulk_members",
        &Body::Json(json!({ "op": "Deactivate", "selection": { "Rows": [bob] } })),
    )
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
