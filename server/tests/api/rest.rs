//! The REST API over real HTTP with real keys: every refusal (no key, a
//! revoked key, a deactivated member's key, another workspace's ids, a
//! plain member on an Admin route, too many requests, bad input) and the
//! happy path of each resource. Refusals are checked to change nothing.

use app::{api::api_keys::CreatedApiKey, server::AuthSettings};
use reqwest::{header::HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::{
    helpers::{fns, settings, spawn_with, TestApp, GOOD_PASSWORD},
    lifecycle::{member, other_workspace, Person},
};

/// A script holding one key (no cookies).
struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Api {
    fn new(app: &TestApp, key: &str) -> Self {
        Self {
            base: app.base.clone(),
            key: key.to_owned(),
            http: reqwest::Client::builder()
                .timeout(crate::helpers::REQUEST_DEADLINE)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.key));
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("request")).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// A problem document with `status`.
fn assert_problem(answer: &Answer, status: u16, what: &str) {
    assert_eq!(answer.status.as_u16(), status, "{what}: {:?}", answer.body);
    assert_eq!(
        answer
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{what}"
    );
    assert_eq!(answer.body["status"], status, "{what}");
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{what}"
    );
}

struct World {
    app: TestApp,
    workspace_id: i64,
    olive_membership: i64,
    owner: Api,
    mia: Person,
    mia_key: Api,
}

