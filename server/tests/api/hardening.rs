//! Issue 18, items 1-3, as an attacker would try them: oversized and
//! foreign id lists, big bodies, someone else's photo, decoding storms,
//! exports that are never read, and queries that never end.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use app::{
    api::import::{ImportPreview, RowOutcome},
    domain::limits::MAX_GROUPS_PER_INVITE,
    error::AppError,
    server::AuthSettings,
};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};

use crate::{
    helpers::{error_of, fns, settings, spawn, spawn_with, TestApp},
    lifecycle::{member, other_workspace, owner_app},
};

async fn new_group(pool: &PgPool, workspace_id: i64, name: &str) -> i64 {
    sqlx::query_scalar("INSERT INTO groups (workspace_id, name) VALUES ($1, $2) RETURNING id")
        .bind(workspace_id)
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("group")
}

/// The invite dialog's call, with `group_ids` as the page encodes a list.
async fn invite_with_groups(
    app: &TestApp,
    addresses: &str,
    group_ids: &[i64],
) -> reqwest::Response {
    let mut form: Vec<(String, String)> = vec![
        ("addresses".into(), addresses.into()),
        ("send_email".into(), "true".into()),
        ("all_projects".into(), "true".into()),
    ];
    for (index, id) in group_ids.iter().enumerate() {
        form.push((format!("group_ids[{index}]"), id.to_string()));
    }
    app.client
        .post(format!("{}/api/invite_members", app.base))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .expect("invite")
}

