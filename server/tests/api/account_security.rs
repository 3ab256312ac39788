//! Account security under attack: concurrent guessing, a stranger locking
//! the owner out, forged Host headers, pre-claimed addresses, reset links,
//! sessions. Each test is the attack, then what the person would notice.

use app::error::AppError;
use sqlx::PgPool;

use crate::helpers::{client, error_of, fns, spawn, spawn_with, TestApp, GOOD_PASSWORD};

const NEW_PASSWORD: &str = "a brand new harbour light";

/// Sends `n` concurrent wrong sign-ins for `email`, each from a browser of
/// its own (no device cookie), and counts the answers by status.
async fn burst(app: &TestApp, email: &str, n: usize) -> (usize, usize, Vec<reqwest::Response>) {
    let requests = (0..n).map(|i| {
        let base = app.base.clone();
        let email = email.to_owned();
        async move {
            client()
                .post(format!("{base}/api/sign_in"))
                .header("accept", "application/json")
                .form(&[
                    ("email", email.as_str()),
                    ("password", &format!("guess {i}")),
                ])
                .send()
                .await
                .expect("request")
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    let checked = answers.iter().filter(|r| r.status() == 400).count();
    let refused = answers.iter().filter(|r| r.status() == 429).count();
    (checked, refused, answers)
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn forty_concurrent_wrong_passwords_get_only_the_free_tries_checked(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let (checked, refused, answers) = burst(&app, "ada@example.com", 40).await;
    assert_eq!(checked + refused, 40, "only refusals, no faults");
    assert!(checked <= 5, "{checked} of 40 guesses were checked");
    assert!(refused >= 35);
    let limited = answers.iter().find(|r| r.status() == 429).expect("a 429");
    let wait: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    // A fresh browser with the right password waits too: the lock holds.
    let right = client()
        .post(format!("{}/api/sign_in", app.base))
        .header("accept", "application/json")
        .form(&[("email", "ada@example.com"), ("password", GOOD_PASSWORD)])
        .send()
        .await
        .expect("request");
    assert_eq!(right.status(), 429);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_owners_known_browser_signs_in_while_a_stranger_has_the_address_locked(pool: PgPool) {
    let app = spawn(pool).await;
    // Ada's own browser: it signed up, so it carries a device cookie.
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let signed_out = app.run(fns::SignOut {}).await;
    assert!(signed_out.status().is_success() || signed_out.status().is_redirection());
    let (_, refused, _) = burst(&app, "ada@example.com", 40).await;
    assert!(refused >= 35, "the stranger's burst locked the address");
    let own = app.sign_in("ada@example.com", GOOD_PASSWORD).await;
    assert!(
        own.status().is_success() || own.status().is_redirection(),
        "Ada's browser was locked out: {}",
        own.status()
    );
    let me: serde_json::Value = app.run(fns::CurrentUser {}).await.json().await.expect("me");
    assert_eq!(me["email"].as_str(), Some("ada@example.com"));
    // A device cookie copied onto another account does not help there.
    let stolen = app.sign_in("bob@example.com", "guess").await;
    assert_eq!(stolen.status(), 400);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_locked_address_and_an_unknown_one_get_the_same_answers(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..8 {
        let a = client()
            .post(format!("{}/api/sign_in", app.base))
            .header("accept", "application/json")
            .form(&[("email", "ada@example.com"), ("password", "wrong guess")])
            .send()
            .await
            .expect("request");
        let b = client()
            .post(format!("{}/api/sign_in", app.base))
            .header("accept", "application/json")
            .form(&[("email", "nobody@example.com"), ("password", "wrong guess")])
            .send()
            .await
            .expect("request");
        known.push((a.status().as_u16(), error_of(a).await));
        unknown.push((b.status().as_u16(), error_of(b).await));
    }
    // Five checked (same words), then waits of the same kind.
    let shape = |answers: &[(u16, AppError)]| {
        answers
            .iter()
            .map(|(status, error)| match error {
                AppError::RateLimited { .. } => (*status, "wait".to_owned()),
                other => (*status, other.field_message("form").unwrap_or_default()),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&known), shape(&unknown));
    assert_eq!(shape(&known)[0].0, 400);
    assert_eq!(shape(&known)[7], (429, "wait".to_owned()));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_wait_grows_is_bounded_and_is_forgotten_after_a_quiet_period(pool: PgPool) {
    let app = spawn(pool).await;
    let (checked, _, _) = burst(&app, "ada@example.com", 5).await;
    assert_eq!(checked, 5);
    // The wait a failure was given, from the moment it was counted: the
    // password checks of a burst take seconds on a busy debug build, so
    // what is left of the wait when the burst ends says less.
    let wait_after = |pool: PgPool| async move {
        sqlx::query_scalar::<_, f64>(
            "SELECT extract(epoch FROM blocked_until - last_failure_at)::float8 FROM auth_throttles
              WHERE scope = 'sign_in_email' AND key = 'ada@example.com'",
        )
        .fetch_one(&pool)
        .await
        .expect("wait")
    };
    let first = wait_after(app.pool.clone()).await;
    // Each further failure, once its wait has passed, doubles the wait, up
    // to fifteen minutes.
    let mut waits = vec![first];
    for _ in 0..8 {
        sqlx::query(
            "UPDATE auth_throttles SET blocked_until = now() WHERE key = 'ada@example.com'",
        )
        .execute(&app.pool)
        .await
        .expect("pass the wait");
        let (checked, _, _) = burst(&app, "ada@example.com", 1).await;
        assert_eq!(checked, 1);
        waits.push(wait_after(app.pool.clone()).await);
    }
    assert!((50.0..=61.0).contains(&waits[0]), "{waits:?}");
    assert!(waits[1] > waits[0] * 1.5, "{waits:?}");
    assert!(waits.iter().all(|w| *w <= 15.0 * 60.0 + 1.0), "{waits:?}");
    assert!(waits[8] >= 14.0 * 60.0, "{waits:?}");
    // Six quiet hours later the address starts again from zero.
    sqlx::query(
        "UPDATE auth_throttles SET last_failure_at = now() - interval '7 hours',
                                   blocked_until = now() + interval '5 minutes'
          WHERE key = 'ada@example.com'",
    )
    .execute(&app.pool)
    .await
    .expect("quiet period");
    let (checked, _, _) = burst(&app, "ada@example.com", 1).await;
    assert_eq!(checked, 1, "a quiet period ends the wait");
    assert_eq!(
        app.count("SELECT failures::bigint FROM auth_throttles WHERE key = 'ada@example.com'")
            .await,
        1
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn forty_concurrent_kiosk_pins_get_only_the_free_tries_checked(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    let added = app
        .run(fns::AddLimitedMember {
            name: "Lena Limited".into(),
            group_ids: Default::default(),
        })
        .await;
    assert!(added.status().is_success(), "{}", added.status());
    let lena: i64 =
        sqlx::query_scalar("SELECT id FROM memberships WHERE display_name = 'Lena Limited'")
            .fetch_one(&app.pool)
            .await
            .expect("limited member");
    let set = app
        .run(fns::SetKioskPin {
            membership_id: Some(lena),
            pin: "8642".into(),
        })
        .await;
    assert!(set.status().is_success());
    let launched = app.run(fns::LaunchKiosk {}).await;
    assert!(launched.status().is_success());
    // Forty wrong guesses at once from the Kiosk.
    let guesses = (0..40).map(|i| {
        let pin = format!("{:04}", 1000 + i);
        let app = &app;
        async move {
            app.run(fns::KioskPunch {
                membership_id: lena,
                pin: pin.to_owned(),
            })
            .await
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers.iter().filter(|r| r.status() != 429).count();
    assert!(checked <= 5, "{checked} PINs were checked");
    assert!(answers
        .iter()
        .all(|r| [200, 400, 429].contains(&r.status().as_u16())));
    // Then even the right PIN waits.
    let right = app
        .run(fns::KioskPunch {
            membership_id: lena,
            pin: "8642".into(),
        })
        .await;
    assert_eq!(right.status(), 429);
    assert!(right.headers().contains_key("retry-after"));
    assert_eq!(
        app.count("SELECT count(*) FROM time_entries WHERE source = 'kiosk'")
            .await,
        0
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_forged_host_header_never_reaches_a_mailed_link(pool: PgPool) {
    let app = spawn(pool).await;
    let attacker = client();
    let signed_up = attacker
        .post(format!("{}/api/sign_up", app.base))
        .header("accept", "application/json")
        .header("host", "evil.example")
        .header("origin", "http://evil.example")
        .header("x-forwarded-host", "evil.example")
        .form(&[
            ("email", "victim@example.com"),
            ("name", "Vic Tim"),
            ("password", GOOD_PASSWORD),
        ])
        .send()
        .await
        .expect("request");
    assert!(signed_up.status().is_success() || signed_up.status().is_redirection());
    // Reset and email change mails too.
    let reset = client()
        .post(format!("{}/api/request_password_reset", app.base))
        .header("accept", "application/json")
        .header("host", "evil.example")
        .header("origin", "http://evil.example")
        .form(&[("email", "victim@example.com")])
        .send()
        .await
        .expect("request");
    assert!(reset.status().is_success(), "{}", reset.status());
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body_text || body_html FROM outbox")
        .fetch_all(&app.pool)
        .await
        .expect("mail");
    assert_eq!(bodies.len(), 2);
    for body in bodies {
        assert!(!body.contains("evil.example"), "{body}");
        assert!(body.contains("http://127.0.0.1:3000/"), "{body}");
    }
}

/// The newest link of `kind` mailed to `email`.
async fn mailed_link(app: &TestApp, email: &str, kind: &str, path: &str) -> String {
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM outbox WHERE recipient = $1 AND kind = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(email)
    .bind(kind)
    .fetch_one(&app.pool)
    .await
    .expect("a mail");
    body.split_whitespace()
        .find(|w| w.contains(path))
        .expect("a link")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_stranger_who_pre_claims_an_invited_address_loses_it_to_the_invitation(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    // The stranger signs up first with B's address.
    let stranger = client();
    app.run_as(
        &stranger,
        fns::SignUp {
            email: "bea@example.com".into(),
            name: "Not Bea".into(),
            password: "the strangers own secret".into(),
        },
    )
    .await;
    let invited = app
        .run(fns::InviteMembers {
            addresses: "bea@example.com".into(),
            send_email: true,
            group_ids: Default::default(),
            all_projects: true,
            project_ids: Default::default(),
        })
        .await;
    assert!(invited.status().is_success());
    // B clicks the confirmation mail (which was for the stranger's account)
    // in her own browser: nothing is confirmed, nothing joined.
    let bea = client();
    let verify_token = mailed_link(&app, "bea@example.com", "verify_email", "/verify-email/").await;
    let click = app
        .run_as(
            &bea,
            fns::VerifyEmail {
                token: verify_token.to_owned(),
            },
        )
        .await;
    assert!(error_of(click).await.field_message("form").is_some());
    assert_eq!(
        app.count("SELECT count(*) FROM accounts WHERE email_verified_at IS NOT NULL AND email = 'bea@example.com'")
            .await,
        0
    );
    // B accepts her invitation by its link: the page asks a new person's
    // name and password, and she owns the account.
    let token = mailed_link(&app, "bea@example.com", "invitation", "/invite/").await;
    let preview: serde_json::Value = app
        .run_as(
            &bea,
            fns::InvitationPreview {
                token: token.to_owned(),
            },
        )
        .await
        .json()
        .await
        .expect("preview");
    assert_eq!(preview["has_account"].as_bool(), Some(false));
    let accepted = app
        .run_as(
            &bea,
            fns::AcceptInvitation {
                token: token.to_owned(),
                name: "Bea Real".into(),
                password: NEW_PASSWORD.to_owned(),
            },
        )
        .await;
    assert!(
        accepted.status().is_success() || accepted.status().is_redirection(),
        "{}",
        accepted.status()
    );
    // The stranger's session is dead and their password no longer works.
    let stale = app.run_as(&stranger, fns::CurrentUser {}).await;
    assert_eq!(error_of(stale).await, AppError::Unauthenticated);
    let old = app
        .run_as(
            &client(),
            fns::SignIn {
                email: "bea@example.com".into(),
                password: "the strangers own secret".into(),
            },
        )
        .await;
    assert_eq!(old.status(), 400);
    let me: serde_json::Value = app
        .run_as(&bea, fns::CurrentUser {})
        .await
        .json()
        .await
        .expect("me");
    assert_eq!(me["name"].as_str(), Some("Bea Real"));
    assert_eq!(
        app.count("SELECT count(*) FROM accounts WHERE email_verified_at IS NOT NULL AND email = 'bea@example.com'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'account.claimed'")
            .await,
        1
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_reset_link_works_once_ends_every_session_and_expires(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let laptop = client();
    assert!(app
        .run_as(
            &laptop,
            fns::SignIn {
                email: "ada@example.com".into(),
                password: GOOD_PASSWORD.to_owned()
            }
        )
        .await
        .status()
        .is_success());
    // The same answer for an unknown address, and no mail for it.
    for email in ["ada@example.com", "nobody@example.com"] {
        let asked = app
            .run_as(
                &client(),
                fns::RequestPasswordReset {
                    email: email.to_owned(),
                },
            )
            .await;
        assert_eq!(asked.status(), 200, "{email}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'password_reset'")
            .await,
        1
    );
    let token = mailed_link(
        &app,
        "ada@example.com",
        "password_reset",
        "/reset-password/",
    )
    .await;
    // Only its hash is stored.
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM password_resets WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(stored, 1);
    let phone = client();
    let short = app
        .run_as(
            &phone,
            fns::ResetPassword {
                token: token.to_owned(),
                password: "short".into(),
            },
        )
        .await;
    assert!(error_of(short).await.field_message("password").is_some());
    let done = app
        .run_as(
            &phone,
            fns::ResetPassword {
                token: token.to_owned(),
                password: NEW_PASSWORD.to_owned(),
            },
        )
        .await;
    assert!(
        done.status().is_success() || done.status().is_redirection(),
        "{}",
        done.status()
    );
    // Signed in on the phone; every other session ended.
    assert!(app
        .run_as(&phone, fns::CurrentUser {})
        .await
        .status()
        .is_success());
    for old in [&app.client, &laptop] {
        let stale = app.run_as(old, fns::CurrentUser {}).await;
        assert_eq!(error_of(stale).await, AppError::Unauthenticated);
    }
    // Used once: a second use is refused and changes nothing.
    let again = app
        .run_as(
            &client(),
            fns::ResetPassword {
                token: token.to_owned(),
                password: "yet another long one".into(),
            },
        )
        .await;
    assert!(error_of(again)
        .await
        .field_message("form")
        .is_some_and(|m| m.contains("expired or was already used")));
    assert!(app
        .sign_in("ada@example.com", NEW_PASSWORD)
        .await
        .status()
        .is_success());
    // The person is told, and it is audited.
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'security_notice' AND subject LIKE '%password was changed%'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'account.password_reset'")
            .await,
        1
    );
    // An expired link is refused.
    app.run_as(
        &client(),
        fns::RequestPasswordReset {
            email: "ada@example.com".into(),
        },
    )
    .await;
    let late = mailed_link(
        &app,
        "ada@example.com",
        "password_reset",
        "/reset-password/",
    )
    .await;
    sqlx::query(
        "UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
    )
    .execute(&app.pool)
    .await
    .expect("expire");
    let expired = app
        .run_as(
            &client(),
            fns::ResetPassword {
                token: late.to_owned(),
                password: "yet another long one".into(),
            },
        )
        .await;
    assert!(error_of(expired).await.field_message("form").is_some());
    assert!(app
        .sign_in("ada@example.com", NEW_PASSWORD)
        .await
        .status()
        .is_success());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn reset_requests_are_limited_per_address_and_bad_input_costs_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            app.run_as(
                &client(),
                fns::RequestPasswordReset {
                    email: "ada@example.com".into(),
                },
            )
            .await
            .status()
            .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'password_reset'")
            .await,
        3
    );
    // A 10 KB password is refused on its field before any hashing.
    let huge = "p".repeat(10 * 1024);
    let started = std::time::Instant::now();
    let refused = app.sign_in("ada@example.com", &huge).await;
    assert!(error_of(refused).await.field_message("password").is_some());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(
        app.count("SELECT count(*) FROM auth_throttles WHERE scope = 'sign_in_email'")
            .await,
        0,
        "a refused input is not a try"
    );
    let bad_link = app
        .run_as(
            &client(),
            fns::ResetPassword {
                token: "x".repeat(10 * 1024).to_owned(),
                password: NEW_PASSWORD.to_owned(),
            },
        )
        .await;
    assert!(error_of(bad_link).await.field_message("form").is_some());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn sign_ups_per_client_address_are_limited(pool: PgPool) {
    let settings = app::server::AuthSettings {
        sign_ups_per_ip_hour: 3,
        ..crate::helpers::settings()
    };
    let app = spawn_with(pool, settings).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(
            app.run_as(
                &client(),
                fns::SignUp {
                    email: format!("p{i}@example.com").as_str().to_owned(),
                    name: "Pat".into(),
                    password: GOOD_PASSWORD.to_owned(),
                },
            )
            .await
            .status()
            .as_u16(),
        );
    }
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    assert_eq!(statuses[3], 429);
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 3);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_forged_forwarded_for_is_ignored_unless_it_comes_through_a_trusted_proxy(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    app.run_as(
        &client(),
        fns::SignIn {
            email: "x@example.com".into(),
            password: "guess".into(),
        },
    )
    .await;
    let forged = client()
        .post(format!("{}/api/sign_in", app.base))
        .header("accept", "application/json")
        .header("x-forwarded-for", "203.0.113.9")
        .form(&[("email", "y@example.com"), ("password", "guess")])
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 400);
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT key FROM auth_throttles WHERE scope = 'sign_in_ip' ORDER BY key",
    )
    .fetch_all(&app.pool)
    .await
    .expect("keys");
    assert_eq!(keys, ["127.0.0.1"], "the header was not believed");

    // Behind a configured proxy, the hop before it is the client.
    let settings = app::server::AuthSettings {
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("net")],
        ..crate::helpers::settings()
    };
    let proxied = spawn_with(pool, settings).await;
    proxied
        .client
        .post(format!("{}/api/sign_in", proxied.base))
        .header("accept", "application/json")
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
        .form(&[("email", "z@example.com"), ("password", "guess")])
        .send()
        .await
        .expect("request");
    let seen: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auth_throttles WHERE scope = 'sign_in_ip' AND key = '203.0.113.7'",
    )
    .fetch_one(&proxied.pool)
    .await
    .expect("count");
    assert_eq!(seen, 1);
    // A client that puts its own address and junk in front of what the
    // proxy appends does not get its forged address believed.
    proxied
        .client
        .post(format!("{}/api/sign_in", proxied.base))
        .header("accept", "application/json")
        .header("x-forwarded-for", "192.0.2.66, not-an-address, 127.0.0.1")
        .form(&[("email", "w@example.com"), ("password", "guess")])
        .send()
        .await
        .expect("request");
    let forged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auth_throttles WHERE scope = 'sign_in_ip' AND key = '192.0.2.66'",
    )
    .fetch_one(&proxied.pool)
    .await
    .expect("count");
    assert_eq!(forged, 0);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_email_change_asked_for_before_a_reset_dies_with_the_old_password(pool: PgPool) {
    let app = spawn(pool).await;
    // The stranger holds an unconfirmed account on the victim's address and
    // asks to move it to their own address, keeping the link for later.
    app.sign_up("victim@example.com", "Not Victim", GOOD_PASSWORD)
        .await;
    let asked = app
        .run(fns::RequestEmailChange {
            new_email: "thief@example.com".into(),
            password: GOOD_PASSWORD.to_owned(),
        })
        .await;
    assert!(asked.status().is_success(), "{}", asked.status());
    let held = mailed_link(&app, "thief@example.com", "email_change", "/email-change/").await;
    // The victim resets the password from their mailbox.
    app.run_as(
        &client(),
        fns::RequestPasswordReset {
            email: "victim@example.com".into(),
        },
    )
    .await;
    let token = mailed_link(
        &app,
        "victim@example.com",
        "password_reset",
        "/reset-password/",
    )
    .await;
    let reset = app
        .run_as(
            &client(),
            fns::ResetPassword {
                token: token.to_owned(),
                password: NEW_PASSWORD.to_owned(),
            },
        )
        .await;
    assert!(reset.status().is_success() || reset.status().is_redirection());
    // The held link no longer moves the account.
    let late = app
        .run_as(
            &client(),
            fns::ConfirmEmailChange {
                token: held.to_owned(),
            },
        )
        .await;
    assert!(error_of(late).await.field_message("form").is_some());
    assert_eq!(
        app.count("SELECT count(*) FROM accounts WHERE email = 'victim@example.com'")
            .await,
        1
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn ending_all_other_sessions_leaves_only_this_one(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let others: Vec<reqwest::Client> = (0..3).map(|_| client()).collect();
    for other in &others {
        assert!(app
            .run_as(
                other,
                fns::SignIn {
                    email: "ada@example.com".into(),
                    password: GOOD_PASSWORD.to_owned()
                }
            )
            .await
            .status()
            .is_success());
    }
    let listed: serde_json::Value = app
        .run(fns::MySessions {})
        .await
        .json()
        .await
        .expect("list");
    let listed = listed.as_array().expect("sessions");
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[0]["this_device"].as_bool(), Some(true));
    assert_eq!(
        listed.iter().filter(|s| s["this_device"] == true).count(),
        1
    );
    // End one by its id; then all the others.
    let one = listed[1]["id"].as_i64().expect("id");
    assert!(app
        .run(fns::EndSession { session_id: one })
        .await
        .status()
        .is_success());
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 3);
    let ended: u64 = app
        .run(fns::EndOtherSessions {})
        .await
        .json()
        .await
        .expect("count");
    assert_eq!(ended, 2);
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 1);
    for other in &others {
        let stale = app.run_as(other, fns::CurrentUser {}).await;
        assert_eq!(error_of(stale).await, AppError::Unauthenticated);
    }
    assert!(app.run(fns::CurrentUser {}).await.status().is_success());
    // Someone else's session id is not found, not ended.
    let bob = client();
    app.run_as(
        &bob,
        fns::SignUp {
            email: "bob@example.com".into(),
            name: "Bob".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    let bobs: i64 = sqlx::query_scalar("SELECT s.id FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE a.email = 'bob@example.com'")
        .fetch_one(&app.pool)
        .await
        .expect("bob's session");
    let foreign = app.run(fns::EndSession { session_id: bobs }).await;
    assert_eq!(error_of(foreign).await, AppError::NotFound);
    assert!(app
        .run_as(&bob, fns::CurrentUser {})
        .await
        .status()
        .is_success());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn unconfirmed_idle_accounts_are_removed_after_their_time(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("idle@example.com", "Idle", GOOD_PASSWORD).await;
    app.run_as(
        &client(),
        fns::SignUp {
            email: "fresh@example.com".into(),
            name: "Fresh".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    sqlx::query(
        "UPDATE accounts SET created_at = now() - interval '73 hours' WHERE email = 'idle@example.com';",
    )
    .execute(&app.pool)
    .await
    .expect("age");
    sqlx::query(
        "UPDATE sessions SET last_seen_at = now() - interval '73 hours'
                  WHERE account_id = (SELECT id FROM accounts WHERE email = 'idle@example.com')",
    )
    .execute(&app.pool)
    .await
    .expect("idle");
    let mut conn = app.pool.acquire().await.expect("conn");
    let removed = app::server::accounts::purge_unconfirmed(&mut conn, &crate::helpers::settings())
        .await
        .expect("purge");
    assert_eq!(removed, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM accounts WHERE email = 'idle@example.com'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM accounts WHERE email = 'fresh@example.com'")
            .await,
        1
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn changing_the_password_needs_the_current_one_and_can_end_the_other_sessions(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let laptop = client();
    app.run_as(
        &laptop,
        fns::SignIn {
            email: "ada@example.com".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    let wrong = app
        .run(fns::ChangePassword {
            current_password: "not it at all".into(),
            new_password: NEW_PASSWORD.to_owned(),
            end_other_sessions: true,
        })
        .await;
    assert!(error_of(wrong)
        .await
        .field_message("current_password")
        .is_some());
    let weak = app
        .run(fns::ChangePassword {
            current_password: GOOD_PASSWORD.to_owned(),
            new_password: "password123".into(),
            end_other_sessions: true,
        })
        .await;
    assert!(error_of(weak).await.field_message("new_password").is_some());
    let changed = app
        .run(fns::ChangePassword {
            current_password: GOOD_PASSWORD.to_owned(),
            new_password: NEW_PASSWORD.to_owned(),
            end_other_sessions: true,
        })
        .await;
    assert!(changed.status().is_success(), "{}", changed.status());
    let ended: u64 = changed.json().await.expect("count");
    assert_eq!(ended, 1);
    assert!(app.run(fns::CurrentUser {}).await.status().is_success());
    let stale = app.run_as(&laptop, fns::CurrentUser {}).await;
    assert_eq!(error_of(stale).await, AppError::Unauthenticated);
    assert_eq!(
        app.sign_in("ada@example.com", GOOD_PASSWORD).await.status(),
        400
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM outbox WHERE subject = 'Your Teamroom password was changed'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_owner_unlocks_a_members_locked_account_and_no_one_else_can(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    let invited = app
        .run(fns::InviteMembers {
            addresses: "mia@example.com".into(),
            send_email: true,
            group_ids: Default::default(),
            all_projects: true,
            project_ids: Default::default(),
        })
        .await;
    assert!(invited.status().is_success());
    let token = mailed_link(&app, "mia@example.com", "invitation", "/invite/").await;
    let mia = client();
    app.run_as(
        &mia,
        fns::AcceptInvitation {
            token: token.to_owned(),
            name: "Mia Member".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    let membership: i64 = sqlx::query_scalar(
        "SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = 'mia@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("membership");
    let (_, refused, _) = burst(&app, "mia@example.com", 10).await;
    assert!(refused >= 5);
    // A plain member may not unlock (403, not 404 or 400).
    let own = app
        .run_as(
            &mia,
            fns::UnlockMember {
                membership_id: membership,
            },
        )
        .await;
    assert_eq!(own.status(), 403);
    // Another workspace's owner does not find her.
    let stranger = client();
    app.run_as(
        &stranger,
        fns::SignUp {
            email: "sam@example.com".into(),
            name: "Sam Stranger".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    let foreign = app
        .run_as(
            &stranger,
            fns::UnlockMember {
                membership_id: membership,
            },
        )
        .await;
    assert_eq!(foreign.status(), 404);
    let still = app
        .run_as(
            &client(),
            fns::SignIn {
                email: "mia@example.com".into(),
                password: GOOD_PASSWORD.to_owned(),
            },
        )
        .await;
    assert_eq!(still.status(), 429);
    // The owner unlocks: a new browser signs in with the right password.
    let unlocked = app
        .run(fns::UnlockMember {
            membership_id: membership,
        })
        .await;
    assert!(unlocked.status().is_success(), "{}", unlocked.status());
    let now = app
        .run_as(
            &client(),
            fns::SignIn {
                email: "mia@example.com".into(),
                password: GOOD_PASSWORD.to_owned(),
            },
        )
        .await;
    assert!(
        now.status().is_success() || now.status().is_redirection(),
        "{}",
        now.status()
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'member.unlocked'")
            .await,
        1
    );
}
