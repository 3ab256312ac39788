//! The Teamroom server: configuration, the HTTP router with its security
//! middleware, and start-up tasks. `main.rs` is a thin command-line front.

// The signed-in pages nest in a parent route; rendering that route tree
// builds view types deeper than the default limit of 128.
#![recursion_limit = "256"]

pub mod config;
pub mod events;
pub mod export;
pub mod mail_sink;
pub mod mail_sink_process;
pub mod mailer;
pub mod middleware;
pub mod photos;
pub mod rest;
pub mod scim;
pub mod seed;
pub mod seed_members;
pub mod static_files;
pub mod trace;

use std::time::Duration;

use app::{server::AppState, shell, App};
use axum::{extract::DefaultBodyLimit, middleware::from_fn_with_state, routing::get, Router};
use http::{header, HeaderValue};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::{postgres::PgPoolOptions, PgPool};
use tower_http::{
    compression::CompressionLayer,
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};

pub use config::Config;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

pub async fn connect(config: &Config) -> Result<PgPool, sqlx::Error> {
    let options = session_options(
        config
            .database_url
            .parse::<sqlx::postgres::PgConnectOptions>()?,
        config,
    );
    pool_options(config).connect_with(options).await
}

/// The app pool's settings (`connect` without the connecting).
pub fn pool_options(config: &Config) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings a connection when it goes back to the pool (dropping
        // one that broke) and, by default, again when it is handed out: a
        // round trip on each of a request's two or three acquires. One that
        // came back alive moments ago is handed out untested, as HikariCP's
        // `aliveBypassWindowMs` does; one idle for longer (a database
        // restart or a killed backend may have ended it meanwhile) is still
        // pinged first, and replaced instead of failing a request.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= ALIVE_BYPASS_WINDOW {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// How recently a pooled connection must have come back (and passed the
/// ping on return) to be handed out without another ping.
const ALIVE_BYPASS_WINDOW: Duration = Duration::from_millis(500);

/// The settings every app connection starts with.
pub fn session_options(
    options: sqlx::postgres::PgConnectOptions,
    config: &Config,
) -> sqlx::postgres::PgConnectOptions {
    // PostgreSQL takes milliseconds; 0 turns a limit off.
    let millis = |d: Duration| d.as_millis().to_string();
    options.options([
        // Parallel workers cost more to start than a 50-row page costs to
        // find; on small machines they made some member-list pages 3x slower.
        ("max_parallel_workers_per_gather", "0".to_owned()),
        // No query holds a connection (of a pool of ten) for minutes, and
        // a transaction left open by a stuck task ends with its locks.
        ("statement_timeout", millis(config.statement_timeout)),
        (
            "idle_in_transaction_session_timeout",
            millis(config.idle_in_transaction_timeout),
        ),
    ])
}

/// Leptos settings from the cargo-leptos environment, or the defaults a
/// plain `cargo build` needs (tests, a release binary started by hand).
pub fn leptos_options() -> LeptosOptions {
    match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(_) => LeptosOptions::builder()
            .output_name("teamroom")
            .site_root("target/site")
            .site_pkg_dir("pkg")
            .build(),
    }
}