/// Memberships, group memberships and queued mail: what an invitation
/// would have written.
async fn footprint(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("SELECT count(*) FROM memberships").await,
        app.count("SELECT count(*) FROM group_members").await,
        app.count("SELECT count(*) FROM outbox").await,
    )
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn invite_group_lists_are_bounded_deduplicated_and_of_this_workspace(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    // Any Owner may switch to a paid plan and get the 500-address batch.
    sqlx::query("UPDATE workspaces SET plan = 'pro', seats = 10000 WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("plan");
    let sales = new_group(&app.pool, workspace_id, "Sales").await;
    let before = footprint(&app).await;

    // The attack: 500 addresses times a long list of groups.
    let addresses: String = (0..500).map(|i| format!("p{i}@x.io\n")).collect();
    let many = vec![sales; MAX_GROUPS_PER_INVITE + 1];
    let refused = invite_with_groups(&app, &addresses, &many).await;
    assert_eq!(refused.status(), 400);
    let message = error_of(refused)
        .await
        .field_message("groups")
        .expect("a message on the groups field");
    assert!(message.contains("at most 100 groups"), "{message}");
    assert_eq!(footprint(&app).await, before, "nothing was written");

    // Another workspace's group: refused, nothing written.
    let (_other, other_workspace_id, _) = other_workspace(&app).await;
    let foreign = new_group(&app.pool, other_workspace_id, "Theirs").await;
    let before = footprint(&app).await;
    let refused = invite_with_groups(&app, &addresses, &[sales, foreign]).await;
    assert_eq!(refused.status(), 400);
    let message = error_of(refused)
        .await
        .field_message("groups")
        .expect("a message on the groups field");
    assert!(message.contains("not in this workspace"), "{message}");
    assert_eq!(footprint(&app).await, before, "nothing was written");

    // Repeats of the workspace's own group are one group.
    let ok = invite_with_groups(&app, "a@x.io b@x.io", &[sales, sales, sales]).await;
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(
        app.count("SELECT count(*) FROM group_members").await,
        2,
        "each invitee is in Sales once"
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn limited_members_and_member_projects_take_bounded_lists(pool: PgPool) {
    let (app, workspace_id, owner_membership) = owner_app(pool).await;
    let sales = new_group(&app.pool, workspace_id, "Sales").await;
    let mut form: Vec<(String, String)> = vec![("name".into(), "Kim Kiosk".into())];
    for index in 0..=MAX_GROUPS_PER_INVITE {
        form.push((format!("group_ids[{index}]"), sales.to_string()));
    }
    let refused = app
        .client
        .post(format!("{}/api/add_limited_member", app.base))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .expect("add limited");
    assert!(error_of(refused).await.field_message("groups").is_some());
    assert_eq!(app.count("SELECT count(*) FROM memberships").await, 1);

    let projects: Vec<i64> = vec![1; app::domain::limits::MAX_PROJECTS_PER_MEMBER + 1];
    let refused = app
        .client
        .post(format!("{}/api/set_member_projects", app.base))
        .header("accept", "application/json")
        .form(
            &std::iter::once(("membership_id".to_owned(), owner_membership.to_string()))
                .chain(std::iter::once((
                    "all_projects".to_owned(),
                    "false".to_owned(),
                )))
                .chain(
                    projects
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (format!("project_ids[{i}]"), p.to_string())),
                )
                .collect::<Vec<_>>(),
        )
        .send()
        .await
        .expect("set projects");
    assert!(error_of(refused).await.field_message("projects").is_some());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn big_bodies_are_refused_with_413_except_where_files_come_in(pool: PgPool) {
    let (app, _, _) = owner_app(pool).await;
    // 1 MB to an ordinary server function, with a length...
    let name = "x".repeat(1024 * 1024);
    let refused = app
        .run(fns::CreateGroup {
            name: name.to_owned(),
        })
        .await;
    assert_eq!(refused.status(), 413);
    let message = error_of(refused)
        .await
        .field_message("request")
        .expect("a readable message");
    assert!(message.contains("at most 64 KB"), "{message}");
    // ...and without one (chunked): read only up to the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..64)
        .map(|_| {
            Ok(b"name="
                .iter()
                .copied()
                .chain(vec![b'x'; 16 * 1024])
                .collect())
        })
        .collect();
    let refused = app
        .client
        .post(format!("{}/api/create_group", app.base))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("chunked request");
    assert_eq!(refused.status(), 413);
    assert_eq!(app.count("SELECT count(*) FROM groups").await, 0);
    // A small one still works.
    let ok = app
        .run(fns::CreateGroup {
            name: "Sales".into(),
        })
        .await;
    assert!(ok.status().is_success(), "{}", ok.status());

    // A 4 MB CSV file goes through preview and import.
    sqlx::query("UPDATE workspaces SET plan = 'pro', seats = 100")
        .execute(&app.pool)
        .await
        .expect("plan");
    let padding = "p".repeat(400);
    let mut file = "email,name\nann@x.io,Ann Able\nbob@x.io,Bob Baker\n".to_owned();
    for i in 0..9_000 {
        // Names this long are refused row by row, not as a file.
        file.push_str(&format!("pad{i}@x.io,{padding}\n"));
    }
    assert!(file.len() > 3_600_000, "{}", file.len());
    let preview = app
        .client
        .post(format!("{}/api/preview_import", app.base))
        .header("accept", "application/json")
        .json(&serde_json::json!({ "file_text": file }))
        .send()
        .await
        .expect("preview");
    assert_eq!(preview.status(), 200, "{:?}", error_of(preview).await);
    let preview: ImportPreview = preview.json().await.expect("preview body");
    assert_eq!(preview.rows.len(), 9_002);
    assert_eq!(preview.rows[0].outcome, RowOutcome::WillInvite);
    assert!(matches!(preview.rows[2].outcome, RowOutcome::Invalid(_)));
    // One import chunk of 500 rows is far over 64 KB, and is accepted.
    let rows: Vec<_> = preview
        .rows
        .iter()
        .take(500)
        .map(|r| r.row.clone())
        .collect();
    let imported = app
        .client
        .post(format!("{}/api/import_members", app.base))
        .header("accept", "application/json")
        .json(&serde_json::json!({ "rows": rows, "send_email": false }))
        .send()
        .await
        .expect("import");
    assert_eq!(imported.status(), 200);
    let outcomes: Vec<RowOutcome> = imported.json().await.expect("outcomes");
    assert_eq!(outcomes[0], RowOutcome::Invited { emailed: false });
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE status = 'pending'")
            .await,
        2
    );
}

/// The import takes 7.5 MB bodies. A stranger is told to sign in before
/// any of theirs is read: the body here sends 64 KB and then never ends, so
/// a server that read first would never answer.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_strangers_big_body_is_refused_before_it_is_read(pool: PgPool) {
    use futures_util::StreamExt;
    let app = spawn(pool).await;
    for path in [
        "/api/import_members",
        "/api/preview_import",
        "/api/create_group",
    ] {
        let first: Result<Vec<u8>, std::io::Error> = Ok(vec![b'x'; 64 * 1024]);
        let endless = futures_util::stream::iter([first]).chain(futures_util::stream::pending());
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            app.client
                .post(format!("{}{path}", app.base))
                .header("accept", "application/json")
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(endless))
                .send(),
        )
        .await
        .unwrap_or_else(|_| panic!("{path}: the server waited for a stranger's body"))
        .expect("an answer");
        assert_eq!(answer.status(), 401, "{path}");
    }
}

