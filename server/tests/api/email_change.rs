//! Changing one's email: password first, the new address confirms, the old
//! one is told, and the link works once.

use app::error::AppError;
use sqlx::PgPool;

use crate::{
    helpers::{client, error_of, fns, until_waiting_on_locks, GOOD_PASSWORD},
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
            app.run_as(
                &browser,
                fns::RequestEmailChange {
                    new_email: address.to_owned(),
                    password: password.to_owned(),
                },
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
        .run_as(
            &phone,
            fns::ConfirmEmailChange {
                token: token.to_owned(),
            },
        )
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
        .run_as(
            &phone,
            fns::ConfirmEmailChange {
                token: token.to_owned(),
            },
        )
        .await;
    assert!(error_of(again)
        .await
        .field_message("form")
        .is_some_and(|m| m.contains("used already")));
    let bogus = app
        .run_as(&phone, fns::ConfirmEmailChange { token: "x".into() })
        .await;
    assert!(matches!(error_of(bogus).await, AppError::Validation(_)));
    // The new address signs in; the old one no longer does.
    let fresh = client();
    let new_sign_in = app
        .run_as(
            &fresh,
            fns::SignIn {
                email: "max.new@example.com".into(),
                password: GOOD_PASSWORD.to_owned(),
            },
        )
        .await;
    assert!(
        new_sign_in.status().is_success(),
        "{}",
        new_sign_in.status()
    );
    let old_sign_in = app
        .run_as(
            &client(),
            fns::SignIn {
                email: "max@example.com".into(),
                password: GOOD_PASSWORD.to_owned(),
            },
        )
        .await;
    assert!(!old_sign_in.status().is_success());

    // An address another account uses: the request tells nothing (it would
    // tell whether an account exists); its confirmation says so and changes
    // nothing.
    let taken = app
        .run_as(
            &fresh,
            fns::RequestEmailChange {
                new_email: "OLIVE@example.com".into(),
                password: GOOD_PASSWORD.to_owned(),
            },
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
        .run_as(
            &client(),
            fns::ConfirmEmailChange {
                token: token.to_owned(),
            },
        )
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

/// Issue 14 item 6: two accounts confirming the same new address at the
/// same moment. Both pass the "is it taken?" check before either commits;
/// the unique index decides, and the later one gets the same field error
/// as the check gives, not a 500.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn two_accounts_confirming_one_address_at_once_one_is_told(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let max = member(&app, workspace_id, "max@example.com", "Max Member").await;
    let mia = member(&app, workspace_id, "mia@example.com", "Mia Member").await;
    let wanted = "shared.inbox@example.com";
    for person in [&max, &mia] {
        let asked = app
            .run_as(
                &person.browser,
                fns::RequestEmailChange {
                    new_email: wanted.to_owned(),
                    password: GOOD_PASSWORD.to_owned(),
                },
            )
            .await;
        assert!(asked.status().is_success(), "{}", asked.status());
    }
    let tokens: Vec<String> = {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body_text FROM outbox WHERE kind = 'email_change' AND recipient = $1 ORDER BY id",
        )
        .bind(wanted)
        .fetch_all(&app.pool)
        .await
        .expect("two confirmation mails");
        assert_eq!(bodies.len(), 2);
        bodies
            .iter()
            .map(|body| {
                body.split("/email-change/")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .expect("link")
                    .to_owned()
            })
            .collect()
    };
    assert_ne!(tokens[0], tokens[1]);
    // Hold both confirmations inside their transactions, past the check:
    // each one's last write (the notice to the old address) waits here.
    let mut holder = app.pool.begin().await.expect("holder");
    sqlx::query("LOCK TABLE outbox IN EXCLUSIVE MODE")
        .execute(&mut *holder)
        .await
        .expect("lock");
    let (first_phone, second_phone) = (client(), client());
    let first = app.run_as(
        &first_phone,
        fns::ConfirmEmailChange {
            token: tokens[0].clone(),
        },
    );
    let second = app.run_as(
        &second_phone,
        fns::ConfirmEmailChange {
            token: tokens[1].clone(),
        },
    );
    let release = async {
        // Until both wait on a lock: one on the outbox, the other on the
        // first one's new address in the unique index.
        let raced = until_waiting_on_locks(&app, 2, "%").await;
        holder.commit().await.expect("release");
        raced
    };
    let (first, second, raced) = tokio::join!(first, second, release);
    assert!(
        raced,
        "both confirmations were inside their transactions at once"
    );
    let statuses = [first.status().as_u16(), second.status().as_u16()];
    assert!(
        statuses.contains(&200) && statuses.contains(&400),
        "one wins, the other is told: {statuses:?}"
    );
    let loser = if first.status().is_success() {
        second
    } else {
        first
    };
    let message = error_of(loser).await.field_message("form");
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("Another account uses that address")),
        "{message:?}"
    );
    let holders: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE lower(email) = $1")
        .bind(wanted)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(holders, 1, "the address has one owner");
}
