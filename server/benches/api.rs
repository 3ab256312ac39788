//! `cargo xtask bench api`: the REST API's member list at 1,000,000
//! members (by default), measured over HTTP with an Owner's API key (the
//! key check, the rate limit and the permission guard included), next to
//! the same list SQL run directly on a pooled connection (the floor).
//! Prints p50/p95 per case and the ratio, then a markdown table.
//!
//! Environment: DATABASE_URL (an empty database; xtask makes one),
//! BENCH_SIZES (default "1000000"), BENCH_QUERIES (default 200 per case
//! and side).

use std::time::Instant;

use app::{
    domain::directory::{DirectoryParams, DirectoryQuery},
    server::{
        directory::{self, Listing, Scope},
        members::member_rows,
        AppState, AuthSettings,
    },
};
use server::{connect, Config, MIGRATOR};
use sqlx::PgPool;

// Shared with the other benchmarks; this one signs in by key, not password.
#[allow(dead_code)]
mod common;

use common::{env_number, percentile, seed, serve};

struct Case {
    name: &'static str,
    /// Search texts, cycled through ("" for none).
    searches: Vec<&'static str>,
    /// How many pages deep the measured page is.
    depth: usize,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "first page",
            searches: vec![""],
            depth: 0,
        },
        Case {
            name: "search",
            searches: vec!["smith", "garcia", "nowak", "ahmed", "zoe silva", "jo"],
            depth: 0,
        },
        Case {
            name: "page 50 deep",
            searches: vec![""],
            depth: 50,
        },
    ]
}

/// One `GET /api/v1/members` (`path` is the first page's or a `next` link):
/// rows and the next link.
async fn http_once(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    path: &str,
) -> (usize, Option<String>) {
    let response = client
        .get(format!("{base}{path}"))
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_success(),
        "GET {path} answered {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await.expect("page json");
    (
        body["data"].as_array().map_or(0, Vec::len),
        body["next"].as_str().map(str::to_owned),
    )
}

/// The list's SQL, run directly: the same page as the API serves.
async fn floor_once(pool: &PgPool, workspace_id: i64, search: &str, cursor: Option<&str>) -> usize {
    let mut conn = pool.acquire().await.expect("connection");
    let params = DirectoryParams {
        q: (!search.is_empty()).then(|| search.to_owned()),
        ..DirectoryParams::default()
    };
    let query = DirectoryQuery::parse(&params).expect("query");
    let listing = Listing::prepare(&mut conn, workspace_id, Scope::Everyone, &query)
        .await
        .expect("listing");
    let page = directory::page_ids(&mut conn, &listing, cursor)
        .await
        .expect("page");
    member_rows(&mut conn, workspace_id, &page.ids)
        .await
        .expect("rows")
        .len()
}

/// The cursor inside a `next` link.
fn cursor_of(next: &str) -> Option<String> {
    let query = next.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v)
}

#[tokio::main]
async fn main() {
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let sizes: Vec<i64> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    let queries = env_number("BENCH_QUERIES", 200) as usize;
    // The benchmark is one key asking as fast as it can: no budget in the way.
    let auth = AuthSettings {
        api_requests_per_key_minute: i32::MAX,
        ..AuthSettings::default()
    };
    let config = Config {
        database_url,
        max_connections: 10,
        public_origin: auth.public_origin.clone(),
        auth,
        mailer: Default::default(),
        // Seeding a million rows takes longer than any request may.
        statement_timeout: std::time::Duration::ZERO,
        idle_in_transaction_timeout: std::time::Duration::ZERO,
    };
    let pool = connect(&config).await.expect("database");
    MIGRATOR.run(&pool).await.expect("migrations");
    let state = AppState::new(pool.clone(), config.auth.clone());

    let mut workspaces = Vec::new();
    for size in &sizes {
        let seeded = seed(&state, *size, &format!("w{size}")).await;
        let key = server::seed::api_key(&state, &seeded.owner_email, "Benchmark")
            .await
            .expect("api key");
        let scim = server::seed::scim_token(&state, &seeded.owner_email, "Benchmark")
            .await
            .expect("scim token");
        workspaces.push((*size, seeded, key, scim));
    }
    sqlx::query("VACUUM (ANALYZE) memberships, accounts, api_keys")
        .execute(&pool)
        .await
        .expect("vacuum");

    let base = serve(state, &config).await;
    let client = reqwest::Client::new();
    let mut table = Vec::new();
    for (size, workspace, key, scim) in &workspaces {
        table.push(
            scim_lookups(
                &pool,
                &client,
                &base,
                *size,
                workspace.workspace_id,
                scim,
                queries,
            )
            .await,
        );
        for case in cases() {
            // (API path, the floor's search and cursor) per view.
            let mut inputs = Vec::new();
            for search in &case.searches {
                let first = if search.is_empty() {
                    "/api/v1/members".to_owned()
                } else {
                    format!(
                        "/api/v1/members?{}",
                        serde_urlencoded::to_string([("q", *search)]).expect("query")
                    )
                };
                let mut path = first;
                for _ in 0..case.depth {
                    let (_, next) = http_once(&client, &base, key, &path).await;
                    path = next.expect("enough pages");
                }
                let cursor = cursor_of(&path);
                inputs.push((path, *search, cursor));
            }
            for (path, search, cursor) in &inputs {
                http_once(&client, &base, key, path).await;
                floor_once(&pool, workspace.workspace_id, search, cursor.as_deref()).await;
            }
            let mut server_times = Vec::with_capacity(queries);
            let mut floor_times = Vec::with_capacity(queries);
            let mut rows_seen = 0;
            for i in 0..queries {
                let (path, search, cursor) = &inputs[i % inputs.len()];
                let started = Instant::now();
                let (rows_http, _) = http_once(&client, &base, key, path).await;
                server_times.push(started.elapsed());
                let started = Instant::now();
                let rows =
                    floor_once(&pool, workspace.workspace_id, search, cursor.as_deref()).await;
                floor_times.push(started.elapsed());
                assert_eq!(rows, rows_http, "server and floor agree");
                rows_seen += rows;
            }
            let server_p50 = percentile(&mut server_times, 0.5);
            let server_p95 = percentile(&mut server_times, 0.95);
            let floor_p50 = percentile(&mut floor_times, 0.5);
            let floor_p95 = percentile(&mut floor_times, 0.95);
            println!(
                "{size:>9} {:<14} API p50 {server_p50:6.2} ms p95 {server_p95:6.2} ms | floor p50 {floor_p50:6.2} ms p95 {floor_p95:6.2} ms | p95 ratio {:.2} | {:.1} rows/page",
                case.name,
                server_p95 / floor_p95,
                rows_seen as f64 / queries as f64
            );
            table.push((
                *size, case.name, server_p50, server_p95, floor_p50, floor_p95,
            ));
        }
    }

    println!(
        "\n| members | GET /api/v1/members | API p50 | API p95 | SQL floor p50 | SQL floor p95 | p95 ratio |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for (size, name, sp50, sp95, fp50, fp95) in &table {
        println!(
            "| {size} | {name} | {sp50:.2} ms | {sp95:.2} ms | {fp50:.2} ms | {fp95:.2} ms | {:.2} |",
            sp95 / fp95
        );
    }
}