fn png_of(width: u32, height: u32) -> Vec<u8> {
    let image = image::GrayImage::from_pixel(width, height, image::Luma([120]));
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("encode png");
    bytes
}

async fn photo(
    app: &TestApp,
    who: &reqwest::Client,
    method: reqwest::Method,
    member: Option<i64>,
    body: Vec<u8>,
) -> reqwest::Response {
    let url = match member {
        Some(id) => format!("{}/api/photo?member={id}", app.base),
        None => format!("{}/api/photo", app.base),
    };
    who.request(method, url)
        .header("content-type", "image/png")
        .body(body)
        .send()
        .await
        .expect("photo request")
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn only_the_person_changes_the_photo_of_their_account(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    // Max has his own workspace too: his photo shows there as well.
    let max = member(&app, workspace_id, "max@example.com", "Max Member").await;
    let photos = "SELECT count(*) FROM account_photos";

    let by_owner = photo(
        &app,
        &app.client,
        reqwest::Method::POST,
        Some(max.membership_id),
        png_of(64, 64),
    )
    .await;
    assert_eq!(by_owner.status(), 403);
    assert_eq!(error_of(by_owner).await, AppError::Forbidden);
    assert_eq!(app.count(photos).await, 0);

    let own = photo(
        &app,
        &max.browser,
        reqwest::Method::POST,
        None,
        png_of(64, 64),
    )
    .await;
    assert!(own.status().is_success(), "{}", own.status());
    let removed_by_owner = photo(
        &app,
        &app.client,
        reqwest::Method::DELETE,
        Some(max.membership_id),
        Vec::new(),
    )
    .await;
    assert_eq!(removed_by_owner.status(), 403);
    assert_eq!(app.count(photos).await, 1, "Max's photo is still there");
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action LIKE 'member.photo%'")
            .await,
        1,
        "only Max's own change is recorded"
    );

    // Tighter pixel limits: a tiny file claiming 5,000 pixels a side.
    let wide = photo(
        &app,
        &max.browser,
        reqwest::Method::POST,
        None,
        png_of(5_000, 1),
    )
    .await;
    let message = error_of(wide)
        .await
        .field_message("photo")
        .expect("photo message");
    assert!(message.contains("4,000 pixels"), "{message}");
}

