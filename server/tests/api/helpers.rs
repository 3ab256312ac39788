//! Spawns the real router on a free port against the test's own database.

use app::{
    error::AppError,
    server::{AppState, AuthSettings},
};
use server::{leptos_options, router, Config};
use server_fn::error::FromServerFnError;
use sqlx::PgPool;

pub struct TestApp {
    pub base: String,
    pub pool: PgPool,
    /// A browser-like client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

pub async fn spawn(pool: PgPool) -> TestApp {
    spawn_with(pool, AuthSettings::default()).await
}

pub async fn spawn_with(pool: PgPool, auth: AuthSettings) -> TestApp {
    let config = Config {
        database_url: String::new(),
        max_connections: 5,
        public_origin: None,
        auth: auth.clone(),
    };
    let state = AppState::new(pool.clone(), auth);
    let app = router(state, leptos_options(), &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service())
            .await
            .expect("test server");
    });
    TestApp {
        base: format!("http://{address}"),
        pool,
        client: client(),
    }
}

impl TestApp {
    /// Calls a server function the way the hydrated page does.
    pub async fn call_with(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.call_with(&self.client, endpoint, form).await
    }

    pub async fn sign_up(&self, email: &str, name: &str, password: &str) -> reqwest::Response {
        self.call(
            "sign_up",
            &[("email", email), ("name", name), ("password", password)],
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.call("sign_in", &[("email", email), ("password", password)])
            .await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect("count query")
    }
}

/// The error a server function answered with.
pub async fn error_of(response: reqwest::Response) -> AppError {
    assert!(
        !response.status().is_success(),
        "expected an error, got {}",
        response.status()
    );
    AppError::de(response.bytes().await.expect("body"))
}

pub const GOOD_PASSWORD: &str = "quiet lake at dawn";
