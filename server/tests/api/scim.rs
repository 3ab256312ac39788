//! SCIM 2.0 over real HTTP, as Okta and Microsoft Entra use it: a token the
//! Enterprise Owner makes on Settings, Users provisioned as invitations,
//! deactivated and deleted through the Team page's own rules, Groups, and
//! every refusal a SCIM error with nothing changed.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::{
    helpers::{client, fns, Call, TestApp, GOOD_PASSWORD},
    lifecycle::{member, other_workspace, owner_app},
};

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// What came back: status, content type, ETag, body (Null when empty).
struct Answer {
    status: u16,
    content_type: String,
    etag: Option<String>,
    location: Option<String>,
    body: Value,
    raw: String,
}

async fn send(
    app: &TestApp,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<String>,
    extra: &[(&str, &str)],
) -> Answer {
    let mut request = reqwest::Client::builder()
        .timeout(crate::helpers::REQUEST_DEADLINE)
        .build()
        .expect("client")
        .request(method, format!("{}/scim/v2{path}", app.base));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = response.status().as_u16();
    let content_type = header("content-type").unwrap_or_default();
    let etag = header("etag");
    let location = header("location");
    let raw = response.text().await.expect("body");
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        etag,
        location,
        body,
        raw,
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> Answer {
    send(app, Some(token), reqwest::Method::GET, path, None, &[]).await
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Answer {
    send(
        app,
        Some(token),
        reqwest::Method::POST,
        path,
        Some(body.to_string()),
        &[],
    )
    .await
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> Answer {
    send(
        app,
        Some(token),
        reqwest::Method::PUT,
        path,
        Some(body.to_string()),
        &[],
    )
    .await
}

async fn patch(app: &TestApp, token: &str, path: &str, operations: Value) -> Answer {
    let body = json!({ "schemas": [PATCH], "Operations": operations });
    send(
        app,
        Some(token),
        reqwest::Method::PATCH,
        path,
        Some(body.to_string()),
        &[],
    )
    .await
}

async fn delete(app: &TestApp, token: &str, path: &str) -> Answer {
    send(app, Some(token), reqwest::Method::DELETE, path, None, &[]).await
}

/// A SCIM error with this status (and scimType, when given).
fn assert_error(answer: &Answer, status: u16, scim_type: Option<&str>, what: &str) {
    assert_eq!(answer.status, status, "{what}: {}", answer.raw);
    assert!(
        answer.content_type.starts_with("application/scim+json"),
        "{what}: {}",
        answer.content_type
    );
    assert_eq!(answer.body["schemas"][0], ERROR_SCHEMA, "{what}");
    assert_eq!(answer.body["status"], status.to_string(), "{what}");
    if let Some(scim_type) = scim_type {
        assert_eq!(answer.body["scimType"], scim_type, "{what}: {}", answer.raw);
    }
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{what}"
    );
}

async fn set_plan(app: &TestApp, workspace_id: i64, plan: &str) {
    sqlx::query("UPDATE workspaces SET plan = $2, seats = 100 WHERE id = $1")
        .bind(workspace_id)
        .bind(plan)
        .execute(&app.pool)
        .await
        .expect("plan");
}

/// An Enterprise workspace owned by Olive, and a SCIM token she made on
/// Settings: (app, workspace id, Olive's membership id, token).
async fn enterprise_with_token(pool: PgPool) -> (TestApp, i64, i64, String) {
    let (app, workspace_id, owner) = owner_app(pool).await;
    set_plan(&app, workspace_id, "enterprise").await;
    let made = app
        .run(fns::CreateScimToken {
            name: "Okta".into(),
        })
        .await;
    assert!(made.status().is_success(), "{}", made.status());
    let made: Value = made.json().await.expect("token");
    let secret = made["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("trs_"));
    (app, workspace_id, owner, secret)
}

async fn membership_count(app: &TestApp, workspace_id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM memberships WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

async fn status_of(app: &TestApp, membership_id: i64) -> Option<String> {
    sqlx::query_scalar("SELECT status FROM memberships WHERE id = $1")
        .bind(membership_id)
        .fetch_optional(&app.pool)
        .await
        .expect("status")
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn tokens_are_the_enterprise_owners_and_every_refusal_is_a_scim_error(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    set_plan(&app, workspace_id, "pro").await;
    // Not on Pro, not for an Admin: the feature does not exist for them.
    assert_eq!(
        app.run(fns::CreateScimToken {
            name: "Okta".into()
        })
        .await
        .status(),
        404
    );
    set_plan(&app, workspace_id, "enterprise").await;
    let admin = member(&app, workspace_id, "ann@example.com", "Ann Admin").await;
    sqlx::query("UPDATE memberships SET is_admin = true WHERE id = $1")
        .bind(admin.membership_id)
        .execute(&app.pool)
        .await
        .expect("admin");
    for call in [
        Call::form(fns::CreateScimToken {
            name: "Mine".into(),
        }),
        Call::form(fns::ListScimTokens {}),
    ] {
        let r = app.send_with(&admin.browser, call.clone()).await;
        assert_eq!(r.status(), 404, "{} for an Admin", call.name());
    }

    let made: Value = app
        .run(fns::CreateScimToken {
            name: "Okta".into(),
        })
        .await
        .json()
        .await
        .expect("token");
    let token = made["secret"].as_str().expect("secret").to_owned();
    let listed: Value = app
        .run(fns::ListScimTokens {})
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["name"], "Okta");
    assert!(token.starts_with(listed[0]["prefix"].as_str().expect("prefix")));
    assert!(
        !listed.to_string().contains(&token),
        "the secret is shown once"
    );
    assert!(listed[0]["last_used_at"].is_null());

    // No token, a malformed one, an API-key-shaped one: 401 with a challenge.
    let none = send(&app, None, reqwest::Method::GET, "/Users", None, &[]).await;
    assert_error(&none, 401, None, "no token");
    let wrong = get(
        &app,
        "trs_aaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "/Users",
    )
    .await;
    assert_error(&wrong, 401, None, "unknown token");
    let junk = get(&app, "nonsense", "/ServiceProviderConfig").await;
    assert_error(&junk, 401, None, "malformed token");

    let ok = get(&app, &token, "/Users").await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert!(ok.content_type.starts_with("application/scim+json"));
    let used: Value = app
        .run(fns::ListScimTokens {})
        .await
        .json()
        .await
        .expect("list");
    assert!(!used[0]["last_used_at"].is_null(), "last use is recorded");

    // On Pro the same token is refused, with a SCIM body.
    set_plan(&app, workspace_id, "pro").await;
    assert_error(&get(&app, &token, "/Users").await, 403, None, "Pro plan");
    set_plan(&app, workspace_id, "enterprise").await;

    let revoked = app
        .run(fns::RevokeScimToken {
            id: listed[0]["id"].as_i64().expect("token id"),
        })
        .await;
    assert!(revoked.status().is_success(), "{}", revoked.status());
    assert_error(
        &get(&app, &token, "/Users").await,
        401,
        None,
        "revoked token",
    );
    for code in [
        "workspace.scim_token_created",
        "workspace.scim_token_revoked",
    ] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
            .bind(code)
            .fetch_one(&app.pool)
            .await
            .expect("audit");
        assert_eq!(n, 1, "{code}");
    }
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn discovery_endpoints_describe_users_and_groups(pool: PgPool) {
    let (app, _, _, token) = enterprise_with_token(pool).await;
    let config = get(&app, &token, "/ServiceProviderConfig").await;
    assert_eq!(config.status, 200);
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.body["etag"]["supported"], true);
    let types = get(&app, &token, "/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 2);
    let schemas = get(&app, &token, "/Schemas").await;
    assert_eq!(
        schemas.body["Resources"][0]["id"],
        "urn:ietf:params:scim:schemas:core:2.0:User"
    );
    assert_error(
        &get(&app, &token, "/Nothing").await,
        404,
        None,
        "unknown endpoint",
    );
    // A token made without a browser (seeding, `cargo xtask`) works too.
    let workspace_id: i64 = sqlx::query_scalar("SELECT id FROM workspaces")
        .fetch_one(&app.pool)
        .await
        .expect("workspace");
    let mut conn = app.pool.acquire().await.expect("connection");
    let name = app::domain::api_key::ApiKeyName::parse("CI").expect("name");
    let seeded = app::server::scim::token_for_owner(&mut conn, workspace_id, &name)
        .await
        .expect("token");
    assert_eq!(get(&app, &seeded, "/Users").await.status, 200);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn create_invites_and_lists_filter_and_page(pool: PgPool) {
    let (app, workspace_id, _, token) = enterprise_with_token(pool).await;
    let created = post(
        &app,
        &token,
        "/Users",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "nina@example.com",
            "name": { "givenName": "Nina", "familyName": "New" },
            "emails": [{ "value": "nina@example.com", "type": "work", "primary": true }],
            "externalId": "okta-1",
            "active": true,
            "title": "Engineer",
        }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.raw);
    assert!(created.content_type.starts_with("application/scim+json"));
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.location.as_deref(),
        Some(format!("http://127.0.0.1:3000/scim/v2/Users/{id}").as_str()),
        "Location comes from PUBLIC_URL"
    );
    assert_eq!(
        created.body["meta"]["location"],
        created.location.clone().unwrap_or_default()
    );
    assert_eq!(
        created.etag.as_deref(),
        created.body["meta"]["version"].as_str()
    );
    assert_eq!(created.body["userName"], "nina@example.com");
    assert_eq!(created.body["displayName"], "Nina New");
    assert_eq!(created.body["active"], true);
    // An invitation, mailed through the outbox.
    assert_eq!(
        status_of(&app, id.parse().unwrap()).await.as_deref(),
        Some("pending")
    );
    let mails: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'invitation' AND recipient = 'nina@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("outbox");
    assert_eq!(mails, 1);

    let again = post(
        &app,
        &token,
        "/Users",
        json!({ "userName": "NINA@example.com" }),
    )
    .await;
    assert_error(&again, 409, Some("uniqueness"), "the same person twice");

    // Someone with an account elsewhere sees it in the bell.
    let existing = client();
    app.run_as(
        &existing,
        fns::SignUp {
            email: "eve@example.com".into(),
            name: "Eve Existing".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    sqlx::query("UPDATE accounts SET email_verified_at = now() WHERE email = 'eve@example.com'")
        .execute(&app.pool)
        .await
        .expect("verified");
    let eve = post(
        &app,
        &token,
        "/Users",
        json!({ "userName": "eve@example.com", "displayName": "Eve E", "externalId": "okta-2" }),
    )
    .await;
    assert_eq!(eve.status, 201, "{}", eve.raw);
    let bell: Value = app
        .run_as(&existing, fns::MyInvitations {})
        .await
        .json()
        .await
        .expect("bell");
    assert_eq!(
        bell["invitations"].as_array().map(Vec::len),
        Some(1),
        "{bell}"
    );
    let _ = post(
        &app,
        &token,
        "/Users",
        json!({ "userName": "zed@example.org" }),
    )
    .await;

    let total = |filter: &str| {
        let app = &app;
        let token = token.clone();
        let filter = filter.to_owned();
        async move {
            let answer = get(
                app,
                &token,
                &format!("/Users?filter={}", urlencode(&filter)),
            )
            .await;
            assert_eq!(answer.status, 200, "{filter}: {}", answer.raw);
            answer.body["totalResults"].as_i64().expect("total")
        }
    };
    // Olive (the Owner) is a User too: 4 in all.
    assert_eq!(total("userName pr").await, 4);
    assert_eq!(total(r#"userName eq "Nina@Example.com""#).await, 1);
    assert_eq!(total(r#"userName eq "nobody@example.com""#).await, 0);
    assert_eq!(
        total(r#"userName eq "OLIVE@example.com""#).await,
        1,
        "an account's address"
    );
    assert_eq!(
        total(r#"emails.value eq "olive@example.com" or userName eq "zed@example.org""#).await,
        2
    );
    assert_eq!(total(r#"userName co "example.com""#).await, 3);
    assert_eq!(total(r#"userName sw "ni""#).await, 1);
    assert_eq!(total(r#"emails.value eq "eve@example.com""#).await, 1);
    assert_eq!(total(r#"externalId eq "okta-1""#).await, 1);
    assert_eq!(
        total(r#"externalId eq "OKTA-1""#).await,
        0,
        "externalId is case-exact"
    );
    assert_eq!(total("externalId pr").await, 2);
    assert_eq!(total(r#"displayName co "eve""#).await, 1);
    assert_eq!(
        total(r#"externalId eq "okta-1" or externalId eq "okta-2""#).await,
        2
    );
    assert_eq!(
        total(r#"(userName sw "n" or userName sw "e") and externalId pr"#).await,
        2
    );
    assert_eq!(
        total(r#"userName co "example" and not (userName sw "z")"#).await,
        3
    );
    let none = get(
        &app,
        &token,
        &format!("/Users?filter={}", urlencode(r#"userName eq "x@y.z""#)),
    )
    .await;
    assert_eq!(none.body["Resources"], json!([]), "an empty ListResponse");
    assert_eq!(
        none.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );

    let page = get(&app, &token, "/Users?startIndex=2&count=2").await;
    assert_eq!(page.body["totalResults"], 4);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    let last = get(&app, &token, "/Users?startIndex=4&count=2").await;
    assert_eq!(last.body["itemsPerPage"], 1);
    // RFC 7644 3.4.2.4: a negative count is 0; a huge one is clamped.
    let zero = get(&app, &token, "/Users?count=-1").await;
    assert_eq!(
        (zero.status, zero.body["itemsPerPage"].as_i64()),
        (200, Some(0))
    );
    assert_eq!(zero.body["totalResults"], 4);
    let huge = get(&app, &token, "/Users?count=1000000000").await;
    assert_eq!(
        (huge.status, huge.body["itemsPerPage"].as_i64()),
        (200, Some(4))
    );

    // A userName that is not the address (Entra's UPN): both find them.
    let uma = post(
        &app,
        &token,
        "/Users",
        json!({ "userName": "uid-77", "emails": [{ "value": "uma@example.com", "type": "work" }] }),
    )
    .await;
    assert_eq!(uma.status, 201, "{}", uma.raw);
    assert_eq!(uma.body["userName"], "uid-77");
    assert_eq!(total(r#"userName eq "UID-77""#).await, 1);
    assert_eq!(total(r#"emails.value eq "uma@example.com""#).await, 1);
    assert_eq!(total(r#"userName eq "uma@example.com""#).await, 0);

    let one = get(&app, &token, &format!("/Users/{id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["externalId"], "okta-1");
    let only = get(&app, &token, &format!("/Users/{id}?attributes=userName")).await;
    assert!(only.body.get("externalId").is_none() && only.body["userName"] == "nina@example.com");

    // Another workspace's member is not found, nor is a non-number.
    let (_, _, otto) = other_workspace(&app).await;
    assert_error(
        &get(&app, &token, &format!("/Users/{otto}")).await,
        404,
        None,
        "other workspace",
    );
    assert_error(
        &get(&app, &token, "/Users/abc").await,
        404,
        None,
        "not an id",
    );
    let foreign = format!("/Users/{otto}");
    let off = json!([{ "op": "replace", "value": { "active": false } }]);
    assert_error(
        &patch(&app, &token, &foreign, off).await,
        404,
        None,
        "PATCH elsewhere",
    );
    assert_error(
        &delete(&app, &token, &foreign).await,
        404,
        None,
        "DELETE elsewhere",
    );
    assert_eq!(status_of(&app, otto).await.as_deref(), Some("active"));
    assert_eq!(membership_count(&app, workspace_id).await, 5);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn put_replaces_and_if_match_guards(pool: PgPool) {
    let (app, _, _, token) = enterprise_with_token(pool).await;
    let made = post(
        &app,
        &token,
        "/Users",
        json!({ "userName": "pat@example.com", "name": { "givenName": "Pat" }, "externalId": "e-1" }),
    )
    .await;
    let path = format!("/Users/{}", made.body["id"].as_str().expect("id"));
    let stale = made.etag.clone().expect("etag");
    let replaced = put(
        &app,
        &token,
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "pat@example.com",
            "displayName": "Pat Replaced",
            "emails": [{ "value": "pat@example.com", "primary": true }],
            "active": true,
        }),
    )
    .await;
    assert_eq!(replaced.status, 200, "{}", replaced.raw);
    assert_eq!(replaced.body["displayName"], "Pat Replaced");
    assert!(
        replaced.body.get("externalId").is_none(),
        "PUT replaces: externalId gone"
    );
    assert!(replaced.body.get("name").is_none());
    assert_ne!(replaced.etag.as_deref(), Some(stale.as_str()));
    let refused = send(
        &app,
        Some(&token),
        reqwest::Method::PUT,
        &path,
        Some(json!({ "userName": "pat@example.com", "displayName": "Lost" }).to_string()),
        &[("if-match", &stale)],
    )
    .await;
    assert_error(&refused, 412, None, "a stale If-Match");
    assert_eq!(
        get(&app, &token, &path).await.body["displayName"],
        "Pat Replaced"
    );
    let current = replaced.etag.expect("etag");
    let fine = send(
        &app,
        Some(&token),
        reqwest::Method::PATCH,
        &path,
        Some(json!({ "schemas": [PATCH], "Operations": [{ "op": "add", "path": "externalId", "value": "e-2" }] }).to_string()),
        &[("if-match", &current)],
    )
    .await;
    assert_eq!(fine.status, 200, "{}", fine.raw);
    assert_eq!(fine.body["externalId"], "e-2");
}

/// A running timer and a finished entry for a member.
async fn give_time(app: &TestApp, workspace_id: i64, membership_id: i64) {
    sqlx::query(
        "INSERT INTO time_entries (workspace_id, membership_id, started_at, ended_at)
         VALUES ($1, $2, now() - interval '3 hours', now() - interval '2 hours'),
                ($1, $2, now() - interval '10 minutes', NULL)",
    )
    .bind(workspace_id)
    .bind(membership_id)
    .execute(&app.pool)
    .await
    .expect("time");
}

async fn running_timers(app: &TestApp, membership_id: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM time_entries WHERE membership_id = $1 AND ended_at IS NULL",
    )
    .bind(membership_id)
    .fetch_one(&app.pool)
    .await
    .expect("timers")
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn okta_and_entra_patch_shapes(pool: PgPool) {
    let (app, workspace_id, _, token) = enterprise_with_token(pool).await;
    let dan = member(&app, workspace_id, "dan@example.com", "Dan Doe").await;
    give_time(&app, workspace_id, dan.membership_id).await;
    let path = format!("/Users/{}", dan.membership_id);
    assert!(app
        .run_as(&dan.browser, fns::ListMyApiKeys {})
        .await
        .status()
        .is_success());

    // Okta: a path-less replace of active, op in any case.
    let off = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "Replace", "value": { "active": false } }]),
    )
    .await;
    assert_eq!(off.status, 200, "{}", off.raw);
    assert_eq!(off.body["active"], false);
    assert_eq!(
        status_of(&app, dan.membership_id).await.as_deref(),
        Some("inactive")
    );
    assert_eq!(
        app.run_as(&dan.browser, fns::ListMyApiKeys {})
            .await
            .status(),
        403,
        "their session no longer reaches the workspace"
    );
    assert_eq!(
        running_timers(&app, dan.membership_id).await,
        0,
        "timer stopped"
    );
    let seats: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memberships WHERE workspace_id = $1 AND kind = 'full' AND status <> 'inactive'",
    )
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("seats");
    assert_eq!(seats, 1, "seat freed");

    // Entra: "value": "True" as a string, with a path.
    let on = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "replace", "path": "active", "value": "True" }]),
    )
    .await;
    assert_eq!(on.status, 200, "{}", on.raw);
    assert_eq!(
        status_of(&app, dan.membership_id).await.as_deref(),
        Some("active")
    );
    assert!(app
        .run_as(&dan.browser, fns::ListMyApiKeys {})
        .await
        .status()
        .is_success());

    // A path-less replace whose keys are attribute paths.
    let names = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "replace", "value": {
            "name.givenName": "Daniel", "name.familyName": "Doe", "displayName": "Daniel Doe",
            "externalId": "entra-9",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Ops",
        } }]),
    )
    .await;
    assert_eq!(names.status, 200, "{}", names.raw);
    assert_eq!(names.body["name"]["givenName"], "Daniel");
    assert_eq!(names.body["displayName"], "Daniel Doe");
    assert_eq!(names.body["externalId"], "entra-9");

    // Entra's email path with the same address is fine; another is not
    // (the address belongs to their account).
    let same = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "dan@example.com" }]),
    )
    .await;
    assert_eq!(same.status, 200, "{}", same.raw);
    let other = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "x@example.com" }]),
    )
    .await;
    assert_error(&other, 400, Some("mutability"), "an account's address");
    assert_eq!(
        patch(
            &app,
            &token,
            &path,
            json!([{ "op": "remove", "path": "externalId" }])
        )
        .await
        .body
        .get("externalId"),
        None
    );

    // Entra: "False" as a string deactivates again, audited as the Owner.
    let off = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "Replace", "path": "active", "value": "False" }]),
    )
    .await;
    assert_eq!(off.body["active"], false);
    let audited: (i64, String) = sqlx::query_as(
        "SELECT count(*), max(user_agent) FROM audit_events
          WHERE action = 'member.deactivated' AND target_membership_id = $1
            AND actor_account_id = (SELECT owner_account_id FROM workspaces WHERE id = $2)",
    )
    .bind(dan.membership_id)
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audited.0, 2);
    assert!(audited.1.starts_with("SCIM trs_"), "{}", audited.1);

    // An invitee deactivated by the provider loses their link and seat;
    // reactivated, they are invited again.
    let ivy = post(
        &app,
        &token,
        "/Users",
        json!({ "userName": "ivy@example.com" }),
    )
    .await;
    let ivy_path = format!("/Users/{}", ivy.body["id"].as_str().expect("id"));
    let ivy_off = patch(
        &app,
        &token,
        &ivy_path,
        json!([{ "op": "replace", "value": { "active": "false" } }]),
    )
    .await;
    assert_eq!(ivy_off.body["active"], false, "{}", ivy_off.raw);
    let open: i64 = app
        .count(
            "SELECT count(*) FROM invitations WHERE email = 'ivy@example.com' AND state = 'open'",
        )
        .await;
    assert_eq!(open, 0);
    let ivy_on = patch(
        &app,
        &token,
        &ivy_path,
        json!([{ "op": "replace", "path": "active", "value": true }]),
    )
    .await;
    assert_eq!(ivy_on.body["active"], true, "{}", ivy_on.raw);
    let open: i64 = app
        .count(
            "SELECT count(*) FROM invitations WHERE email = 'ivy@example.com' AND state = 'open'",
        )
        .await;
    assert_eq!(open, 1);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn delete_deactivates_then_deletes_and_hours_stay(pool: PgPool) {
    let (app, workspace_id, owner, token) = enterprise_with_token(pool).await;
    let dan = member(&app, workspace_id, "dan@example.com", "Dan Doe").await;
    give_time(&app, workspace_id, dan.membership_id).await;
    let gone = delete(&app, &token, &format!("/Users/{}", dan.membership_id)).await;
    assert_eq!(gone.status, 204, "{}", gone.raw);
    assert!(gone.raw.is_empty(), "no body");
    assert_eq!(status_of(&app, dan.membership_id).await, None);
    let hours: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM time_entries WHERE workspace_id = $1 AND membership_id IS NULL AND ended_at IS NOT NULL",
    )
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("entries");
    assert_eq!(hours, 2, "both entries stay (the running one stopped)");
    for code in ["member.deactivated", "member.deleted"] {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_events WHERE action = $1 AND target_membership_id = $2",
        )
        .bind(code)
        .bind(dan.membership_id)
        .fetch_one(&app.pool)
        .await
        .expect("audit");
        assert_eq!(n, 1, "{code}");
    }
    assert_error(
        &get(&app, &token, &format!("/Users/{}", dan.membership_id)).await,
        404,
        None,
        "deleted",
    );
    // The Owner cannot be removed this way.
    let refused = delete(&app, &token, &format!("/Users/{owner}")).await;
    assert_eq!(refused.status, 409, "{}", refused.raw);
    assert_eq!(status_of(&app, owner).await.as_deref(), Some("active"));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn groups_create_rename_add_and_remove_members(pool: PgPool) {
    let (app, workspace_id, _, token) = enterprise_with_token(pool).await;
    let a = member(&app, workspace_id, "a@example.com", "Amy A")
        .await
        .membership_id;
    let b = member(&app, workspace_id, "b@example.com", "Bob B")
        .await
        .membership_id;
    let c = member(&app, workspace_id, "c@example.com", "Cid C")
        .await
        .membership_id;
    let made = post(
        &app,
        &token,
        "/Groups",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "externalId": "g-1",
            "members": [{ "value": a.to_string() }, { "value": b.to_string() }],
        }),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.raw);
    let path = format!("/Groups/{}", made.body["id"].as_str().expect("id"));
    assert_eq!(made.body["members"].as_array().map(Vec::len), Some(2));
    let dup = post(
        &app,
        &token,
        "/Groups",
        json!({ "displayName": "engineering" }),
    )
    .await;
    assert_error(&dup, 409, Some("uniqueness"), "a taken name");

    let found = get(
        &app,
        &token,
        &format!(
            "/Groups?filter={}",
            urlencode(r#"displayName eq "Engineering""#)
        ),
    )
    .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.raw);
    let lean = get(&app, &token, &format!("{path}?excludedAttributes=members")).await;
    assert!(lean.body.get("members").is_none());

    let renamed = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "Replace", "value": { "id": made.body["id"], "displayName": "Eng" } }]),
    )
    .await;
    assert_eq!(renamed.body["displayName"], "Eng", "{}", renamed.raw);
    let added = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "Add", "path": "members", "value": [{ "value": c.to_string() }] }]),
    )
    .await;
    assert_eq!(added.body["members"].as_array().map(Vec::len), Some(3));
    // Okta: remove one member by filter.
    let okta = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "remove", "path": format!("members[value eq \"{a}\"]") }]),
    )
    .await;
    let ids: Vec<String> = okta.body["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["value"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids, vec![b.to_string(), c.to_string()]);
    // Entra: remove with a value list removes only those listed.
    let entra = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "Remove", "path": "members", "value": [{ "value": b.to_string() }] }]),
    )
    .await;
    assert_eq!(
        entra.body["members"],
        json!([{ "value": c.to_string(), "$ref": format!("http://127.0.0.1:3000/scim/v2/Users/{c}") }])
    );
    // PUT replaces name and members.
    let replaced = put(
        &app,
        &token,
        &path,
        json!({ "displayName": "Platform", "members": [{ "value": a.to_string() }] }),
    )
    .await;
    assert_eq!(replaced.body["displayName"], "Platform");
    assert_eq!(replaced.body["members"][0]["value"], a.to_string());
    assert_eq!(replaced.body["members"].as_array().map(Vec::len), Some(1));
    // Another workspace's member cannot be added; nothing changes.
    let (_, _, otto) = other_workspace(&app).await;
    let foreign = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "add", "path": "members", "value": [{ "value": otto.to_string() }] }]),
    )
    .await;
    assert_error(
        &foreign,
        400,
        Some("invalidValue"),
        "another workspace's member",
    );
    assert_eq!(
        get(&app, &token, &path).await.body["members"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let gone = delete(&app, &token, &path).await;
    assert_eq!(gone.status, 204);
    assert_error(&get(&app, &token, &path).await, 404, None, "deleted group");
    assert_eq!(
        status_of(&app, a).await.as_deref(),
        Some("active"),
        "members stay"
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn bad_input_is_a_400_scim_error_and_changes_nothing(pool: PgPool) {
    let (app, workspace_id, _, token) = enterprise_with_token(pool).await;
    let dan = member(&app, workspace_id, "dan@example.com", "Dan Doe").await;
    let path = format!("/Users/{}", dan.membership_id);
    let before = membership_count(&app, workspace_id).await;
    let raw = |body: &str| {
        let app = &app;
        let token = token.clone();
        let body = body.to_owned();
        async move {
            send(
                app,
                Some(&token),
                reqwest::Method::POST,
                "/Users",
                Some(body),
                &[],
            )
            .await
        }
    };
    assert_error(
        &raw("{not json").await,
        400,
        Some("invalidSyntax"),
        "malformed JSON",
    );
    assert_error(
        &raw("[1, 2]").await,
        400,
        Some("invalidSyntax"),
        "not an object",
    );
    assert_error(
        &raw(r#"{"userName": 5}"#).await,
        400,
        Some("invalidValue"),
        "wrong type",
    );
    assert_error(
        &raw(r#"{"userName": "a@example.com", "active": "maybe"}"#).await,
        400,
        Some("invalidValue"),
        "active not a boolean",
    );
    assert_error(
        &raw(r#"{"userName": "a@example.com", "favouriteColour": "red"}"#).await,
        400,
        Some("invalidSyntax"),
        "unknown field",
    );
    assert_error(
        &raw(r#"{"userName": "not-an-email"}"#).await,
        400,
        Some("invalidValue"),
        "no address",
    );
    let long = format!(r#"{{"userName": "{}@example.com"}}"#, "a".repeat(300));
    assert_error(
        &raw(&long).await,
        400,
        Some("invalidValue"),
        "a long string",
    );
    let big = format!(
        r#"{{"userName": "a@example.com", "displayName": "{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    assert_error(&raw(&big).await, 400, Some("invalidSyntax"), "a 1 MB body");

    let list = |query: &str| {
        let app = &app;
        let token = token.clone();
        let query = query.to_owned();
        async move { get(app, &token, &format!("/Users?{query}")).await }
    };
    let filter = |f: &str| format!("filter={}", urlencode(f));
    assert_error(
        &list(&filter(r#"password eq "x""#)).await,
        400,
        Some("invalidFilter"),
        "unknown attribute",
    );
    assert_error(
        &list(&filter(r#"userName regex "x""#)).await,
        400,
        Some("invalidFilter"),
        "unknown operator",
    );
    let deep = format!("{}userName eq \"x\"{}", "(".repeat(100), ")".repeat(100));
    assert_error(
        &list(&filter(&deep)).await,
        400,
        Some("invalidFilter"),
        "nested 100 deep",
    );
    assert_error(
        &list(&filter(r#"active eq "yes""#)).await,
        400,
        Some("invalidFilter"),
        "wrong type in a filter",
    );
    assert_error(
        &list("count=ten").await,
        400,
        Some("invalidValue"),
        "count not an integer",
    );
    assert_error(
        &list("startIndex=99999999999999999999").await,
        400,
        Some("invalidValue"),
        "startIndex too large",
    );

    let ops = |operations: Value| {
        let app = &app;
        let token = token.clone();
        let path = path.clone();
        async move { patch(app, &token, &path, operations).await }
    };
    assert_error(
        &ops(json!([{ "op": "move", "path": "active" }])).await,
        400,
        Some("invalidSyntax"),
        "unknown op",
    );
    assert_error(
        &ops(json!([{ "op": "replace", "path": "favouriteColour", "value": "red" }])).await,
        400,
        Some("invalidPath"),
        "unknown path",
    );
    assert_error(
        &ops(json!([{ "op": "replace", "path": "active", "value": 7 }])).await,
        400,
        Some("invalidValue"),
        "active as a number",
    );
    let many: Vec<Value> = (0..101)
        .map(|_| json!({ "op": "replace", "path": "active", "value": false }))
        .collect();
    assert_error(
        &ops(Value::Array(many)).await,
        400,
        Some("tooMany"),
        "101 operations",
    );
    // A bad operation after a good one: nothing of the request is applied.
    let half = ops(json!([
        { "op": "replace", "path": "active", "value": false },
        { "op": "replace", "path": "nope", "value": 1 }
    ]))
    .await;
    assert_error(&half, 400, Some("invalidPath"), "second operation bad");
    assert_eq!(
        status_of(&app, dan.membership_id).await.as_deref(),
        Some("active")
    );
    assert_eq!(membership_count(&app, workspace_id).await, before);
}

/// Removing an invitee's `displayName` leaves it absent (RFC 7644 3.5.2.2):
/// SCIM's `displayName` is a person's name, never the invited address the
/// Team page falls back to. scim2-tester caught the address coming back
/// when the two rules were one.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_removed_display_name_stays_absent_while_the_team_page_shows_the_address(pool: PgPool) {
    let (app, _, _, token) = enterprise_with_token(pool).await;
    let created = post(
        &app,
        &token,
        "/Users",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "rita@example.com",
            "displayName": "Rita Remove",
            "emails": [{ "value": "rita@example.com", "type": "work", "primary": true }],
        }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_eq!(created.body["displayName"], "Rita Remove");
    let path = format!("/Users/{}", created.body["id"].as_str().expect("id"));
    let removed = patch(
        &app,
        &token,
        &path,
        json!([{ "op": "remove", "path": "displayName" }]),
    )
    .await;
    assert_eq!(removed.status, 200, "{}", removed.raw);
    assert!(
        removed.body.get("displayName").is_none(),
        "displayName removed, got {}",
        removed.raw
    );
    assert!(get(&app, &token, &path)
        .await
        .body
        .get("displayName")
        .is_none());
    // The Team list still names (and sorts) the invitee, by their address.
    let name: String = sqlx::query_scalar(
        "SELECT teamroom_member_name(m, a) FROM memberships m
           LEFT JOIN accounts a ON a.id = m.account_id WHERE m.invited_email = 'rita@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("Rita");
    assert_eq!(name, "rita@example.com");
}
