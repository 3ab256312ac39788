//! Sign-up, sign-in, sign-out and sessions against a real database.

use crate::helpers::{error_of, fns, spawn, spawn_with, GOOD_PASSWORD};
use app::{api::auth::Me, error::AppError, server::AuthSettings};
use sqlx::PgPool;

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn sign_up_creates_an_owner_and_signs_in(pool: PgPool) {
    let app = spawn(pool).await;
    let response = app
        .sign_up("Ada@Example.com", "Ada Lovelace", GOOD_PASSWORD)
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/team");

    let me: Me = app.run(fns::CurrentUser {}).await.json().await.unwrap();
    assert_eq!(me.name, "Ada Lovelace");
    assert_eq!(me.email, "Ada@Example.com");
    let workspace = me.workspace.expect("a workspace of her own");
    assert_eq!(workspace.name, "Ada's workspace");
    assert!(workspace.positions.owner);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'account.signed_up'")
            .await,
        1
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn session_cookie_is_http_only_lax_and_secure_behind_https(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let response = app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("teamroom_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let value = cookie
        .trim_start_matches("teamroom_session=")
        .split(';')
        .next()
        .unwrap();
    assert_eq!(value.len(), 43, "32 random bytes, base64url");

    // Only the hash is stored: the cookie value appears nowhere in the table.
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sessions WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'",
    )
    .bind(value)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);

    let sign_in_via = |base: String| async move {
        crate::helpers::client()
            .post(format!("{base}/api/sign_in"))
            .header("accept", "application/json")
            .header("x-forwarded-proto", "https")
            .form(&[("email", "ada@example.com"), ("password", GOOD_PASSWORD)])
            .send()
            .await
            .unwrap()
    };
    let session_cookie = |response: &reqwest::Response| {
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("teamroom_session="))
            .map(str::to_owned)
            .expect("a session cookie")
    };
    // A client saying "https" itself is not believed...
    let direct = sign_in_via(app.base.clone()).await;
    assert!(!session_cookie(&direct).contains("Secure"));
    // ...a configured proxy is.
    let proxied = crate::helpers::spawn_with(
        pool,
        app::server::AuthSettings {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..crate::helpers::settings()
        },
    )
    .await;
    let behind_proxy = sign_in_via(proxied.base.clone()).await;
    let cookie = session_cookie(&behind_proxy);
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn sign_in_issues_a_new_session_and_ends_the_old_one(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let first = app
        .client
        .get(format!("{}/team", app.base))
        .send()
        .await
        .unwrap();
    assert!(first.status().is_success());
    let before: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(before.len(), 1);

    let response = app.sign_in("ADA@example.com", GOOD_PASSWORD).await;
    assert!(
        response.status().is_success(),
        "email compared case-insensitively"
    );
    let after: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(after.len(), 1, "the session the browser had was ended");
    assert_ne!(before, after, "a fresh session id at sign-in");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn wrong_password_and_unknown_email_get_the_same_answer_and_no_session(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    sqlx::query("DELETE FROM sessions")
        .execute(&app.pool)
        .await
        .unwrap();

    let wrong = app.sign_in("ada@example.com", "not her password").await;
    assert!(wrong.headers().get("set-cookie").is_none());
    assert_eq!(wrong.status(), 400, "a refusal, not a server fault");
    let wrong = error_of(wrong).await;
    let unknown = error_of(app.sign_in("nobody@example.com", "not her password").await).await;
    assert_eq!(wrong, unknown);
    assert_eq!(
        wrong.field_message("form").as_deref(),
        Some("Email or password is incorrect.")
    );
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 0);
}

