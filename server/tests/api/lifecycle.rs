//! Roles, deactivate / reactivate / delete and ownership transfer over HTTP:
//! the rules hold on the server whatever the request says.

use app::error::AppError;
use sqlx::PgPool;

use crate::helpers::{client, error_of, fns, spawn, Call, TestApp, GOOD_PASSWORD};

pub(crate) struct Person {
    pub browser: reqwest::Client,
    pub membership_id: i64,
    pub account_id: i64,
}

/// Signs `email` up (their own workspace) and adds them as an active full
/// member of the owner's workspace, with that workspace open.
pub(crate) async fn member(app: &TestApp, workspace_id: i64, email: &str, name: &str) -> Person {
    let browser = client();
    let response = app
        .run_as(
            &browser,
            fns::SignUp {
                email: email.to_owned(),
                name: name.to_owned(),
                password: GOOD_PASSWORD.to_owned(),
            },
        )
        .await;
    assert!(response.status().is_success() || response.status().is_redirection());
    let account_id: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .expect("account");
    let membership_id: i64 = sqlx::query_scalar(
        "INSERT INTO memberships (workspace_id, account_id, kind, status) VALUES ($1, $2, 'full', 'active')
         RETURNING id",
    )
    .bind(workspace_id)
    .bind(account_id)
    .fetch_one(&app.pool)
    .await
    .expect("membership");
    sqlx::query("SELECT teamroom_refresh_members($1, NULL)")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("refresh");
    let switched = app
        .run_as(&browser, fns::SwitchWorkspace { workspace_id })
        .await;
    assert!(switched.status().is_success(), "{}", switched.status());
    Person {
        browser,
        membership_id,
        account_id,
    }
}

