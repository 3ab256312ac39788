//! "Log in as user" over HTTP: who may start a view of whom, what the
//! view may not touch, and that every way it ends returns the Owner to
//! their own session, is audited and is told to the person.

use app::error::AppError;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::{
    helpers::{
        audit_count, error_of, fns, until_waiting_on_locks, whole_audit_log, Call, TestApp,
        GOOD_PASSWORD,
    },
    lifecycle::{member, other_workspace, owner_app, Person},
};

const REASON: &str = "Mia asked why her week looks empty";

/// Olive's Enterprise workspace with Mia as a plain member; `app.client`
/// is Olive's browser.
async fn setup(pool: PgPool) -> (TestApp, i64, Person) {
    let (app, workspace_id, _) = owner_app(pool).await;
    sqlx::query("UPDATE workspaces SET plan = 'enterprise' WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("enterprise");
    let mia = member(&app, workspace_id, "mia@example.com", "Mia Member").await;
    (app, workspace_id, mia)
}

async fn start(
    app: &TestApp,
    who: &reqwest::Client,
    membership_id: i64,
    reason: &str,
) -> reqwest::Response {
    app.run_as(
        who,
        fns::StartImpersonation {
            membership_id,
            reason: Some(reason.to_owned()),
        },
    )
    .await
}

async fn start_ok(app: &TestApp, mia: &Person) {
    let started = start(app, &app.client, mia.membership_id, REASON).await;
    assert!(started.status().is_success(), "{}", started.status());
}

async fn me(app: &TestApp, who: &reqwest::Client) -> Value {
    let response = app.run_as(who, fns::CurrentUser {}).await;
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("me")
}

async fn conflict(response: reqwest::Response) -> String {
    match error_of(response).await {
        AppError::Conflict(message) => message,
        other => panic!("expected a refusal with a message, got {other:?}"),
    }
}

async fn views(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM sessions WHERE impersonator_account_id IS NOT NULL")
        .await
}

async fn owner_session_hash(app: &TestApp) -> Vec<u8> {
    sqlx::query_scalar(
        "SELECT s.token_hash FROM sessions s JOIN accounts a ON a.id = s.account_id
          WHERE a.email = 'olive@example.com' AND s.impersonator_account_id IS NULL",
    )
    .fetch_one(&app.pool)
    .await
    .expect("Olive's own session")
}

async fn save_capacity(app: &TestApp, who: &reqwest::Client, capacity: &str) -> reqwest::Response {
    who.post(format!("{}/api/save_profile", app.base))
        .header("accept", "application/json")
        .json(&json!({ "membership_id": null, "form": {
            "name": "Mia Member", "working_days": [1, 2, 3, 4, 5], "capacity": capacity,
            "week_start": "1", "team_manager_id": null, "billing_rate": "", "currency": "USD",
            "notify_weekly_summary": true, "notify_timer_reminders": true,
        }}))
        .send()
        .await
        .expect("save request")
}

fn succeeded(response: &reqwest::Response) -> bool {
    response.status().is_success() || response.status().is_redirection()
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_owner_views_as_mia_acts_as_her_and_goes_back_and_mia_is_told(pool: PgPool) {
    let (app, workspace_id, mia) = setup(pool).await;
    let olive_session = owner_session_hash(&app).await;
    let mia_sessions_before = app
        .count("SELECT count(*) FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE a.email = 'mia@example.com'")
        .await;
    start_ok(&app, &mia).await;

    // Served as Mia, pinned to this workspace, with the banner's facts.
    let viewed = me(&app, &app.client).await;
    assert_eq!(viewed["email"], "mia@example.com");
    assert_eq!(viewed["viewing_as"]["name"], "Mia Member");
    assert_eq!(viewed["workspace"]["id"], workspace_id);
    assert_eq!(
        viewed["workspaces"].as_array().map(Vec::len),
        Some(1),
        "Mia's own workspace is not listed: {viewed}"
    );
    let ends_at = viewed["viewing_as"]["ends_at_ms"]
        .as_i64()
        .expect("ends at");
    let minutes = (ends_at - chrono::Utc::now().timestamp_millis()) as f64 / 60_000.0;
    assert!((29.0..=30.1).contains(&minutes), "{minutes}");

    // What is done is recorded as Olive acting as Mia.
    let saved = save_capacity(&app, &app.client, "7").await;
    assert!(saved.status().is_success(), "{}", saved.status());
    let (actor, acting_as): (String, String) = sqlx::query_as(
        "SELECT actor.email, acting.email FROM audit_events e
           JOIN accounts actor ON actor.id = e.actor_account_id
           JOIN accounts acting ON acting.id = e.acting_as_account_id
          WHERE e.action = 'member.profile_changed'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("the change's audit row");
    assert_eq!(
        (actor.as_str(), acting_as.as_str()),
        ("olive@example.com", "mia@example.com")
    );

    // Mia's own session is untouched and still hers.
    let herself = me(&app, &mia.browser).await;
    assert_eq!(herself["email"], "mia@example.com");
    assert!(herself["viewing_as"].is_null());
    assert!(herself["workspaces"].as_array().map(Vec::len) >= Some(2));

    // Back to my view: Olive's own session (the same row) is back.
    let back = app.run(fns::EndImpersonation {}).await;
    assert!(succeeded(&back), "{}", back.status());
    let olive = me(&app, &app.client).await;
    assert_eq!(olive["email"], "olive@example.com");
    assert!(olive["viewing_as"].is_null());
    assert_eq!(owner_session_hash(&app).await, olive_session);
    assert_eq!(views(&app).await, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE a.email = 'mia@example.com'")
            .await,
        mia_sessions_before
    );

    // Start and end are audited with the reason; Admins do not see them.
    let started: Value = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'owner_access.impersonation_started'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("start row");
    assert_eq!(started["reason"], REASON);
    let ended: Value = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'owner_access.impersonation_ended'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("end row");
    assert_eq!(ended["ended_by"], "back");
    assert_eq!(ended["reason"], REASON);

    // The audit page shows "Olive Owner as Mia Member".
    let log: Value = app
        .run(whole_audit_log())
        .await
        .json()
        .await
        .expect("audit log");
    let row = log["rows"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["action"] == "member.profile_changed")
        })
        .expect("the change in the log")
        .clone();
    assert!(row["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("Olive Owner")));
    assert!(row["acting_as"]
        .as_str()
        .is_some_and(|a| a.starts_with("Mia Member")));

    // Mia is told: a bell notice and a mail naming Olive, when and why.
    let notices: Value = app
        .run_as(&mia.browser, fns::MyNotices {})
        .await
        .json()
        .await
        .expect("notices");
    let body = notices[0]["body"].as_str().expect("a notice").to_owned();
    assert!(
        body.contains("Olive Owner") && body.contains(REASON),
        "{body}"
    );
    assert!(body.contains(" from ") && body.contains(" to "), "{body}");
    let (subject, text): (String, String) = sqlx::query_as(
        "SELECT subject, body_text FROM outbox WHERE recipient = 'mia@example.com'
          AND subject LIKE '%viewed Teamroom as you%'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("Mia's mail");
    assert!(subject.starts_with("Olive Owner"), "{subject}");
    assert!(
        text.contains(REASON) && text.contains("olive@example.com"),
        "{text}"
    );
    assert!(
        text.contains("http://127.0.0.1:3000/"),
        "links from PUBLIC_URL: {text}"
    );
    // Mia dismisses it; it is gone from her bell.
    let notice_id = notices[0]["id"].as_i64().expect("id");
    let dismissed = app
        .run_as(&mia.browser, fns::DismissNotice { notice_id })
        .await;
    assert!(dismissed.status().is_success());
    let left: Value = app
        .run_as(&mia.browser, fns::MyNotices {})
        .await
        .json()
        .await
        .expect("notices");
    assert_eq!(left, json!([]));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_admin_cannot_view_as_anyone(pool: PgPool) {
    let (app, workspace_id, mia) = setup(pool).await;
    let adam = member(&app, workspace_id, "adam@example.com", "Adam Admin").await;
    sqlx::query("UPDATE memberships SET is_admin = true WHERE id = $1")
        .bind(adam.membership_id)
        .execute(&app.pool)
        .await
        .expect("admin");
    let refused = start(&app, &adam.browser, mia.membership_id, "").await;
    assert!(
        [403, 404].contains(&refused.status().as_u16()),
        "{}",
        refused.status()
    );
    assert_eq!(views(&app).await, 0);
    // Nor turn the Owner's switch, either way.
    for allowed in [false, true] {
        let switched = app
            .run_as(&adam.browser, fns::SetImpersonationAllowed { allowed })
            .await;
        assert_eq!(switched.status(), 403, "allowed: {allowed}");
    }
    assert_eq!(
        audit_count(&app, "workspace.impersonation_policy_changed").await,
        0
    );
}

/// Olive turns the switch off while her ownership passes to Mia. The
/// switch checks ownership again inside its transaction, under the
/// workspace lock, so the transfer that committed while it waited there is
/// seen: refused, nothing changed, nothing audited.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_switch_that_waited_out_an_ownership_transfer_is_refused(pool: PgPool) {
    let (app, workspace_id, mia) = setup(pool).await;
    let mut holder = app.pool.begin().await.expect("holder");
    sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR UPDATE")
        .bind(workspace_id)
        .execute(&mut *holder)
        .await
        .expect("lock");
    let switch = app.run(fns::SetImpersonationAllowed { allowed: false });
    let transfer = async {
        // Until the switch waits on the workspace row inside its own
        // transaction (the guard before it takes no such lock).
        let waited =
            until_waiting_on_locks(&app, 1, "%FROM workspaces WHERE id = $1 FOR UPDATE%").await;
        sqlx::query(
            "UPDATE workspaces SET owner_account_id =
                    (SELECT account_id FROM memberships WHERE id = $2)
              WHERE id = $1",
        )
        .bind(workspace_id)
        .bind(mia.membership_id)
        .execute(&mut *holder)
        .await
        .expect("transfer");
        holder.commit().await.expect("commit");
        waited
    };
    let (switched, waited) = tokio::join!(switch, transfer);
    assert!(
        waited,
        "the switch reached its transaction before the transfer"
    );
    assert_eq!(switched.status(), 403);
    let allowed: bool =
        sqlx::query_scalar("SELECT allow_impersonation FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_one(&app.pool)
            .await
            .expect("switch");
    assert!(allowed, "still on");
    assert_eq!(
        audit_count(&app, "workspace.impersonation_policy_changed").await,
        0
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_owner_on_the_pro_plan_cannot_view_as_anyone(pool: PgPool) {
    let (app, workspace_id, mia) = setup(pool).await;
    sqlx::query("UPDATE workspaces SET plan = 'pro', seats = 10 WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("pro");
    let refused = start(&app, &app.client, mia.membership_id, "").await;
    assert_eq!(refused.status(), 404);
    assert_eq!(views(&app).await, 0);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn another_workspaces_member_is_not_found(pool: PgPool) {
    let (app, _, _) = setup(pool).await;
    let (_other, _, otto_membership) = other_workspace(&app).await;
    let refused = start(&app, &app.client, otto_membership, "").await;
    assert_eq!(refused.status(), 404);
    assert_eq!(views(&app).await, 0);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_owner_cannot_view_as_themselves_the_owner(pool: PgPool) {
    let (app, _, _) = setup(pool).await;
    let own: i64 = sqlx::query_scalar(
        "SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE a.email = 'olive@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("own membership");
    let message = conflict(start(&app, &app.client, own, "").await).await;
    assert!(message.contains("you"), "{message}");
    assert_eq!(views(&app).await, 0);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn pending_deactivated_and_limited_members_cannot_be_viewed_as(pool: PgPool) {
    let (app, workspace_id, mia) = setup(pool).await;
    let pending: i64 = sqlx::query_scalar(
        "INSERT INTO memberships (workspace_id, kind, status, invited_email)
         VALUES ($1, 'full', 'pending', 'pat@example.com') RETURNING id",
    )
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("pending");
    let message = conflict(start(&app, &app.client, pending, "").await).await;
    assert!(message.contains("not joined"), "{message}");

    let limited: i64 = sqlx::query_scalar(
        "INSERT INTO memberships (workspace_id, kind, status, display_name)
         VALUES ($1, 'limited', 'active', 'Lena Limited') RETURNING id",
    )
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("limited");
    let message = conflict(start(&app, &app.client, limited, "").await).await;
    assert!(message.contains("without an account"), "{message}");

    sqlx::query("UPDATE memberships SET status = 'inactive' WHERE id = $1")
        .bind(mia.membership_id)
        .execute(&app.pool)
        .await
        .expect("deactivate");
    let message = conflict(start(&app, &app.client, mia.membership_id, "").await).await;
    assert!(message.contains("deactivated"), "{message}");
    assert_eq!(views(&app).await, 0);
    assert_eq!(
        audit_count(&app, "owner_access.impersonation_started").await,
        0
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn views_do_not_nest(pool: PgPool) {
    let (app, workspace_id, mia) = setup(pool).await;
    let max = member(&app, workspace_id, "max@example.com", "Max Member").await;
    start_ok(&app, &mia).await;
    let message = conflict(start(&app, &app.client, max.membership_id, "").await).await;
    assert!(
        message.contains("already viewing as Mia Member"),
        "{message}"
    );
    assert_eq!(views(&app).await, 1);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_switch_turned_off_refuses_new_views_and_ends_the_running_one(pool: PgPool) {
    let (app, _, mia) = setup(pool).await;
    let off = app
        .run(fns::SetImpersonationAllowed { allowed: false })
        .await;
    assert!(off.status().is_success(), "{}", off.status());
    assert_eq!(
        audit_count(&app, "workspace.impersonation_policy_changed").await,
        1
    );
    // Off again is not a change: answered, not audited a second time.
    let again = app
        .run(fns::SetImpersonationAllowed { allowed: false })
        .await;
    assert!(again.status().is_success(), "{}", again.status());
    assert_eq!(
        audit_count(&app, "workspace.impersonation_policy_changed").await,
        1
    );
    let message = conflict(start(&app, &app.client, mia.membership_id, "").await).await;
    assert!(message.contains("turned off"), "{message}");
    assert_eq!(views(&app).await, 0);

    // On again, a view starts; turned off behind its back, the view's next
    // request is not served as Mia and Olive is back in her own view.
    let on = app
        .run(fns::SetImpersonationAllowed { allowed: true })
        .await;
    assert!(on.status().is_success());
    start_ok(&app, &mia).await;
    sqlx::query("UPDATE workspaces SET allow_impersonation = false")
        .execute(&app.pool)
        .await
        .expect("off");
    let refused = save_capacity(&app, &app.client, "6").await;
    assert_eq!(refused.status(), 409);
    assert_eq!(
        audit_count(&app, "member.profile_changed").await,
        0,
        "nothing was done as Mia"
    );
    assert_eq!(me(&app, &app.client).await["email"], "olive@example.com");
    let ended: Value = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'owner_access.impersonation_ended'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("end row");
    assert_eq!(ended["ended_by"], "revoked");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_expired_view_is_not_served_and_returns_the_owner(pool: PgPool) {
    let (app, _, mia) = setup(pool).await;
    let olive_session = owner_session_hash(&app).await;
    start_ok(&app, &mia).await;
    sqlx::query(
        "UPDATE sessions SET expires_at = now() - interval '1 second'
          WHERE impersonator_account_id IS NOT NULL",
    )
    .execute(&app.pool)
    .await
    .expect("expire");
    // A call meant for Mia is not run, as Mia or as Olive.
    let refused = save_capacity(&app, &app.client, "6").await;
    let message = conflict(refused).await;
    assert!(
        message.contains("Mia Member") && message.contains("ended"),
        "{message}"
    );
    assert_eq!(audit_count(&app, "member.profile_changed").await, 0);
    // Olive is back in her own session, the view's end is audited and told.
    let olive = me(&app, &app.client).await;
    assert_eq!(olive["email"], "olive@example.com");
    assert_eq!(owner_session_hash(&app).await, olive_session);
    let ended: Value = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'owner_access.impersonation_ended'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("end row");
    assert_eq!(ended["ended_by"], "expired");
    assert_eq!(
        app.count("SELECT count(*) FROM account_notices WHERE kind = 'impersonation'")
            .await,
        1
    );
    assert_eq!(views(&app).await, 0);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_expired_view_opened_as_a_page_shows_the_owners_view(pool: PgPool) {
    let (app, _, mia) = setup(pool).await;
    start_ok(&app, &mia).await;
    sqlx::query("UPDATE sessions SET expires_at = now() WHERE impersonator_account_id IS NOT NULL")
        .execute(&app.pool)
        .await
        .expect("expire");
    let page = app
        .client
        .get(format!("{}/team", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(page.status().is_success(), "{}", page.status());
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("teamroom_owner_session=;")),
        "{cookies:?}"
    );
    let html = page.text().await.expect("html");
    assert!(
        !html.contains("Viewing as"),
        "no banner once the view is over"
    );
    assert_eq!(me(&app, &app.client).await["email"], "olive@example.com");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_sweeper_ends_lapsed_views_with_their_record(pool: PgPool) {
    let (app, _, mia) = setup(pool).await;
    start_ok(&app, &mia).await;
    sqlx::query("UPDATE sessions SET expires_at = now() WHERE impersonator_account_id IS NOT NULL")
        .execute(&app.pool)
        .await
        .expect("expire");
    let mut conn = app.pool.acquire().await.expect("connection");
    app::server::session::purge_expired(&mut conn, &crate::helpers::settings())
        .await
        .expect("sweep");
    assert_eq!(views(&app).await, 0);
    assert_eq!(
        audit_count(&app, "owner_access.impersonation_ended").await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE recipient = 'mia@example.com' AND subject LIKE '%viewed Teamroom as you%'")
            .await,
        1
    );
    // Olive's next request lands in her own view.
    let refused = save_capacity(&app, &app.client, "6").await;
    assert_eq!(refused.status(), 409);
    assert_eq!(me(&app, &app.client).await["email"], "olive@example.com");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn signing_out_of_a_view_returns_the_owner_to_her_own(pool: PgPool) {
    let (app, _, mia) = setup(pool).await;
    let olive_session = owner_session_hash(&app).await;
    start_ok(&app, &mia).await;
    let out = app.run(fns::SignOut {}).await;
    assert!(succeeded(&out), "{}", out.status());
    let olive = me(&app, &app.client).await;
    assert_eq!(olive["email"], "olive@example.com");
    assert_eq!(owner_session_hash(&app).await, olive_session);
    let ended: Value = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'owner_access.impersonation_ended'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("end row");
    assert_eq!(ended["ended_by"], "sign_out");
    // Mia's own session is untouched by Olive's sign out.
    assert_eq!(me(&app, &mia.browser).await["email"], "mia@example.com");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn mias_credentials_and_other_workspaces_are_out_of_reach(pool: PgPool) {
    let (app, _, mia) = setup(pool).await;
    let mia_workspace: i64 = sqlx::query_scalar(
        "SELECT w.id FROM workspaces w JOIN accounts a ON a.id = w.owner_account_id
          WHERE a.email = 'mia@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("Mia's own workspace");
    let mia_session_id: i64 = sqlx::query_scalar(
        "SELECT s.id FROM sessions s JOIN accounts a ON a.id = s.account_id
          WHERE a.email = 'mia@example.com' AND s.impersonator_account_id IS NULL",
    )
    .fetch_one(&app.pool)
    .await
    .expect("Mia's session");
    let snapshot = |pool: PgPool| async move {
        sqlx::query_as::<_, (String, Option<String>, i64, i64, i64)>(
            "SELECT a.email, a.password_hash,
                    (SELECT count(*) FROM sessions s WHERE s.account_id = a.id),
                    (SELECT count(*) FROM two_factor t WHERE t.account_id = a.id),
                    (SELECT count(*) FROM workspaces)
               FROM accounts a WHERE a.email = 'mia@example.com'",
        )
        .fetch_one(&pool)
        .await
        .expect("snapshot")
    };
    let before = snapshot(app.pool.clone()).await;
    start_ok(&app, &mia).await;
    let attempts = vec![
        Call::form(fns::ChangePassword {
            current_password: GOOD_PASSWORD.to_owned(),
            new_password: "a brand new harbour light".into(),
            end_other_sessions: false,
        }),
        Call::form(fns::RequestEmailChange {
            new_email: "olive-owns-this@example.com".into(),
            password: GOOD_PASSWORD.to_owned(),
        }),
        Call::form(fns::TwoFactorStatus {}),
        Call::form(fns::BeginTwoFactor {}),
        Call::form(fns::DisableTwoFactor {
            password: GOOD_PASSWORD.to_owned(),
            code: "123456".into(),
        }),
        Call::form(fns::RegenerateRecoveryCodes {
            password: GOOD_PASSWORD.to_owned(),
        }),
        Call::form(fns::MySessions {}),
        Call::form(fns::EndSession {
            session_id: mia_session_id,
        }),
        Call::form(fns::EndOtherSessions {}),
        Call::form(fns::SetKioskPin {
            membership_id: None,
            pin: "8642".into(),
        }),
        Call::form(fns::SwitchWorkspace {
            workspace_id: mia_workspace,
        }),
        Call::form(fns::CreateWorkspace {
            name: "Olive's side project".into(),
        }),
        Call::form(fns::ResendVerification {}),
        Call::form(fns::SignIn {
            email: "mia@example.com".into(),
            password: GOOD_PASSWORD.to_owned(),
        }),
    ];
    for call in attempts {
        let endpoint = call.name();
        let response = app.send_with(&app.client, call).await;
        assert_eq!(response.status(), 409, "{endpoint}");
        let message = conflict(response).await;
        assert!(
            message.starts_with("While viewing as Mia Member you cannot"),
            "{endpoint}: {message}"
        );
    }
    // Nothing changed, and the view is still Mia in Olive's workspace.
    let after = snapshot(app.pool.clone()).await;
    assert_eq!(before.0, after.0, "email");
    assert_eq!(before.1, after.1, "password");
    assert_eq!(
        before.2 + 1,
        after.2,
        "only the view was added to Mia's sessions"
    );
    assert_eq!(
        (before.3, before.4),
        (after.3, after.4),
        "two-factor, workspaces"
    );
    let pin_unset: bool =
        sqlx::query_scalar("SELECT kiosk_pin_hash IS NULL FROM memberships WHERE id = $1")
            .bind(mia.membership_id)
            .fetch_one(&app.pool)
            .await
            .expect("pin");
    assert!(pin_unset);
    let viewed = me(&app, &app.client).await;
    assert_eq!(viewed["viewing_as"]["name"], "Mia Member");
    assert_ne!(viewed["workspace"]["id"], mia_workspace);
    // Mia herself still reaches all of it, and does not see the view as
    // one of her sessions.
    let hers: Value = app
        .run_as(&mia.browser, fns::MySessions {})
        .await
        .json()
        .await
        .expect("sessions");
    assert_eq!(hers.as_array().map(Vec::len), Some(1), "{hers}");
    let switched = app
        .run_as(
            &mia.browser,
            fns::SwitchWorkspace {
                workspace_id: mia_workspace,
            },
        )
        .await;
    assert!(switched.status().is_success());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_long_or_control_character_reason_is_refused_and_starts_nothing(pool: PgPool) {
    let (app, _, mia) = setup(pool).await;
    for reason in ["x".repeat(10 * 1024), "checking\u{7} her\ntimer".to_owned()] {
        let refused = start(&app, &app.client, mia.membership_id, &reason).await;
        assert_eq!(refused.status(), 400);
        let error = error_of(refused).await;
        assert!(error.field_message("reason").is_some(), "{error:?}");
    }
    assert_eq!(views(&app).await, 0);
    assert_eq!(
        audit_count(&app, "owner_access.impersonation_started").await,
        0
    );
    assert_eq!(me(&app, &app.client).await["email"], "olive@example.com");
}
