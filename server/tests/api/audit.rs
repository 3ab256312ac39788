//! The audit log over HTTP: rows written by real changes, filters, keyset
//! pages, who may read it and what Admins do not see.

use app::error::AppError;
use sqlx::PgPool;

use crate::{
    helpers::{error_of, fns, whole_audit_log, Call, TestApp},
    lifecycle::{member, other_workspace, owner_app},
};

async fn log(app: &TestApp, who: &reqwest::Client, filter: fns::AuditLog) -> serde_json::Value {
    let response = app.run_as(who, filter).await;
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("audit json")
}

fn actions(page: &serde_json::Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn changes_are_logged_with_who_what_and_to_whom_and_can_be_filtered(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let ada = member(&app, workspace_id, "ada@example.com", "Adá Admin").await;
    let max = member(&app, workspace_id, "max@example.com", "Max Member").await;
    for call in [
        Call::form(fns::SetMemberRole {
            membership_id: ada.membership_id,
            role: fns::RoleName::Admin,
            on: true,
        }),
        Call::form(fns::DeactivateMember {
            membership_id: max.membership_id,
        }),
    ] {
        let response = app.send_with(&app.client, call.clone()).await;
        assert!(
            response.status().is_success(),
            "{}: {}",
            call.name(),
            response.status()
        );
    }
    let all = log(&app, &app.client, whole_audit_log()).await;
    let listed = actions(&all);
    assert_eq!(
        &listed[..2],
        ["member.deactivated", "member.role_given"],
        "newest first"
    );
    let newest = &all["rows"][0];
    assert_eq!(
        newest["actor"].as_str(),
        Some("Olive Owner <olive@example.com>")
    );
    assert_eq!(
        newest["target"].as_str(),
        Some("Max Member <max@example.com>")
    );
    assert!(newest["details"]
        .as_str()
        .is_some_and(|d| d.contains("\"status\":\"active\"")));

    let by_action = log(
        &app,
        &app.client,
        fns::AuditLog {
            action: "member.role_given".into(),
            ..whole_audit_log()
        },
    )
    .await;
    assert_eq!(actions(&by_action), ["member.role_given"]);
    let by_target = log(
        &app,
        &app.client,
        fns::AuditLog {
            target: "max@".into(),
            ..whole_audit_log()
        },
    )
    .await;
    assert_eq!(actions(&by_target), ["member.deactivated"]);
    let by_actor = log(
        &app,
        &app.client,
        fns::AuditLog {
            actor: "nobody-like-this".into(),
            ..whole_audit_log()
        },
    )
    .await;
    assert!(actions(&by_actor).is_empty());
    // Case and accents fold as on the Team page, both ways; a typed `%` or
    // `_` is that character, not a wildcard.
    let by_folded_target = log(
        &app,
        &app.client,
        fns::AuditLog {
            target: "ADA ADM".into(),
            ..whole_audit_log()
        },
    )
    .await;
    let folded = actions(&by_folded_target);
    assert!(
        folded.iter().any(|a| a == "member.role_given"),
        "{folded:?}"
    );
    assert!(
        !folded.iter().any(|a| a == "member.deactivated"),
        "{folded:?}"
    );
    let by_accented_actor = log(
        &app,
        &app.client,
        fns::AuditLog {
            actor: "ÓLIVE".into(),
            ..whole_audit_log()
        },
    )
    .await;
    let accented = actions(&by_accented_actor);
    for action in ["member.role_given", "member.deactivated"] {
        assert!(
            accented.iter().any(|a| a == action),
            "{action}: {accented:?}"
        );
    }
    for wildcard in ["%", "_"] {
        let literal = log(
            &app,
            &app.client,
            fns::AuditLog {
                target: wildcard.into(),
                ..whole_audit_log()
            },
        )
        .await;
        assert!(actions(&literal).is_empty(), "{wildcard} matched");
    }
    let future = log(
        &app,
        &app.client,
        fns::AuditLog {
            from: "2099-01-01".into(),
            to: "2099-01-31".into(),
            ..whole_audit_log()
        },
    )
    .await;
    assert!(actions(&future).is_empty());

    // Unknown actions and bad dates are refused with a message.
    let bad = app
        .run(fns::AuditLog {
            action: "drop.tables".into(),
            ..whole_audit_log()
        })
        .await;
    assert!(error_of(bad).await.field_message("action").is_some());
    let backwards = app
        .run(fns::AuditLog {
            from: "2026-02-01".into(),
            to: "2026-01-01".into(),
            ..whole_audit_log()
        })
        .await;
    assert!(error_of(backwards).await.field_message("to").is_some());

    // The CSV export has the same rows.
    let csv = app
        .client
        .get(format!("{}/api/audit.csv?target=max%40", app.base))
        .send()
        .await
        .expect("csv");
    assert!(csv.status().is_success(), "{}", csv.status());
    let text = csv.text().await.expect("csv text");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("Member deactivated"));

    // A plain member may not read the log.
    let refused = app.run_as(&max.browser, whole_audit_log()).await;
    assert!(matches!(error_of(refused).await, AppError::Forbidden));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn pages_follow_the_keyset_and_admins_do_not_see_owner_only_events(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let ada = member(&app, workspace_id, "ada@example.com", "Ada Admin").await;
    sqlx::query("UPDATE memberships SET is_admin = true WHERE id = $1")
        .bind(ada.membership_id)
        .execute(&app.pool)
        .await
        .expect("admin");
    // 120 events here, one owner-only event, and 5 in another workspace.
    sqlx::query(
        "INSERT INTO audit_events (workspace_id, actor_account_id, action, details)
         SELECT $1, w.owner_account_id, 'group.created', jsonb_build_object('name', 'G' || n)
           FROM workspaces w, generate_series(1, 120) n WHERE w.id = $1",
    )
    .bind(workspace_id)
    .execute(&app.pool)
    .await
    .expect("events");
    sqlx::query(
        "INSERT INTO audit_events (workspace_id, actor_account_id, action)
         SELECT $1, owner_account_id, 'owner_access.logged_in_as' FROM workspaces WHERE id = $1",
    )
    .bind(workspace_id)
    .execute(&app.pool)
    .await
    .expect("owner event");
    other_workspace(&app).await;

    let mut seen = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let page = log(
            &app,
            &app.client,
            fns::AuditLog {
                before,
                ..whole_audit_log()
            },
        )
        .await;
        let ids: Vec<i64> = page["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["id"].as_i64().unwrap_or_default())
            .collect();
        assert!(ids.len() <= 50);
        seen.extend(ids);
        match page["next_before"].as_i64() {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "strictly newest first, no repeats");
    let expected: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(
        seen.len() as i64,
        expected,
        "the owner reaches every event of this workspace"
    );

    let admin_view = log(
        &app,
        &ada.browser,
        fns::AuditLog {
            actor: "olive".into(),
            ..whole_audit_log()
        },
    )
    .await;
    assert!(!actions(&admin_view)
        .iter()
        .any(|a| a.starts_with("owner_access.")));
    let owner_view = log(
        &app,
        &app.client,
        fns::AuditLog {
            actor: "olive".into(),
            ..whole_audit_log()
        },
    )
    .await;
    assert!(actions(&owner_view)
        .iter()
        .any(|a| a.starts_with("owner_access.")));
}