#[tokio::test]
async fn photo_decodes_run_at_most_two_at_once() {
    use server::photos::{with_slot, Busy};
    let slots = Arc::new(tokio::sync::Semaphore::new(
        app::server::state::PHOTO_DECODES_AT_ONCE,
    ));
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let uploads: Vec<_> = (0..8)
        .map(|_| {
            let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                with_slot(&slots, Duration::from_secs(10), move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        })
        .collect();
    for upload in uploads {
        assert_eq!(upload.await.expect("task"), Ok(()));
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "never more than two at once"
    );

    // Both slots busy for longer than the wait: "try again", not a queue.
    let _a = slots.clone().acquire_owned().await.expect("slot");
    let _b = slots.clone().acquire_owned().await.expect("slot");
    let started = Instant::now();
    let refused = with_slot(&slots, Duration::from_millis(200), || ()).await;
    assert_eq!(refused, Err(Busy));
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// `rows` audit events of about 1 KB each in the workspace: a CSV of
/// `rows` KB.
async fn seed_audit(pool: &PgPool, workspace_id: i64, rows: i64) {
    sqlx::query(
        "INSERT INTO audit_events (workspace_id, action, ip, user_agent)
         SELECT $1, 'group.created', '127.0.0.1', repeat(md5(n::text), 32)
           FROM generate_series(1, $2) AS n",
    )
    .bind(workspace_id)
    .bind(rows)
    .execute(pool)
    .await
    .expect("audit rows");
}

/// An app on a pool of `connections` with a 1-second export send timeout
/// and at most `exports` exports at once; the Owner signed in.
async fn export_app(
    pool_options: PgPoolOptions,
    connect: PgConnectOptions,
    connections: u32,
    exports: usize,
) -> (TestApp, i64) {
    let pool = pool_options
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(connect)
        .await
        .expect("pool");
    let auth = AuthSettings {
        export_send_timeout: Duration::from_secs(1),
        max_concurrent_exports: exports,
        ..settings()
    };
    let app = spawn_with(pool, auth).await;
    app.sign_up(
        "olive@example.com",
        "Olive Owner",
        crate::helpers::GOOD_PASSWORD,
    )
    .await;
    let workspace_id: i64 = sqlx::query_scalar("SELECT id FROM workspaces")
        .fetch_one(&app.pool)
        .await
        .expect("workspace");
    (app, workspace_id)
}

/// Starts an export and reads only its headers: a client that stalls.
async fn stalled_export(app: &TestApp) -> reqwest::Response {
    let response = app
        .client
        .get(format!("{}/api/audit.csv", app.base))
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    response
}

fn connections_in_use(pool: &PgPool) -> usize {
    pool.size() as usize - pool.num_idle()
}

/// Waits up to `within` for the pool to have no connection checked out.
async fn pool_drains(pool: &PgPool, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if connections_in_use(pool) == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_stalled_export_reader_is_dropped_and_its_connection_returned(
    pool_options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    // Two connections: the attack needs only two stalled readers.
    let (app, workspace_id) = export_app(pool_options, connect, 2, 4).await;
    seed_audit(&app.pool, workspace_id, 30_000).await;

    let stalled = [stalled_export(&app).await, stalled_export(&app).await];
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        connections_in_use(&app.pool) >= 1,
        "the exports hold connections while they stream"
    );
    // Past the send timeout both are dropped and their connections return.
    assert!(
        pool_drains(&app.pool, Duration::from_secs(6)).await,
        "{} connections still held",
        connections_in_use(&app.pool)
    );
    // Everyone else is served again.
    let groups = app.run(fns::ListGroups {}).await;
    assert_eq!(groups.status(), 200);

    // A reader that keeps reading gets the whole file; the stalled one,
    // read late, fails instead of looking whole.
    let full = app
        .client
        .get(format!("{}/api/audit.csv", app.base))
        .send()
        .await
        .expect("export")
        .bytes()
        .await
        .expect("whole file");
    assert!(full.len() > 30_000_000, "{}", full.len());
    for response in stalled {
        assert!(
            response.bytes().await.is_err(),
            "a stalled download ends in an error, not a shorter file"
        );
    }
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn exports_past_the_cap_are_told_to_try_again(
    pool_options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let (app, workspace_id) = export_app(pool_options, connect, 5, 2).await;
    seed_audit(&app.pool, workspace_id, 30_000).await;

    let _first = stalled_export(&app).await;
    let _second = stalled_export(&app).await;
    for path in [
        "audit.csv",
        "members.csv",
        "summary.csv?from=2026-01-01&to=2026-01-31",
    ] {
        let refused = app
            .client
            .get(format!("{}/api/{path}", app.base))
            .send()
            .await
            .expect("export");
        assert_eq!(refused.status(), 503, "{path}");
        assert_eq!(refused.headers()["retry-after"], "30");
        let message = error_of(refused).await.to_string();
        assert!(message.contains("Too many exports"), "{message}");
    }
    // Permission comes before a slot: someone who may not export is told
    // so (not "busy"), so they can never be the ones holding the slots.
    let stranger = crate::helpers::client()
        .get(format!("{}/api/audit.csv", app.base))
        .send()
        .await
        .expect("export");
    assert_eq!(stranger.status(), 401);
    // Other work goes on meanwhile.
    assert_eq!(app.run(fns::ListGroups {}).await.status(), 200);
    // Once the stalled ones are dropped, exports start again.
    assert!(pool_drains(&app.pool, Duration::from_secs(6)).await);
    let again = app
        .client
        .get(format!("{}/api/members.csv", app.base))
        .send()
        .await
        .expect("export");
    assert_eq!(again.status(), 200);
    assert!(again
        .text()
        .await
        .expect("file")
        .contains("olive@example.com"));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn app_connections_carry_statement_and_idle_transaction_timeouts(
    pool_options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let mut config = server::Config {
        database_url: String::new(),
        max_connections: 2,
        public_origin: settings().public_origin,
        auth: settings(),
        mailer: Default::default(),
        statement_timeout: server::config::DEFAULT_STATEMENT_TIMEOUT,
        idle_in_transaction_timeout: server::config::DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT,
    };
    let defaults = pool_options
        .clone()
        .connect_with(server::session_options(connect.clone(), &config))
        .await
        .expect("pool");
    let shown: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&defaults)
        .await
        .expect("show");
    assert_eq!(shown, "30s");
    let shown: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(&defaults)
        .await
        .expect("show");
    assert_eq!(shown, "1min");
    defaults.close().await;

    config.statement_timeout = Duration::from_secs(1);
    config.idle_in_transaction_timeout = Duration::from_secs(1);
    let pool = pool_options
        .connect_with(server::session_options(connect, &config))
        .await
        .expect("pool");
    // A query that would run for ten seconds is cancelled after one.
    let started = Instant::now();
    let error = sqlx::query("SELECT pg_sleep(10)")
        .execute(&pool)
        .await
        .expect_err("cancelled");
    assert!(started.elapsed() < Duration::from_secs(5));
    let code = error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("57014"), "query_canceled: {error}");
    // A transaction left open and idle is ended by the server.
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SELECT 1")
        .execute(&mut *tx)
        .await
        .expect("first");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        sqlx::query("SELECT 1").execute(&mut *tx).await.is_err(),
        "the idle transaction was ended"
    );
    drop(tx);
    // The app keeps serving on that pool.
    let app = spawn_with(pool, settings()).await;
    let response = app
        .sign_up(
            "olive@example.com",
            "Olive Owner",
            crate::helpers::GOOD_PASSWORD,
        )
        .await;
    assert!(response.status().is_success() || response.status().is_redirection());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_csv_import_cannot_name_unbounded_groups(pool: PgPool) {
    let (app, _, _) = owner_app(pool).await;
    sqlx::query("UPDATE workspaces SET plan = 'pro', seats = 1000")
        .execute(&app.pool)
        .await
        .expect("plan");
    let post = |endpoint: &'static str, body: serde_json::Value| {
        let app = &app;
        async move {
            app.client
                .post(format!("{}/api/{endpoint}", app.base))
                .header("accept", "application/json")
                .json(&body)
                .send()
                .await
                .expect("request")
        }
    };
    // One cell with 21 groups: that row is refused, the others go on.
    let crowded: Vec<String> = (0..21).map(|i| format!("G{i}")).collect();
    let file = format!(
        "email,name,group\nann@x.io,Ann,Sales\nbob@x.io,Bob,\"{}\"\n",
        crowded.join("; ")
    );
    let preview: ImportPreview = post("preview_import", serde_json::json!({ "file_text": file }))
        .await
        .json()
        .await
        .expect("preview");
    assert_eq!(preview.rows[0].outcome, RowOutcome::WillInvite);
    assert!(
        matches!(&preview.rows[1].outcome, RowOutcome::Invalid(m) if m.contains("at most 20 groups")),
        "{:?}",
        preview.rows[1].outcome
    );

    // 201 different groups in one file (or one chunk): refused before any
    // group is created.
    let mut file = "email,group\n".to_owned();
    for i in 0..201 {
        file.push_str(&format!("p{i}@x.io,Team {i}\n"));
    }
    let refused = post("preview_import", serde_json::json!({ "file_text": file })).await;
    let message = error_of(refused)
        .await
        .field_message("file")
        .expect("file message");
    assert!(message.contains("at most 200"), "{message}");
    let rows: Vec<serde_json::Value> = (0..201)
        .map(|i| {
            serde_json::json!({ "line": i + 2, "email": format!("p{i}@x.io"), "name": "",
                                "role": "", "group": format!("Team {i}") })
        })
        .collect();
    // A chunk is at most 500 rows; these 201 name 201 groups.
    let refused = post(
        "import_members",
        serde_json::json!({ "rows": rows, "send_email": false }),
    )
    .await;
    assert!(error_of(refused).await.field_message("file").is_some());
    assert_eq!(app.count("SELECT count(*) FROM groups").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM memberships").await, 1);
}

/// The pool hands out a connection that came back moments ago without
/// pinging it (`server::pool_options`); one idle for longer is pinged
/// first. A backend killed while its connection sat idle (a database
/// restart, an administrator's `pg_terminate_backend`) must therefore cost
/// no request: the next query gets a fresh connection.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_connection_killed_while_idle_is_replaced_before_a_request_uses_it(
    _pool_options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let config = server::Config {
        database_url: String::new(),
        max_connections: 1,
        public_origin: settings().public_origin,
        auth: settings(),
        mailer: Default::default(),
        statement_timeout: server::config::DEFAULT_STATEMENT_TIMEOUT,
        idle_in_transaction_timeout: server::config::DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT,
    };
    let pool = server::pool_options(&config)
        .connect_with(server::session_options(connect.clone(), &config))
        .await
        .expect("pool");
    let backend = || async {
        sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(&pool)
            .await
    };
    let first = backend().await.expect("first query");
    // One connection, used again at once: the same backend.
    assert_eq!(backend().await.expect("second query"), first);

    // Idle past the bypass window, then killed from outside.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(connect)
        .await
        .expect("admin pool");
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
        .bind(first)
        .fetch_one(&admin)
        .await
        .expect("terminate");
    assert!(killed, "backend {first} ended");

    let next = backend()
        .await
        .expect("the query after the kill runs on a fresh connection");
    assert_ne!(next, first);
}

/// A signed-in app whose bodies get one second before their pace counts.
async fn paced_owner_app(pool: PgPool) -> TestApp {
    let app = spawn_with(
        pool,
        AuthSettings {
            body_read_timeout: Duration::from_secs(1),
            body_read_min_bytes_per_second: 8 * 1024,
            ..settings()
        },
    )
    .await;
    app.sign_up(
        "olive@example.com",
        "Olive Owner",
        crate::helpers::GOOD_PASSWORD,
    )
    .await;
    app
}

/// `pieces` of a form body to `create_group`, one every `every`.
fn trickled(pieces: Vec<Vec<u8>>, every: Duration) -> reqwest::Body {
    use futures_util::StreamExt;
    let stream = futures_util::stream::iter(pieces).then(move |piece| async move {
        tokio::time::sleep(every).await;
        Ok::<_, std::io::Error>(piece)
    });
    reqwest::Body::wrap_stream(stream)
}

/// Sends and waits for the answer (20 s at most), with how long it took.
async fn send_timed(request: reqwest::RequestBuilder) -> (reqwest::Response, Duration) {
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(20), request.send())
        .await
        .expect("the server waited on a stalled body instead of answering")
        .expect("an answer");
    (answer, started.elapsed())
}

