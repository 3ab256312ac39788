//! Issue 14 item 8: an account signed in with no workspace at all calls
//! every workspace server function and is refused by the guard each time.
//! The list comes from the registered server functions, so a new function
//! is checked (or must be placed in one of the lists below) the day it is
//! added; a function that forgot its guard answers something else here.

use app::{api::PUBLIC_ENDPOINTS, error::AppError};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{error_of, spawn, TestApp, GOOD_PASSWORD};

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

enum Body {
    Form(Vec<(&'static str, &'static str)>),
    Json(serde_json::Value),
}

fn form(pairs: &[(&'static str, &'static str)]) -> Body {
    Body::Form(pairs.to_vec())
}

/// Well-formed arguments for every workspace function, so the request
/// reaches the function (a 400 for bad arguments would hide a missing
/// guard and counts as a failure).
fn workspace_functions() -> Vec<(&'static str, Body)> {
    vec![
        ("list_accounts", form(&[("search", "x"), ("filter", "x")])),
        ("stop_member_timer", form(&[("membership_id", "1")])),
        (
            "correct_member_entry",
            form(&[
                ("membership_id", "1"),
                ("entry_id", "1"),
                ("start", "x"),
                ("end", "x"),
            ]),
        ),
        (
            "remove_member_two_factor",
            form(&[("membership_id", "1"), ("method", "All")]),
        ),
        (
            "set_member_password",
            form(&[("membership_id", "1"), ("new_password", "x")]),
        ),
        ("list_my_api_keys", form(&[])),
        ("create_api_key", form(&[("name", "x")])),
        ("revoke_api_key", form(&[("id", "1")])),
        ("revoke_member_api_keys", form(&[("membership_id", "1")])),
        (
            "audit_log",
            form(&[
                ("actor", "x"),
                ("target", "x"),
                ("action", "x"),
                ("from", "x"),
                ("to", "x"),
            ]),
        ),
        (
            "bulk_members",
            Body::Json(json!({"op": "Deactivate", "selection": {"Rows": [1]}})),
        ),
        ("list_groups", form(&[])),
        ("create_group", form(&[("name", "x")])),
        ("rename_group", form(&[("group_id", "1"), ("name", "x")])),
        ("delete_group", form(&[("group_id", "1")])),
        (
            "add_group_members",
            form(&[("group_id", "1"), ("membership_ids[0]", "1")]),
        ),
        (
            "remove_group_member",
            form(&[("group_id", "1"), ("membership_id", "1")]),
        ),
        ("list_projects", form(&[])),
        ("create_project", form(&[("name", "x")])),
        (
            "rename_project",
            form(&[("project_id", "1"), ("name", "x")]),
        ),
        (
            "set_project_archived",
            form(&[("project_id", "1"), ("archived", "false")]),
        ),
        (
            "set_member_projects",
            form(&[
                ("membership_id", "1"),
                ("all_projects", "false"),
                ("project_ids[0]", "1"),
            ]),
        ),
        ("start_impersonation", form(&[("membership_id", "1")])),
        ("impersonation_setting", form(&[])),
        ("set_impersonation_allowed", form(&[("allowed", "false")])),
        (
            "preview_import",
            Body::Json(json!({"file_text": "email\nnew.person@example.com\n"})),
        ),
        (
            "import_members",
            Body::Json(json!({"rows": [], "send_email": false})),
        ),
        (
            "check_invite_addresses",
            form(&[("addresses[0]", "new.person@example.com")]),
        ),
        (
            "invite_members",
            form(&[
                ("addresses", "x"),
                ("send_email", "false"),
                ("all_projects", "false"),
            ]),
        ),
        ("add_limited_member", form(&[("name", "x")])),
        ("send_invite", form(&[("membership_id", "1")])),
        ("revoke_invite", form(&[("membership_id", "1")])),
        ("launch_kiosk", form(&[])),
        ("list_kiosk_devices", form(&[])),
        ("end_kiosk_device", form(&[("id", "1")])),
        (
            "set_member_role",
            form(&[("membership_id", "1"), ("role", "Admin"), ("on", "false")]),
        ),
        ("deactivate_member", form(&[("membership_id", "1")])),
        ("unlock_member", form(&[("membership_id", "1")])),
        ("reactivate_member", form(&[("membership_id", "1")])),
        ("delete_member", form(&[("membership_id", "1")])),
        ("transfer_ownership", form(&[("membership_id", "1")])),
        ("seat_usage", form(&[])),
        ("set_plan", form(&[("plan", "x"), ("seats", "x")])),
        ("list_members", form(&[])),
        ("count_members", form(&[])),
        ("member_detail", form(&[("membership_id", "1")])),
        ("profile_of", form(&[])),
        (
            "save_profile",
            Body::Json(
                json!({"membership_id": null, "form": {"name": "Nobody", "working_days": [1], "capacity": "", "week_start": "", "team_manager_id": null, "billing_rate": "", "currency": "", "notify_weekly_summary": false, "notify_timer_reminders": false}}),
            ),
        ),
        (
            "summary_report",
            form(&[
                ("from", "x"),
                ("to", "x"),
                ("inactive", "false"),
                ("person", "x"),
            ]),
        ),
        ("list_scim_tokens", form(&[])),
        ("create_scim_token", form(&[("name", "x")])),
        ("revoke_scim_token", form(&[("id", "1")])),
        ("current_timer", form(&[])),
        ("start_timer", form(&[("description", "x")])),
        ("stop_timer", form(&[])),
        ("my_week", form(&[("offset", "1")])),
        (
            "save_entry",
            form(&[("description", "x"), ("start", "x"), ("end", "x")]),
        ),
        ("delete_entry", form(&[("entry_id", "1")])),
        ("time_zones", form(&[])),
        (
            "set_time_settings",
            form(&[("time_zone", "x"), ("week_start", "x")]),
        ),
        ("set_kiosk_pin", form(&[("pin", "x")])),
        ("time_settings_of", form(&[("membership_id", "1")])),
        (
            "set_time_permission",
            form(&[("membership_id", "1"), ("may_edit_own_time", "false")]),
        ),
        ("set_workspace_two_factor", form(&[("required", "false")])),
    ]
}

async fn send(app: &TestApp, endpoint: &str, body: &Body) -> reqwest::Response {
    let request = app
        .client
        .post(format!("{}/api/{endpoint}", app.base))
        .header("accept", "application/json");
    match body {
        Body::Form(pairs) => request.form(pairs),
        Body::Json(value) => request.json(value),
    }
    .send()
    .await
    .expect("request")
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
    let me = app.call("current_user", &[]).await;
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
            functions.iter().any(|(f, _)| f == name),
        ];
        assert_eq!(
            places.iter().filter(|p| **p).count(),
            1,
            "{name}: list it once, in PUBLIC_ENDPOINTS, ACCOUNT_LEVEL or workspace_functions() (with arguments)"
        );
    }
    for (name, _) in &functions {
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
    for (name, body) in &functions {
        let response = send(&app, name, body).await;
        let status = response.status().as_u16();
        let (want_status, want) = if HIDDEN.contains(name) {
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
    assert!(functions.len() >= 60, "only {} checked", functions.len());
}
