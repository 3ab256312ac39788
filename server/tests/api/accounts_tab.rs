//! The Owner's Accounts tab over HTTP: who may open it (everyone else gets
//! 404), its search, filters and keyset pages, and each action the Owner
//! takes there (stop a timer and correct it, remove two-factor, set a
//! password), with the refusal of each attack written as a test.

use std::time::Duration;

use app::error::AppError;
use futures_util::StreamExt;
use serde_json::Value;
use sqlx::PgPool;

use crate::{
    helpers::{client, error_of, fns, Call, TestApp, GOOD_PASSWORD},
    lifecycle::{member, other_workspace, owner_app, Person},
};

async fn enterprise(app: &TestApp, workspace_id: i64) {
    sqlx::query("UPDATE workspaces SET plan = 'enterprise' WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("plan");
}

/// Leaves `person` a member of `workspace_id` only (they signed up with a
/// workspace of their own), so their account is within its Owner's reach.
async fn only_in(app: &TestApp, person: &Person, workspace_id: i64) {
    sqlx::query("DELETE FROM memberships WHERE account_id = $1 AND workspace_id <> $2")
        .bind(person.account_id)
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("memberships");
}

async fn list(app: &TestApp, who: &reqwest::Client, search: &str, filter: &str) -> Value {
    let response = app
        .run_as(
            who,
            fns::ListAccounts {
                search: search.to_owned(),
                filter: filter.to_owned(),
                cursor: None,
            },
        )
        .await;
    assert_eq!(response.status(), 200, "list_accounts");
    response.json().await.expect("page")
}

fn names(page: &Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["name"].as_str().expect("name").to_owned())
        .collect()
}

async fn scalar_i64(app: &TestApp, sql: &'static str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("scalar")
}