async fn create_group_with(app: &TestApp, body: reqwest::Body) -> (reqwest::Response, Duration) {
    send_timed(
        app.client
            .post(format!("{}/api/create_group", app.base))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}

/// The answer came once the first second was over, and says on `field`
/// why the body was refused.
async fn assert_cut_off_after_the_first_second(
    answer: reqwest::Response,
    took: Duration,
    field: &str,
) {
    assert!(
        took >= Duration::from_millis(900),
        "cut off early: {took:?}"
    );
    let message = error_of(answer)
        .await
        .field_message(field)
        .expect("a message on the field");
    assert!(message.contains("too long to arrive"), "{message}");
}

/// A signed-in sender (anyone can sign up) that starts a body and stops is
/// answered 408 once the first second is over, and nothing is created.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_body_that_stops_arriving_is_cut_off_with_408(pool: PgPool) {
    use futures_util::StreamExt;
    let app = paced_owner_app(pool).await;
    let first: Result<Vec<u8>, std::io::Error> = Ok(b"name=Sa".to_vec());
    let stalled = futures_util::stream::iter([first]).chain(futures_util::stream::pending());
    let (answer, took) = create_group_with(&app, reqwest::Body::wrap_stream(stalled)).await;
    assert_eq!(answer.status(), 408);
    assert_cut_off_after_the_first_second(answer, took, "request").await;
    assert_eq!(app.count("SELECT count(*) FROM groups").await, 0);
}

