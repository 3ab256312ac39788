//! API keys over real HTTP: made on the profile, used on `GET /api/v1/me`,
//! stopped by their owner, by the Owner's "Deactivate API keys", by
//! deactivation and by expiry; every way of presenting a bad key is a 401
//! problem document, and every refusal leaves the key as it was.

use app::{
    api::api_keys::{ApiKeyInfo, CreatedApiKey},
    error::AppError,
};
use sqlx::PgPool;

use crate::{
    helpers::{audit_count, error_of, fns, TestApp},
    lifecycle::{member, other_workspace, owner_app, Person},
};

/// A client with no cookies at all, as a script would be.
fn script() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(crate::helpers::REQUEST_DEADLINE)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn create_key(app: &TestApp, browser: &reqwest::Client, name: &str) -> CreatedApiKey {
    let response = app
        .run_as(
            browser,
            fns::CreateApiKey {
                name: name.to_owned(),
                expires_in_days: None,
            },
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("created key")
}

/// The same key with its last character changed: well-formed, but no
/// key's. (Always a different character: the secret may end in any.)
fn with_last_character_changed(secret: &str) -> String {
    let (head, last) = secret.split_at(secret.len() - 1);
    format!("{head}{}", if last == "Q" { "R" } else { "Q" })
}

async fn me(app: &TestApp, key: &str) -> reqwest::Response {
    script()
        .get(format!("{}/api/v1/me", app.base))
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .expect("request")
}

async fn me_json(app: &TestApp, key: &str) -> serde_json::Value {
    let response = me(app, key).await;
    assert_eq!(response.status(), 200, "the key works");
    response.json().await.expect("json")
}

/// A 401 problem document with the Bearer challenge.
async fn assert_unauthorized(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 401, "{what}");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(challenge.starts_with("Bearer"), "{what}: {challenge:?}");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{what}"
    );
    let body: serde_json::Value = response.json().await.expect("problem json");
    assert_eq!(body["type"], "about:blank", "{what}");
    assert_eq!(body["title"], "Unauthorized", "{what}");
    assert_eq!(body["status"], 401, "{what}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}"
    );
}