async fn start_timer(app: &TestApp, person: &Person) {
    let started = app
        .run_as(
            &person.browser,
            fns::StartTimer {
                description: "Forgotten over the weekend".into(),
                project_id: None,
            },
        )
        .await;
    assert!(started.status().is_success(), "{}", started.status());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn only_the_enterprise_owner_reaches_the_tab_and_everyone_else_gets_not_found(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let ada = member(&app, workspace_id, "ada@example.com", "Ada Admin").await;
    let mia = member(&app, workspace_id, "mia@example.com", "Mia Member").await;
    sqlx::query("UPDATE memberships SET is_admin = true WHERE id = $1")
        .bind(ada.membership_id)
        .execute(&app.pool)
        .await
        .expect("admin");
    only_in(&app, &mia, workspace_id).await;
    start_timer(&app, &mia).await;

    // Pro plan: not even the Owner.
    let response = app
        .run(fns::ListAccounts {
            search: String::new(),
            filter: String::new(),
            cursor: None,
        })
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_of(response).await, AppError::NotFound);

    enterprise(&app, workspace_id).await;
    let page = list(&app, &app.client, "", "").await;
    assert_eq!(names(&page), vec!["Ada Admin", "Mia Member", "Olive Owner"]);

    // Every action, by the Admin and by a plain member: 404, nothing done.
    let actions = vec![
        Call::form(fns::ListAccounts {
            search: String::new(),
            filter: String::new(),
            cursor: None,
        }),
        Call::form(fns::StopMemberTimer {
            membership_id: mia.membership_id,
        }),
        Call::form(fns::RemoveMemberTwoFactor {
            membership_id: mia.membership_id,
            method: fns::TwoFactorMethod::All,
        }),
        Call::form(fns::SetMemberPassword {
            membership_id: mia.membership_id,
            own_password: GOOD_PASSWORD.to_owned(),
            new_password: "a brand new phrase".into(),
        }),
        Call::form(fns::CorrectMemberEntry {
            membership_id: mia.membership_id,
            entry_id: 1,
            start: "2026-01-05T09:00".into(),
            end: "2026-01-05T10:00".into(),
        }),
    ];
    for who in [&ada, &mia] {
        for call in &actions {
            let response = app.send_with(&who.browser, call.clone()).await;
            assert_eq!(response.status(), 404, "{}", call.name());
            assert_eq!(
                error_of(response).await,
                AppError::NotFound,
                "{}",
                call.name()
            );
        }
    }
    let running = scalar_i64(
        &app,
        "SELECT count(*) FROM time_entries WHERE membership_id = $1 AND ended_at IS NULL",
        mia.membership_id,
    )
    .await;
    assert_eq!(running, 1, "the refused stops changed nothing");

    // Another Enterprise Owner naming this workspace's member: 404.
    let (other, other_workspace_id, _) = other_workspace(&app).await;
    enterprise(&app, other_workspace_id).await;
    let response = other
        .run(fns::StopMemberTimer {
            membership_id: mia.membership_id,
        })
        .await;
    assert_eq!(response.status(), 404);
    let running = scalar_i64(
        &app,
        "SELECT count(*) FROM time_entries WHERE membership_id = $1 AND ended_at IS NULL",
        mia.membership_id,
    )
    .await;
    assert_eq!(running, 1);
    let other_page = list(&other, &other.client, "", "").await;
    assert_eq!(names(&other_page), vec!["Otto Other"]);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn search_filters_and_pages_walk_every_account_exactly_once(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    enterprise(&app, workspace_id).await;
    // 130 accounts made in SQL (signing up each would hash 130 passwords).
    sqlx::query(
        "WITH made AS (
             INSERT INTO accounts (email, display_name, password_hash)
             SELECT 'person' || n || '@example.com', 'Person ' || lpad(n::text, 3, '0'), 'x'
               FROM generate_series(1, 130) n
             RETURNING id)
         INSERT INTO memberships (workspace_id, account_id, kind, status)
         SELECT $1, id, 'full', 'active' FROM made",
    )
    .bind(workspace_id)
    .execute(&app.pool)
    .await
    .expect("people");
    sqlx::query(
        "INSERT INTO accounts (email, display_name, password_hash) VALUES ('jose@example.com', 'José Núñez', 'x')",
    )
    .execute(&app.pool)
    .await
    .expect("josé");
    sqlx::query(
        "INSERT INTO memberships (workspace_id, account_id, kind, status)
         SELECT $1, id, 'full', 'inactive' FROM accounts WHERE email = 'jose@example.com'",
    )
    .bind(workspace_id)
    .execute(&app.pool)
    .await
    .expect("josé member");
    sqlx::query("SELECT teamroom_refresh_members($1, NULL)")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("refresh");

    // Walk every page: 132 accounts (Olive, José, 130 people), each once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page: Value = app
            .run(fns::ListAccounts {
                search: String::new(),
                filter: String::new(),
                cursor: cursor.clone(),
            })
            .await
            .json()
            .await
            .expect("page");
        pages += 1;
        seen.extend(names(&page));
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 132);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 132, "no account twice");
    assert_eq!(
        seen[0], "José Núñez",
        "folded names sort as the Team page does"
    );

    // Accents fold both ways; a word of the address finds its account.
    assert_eq!(
        names(&list(&app, &app.client, "jose nunez", "").await),
        vec!["José Núñez"]
    );
    assert_eq!(
        names(&list(&app, &app.client, "person7@", "").await),
        vec!["Person 007"]
    );
    assert_eq!(
        list(&app, &app.client, "nobody-here", "").await["rows"],
        serde_json::json!([])
    );

    // Filters: locked, two-factor, timer running.
    sqlx::query(
        "INSERT INTO auth_throttles (scope, key, failures, last_failure_at, blocked_until)
         VALUES ('sign_in_email', 'person5@example.com', 9, now(), now() + interval '10 minutes')",
    )
    .execute(&app.pool)
    .await
    .expect("lock");
    sqlx::query(
        "INSERT INTO two_factor (account_id, secret, enabled_at)
         SELECT id, '\\x00112233445566778899aabbccddeeff', now() FROM accounts WHERE email = 'person6@example.com'",
    )
    .execute(&app.pool)
    .await
    .expect("two-factor");
    sqlx::query(
        "INSERT INTO time_entries (workspace_id, membership_id, description, started_at, source)
         SELECT $1, m.id, 'Still going', now() - interval '3 days', 'timer'
           FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE m.workspace_id = $1 AND a.email = 'person8@example.com'",
    )
    .bind(workspace_id)
    .execute(&app.pool)
    .await
    .expect("timer");
    let locked = list(&app, &app.client, "", "locked").await;
    assert_eq!(names(&locked), vec!["Person 005"]);
    assert!(locked["rows"][0]["locked_until"].is_string());
    let two_factor = list(&app, &app.client, "", "two-factor").await;
    assert_eq!(names(&two_factor), vec!["Person 006"]);
    assert_eq!(two_factor["rows"][0]["authenticator"], true);
    let timers = list(&app, &app.client, "", "timer").await;
    assert_eq!(names(&timers), vec!["Person 008"]);
    assert_eq!(timers["rows"][0]["timer"]["description"], "Still going");
    assert_eq!(
        names(&list(&app, &app.client, "", "api-keys").await),
        Vec::<String>::new()
    );
    // A live key counts; a revoked one does not.
    sqlx::query(
        "INSERT INTO api_keys (workspace_id, membership_id, name, prefix, key_hash, revoked_at)
         SELECT $1, m.id, 'CI', 'trk_test000' || n, sha256(n::text::bytea), CASE WHEN n = 2 THEN now() END
           FROM memberships m JOIN accounts a ON a.id = m.account_id, generate_series(1, 2) n
          WHERE m.workspace_id = $1 AND a.email = 'person9@example.com'",
    )
    .bind(workspace_id)
    .execute(&app.pool)
    .await
    .expect("keys");
    let keyed = list(&app, &app.client, "", "api-keys").await;
    assert_eq!(names(&keyed), vec!["Person 009"]);
    assert_eq!(keyed["rows"][0]["api_keys"], 1);

    // Bad input: a clear message on its field.
    for (search, filter, field) in [
        ("x".repeat(201), String::new(), "search"),
        ("a\u{1}b".to_owned(), String::new(), "search"),
        (String::new(), "admins".to_owned(), "filter"),
    ] {
        let response = app
            .run(fns::ListAccounts {
                search: search.to_owned(),
                filter: filter.to_owned(),
                cursor: None,
            })
            .await;
        assert_eq!(response.status(), 400);
        assert!(
            error_of(response).await.field_message(field).is_some(),
            "{field}"
        );
    }
    let response = app
        .run(fns::ListAccounts {
            search: String::new(),
            filter: String::new(),
            cursor: Some("not-a-cursor".into()),
        })
        .await;
    assert_eq!(response.status(), 400);
    assert!(error_of(response).await.field_message("cursor").is_some());
    // A cursor of another workspace is refused, not followed.
    let (other, other_workspace_id, _) = other_workspace(&app).await;
    enterprise(&app, other_workspace_id).await;
    let first: Value = app
        .run(fns::ListAccounts {
            search: String::new(),
            filter: String::new(),
            cursor: None,
        })
        .await
        .json()
        .await
        .expect("page");
    let foreign = first["next"].as_str().expect("a next page");
    let response = other
        .run(fns::ListAccounts {
            search: String::new(),
            filter: String::new(),
            cursor: Some(foreign.to_owned()),
        })
        .await;
    assert_eq!(response.status(), 400);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_owner_stops_a_forgotten_timer_and_the_open_page_hears_it_at_once(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    enterprise(&app, workspace_id).await;
    let mia = member(&app, workspace_id, "mia@example.com", "Mia Member").await;
    start_timer(&app, &mia).await;

    // Mia's open page listens for timer changes.
    let events = mia
        .browser
        .get(format!("{}/api/events", app.base))
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), 200);
    assert!(events.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/event-stream"));
    let mut stream = events.bytes_stream();
    // The stream is open before the stop happens.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let stopped = app
        .run(fns::StopMemberTimer {
            membership_id: mia.membership_id,
        })
        .await;
    assert_eq!(stopped.status(), 200);
    let stopped: Value = stopped.json().await.expect("entry");
    let entry_id = stopped["entry_id"].as_i64().expect("entry id");

    let heard = tokio::time::timeout(Duration::from_secs(5), async {
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
            if text.contains("event: timer") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(heard, Ok(true), "Mia's page heard the stop within 5 s");
    let current: Value = app
        .run_as(&mia.browser, fns::CurrentTimer {})
        .await
        .json()
        .await
        .expect("timer");
    assert!(current.is_null(), "no timer runs any more");
    let ended = scalar_i64(
        &app,
        "SELECT count(*) FROM time_entries WHERE id = $1 AND ended_at IS NOT NULL",
        entry_id,
    )
    .await;
    assert_eq!(ended, 1, "the entry is saved");
    let audited = scalar_i64(
        &app,
        "SELECT count(*) FROM audit_events WHERE action = 'owner_access.timer_stopped' AND target_membership_id = $1",
        mia.membership_id,
    )
    .await;
    assert_eq!(audited, 1);

    // Stopping again says why it cannot.
    let again = app
        .run(fns::StopMemberTimer {
            membership_id: mia.membership_id,
        })
        .await;
    assert_eq!(again.status(), 409);

    // Correcting: bad times change nothing; good ones are saved and audited.
    let bad = app
        .run(fns::CorrectMemberEntry {
            membership_id: mia.membership_id,
            entry_id,
            start: "2026-01-05T10:00".into(),
            end: "2026-01-05T09:00".into(),
        })
        .await;
    assert_eq!(bad.status(), 400);
    assert!(error_of(bad).await.field_message("end").is_some());
    let good = app
        .run(fns::CorrectMemberEntry {
            membership_id: mia.membership_id,
            entry_id,
            start: "2026-01-05T09:00".into(),
            end: "2026-01-05T17:30".into(),
        })
        .await;
    assert_eq!(good.status(), 200);
    let seconds = scalar_i64(
        &app,
        "SELECT extract(epoch FROM ended_at - started_at)::bigint FROM time_entries WHERE id = $1",
        entry_id,
    )
    .await;
    assert_eq!(seconds, 8 * 3600 + 1800);
    let corrected = scalar_i64(
        &app,
        "SELECT count(*) FROM audit_events WHERE action = 'owner_access.entry_corrected' AND target_membership_id = $1",
        mia.membership_id,
    )
    .await;
    assert_eq!(corrected, 1);
    // Another member's entry id is not found through Mia.
    let max = app.count("SELECT max(id) FROM time_entries").await + 1;
    let stray = app
        .run(fns::CorrectMemberEntry {
            membership_id: mia.membership_id,
            entry_id: max,
            start: "2026-01-05T09:00".into(),
            end: "2026-01-05T10:00".into(),
        })
        .await;
    assert_eq!(stray.status(), 404);
}

/// Two-factor on for an account, with three unused recovery codes.
async fn with_two_factor(app: &TestApp, account_id: i64) {
    sqlx::query(
        "INSERT INTO two_factor (account_id, secret, enabled_at) VALUES ($1, '\\x00112233445566778899aabbccddeeff', now())",
    )
    .bind(account_id)
    .execute(&app.pool)
    .await
    .expect("two-factor");
    sqlx::query(
        "INSERT INTO recovery_codes (account_id, code_hash) SELECT $1, sha256(n::text::bytea) FROM generate_series(1, 3) n",
    )
    .bind(account_id)
    .execute(&app.pool)
    .await
    .expect("codes");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn removing_two_factor_stays_within_the_owners_reach_and_signs_the_person_out(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    enterprise(&app, workspace_id).await;
    let mia = member(&app, workspace_id, "mia@example.com", "Mia Member").await;
    with_two_factor(&app, mia.account_id).await;

    // Mia also owns a workspace of her own: out of Olive's reach.
    let refused = app
        .run(fns::RemoveMemberTwoFactor {
            membership_id: mia.membership_id,
            method: fns::TwoFactorMethod::All,
        })
        .await;
    assert_eq!(refused.status(), 409);
    let page = list(&app, &app.client, "mia", "").await;
    assert_eq!(page["rows"][0]["within_reach"], false);
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT count(*) FROM two_factor WHERE account_id = $1",
            mia.account_id
        )
        .await,
        1,
        "nothing removed"
    );

    only_in(&app, &mia, workspace_id).await;
    let mails_before = app.count("SELECT count(*) FROM outbox").await;
    let codes = app
        .run(fns::RemoveMemberTwoFactor {
            membership_id: mia.membership_id,
            method: fns::TwoFactorMethod::RecoveryCodes,
        })
        .await;
    assert_eq!(codes.status(), 200);
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT count(*) FROM recovery_codes WHERE account_id = $1",
            mia.account_id
        )
        .await,
        0
    );
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT count(*) FROM two_factor WHERE account_id = $1",
            mia.account_id
        )
        .await,
        1,
        "the authenticator stays"
    );
    // Mia's browser was signed out.
    let after = app.run_as(&mia.browser, fns::CurrentTimer {}).await;
    assert_eq!(after.status(), 401);
    assert_eq!(
        app.count("SELECT count(*) FROM outbox").await,
        mails_before + 1
    );

    let all = app
        .run(fns::RemoveMemberTwoFactor {
            membership_id: mia.membership_id,
            method: fns::TwoFactorMethod::All,
        })
        .await;
    assert_eq!(all.status(), 200);
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT count(*) FROM two_factor WHERE account_id = $1",
            mia.account_id
        )
        .await,
        0
    );
    let audited = scalar_i64(
        &app,
        "SELECT count(*) FROM audit_events WHERE action = 'owner_access.two_factor_removed' AND target_account_id = $1",
        mia.account_id,
    )
    .await;
    assert_eq!(audited, 2);
    // Nothing left to remove says so.
    let again = app
        .run(fns::RemoveMemberTwoFactor {
            membership_id: mia.membership_id,
            method: fns::TwoFactorMethod::All,
        })
        .await;
    assert_eq!(again.status(), 409);
    // The Owner's own two-factor is not removed from here.
    let owner_membership = scalar_i64(
        &app,
        "SELECT m.id FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
          WHERE w.id = $1 AND m.account_id = w.owner_account_id",
        workspace_id,
    )
    .await;
    let own = app
        .run(fns::RemoveMemberTwoFactor {
            membership_id: owner_membership,
            method: fns::TwoFactorMethod::All,
        })
        .await;
    assert_eq!(own.status(), 409);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn setting_a_password_needs_the_owners_own_password_and_ends_the_persons_sessions(
    pool: PgPool,
) {
    let (app, workspace_id, _) = owner_app(pool).await;
    enterprise(&app, workspace_id).await;
    let mia = member(&app, workspace_id, "mia@example.com", "Mia Member").await;
    let new_password = "owner chosen phrase";

    // Out of reach while Mia owns a workspace of her own.
    let refused = app
        .run(fns::SetMemberPassword {
            membership_id: mia.membership_id,
            own_password: GOOD_PASSWORD.to_owned(),
            new_password: new_password.to_owned(),
        })
        .await;
    assert_eq!(refused.status(), 409);
    only_in(&app, &mia, workspace_id).await;

    // The Owner's own password first: missing, then wrong.
    for (own, message_field) in [("", "own_password"), ("not my password", "own_password")] {
        let response = app
            .run(fns::SetMemberPassword {
                membership_id: mia.membership_id,
                own_password: own.to_owned(),
                new_password: new_password.to_owned(),
            })
            .await;
        assert_eq!(response.status(), 400);
        assert!(error_of(response)
            .await
            .field_message(message_field)
            .is_some());
    }
    // A weak new password is refused on its field.
    let weak = app
        .run(fns::SetMemberPassword {
            membership_id: mia.membership_id,
            own_password: GOOD_PASSWORD.to_owned(),
            new_password: "short".into(),
        })
        .await;
    assert_eq!(weak.status(), 400);
    assert!(error_of(weak).await.field_message("new_password").is_some());
    let hash_before: String =
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1")
            .bind(mia.account_id)
            .fetch_one(&app.pool)
            .await
            .expect("hash");

    let set = app
        .run(fns::SetMemberPassword {
            membership_id: mia.membership_id,
            own_password: GOOD_PASSWORD.to_owned(),
            new_password: new_password.to_owned(),
        })
        .await;
    assert_eq!(set.status(), 200);
    let (hash_after, must_change): (String, bool) =
        sqlx::query_as("SELECT password_hash, must_change_password FROM accounts WHERE id = $1")
            .bind(mia.account_id)
            .fetch_one(&app.pool)
            .await
            .expect("account");
    assert_ne!(hash_before, hash_after);
    assert!(must_change);
    assert_eq!(
        app.run_as(&mia.browser, fns::CurrentTimer {})
            .await
            .status(),
        401,
        "Mia's sessions ended"
    );
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT count(*) FROM audit_events WHERE action = 'owner_access.password_set' AND target_account_id = $1",
            mia.account_id
        )
        .await,
        1
    );
    // Within five minutes the Owner is not asked again.
    let again = app
        .run(fns::SetMemberPassword {
            membership_id: mia.membership_id,
            own_password: Default::default(),
            new_password: "another owner phrase".into(),
        })
        .await;
    assert_eq!(again.status(), 200);
    // After them, it is asked again.
    sqlx::query("UPDATE sessions SET reauthenticated_at = now() - interval '6 minutes'")
        .execute(&app.pool)
        .await
        .expect("age");
    let stale = app
        .run(fns::SetMemberPassword {
            membership_id: mia.membership_id,
            own_password: Default::default(),
            new_password: "a third owner phrase".into(),
        })
        .await;
    assert_eq!(stale.status(), 400);
    assert!(error_of(stale)
        .await
        .field_message("own_password")
        .is_some());

    // Mia signs in with what the Owner set.
    let browser = client();
    let signed_in = app
        .run_as(
            &browser,
            fns::SignIn {
                email: "mia@example.com".into(),
                password: "another owner phrase".into(),
            },
        )
        .await;
    assert!(
        signed_in.status().is_success() || signed_in.status().is_redirection(),
        "{}",
        signed_in.status()
    );
    // ...which opens no session: she is sent to choose her own first.
    let to = signed_in
        .headers()
        .get("location")
        .or_else(|| signed_in.headers().get("serverfnredirect"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(to.starts_with("/reset-password/"), "{to}");
    assert!(to.ends_with("?set-by-owner"), "{to}");
    assert_eq!(
        app.run_as(&browser, fns::CurrentTimer {}).await.status(),
        401,
        "no session with the Owner's password"
    );
    let token = to
        .trim_start_matches("/reset-password/")
        .trim_end_matches("?set-by-owner")
        .to_owned();
    let chosen = app
        .run_as(
            &browser,
            fns::ResetPassword {
                token: token.to_owned(),
                password: "mia chose this herself".into(),
            },
        )
        .await;
    assert!(
        chosen.status().is_success() || chosen.status().is_redirection(),
        "{}",
        chosen.status()
    );
    assert_eq!(
        app.run_as(&browser, fns::CurrentTimer {}).await.status(),
        200,
        "signed in with her own password"
    );
    let must_change: bool =
        sqlx::query_scalar("SELECT must_change_password FROM accounts WHERE id = $1")
            .bind(mia.account_id)
            .fetch_one(&app.pool)
            .await
            .expect("flag");
    assert!(!must_change);
    // The token worked once.
    let replay = app
        .run_as(
            &client(),
            fns::ResetPassword {
                token: token.to_owned(),
                password: "someone else's phrase".into(),
            },
        )
        .await;
    assert_eq!(replay.status(), 400);
}