/// A byte every 100 ms keeps an idle timeout (nginx's) happy forever; the
/// pace rule cuts it off soon after the first second, while it still flows.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off_while_still_flowing(pool: PgPool) {
    let app = paced_owner_app(pool).await;
    let mut pieces = vec![b"name=".to_vec()];
    pieces.extend((0..600).map(|_| b"x".to_vec()));
    let (answer, took) =
        create_group_with(&app, trickled(pieces, Duration::from_millis(100))).await;
    assert_eq!(answer.status(), 408);
    assert!(
        took < Duration::from_secs(10),
        "the trickle ran on for {took:?}"
    );
    assert_eq!(app.count("SELECT count(*) FROM groups").await, 0);
}

/// A slow but steady body (16 KB/s, for three seconds: longer than the
/// first second) is read in full and does what it asks.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_slow_but_steady_body_is_read_in_full(pool: PgPool) {
    let app = paced_owner_app(pool).await;
    let mut pieces = vec![b"name=Sales&note=".to_vec()];
    pieces.extend((0..30).map(|_| vec![b'n'; 1600]));
    let (answer, took) =
        create_group_with(&app, trickled(pieces, Duration::from_millis(100))).await;
    assert!(took > Duration::from_secs(2), "not slow enough: {took:?}");
    assert!(
        answer.status().is_success(),
        "{}: {:?}",
        answer.status(),
        error_of(answer).await
    );
    assert_eq!(
        app.count("SELECT count(*) FROM groups WHERE name = 'Sales'")
            .await,
        1
    );
}

