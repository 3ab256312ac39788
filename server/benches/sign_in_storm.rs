//! `cargo xtask bench sign-in-storm`: does a storm of sign-ins slow down
//! people who are already working? A signed-in admin loads the Team list
//! (first page of a 10,000-member workspace) over and over, first alone,
//! then while 200 sign-ins arrive at once (half with a wrong password, each
//! from its own client address through a trusted proxy, as a botnet or a
//! Monday morning would). Prints the reader's p50/p95 both ways, side by
//! side, with the ratio, the bare-SQL floor measured in the same run, and
//! how the storm was answered (signed in / wrong / 429) and how fast.
//!
//! The storm's clients run in a child process at nice 19 (they stand in for
//! other machines); the server, its argon2 threads (nice 19 themselves) and
//! PostgreSQL share the machine's cores as in production.
//!
//! Environment: DATABASE_URL (an empty database; xtask makes one),
//! BENCH_STORM (default 200), BENCH_ROUNDS (default 3).

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use app::server::{AppState, AuthSettings};
use server::{
    connect,
    seed_members::{seed_members, SeedRequest},
    Config, MIGRATOR,
};

mod common;

use common::{serve, signed_in, PASSWORD};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    let index = ((times.len() as f64 - 1.0) * p).round() as usize;
    times[index.min(times.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn read_once(client: &reqwest::Client, base: &str) -> Duration {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/list_members"))
        .header("accept", "application/json")
        .form(&[("after", "")])
        .send()
        .await
        .expect("list");
    assert!(response.status().is_success(), "{}", response.status());
    let _ = response.bytes().await;
    started.elapsed()
}

/// Runs the storm's clients in a child process at low CPU priority: in
/// production they are other machines, so their own work (TCP connects,
/// 200 HTTP clients) should not be counted against the server here, on a
/// 2-core machine that also runs PostgreSQL. Answers the status codes.
async fn storm_from_another_process(base: &str, storm: usize, round: usize) -> Vec<u16> {
    let output = tokio::process::Command::new("nice")
        .args(["-n", "19"])
        .arg(std::env::current_exe().expect("own path"))
        .args(["--storm", base, &storm.to_string(), &round.to_string()])
        .output()
        .await
        .expect("storm process");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// The child's side: `storm` concurrent sign-ins, half with a wrong
/// password, each from its own client address; prints the statuses.
async fn storm_clients(base: &str, storm: usize, round: usize) {
    let attempts = (0..storm).map(|i| {
        let base = base.to_owned();
        async move {
            let client = reqwest::Client::new();
            let password = if i % 2 == 0 {
                PASSWORD
            } else {
                "not the password at all"
            };
            client
                .post(format!("{base}/api/sign_in"))
                .header("accept", "application/json")
                .header(
                    "x-forwarded-for",
                    format!("10.{round}.{}.{}", i / 250, i % 250 + 1),
                )
                .form(&[
                    (
                        "email",
                        format!("storm{}@bench.example.test", i + 1).as_str(),
                    ),
                    ("password", password),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    });
    for status in futures_util::future::join_all(attempts).await {
        println!("{status}");
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--storm") {
        let base = args.get(2).expect("base");
        let storm = args
            .get(3)
            .and_then(|n| n.parse().ok())
            .expect("storm size");
        let round = args.get(4).and_then(|n| n.parse().ok()).expect("round");
        storm_clients(base, storm, round).await;
        return;
    }
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let storm = env_number("BENCH_STORM", 200);
    let rounds = env_number("BENCH_ROUNDS", 3);
    // Every request comes from 127.0.0.1; the storm's clients name their
    // own addresses through X-Forwarded-For, believed from this proxy.
    let auth = AuthSettings {
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("net")],
        ..AuthSettings::default()
    };
    let config = Config {
        database_url,
        max_connections: 10,
        public_origin: auth.public_origin.clone(),
        auth: auth.clone(),
        mailer: Default::default(),
        // Seeding a million rows takes longer than any request may.
        statement_timeout: std::time::Duration::ZERO,
        idle_in_transaction_timeout: std::time::Duration::ZERO,
    };
    let pool = connect(&config).await.expect("database");
    MIGRATOR.run(&pool).await.expect("migrations");
    let state = AppState::new(pool.clone(), config.auth.clone());
    app::server::password::warm_up(&state)
        .await
        .expect("warm up");
    let base = serve(state.clone(), &config).await;
    let workspace = seed_members(
        &state,
        &SeedRequest {
            members: 10_000,
            workspace_name: "Storm bench".into(),
            tag: "stormbench".into(),
            password: PASSWORD.to_owned(),
        },
        false,
    )
    .await
    .expect("seed");
    // The storm's accounts share the admin's password hash.
    sqlx::query(
        "INSERT INTO accounts (email, display_name, password_hash, email_verified_at)
         SELECT 'storm' || i || '@bench.example.test', 'Storm ' || i,
                (SELECT password_hash FROM accounts WHERE email = $1), now()
           FROM generate_series(1, $2) AS i",
    )
    .bind(&workspace.admin_email)
    .bind(storm as i32)
    .execute(&pool)
    .await
    .expect("storm accounts");
    let reader = signed_in(&base, &workspace.admin_email).await;
    for _ in 0..20 {
        read_once(&reader, &base).await;
    }

    let mut floor = Vec::new();
    let mut calm = Vec::new();
    let mut stormy = Vec::new();
    let (mut ok, mut wrong, mut limited, mut other) = (0, 0, 0, 0);
    let mut storm_secs = 0.0;
    for round in 0..rounds {
        for _ in 0..200 {
            let started = Instant::now();
            sqlx::query("SELECT 1").execute(&pool).await.expect("floor");
            floor.push(started.elapsed());
            calm.push(read_once(&reader, &base).await);
        }
        // Forget the last round's counters: each round starts fresh.
        sqlx::query("DELETE FROM auth_throttles")
            .execute(&pool)
            .await
            .expect("reset");
        sqlx::query("DELETE FROM rate_windows")
            .execute(&pool)
            .await
            .expect("reset");
        let done = Arc::new(AtomicBool::new(false));
        let reading = {
            let done = done.clone();
            let reader = reader.clone();
            let base = base.clone();
            tokio::spawn(async move {
                let mut times = Vec::new();
                while !done.load(Ordering::SeqCst) {
                    times.push(read_once(&reader, &base).await);
                }
                times
            })
        };
        let started = Instant::now();
        let statuses = storm_from_another_process(&base, storm, round).await;
        storm_secs += started.elapsed().as_secs_f64();
        done.store(true, Ordering::SeqCst);
        stormy.extend(reading.await.expect("reader"));
        for status in statuses {
            match status {
                200 | 302 | 303 => ok += 1,
                400 => wrong += 1,
                429 => limited += 1,
                _ => other += 1,
            }
        }
    }
    let calm_p95 = percentile(&mut calm, 0.95);
    let stormy_p95 = percentile(&mut stormy, 0.95);
    println!("\nsign-in storm: {storm} concurrent sign-ins (half wrong) x {rounds} rounds, reader on the Team list of 10,000 members");
    println!("| reader | requests | p50 ms | p95 ms |");
    println!("|---|---|---|---|");
    println!(
        "| bare SQL floor (`SELECT 1`) | {} | {} | {} |",
        floor.len(),
        ms(percentile(&mut floor, 0.5)),
        ms(percentile(&mut floor, 0.95))
    );
    println!(
        "| Team list, no storm | {} | {} | {} |",
        calm.len(),
        ms(percentile(&mut calm, 0.5)),
        ms(calm_p95)
    );
    println!(
        "| Team list, during the storm | {} | {} | {} |",
        stormy.len(),
        ms(percentile(&mut stormy, 0.5)),
        ms(stormy_p95)
    );
    println!(
        "\nreader p95 ratio (storm / no storm): {:.2} (target <= 1.5)",
        stormy_p95.as_secs_f64() / calm_p95.as_secs_f64()
    );
    let total = (ok + wrong + limited + other) as f64;
    println!(
        "storm answers: {ok} signed in, {wrong} wrong password, {limited} refused with 429 (hashing queue full), {other} other; \
         {:.1} sign-in attempts answered per second, {:.1} passwords checked per second",
        total / storm_secs,
        (ok + wrong) as f64 / storm_secs
    );
}
