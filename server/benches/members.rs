//! `cargo xtask bench members`: the Team page's member list at 100,000 and
//! 1,000,000 members (plus a 500,000-member neighbour workspace in the same
//! tables), measured through the real server function over HTTP as a
//! signed-in admin, next to the same SQL run directly on a pooled
//! connection (the floor). Prints p50/p95 per query kind and the plans.
//!
//! Environment: DATABASE_URL (an empty database; xtask makes one),
//! BENCH_SIZES (default "100000,1000000"), BENCH_NEIGHBOUR (default 500000),
//! BENCH_QUERIES (default 200 per case and side).

use std::time::Instant;

use app::{
    api::members::MemberPage,
    domain::directory::{DirectoryParams, DirectoryQuery},
    server::{
        directory::{self, Listing, Scope},
        members::member_rows,
        AppState, AuthSettings,
    },
};
use server::{connect, Config, MIGRATOR};
use sqlx::PgPool;

mod common;

use common::{env_number, percentile, seed, serve, signed_in};

struct Case {
    name: &'static str,
    /// One view per query, cycled through (varied searches defeat caching
    /// of one lucky plan).
    views: Vec<DirectoryParams>,
    deep: bool,
}

fn view(pairs: &[(&str, &str)]) -> DirectoryParams {
    DirectoryParams::from_pairs(pairs.iter().copied())
}

fn cases(group_ids: &[i64]) -> Vec<Case> {
    let searches = |words: &[&str]| words.iter().map(|w| view(&[("q", w)])).collect::<Vec<_>>();
    vec![
        Case {
            name: "no filter",
            views: vec![view(&[])],
            deep: false,
        },
        Case {
            name: "search, 1 character",
            views: searches(&["a", "m", "s", "k", "j", "z", "o", "q", "y", "e"]),
            deep: false,
        },
        Case {
            name: "search, 2 characters",
            views: searches(&["jo", "ma", "sm", "ki", "an", "zo", "qu", "xi", "be", "du"]),
            deep: false,
        },
        Case {
            name: "search, 3+ characters",
            views: searches(&[
                "smith",
                "garcia",
                "zoe",
                "nowak",
                "berlin",
                "montreal",
                "silva 12",
                "ahmed",
                "oster",
                "papadopoulos",
            ]),
            deep: false,
        },
        Case {
            name: "role filter",
            views: ["admin", "team_manager", "project_manager", "member"]
                .iter()
                .map(|r| view(&[("role", r)]))
                .collect(),
            deep: false,
        },
        Case {
            name: "inactive filter",
            views: vec![view(&[("status", "inactive")])],
            deep: false,
        },
        Case {
            name: "group filter",
            views: group_ids
                .iter()
                .take(20)
                .map(|g| view(&[("group", &g.to_string()), ("status", "all")]))
                .collect(),
            deep: false,
        },
        Case {
            name: "sort by last active",
            views: vec![view(&[("sort", "last_active"), ("dir", "desc")])],
            deep: false,
        },
        Case {
            name: "page 50 deep",
            views: vec![view(&[]), view(&[("sort", "email"), ("dir", "desc")])],
            deep: true,
        },
    ]
}

/// The server function's SQL, run directly: fold the words, one page of
/// ids, then the display rows.
async fn floor_once(
    pool: &PgPool,
    workspace_id: i64,
    query: &DirectoryQuery,
    after: Option<&str>,
) -> usize {
    let mut conn = pool.acquire().await.expect("connection");
    let listing = Listing::prepare(&mut conn, workspace_id, Scope::Everyone, query)
        .await
        .expect("listing");
    let page = directory::page_ids(&mut conn, &listing, after)
        .await
        .expect("page");
    member_rows(&mut conn, workspace_id, &page.ids)
        .await
        .expect("rows")
        .len()
}

fn form_of(params: &DirectoryParams, after: Option<&str>) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = params
        .pairs()
        .into_iter()
        .map(|(key, value)| (format!("view[{key}]"), value.to_owned()))
        .collect();
    if let Some(after) = after {
        form.push(("after".to_owned(), after.to_owned()));
    }
    form
}

async fn http_once(
    client: &reqwest::Client,
    base: &str,
    params: &DirectoryParams,
    after: Option<&str>,
) -> MemberPage {
    let response = client
        .post(format!("{base}/api/list_members"))
        .header("accept", "application/json")
        .form(&form_of(params, after))
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_success(),
        "list_members answered {}",
        response.status()
    );
    response.json().await.expect("page json")
}

/// Cursor for page 51 of a view, found by walking 50 pages once.
async fn deep_cursor(client: &reqwest::Client, base: &str, params: &DirectoryParams) -> String {
    let mut after: Option<String> = None;
    for _ in 0..50 {
        let page = http_once(client, base, params, after.as_deref()).await;
        after = Some(page.next.expect("at least 51 pages"));
    }
    after.expect("cursor")
}

