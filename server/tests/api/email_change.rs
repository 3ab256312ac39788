//! Changing one's email: password first, the new address confirms, the old
//! one is told, and the link works once.

use app::error::AppError;
use sqlx::PgPool;

use crate::{
    helpers::{client, error_of, GOOD_PASSWORD},
    lifecycle::{member, owner_app},
};

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_new_address_is_used_only_after_it_confirms_and_the_old_one_is_told(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let max = member(&app, workspace_id, "max@example.com", "Max Member").await;
    let ask = |address: &'static str, password: &'static str| {
        let browser = max.browser.clone();
        let app = &app;
        async move {
            app.call_with(
                &browser,
                "request_email_change",
                &[("new_email", address), ("password", password)],
            )
            .await
        }
    };
    for (address, password, field, expected) in [
        ("not an address", GOOD_PASSWORD, "new_email", "email"),
        (
            "max@example.com",
            GOOD_PASSWORD,
            "new_email",
            "already your address",
        ),
        (
            "max.new@example.com",
            "wrong password here",
            "password",
            "not your current password",
        ),
    ] {
        let message = error_of(ask(address, password).await)
            .await
            .field_message(field);
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.to_lowercase().contains(&expected.to_lowercase())),
            "{address}: {message:?}"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM email_changes").await, 0);

    let asked = ask("max.new@example.com", GOOD_PASSWORD).await;
    assert!(asked.status().is_success(), "{}", asked.status());
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM outbox WHERE kind = 'email_change' AND recipient = 'max.new@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("confirmation mail");
    let token = body
        .split("/email-change/")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("link in the mail")
        .to_owned();
    let email: String = sqlx::query_scalar("SELECT email FROM accounts WHERE id = $1")
        .bind(max.account_id)
        .fetch_one(&app.pool)
        .await
        .expect("email");
    assert_eq!(
        email, "max@example.com",
        "nothing changes before the new address confirms"
    );

    // Opened on another device, without a session: the token is enough.
    let phone = client();
    let confirmed = app
        .call_with(&phone, "confirm_email_change", &[("token", &token)])
        .await;
    assert!(confirmed.status().is_success(), "{}", confirmed.status());
    let email: String = sqlx::query_scalar("SELECT email FROM accounts WHERE id = $1")
        .bind(max.account_id)
        .fetch_one(&app.pool)
        .await
        .expect("email");
    assert_eq!(email, "max.new@example.com");
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'email_changed_notice' AND recipient = 'max@example.com'").await,
        1,
        "the old address is told"
    );
    let search: String = sqlx::query_scalar("SELECT search_text FROM memberships WHERE id = $1")
        .bind(max.membership_id)
        .fetch_one(&app.pool)
        .await
        .expect("search");
    assert!(search.contains("max.new@example.com"));
    let again = app
        .call_with(&phone, "confirm_email_change", &[("token", &token)])
        .await;
    assert!(error_of(again)
        .await
        .field_message("form")
        .is_some_and(|m| m.contains("used already")));
    let bogus = app
        .call_with(&phone, "confirm_email_change", &[("token", "x")])
        .await;
    assert!(matches!(error_of(bogus).await, AppError::Validation(_)));
    // The new address signs in; the old one no longer does.
    let fresh = client();
    let new_sign_in = app
        .call_with(
            &fresh,
            "sign_in",
            &[
                ("email", "max.new@example.com"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert!(
        new_sign_in.status().is_success(),
        "{}",
        new_sign_in.status()
    );
    let old_sign_in = app
        .call_with(
            &client(),
            "sign_in",
            &[("email", "max@example.com"), ("password", GOOD_PASSWORD)],
        )
        .await;
    assert!(!old_sign_in.status().is_success());

    // An address another account uses: the request tells nothing (it would
    // tell whether an account exists); its confirmation says so and changes
    // nothing.
    let taken = app
        .call_with(
            &fresh,
            "request_email_change",
            &[
                ("new_email", "OLIVE@example.com"),
                ("password", GOOD_PASSWORD),
            ],
        )
        .await;
    assert!(taken.status().is_success(), "{}", taken.status());
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM outbox WHERE kind = 'email_change' AND recipient = 'OLIVE@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("confirmation mail");
    let token = body
        .split("/email-change/")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("link in the mail")
        .to_owned();
    let refused = app
        .call_with(&client(), "confirm_email_change", &[("token", &token)])
        .await;
    assert!(error_of(refused)
        .await
        .field_message("form")
        .is_some_and(|m| m.contains("Another account uses that address")));
    let email: String = sqlx::query_scalar("SELECT email FROM accounts WHERE id = $1")
        .bind(max.account_id)
        .fetch_one(&app.pool)
        .await
        .expect("email");
    assert_eq!(email, "max.new@example.com");
}
