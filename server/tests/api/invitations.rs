//! Invitations over HTTP against real PostgreSQL: the dialog's rules, the
//! link's life (accept, reuse, resend, revoke, expiry), accepting without
//! JavaScript, the bell and email verification, limits, and CSV import.

use app::{
    api::{
        bell::Bell,
        import::{ImportPreview, RowOutcome},
        invitations::InviteReport,
    },
    error::AppError,
    server::AuthSettings,
};
use sqlx::PgPool;

use crate::helpers::{client, error_of, fns, spawn, spawn_with, TestApp, GOOD_PASSWORD};

const OWNER: &str = "olive@example.com";

async fn owner_app(pool: PgPool) -> TestApp {
    let app = spawn(pool).await;
    let response = app.sign_up(OWNER, "Olive Owner", GOOD_PASSWORD).await;
    assert!(response.status().is_redirection() || response.status().is_success());
    app
}

async fn invite(app: &TestApp, addresses: &str, send_email: bool) -> reqwest::Response {
    app.run(fns::InviteMembers {
        addresses: addresses.to_owned(),
        send_email,
        group_ids: vec![],
        all_projects: true,
        project_ids: vec![],
    })
    .await
}

/// The invitation link from the newest queued mail to `email`.
async fn link_for(app: &TestApp, email: &str) -> String {
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM outbox WHERE recipient = $1 AND kind = 'invitation'
          ORDER BY id DESC LIMIT 1",
    )
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .expect("an invitation mail is queued");
    body.split_whitespace()
        .find(|w| w.contains("/invite/"))
        .expect("the mail has a link")
        .to_owned()
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap_or_default().to_owned()
}

/// Accepts the way a browser without JavaScript does: a plain form post,
/// answered with a redirect.
async fn accept_plain(
    app: &TestApp,
    browser: &reqwest::Client,
    token: &str,
    name: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(format!("{}/api/accept_invitation", app.base))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", format!("{}/invite/{token}", app.base))
        .form(&[("token", token), ("name", name), ("password", password)])
        .send()
        .await
        .expect("request")
}