async fn enterprise(app: &TestApp, workspace_id: i64) {
    sqlx::query("UPDATE workspaces SET plan = 'enterprise', seats = 100 WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("plan");
}

async fn list(app: &TestApp, browser: &reqwest::Client) -> (Vec<ApiKeyInfo>, String) {
    let response = app.run_as(browser, fns::ListMyApiKeys {}).await;
    assert!(response.status().is_success(), "{}", response.status());
    let text = response.text().await.expect("body");
    (serde_json::from_str(&text).expect("keys"), text)
}

async fn live_keys(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL")
        .await
}

async fn count_with(app: &TestApp, sql: &'static str, value: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(value)
        .fetch_one(&app.pool)
        .await
        .expect("count query")
}

/// The Owner (Olive) on Enterprise and a plain member (Mia) with one key.
async fn with_mias_key(pool: PgPool) -> (TestApp, i64, Person, CreatedApiKey) {
    let (app, workspace_id, _) = owner_app(pool).await;
    enterprise(&app, workspace_id).await;
    let mia = member(&app, workspace_id, "mia@example.com", "Mia Member").await;
    let key = create_key(&app, &mia.browser, "Payroll export").await;
    (app, workspace_id, mia, key)
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_new_key_answers_me_and_is_stored_only_as_prefix_and_hash(pool: PgPool) {
    let (app, workspace_id, mia, key) = with_mias_key(pool).await;
    assert!(key.secret.starts_with("trk_"));
    assert!(key.secret.starts_with(&key.key.prefix));
    assert!(key.secret.len() >= 4 + 43, "256 random bits at least");

    let body = me_json(&app, &key.secret).await;
    assert_eq!(body["email"], "mia@example.com");
    assert_eq!(body["display_name"], "Mia Member");
    assert_eq!(body["account_id"], mia.account_id);
    assert_eq!(body["workspace_id"], workspace_id);
    assert_eq!(body["membership_id"], mia.membership_id);
    assert_eq!(body["status"], "active");
    assert_eq!(body["roles"], serde_json::json!(["member"]));
    let workspace_name: String = sqlx::query_scalar("SELECT name FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_one(&app.pool)
        .await
        .expect("name");
    assert_eq!(body["workspace_name"], workspace_name);

    // The list shows the key by name and prefix, never the secret.
    let (keys, raw) = list(&app, &mia.browser).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "Payroll export");
    assert_eq!(keys[0].prefix, key.key.prefix);
    assert!(keys[0].last_used_at.is_some(), "the call was stamped");
    assert!(!raw.contains(&key.secret));
    assert!(!raw.contains(&key.secret[key.key.prefix.len() + 1..]));

    // The database holds the SHA-256 of the secret and no plaintext of it.
    let by_hash = count_with(
        &app,
        "SELECT count(*) FROM api_keys WHERE key_hash = sha256(convert_to($1, 'UTF8'))",
        &key.secret,
    )
    .await;
    assert_eq!(by_hash, 1);
    let plaintext = count_with(
        &app,
        "SELECT count(*) FROM api_keys k WHERE strpos(row_to_json(k)::text, $1) > 0",
        &key.secret[key.key.prefix.len() + 1..],
    )
    .await;
    assert_eq!(plaintext, 0, "the secret part is nowhere in the row");
    assert_eq!(audit_count(&app, "api_key.created").await, 1);

    // The Owner's key answers as the Owner.
    let olive = create_key(&app, &app.client, "Olive's script").await;
    let body = me_json(&app, &olive.secret).await;
    assert_eq!(body["email"], "olive@example.com");
    assert_eq!(body["roles"], serde_json::json!(["owner", "member"]));
    // Each sees only their own keys.
    assert_eq!(list(&app, &mia.browser).await.0.len(), 1);
    assert_eq!(list(&app, &app.client).await.0.len(), 1);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_owners_deactivate_api_keys_stops_the_key_at_its_next_request(pool: PgPool) {
    let (app, _, mia, key) = with_mias_key(pool).await;
    let second = create_key(&app, &mia.browser, "Second").await;
    me_json(&app, &key.secret).await;
    let response = app
        .run(fns::RevokeMemberApiKeys {
            membership_id: mia.membership_id,
        })
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let revoked: u64 = response.json().await.expect("count");
    assert_eq!(revoked, 2);
    assert_unauthorized(me(&app, &key.secret).await, "revoked by the Owner").await;
    assert_unauthorized(me(&app, &second.secret).await, "revoked by the Owner").await;
    assert!(list(&app, &mia.browser).await.0.is_empty());
    let count: i64 = sqlx::query_scalar(
        "SELECT (details->>'count')::bigint FROM audit_events WHERE action = 'api_key.revoked_all'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("audit row");
    assert_eq!(count, 2);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_member_revokes_their_own_key_and_nobody_elses(pool: PgPool) {
    let (app, workspace_id, mia, key) = with_mias_key(pool).await;
    let bob = member(&app, workspace_id, "bob@example.com", "Bob Member").await;
    // Bob names Mia's key: not found, and it still works.
    let response = app
        .run_as(&bob.browser, fns::RevokeApiKey { id: key.key.id })
        .await;
    assert_eq!(response.status(), 404);
    assert!(matches!(error_of(response).await, AppError::NotFound));
    assert_eq!(live_keys(&app).await, 1);
    me_json(&app, &key.secret).await;
    // Even the Owner cannot use the member's own revoke on it.
    let response = app.run(fns::RevokeApiKey { id: key.key.id }).await;
    assert_eq!(response.status(), 404);
    me_json(&app, &key.secret).await;

    let response = app
        .run_as(&mia.browser, fns::RevokeApiKey { id: key.key.id })
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_unauthorized(me(&app, &key.secret).await, "revoked by its owner").await;
    assert_eq!(audit_count(&app, "api_key.revoked").await, 1);
    // Twice is not found: nothing more to revoke.
    let again = app
        .run_as(&mia.browser, fns::RevokeApiKey { id: key.key.id })
        .await;
    assert_eq!(again.status(), 404);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_deactivated_members_key_stays_dead_after_reactivation(pool: PgPool) {
    let (app, _, mia, key) = with_mias_key(pool).await;
    me_json(&app, &key.secret).await;
    let response = app
        .run(fns::DeactivateMember {
            membership_id: mia.membership_id,
        })
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_unauthorized(me(&app, &key.secret).await, "member deactivated").await;
    assert_eq!(live_keys(&app).await, 0, "revoked with the deactivation");
    let response = app
        .run(fns::ReactivateMember {
            membership_id: mia.membership_id,
        })
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_unauthorized(me(&app, &key.secret).await, "member reactivated").await;
    let reason: String = sqlx::query_scalar(
        "SELECT details->>'reason' FROM audit_events WHERE action = 'api_key.revoked_all'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("audit row");
    assert_eq!(reason, "deactivated");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_lookup_itself_refuses_an_inactive_membership(pool: PgPool) {
    // Whatever path makes a member inactive, the key stops: the lookup
    // checks the membership, not only the revocation.
    let (app, workspace_id, mia, key) = with_mias_key(pool).await;
    sqlx::query("UPDATE memberships SET status = 'inactive' WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(mia.membership_id)
        .execute(&app.pool)
        .await
        .expect("status");
    assert_unauthorized(me(&app, &key.secret).await, "inactive membership").await;
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_expired_key_is_refused(pool: PgPool) {
    let (app, _, mia, key) = with_mias_key(pool).await;
    let response = app
        .run_as(
            &mia.browser,
            fns::CreateApiKey {
                name: "Short-lived".into(),
                expires_in_days: Some(30),
            },
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let short: CreatedApiKey = response.json().await.expect("key");
    let expires = short.key.expires_at.expect("an expiry");
    let days = (expires - short.key.created_at).num_days();
    assert_eq!(days, 30);
    me_json(&app, &short.secret).await;
    sqlx::query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(short.key.id)
        .execute(&app.pool)
        .await
        .expect("expire");
    assert_unauthorized(me(&app, &short.secret).await, "expired").await;
    me_json(&app, &key.secret).await;
    let (keys, _) = list(&app, &mia.browser).await;
    assert!(keys.iter().any(|k| k.id == short.key.id && k.expired));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_key_anywhere_but_a_bearer_header_and_any_malformed_key_get_401(pool: PgPool) {
    let (app, _, mia, key) = with_mias_key(pool).await;
    let url = format!("{}/api/v1/me", app.base);
    let get = |client: reqwest::Client| client.get(&url);
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("no header", get(script())),
        (
            "malformed key",
            get(script()).header("authorization", "Bearer trk_nothing_like_a_key"),
        ),
        (
            "a key one character short",
            get(script()).header(
                "authorization",
                format!("Bearer {}", &key.secret[..key.secret.len() - 1]),
            ),
        ),
        (
            "a well-formed unknown key",
            get(script()).header(
                "authorization",
                format!("Bearer {}", with_last_character_changed(&key.secret)),
            ),
        ),
        (
            "10 KB header",
            get(script()).header(
                "authorization",
                format!("Bearer {}{}", key.secret, "A".repeat(10 * 1024)),
            ),
        ),
        (
            "no scheme",
            get(script()).header("authorization", key.secret.clone()),
        ),
        (
            "Basic scheme",
            get(script()).header("authorization", format!("Basic {}", key.secret)),
        ),
        // `X-Api-Key` is a supported header since the full REST API
        // (`rest.rs` tests it); a malformed value there is still refused.
        (
            "X-Api-Key with a scheme",
            get(script()).header("x-api-key", format!("Bearer {}", key.secret)),
        ),
        (
            "cookie",
            get(script()).header("cookie", format!("api_key={}", key.secret)),
        ),
        (
            "query string",
            script().get(format!("{url}?api_key={}", key.secret)),
        ),
        ("session cookie only", get(mia.browser.clone())),
        (
            "two Authorization headers",
            get(script())
                .header("authorization", format!("Bearer {}", key.secret))
                .header("authorization", "Bearer junk"),
        ),
    ];
    for (what, request) in cases {
        let response = request.send().await.expect("request");
        assert_unauthorized(response, what).await;
    }
    // A session cookie next to a bad key does not rescue it either.
    let response = mia
        .browser
        .get(&url)
        .header("authorization", "Bearer junk")
        .send()
        .await
        .expect("request");
    assert_unauthorized(response, "session cookie and a bad key").await;
    // The same key, presented properly, still works.
    me_json(&app, &key.secret).await;
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_admin_or_a_pro_owner_cannot_deactivate_someones_keys(pool: PgPool) {
    let (app, workspace_id, mia, key) = with_mias_key(pool).await;
    let alice = member(&app, workspace_id, "alice@example.com", "Alice Admin").await;
    sqlx::query("UPDATE memberships SET is_admin = true WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(alice.membership_id)
        .execute(&app.pool)
        .await
        .expect("admin");
    let revoke_all = fns::RevokeMemberApiKeys {
        membership_id: mia.membership_id,
    };
    let response = app.run_as(&alice.browser, revoke_all.clone()).await;
    assert_eq!(
        response.status(),
        404,
        "Admin: the tab does not exist for them"
    );
    me_json(&app, &key.secret).await;

    sqlx::query("UPDATE workspaces SET plan = 'pro' WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("pro");
    let response = app.run(revoke_all).await;
    assert_eq!(response.status(), 404, "Owner on Pro: no tab");
    me_json(&app, &key.secret).await;
    assert_eq!(live_keys(&app).await, 1);
    assert_eq!(audit_count(&app, "api_key.revoked_all").await, 0);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_owner_of_another_workspace_cannot_name_my_membership(pool: PgPool) {
    let (app, _, mia, key) = with_mias_key(pool).await;
    let (other, other_workspace_id, _) = other_workspace(&app).await;
    enterprise(&app, other_workspace_id).await;
    let response = other
        .run(fns::RevokeMemberApiKeys {
            membership_id: mia.membership_id,
        })
        .await;
    assert_eq!(response.status(), 404);
    me_json(&app, &key.secret).await;
    assert_eq!(live_keys(&app).await, 1);
    // Nor revoke my key by its id with their own revoke.
    let response = other.run(fns::RevokeApiKey { id: key.key.id }).await;
    assert_eq!(response.status(), 404);
    me_json(&app, &key.secret).await;
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn names_lifetimes_and_the_live_key_limit_are_checked(pool: PgPool) {
    let (app, _, mia, _) = with_mias_key(pool).await;
    let refused = |field: &'static str| {
        move |error: AppError| {
            assert!(
                error.field_message(field).is_some(),
                "a message on {field}: {error:?}"
            )
        }
    };
    let long = "x".repeat(61);
    let response = app
        .run_as(
            &mia.browser,
            fns::CreateApiKey {
                name: long.to_owned(),
                expires_in_days: None,
            },
        )
        .await;
    assert_eq!(response.status(), 400);
    refused("name")(error_of(response).await);
    let response = app
        .run_as(
            &mia.browser,
            fns::CreateApiKey {
                name: "   ".into(),
                expires_in_days: None,
            },
        )
        .await;
    assert_eq!(response.status(), 400);
    for days in [0, 366] {
        let response = app
            .run_as(
                &mia.browser,
                fns::CreateApiKey {
                    name: "Odd".into(),
                    expires_in_days: Some(days),
                },
            )
            .await;
        assert_eq!(response.status(), 400, "{days} days");
        refused("expires_in_days")(error_of(response).await);
    }
    assert_eq!(live_keys(&app).await, 1);

    // 19 more make 20 live keys; the 21st is refused with a message.
    for n in 2..=20 {
        create_key(&app, &mia.browser, &format!("Key {n}")).await;
    }
    let response = app
        .run_as(
            &mia.browser,
            fns::CreateApiKey {
                name: "Key 21".into(),
                expires_in_days: None,
            },
        )
        .await;
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert!(
        error
            .field_message("name")
            .is_some_and(|m| m.contains("20")),
        "{error:?}"
    );
    assert_eq!(live_keys(&app).await, 20);
    // An expired key no longer counts against the limit.
    sqlx::query(
        "UPDATE api_keys SET expires_at = now() - interval '1 second'
          WHERE id = (SELECT min(id) FROM api_keys)",
    )
    .execute(&app.pool)
    .await
    .expect("expire one");
    create_key(&app, &mia.browser, "Key 21").await;
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_owner_without_required_two_factor_cannot_use_a_key(pool: PgPool) {
    // The guard keeps such an Owner or Admin to their profile; a key must
    // not be a way around it.
    let (app, workspace_id, _, mias) = with_mias_key(pool).await;
    let olives = create_key(&app, &app.client, "Olive's script").await;
    me_json(&app, &olives.secret).await;
    sqlx::query("UPDATE workspaces SET require_two_factor = true WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("policy");
    assert_unauthorized(me(&app, &olives.secret).await, "Owner without two-factor").await;
    me_json(&app, &mias.secret).await;
}