/// The photo upload reads its own body (it takes files): a stalled one is
/// cut off there too, told why, and no photo is stored.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_photo_upload_that_stops_arriving_is_cut_off(pool: PgPool) {
    use futures_util::StreamExt;
    let app = paced_owner_app(pool).await;
    let start = png_of(64, 64)[..100].to_vec();
    let stalled = futures_util::stream::iter([Ok::<_, std::io::Error>(start)])
        .chain(futures_util::stream::pending());
    let (answer, took) = send_timed(
        app.client
            .post(format!("{}/api/photo", app.base))
            .header("content-type", "image/png")
            .body(reqwest::Body::wrap_stream(stalled)),
    )
    .await;
    assert!(answer.status().is_client_error(), "{}", answer.status());
    assert_cut_off_after_the_first_second(answer, took, "photo").await;
    assert_eq!(app.count("SELECT count(*) FROM account_photos").await, 0);
}

/// Puts the signed-in Owner's workspace on the Enterprise plan and makes
/// an API key and a SCIM token: their secrets, shown once.
async fn enterprise_key_and_token(app: &TestApp) -> (String, String) {
    sqlx::query("UPDATE workspaces SET plan = 'enterprise', seats = 100")
        .execute(&app.pool)
        .await
        .expect("plan");
    let secret_of = |made: serde_json::Value| {
        made["secret"]
            .as_str()
            .expect("a secret, shown once")
            .to_owned()
    };
    let api_key = secret_of(
        app.run(fns::CreateApiKey {
            name: "script".into(),
            expires_in_days: None,
        })
        .await
        .json()
        .await
        .expect("key"),
    );
    let scim_token = secret_of(
        app.run(fns::CreateScimToken {
            name: "Okta".into(),
        })
        .await
        .json()
        .await
        .expect("token"),
    );
    (api_key, scim_token)
}

/// The REST API and SCIM read their bodies through the same pace: a
/// stalled body with a valid key or token is cut off after the first
/// second, told why in each protocol's own error shape (REST: a 400
/// problem, its OpenAPI having no 408; SCIM: a 408 SCIM error), and
/// creates nothing.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn rest_and_scim_bodies_that_stop_arriving_are_cut_off(pool: PgPool) {
    let app = paced_owner_app(pool).await;
    let (api_key, scim_token) = enterprise_key_and_token(&app).await;
    let stranger = crate::helpers::client();
    // Posts the start of a body with `secret`, then nothing more: the
    // answer's status and its JSON, once at least the first second passed.
    let stalled_post = |path: &str, secret: &str, content_type: &str, start: &'static [u8]| {
        use futures_util::StreamExt;
        let body = reqwest::Body::wrap_stream(
            futures_util::stream::iter([Ok::<_, std::io::Error>(start.to_vec())])
                .chain(futures_util::stream::pending()),
        );
        let request = stranger
            .post(format!("{}{path}", app.base))
            .header("authorization", format!("Bearer {secret}"))
            .header("content-type", content_type)
            .body(body);
        async move {
            let (answer, took) = send_timed(request).await;
            assert!(
                took >= Duration::from_millis(900),
                "cut off early: {took:?}"
            );
            let status = answer.status().as_u16();
            let json: serde_json::Value = answer.json().await.expect("a JSON error");
            assert!(
                json["detail"]
                    .as_str()
                    .is_some_and(|detail| detail.contains("too long to arrive")),
                "{json}"
            );
            (status, json)
        }
    };

    let (rest, _) = stalled_post(
        "/api/v1/groups",
        &api_key,
        "application/json",
        b"{\"name\": \"Sl",
    )
    .await;
    assert_eq!(rest, 400);
    let (scim, error) = stalled_post(
        "/scim/v2/Users",
        &scim_token,
        "application/scim+json",
        b"{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"sl",
    )
    .await;
    assert_eq!(scim, 408);
    assert_eq!(error["status"], "408", "{error}");

    assert_eq!(app.count("SELECT count(*) FROM groups").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM invitations").await, 0);
}

