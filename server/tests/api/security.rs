//! Requests that must be refused before any server function runs.

use crate::helpers::{error_of, spawn, GOOD_PASSWORD};
use app::{api::PUBLIC_ENDPOINTS, error::AppError};
use sqlx::PgPool;

fn registered_server_functions() -> Vec<String> {
    let mut paths: Vec<String> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn every_server_function_refuses_an_anonymous_caller(pool: PgPool) {
    let app = spawn(pool).await;
    let paths = registered_server_functions();
    // The enumeration must really see the app's functions.
    for known in [
        "/api/current_user",
        "/api/sign_out",
        "/api/list_members",
        "/api/create_group",
        "/api/list_accounts",
        "/api/invite_members",
        "/api/import_members",
    ] {
        assert!(
            paths.iter().any(|p| p == known),
            "{known} missing from {paths:?}"
        );
    }
    let mut checked = 0;
    for path in paths
        .iter()
        .filter(|p| !PUBLIC_ENDPOINTS.contains(&p.as_str()))
    {
        for cookie in [None, Some("teamroom_session=forged-or-expired-value")] {
            let mut request = crate::helpers::client()
                .post(format!("{}{path}", app.base))
                .header("accept", "application/json");
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{path} with {cookie:?}");
            assert_eq!(
                error_of(response).await,
                AppError::Unauthenticated,
                "{path}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} server functions checked");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_plain_form_post_without_a_session_is_sent_to_sign_in(pool: PgPool) {
    let app = spawn(pool).await;
    let response = crate::helpers::client()
        .post(format!("{}/api/sign_out", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/signin");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn cross_site_calls_are_refused(pool: PgPool) {
    let app = spawn(pool).await;
    let form = [
        ("email", "ada@example.com"),
        ("name", "Ada"),
        ("password", GOOD_PASSWORD),
    ];
    let attempt = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut request = crate::helpers::client()
            .post(format!("{}/api/sign_up", app.base))
            .header("accept", "application/json")
            .form(&form);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    for (origin, site) in [
        (Some("https://evil.example"), None),
        (None, Some("cross-site")),
        (None, Some("same-site")),
        (Some("null"), None),
    ] {
        let response = attempt(origin, site).await.unwrap();
        assert_eq!(response.status(), 403, "{origin:?} {site:?}");
        assert_eq!(error_of(response).await, AppError::Forbidden);
    }
    assert_eq!(
        app.count("SELECT count(*) FROM accounts").await,
        0,
        "nothing written"
    );

    // Cross-site form posts to a page route are refused too.
    let page = crate::helpers::client()
        .post(format!("{}/team", app.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);

    let own_origin = app.base.clone();
    let same = crate::helpers::client()
        .post(format!("{}/api/sign_up", app.base))
        .header("accept", "application/json")
        .header("origin", own_origin)
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(same.status().is_success(), "{}", same.status());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn signed_out_pages_redirect_to_sign_in(pool: PgPool) {
    let app = spawn(pool).await;
    for page in [
        "/team",
        "/time",
        "/settings",
        "/accounts",
        "/workspaces/new",
        "/",
    ] {
        let response = crate::helpers::client()
            .get(format!("{}{page}", app.base))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{page}");
        assert_eq!(response.headers()["location"], "/signin", "{page}");
    }
    let sign_in = crate::helpers::client()
        .get(format!("{}/signin", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 200);
    let html = sign_in.text().await.unwrap();
    assert!(html.contains("<h1>Sign in</h1>"), "{html}");
    let missing = crate::helpers::client()
        .get(format!("{}/no-such-page", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
