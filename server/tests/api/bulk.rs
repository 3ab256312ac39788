//! Bulk actions over HTTP: every member is checked against the card's
//! rules, refusals are reported with reasons, "all matching" walks the
//! whole view in batches.

use app::error::AppError;
use serde_json::json;
use sqlx::PgPool;

use crate::{
    helpers::{error_of, TestApp},
    lifecycle::{member, other_workspace, owner_app},
};

async fn bulk(app: &TestApp, who: &reqwest::Client, body: serde_json::Value) -> reqwest::Response {
    who.post(format!("{}/api/bulk_members", app.base))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .expect("bulk request")
}

async fn step(app: &TestApp, who: &reqwest::Client, body: serde_json::Value) -> serde_json::Value {
    let response = bulk(app, who, body).await;
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("step json")
}

async fn status_of(app: &TestApp, membership_id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM memberships WHERE id = $1")
        .bind(membership_id)
        .fetch_one(&app.pool)
        .await
        .expect("status")
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_admins_bulk_deactivation_applies_the_rules_to_each_member_and_reports_refusals(
    pool: PgPool,
) {
    let (app, workspace_id, owner) = owner_app(pool).await;
    let ada = member(&app, workspace_id, "ada@example.com", "Ada Admin").await;
    let bea = member(&app, workspace_id, "bea@example.com", "Bea Admin").await;
    let max = member(&app, workspace_id, "max@example.com", "Max Member").await;
    sqlx::query("UPDATE memberships SET is_admin = true WHERE id = ANY($1)")
        .bind(vec![ada.membership_id, bea.membership_id])
        .execute(&app.pool)
        .await
        .expect("admins");
    let (_, _, otto) = other_workspace(&app).await;

    let rows = [
        max.membership_id,
        owner,
        bea.membership_id,
        ada.membership_id,
        otto,
    ];
    let result = step(
        &app,
        &ada.browser,
        json!({ "op": "Deactivate", "selection": { "Rows": rows } }),
    )
    .await;
    assert_eq!(result["done"], 1);
    let reasons: Vec<(i64, String)> = result["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["membership_id"].as_i64().unwrap_or_default(),
                s["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    let reason = |id: i64| {
        reasons
            .iter()
            .find(|(m, _)| *m == id)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    assert!(reason(owner).contains("Owner"), "{}", reason(owner));
    assert!(
        reason(bea.membership_id).contains("Only the Owner"),
        "{}",
        reason(bea.membership_id)
    );
    assert!(
        reason(ada.membership_id).contains("yourself"),
        "{}",
        reason(ada.membership_id)
    );
    assert!(reason(otto).contains("Not a member"), "{}", reason(otto));
    assert_eq!(status_of(&app, max.membership_id).await, "inactive");
    for untouched in [owner, bea.membership_id, ada.membership_id, otto] {
        assert_eq!(status_of(&app, untouched).await, "active");
    }
    // Only Max's deactivation was recorded.
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'member.deactivated'")
            .await,
        1
    );

    // Roles and groups take the same path.
    let group: i64 = sqlx::query_scalar(
        "INSERT INTO groups (workspace_id, name) VALUES ($1, 'Night shift') RETURNING id",
    )
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("group");
    let added = step(
        &app,
        &app.client,
        json!({ "op": { "AddToGroup": group }, "selection": { "Rows": [max.membership_id, bea.membership_id] } }),
    )
    .await;
    assert_eq!(added["done"], 2);
    let again = step(
        &app,
        &app.client,
        json!({ "op": { "AddToGroup": group }, "selection": { "Rows": [max.membership_id] } }),
    )
    .await;
    assert_eq!(again["done"], 0);
    assert_eq!(again["skipped"][0]["reason"], "Already in the group.");
    let role = step(
        &app,
        &app.client,
        json!({ "op": { "GiveRole": "ProjectManager" }, "selection": { "Rows": [bea.membership_id] } }),
    )
    .await;
    assert_eq!(role["done"], 1);
    let searchable: String =
        sqlx::query_scalar("SELECT search_text FROM memberships WHERE id = $1")
            .bind(max.membership_id)
            .fetch_one(&app.pool)
            .await
            .expect("search text");
    assert!(
        searchable.contains("night shift"),
        "group names are searchable at once"
    );

    // A plain member may do none of it; a group of another workspace is not found.
    let refused = bulk(
        &app,
        &max.browser,
        json!({ "op": "Reactivate", "selection": { "Rows": [max.membership_id] } }),
    )
    .await;
    assert_eq!(error_of(refused).await, AppError::Forbidden);
    let foreign_group: i64 = sqlx::query_scalar(
        "INSERT INTO groups (workspace_id, name)
         SELECT m.workspace_id, 'Elsewhere' FROM memberships m WHERE m.id = $1 RETURNING id",
    )
    .bind(otto)
    .fetch_one(&app.pool)
    .await
    .expect("foreign group");
    let foreign = bulk(
        &app,
        &app.client,
        json!({ "op": { "AddToGroup": foreign_group }, "selection": { "Rows": [max.membership_id] } }),
    )
    .await;
    assert_eq!(error_of(foreign).await, AppError::NotFound);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn all_members_matching_a_view_are_deactivated_in_batches(pool: PgPool) {
    let (app, workspace_id, owner) = owner_app(pool).await;
    sqlx::query(
        "INSERT INTO memberships (workspace_id, kind, status, display_name)
         SELECT $1, 'limited', 'active', 'Temp worker ' || n FROM generate_series(1, 130) n",
    )
    .bind(workspace_id)
    .execute(&app.pool)
    .await
    .expect("temps");
    sqlx::query("INSERT INTO memberships (workspace_id, kind, status, display_name) VALUES ($1, 'limited', 'active', 'Permanent Pat')")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("pat");
    sqlx::query("SELECT teamroom_refresh_members($1, NULL)")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("refresh");

    let view = json!({ "q": "temp", "status": "active" });
    let mut after = serde_json::Value::Null;
    let (mut done, mut calls) = (0, 0);
    loop {
        let result = step(
            &app,
            &app.client,
            json!({ "op": "Deactivate", "selection": { "Matching": { "view": view, "after": after } } }),
        )
        .await;
        done += result["done"].as_i64().unwrap_or_default();
        assert!(
            result["skipped"].as_array().is_some_and(Vec::is_empty),
            "{result}"
        );
        calls += 1;
        after = result["after"].clone();
        if after.is_null() {
            break;
        }
        assert!(calls < 20, "the walk ends");
    }
    assert_eq!(done, 130);
    assert!(calls > 1, "more than one batch: {calls}");
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE display_name LIKE 'Temp worker %' AND status = 'inactive'").await,
        130
    );
    assert_eq!(status_of(&app, owner).await, "active");
    let pat: String =
        sqlx::query_scalar("SELECT status FROM memberships WHERE display_name = 'Permanent Pat'")
            .fetch_one(&app.pool)
            .await
            .expect("pat status");
    assert_eq!(pat, "active", "outside the view, untouched");
}