/// The app's routes, worked out once per process.
///
/// Working them out renders the app with resource loading switched off by
/// a process-wide flag (leptos_server's `SuppressResourceLoad`). A page
/// another router renders at that moment creates its resources as futures
/// that never finish, and its response never ends. The server builds one
/// router, but the integration tests build one per test, in parallel: a CI
/// run hung for an hour on a 404 page that way.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole HTTP surface: pages, server functions, static files.
pub fn router(state: AppState, options: LeptosOptions, config: &Config) -> Router {
    trace::init_executor();
    let routes = route_list();

    let page_state = state.clone();
    let export_state = state.clone();
    let summary_state = state.clone();
    let audit_state = state.clone();
    let photo_state = state.clone();
    let photo_serve_state = state.clone();
    let fallback_state = state.clone();
    let rest_state = state.clone();
    let scim_state = state.clone();
    let health_pool = state.pool.clone();
    let timer_events = events::TimerEvents::new(state.clone());
    // leptos_axum registers a route per server function (with this context).
    Router::new()
        .route(
            "/healthz",
            get(move || middleware::health(health_pool.clone())),
        )
        .route(
            "/api/events",
            get(move |signed_in: middleware::SignedIn| {
                events::timer_stream(timer_events.clone(), signed_in)
            }),
        )
        .route(
            "/api/members.csv",
            get(move |signed_in: middleware::SignedIn, uri: http::Uri| {
                export::members_csv(export_state.clone(), signed_in, uri)
            }),
        )
        .route(
            "/api/summary.csv",
            get(move |signed_in: middleware::SignedIn, uri: http::Uri| {
                export::summary_csv(summary_state.clone(), signed_in, uri)
            }),
        )
        .route(
            "/api/photo",
            axum::routing::post({
                let state = photo_state.clone();
                move |signed_in: middleware::SignedIn, request: axum::extract::Request| {
                    photos::upload_or_remove(state.clone(), signed_in, request)
                }
            })
            .delete(
                move |signed_in: middleware::SignedIn, request: axum::extract::Request| {
                    photos::upload_or_remove(photo_state.clone(), signed_in, request)
                },
            ),
        )
        .route(
            "/api/photos/{file}",
            get(move |file, signed_in: middleware::SignedIn| {
                photos::serve(photo_serve_state.clone(), file, signed_in)
            }),
        )
        .route(
            "/api/audit.csv",
            get(move |signed_in: middleware::SignedIn, uri: http::Uri| {
                export::audit_csv(audit_state.clone(), signed_in, uri)
            }),
        )
        .nest_service("/pkg", static_files::pkg_service(&options))
        // The REST API: API keys only (see `rest`), and its reference page.
        .nest("/api/v1", rest::router(rest_state))
        .route(rest::DOCS_PATH, get(rest::docs::page))
        // SCIM 2.0 for identity providers: SCIM tokens only (see `scim`).
        .route(
            "/scim/v2",
            axum::routing::any({
                let state = scim_state.clone();
                move |request| scim::handle(state.clone(), request)
            }),
        )
        .route(
            "/scim/v2/{*rest}",
            axum::routing::any(move |request| scim::handle(scim_state.clone(), request)),
        )
        .leptos_routes_with_context(
            &options,
            routes,
            move || provide_context(page_state.clone()),
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        // 404 pages render the app too (header, session), so they need the
        // same context as the routes.
        .fallback(leptos_axum::file_and_error_handler_with_context(
            move || provide_context(fallback_state.clone()),
            shell,
        ))
        // The per-route limits are `middleware::body_limit_for` (64 KB unless
        // the route takes files); this ceiling is only a backstop for
        // whatever reads bodies through axum, server functions included.
        .layer(DefaultBodyLimit::max(
            app::domain::limits::IMPORT_BODY_BYTES,
        ))
        // After the session gate: a stranger's body is read only by the
        // public endpoints (sign in, sign up...), with places per client
        // address; bodies sent to pages are never read.
        .layer(axum::middleware::from_fn(
            middleware::read_body_within_limit,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            middleware::api_session_gate,
        ))
        // Runs before the session gate: a lapsed view returns the Owner first.
        .layer(from_fn_with_state(state, middleware::impersonation_gate))
        .layer(from_fn_with_state(
            middleware::OriginPolicy::new(Some(config.public_origin.clone())),
            middleware::same_origin_only,
        ))
        // Before sessions and the database: a body declared too big costs
        // nothing.
        .layer(axum::middleware::from_fn(
            middleware::refuse_declared_oversize,
        ))
        // Wraps every body before anything reads it (see `BodyPace`).
        .layer(from_fn_with_state(
            middleware::BodyPace::of(&config.auth),
            middleware::pace_request_bodies,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(from_fn_with_state(
            middleware::HeaderPolicy::new(&config.public_origin, &options.site_pkg_dir),
            middleware::security_headers,
        ))
        .layer(CompressionLayer::new())
        // Outermost: the request id and span cover every layer above, and
        // `MatchedPath` is known here (layers wrap each route).
        .layer(
            tower::ServiceBuilder::new()
                .map_request(trace::forget_client_request_id)
                .layer(SetRequestIdLayer::new(
                    trace::REQUEST_ID,
                    trace::ServerRequestId,
                ))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(trace::request_span)
                        .on_request(())
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(trace::REQUEST_ID)),
        )
        .with_state(options)
}

/// Every ten minutes: deletes expired sessions, stale throttle counters and
/// unconfirmed accounts past their time, so no table grows forever.
pub fn spawn_session_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            let Ok(mut conn) = state.pool.acquire().await else {
                continue;
            };
            match app::server::session::purge_expired(&mut conn, &state.auth).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired sessions removed"),
                Err(error) => tracing::warn!(?error, "session sweep failed"),
            }
            if let Err(error) = app::server::throttle::purge_stale(&mut conn).await {
                tracing::warn!(?error, "throttle sweep failed");
            }
            match app::server::accounts::purge_unconfirmed(&mut conn, &state.auth).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "unconfirmed accounts removed"),
                Err(error) => tracing::warn!(?error, "unconfirmed account sweep failed"),
            }
        }
    });
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}
