//! Two-factor: enrolment, the code step of signing in, replayed and
//! recovery codes, resets that do not skip it, and the workspace policy.

use app::error::AppError;
use sqlx::PgPool;
use totp_rs::{Builder, Secret};

use crate::helpers::{audit_count, client, error_of, fns, spawn, Call, TestApp, GOOD_PASSWORD};

/// The code an authenticator app shows `offset_steps` steps from now.
fn code_for(key: &str, offset_steps: i64) -> String {
    let secret = Secret::try_from_base32(key.replace('-', "")).expect("base32 key");
    let totp = Builder::new().with_secret(secret).build().expect("totp");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    totp.generate((now + offset_steps * 30) as u64).to_string()
}

/// Turns two-factor on for the browser's account; answers (key, recovery
/// codes, the code that confirmed it). The code is kept as it was sent: a
/// replay test that computed it again could land in the next 30-second step
/// and send a fresh, valid code.
async fn enrol(app: &TestApp, browser: &reqwest::Client) -> (String, Vec<String>, String) {
    let enrolment: serde_json::Value = app
        .run_as(browser, fns::BeginTwoFactor {})
        .await
        .json()
        .await
        .expect("enrolment");
    let key = enrolment["key"].as_str().expect("key").to_owned();
    assert!(enrolment["qr_svg"]
        .as_str()
        .is_some_and(|s| s.contains("<svg")));
    assert!(enrolment["otpauth_url"]
        .as_str()
        .is_some_and(|u| u.starts_with("otpauth://totp/Teamroom")));
    let confirming = code_for(&key, 0);
    let confirmed = app
        .run_as(
            browser,
            fns::ConfirmTwoFactor {
                password: GOOD_PASSWORD.to_owned(),
                code: confirming.to_owned(),
            },
        )
        .await;
    assert!(confirmed.status().is_success(), "{}", confirmed.status());
    let codes: Vec<String> = confirmed.json().await.expect("codes");
    (key, codes, confirming)
}

async fn password_step(
    app: &TestApp,
    browser: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.run_as(
        browser,
        fns::SignIn {
            email: email.to_owned(),
            password: password.to_owned(),
        },
    )
    .await
}