async fn create_key(app: &TestApp, browser: &reqwest::Client) -> String {
    let response = app
        .run_as(
            browser,
            fns::CreateApiKey {
                name: "script".into(),
                expires_in_days: None,
            },
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let created: CreatedApiKey = response.json().await.expect("created key");
    created.secret
}

/// Olive owns a Pro workspace with room to spare; Mia is a plain member.
/// Both have a key.
async fn world_with(pool: PgPool, auth: AuthSettings) -> World {
    let app = spawn_with(pool, auth).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    let (workspace_id, olive_membership): (i64, i64) = sqlx::query_as(
        "SELECT w.id, m.id FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
          JOIN accounts a ON a.id = m.account_id WHERE a.email = 'olive@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("workspace");
    sqlx::query("UPDATE workspaces SET plan = 'pro', seats = 100 WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("plan");
    let mia = member(&app, workspace_id, "mia@example.com", "Mia Member").await;
    let owner_key = create_key(&app, &app.client).await;
    let mia_secret = create_key(&app, &mia.browser).await;
    World {
        owner: Api::new(&app, &owner_key),
        mia_key: Api::new(&app, &mia_secret),
        app,
        workspace_id,
        olive_membership,
        mia,
    }
}

async fn world(pool: PgPool) -> World {
    world_with(pool, settings()).await
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.count(sql).await
}

/// Everything a refused request must leave alone.
async fn fingerprint(app: &TestApp) -> (i64, i64, i64, i64, i64) {
    (
        count(app, "SELECT count(*) FROM memberships WHERE status = 'active'").await,
        count(app, "SELECT count(*) FROM groups").await,
        count(app, "SELECT count(*) FROM group_members").await,
        count(
            app,
            "SELECT count(*) FROM memberships WHERE is_admin OR is_project_manager OR is_team_manager",
        )
        .await,
        count(app, "SELECT count(*) FROM time_entries WHERE ended_at IS NULL").await,
    )
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn no_key_or_a_key_in_the_wrong_shape_is_401(pool: PgPool) {
    let w = world(pool).await;
    let http = reqwest::Client::builder()
        .timeout(crate::helpers::REQUEST_DEADLINE)
        .build()
        .expect("client");
    for path in ["/api/v1/me", "/api/v1/members", "/api/v1/groups"] {
        let plain = answer(
            http.get(format!("{}{path}", w.app.base))
                .send()
                .await
                .expect("request"),
        )
        .await;
        assert_problem(&plain, 401, path);
        assert_eq!(plain.headers["www-authenticate"], "Bearer");
    }
    // Two keys at once, or a session cookie instead of a key: refused.
    let both = answer(
        http.get(format!("{}/api/v1/me", w.app.base))
            .header("authorization", format!("Bearer {}", w.owner.key))
            .header("x-api-key", &w.owner.key)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_problem(&both, 401, "two keys");
    let cookie_only = answer(
        w.app
            .client
            .get(format!("{}/api/v1/me", w.app.base))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_problem(&cookie_only, 401, "session cookie");
    // The X-Api-Key header works like Bearer.
    let plain_header = answer(
        http.get(format!("{}/api/v1/me", w.app.base))
            .header("x-api-key", &w.owner.key)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(plain_header.status, 200);
    assert_eq!(plain_header.body["email"], "olive@example.com");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_revoked_key_is_401_and_changes_nothing(pool: PgPool) {
    let w = world(pool).await;
    sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE membership_id = $1")
        .bind(w.olive_membership)
        .execute(&w.app.pool)
        .await
        .expect("revoke");
    let before = fingerprint(&w.app).await;
    let refused = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{}/deactivate", w.mia.membership_id),
            None,
        )
        .await;
    assert_problem(&refused, 401, "revoked key");
    let refused = w
        .owner
        .send(Method::POST, "/api/v1/groups", Some(json!({"name": "Ops"})))
        .await;
    assert_problem(&refused, 401, "revoked key");
    assert_eq!(fingerprint(&w.app).await, before);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_deactivated_members_key_is_401(pool: PgPool) {
    let w = world(pool).await;
    assert_eq!(w.mia_key.get("/api/v1/me").await.status, 200);
    let done = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{}/deactivate", w.mia.membership_id),
            None,
        )
        .await;
    assert_eq!(done.status, 204, "{:?}", done.body);
    assert_problem(&w.mia_key.get("/api/v1/me").await, 401, "deactivated");
    // Reactivating does not bring the key back.
    let back = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{}/reactivate", w.mia.membership_id),
            None,
        )
        .await;
    assert_eq!(back.status, 204, "{:?}", back.body);
    assert_problem(&w.mia_key.get("/api/v1/me").await, 401, "reactivated");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn another_workspaces_ids_are_404_and_change_nothing(pool: PgPool) {
    let w = world(pool).await;
    let (_other, other_workspace_id, otto) = other_workspace(&w.app).await;
    let foreign_group: i64 = sqlx::query_scalar(
        "INSERT INTO groups (workspace_id, name) VALUES ($1, 'Theirs') RETURNING id",
    )
    .bind(other_workspace_id)
    .fetch_one(&w.app.pool)
    .await
    .expect("group");
    let before = fingerprint(&w.app).await;
    let otto_path = format!("/api/v1/members/{otto}");
    let group_path = format!("/api/v1/groups/{foreign_group}");
    let attempts = [
        (Method::GET, otto_path.clone(), None),
        (Method::POST, format!("{otto_path}/deactivate"), None),
        (Method::DELETE, otto_path.clone(), None),
        (Method::PUT, format!("{otto_path}/roles/admin"), None),
        (
            Method::PATCH,
            group_path.clone(),
            Some(json!({"name": "Mine now"})),
        ),
        (Method::DELETE, group_path.clone(), None),
        (
            Method::POST,
            format!("{group_path}/members"),
            Some(json!({"membership_ids": [w.mia.membership_id]})),
        ),
        (
            Method::GET,
            format!("/api/v1/time-entries?member_id={otto}&from=2026-11-01&to=2026-11-30"),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let refused = w.owner.send(method.clone(), &path, body).await;
        assert_problem(&refused, 404, &format!("{method} {path}"));
    }
    // Adding the other workspace's member to one's own group: refused whole.
    let mine = w
        .owner
        .send(Method::POST, "/api/v1/groups", Some(json!({"name": "Ops"})))
        .await;
    assert_eq!(mine.status, 201);
    let before = (before.0, before.1 + 1, before.2, before.3, before.4);
    let smuggled = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/groups/{}/members", mine.body["id"]),
            Some(json!({"membership_ids": [otto]})),
        )
        .await;
    // Well-formed but refused by the rule: 409 with the field's message.
    assert_problem(&smuggled, 409, "foreign member");
    assert!(smuggled.body["errors"]["members"][0].as_str().is_some());
    assert_eq!(fingerprint(&w.app).await, before);
    let name: String = sqlx::query_scalar("SELECT name FROM groups WHERE id = $1")
        .bind(foreign_group)
        .fetch_one(&w.app.pool)
        .await
        .expect("still there");
    assert_eq!(name, "Theirs");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_plain_members_key_cannot_do_admin_work(pool: PgPool) {
    let w = world(pool).await;
    let group: i64 = sqlx::query_scalar(
        "INSERT INTO groups (workspace_id, name) VALUES ($1, 'Ops') RETURNING id",
    )
    .bind(w.workspace_id)
    .fetch_one(&w.app.pool)
    .await
    .expect("group");
    let before = fingerprint(&w.app).await;
    let olive = w.olive_membership;
    let mia = w.mia.membership_id;
    let attempts = [
        (Method::GET, "/api/v1/members".to_owned(), None),
        (Method::GET, format!("/api/v1/members/{olive}"), None),
        (
            Method::POST,
            format!("/api/v1/members/{olive}/deactivate"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/members/{mia}/roles/admin"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/members/{mia}/roles/team_manager"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/groups".to_owned(),
            Some(json!({"name": "Mine"})),
        ),
        (Method::DELETE, format!("/api/v1/groups/{group}"), None),
        (
            Method::POST,
            format!("/api/v1/groups/{group}/members"),
            Some(json!({"membership_ids": [mia]})),
        ),
        (Method::GET, "/api/v1/audit-events".to_owned(), None),
        (Method::GET, "/api/v1/reports/summary".to_owned(), None),
        (
            Method::GET,
            format!("/api/v1/time-entries?member_id={olive}&from=2026-11-01&to=2026-11-30"),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let refused = w.mia_key.send(method.clone(), &path, body).await;
        assert_problem(&refused, 403, &format!("{method} {path}"));
    }
    assert_eq!(fingerprint(&w.app).await, before);
    // What is hers stays open: who she is and her own time.
    assert_eq!(w.mia_key.get("/api/v1/me").await.status, 200);
    let own = w
        .mia_key
        .get("/api/v1/time-entries?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(own.status, 200, "{:?}", own.body);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn members_list_search_cursor_and_one_member(pool: PgPool) {
    let w = world(pool).await;
    // 55 more people, pending, so the list has two pages.
    sqlx::query(
        "INSERT INTO memberships (workspace_id, kind, status, invited_email, display_name)
         SELECT $1, 'full', 'pending', 'person' || i || '@example.com', 'Person ' || lpad(i::text, 2, '0')
           FROM generate_series(1, 55) AS i",
    )
    .bind(w.workspace_id)
    .execute(&w.app.pool)
    .await
    .expect("people");
    sqlx::query("SELECT teamroom_refresh_members($1, NULL)")
        .bind(w.workspace_id)
        .execute(&w.app.pool)
        .await
        .expect("refresh");
    let first = w.owner.get("/api/v1/members?sort=name&dir=asc").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["data"].as_array().map(Vec::len), Some(50));
    assert!(first.headers.contains_key("ratelimit-remaining"));
    let next = first.body["next"].as_str().expect("a next link").to_owned();
    assert!(next.starts_with("/api/v1/members?"), "{next}");
    assert!(next.contains("sort=name"), "{next}");
    let second = w.owner.get(&next).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["data"].as_array().map(Vec::len), Some(7));
    assert_eq!(second.body["next"], Value::Null);
    let mut seen: Vec<i64> = first.body["data"]
        .as_array()
        .into_iter()
        .chain(second.body["data"].as_array())
        .flatten()
        .filter_map(|m| m["id"].as_i64())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 57, "every member once");

    // The Team page's search and filters.
    let found = w.owner.get("/api/v1/members?q=mia").await;
    assert_eq!(found.status, 200);
    let data = found.body["data"].as_array().expect("rows");
    assert_eq!(data.len(), 1, "{data:?}");
    assert_eq!(data[0]["email"], "mia@example.com");
    let owners = w
        .owner
        .get("/api/v1/members?role=owner&status=active")
        .await;
    assert_eq!(owners.body["data"][0]["roles"], json!(["owner"]));
    let pending = w
        .owner
        .get("/api/v1/members?status=pending&q=person%2007")
        .await;
    assert_eq!(pending.body["data"][0]["name"], "Person 07");

    let one = w
        .owner
        .get(&format!("/api/v1/members/{}", w.mia.membership_id))
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["name"], "Mia Member");
    assert_eq!(one.body["status"], "active");
    assert!(one.body["all_projects"].is_boolean());
    assert_problem(
        &w.owner.get("/api/v1/members/999999999").await,
        404,
        "unknown",
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn roles_and_lifecycle_through_the_pages_rules(pool: PgPool) {
    let w = world(pool).await;
    let mia = w.mia.membership_id;
    let given = w
        .owner
        .send(
            Method::PUT,
            &format!("/api/v1/members/{mia}/roles/admin"),
            None,
        )
        .await;
    assert_eq!(given.status, 204, "{:?}", given.body);
    let one = w.owner.get(&format!("/api/v1/members/{mia}")).await;
    assert_eq!(one.body["roles"], json!(["admin"]));
    // Now an Admin, Mia's own key may list the team.
    assert_eq!(w.mia_key.get("/api/v1/members").await.status, 200);
    let taken = w
        .owner
        .send(
            Method::DELETE,
            &format!("/api/v1/members/{mia}/roles/admin"),
            None,
        )
        .await;
    assert_eq!(taken.status, 204);
    assert_eq!(w.mia_key.get("/api/v1/members").await.status, 403);
    // The same rules as the page: not yourself, not the Owner, delete only when inactive.
    let myself = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{}/deactivate", w.olive_membership),
            None,
        )
        .await;
    assert_problem(&myself, 409, "deactivate yourself");
    let too_soon = w
        .owner
        .send(Method::DELETE, &format!("/api/v1/members/{mia}"), None)
        .await;
    assert_problem(&too_soon, 409, "delete an active member");
    assert_eq!(
        w.owner
            .send(
                Method::POST,
                &format!("/api/v1/members/{mia}/deactivate"),
                None
            )
            .await
            .status,
        204
    );
    assert_eq!(
        w.owner
            .send(Method::DELETE, &format!("/api/v1/members/{mia}"), None)
            .await
            .status,
        204
    );
    assert_problem(
        &w.owner.get(&format!("/api/v1/members/{mia}")).await,
        404,
        "deleted",
    );
    let audited = count(
        &w.app,
        "SELECT count(*) FROM audit_events WHERE action IN ('member.role_given', 'member.role_taken', 'member.deactivated', 'member.deleted')",
    )
    .await;
    assert_eq!(audited, 4);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn groups_and_projects(pool: PgPool) {
    let w = world(pool).await;
    let created = w
        .owner
        .send(
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Support"})),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_i64().expect("id");
    let duplicate = w
        .owner
        .send(
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "support"})),
        )
        .await;
    assert_problem(&duplicate, 409, "duplicate name");
    assert!(duplicate.body["errors"]["name"][0].as_str().is_some());
    let renamed = w
        .owner
        .send(
            Method::PATCH,
            &format!("/api/v1/groups/{id}"),
            Some(json!({"name": "Helpdesk"})),
        )
        .await;
    assert_eq!(renamed.status, 204, "{:?}", renamed.body);
    let added = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/groups/{id}/members"),
            Some(json!({"membership_ids": [w.mia.membership_id, w.olive_membership]})),
        )
        .await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    assert_eq!(added.body["added"], 2);
    let listed = w.owner.get("/api/v1/groups").await;
    assert_eq!(listed.body["data"][0]["name"], "Helpdesk");
    assert_eq!(listed.body["data"][0]["member_count"], 2);
    // Search finds members by the new group name at once.
    let found = w.owner.get("/api/v1/members?q=helpdesk").await;
    assert_eq!(found.body["data"].as_array().map(Vec::len), Some(2));
    let removed = w
        .owner
        .send(
            Method::DELETE,
            &format!("/api/v1/groups/{id}/members/{}", w.mia.membership_id),
            None,
        )
        .await;
    assert_eq!(removed.status, 204);
    let again = w
        .owner
        .send(
            Method::DELETE,
            &format!("/api/v1/groups/{id}/members/{}", w.mia.membership_id),
            None,
        )
        .await;
    assert_problem(&again, 404, "not in the group any more");
    let deleted = w
        .owner
        .send(Method::DELETE, &format!("/api/v1/groups/{id}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(w.owner.get("/api/v1/groups").await.body["data"], json!([]));
    sqlx::query("INSERT INTO projects (workspace_id, name) VALUES ($1, 'Apollo')")
        .bind(w.workspace_id)
        .execute(&w.app.pool)
        .await
        .expect("project");
    let projects = w.owner.get("/api/v1/projects").await;
    assert_eq!(projects.status, 200);
    assert_eq!(projects.body["data"][0]["name"], "Apollo");
    assert_eq!(projects.body["data"][0]["archived"], false);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn time_entries_stop_timer_summary_and_audit(pool: PgPool) {
    let w = world(pool).await;
    let mia = w.mia.membership_id;
    sqlx::query(
        "INSERT INTO time_entries (workspace_id, membership_id, description, started_at, ended_at)
         VALUES ($1, $2, 'Morning', '2026-11-23 09:00Z', '2026-11-23 11:00Z'),
                ($1, $2, 'Afternoon', '2026-11-23 13:00Z', '2026-11-23 14:00Z'),
                ($1, $2, 'Outside', '2026-10-01 09:00Z', '2026-10-01 10:00Z'),
                ($1, $2, 'Running', now() - interval '1 hour', NULL)",
    )
    .bind(w.workspace_id)
    .bind(mia)
    .execute(&w.app.pool)
    .await
    .expect("entries");
    let page = w
        .owner
        .get(&format!(
            "/api/v1/time-entries?member_id={mia}&from=2026-11-01&to=2026-11-30&limit=1"
        ))
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(page.body["data"][0]["description"], "Morning");
    let next = page.body["next"].as_str().expect("next").to_owned();
    let page2 = w.owner.get(&next).await;
    assert_eq!(page2.body["data"][0]["description"], "Afternoon");
    // Mia's own entries, with her key, need no member_id.
    let own = w
        .mia_key
        .get("/api/v1/time-entries?from=2026-11-23&to=2026-11-23")
        .await;
    assert_eq!(own.body["data"].as_array().map(Vec::len), Some(2));

    let stopped = w
        .mia_key
        .send(Method::POST, "/api/v1/me/timer/stop", None)
        .await;
    assert_eq!(stopped.status, 200, "{:?}", stopped.body);
    assert!(stopped.body["entry_id"].as_i64().is_some());
    assert_eq!(
        count(
            &w.app,
            "SELECT count(*) FROM time_entries WHERE ended_at IS NULL"
        )
        .await,
        0
    );
    let twice = w
        .mia_key
        .send(Method::POST, "/api/v1/me/timer/stop", None)
        .await;
    assert_problem(&twice, 409, "no timer");

    let summary = w
        .owner
        .get("/api/v1/reports/summary?from=2026-11-23&to=2026-11-23")
        .await;
    assert_eq!(summary.status, 200, "{:?}", summary.body);
    assert_eq!(summary.body["total_seconds"], 3 * 3600);

    // Audit: the deactivation shows up, filtered and paged.
    w.owner
        .send(Method::POST, "/api/v1/groups", Some(json!({"name": "A"})))
        .await;
    w.owner
        .send(Method::POST, "/api/v1/groups", Some(json!({"name": "B"})))
        .await;
    let events = w
        .owner
        .get("/api/v1/audit-events?action=group.created&limit=1")
        .await;
    assert_eq!(events.status, 200, "{:?}", events.body);
    assert_eq!(events.body["data"].as_array().map(Vec::len), Some(1));
    assert!(events.body["data"][0]["details"]
        .as_str()
        .is_some_and(|d| d.contains("\"B\"")));
    let older = w
        .owner
        .get(events.body["next"].as_str().expect("next"))
        .await;
    assert!(older.body["data"][0]["details"]
        .as_str()
        .is_some_and(|d| d.contains("\"A\"")));
    assert!(older.body["data"][0]["actor"]
        .as_str()
        .is_some_and(|a| a.contains("olive@example.com")));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn too_many_requests_is_429_with_retry_after(pool: PgPool) {
    let w = world_with(
        pool,
        AuthSettings {
            api_requests_per_key_minute: 3,
            ..settings()
        },
    )
    .await;
    for left in [2, 1, 0] {
        let fine = w.owner.get("/api/v1/me").await;
        assert_eq!(fine.status, 200);
        assert_eq!(fine.headers["ratelimit-limit"], "3");
        assert_eq!(
            fine.headers["ratelimit-remaining"],
            left.to_string().as_str()
        );
    }
    let before = fingerprint(&w.app).await;
    let refused = w
        .owner
        .send(
            Method::POST,
            "/api/v1/groups",
            Some(json!({"name": "Late"})),
        )
        .await;
    assert_problem(&refused, 429, "over the limit");
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(refused.headers["ratelimit-remaining"], "0");
    assert_eq!(fingerprint(&w.app).await, before);
    // Another key has its own budget.
    assert_eq!(w.mia_key.get("/api/v1/me").await.status, 200);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn bad_input_is_a_400_problem_and_changes_nothing(pool: PgPool) {
    let w = world(pool).await;
    let group: i64 = sqlx::query_scalar(
        "INSERT INTO groups (workspace_id, name) VALUES ($1, 'Ops') RETURNING id",
    )
    .bind(w.workspace_id)
    .fetch_one(&w.app.pool)
    .await
    .expect("group");
    let before = fingerprint(&w.app).await;
    let raw = |body: Vec<u8>, content_type: &'static str| {
        let http = w.owner.http.clone();
        let url = format!("{}/api/v1/groups", w.app.base);
        let key = w.owner.key.clone();
        async move {
            answer(
                http.post(url)
                    .header("authorization", format!("Bearer {key}"))
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .await
                    .expect("request"),
            )
            .await
        }
    };
    let cases = [
        (
            "malformed JSON",
            raw(b"{\"name\": ".to_vec(), "application/json").await,
        ),
        (
            "wrong type",
            raw(b"{\"name\": 42}".to_vec(), "application/json").await,
        ),
        (
            "unknown field",
            raw(
                b"{\"name\": \"X\", \"admin\": true}".to_vec(),
                "application/json",
            )
            .await,
        ),
        (
            "not JSON",
            raw(b"name=X".to_vec(), "application/x-www-form-urlencoded").await,
        ),
        (
            "1 MB body",
            raw(
                format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024)).into_bytes(),
                "application/json",
            )
            .await,
        ),
        (
            "blank name",
            raw(b"{\"name\": \"   \"}".to_vec(), "application/json").await,
        ),
    ];
    for (what, refused) in &cases {
        assert_problem(refused, 400, what);
    }
    assert!(cases[2].1.body["detail"]
        .as_str()
        .is_some_and(|d| d.contains("admin")));
    assert!(cases[5].1.body["errors"]["name"][0].as_str().is_some());
    let members_too_many = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/groups/{group}/members"),
            Some(json!({"membership_ids": vec![w.mia.membership_id; 1001]})),
        )
        .await;
    assert_problem(&members_too_many, 400, "1001 members");
    let wrong_types = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/groups/{group}/members"),
            Some(json!({"membership_ids": "all"})),
        )
        .await;
    assert_problem(&wrong_types, 400, "ids as a string");
    for path in [
        "/api/v1/audit-events?limit=0",
        "/api/v1/audit-events?limit=1000000000",
        "/api/v1/audit-events?limit=-1",
        "/api/v1/audit-events?limit=ten",
        "/api/v1/audit-events?colour=red",
        "/api/v1/time-entries?from=2026-11-01&to=2026-11-30&limit=201",
        "/api/v1/time-entries?from=2026-13-01&to=2026-11-30",
        "/api/v1/time-entries?from=2026-11-01",
        "/api/v1/members?status=everyone",
        "/api/v1/members?status=",
        "/api/v1/members/abc",
    ] {
        assert_problem(&w.owner.get(path).await, 400, path);
    }
    let emperor = w
        .owner
        .send(Method::PUT, "/api/v1/members/1/roles/emperor", None)
        .await;
    assert_problem(&emperor, 400, "unknown role");
    let wrong_method = w.owner.send(Method::PATCH, "/api/v1/members", None).await;
    assert_problem(&wrong_method, 405, "wrong method");
    // A cursor this list never gave out, and days in the wrong order, fit
    // the document but not the rules: 409, with the field named.
    for (path, field) in [
        ("/api/v1/members?cursor=not-a-cursor", "cursor"),
        ("/api/v1/time-entries?from=2026-11-30&to=2026-11-01", "to"),
        ("/api/v1/audit-events?from=2026-11-30", "to"),
    ] {
        let refused = w.owner.get(path).await;
        assert_problem(&refused, 409, path);
        assert!(
            refused.body["errors"][field][0].as_str().is_some(),
            "{path}"
        );
    }
    let long_search = format!("/api/v1/members?q={}", "a".repeat(201));
    let refused = w.owner.get(&long_search).await;
    assert_problem(&refused, 400, "long search");
    assert!(refused.body["errors"]["q"][0].as_str().is_some());
    assert_eq!(fingerprint(&w.app).await, before);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_openapi_document_and_the_docs_page(pool: PgPool) {
    let w = world(pool).await;
    let http = reqwest::Client::builder()
        .timeout(crate::helpers::REQUEST_DEADLINE)
        .build()
        .expect("client");
    let doc: Value = http
        .get(format!("{}/api/v1/openapi.json", w.app.base))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for path in [
        "/api/v1/me",
        "/api/v1/members",
        "/api/v1/members/{id}/deactivate",
        "/api/v1/members/{id}/profile",
        "/api/v1/members/{id}/timer/stop",
        "/api/v1/groups/{id}/members",
        "/api/v1/time-entries",
        "/api/v1/audit-events",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let page = http
        .get(format!("{}/api/docs", w.app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("/api/v1/openapi.json"));
    assert!(!html.contains("https://"), "no CDN");
    let unknown = answer(
        http.get(format!("{}/api/v1/nothing-here", w.app.base))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_problem(&unknown, 404, "unknown endpoint");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn invitations_batch_list_resend_revoke(pool: PgPool) {
    let w = world(pool).await;
    let refused = w
        .mia_key
        .send(
            Method::POST,
            "/api/v1/invitations",
            Some(json!({"emails": ["x@example.com"], "send_email": false})),
        )
        .await;
    assert_problem(&refused, 403, "a plain member invites");
    let invited = w
        .owner
        .send(
            Method::POST,
            "/api/v1/invitations",
            Some(json!({
                "emails": ["nina@example.com", "omar@example.com", "mia@example.com"],
                "send_email": false
            })),
        )
        .await;
    assert_eq!(invited.status, 201, "{:?}", invited.body);
    assert_eq!(
        invited.body["invited"],
        json!(["nina@example.com", "omar@example.com"])
    );
    assert_eq!(invited.body["already_members"], json!(["mia@example.com"]));
    let not_an_address = w
        .owner
        .send(
            Method::POST,
            "/api/v1/invitations",
            Some(json!({"emails": ["not an address"], "send_email": false})),
        )
        .await;
    assert_problem(&not_an_address, 409, "not an address");
    let pending = w.owner.get("/api/v1/invitations").await;
    assert_eq!(pending.status, 200, "{:?}", pending.body);
    let rows = pending.body["data"].as_array().expect("rows").clone();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "pending"));
    let nina = rows
        .iter()
        .find(|r| r["email"] == "nina@example.com")
        .and_then(|r| r["id"].as_i64())
        .expect("nina");
    // A mail server that refuses Nina's address: her member row says why,
    // as the Team page's row does; Omar's, with nothing failing, says null.
    sqlx::query(
        "INSERT INTO outbox (workspace_id, membership_id, kind, recipient, subject, attempts, last_error)
         VALUES ($1, $2, 'invitation', 'nina@example.com', 'Invitation', 3, '550 5.1.1 mailbox unavailable')",
    )
    .bind(w.workspace_id)
    .bind(nina)
    .execute(&w.app.pool)
    .await
    .expect("failing delivery");
    let members = w.owner.get("/api/v1/members?status=pending").await;
    assert_eq!(members.status, 200, "{:?}", members.body);
    let error_of = |email: &str| {
        members.body["data"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["email"] == email))
            .map(|r| r["delivery_error"].clone())
            .expect("listed")
    };
    assert_eq!(
        error_of("nina@example.com"),
        json!("550 5.1.1 mailbox unavailable")
    );
    assert_eq!(error_of("omar@example.com"), Value::Null);
    let sent = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/invitations/{nina}/resend"),
            None,
        )
        .await;
    assert_eq!(sent.status, 204, "{:?}", sent.body);
    let mails = count(&w.app, "SELECT count(*) FROM outbox").await;
    let again = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/invitations/{nina}/resend"),
            None,
        )
        .await;
    assert_problem(&again, 429, "resent within a minute");
    assert!(again.headers.contains_key("retry-after"));
    assert_eq!(count(&w.app, "SELECT count(*) FROM outbox").await, mails);
    let revoked = w
        .owner
        .send(Method::DELETE, &format!("/api/v1/invitations/{nina}"), None)
        .await;
    assert_eq!(revoked.status, 204, "{:?}", revoked.body);
    let pending = w.owner.get("/api/v1/invitations").await;
    assert_eq!(pending.body["data"].as_array().map(Vec::len), Some(1));
    // An active member is not an invitation.
    let active = w
        .owner
        .send(
            Method::DELETE,
            &format!("/api/v1/invitations/{}", w.mia.membership_id),
            None,
        )
        .await;
    assert_problem(&active, 404, "not pending");
}

/// Mia's profile row as the profile editor stores it.
async fn stored_profile(app: &TestApp, membership_id: i64) -> Value {
    sqlx::query_scalar(
        "SELECT to_jsonb(p) FROM (
            SELECT m.working_days, m.daily_capacity_minutes, m.week_start, m.team_manager_id,
                   m.billing_rate_cents, m.billing_currency, m.notify_weekly_summary,
                   m.notify_timer_reminders, m.display_name, a.display_name AS account_name
              FROM memberships m LEFT JOIN accounts a ON a.id = m.account_id
             WHERE m.id = $1) p",
    )
    .bind(membership_id)
    .fetch_one(&app.pool)
    .await
    .expect("profile")
}

async fn audit_count(app: &TestApp, action: &str, membership_id: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = $1 AND target_membership_id = $2",
    )
    .bind(action)
    .bind(membership_id)
    .fetch_one(&app.pool)
    .await
    .expect("audit")
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn profiles_through_the_profile_editors_rules(pool: PgPool) {
    let w = world(pool).await;
    let mia = w.mia.membership_id;
    let path = format!("/api/v1/members/{mia}/profile");
    // An Owner's key edits another member's profile; GET reads it back.
    let saved = w
        .owner
        .send(
            Method::PATCH,
            &path,
            Some(json!({
                "working_days": [1, 2, 3],
                "capacity_minutes": 390,
                "week_start": 7,
                "billing_rate_cents": 4550,
                "currency": "EUR",
                "notify_weekly_summary": false,
            })),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let read = w.owner.get(&path).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    for body in [&saved.body, &read.body] {
        assert_eq!(body["working_days"], json!([1, 2, 3]));
        assert_eq!(body["capacity"], "6.5");
        assert_eq!(body["capacity_minutes"], 390);
        assert_eq!(body["week_start"], 7);
        assert_eq!(body["billing_rate"], "45.50");
        assert_eq!(body["billing_rate_cents"], 4550);
        assert_eq!(body["currency"], "EUR");
        assert_eq!(body["notify_weekly_summary"], false);
        // Fields not sent are kept.
        assert_eq!(body["name"], "Mia Member");
        assert_eq!(body["notify_timer_reminders"], true);
    }
    assert_eq!(audit_count(&w.app, "member.profile_changed", mia).await, 1);

    // Her account's name is hers alone: a rule's 409 naming the field.
    let before = stored_profile(&w.app, mia).await;
    let renamed = w
        .owner
        .send(Method::PATCH, &path, Some(json!({"name": "Not Mia"})))
        .await;
    assert_problem(&renamed, 409, "another member's name");
    assert!(renamed.body["errors"]["name"][0].as_str().is_some());
    assert_eq!(stored_profile(&w.app, mia).await, before);

    // Mia's own key: her own name, seen on the Team page's record too.
    let own = w
        .mia_key
        .send(Method::PATCH, &path, Some(json!({"name": "Mia M. Member"})))
        .await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    let card = w.owner.get(&format!("/api/v1/members/{mia}")).await;
    assert_eq!(card.body["name"], "Mia M. Member");
    // ...but not her own billing rate or team manager.
    let before = stored_profile(&w.app, mia).await;
    for body in [
        json!({"billing_rate_cents": 9900}),
        json!({"billing_rate_cents": null}),
        json!({"team_manager_id": w.olive_membership}),
    ] {
        let refused = w.mia_key.send(Method::PATCH, &path, Some(body)).await;
        assert_problem(&refused, 403, "billing without the role");
    }
    assert_eq!(stored_profile(&w.app, mia).await, before);
    assert_eq!(audit_count(&w.app, "member.profile_changed", mia).await, 2);

    // A team manager is someone holding the role: checked, then set and cleared.
    let tom = member(&w.app, w.workspace_id, "tom@example.com", "Tom Manager").await;
    let not_manager = w
        .owner
        .send(
            Method::PATCH,
            &path,
            Some(json!({"team_manager_id": tom.membership_id})),
        )
        .await;
    assert_problem(&not_manager, 409, "not a team manager");
    assert!(not_manager.body["errors"]["team_manager_id"][0]
        .as_str()
        .is_some());
    let given = w
        .owner
        .send(
            Method::PUT,
            &format!("/api/v1/members/{}/roles/team_manager", tom.membership_id),
            None,
        )
        .await;
    assert_eq!(given.status, 204, "{:?}", given.body);
    let set = w
        .owner
        .send(
            Method::PATCH,
            &path,
            Some(json!({"team_manager_id": tom.membership_id})),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(
        w.owner.get(&path).await.body["team_manager_id"],
        tom.membership_id
    );
    let card = w.owner.get(&format!("/api/v1/members/{mia}")).await;
    assert_eq!(card.body["team_manager"], "Tom Manager");
    let cleared = w
        .owner
        .send(Method::PATCH, &path, Some(json!({"team_manager_id": null})))
        .await;
    assert_eq!(cleared.status, 200, "{:?}", cleared.body);
    assert_eq!(
        w.owner.get(&path).await.body["team_manager_id"],
        Value::Null
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_pending_members_profile_and_exact_minutes(pool: PgPool) {
    let w = world(pool).await;
    let invited = w
        .owner
        .send(
            Method::POST,
            "/api/v1/invitations",
            Some(json!({"emails": ["nina@example.com"], "send_email": false})),
        )
        .await;
    assert_eq!(invited.status, 201, "{:?}", invited.body);
    let nina: i64 = sqlx::query_scalar(
        "SELECT id FROM memberships WHERE workspace_id = $1 AND invited_email = 'nina@example.com'",
    )
    .bind(w.workspace_id)
    .fetch_one(&w.app.pool)
    .await
    .expect("pending member");
    let path = format!("/api/v1/members/{nina}/profile");
    // Shown under her address until she accepts; other fields are the
    // Admin's to set meanwhile.
    let saved = w
        .owner
        .send(Method::PATCH, &path, Some(json!({"capacity_minutes": 455})))
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(saved.body["name"], "nina@example.com");
    // A change to another field keeps 7 h 35 min to the minute.
    let again = w
        .owner
        .send(
            Method::PATCH,
            &path,
            Some(json!({"notify_timer_reminders": false})),
        )
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    let read = w.owner.get(&path).await;
    assert_eq!(read.body["capacity_minutes"], 455);
    assert_eq!(read.body["notify_timer_reminders"], false);
    assert_eq!(audit_count(&w.app, "member.profile_changed", nina).await, 2);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn profile_refusals_change_nothing(pool: PgPool) {
    let w = world(pool).await;
    let mia = w.mia.membership_id;
    let olive = w.olive_membership;
    let (_other, _, otto) = other_workspace(&w.app).await;
    let olive_before = stored_profile(&w.app, olive).await;
    let mia_before = stored_profile(&w.app, mia).await;
    let otto_before = stored_profile(&w.app, otto).await;

    // A plain member's key on someone else's profile: 403, read or write.
    let olive_path = format!("/api/v1/members/{olive}/profile");
    assert_problem(&w.mia_key.get(&olive_path).await, 403, "read another's");
    let refused = w
        .mia_key
        .send(
            Method::PATCH,
            &olive_path,
            Some(json!({"capacity_minutes": 60, "notify_weekly_summary": false})),
        )
        .await;
    assert_problem(&refused, 403, "write another's");

    // Another workspace's member: 404 for the Owner's key.
    let otto_path = format!("/api/v1/members/{otto}/profile");
    assert_problem(&w.owner.get(&otto_path).await, 404, "foreign read");
    let foreign = w
        .owner
        .send(
            Method::PATCH,
            &otto_path,
            Some(json!({"capacity_minutes": 60})),
        )
        .await;
    assert_problem(&foreign, 404, "foreign write");

    // Bad values: 400 naming each field with the form's message.
    let mia_path = format!("/api/v1/members/{mia}/profile");
    let bad = w
        .owner
        .send(
            Method::PATCH,
            &mia_path,
            Some(json!({
                "capacity_minutes": 1500,
                "working_days": [1, 9],
                "week_start": 8,
                "billing_rate_cents": -3,
                "notify_timer_reminders": false,
            })),
        )
        .await;
    assert_problem(&bad, 400, "bad values");
    for field in [
        "capacity_minutes",
        "working_days",
        "week_start",
        "billing_rate_cents",
    ] {
        assert!(
            bad.body["errors"][field][0].as_str().is_some(),
            "{field}: {:?}",
            bad.body
        );
    }
    assert!(bad.body["errors"]["capacity_minutes"][0]
        .as_str()
        .is_some_and(|m| m.contains("between 0 and 24")));
    let long_name = w
        .mia_key
        .send(
            Method::PATCH,
            &mia_path,
            Some(json!({"name": "x".repeat(101)})),
        )
        .await;
    assert_problem(&long_name, 400, "long name");
    assert!(long_name.body["errors"]["name"][0].as_str().is_some());
    for (body, what) in [
        (json!({"nickname": "M"}), "unknown field"),
        (json!({"capacity_minutes": "8"}), "wrong type"),
        (json!({"capacity_minutes": 7.5}), "not whole minutes"),
        (json!({"currency": "XXX"}), "unknown currency"),
        (
            json!({"working_days": [1, 2, 3, 4, 5, 6, 7, 1]}),
            "eight days",
        ),
    ] {
        let refused = w.owner.send(Method::PATCH, &mia_path, Some(body)).await;
        assert_problem(&refused, 400, what);
    }
    assert_eq!(stored_profile(&w.app, olive).await, olive_before);
    assert_eq!(stored_profile(&w.app, mia).await, mia_before);
    assert_eq!(stored_profile(&w.app, otto).await, otto_before);
    assert_eq!(audit_count(&w.app, "member.profile_changed", mia).await, 0);

    // A deactivated member's key cannot even change their own profile.
    let done = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{mia}/deactivate"),
            None,
        )
        .await;
    assert_eq!(done.status, 204, "{:?}", done.body);
    let after_deactivation = stored_profile(&w.app, mia).await;
    let refused = w
        .mia_key
        .send(
            Method::PATCH,
            &mia_path,
            Some(json!({"capacity_minutes": 120})),
        )
        .await;
    assert_problem(&refused, 401, "deactivated key");
    assert_eq!(stored_profile(&w.app, mia).await, after_deactivation);
}

/// Days around today, wide enough for any member's zone.
fn around_today() -> (String, String) {
    let today = chrono::Utc::now().date_naive();
    (
        (today - chrono::Duration::days(2)).to_string(),
        (today + chrono::Duration::days(2)).to_string(),
    )
}

async fn start_timer(app: &TestApp, workspace_id: i64, membership_id: i64) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO time_entries (workspace_id, membership_id, description, started_at)
         VALUES ($1, $2, 'Forgotten', now() - interval '3 hours') RETURNING id",
    )
    .bind(workspace_id)
    .bind(membership_id)
    .fetch_one(&app.pool)
    .await
    .expect("running timer")
}

async fn running(app: &TestApp, entry_id: i64) -> bool {
    sqlx::query_scalar("SELECT ended_at IS NULL FROM time_entries WHERE id = $1")
        .bind(entry_id)
        .fetch_one(&app.pool)
        .await
        .expect("entry")
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_owners_key_stops_a_members_timer_like_the_accounts_tab(pool: PgPool) {
    let w = world(pool).await;
    sqlx::query("UPDATE workspaces SET plan = 'enterprise' WHERE id = $1")
        .bind(w.workspace_id)
        .execute(&w.app.pool)
        .await
        .expect("enterprise");
    let mia = w.mia.membership_id;
    let entry = start_timer(&w.app, w.workspace_id, mia).await;
    // The header timer of Mia's open pages hears the stop (SSE is fed by
    // this channel).
    let mut listener = sqlx::postgres::PgListener::connect_with(&w.app.pool)
        .await
        .expect("listener");
    listener
        .listen(app::server::time::TIMER_CHANNEL)
        .await
        .expect("listen");

    let stopped = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{mia}/timer/stop"),
            None,
        )
        .await;
    assert_eq!(stopped.status, 200, "{:?}", stopped.body);
    assert_eq!(stopped.body["entry_id"], entry);
    assert!(stopped.body["start"].as_str().is_some());
    assert!(stopped.body["time_zone"].as_str().is_some());
    let heard = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv())
        .await
        .expect("announced in time")
        .expect("notification");
    assert_eq!(heard.payload(), format!("{}:{mia}", w.workspace_id));

    // What a user would see: the entry is finished.
    let (from, to) = around_today();
    let entries = w
        .owner
        .get(&format!(
            "/api/v1/time-entries?member_id={mia}&from={from}&to={to}"
        ))
        .await;
    assert_eq!(entries.status, 200, "{:?}", entries.body);
    let listed = entries.body["data"]
        .as_array()
        .and_then(|rows| rows.iter().find(|e| e["id"] == entry))
        .cloned()
        .expect("entry listed");
    assert!(listed["ended_at"].as_str().is_some(), "{listed:?}");
    assert!(!running(&w.app, entry).await);
    assert_eq!(
        audit_count(&w.app, "owner_access.timer_stopped", mia).await,
        1
    );
    // Nothing runs any more: the rule's 409, and no second audit row.
    let twice = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{mia}/timer/stop"),
            None,
        )
        .await;
    assert_problem(&twice, 409, "no timer");
    assert_eq!(
        audit_count(&w.app, "owner_access.timer_stopped", mia).await,
        1
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn stopping_someone_elses_timer_is_the_owners_alone(pool: PgPool) {
    let w = world(pool).await;
    sqlx::query("UPDATE workspaces SET plan = 'enterprise' WHERE id = $1")
        .bind(w.workspace_id)
        .execute(&w.app.pool)
        .await
        .expect("enterprise");
    let mia = w.mia.membership_id;
    let olive = w.olive_membership;
    // Ada is an Admin with her own key: the Accounts tab is not hers.
    let ada = member(&w.app, w.workspace_id, "ada@example.com", "Ada Admin").await;
    let given = w
        .owner
        .send(
            Method::PUT,
            &format!("/api/v1/members/{}/roles/admin", ada.membership_id),
            None,
        )
        .await;
    assert_eq!(given.status, 204, "{:?}", given.body);
    let ada_key = Api::new(&w.app, &create_key(&w.app, &ada.browser).await);
    let mia_entry = start_timer(&w.app, w.workspace_id, mia).await;
    let olive_entry = start_timer(&w.app, w.workspace_id, olive).await;

    let attempts = [
        (&ada_key, mia, "an Admin's key"),
        (&w.mia_key, olive, "a plain member's key"),
    ];
    for (key, target, what) in attempts {
        let refused = key
            .send(
                Method::POST,
                &format!("/api/v1/members/{target}/timer/stop"),
                None,
            )
            .await;
        assert_problem(&refused, 403, what);
    }
    assert!(running(&w.app, mia_entry).await);
    assert!(running(&w.app, olive_entry).await);

    // Another workspace's member, even with a timer running: 404.
    let (_other, other_workspace_id, otto) = other_workspace(&w.app).await;
    let otto_entry = start_timer(&w.app, other_workspace_id, otto).await;
    let foreign = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{otto}/timer/stop"),
            None,
        )
        .await;
    assert_problem(&foreign, 404, "foreign member");
    assert!(running(&w.app, otto_entry).await);

    // A path id that is no id: 400 naming the path.
    let bad = w
        .owner
        .send(Method::POST, "/api/v1/members/mia/timer/stop", None)
        .await;
    assert_problem(&bad, 400, "bad id");
    assert!(bad.body["errors"]["path"][0].as_str().is_some());

    // The Owner of a Pro workspace: the Accounts tab's plan rule.
    sqlx::query("UPDATE workspaces SET plan = 'pro' WHERE id = $1")
        .bind(w.workspace_id)
        .execute(&w.app.pool)
        .await
        .expect("pro");
    let pro = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{mia}/timer/stop"),
            None,
        )
        .await;
    assert_problem(&pro, 403, "Pro plan");
    assert!(running(&w.app, mia_entry).await);

    // A deactivated Owner's key is possible only through the database
    // (the Owner cannot be deactivated); a deactivated Admin's key is 401.
    let done = w
        .owner
        .send(
            Method::POST,
            &format!("/api/v1/members/{}/deactivate", ada.membership_id),
            None,
        )
        .await;
    assert_eq!(done.status, 204, "{:?}", done.body);
    let refused = ada_key
        .send(
            Method::POST,
            &format!("/api/v1/members/{mia}/timer/stop"),
            None,
        )
        .await;
    assert_problem(&refused, 401, "deactivated key");
    assert!(running(&w.app, mia_entry).await);
    assert_eq!(
        audit_count(&w.app, "owner_access.timer_stopped", mia).await,
        0
    );
}
