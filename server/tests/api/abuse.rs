//! Abuse drills for invitation mail and Kiosk devices, each written as the
//! attack: an account spraying invitations over workspaces it owns, one
//! address invited by many workspaces, a stranger resending or +tagging to
//! use up a mailbox's share, a workspace factory, revoke and
//! re-invite to dodge the resend cool-down; Kiosk tokens left unused, kept
//! by a launcher who lost the role, and ended from Settings.

use app::{error::AppError, server::AuthSettings};
use sqlx::PgPool;

use crate::{
    helpers::{error_of, fns, settings, spawn_with, TestApp, GOOD_PASSWORD},
    lifecycle::{member, other_workspace, owner_app, Person},
};

async fn invite(app: &TestApp, who: &reqwest::Client, addresses: &str) -> reqwest::Response {
    app.run_as(
        who,
        fns::InviteMembers {
            addresses: addresses.to_owned(),
            send_email: true,
            group_ids: Default::default(),
            all_projects: true,
            project_ids: Default::default(),
        },
    )
    .await
}

async fn invitation_mails(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM outbox WHERE kind = 'invitation' AND cancelled_at IS NULL")
        .await
}

async fn create_workspace(app: &TestApp, who: &reqwest::Client, name: &str) -> reqwest::Response {
    app.run_as(
        who,
        fns::CreateWorkspace {
            name: name.to_owned(),
        },
    )
    .await
}

fn ok(response: &reqwest::Response) {
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_account_spraying_invitations_over_its_workspaces_hits_its_own_limit(pool: PgPool) {
    let app = spawn_with(
        pool,
        AuthSettings {
            invitation_mails_per_account_hour: 5,
            ..settings()
        },
    )
    .await;
    ok(&app
        .sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await);
    let me = &app.client;
    // Two mails from each workspace she owns: each workspace is far below
    // its own hourly limit, the account is not.
    ok(&invite(&app, me, "a1@example.com, a2@example.com").await);
    ok(&create_workspace(&app, me, "Second").await);
    ok(&invite(&app, me, "b1@example.com, b2@example.com").await);
    ok(&create_workspace(&app, me, "Third").await);
    let refused = invite(&app, me, "c1@example.com, c2@example.com").await;
    let message = error_of(refused)
        .await
        .field_message("addresses")
        .expect("a message by the address box");
    assert!(
        message.contains("at most 5 invitation emails an hour") && message.contains("1 left"),
        "{message}"
    );
    // The refused batch changed nothing: no pending member, no mail.
    assert_eq!(invitation_mails(&app).await, 4);
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE invited_email LIKE 'c%'")
            .await,
        0
    );
    // What is left still goes, then nothing more, from any workspace.
    ok(&invite(&app, me, "c1@example.com").await);
    let refused = invite(&app, me, "c2@example.com").await;
    assert!(error_of(refused).await.field_message("addresses").is_some());
    assert_eq!(invitation_mails(&app).await, 5);
    // Not even a resend slips through.
    sqlx::query("UPDATE invitations SET created_at = created_at - interval '5 minutes'")
        .execute(&app.pool)
        .await
        .expect("age the invitations");
    let pending: i64 =
        sqlx::query_scalar("SELECT id FROM memberships WHERE invited_email = 'c1@example.com'")
            .fetch_one(&app.pool)
            .await
            .expect("pending member");
    let resend = app
        .run(fns::SendInvite {
            membership_id: pending,
        })
        .await;
    match error_of(resend).await {
        AppError::Conflict(message) => assert!(message.contains("at most 5"), "{message}"),
        other => panic!("expected the account limit, got {other:?}"),
    }
    assert_eq!(invitation_mails(&app).await, 5);
}

/// A new account with a workspace of its own, signed in on its own client.
async fn stranger(app: &TestApp, n: usize) -> reqwest::Client {
    let owner = crate::helpers::client();
    ok(&app
        .run_as(
            &owner,
            fns::SignUp {
                email: format!("owner{n}@example.com"),
                name: format!("Owner {n}"),
                password: GOOD_PASSWORD.to_owned(),
            },
        )
        .await);
    owner
}