fn redirected_to(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .or_else(|| response.headers().get("serverfnredirect"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn enrolment_confirms_with_a_code_and_gives_ten_single_use_recovery_codes(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let begun: serde_json::Value = app
        .run(fns::BeginTwoFactor {})
        .await
        .json()
        .await
        .expect("begin");
    let key = begun["key"].as_str().expect("key").to_owned();
    // Bad input: letters, wrong length, 10 KB; each on its field.
    for bad in ["12ab56", "12345", &"9".repeat(10 * 1024)] {
        let refused = app
            .run(fns::ConfirmTwoFactor {
                password: GOOD_PASSWORD.to_owned(),
                code: bad.to_owned(),
            })
            .await;
        assert!(
            error_of(refused).await.field_message("code").is_some(),
            "{bad}"
        );
    }
    let wrong = app
        .run(fns::ConfirmTwoFactor {
            password: GOOD_PASSWORD.to_owned(),
            code: "000000".into(),
        })
        .await;
    assert!(error_of(wrong).await.field_message("code").is_some());
    // A session alone (a stolen cookie) cannot put its own app in front of
    // the account: the password is asked.
    let no_password = app
        .run(fns::ConfirmTwoFactor {
            password: "not it".into(),
            code: code_for(&key, 0).to_owned(),
        })
        .await;
    assert!(error_of(no_password)
        .await
        .field_message("password")
        .is_some());
    assert_eq!(
        app.count("SELECT count(*) FROM two_factor WHERE enabled_at IS NOT NULL")
            .await,
        0
    );
    // Spaces and dashes are fine.
    let code = code_for(&key, 0);
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let codes: Vec<String> = app
        .run(fns::ConfirmTwoFactor {
            password: GOOD_PASSWORD.to_owned(),
            code: spaced.to_owned(),
        })
        .await
        .json()
        .await
        .expect("codes");
    assert_eq!(codes.len(), 10);
    for code in &codes {
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(code.matches('-').count(), 3);
    }
    // Only hashes are stored.
    let plain = codes[0].replace('-', "");
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM recovery_codes WHERE code_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(&plain)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(stored, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'security_notice' AND subject LIKE 'Two-factor%on'").await,
        1
    );
    // A second enrolment cannot silently replace the key.
    let again = app.run(fns::BeginTwoFactor {}).await;
    assert!(matches!(error_of(again).await, AppError::Conflict(_)));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn sign_in_asks_for_the_code_refuses_a_replay_and_takes_a_recovery_code_once(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let (key, codes, confirming) = enrol(&app, &app.client).await;

    let laptop = client();
    let first = password_step(&app, &laptop, "ada@example.com", GOOD_PASSWORD).await;
    assert!(first.status().is_success() || first.status().is_redirection());
    assert!(
        redirected_to(&first).contains("/signin/two-factor"),
        "{:?}",
        first.headers()
    );
    // Half signed in: nothing but the code form answers.
    for call in [
        Call::form(fns::CurrentUser {}),
        Call::form(fns::MySessions {}),
        Call::form(fns::TwoFactorStatus {}),
    ] {
        let endpoint = call.name();
        let refused = app.send_with(&laptop, call).await;
        assert_eq!(
            error_of(refused).await,
            AppError::Unauthenticated,
            "{endpoint}"
        );
    }
    // The code enrolment used is spent: its time step cannot sign in.
    let replay = app
        .run_as(
            &laptop,
            fns::VerifyTwoFactor {
                code: confirming.to_owned(),
            },
        )
        .await;
    assert!(error_of(replay).await.field_message("code").is_some());
    // The next step's code (the app's clock may be ahead) works, once.
    let next = code_for(&key, 1);
    let signed_in = app
        .run_as(
            &laptop,
            fns::VerifyTwoFactor {
                code: next.to_owned(),
            },
        )
        .await;
    assert!(
        signed_in.status().is_success() || signed_in.status().is_redirection(),
        "{}",
        signed_in.status()
    );
    assert!(app
        .run_as(&laptop, fns::CurrentUser {})
        .await
        .status()
        .is_success());
    let phone = client();
    password_step(&app, &phone, "ada@example.com", GOOD_PASSWORD).await;
    let replayed = app
        .run_as(
            &phone,
            fns::VerifyTwoFactor {
                code: next.to_owned(),
            },
        )
        .await;
    assert!(error_of(replayed).await.field_message("code").is_some());

    // A recovery code works once (typed in capitals without dashes).
    let typed = codes[3].replace('-', "").to_uppercase();
    let recovered = app
        .run_as(
            &phone,
            fns::VerifyTwoFactor {
                code: typed.to_owned(),
            },
        )
        .await;
    assert!(
        recovered.status().is_success() || recovered.status().is_redirection(),
        "{}",
        recovered.status()
    );
    assert!(app
        .run_as(&phone, fns::CurrentUser {})
        .await
        .status()
        .is_success());
    let tablet = client();
    password_step(&app, &tablet, "ada@example.com", GOOD_PASSWORD).await;
    let again = app
        .run_as(
            &tablet,
            fns::VerifyTwoFactor {
                code: codes[3].to_owned(),
            },
        )
        .await;
    assert!(error_of(again).await.field_message("code").is_some());
    assert_eq!(
        app.count(
            "SELECT count(*) FROM outbox WHERE subject = 'A recovery code was used to sign in'"
        )
        .await,
        1
    );
    // Without the password step there is no code form to use.
    let stranger = app
        .run_as(
            &client(),
            fns::VerifyTwoFactor {
                code: code_for(&key, 1).to_owned(),
            },
        )
        .await;
    assert!(error_of(stranger).await.field_message("form").is_some());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_code_step_expires_and_is_throttled_like_passwords(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let (key, _, _) = enrol(&app, &app.client).await;
    let laptop = client();
    password_step(&app, &laptop, "ada@example.com", GOOD_PASSWORD).await;
    // Forty wrong codes at once: at most the five free ones are checked.
    let guesses = (0..40).map(|i| {
        let app = &app;
        let laptop = &laptop;
        async move {
            app.run_as(
                laptop,
                fns::VerifyTwoFactor {
                    code: format!("{:06}", 100_000 + i),
                },
            )
            .await
            .status()
            .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 400).count();
    assert!(checked <= 5, "{checked} codes checked");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 40 - checked);
    // Even the right code waits now.
    let right = app
        .run_as(
            &laptop,
            fns::VerifyTwoFactor {
                code: code_for(&key, 1).to_owned(),
            },
        )
        .await;
    assert_eq!(right.status(), 429);
    // Five minutes later the half-signed-in state is over.
    sqlx::query("DELETE FROM auth_throttles")
        .execute(&app.pool)
        .await
        .expect("reset");
    sqlx::query("UPDATE two_factor_challenges SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .expect("expire");
    let late = app
        .run_as(
            &laptop,
            fns::VerifyTwoFactor {
                code: code_for(&key, 1).to_owned(),
            },
        )
        .await;
    assert!(error_of(late)
        .await
        .field_message("form")
        .is_some_and(|m| m.contains("took too long")));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_password_reset_does_not_skip_two_factor(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let (key, _, _) = enrol(&app, &app.client).await;
    // A confirmed address (on an unconfirmed one a reset is a takeover by
    // the mailbox's owner and clears what the previous holder set up).
    sqlx::query("UPDATE accounts SET email_verified_at = now()")
        .execute(&app.pool)
        .await
        .expect("verify");
    app.run_as(
        &client(),
        fns::RequestPasswordReset {
            email: "ada@example.com".into(),
        },
    )
    .await;
    let body: String =
        sqlx::query_scalar("SELECT body_text FROM outbox WHERE kind = 'password_reset'")
            .fetch_one(&app.pool)
            .await
            .expect("mail");
    let token = body
        .split_whitespace()
        .find(|w| w.contains("/reset-password/"))
        .and_then(|l| l.rsplit('/').next())
        .expect("link")
        .to_owned();
    let phone = client();
    let reset = app
        .run_as(
            &phone,
            fns::ResetPassword {
                token: token.to_owned(),
                password: "a brand new harbour light".into(),
            },
        )
        .await;
    assert!(reset.status().is_success() || reset.status().is_redirection());
    assert!(redirected_to(&reset).contains("/signin/two-factor"));
    let me = app.run_as(&phone, fns::CurrentUser {}).await;
    assert_eq!(error_of(me).await, AppError::Unauthenticated);
    let done = app
        .run_as(
            &phone,
            fns::VerifyTwoFactor {
                code: code_for(&key, 1).to_owned(),
            },
        )
        .await;
    assert!(done.status().is_success() || done.status().is_redirection());
    assert!(app
        .run_as(&phone, fns::CurrentUser {})
        .await
        .status()
        .is_success());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn turning_two_factor_off_needs_the_password_and_a_code(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("ada@example.com", "Ada", GOOD_PASSWORD).await;
    let (key, codes, _) = enrol(&app, &app.client).await;
    let no_password = app
        .run(fns::DisableTwoFactor {
            password: "not it".into(),
            code: code_for(&key, 1).to_owned(),
        })
        .await;
    assert!(error_of(no_password)
        .await
        .field_message("password")
        .is_some());
    let no_code = app
        .run(fns::DisableTwoFactor {
            password: GOOD_PASSWORD.to_owned(),
            code: "000000".into(),
        })
        .await;
    assert!(error_of(no_code).await.field_message("code").is_some());
    assert_eq!(app.count("SELECT count(*) FROM two_factor").await, 1);
    // Regenerating the recovery codes needs the password; the old ones die.
    let fresh: Vec<String> = app
        .run(fns::RegenerateRecoveryCodes {
            password: GOOD_PASSWORD.to_owned(),
        })
        .await
        .json()
        .await
        .expect("codes");
    assert_eq!(fresh.len(), 10);
    let old = app
        .run(fns::DisableTwoFactor {
            password: GOOD_PASSWORD.to_owned(),
            code: codes[0].to_owned(),
        })
        .await;
    assert!(error_of(old).await.field_message("code").is_some());
    let off = app
        .run(fns::DisableTwoFactor {
            password: GOOD_PASSWORD.to_owned(),
            code: fresh[0].to_owned(),
        })
        .await;
    assert!(off.status().is_success(), "{}", off.status());
    assert_eq!(app.count("SELECT count(*) FROM two_factor").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM recovery_codes").await, 0);
    // Signing in needs only the password again.
    let laptop = client();
    password_step(&app, &laptop, "ada@example.com", GOOD_PASSWORD).await;
    assert!(app
        .run_as(&laptop, fns::CurrentUser {})
        .await
        .status()
        .is_success());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_workspace_can_require_two_factor_of_owners_and_admins(pool: PgPool) {
    let app = spawn(pool).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    // Not before the Owner has it.
    let early = app.run(fns::SetWorkspaceTwoFactor { required: true }).await;
    assert!(error_of(early).await.field_message("required").is_some());
    enrol(&app, &app.client).await;
    let set = app.run(fns::SetWorkspaceTwoFactor { required: true }).await;
    assert!(set.status().is_success(), "{}", set.status());
    const POLICY: &str = "workspace.two_factor_policy_changed";
    assert_eq!(audit_count(&app, POLICY).await, 1);
    // Required again is not a change: answered, not audited a second time.
    let again = app.run(fns::SetWorkspaceTwoFactor { required: true }).await;
    assert!(again.status().is_success(), "{}", again.status());
    assert_eq!(audit_count(&app, POLICY).await, 1);
    // An Admin without two-factor is sent to enrol: workspace calls refuse
    // with the reason, their profile still answers.
    let admin = client();
    app.run_as(
        &admin,
        fns::SignUp {
            email: "adam@example.com".into(),
            name: "Adam Admin".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    let workspace_id: i64 =
        sqlx::query_scalar("SELECT id FROM workspaces WHERE name LIKE 'Olive%'")
            .fetch_one(&app.pool)
            .await
            .expect("workspace");
    let adam: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE email = 'adam@example.com'")
        .fetch_one(&app.pool)
        .await
        .expect("adam");
    sqlx::query(
        "INSERT INTO memberships (workspace_id, account_id, kind, status, is_admin) VALUES ($1, $2, 'full', 'active', true)",
    )
    .bind(workspace_id)
    .bind(adam)
    .execute(&app.pool)
    .await
    .expect("admin");
    app.run_as(&admin, fns::SwitchWorkspace { workspace_id })
        .await;
    let me: serde_json::Value = app
        .run_as(&admin, fns::CurrentUser {})
        .await
        .json()
        .await
        .expect("me");
    assert_eq!(me["must_enrol_two_factor"].as_bool(), Some(true));
    let refused = app
        .run_as(
            &admin,
            fns::ListMembers {
                view: Default::default(),
                after: None,
            },
        )
        .await;
    assert!(matches!(error_of(refused).await, AppError::Conflict(m) if m.contains("two-factor")));
    let profile = app
        .run_as(
            &admin,
            fns::ProfileOf {
                membership_id: None,
            },
        )
        .await;
    assert!(profile.status().is_success(), "{}", profile.status());
    // Once they turn it on, they are let in.
    enrol(&app, &admin).await;
    let me: serde_json::Value = app
        .run_as(&admin, fns::CurrentUser {})
        .await
        .json()
        .await
        .expect("me");
    assert_eq!(me["must_enrol_two_factor"].as_bool(), Some(false));
    assert!(app
        .run_as(
            &admin,
            fns::ListMembers {
                view: Default::default(),
                after: None
            }
        )
        .await
        .status()
        .is_success());
    // Only the Owner sets the policy.
    let not_owner = app
        .run_as(&admin, fns::SetWorkspaceTwoFactor { required: false })
        .await;
    assert_eq!(error_of(not_owner).await, AppError::Forbidden);
    let still_required: bool =
        sqlx::query_scalar("SELECT require_two_factor FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_one(&app.pool)
            .await
            .expect("policy");
    assert!(still_required, "the Admin's attempt changed nothing");
    assert_eq!(audit_count(&app, POLICY).await, 1);
}
