//! `cargo xtask bench accounts`: the Owner's Accounts tab at 100,000
//! members (plus a neighbour workspace in the same tables), measured
//! through the real server function over HTTP as the signed-in Owner, next
//! to the same SQL run directly on a pooled connection (the floor).
//! Prints p50/p95 per case and the ratio.
//!
//! Environment: DATABASE_URL (an empty database; xtask makes one),
//! BENCH_SIZES (default "100000"), BENCH_NEIGHBOUR (default 100000),
//! BENCH_QUERIES (default 200 per case and side).

use std::time::Instant;

use app::{
    api::accounts::AccountsPage,
    domain::accounts::{AccountFilter, AccountSearch},
    server::{accounts_tab, AppState, AuthSettings},
};
use server::{connect, Config, MIGRATOR};
use sqlx::PgPool;

mod common;

use common::{env_number, percentile, seed, serve, signed_in};

struct Case {
    name: &'static str,
    /// (search, filter key), cycled through.
    views: Vec<(&'static str, &'static str)>,
    /// Start 20 pages deep.
    deep: bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "first page",
            views: vec![("", "")],
            deep: false,
        },
        Case {
            name: "search, 1-2 characters",
            views: vec![("a", ""), ("jo", ""), ("m", ""), ("ki", ""), ("zo", "")],
            deep: false,
        },
        Case {
            name: "search, 3+ characters",
            views: vec![
                ("smith", ""),
                ("garcia", ""),
                ("nowak", ""),
                ("ahmed", ""),
                ("papadopoulos", ""),
                ("zoe silva", ""),
            ],
            deep: false,
        },
        Case {
            name: "filter: locked",
            views: vec![("", "locked")],
            deep: false,
        },
        Case {
            name: "filter: timer running",
            views: vec![("", "timer")],
            deep: false,
        },
        Case {
            name: "filter: two-factor",
            views: vec![("", "two-factor")],
            deep: false,
        },
        Case {
            name: "page 20 deep",
            views: vec![("", "")],
            deep: true,
        },
    ]
}

async fn http_once(
    client: &reqwest::Client,
    base: &str,
    (search, filter): (&str, &str),
    cursor: Option<&str>,
) -> AccountsPage {
    let mut form = vec![("search", search), ("filter", filter)];
    if let Some(cursor) = cursor {
        form.push(("cursor", cursor));
    }
    let response = client
        .post(format!("{base}/api/list_accounts"))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_success(),
        "list_accounts answered {}",
        response.status()
    );
    response.json().await.expect("page json")
}

/// The server function's SQL, run directly.
async fn floor_once(
    pool: &PgPool,
    workspace_id: i64,
    (search, filter): (&str, &str),
    cursor: Option<&str>,
) -> usize {
    let mut conn = pool.acquire().await.expect("connection");
    let search = AccountSearch::parse(search).expect("search");
    let filter = AccountFilter::parse(filter).expect("filter");
    accounts_tab::page(&mut conn, workspace_id, &search, filter, cursor)
        .await
        .expect("page")
        .0
        .len()
}

/// Gives the filters something to find: a lock, a running timer and
/// two-factor on every 500th account.
async fn security_state(pool: &PgPool, workspace_id: i64) {
    sqlx::query(
        "INSERT INTO auth_throttles (scope, key, failures, last_failure_at, blocked_until)
         SELECT 'sign_in_email', lower(a.email), 9, now(), now() + interval '1 day'
           FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE m.workspace_id = $1 AND m.id % 500 = 0
         ON CONFLICT DO NOTHING",
    )
    .bind(workspace_id)
    .execute(pool)
    .await
    .expect("locks");
    sqlx::query(
        "INSERT INTO time_entries (workspace_id, membership_id, description, started_at, source)
         SELECT m.workspace_id, m.id, 'Running', now() - interval '2 hours', 'timer'
           FROM memberships m
          WHERE m.workspace_id = $1 AND m.id % 500 = 1 AND m.status = 'active'
            AND NOT EXISTS (SELECT 1 FROM time_entries e
                             WHERE e.workspace_id = m.workspace_id AND e.membership_id = m.id
                               AND e.ended_at IS NULL)",
    )
    .bind(workspace_id)
    .execute(pool)
    .await
    .expect("timers");
    sqlx::query(
        "INSERT INTO two_factor (account_id, secret, enabled_at)
         SELECT m.account_id, '\\x00112233445566778899aabbccddeeff', now()
           FROM memberships m
          WHERE m.workspace_id = $1 AND m.id % 500 = 2 AND m.account_id IS NOT NULL
         ON CONFLICT DO NOTHING",
    )
    .bind(workspace_id)
    .execute(pool)
    .await
    .expect("two-factor");
}

#[tokio::main]
async fn main() {
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let sizes: Vec<i64> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    let neighbour = env_number("BENCH_NEIGHBOUR", 100_000);
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
        let seeded = seed(&state, *size, &format!("w{size}")).await;
        security_state(&pool, seeded.workspace_id).await;
        workspaces.push((*size, seeded));
    }
    if neighbour > 0 {
        let seeded = seed(&state, neighbour, "neighbour").await;
        security_state(&pool, seeded.workspace_id).await;
    }
    sqlx::query("VACUUM (ANALYZE) memberships, accounts, time_entries, two_factor, auth_throttles")
        .execute(&pool)
        .await
        .expect("vacuum");

    let base = serve(state, &config).await;
    let mut table = Vec::new();
    for (size, workspace) in &workspaces {
        let client = signed_in(&base, &workspace.owner_email).await;
        for case in cases() {
            let mut inputs = Vec::new();
            for view in &case.views {
                let cursor = if case.deep {
                    let mut cursor: Option<String> = None;
                    for _ in 0..20 {
                        cursor = http_once(&client, &base, *view, cursor.as_deref())
                            .await
                            .next;
                    }
                    cursor
                } else {
                    None
                };
                inputs.push((*view, cursor));
            }
            for (view, cursor) in &inputs {
                http_once(&client, &base, *view, cursor.as_deref()).await;
                floor_once(&pool, workspace.workspace_id, *view, cursor.as_deref()).await;
            }
            let mut server_times = Vec::with_capacity(queries);
            let mut floor_times = Vec::with_capacity(queries);
            let mut rows_seen = 0;
            for i in 0..queries {
                let (view, cursor) = &inputs[i % inputs.len()];
                let started = Instant::now();
                let page = http_once(&client, &base, *view, cursor.as_deref()).await;
                server_times.push(started.elapsed());
                let started = Instant::now();
                let rows =
                    floor_once(&pool, workspace.workspace_id, *view, cursor.as_deref()).await;
                floor_times.push(started.elapsed());
                assert_eq!(rows, page.rows.len(), "server and floor agree");
                rows_seen += rows;
            }
            let server_p50 = percentile(&mut server_times, 0.5);
            let server_p95 = percentile(&mut server_times, 0.95);
            let floor_p50 = percentile(&mut floor_times, 0.5);
            let floor_p95 = percentile(&mut floor_times, 0.95);
            println!(
                "{size:>9} {:<24} server p50 {server_p50:6.2} ms p95 {server_p95:6.2} ms | floor p50 {floor_p50:6.2} ms p95 {floor_p95:6.2} ms | p95 ratio {:.2} | {:.1} rows/page",
                case.name,
                server_p95 / floor_p95,
                rows_seen as f64 / queries as f64
            );
            table.push((
                *size, case.name, server_p50, server_p95, floor_p50, floor_p95,
            ));
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
