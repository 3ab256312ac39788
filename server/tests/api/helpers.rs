//! Spawns the real router on a free port against the test's own database.

use app::{
    error::AppError,
    server::{AppState, AuthSettings},
};
use serde::Serialize;
use server::{leptos_options, router, Config};
use server_fn::{error::FromServerFnError, ServerFn};
use sqlx::PgPool;

/// Every server function's argument struct, by name (`fns::SignIn {..}`),
/// for `TestApp::run`. The glob imports only clash if a clashing name is
/// used, and none of the argument structs clash.
pub mod fns {
    pub use app::api::{
        accept::*, accounts::*, api_keys::*, audit::*, auth::*, bell::*, email_change::*,
        email_verification::*, groups::*, impersonation::*, invitations::*, kiosk::*, lifecycle::*,
        members::*, notices::*, password_reset::*, profile::*, reports::*, scim::*, sessions::*,
        time::*, two_factor::*, workspaces::*,
    };
    pub use app::{api::lifecycle::RoleName, domain::accounts::TwoFactorMethod};
}

pub struct TestApp {
    pub base: String,
    pub pool: PgPool,
    /// A browser-like client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
}

/// Longest any one test request may take, body included: a response that
/// never ends fails its test within a minute instead of holding CI for an
/// hour with nothing said.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_DEADLINE)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

pub async fn spawn(pool: PgPool) -> TestApp {
    spawn_with(pool, settings()).await
}

/// The settings tests run with: the production defaults, but every test
/// client comes from 127.0.0.1, so the per-address limits on sign-ups and
/// sign-ins are lifted (the throttle tests set them back).
pub fn settings() -> AuthSettings {
    AuthSettings {
        sign_ups_per_ip_hour: 100_000,
        sign_ins_per_ip_minute: 100_000,
        ..AuthSettings::default()
    }
}

pub async fn spawn_with(pool: PgPool, auth: AuthSettings) -> TestApp {
    spawn_site(pool, auth, leptos_options()).await
}

/// The router over a site of the test's own (`/pkg` files, hashing on).
pub async fn spawn_site(
    pool: PgPool,
    auth: AuthSettings,
    options: leptos::prelude::LeptosOptions,
) -> TestApp {
    let config = Config {
        database_url: String::new(),
        max_connections: 5,
        public_origin: auth.public_origin.clone(),
        auth: auth.clone(),
        mailer: Default::default(),
        statement_timeout: server::config::DEFAULT_STATEMENT_TIMEOUT,
        idle_in_transaction_timeout: server::config::DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT,
    };
    let state = AppState::new(pool.clone(), auth);
    let app = router(state, options, &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
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
    /// Calls a server function with its own argument struct (form-encoded,
    /// as the hydrated page sends it): a renamed function, field or type is
    /// a compile error here rather than a 400 the test might misread.
    pub async fn run<F: ServerFn + Serialize>(&self, args: F) -> reqwest::Response {
        self.send_with(&self.client, Call::form(args)).await
    }

    /// `run` with another browser's cookies.
    pub async fn run_as<F: ServerFn + Serialize>(
        &self,
        client: &reqwest::Client,
        args: F,
    ) -> reqwest::Response {
        self.send_with(client, Call::form(args)).await
    }

    pub async fn send_with(&self, client: &reqwest::Client, call: Call) -> reqwest::Response {
        let request = client
            .post(format!("{}{}", self.base, call.path))
            .header("accept", "application/json");
        match call.body {
            CallBody::Form(encoded) => request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encoded),
            CallBody::Json(value) => request.json(&value),
        }
        .send()
        .await
        .expect("request")
    }

    pub async fn sign_up(&self, email: &str, name: &str, password: &str) -> reqwest::Response {
        self.run(fns::SignUp {
            email: email.to_owned(),
            name: name.to_owned(),
            password: password.to_owned(),
        })
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.run(fns::SignIn {
            email: email.to_owned(),
            password: password.to_owned(),
        })
        .await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect("count query")
    }
}

/// The audit log unfiltered, newest first: `fns::AuditLog { action: ..,
/// ..whole_audit_log() }` for one filter.
pub fn whole_audit_log() -> fns::AuditLog {
    fns::AuditLog {
        actor: String::new(),
        target: String::new(),
        action: String::new(),
        from: String::new(),
        to: String::new(),
        before: None,
    }
}

/// One server function's request, built from the function's own argument
/// struct, so its path and fields are the compiler's to check.
#[derive(Clone)]
pub struct Call {
    pub path: &'static str,
    body: CallBody,
}

#[derive(Clone)]
enum CallBody {
    Form(String),
    Json(serde_json::Value),
}