/// SCIM's `userName eq` lookup (what Okta and Entra send before each
/// create) for 20 existing addresses, through `/scim/v2/Users` with the
/// token, next to the same parse and SQL run directly.
async fn scim_lookups(
    pool: &PgPool,
    client: &reqwest::Client,
    base: &str,
    size: i64,
    workspace_id: i64,
    token: &str,
    queries: usize,
) -> (i64, &'static str, f64, f64, f64, f64) {
    let emails: Vec<String> = sqlx::query_scalar(
        "SELECT a.email FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE m.workspace_id = $1 AND m.kind = 'full' AND m.id % 997 = 3
          ORDER BY m.id LIMIT 20",
    )
    .bind(workspace_id)
    .fetch_all(pool)
    .await
    .expect("addresses");
    assert!(!emails.is_empty(), "addresses to look up");
    let lookup = |email: &str| format!("userName eq \"{email}\"");
    let over_http = |email: String| {
        let url = format!(
            "{base}/scim/v2/Users?{}",
            serde_urlencoded::to_string([("filter", lookup(&email))]).expect("query")
        );
        async move {
            let response = client
                .get(url)
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
                .expect("scim request");
            assert!(
                response.status().is_success(),
                "SCIM answered {}",
                response.status()
            );
            let body: serde_json::Value = response.json().await.expect("scim json");
            body["totalResults"].as_i64().expect("totalResults")
        }
    };
    let floor = |email: String| async move {
        let filter = app::domain::scim::parse(
            &lookup(&email),
            app::server::scim::USER_FILTER_ATTRIBUTES,
            server::scim::USER_SCHEMA,
        )
        .expect("filter");
        let mut conn = pool.acquire().await.expect("connection");
        app::server::scim::list_users(&mut conn, workspace_id, Some(&filter), 1, 100)
            .await
            .expect("users")
            .0
    };
    for email in &emails {
        over_http(email.clone()).await;
        floor(email.clone()).await;
    }
    let mut server_times = Vec::with_capacity(queries);
    let mut floor_times = Vec::with_capacity(queries);
    for i in 0..queries {
        let email = emails[i % emails.len()].clone();
        let started = Instant::now();
        let found = over_http(email.clone()).await;
        server_times.push(started.elapsed());
        let started = Instant::now();
        let floor_found = floor(email).await;
        floor_times.push(started.elapsed());
        assert_eq!(found, 1, "one member per address");
        assert_eq!(found, floor_found, "server and floor agree");
    }
    let (sp50, sp95) = (
        percentile(&mut server_times, 0.5),
        percentile(&mut server_times, 0.95),
    );
    let (fp50, fp95) = (
        percentile(&mut floor_times, 0.5),
        percentile(&mut floor_times, 0.95),
    );
    println!(
        "{size:>9} SCIM userName eq  p50 {sp50:6.2} ms p95 {sp95:6.2} ms | floor p50 {fp50:6.2} ms p95 {fp95:6.2} ms | p95 ratio {:.2}",
        sp95 / fp95
    );
    (size, "SCIM userName eq", sp50, sp95, fp50, fp95)
}