/// Median time of `runs` sign-in attempts.
async fn median_sign_in(
    app: &crate::helpers::TestApp,
    email: &str,
    runs: usize,
) -> std::time::Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let response = app.sign_in(email, "not the password").await;
        times.push(started.elapsed());
        assert!(!response.status().is_success());
    }
    times.sort();
    times[runs / 2]
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn unknown_email_costs_a_full_password_check(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    // Three wrong passwords stay below the lock threshold (five), so every
    // try verifies a hash.
    let wrong_password = median_sign_in(&app, "ada@example.com", 3).await;
    let unknown_email = median_sign_in(&app, "nobody@example.com", 3).await;
    // Without the dummy verification an unknown email answers ~50x faster;
    // the band is wide so a busy machine does not make this flaky.
    let ratio = unknown_email.as_secs_f64() / wrong_password.as_secs_f64();
    assert!(
        (0.33..3.0).contains(&ratio),
        "unknown {unknown_email:?} vs wrong password {wrong_password:?}"
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn repeated_failures_make_the_account_wait(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    for _ in 0..5 {
        let error = error_of(app.sign_in("ada@example.com", "wrong guess").await).await;
        assert!(error.field_message("form").is_some());
    }
    // Even the right password waits now, and the wait is bounded.
    match error_of(app.sign_in("ada@example.com", GOOD_PASSWORD).await).await {
        AppError::RateLimited { retry_after_secs } => assert!((1..=60).contains(&retry_after_secs)),
        other => panic!("expected a wait, got {other:?}"),
    }
    sqlx::query("UPDATE auth_throttles SET blocked_until = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(app
        .sign_in("ada@example.com", GOOD_PASSWORD)
        .await
        .status()
        .is_success());
    // A success forgets this browser's failures.
    assert_eq!(
        app.count("SELECT count(*) FROM auth_throttles WHERE scope LIKE 'sign_in_%' AND scope <> 'sign_in_ip'")
            .await,
        0
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn bad_sign_up_input_gets_field_messages_and_writes_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    // Within the 64 KB body limit (past it the answer is a 413), so the
    // name's own check answers.
    let huge_name = "n".repeat(32 * 1024);
    let cases: &[(&str, &str, &str, &str)] = &[
        ("not-an-email", "Ada", GOOD_PASSWORD, "email"),
        ("ada@example.com", "Ada", "short", "password"),
        ("ada@example.com", "Ada", "password123", "password"),
        ("ada@example.com", "   ", GOOD_PASSWORD, "name"),
        ("ada@example.com", &huge_name, GOOD_PASSWORD, "name"),
    ];
    for (email, name, password, field) in cases {
        let error = error_of(app.sign_up(email, name, password).await).await;
        assert!(
            error.field_message(field).is_some(),
            "{field} should be named for {email}/{}/{password}: {error:?}",
            name.len()
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM workspaces").await, 0);

    assert!(app
        .sign_up("ada@example.com", "Ada", GOOD_PASSWORD)
        .await
        .status()
        .is_success());
    let taken = error_of(
        app.sign_up("ADA@EXAMPLE.COM", "Other Ada", GOOD_PASSWORD)
            .await,
    )
    .await;
    assert_eq!(
        taken.field_message("email").as_deref(),
        Some("An account with this email already exists. Sign in instead.")
    );
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM workspaces").await, 1);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn sign_out_ends_the_session(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let response = app.run(fns::SignOut {}).await;
    assert!(response.status().is_success());
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 0);
    assert_eq!(
        error_of(app.run(fns::CurrentUser {}).await).await,
        AppError::Unauthenticated
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn idle_and_absolute_timeouts_end_sessions(pool: PgPool) {
    let settings = AuthSettings {
        session_idle: chrono::Duration::minutes(30),
        session_absolute: chrono::Duration::hours(12),
        secure_cookies: false,
        ..crate::helpers::settings()
    };
    let app = spawn_with(pool, settings).await;
    let cookie = app
        .sign_up("ada@example.com", "Ada", GOOD_PASSWORD)
        .await
        .headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("Max-Age=43200"),
        "absolute timeout is the cookie's life: {cookie}"
    );
    assert!(app.run(fns::CurrentUser {}).await.status().is_success());

    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '31 minutes'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        error_of(app.run(fns::CurrentUser {}).await).await,
        AppError::Unauthenticated
    );

    app.sign_in("ada@example.com", GOOD_PASSWORD).await;
    assert!(app.run(fns::CurrentUser {}).await.status().is_success());
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        error_of(app.run(fns::CurrentUser {}).await).await,
        AppError::Unauthenticated
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn workspaces_can_be_created_and_switched_but_only_ones_own(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let created = app
        .run(fns::CreateWorkspace {
            name: "Analytical Engines".into(),
        })
        .await;
    assert!(created.status().is_success());
    let me: Me = app.run(fns::CurrentUser {}).await.json().await.unwrap();
    assert_eq!(me.workspaces.len(), 2);
    assert_eq!(me.workspace.as_ref().unwrap().name, "Analytical Engines");

    let first = me
        .workspaces
        .iter()
        .find(|w| w.name == "Ada's workspace")
        .unwrap()
        .id;
    let switched = app
        .run(fns::SwitchWorkspace {
            workspace_id: first,
        })
        .await;
    assert!(switched.status().is_success());
    let me: Me = app.run(fns::CurrentUser {}).await.json().await.unwrap();
    assert_eq!(me.workspace.unwrap().id, first);

    let other = spawn(app.pool.clone()).await;
    other.sign_up("bob@example.com", "Bob", GOOD_PASSWORD).await;
    let response = other
        .run(fns::SwitchWorkspace {
            workspace_id: first,
        })
        .await;
    assert_eq!(response.status(), 404);
    let error = error_of(response).await;
    assert_eq!(error, AppError::NotFound);
    let blank = error_of(app.run(fns::CreateWorkspace { name: "  ".into() }).await).await;
    assert_eq!(
        blank.field_message("name").as_deref(),
        Some("Enter a workspace name.")
    );
}

/// The common-password list stays on the server; the pages ask it while
/// the person types. The answer is only about the list, and signing up
/// refuses a listed password whatever the page showed.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn new_passwords_are_checked_against_the_list_on_the_server(pool: PgPool) {
    let app = spawn(pool).await;
    for (candidate, listed) in [
        ("password1", true),
        ("PassWord1", true),
        ("12345678", true),
        (GOOD_PASSWORD, false),
        ("short", false),
    ] {
        let response = app
            .run(fns::CheckNewPassword {
                password: candidate.to_owned(),
            })
            .await;
        assert_eq!(response.status(), 200, "{candidate}");
        let answer: bool = response.json().await.unwrap();
        assert_eq!(answer, listed, "{candidate}");
    }
    let refused = app
        .sign_up("ada@example.com", "Ada Lovelace", "password1")
        .await;
    let error = error_of(refused).await;
    assert!(
        error
            .field_message("password")
            .is_some_and(|m| m.contains("commonly used")),
        "{error:?}"
    );
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 0);
}