async fn preview_state(app: &TestApp, token: &str) -> String {
    let response = client()
        .post(format!("{}/api/invitation_preview", app.base))
        .header("accept", "application/json")
        .form(&[("token", token)])
        .send()
        .await
        .expect("request");
    assert!(response.status().is_success());
    let value: serde_json::Value = response.json().await.expect("json");
    value["state"].as_str().unwrap_or_default().to_owned()
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn invalid_or_too_many_addresses_change_nothing(pool: PgPool) {
    let app = owner_app(pool).await;
    let before = app.count("SELECT count(*) FROM memberships").await;

    let error = error_of(invite(&app, "ann@example.com, not-an-address", true).await).await;
    let message = error.field_message("addresses").expect("field message");
    assert!(message.contains("not-an-address"), "{message}");

    let six = "a@x.io b@x.io c@x.io d@x.io e@x.io f@x.io";
    let error = error_of(invite(&app, six, true).await).await;
    assert!(error
        .field_message("addresses")
        .is_some_and(|m| m.contains("up to 5")));

    let many: Vec<String> = (0..10_000).map(|i| format!("p{i}@x.io")).collect();
    let error = error_of(invite(&app, &many.join("\n"), true).await).await;
    assert!(error.field_message("addresses").is_some());

    assert_eq!(app.count("SELECT count(*) FROM memberships").await, before);
    assert_eq!(app.count("SELECT count(*) FROM invitations").await, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'invitation'")
            .await,
        0
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn invite_writes_pending_members_links_and_mail_together(pool: PgPool) {
    let app = owner_app(pool).await;
    let response = invite(
        &app,
        "Ann <ann@example.com>, BOB@example.com\nann@example.com",
        true,
    )
    .await;
    assert!(response.status().is_success(), "{}", response.status());
    let report: InviteReport = response.json().await.expect("report");
    assert_eq!(report.invited.len(), 2, "duplicates collapse: {report:?}");

    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE status = 'pending'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE state = 'open'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'invitation'")
            .await,
        2
    );
    // Only hashes are stored: no row holds the token the mail carries.
    let link = link_for(&app, "ann@example.com").await;
    let token = token_of(&link);
    assert_eq!(token.len(), 43);
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM invitations WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .expect("query");
    assert_eq!(leaked, 0);
    let mail: String =
        sqlx::query_scalar("SELECT body_html FROM outbox WHERE recipient = 'ann@example.com'")
            .fetch_one(&app.pool)
            .await
            .expect("html");
    assert!(mail.contains("Olive Owner") && mail.contains("workspace"));

    // The same address again is reported, not duplicated.
    let again: InviteReport = invite(&app, "ann@example.com", true)
        .await
        .json()
        .await
        .expect("report");
    assert!(again.invited.is_empty());
    assert_eq!(again.already_members, vec!["ann@example.com".to_owned()]);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'member.invited'")
            .await,
        2
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_new_person_accepts_without_javascript_and_the_link_is_single_use(pool: PgPool) {
    let app = owner_app(pool).await;
    assert!(invite(&app, "newbie@example.com", true)
        .await
        .status()
        .is_success());
    let token = token_of(&link_for(&app, "newbie@example.com").await);
    assert_eq!(preview_state(&app, &token).await, "Open");

    // Bad input on the form: the page gets its errors back, nothing changes.
    let browser = client();
    let refused = accept_plain(&app, &browser, &token, "", "short").await;
    assert!(refused.status().is_redirection(), "{}", refused.status());
    let location = refused.headers()["location"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(location.contains("__err"), "{location}");
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 1);

    let accepted = accept_plain(&app, &browser, &token, "Nina Newbie", GOOD_PASSWORD).await;
    assert!(accepted.status().is_redirection());
    assert_eq!(accepted.headers()["location"], "/team");
    assert!(accepted.headers().contains_key("set-cookie"), "signed in");
    let status: String = sqlx::query_scalar(
        "SELECT m.status FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE a.email = 'newbie@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("membership");
    assert_eq!(status, "active");
    // Signed in as a member of the inviting workspace.
    let me = browser
        .post(format!("{}/api/current_user", app.base))
        .header("accept", "application/json")
        .send()
        .await
        .expect("me");
    let me: serde_json::Value = me.json().await.expect("json");
    assert_eq!(me["name"], "Nina Newbie");
    assert!(me["workspace"]["name"]
        .as_str()
        .unwrap_or_default()
        .contains("Olive"));

    // Used once: a second use says so, plainly.
    assert_eq!(preview_state(&app, &token).await, "Accepted");
    let again = client()
        .post(format!("{}/api/accept_invitation", app.base))
        .header("accept", "application/json")
        .form(&[
            ("token", token.as_str()),
            ("name", "X Y"),
            ("password", GOOD_PASSWORD),
        ])
        .send()
        .await
        .expect("request");
    let error = error_of(again).await;
    assert!(error
        .field_message("form")
        .is_some_and(|m| m.contains("already been accepted")));
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.accepted'")
            .await,
        1
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_existing_account_signs_in_to_accept(pool: PgPool) {
    let app = owner_app(pool).await;
    let other = client();
    app.run_as(
        &other,
        fns::SignUp {
            email: "exist@example.com".into(),
            name: "Existing Person".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    // A confirmed address: an unconfirmed one would be claimed through the
    // link instead (account_security.rs).
    sqlx::query("UPDATE accounts SET email_verified_at = now() WHERE email = 'exist@example.com'")
        .execute(&app.pool)
        .await
        .expect("verify");
    assert!(invite(&app, "exist@example.com", true)
        .await
        .status()
        .is_success());
    let token = token_of(&link_for(&app, "exist@example.com").await);

    let wrong = client()
        .post(format!("{}/api/accept_invitation", app.base))
        .header("accept", "application/json")
        .form(&[("token", token.as_str()), ("password", "not the password")])
        .send()
        .await
        .expect("request");
    assert!(error_of(wrong).await.field_message("password").is_some());

    let accepted = accept_plain(&app, &client(), &token, "", GOOD_PASSWORD).await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());
    let memberships: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE a.email = 'exist@example.com' AND m.status = 'active'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(memberships, 2, "their own workspace and the inviting one");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn resend_replaces_the_link_and_revoke_withdraws_it(pool: PgPool) {
    let app = owner_app(pool).await;
    // Added without email: pending, no link yet.
    assert!(invite(&app, "later@example.com", false)
        .await
        .status()
        .is_success());
    assert_eq!(app.count("SELECT count(*) FROM invitations").await, 0);
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM memberships WHERE invited_email = 'later@example.com'")
            .fetch_one(&app.pool)
            .await
            .expect("pending member");
    assert!(app
        .run(fns::SendInvite { membership_id: id })
        .await
        .status()
        .is_success());
    let first = token_of(&link_for(&app, "later@example.com").await);

    // Straight away again: too soon.
    let error = error_of(app.run(fns::SendInvite { membership_id: id }).await).await;
    assert!(matches!(error, AppError::RateLimited { .. }));
    sqlx::query("UPDATE invitations SET created_at = now() - interval '2 minutes'")
        .execute(&app.pool)
        .await
        .expect("age the invitation");
    assert!(app
        .run(fns::SendInvite { membership_id: id })
        .await
        .status()
        .is_success());
    let second = token_of(&link_for(&app, "later@example.com").await);
    assert_ne!(first, second);
    assert_eq!(preview_state(&app, &first).await, "Replaced");
    assert_eq!(preview_state(&app, &second).await, "Open");

    assert!(app
        .run(fns::RevokeInvite { membership_id: id })
        .await
        .status()
        .is_success());
    assert_eq!(preview_state(&app, &second).await, "Revoked");
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE invited_email = 'later@example.com'")
            .await,
        0
    );
    for action in ["invitation.sent", "invitation.resent", "invitation.revoked"] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(&app.pool)
            .await
            .expect("audit");
        assert_eq!(n, 1, "{action}");
    }
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn expired_and_malformed_links_say_so(pool: PgPool) {
    let app = owner_app(pool).await;
    assert!(invite(&app, "slow@example.com", true)
        .await
        .status()
        .is_success());
    let token = token_of(&link_for(&app, "slow@example.com").await);
    sqlx::query("UPDATE invitations SET expires_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .expect("expire");
    assert_eq!(preview_state(&app, &token).await, "Expired");
    let error = error_of(
        client()
            .post(format!("{}/api/accept_invitation", app.base))
            .header("accept", "application/json")
            .form(&[
                ("token", token.as_str()),
                ("name", "Slow Poke"),
                ("password", GOOD_PASSWORD),
            ])
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert!(error
        .field_message("form")
        .is_some_and(|m| m.contains("expired") && m.contains("Olive Owner")));

    for bad in ["short", &"A".repeat(44), &format!("{}!", &"A".repeat(42))] {
        assert_eq!(preview_state(&app, bad).await, "Unknown");
    }
    // The page itself answers for a bad token (server-rendered, no script needed).
    let page = client()
        .get(format!("{}/invite/not-a-token", app.base))
        .send()
        .await
        .expect("page");
    let html = page.text().await.expect("html");
    assert!(html.contains("not valid"), "the page explains the link");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn signing_up_with_an_invited_address_joins_after_verification(pool: PgPool) {
    let app = owner_app(pool).await;
    assert!(invite(&app, "claim@example.com", true)
        .await
        .status()
        .is_success());

    let newcomer = client();
    app.run_as(
        &newcomer,
        fns::SignUp {
            email: "claim@example.com".into(),
            name: "Clara Claim".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    // Not yet verified: the bell shows nothing and nothing was joined.
    let bell: Bell = app
        .run_as(&newcomer, fns::MyInvitations {})
        .await
        .json()
        .await
        .expect("bell");
    assert!(!bell.verified && bell.invitations.is_empty());
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE invited_email = 'claim@example.com'")
            .await,
        1
    );

    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM outbox WHERE recipient = 'claim@example.com' AND kind = 'verify_email'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("verification mail");
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/verify-email/"))
        .expect("link");
    let verified = app
        .run_as(
            &newcomer,
            fns::VerifyEmail {
                token: token_of(link).to_owned(),
            },
        )
        .await;
    assert!(verified.status().is_success(), "{}", verified.status());
    let active: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE a.email = 'claim@example.com' AND m.status = 'active'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(active, 2, "own workspace and the invited one");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_bell_accepts_and_declines_for_a_verified_address(pool: PgPool) {
    let app = owner_app(pool).await;
    let person = client();
    app.run_as(
        &person,
        fns::SignUp {
            email: "bell@example.com".into(),
            name: "Bea Bell".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    sqlx::query("UPDATE accounts SET email_verified_at = now() WHERE email = 'bell@example.com'")
        .execute(&app.pool)
        .await
        .expect("verify");
    assert!(invite(&app, "bell@example.com", true)
        .await
        .status()
        .is_success());
    let bell: Bell = app
        .run_as(&person, fns::MyInvitations {})
        .await
        .json()
        .await
        .expect("bell");
    assert_eq!(bell.invitations.len(), 1);
    let invitation = &bell.invitations[0];

    // Someone else cannot answer it.
    let stranger = client();
    app.run_as(
        &stranger,
        fns::SignUp {
            email: "other@example.com".into(),
            name: "Otto Other".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    let answer = fns::AnswerInvitation {
        workspace_id: invitation.workspace_id,
        invitation_id: invitation.invitation_id,
        accept: true,
    };
    assert_eq!(app.run_as(&stranger, answer.clone()).await.status(), 404);
    let answered = app.run_as(&person, answer).await;
    assert!(answered.status().is_success());
    let bell: Bell = app
        .run_as(&person, fns::MyInvitations {})
        .await
        .json()
        .await
        .expect("bell");
    assert!(bell.invitations.is_empty());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn invitations_per_hour_are_limited(pool: PgPool) {
    let settings = AuthSettings {
        invitations_per_hour: 3,
        ..crate::helpers::settings()
    };
    let app = spawn_with(pool, settings).await;
    app.sign_up(OWNER, "Olive Owner", GOOD_PASSWORD).await;
    assert!(invite(&app, "a@x.io b@x.io c@x.io", true)
        .await
        .status()
        .is_success());
    let error = error_of(invite(&app, "d@x.io", true).await).await;
    assert!(matches!(error, AppError::RateLimited { retry_after_secs } if retry_after_secs > 3000));
    // Adding without email is not mail, and is not limited.
    assert!(invite(&app, "d@x.io", false).await.status().is_success());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn paid_plans_refuse_past_the_seats_and_say_how_many_are_free(pool: PgPool) {
    let app = owner_app(pool).await;
    sqlx::query("UPDATE workspaces SET plan = 'pro', seats = 3")
        .execute(&app.pool)
        .await
        .expect("plan");
    let error = error_of(invite(&app, "a@x.io b@x.io c@x.io", true).await).await;
    let message = error.field_message("addresses").expect("message");
    assert!(message.contains("Only 2 seats are free"), "{message}");
    assert_eq!(app.count("SELECT count(*) FROM memberships").await, 1);
    assert!(invite(&app, "a@x.io b@x.io", true)
        .await
        .status()
        .is_success());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn members_cannot_invite(pool: PgPool) {
    let app = owner_app(pool).await;
    assert!(invite(&app, "mem@example.com", true)
        .await
        .status()
        .is_success());
    let token = token_of(&link_for(&app, "mem@example.com").await);
    let member = client();
    accept_plain(&app, &member, &token, "Mem Ber", GOOD_PASSWORD).await;
    let response = app
        .run_as(
            &member,
            fns::InviteMembers {
                addresses: "x@y.io".into(),
                send_email: true,
                group_ids: Default::default(),
                all_projects: true,
                project_ids: Default::default(),
            },
        )
        .await;
    assert_eq!(response.status(), 403);
}

async fn post_json(app: &TestApp, endpoint: &str, body: serde_json::Value) -> reqwest::Response {
    app.client
        .post(format!("{}/api/{endpoint}", app.base))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .expect("request")
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn csv_import_previews_every_row_then_imports_the_good_ones(pool: PgPool) {
    let app = owner_app(pool).await;
    sqlx::query("UPDATE workspaces SET plan = 'pro', seats = 100")
        .execute(&app.pool)
        .await
        .expect("plan");
    // A bad file writes nothing and says why.
    // Big files get the file's own message, not a transport error.
    let many_rows = "email,name\n".to_owned()
        + &(0..45_000)
            .map(|i| format!("p{i}@x.io,Person {i} with a longer name to pad the row\n"))
            .collect::<String>();
    let too_big = "email,name\n".to_owned()
        + &"p@x.io,Padding padding padding padding padding\n".repeat(130_000);
    assert!(many_rows.len() > 2_500_000 && too_big.len() > 5_500_000);
    for (file, expected) in [
        (many_rows.as_str(), "more than 10000 rows"),
        (too_big.as_str(), "limit is 5 MB"),
        ("ann@x.io,Ann\n", "looks like data"),
        ("mail,colour\nann@x.io,red\n", "colour"),
        ("", "empty"),
    ] {
        let error = error_of(
            post_json(
                &app,
                "preview_import",
                serde_json::json!({ "file_text": file }),
            )
            .await,
        )
        .await;
        let message = error.field_message("file").expect("file message");
        assert!(message.contains(expected), "{message}");
    }

    let file = "\u{feff}Name,Email,Role,Group\n\
                Ann Able,ann@x.io,admin,Sales\n\
                \"Bob, Jr.\",bob@x.io,,\"Sales; Berlin\"\n\
                =HYPERLINK(\"http://evil\"),eve@x.io,member,\n\
                Dup,ANN@x.io,,\n\
                Bad,not-an-address,,\n\
                Boss,boss@x.io,boss,\n\
                Olive,olive@example.com,,\n";
    let preview: ImportPreview = post_json(
        &app,
        "preview_import",
        serde_json::json!({ "file_text": file }),
    )
    .await
    .json()
    .await
    .expect("preview");
    let outcomes: Vec<&RowOutcome> = preview.rows.iter().map(|r| &r.outcome).collect();
    assert_eq!(outcomes.len(), 7);
    assert_eq!(outcomes[0], &RowOutcome::WillInvite);
    assert_eq!(outcomes[1], &RowOutcome::WillInvite);
    assert_eq!(outcomes[2], &RowOutcome::WillInvite);
    assert!(matches!(outcomes[3], RowOutcome::Invalid(m) if m.contains("line 2")));
    assert!(matches!(outcomes[4], RowOutcome::Invalid(_)));
    assert!(matches!(outcomes[5], RowOutcome::Invalid(m) if m.contains("boss")));
    assert_eq!(outcomes[6], &RowOutcome::AlreadyMember);
    assert_eq!(
        preview.new_groups,
        vec!["Sales".to_owned(), "Berlin".to_owned()]
    );
    assert_eq!(
        app.count("SELECT count(*) FROM memberships").await,
        1,
        "preview writes nothing"
    );

    let rows: Vec<_> = preview
        .rows
        .iter()
        .filter(|r| r.outcome == RowOutcome::WillInvite)
        .map(|r| r.row.clone())
        .collect();
    let imported: Vec<RowOutcome> = post_json(
        &app,
        "import_members",
        serde_json::json!({ "rows": rows, "send_email": true }),
    )
    .await
    .json()
    .await
    .expect("outcomes");
    assert!(
        imported
            .iter()
            .all(|o| *o == RowOutcome::Invited { emailed: true }),
        "{imported:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE status = 'pending'")
            .await,
        3
    );
    assert_eq!(app.count("SELECT count(*) FROM groups").await, 2);
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE is_admin AND invited_email = 'ann@x.io'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM group_members").await, 3);
    // The formula-looking name is stored as plain text, never evaluated.
    let name: String =
        sqlx::query_scalar("SELECT display_name FROM memberships WHERE invited_email = 'eve@x.io'")
            .fetch_one(&app.pool)
            .await
            .expect("name");
    assert_eq!(name, "=HYPERLINK(\"http://evil\")");
}