/// A second workspace on the same database, owned by Otto: (its app, its
/// id, Otto's membership id).
pub(crate) async fn other_workspace(app: &TestApp) -> (TestApp, i64, i64) {
    let other = crate::helpers::spawn(app.pool.clone()).await;
    other
        .sign_up("otto@example.com", "Otto Other", GOOD_PASSWORD)
        .await;
    let (workspace_id, membership_id): (i64, i64) = sqlx::query_as(
        "SELECT m.workspace_id, m.id FROM memberships m JOIN accounts a ON a.id = m.account_id
          WHERE a.email = 'otto@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("otto's workspace");
    (other, workspace_id, membership_id)
}

pub(crate) async fn owner_app(pool: PgPool) -> (TestApp, i64, i64) {
    let app = spawn(pool).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    let (workspace_id, membership_id): (i64, i64) = sqlx::query_as(
        "SELECT w.id, m.id FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
          JOIN accounts a ON a.id = m.account_id WHERE a.email = 'olive@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("workspace");
    (app, workspace_id, membership_id)
}

async fn conflict_message(response: reqwest::Response) -> String {
    match error_of(response).await {
        AppError::Conflict(message) => message,
        other => panic!("expected a refusal with a message, got {other:?}"),
    }
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn deactivation_ends_access_on_every_session_at_the_next_request(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let alice = member(&app, workspace_id, "alice@example.com", "Alice Admin").await;
    // A second device, signed in separately and switched to the workspace.
    let phone = client();
    app.run_as(
        &phone,
        fns::SignIn {
            email: "alice@example.com".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    app.run_as(&phone, fns::SwitchWorkspace { workspace_id })
        .await;
    let give = app
        .run(fns::SetMemberRole {
            membership_id: alice.membership_id,
            role: fns::RoleName::Admin,
            on: true,
        })
        .await;
    assert!(give.status().is_success(), "{}", give.status());
    for device in [&alice.browser, &phone] {
        let listed = app
            .run_as(
                device,
                fns::CountMembers {
                    view: Default::default(),
                },
            )
            .await;
        assert!(
            listed.status().is_success(),
            "admin reads the list: {}",
            listed.status()
        );
    }

    let off = app
        .run(fns::DeactivateMember {
            membership_id: alice.membership_id,
        })
        .await;
    assert!(off.status().is_success(), "{}", off.status());
    for device in [&alice.browser, &phone] {
        assert_eq!(
            app.run_as(
                device,
                fns::CountMembers {
                    view: Default::default()
                }
            )
            .await
            .status(),
            403
        );
        // The next page load moves them to their own workspace, which works.
        let me: serde_json::Value = app
            .run_as(device, fns::CurrentUser {})
            .await
            .json()
            .await
            .expect("me");
        assert_eq!(me["workspace"]["name"], "Alice's workspace");
        assert!(app
            .run_as(
                device,
                fns::CountMembers {
                    view: Default::default()
                }
            )
            .await
            .status()
            .is_success());
    }
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'member.deactivated' AND target_account_id = $1",
    )
    .bind(alice.account_id)
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audit, 1);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn role_rules_hold_on_the_server(pool: PgPool) {
    let (app, workspace_id, owner_membership) = owner_app(pool).await;
    let ann = member(&app, workspace_id, "ann@example.com", "Ann Admin").await;
    let bob = member(&app, workspace_id, "bob@example.com", "Bob Admin").await;
    let mel = member(&app, workspace_id, "mel@example.com", "Mel Member").await;
    for admin in [&ann, &bob] {
        let r = app
            .run(fns::SetMemberRole {
                membership_id: admin.membership_id,
                role: fns::RoleName::Admin,
                on: true,
            })
            .await;
        assert!(r.status().is_success());
    }
    // An Admin cannot take Admin from another Admin, nor deactivate one.
    let r = app
        .run_as(
            &ann.browser,
            fns::SetMemberRole {
                membership_id: bob.membership_id,
                role: fns::RoleName::Admin,
                on: false,
            },
        )
        .await;
    assert_eq!(r.status(), 403, "taking Admin is the Owner's action");
    let r = app
        .run_as(
            &ann.browser,
            fns::DeactivateMember {
                membership_id: bob.membership_id,
            },
        )
        .await;
    assert!(conflict_message(r).await.contains("Only the Owner"));
    // Nobody touches the Owner's roles; nobody raises their own.
    let r = app
        .run_as(
            &ann.browser,
            fns::SetMemberRole {
                membership_id: owner_membership,
                role: fns::RoleName::TeamManager,
                on: true,
            },
        )
        .await;
    assert!(conflict_message(r).await.contains("transferring ownership"));
    let r = app
        .run_as(
            &ann.browser,
            fns::SetMemberRole {
                membership_id: ann.membership_id,
                role: fns::RoleName::ProjectManager,
                on: true,
            },
        )
        .await;
    assert!(conflict_message(r).await.contains("your own role"));
    // A plain member can do none of it.
    let r = app
        .run_as(
            &mel.browser,
            fns::SetMemberRole {
                membership_id: mel.membership_id,
                role: fns::RoleName::Admin,
                on: true,
            },
        )
        .await;
    assert_eq!(r.status(), 403);
    // Admins give manager roles; the Owner takes Admin away.
    let r = app
        .run_as(
            &ann.browser,
            fns::SetMemberRole {
                membership_id: mel.membership_id,
                role: fns::RoleName::TeamManager,
                on: true,
            },
        )
        .await;
    assert!(r.status().is_success());
    let r = app
        .run(fns::SetMemberRole {
            membership_id: bob.membership_id,
            role: fns::RoleName::Admin,
            on: false,
        })
        .await;
    assert!(r.status().is_success());
    let (admins, managers): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE is_admin), count(*) FILTER (WHERE is_team_manager) FROM memberships WHERE workspace_id = $1",
    )
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("roles");
    assert_eq!((admins, managers), (1, 1));
    // Taking Team manager away unassigns their team.
    sqlx::query("UPDATE memberships SET team_manager_id = $2 WHERE workspace_id = $1 AND id = $3")
        .bind(workspace_id)
        .bind(mel.membership_id)
        .bind(bob.membership_id)
        .execute(&app.pool)
        .await
        .expect("assign");
    let r = app
        .run(fns::SetMemberRole {
            membership_id: mel.membership_id,
            role: fns::RoleName::TeamManager,
            on: false,
        })
        .await;
    assert!(r.status().is_success());
    let assigned: Option<i64> =
        sqlx::query_scalar("SELECT team_manager_id FROM memberships WHERE id = $1")
            .bind(bob.membership_id)
            .fetch_one(&app.pool)
            .await
            .expect("manager");
    assert_eq!(assigned, None);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn delete_needs_inactive_and_reactivate_needs_a_seat(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let dan = member(&app, workspace_id, "dan@example.com", "Dan Doe").await;
    let r = app
        .run(fns::DeleteMember {
            membership_id: dan.membership_id,
        })
        .await;
    assert!(conflict_message(r)
        .await
        .contains("deactivate Dan Doe first"));
    assert!(app
        .run(fns::DeactivateMember {
            membership_id: dan.membership_id
        })
        .await
        .status()
        .is_success());

    // Paid plan, every seat taken: reactivation is refused with the count.
    sqlx::query("UPDATE workspaces SET plan = 'pro', seats = 1 WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("plan");
    let r = app
        .run(fns::ReactivateMember {
            membership_id: dan.membership_id,
        })
        .await;
    assert!(conflict_message(r).await.contains("All 1 seats are taken"));
    sqlx::query("UPDATE workspaces SET seats = 5 WHERE id = $1")
        .bind(workspace_id)
        .execute(&app.pool)
        .await
        .expect("seats");
    assert!(app
        .run(fns::ReactivateMember {
            membership_id: dan.membership_id
        })
        .await
        .status()
        .is_success());
    assert!(app
        .run(fns::DeactivateMember {
            membership_id: dan.membership_id
        })
        .await
        .status()
        .is_success());
    assert!(app
        .run(fns::DeleteMember {
            membership_id: dan.membership_id
        })
        .await
        .status()
        .is_success());
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships WHERE id = $1")
        .bind(dan.membership_id)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(left, 0);
    // Their own workspace is untouched.
    assert!(app
        .run_as(&dan.browser, fns::CurrentUser {})
        .await
        .status()
        .is_success());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn another_workspaces_members_are_not_found(pool: PgPool) {
    let (app, _, _) = owner_app(pool).await;
    let other = client();
    app.run_as(
        &other,
        fns::SignUp {
            email: "zed@example.com".into(),
            name: "Zed Else".into(),
            password: GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    let foreign: i64 = sqlx::query_scalar(
        "SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = 'zed@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("foreign membership");
    for call in [
        Call::form(fns::DeactivateMember {
            membership_id: foreign,
        }),
        Call::form(fns::ReactivateMember {
            membership_id: foreign,
        }),
        Call::form(fns::DeleteMember {
            membership_id: foreign,
        }),
        Call::form(fns::TransferOwnership {
            membership_id: foreign,
        }),
        Call::form(fns::SetMemberRole {
            membership_id: foreign,
            role: fns::RoleName::ProjectManager,
            on: true,
        }),
    ] {
        let endpoint = call.name();
        let r = app.send_with(&app.client, call).await;
        assert_eq!(r.status(), 404, "{endpoint}");
    }
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn racing_transfers_leave_exactly_one_owner(pool: PgPool) {
    let (app, workspace_id, owner_membership) = owner_app(pool).await;
    let xia = member(&app, workspace_id, "xia@example.com", "Xia Next").await;
    let yan = member(&app, workspace_id, "yan@example.com", "Yan Other").await;
    let pending: i64 = sqlx::query_scalar(
        "INSERT INTO memberships (workspace_id, kind, status, invited_email) VALUES ($1, 'full', 'pending', 'p@example.com') RETURNING id",
    )
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("pending");
    let r = app
        .run(fns::TransferOwnership {
            membership_id: pending,
        })
        .await;
    assert!(conflict_message(r).await.contains("active full member"));

    let (a, b) = tokio::join!(
        app.run(fns::TransferOwnership {
            membership_id: xia.membership_id,
        }),
        app.run(fns::TransferOwnership {
            membership_id: yan.membership_id,
        }),
    );
    let wins = [a.status().is_success(), b.status().is_success()];
    assert_eq!(
        wins.iter().filter(|w| **w).count(),
        1,
        "exactly one transfer wins: {wins:?}"
    );
    let owner: i64 = sqlx::query_scalar("SELECT owner_account_id FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_one(&app.pool)
        .await
        .expect("owner");
    let expected = if wins[0] {
        xia.account_id
    } else {
        yan.account_id
    };
    assert_eq!(owner, expected);
    let old_owner_admin: bool =
        sqlx::query_scalar("SELECT is_admin FROM memberships WHERE id = $1")
            .bind(owner_membership)
            .fetch_one(&app.pool)
            .await
            .expect("old owner");
    assert!(old_owner_admin, "the old Owner becomes an Admin");
    // The old Owner can no longer transfer.
    let again = app
        .run(fns::TransferOwnership {
            membership_id: yan.membership_id,
        })
        .await;
    assert_eq!(again.status(), 403);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_owner_sets_plan_and_seats_but_never_below_the_seats_in_use(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let ann = member(&app, workspace_id, "ann@example.com", "Ann Admin").await;
    app.run(fns::SetMemberRole {
        membership_id: ann.membership_id,
        role: fns::RoleName::Admin,
        on: true,
    })
    .await;
    // Two full members hold seats: a paid plan needs at least two.
    let refused = app
        .run(fns::SetPlan {
            plan: "pro".into(),
            seats: "1".into(),
        })
        .await;
    let message = error_of(refused)
        .await
        .field_message("seats")
        .expect("seats message");
    assert!(message.contains("at least 2 seats"), "{message}");
    for bad in ["-1", "abc", "1e309", "2000000"] {
        let r = app
            .run(fns::SetPlan {
                plan: "pro".into(),
                seats: bad.into(),
            })
            .await;
        assert!(error_of(r).await.field_message("seats").is_some(), "{bad}");
    }
    let r = app
        .run(fns::SetPlan {
            plan: "gold".into(),
            seats: "5".into(),
        })
        .await;
    assert!(error_of(r).await.field_message("plan").is_some());
    // Admins cannot change the plan.
    assert_eq!(
        app.run_as(
            &ann.browser,
            fns::SetPlan {
                plan: "enterprise".into(),
                seats: "9".into()
            }
        )
        .await
        .status(),
        403
    );
    let (plan, seats): (String, i32) =
        sqlx::query_as("SELECT plan, seats FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_one(&app.pool)
            .await
            .expect("plan");
    assert_eq!((plan.as_str(), seats), ("free", 0), "nothing changed");

    assert!(app
        .run(fns::SetPlan {
            plan: "pro".into(),
            seats: "2".into()
        })
        .await
        .status()
        .is_success());
    let usage: serde_json::Value = app
        .run_as(&ann.browser, fns::SeatUsage {})
        .await
        .json()
        .await
        .expect("usage");
    assert_eq!(
        (
            usage["plan"].as_str(),
            usage["seats"].as_i64(),
            usage["used"].as_i64()
        ),
        (Some("pro"), Some(2), Some(2))
    );
    // Full: the next invitation is refused with the count.
    let r = app
        .run(fns::InviteMembers {
            addresses: "x@example.com".into(),
            send_email: false,
            group_ids: vec![],
            all_projects: true,
            project_ids: vec![],
        })
        .await;
    assert!(error_of(r)
        .await
        .field_message("addresses")
        .is_some_and(|m| m.contains("Only 0 seats are free")));
}

/// An Admin whose demotion commits while their own change is on its way is
/// refused, and the change is not made: the permission is checked again
/// under a lock inside the change's transaction (`guard::require_in`), so
/// nothing commits on the strength of a role its author no longer holds.
/// Without that second check the change went through (200) while the
/// demotion was still open, and stood after it committed.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_change_racing_its_authors_demotion_is_refused(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let ada = member(&app, workspace_id, "ada@example.com", "Ada Admin").await;
    let bo = member(&app, workspace_id, "bo@example.com", "Bo Member").await;
    sqlx::query("UPDATE memberships SET is_admin = true WHERE id = $1")
        .bind(ada.membership_id)
        .execute(&app.pool)
        .await
        .expect("make Ada an Admin");
    // Ada has just been active, so the guard's "last active" write (kept
    // outside the lock) has nothing to do and cannot be what waits below.
    let seen = app
        .run_as(
            &ada.browser,
            fns::CountMembers {
                view: Default::default(),
            },
        )
        .await;
    assert!(seen.status().is_success(), "{}", seen.status());

    // The Owner takes Admin from Ada; that change is under way.
    let mut demotion = app.pool.begin().await.expect("begin");
    sqlx::query("UPDATE memberships SET is_admin = false WHERE id = $1")
        .bind(ada.membership_id)
        .execute(&mut *demotion)
        .await
        .expect("demote Ada");
    let deactivation = app.run_as(
        &ada.browser,
        fns::DeactivateMember {
            membership_id: bo.membership_id,
        },
    );
    tokio::pin!(deactivation);
    let early =
        tokio::time::timeout(std::time::Duration::from_millis(700), &mut deactivation).await;
    assert!(
        early.is_err(),
        "Ada's deactivation must wait for her demotion under way, not answer {:?}",
        early.map(|r| r.status())
    );
    demotion.commit().await.expect("commit the demotion");
    let answer = deactivation.await;
    assert_eq!(answer.status(), 403, "no longer an Admin when it commits");
    let status: String = sqlx::query_scalar("SELECT status FROM memberships WHERE id = $1")
        .bind(bo.membership_id)
        .fetch_one(&app.pool)
        .await
        .expect("Bo");
    assert_eq!(status, "active", "Bo stays active");

    // The control: the refusal was the demotion's doing. An Admin again,
    // Ada deactivates Bo.
    sqlx::query("UPDATE memberships SET is_admin = true WHERE id = $1")
        .bind(ada.membership_id)
        .execute(&app.pool)
        .await
        .expect("Ada is an Admin again");
    let ok = app
        .run_as(
            &ada.browser,
            fns::DeactivateMember {
                membership_id: bo.membership_id,
            },
        )
        .await;
    assert!(ok.status().is_success(), "{}", ok.status());
}