#[tokio::main]
async fn main() {
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let sizes: Vec<i64> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    let neighbour = env_number("BENCH_NEIGHBOUR", 500_000);
    let queries = env_number("BENCH_QUERIES", 200) as usize;
    let config = Config {
        database_url,
        max_connections: 10,
        public_origin: AuthSettings::default().public_origin,
        auth: AuthSettings::default(),
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
        workspaces.push((*size, seed(&state, *size, &format!("w{size}")).await));
    }
    if neighbour > 0 {
        seed(&state, neighbour, "neighbour").await;
    }
    sqlx::query("VACUUM (ANALYZE) memberships")
        .execute(&pool)
        .await
        .expect("vacuum");

    let base = serve(state, &config).await;

    let mut table = Vec::new();
    for (size, workspace) in &workspaces {
        let client = signed_in(&base, &workspace.admin_email).await;
        let group_ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM groups WHERE workspace_id = $1 ORDER BY id")
                .bind(workspace.workspace_id)
                .fetch_all(&pool)
                .await
                .expect("groups");

        for case in cases(&group_ids) {
            let mut inputs = Vec::new();
            for params in &case.views {
                let query = DirectoryQuery::parse(params).expect("valid view");
                let after = if case.deep {
                    Some(deep_cursor(&client, &base, params).await)
                } else {
                    None
                };
                inputs.push((params.clone(), query, after));
            }
            // Warm both paths, then measure them alternately per query so
            // both see the same cache and machine load.
            for (params, query, after) in &inputs {
                http_once(&client, &base, params, after.as_deref()).await;
                floor_once(&pool, workspace.workspace_id, query, after.as_deref()).await;
            }
            let mut server_times = Vec::with_capacity(queries);
            let mut floor_times = Vec::with_capacity(queries);
            for i in 0..queries {
                let (params, query, after) = &inputs[i % inputs.len()];
                let started = Instant::now();
                let page = http_once(&client, &base, params, after.as_deref()).await;
                server_times.push(started.elapsed());
                let started = Instant::now();
                let rows = floor_once(&pool, workspace.workspace_id, query, after.as_deref()).await;
                floor_times.push(started.elapsed());
                assert_eq!(rows, page.rows.len(), "server and floor agree");
            }
            let server_p50 = percentile(&mut server_times, 0.5);
            let server_p95 = percentile(&mut server_times, 0.95);
            let floor_p50 = percentile(&mut floor_times, 0.5);
            let floor_p95 = percentile(&mut floor_times, 0.95);
            println!(
                "{size:>9} {:<24} server p50 {server_p50:6.2} ms p95 {server_p95:6.2} ms | floor p50 {floor_p50:6.2} ms p95 {floor_p95:6.2} ms | p95 ratio {:.2}",
                case.name,
                server_p95 / floor_p95
            );
            table.push((
                *size, case.name, server_p50, server_p95, floor_p50, floor_p95,
            ));
            // The plan of the first view of the case, to show the index used.
            let (_, query, after) = &inputs[0];
            let mut conn = pool.acquire().await.expect("connection");
            let listing =
                Listing::prepare(&mut conn, workspace.workspace_id, Scope::Everyone, query)
                    .await
                    .expect("listing");
            let plan = directory::explain_page(&mut conn, &listing, after.as_deref())
                .await
                .expect("plan");
            for line in plan.iter().filter(|l| {
                l.contains("Scan") || l.contains("Sort Key") || l.contains("Index Cond")
            }) {
                println!("          plan: {}", line.trim());
            }
        }
        // The count beside the results, for the broadest views.
        for (name, params) in [
            ("count, no filter", view(&[])),
            ("count, 1 character", view(&[("q", "a")])),
            ("count, rare 3+ search", view(&[("q", "zoe nowak")])),
        ] {
            let mut times = Vec::with_capacity(queries);
            let mut answer = String::new();
            for _ in 0..queries.min(100) {
                let started = Instant::now();
                let response = client
                    .post(format!("{base}/api/count_members"))
                    .header("accept", "application/json")
                    .form(&form_of(&params, None))
                    .send()
                    .await
                    .expect("count");
                answer = response.text().await.expect("count body");
                times.push(started.elapsed());
            }
            let p50 = percentile(&mut times, 0.5);
            let p95 = percentile(&mut times, 0.95);
            println!("{size:>9} {name:<24} server p50 {p50:6.2} ms p95 {p95:6.2} ms | {answer}");
        }
    }

    println!("\n| members | query | server p50 | server p95 | SQL floor p50 | SQL floor p95 | p95 ratio |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for (size, name, sp50, sp95, fp50, fp95) in &table {
        println!(
            "| {size} | {name} | {sp50:.2} ms | {sp95:.2} ms | {fp50:.2} ms | {fp95:.2} ms | {:.2} |",
            sp95 / fp95
        );
    }
}