/// Resends stranger `n`'s pending invitation to `email` once its
/// cool-down is over (the invitations are aged past it).
async fn resend(app: &TestApp, who: &reqwest::Client, n: usize, email: &str) -> reqwest::Response {
    sqlx::query("UPDATE invitations SET created_at = created_at - interval '5 minutes'")
        .execute(&app.pool)
        .await
        .expect("age the invitations");
    let pending: i64 = sqlx::query_scalar(
        "SELECT i.membership_id FROM invitations i JOIN accounts a ON a.id = i.invited_by_account_id
          WHERE i.email = $1 AND a.email = $2 ORDER BY i.id DESC LIMIT 1",
    )
    .bind(email)
    .bind(format!("owner{n}@example.com"))
    .fetch_one(&app.pool)
    .await
    .expect("pending member");
    app.run_as(
        who,
        fns::SendInvite {
            membership_id: pending,
        },
    )
    .await
}

async fn mails_to_mailbox(app: &TestApp) -> i64 {
    app.count(
        "SELECT count(*) FROM outbox WHERE kind = 'invitation' AND lower(recipient) LIKE 'victim%@example.com'",
    )
    .await
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn one_address_invited_by_many_strangers_hits_its_daily_limit(pool: PgPool) {
    let auth = AuthSettings {
        invitation_senders_per_address_day: 3,
        ..settings()
    };
    let app = spawn_with(pool, auth).await;
    let mut refused_message = None;
    // Four strangers, each with a workspace of their own, all invite the
    // same mailbox (in any spelling of its case, or with a +tag).
    for (n, spelled) in [
        "Victim@Example.com",
        "victim@example.com",
        "VICTIM+invite@example.com",
        "victim+other@EXAMPLE.com",
    ]
    .into_iter()
    .enumerate()
    {
        let owner = stranger(&app, n).await;
        let response = invite(&app, &owner, &format!("{spelled}, friend{n}@example.com")).await;
        if n < 3 {
            ok(&response);
        } else {
            refused_message = error_of(response).await.field_message("addresses");
        }
    }
    let message = refused_message.expect("the fourth workspace is refused by the address box");
    assert!(
        message.contains("victim+other@example.com")
            && message.contains("from at most 3 people a day")
            && !message.contains("friend3"),
        "{message}"
    );
    assert_eq!(mails_to_mailbox(&app).await, 3);
    // The whole refused batch is left out, the other address too.
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE recipient = 'friend3@example.com'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE lower(invited_email) LIKE 'victim%'")
            .await,
        3
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_stranger_resending_or_tagging_uses_up_only_their_own_share_of_a_mailbox(pool: PgPool) {
    let auth = AuthSettings {
        invitation_mails_per_sender_and_address_day: 3,
        invitation_senders_per_address_day: 3,
        ..settings()
    };
    let app = spawn_with(pool, auth).await;
    let spammer = stranger(&app, 1).await;
    ok(&invite(&app, &spammer, "victim@example.com").await);
    ok(&resend(&app, &spammer, 1, "victim@example.com").await);
    ok(&resend(&app, &spammer, 1, "victim@example.com").await);
    // The fourth mail from the same person is refused, and so is a +tag
    // spelling of the same mailbox, alone or in a batch.
    match error_of(resend(&app, &spammer, 1, "victim@example.com").await).await {
        AppError::Conflict(message) => assert!(
            message.contains(
                "victim@example.com would get more than 3 invitation emails from you today"
            ),
            "{message}"
        ),
        other => panic!("expected the sender's share, got {other:?}"),
    }
    let tagged = invite(&app, &spammer, "victim+1@example.com, friend@example.com").await;
    let message = error_of(tagged)
        .await
        .field_message("addresses")
        .expect("a message by the address box");
    assert!(
        message.contains("victim+1@example.com") && message.contains("+tag"),
        "{message}"
    );
    assert_eq!(mails_to_mailbox(&app).await, 3);
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE invited_email = 'friend@example.com'")
            .await,
        0
    );
    // Someone else's invitation to that mailbox still goes out, twice.
    let colleague = stranger(&app, 2).await;
    ok(&invite(&app, &colleague, "Victim@example.com").await);
    ok(&resend(&app, &colleague, 2, "Victim@example.com").await);
    assert_eq!(mails_to_mailbox(&app).await, 5);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_tagged_batch_to_one_mailbox_counts_every_spelling(pool: PgPool) {
    let auth = AuthSettings {
        invitation_mails_per_sender_and_address_day: 3,
        ..settings()
    };
    let app = spawn_with(pool, auth).await;
    let spammer = stranger(&app, 1).await;
    let batch = (1..=4)
        .map(|n| format!("victim+{n}@example.com"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = error_of(invite(&app, &spammer, &batch).await)
        .await
        .field_message("addresses")
        .expect("a message by the address box");
    assert!(
        message.contains("victim+1@example.com") && message.contains("victim+4@example.com"),
        "{message}"
    );
    assert_eq!(mails_to_mailbox(&app).await, 0);
    // Three spellings fit the share, a QA tester's usual batch.
    ok(&invite(
        &app,
        &spammer,
        "victim+1@example.com, victim+2@example.com, victim+3@example.com",
    )
    .await);
    assert_eq!(mails_to_mailbox(&app).await, 3);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_sender_counted_today_can_still_resend_after_strangers_fill_the_mailbox(pool: PgPool) {
    let auth = AuthSettings {
        invitation_senders_per_address_day: 2,
        ..settings()
    };
    let app = spawn_with(pool, auth).await;
    let real = stranger(&app, 1).await;
    ok(&invite(&app, &real, "victim@example.com").await);
    let first = stranger(&app, 2).await;
    ok(&invite(&app, &first, "victim+spam@example.com").await);
    let second = stranger(&app, 3).await;
    let message = error_of(invite(&app, &second, "victim@example.com").await)
        .await
        .field_message("addresses")
        .expect("a message by the address box");
    assert!(message.contains("from at most 2 people a day"), "{message}");
    // The real sender was counted before the flood and is not refused.
    ok(&resend(&app, &real, 1, "victim@example.com").await);
    assert_eq!(mails_to_mailbox(&app).await, 3);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_account_creates_only_so_many_workspaces_a_day(pool: PgPool) {
    let app = spawn_with(
        pool,
        AuthSettings {
            workspaces_per_account_day: 3,
            ..settings()
        },
    )
    .await;
    ok(&app
        .sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await);
    for n in 1..=3 {
        ok(&create_workspace(&app, &app.client, &format!("Spare {n}")).await);
    }
    let refused = create_workspace(&app, &app.client, "One too many").await;
    let message = error_of(refused)
        .await
        .field_message("name")
        .expect("a message by the name box");
    assert!(message.contains("at most 3 workspaces a day"), "{message}");
    // The sign-up's workspace and three more; the refused one is not there.
    assert_eq!(app.count("SELECT count(*) FROM workspaces").await, 4);
    assert_eq!(
        app.count("SELECT count(*) FROM workspaces WHERE name = 'One too many'")
            .await,
        0
    );
    // Another account has its own allowance.
    let other = crate::helpers::client();
    ok(&app
        .run_as(
            &other,
            fns::SignUp {
                email: "otto@example.com".into(),
                name: "Otto Other".into(),
                password: GOOD_PASSWORD.to_owned(),
            },
        )
        .await);
    ok(&create_workspace(&app, &other, "Otto's second").await);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn revoking_and_inviting_again_does_not_reset_the_resend_cooldown(pool: PgPool) {
    let (app, _, _) = owner_app(pool).await;
    let pending = |email: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM memberships WHERE invited_email = $1 AND status = 'pending'",
            )
            .bind(email)
            .fetch_one(&pool)
            .await
            .expect("pending member")
        }
    };
    ok(&invite(&app, &app.client, "pat@example.com").await);
    let first = pending("pat@example.com").await;
    ok(&app
        .run(fns::RevokeInvite {
            membership_id: first,
        })
        .await);
    // Invited again with the mail at once: refused by the address box.
    let again = invite(&app, &app.client, "pat@example.com").await;
    let message = error_of(again)
        .await
        .field_message("addresses")
        .expect("a message by the address box");
    assert!(message.contains("less than a minute ago"), "{message}");
    // Invited again without the mail, then "Send invite": still waiting.
    let quiet = app
        .run(fns::InviteMembers {
            addresses: "pat@example.com".into(),
            send_email: false,
            group_ids: Default::default(),
            all_projects: true,
            project_ids: Default::default(),
        })
        .await;
    ok(&quiet);
    let second = pending("pat@example.com").await;
    assert_ne!(first, second);
    let send = app
        .run(fns::SendInvite {
            membership_id: second,
        })
        .await;
    assert!(matches!(
        error_of(send).await,
        AppError::RateLimited { retry_after_secs } if retry_after_secs > 0 && retry_after_secs <= 60
    ));
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE recipient = 'pat@example.com'")
            .await,
        1
    );
    // A minute later it goes.
    sqlx::query("UPDATE invitations SET created_at = created_at - interval '61 seconds'")
        .execute(&app.pool)
        .await
        .expect("age the invitation");
    ok(&app
        .run(fns::SendInvite {
            membership_id: second,
        })
        .await);
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE recipient = 'pat@example.com'")
            .await,
        2
    );
}

// ---- Kiosk devices ----

async fn kiosk_works(app: &TestApp, device: &reqwest::Client) -> bool {
    let response = app
        .run_as(
            device,
            fns::KioskPeople {
                search: String::new(),
            },
        )
        .await;
    if response.status().is_success() {
        return true;
    }
    assert_eq!(error_of(response).await, AppError::Unauthenticated);
    false
}

async fn set_role(app: &TestApp, person: &Person, role: fns::RoleName, on: bool) {
    ok(&app
        .run(fns::SetMemberRole {
            membership_id: person.membership_id,
            role,
            on,
        })
        .await);
}

/// Pam, a Project manager, launches the Kiosk on her browser (which
/// becomes the device); returns the device's id.
async fn manager_launches(
    app: &TestApp,
    workspace_id: i64,
    email: &str,
    name: &str,
) -> (Person, i64) {
    let pam = member(app, workspace_id, email, name).await;
    set_role(app, &pam, fns::RoleName::ProjectManager, true).await;
    ok(&app.run_as(&pam.browser, fns::LaunchKiosk {}).await);
    assert!(kiosk_works(app, &pam.browser).await);
    let id: i64 = sqlx::query_scalar("SELECT id FROM kiosks WHERE launched_by = $1")
        .bind(pam.account_id)
        .fetch_one(&app.pool)
        .await
        .expect("kiosk row");
    (pam, id)
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_kiosk_unused_for_thirty_days_stops_and_a_used_one_slides(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let (pam, id) = manager_launches(&app, workspace_id, "pam@example.com", "Pam Projects").await;
    let last_used = |pool: PgPool| async move {
        sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
            "SELECT last_used_at FROM kiosks WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("last used")
    };
    // Used ten minutes ago: not written again (at most hourly).
    sqlx::query("UPDATE kiosks SET last_used_at = now() - interval '10 minutes' WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("move time");
    let before = last_used(app.pool.clone()).await;
    assert!(kiosk_works(&app, &pam.browser).await);
    assert_eq!(last_used(app.pool.clone()).await, before);
    // Last used 29 days ago (launched long before): works, and the
    // lifetime slides forward.
    sqlx::query(
        "UPDATE kiosks SET created_at = now() - interval '300 days',
                           last_used_at = now() - interval '29 days' WHERE id = $1",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .expect("move time");
    assert!(kiosk_works(&app, &pam.browser).await);
    let slid = last_used(app.pool.clone()).await.expect("touched");
    assert!(chrono::Utc::now() - slid < chrono::Duration::minutes(1));
    // Unused for 31 days: refused, and marked ended.
    sqlx::query("UPDATE kiosks SET last_used_at = now() - interval '31 days' WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("move time");
    assert!(!kiosk_works(&app, &pam.browser).await);
    let reason: Option<String> = sqlx::query_scalar("SELECT end_reason FROM kiosks WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("reason");
    assert_eq!(reason.as_deref(), Some("unused"));
    // Making it recent again does not bring it back.
    sqlx::query("UPDATE kiosks SET last_used_at = now() WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("move time");
    assert!(!kiosk_works(&app, &pam.browser).await);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_kiosk_stops_when_its_launcher_loses_the_right_to_launch_it(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    // The role taken away.
    let (pam, _) = manager_launches(&app, workspace_id, "pam@example.com", "Pam Projects").await;
    set_role(&app, &pam, fns::RoleName::ProjectManager, false).await;
    assert!(!kiosk_works(&app, &pam.browser).await);
    // Given back: the device stays ended.
    set_role(&app, &pam, fns::RoleName::ProjectManager, true).await;
    assert!(!kiosk_works(&app, &pam.browser).await);
    // The launcher deactivated.
    let (dan, _) = manager_launches(&app, workspace_id, "dan@example.com", "Dan Deact").await;
    ok(&app
        .run(fns::DeactivateMember {
            membership_id: dan.membership_id,
        })
        .await);
    assert!(!kiosk_works(&app, &dan.browser).await);
    // The launcher removed from the workspace.
    let (rob, _) = manager_launches(&app, workspace_id, "rob@example.com", "Rob Removed").await;
    sqlx::query("DELETE FROM memberships WHERE id = $1")
        .bind(rob.membership_id)
        .execute(&app.pool)
        .await
        .expect("remove");
    assert!(!kiosk_works(&app, &rob.browser).await);
    // None of them is listed any more.
    let listed: serde_json::Value = app
        .run(fns::ListKioskDevices {})
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_admin_lists_and_ends_a_kiosk_and_others_cannot(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let (pam, id) = manager_launches(&app, workspace_id, "pam@example.com", "Pam Projects").await;
    let ada = member(&app, workspace_id, "ada@example.com", "Ada Admin").await;
    set_role(&app, &ada, fns::RoleName::Admin, true).await;
    let mel = member(&app, workspace_id, "mel@example.com", "Mel Member").await;

    // A plain member: refused outright (403), and the device works on.
    let listed = app.run_as(&mel.browser, fns::ListKioskDevices {}).await;
    assert_eq!(listed.status(), 403);
    let ended = app.run_as(&mel.browser, fns::EndKioskDevice { id }).await;
    assert_eq!(ended.status(), 403);
    assert!(kiosk_works(&app, &pam.browser).await);

    // Another workspace's Owner: this device is not theirs to see or end.
    let (other, _, _) = other_workspace(&app).await;
    let theirs: serde_json::Value = other
        .run(fns::ListKioskDevices {})
        .await
        .json()
        .await
        .expect("their list");
    assert_eq!(theirs.as_array().map(Vec::len), Some(0), "{theirs}");
    let foreign = other.run(fns::EndKioskDevice { id }).await;
    assert_eq!(error_of(foreign).await, AppError::NotFound);
    assert!(kiosk_works(&app, &pam.browser).await);

    // The Admin sees who launched it and when, and ends it.
    let listed: serde_json::Value = app
        .run_as(&ada.browser, fns::ListKioskDevices {})
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"].as_i64(), Some(id));
    assert_eq!(listed[0]["launched_by"].as_str(), Some("Pam Projects"));
    assert!(listed[0]["last_used_at"].is_string());
    ok(&app.run_as(&ada.browser, fns::EndKioskDevice { id }).await);
    assert!(!kiosk_works(&app, &pam.browser).await);
    let after: serde_json::Value = app
        .run_as(&ada.browser, fns::ListKioskDevices {})
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(after.as_array().map(Vec::len), Some(0));
    // Ending it twice: not found (nothing live to end).
    let again = app.run_as(&ada.browser, fns::EndKioskDevice { id }).await;
    assert_eq!(error_of(again).await, AppError::NotFound);
    // Recorded, as Ada's.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'kiosk.ended' AND workspace_id = $1
            AND actor_account_id = $2 AND details->>'kiosk_id' = $3",
    )
    .bind(workspace_id)
    .bind(ada.account_id)
    .bind(id.to_string())
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audited, 1);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_kiosk_cookie_lives_thirty_days_not_a_year(pool: PgPool) {
    let (app, _, _) = owner_app(pool).await;
    let launched = app.run(fns::LaunchKiosk {}).await;
    ok(&launched);
    let cookie = launched
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("teamroom_kiosk="))
        .expect("kiosk cookie")
        .to_owned();
    assert!(cookie.contains("Max-Age=2592000"), "{cookie}");
}