impl Call {
    /// Form-encoded with `serde_qs`, as the server function's default
    /// `PostUrl` input is sent by the page.
    pub fn form<F: ServerFn + Serialize>(args: F) -> Self {
        Self {
            path: F::PATH,
            body: CallBody::Form(serde_qs::to_string(&args).expect("form-encode the arguments")),
        }
    }

    /// The function's endpoint name, as registered under `/api/`.
    pub fn name(&self) -> &'static str {
        self.path.trim_start_matches("/api/")
    }

    /// For a function declared `input = Json`.
    pub fn json<F: ServerFn + Serialize>(args: F) -> Self {
        Self {
            path: F::PATH,
            body: CallBody::Json(serde_json::to_value(&args).expect("encode the arguments")),
        }
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

/// A real SMTP catcher process (`server mail-sink`) on a local port, with
/// the messages it saved.
pub struct MailSink {
    pub port: u16,
    pub dir: std::path::PathBuf,
    process: server::mail_sink_process::SinkProcess,
}

/// A message as the sink saved it, parsed.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl MailSink {
    /// Starts a sink on a free port with a fresh directory.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "teamroom-mail-{}-{}",
            std::process::id(),
            SINK_COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Self::start_on(0, dir)
    }

    /// Starts a sink that answers `550 5.1.1 mailbox unavailable` to RCPT
    /// for each of `addresses` (a mailbox that does not exist).
    pub fn start_rejecting(addresses: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "teamroom-mail-{}-{}",
            std::process::id(),
            SINK_COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Self::launch(0, dir, addresses)
    }

    /// Starts (or restarts) a sink on `port` (0: any free one) saving to `dir`.
    pub fn start_on(port: u16, dir: std::path::PathBuf) -> Self {
        Self::launch(port, dir, &[])
    }

    fn launch(port: u16, dir: std::path::PathBuf, reject: &[&str]) -> Self {
        use server::mail_sink_process::{SinkOutput, SinkProcess};
        let process = SinkProcess::start(
            std::path::Path::new(env!("CARGO_BIN_EXE_server")),
            port,
            &dir,
            reject,
            SinkOutput::Drain,
        )
        .unwrap_or_else(|error| panic!("start the mail sink: {error}"));
        Self {
            port: process.port,
            dir,
            process,
        }
    }

    pub fn url(&self) -> String {
        self.process.url()
    }

    pub fn stop(&mut self) {
        self.process.stop();
    }

    pub fn messages(&self) -> Vec<ReceivedMail> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .filter_map(|raw| {
                let message = mail_parser::MessageParser::default().parse(&raw)?;
                Some(ReceivedMail {
                    from: message
                        .from()
                        .and_then(|from| from.first())
                        .and_then(|a| a.address())
                        .unwrap_or_default()
                        .to_owned(),
                    to: message
                        .to()
                        .and_then(|to| to.first())
                        .and_then(|a| a.address())
                        .unwrap_or_default()
                        .to_owned(),
                    subject: message.subject().unwrap_or_default().to_owned(),
                    text: message.body_text(0).unwrap_or_default().into_owned(),
                    html: message.body_html(0).unwrap_or_default().into_owned(),
                })
            })
            .collect()
    }

    /// Waits until at least `count` messages arrived, or panics after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: std::time::Duration) -> Vec<ReceivedMail> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || std::time::Instant::now() > deadline {
                assert!(
                    messages.len() >= count,
                    "{} of {count} messages arrived within {timeout:?}",
                    messages.len()
                );
                return messages;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

static SINK_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Mail settings for tests: fast retries against a sink.
pub fn mailer_config(sink: &MailSink) -> server::mailer::MailerConfig {
    server::mailer::MailerConfig {
        smtp_url: Some(sink.url()),
        retry_base: std::time::Duration::from_millis(200),
        retry_max: std::time::Duration::from_secs(1),
        poll_every: std::time::Duration::from_millis(200),
        ..Default::default()
    }
}

/// How many audit rows of `action` there are, in every workspace.
pub async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(&app.pool)
        .await
        .expect("audit count")
}

/// Waits (up to 10 s) until at least `count` requests of this test's
/// database wait on a lock, counting only statements whose text is `LIKE`
/// `statement` (`"%"` for any). Whether they did: a race test holds a lock
/// and releases it only once the requests under test are queued behind it.
pub async fn until_waiting_on_locks(app: &TestApp, count: i64, statement: &str) -> bool {
    for _ in 0..400 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'
                AND query LIKE $1",
        )
        .bind(statement)
        .fetch_one(&app.pool)
        .await
        .expect("activity");
        if waiting >= count {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    false
}