/// A slowloris: bodies started and left to stall each hold a connection
/// until the pace rule cuts them off, so one sender may have only so many
/// arriving at once: an account over its sessions, each API key, each SCIM
/// token, and on the public endpoints a client address. Past that it is
/// told at once (429, nothing read or done); other senders, the same
/// account's key included, are not affected; the places come back as soon
/// as the stalled requests go away.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn one_sender_has_only_so_many_bodies_arriving_at_once(pool: PgPool) {
    use futures_util::StreamExt;
    let app = spawn_with(
        pool,
        AuthSettings {
            // Long enough that nothing is cut off while the test runs on
            // a busy machine: the stalled requests are dropped instead.
            body_read_timeout: Duration::from_secs(60),
            max_bodies_in_flight_per_sender: 2,
            ..settings()
        },
    )
    .await;
    app.sign_up(
        "olive@example.com",
        "Olive Owner",
        crate::helpers::GOOD_PASSWORD,
    )
    .await;
    let (api_key, _) = enterprise_key_and_token(&app).await;
    let stalled_body = || {
        reqwest::Body::wrap_stream(
            futures_util::stream::iter([Ok::<_, std::io::Error>(b"name=Sl".to_vec())])
                .chain(futures_util::stream::pending()),
        )
    };
    let stall = |client: &reqwest::Client, path: &str| {
        let request = client
            .post(format!("{}{path}", app.base))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(stalled_body());
        tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
    };
    // Asks with `ask` until it is answered 429 (the stalled requests reach
    // the server in their own time); any other answer must be `otherwise`.
    async fn until_refused<F, Fut>(mut ask: F, otherwise: u16) -> reqwest::Response
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = reqwest::Response>,
    {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answer = ask().await;
            if answer.status() == 429 {
                return answer;
            }
            assert_eq!(answer.status(), otherwise, "before the limit");
            assert!(
                Instant::now() < deadline,
                "a third body was still taken with two stalled"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    let stalled = [
        stall(&app.client, "/api/create_group"),
        stall(&app.client, "/api/create_group"),
    ];
    // A blank name is refused anyway (400), and changes nothing, if read.
    let refused = until_refused(
        || async {
            create_group_with(&app, reqwest::Body::from(b"name=".to_vec()))
                .await
                .0
        },
        400,
    )
    .await;
    assert!(refused.headers().contains_key("retry-after"));
    let message = error_of(refused)
        .await
        .field_message("request")
        .expect("a message the page shows");
    assert!(
        message.contains("2 requests from you are still arriving"),
        "{message}"
    );
    // A whole, valid body is refused the same, at once, and does nothing.
    let (answer, took) = create_group_with(&app, reqwest::Body::from(b"name=Third".to_vec())).await;
    assert_eq!(answer.status(), 429);
    assert!(took < Duration::from_secs(5), "refused late: {took:?}");

    // Her API key has places of its own, and works meanwhile.
    let via_key = app
        .client
        .post(format!("{}/api/v1/groups", app.base))
        .header("authorization", format!("Bearer {api_key}"))
        .json(&serde_json::json!({ "name": "Via key" }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(via_key.status(), 201, "{:?}", via_key.text().await);

    // Strangers on the public endpoints count per client address: two
    // stalled sign-ins from here leave the third refused, before any
    // password is checked.
    let stranger = crate::helpers::client();
    let public_stalls = [
        stall(&stranger, "/api/sign_in"),
        stall(&stranger, "/api/sign_in"),
    ];
    let refused = until_refused(
        || async {
            stranger
                .post(format!("{}/api/sign_in", app.base))
                .header("accept", "application/json")
                .form(&[
                    ("email", "nobody@example.com"),
                    ("password", "wrong password"),
                ])
                .send()
                .await
                .expect("an answer")
        },
        400,
    )
    .await;
    let message = error_of(refused)
        .await
        .field_message("request")
        .expect("the places' message, not the sign-in throttle's");
    assert!(message.contains("still arriving"), "{message}");
    // Bodies sent to a page are not read at all, so they hold nothing.
    let page = stranger
        .post(format!("{}/team", app.base))
        .body(stalled_body());
    let page_answer = tokio::time::timeout(Duration::from_secs(10), page.send())
        .await
        .expect("a page answers without waiting for the body")
        .expect("an answer");
    assert!(
        page_answer.status().is_client_error(),
        "{}",
        page_answer.status()
    );

    // The stalled requests go away; their places come back.
    for task in stalled.into_iter().chain(public_stalls) {
        task.abort();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (answer, _) =
            create_group_with(&app, reqwest::Body::from(b"name=After".to_vec())).await;
        if answer.status().is_success() {
            break;
        }
        assert_eq!(answer.status(), 429);
        assert!(Instant::now() < deadline, "the places never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM groups ORDER BY name")
        .fetch_all(&app.pool)
        .await
        .expect("groups");
    assert_eq!(names, ["After", "Via key"]);
}
