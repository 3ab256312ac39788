//! What both benchmarks need: the real router on a free port, and a client
//! signed in as a workspace's admin.

use std::time::{Duration, Instant};

use app::server::AppState;
use server::seed_members::{seed_members, SeedRequest, SeededWorkspace};
use server::{leptos_options, router, Config};

pub const PASSWORD: &str = "teamroom demo 2026";

/// Serves the app on 127.0.0.1 (any free port); returns its base URL.
pub async fn serve(state: AppState, config: &Config) -> String {
    let app = router(state, leptos_options(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    base
}

/// A cookie-keeping client signed in as `email` (password `PASSWORD`).
pub async fn signed_in(base: &str, email: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let response = client
        .post(format!("{base}/api/sign_in"))
        .header("accept", "application/json")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert!(response.status().is_success(), "{email} signs in");
    client
}

/// A count from the environment (`_` allowed as a digit separator).
#[allow(dead_code)] // not every benchmark reads one
pub fn env_number(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0 to 1) of `samples`, in milliseconds.
#[allow(dead_code)] // not every benchmark reports quantiles
pub fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

/// Seeds a workspace of `size` members with the bulk seeder, saying how
/// long it took.
#[allow(dead_code)] // not every benchmark seeds members
pub async fn seed(state: &AppState, size: i64, tag: &str) -> SeededWorkspace {
    println!("seeding {size} members ({tag})...");
    let started = Instant::now();
    let seeded = seed_members(
        state,
        &SeedRequest {
            members: size,
            workspace_name: format!("Bench {tag}"),
            tag: tag.to_owned(),
            password: PASSWORD.to_owned(),
        },
        true,
    )
    .await
    .expect("seed");
    println!(
        "seeded {} members in {:.1} s",
        seeded.members,
        started.elapsed().as_secs_f64()
    );
    seeded
}
