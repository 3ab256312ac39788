//! What both benchmarks need: the real router on a free port, and a client
//! signed in as a workspace's admin.

use app::server::AppState;
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
