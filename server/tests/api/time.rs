//! Timers, entries, the summary report and the Kiosk over HTTP, against a
//! real database: one running timer per member whatever races, deactivation
//! stops the timer, inactive and deleted members in reports, PIN throttling.

use app::error::AppError;
use sqlx::PgPool;

use crate::{
    helpers::{client, error_of, fns, Call, TestApp},
    lifecycle::{member, other_workspace, owner_app, Person},
};

async fn running_count(app: &TestApp, membership_id: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM time_entries WHERE membership_id = $1 AND ended_at IS NULL",
    )
    .bind(membership_id)
    .fetch_one(&app.pool)
    .await
    .expect("count running")
}

/// A finished entry of `hours` on 2026-01-`day` at 09:00 UTC.
async fn entry(app: &TestApp, workspace_id: i64, membership_id: i64, day: u32, hours: i64) {
    sqlx::query(
        "INSERT INTO time_entries (workspace_id, membership_id, started_at, ended_at, source)
         VALUES ($1, $2, make_timestamptz(2026, 1, $3, 9, 0, 0, 'UTC'),
                 make_timestamptz(2026, 1, $3, 9, 0, 0, 'UTC') + make_interval(hours => $4), 'manual')",
    )
    .bind(workspace_id)
    .bind(membership_id)
    .bind(day as i32)
    .bind(hours as i32)
    .execute(&app.pool)
    .await
    .expect("entry");
}

async fn report(
    app: &TestApp,
    who: &reqwest::Client,
    inactive: bool,
    person: &str,
) -> serde_json::Value {
    let response = app
        .run_as(
            who,
            fns::SummaryReport {
                from: "2026-01-01".into(),
                to: "2026-01-31".into(),
                inactive,
                person: person.to_owned(),
            },
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("report json")
}

/// (name, hours) per row of a report.
fn rows(report: &serde_json::Value) -> Vec<(String, i64)> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            (
                row["name"].as_str().unwrap_or_default().to_owned(),
                row["seconds"].as_i64().unwrap_or_default() / 3600,
            )
        })
        .collect()
}

async fn punch(app: &TestApp, pin: &str, membership_id: i64) -> reqwest::Response {
    app.run_as(
        &app.client,
        fns::KioskPunch {
            membership_id,
            pin: pin.to_owned(),
        },
    )
    .await
}

async fn deactivate(app: &TestApp, person: &Person) {
    let response = app
        .run(fns::DeactivateMember {
            membership_id: person.membership_id,
        })
        .await;
    assert!(response.status().is_success(), "{}", response.status());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn two_concurrent_starts_leave_one_running_timer(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let ann = member(&app, workspace_id, "ann@example.com", "Ann Member").await;
    // A second device of the same person.
    let phone = client();
    app.run_as(
        &phone,
        fns::SignIn {
            email: "ann@example.com".into(),
            password: crate::helpers::GOOD_PASSWORD.to_owned(),
        },
    )
    .await;
    app.run_as(&phone, fns::SwitchWorkspace { workspace_id })
        .await;
    for round in 0..8 {
        let (first, second) = tokio::join!(
            app.run_as(
                &ann.browser,
                fns::StartTimer {
                    description: "laptop".into(),
                    project_id: None
                }
            ),
            app.run_as(
                &phone,
                fns::StartTimer {
                    description: "phone".into(),
                    project_id: None
                }
            ),
        );
        let statuses = [first.status().is_success(), second.status().is_success()];
        assert_eq!(
            statuses.iter().filter(|ok| **ok).count(),
            1,
            "round {round}: exactly one start wins"
        );
        let loser = if statuses[0] { second } else { first };
        match error_of(loser).await {
            AppError::Conflict(message) => {
                assert!(message.contains("already running"), "{message}")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(running_count(&app, ann.membership_id).await, 1);
        let stop = app.run_as(&phone, fns::StopTimer {}).await;
        assert!(stop.status().is_success(), "{}", stop.status());
        assert_eq!(running_count(&app, ann.membership_id).await, 0);
    }
    let stop_again = app.run_as(&ann.browser, fns::StopTimer {}).await;
    assert!(matches!(error_of(stop_again).await, AppError::Conflict(_)));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn deactivating_a_member_stops_their_timer_at_the_deactivation_time(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let ben = member(&app, workspace_id, "ben@example.com", "Ben Member").await;
    let started = app
        .run_as(
            &ben.browser,
            fns::StartTimer {
                description: "Night shift".into(),
                project_id: None,
            },
        )
        .await;
    assert!(started.status().is_success(), "{}", started.status());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    deactivate(&app, &ben).await;

    assert_eq!(running_count(&app, ben.membership_id).await, 0);
    let (ended, length, deactivated_at): (
        chrono::DateTime<chrono::Utc>,
        f64,
        chrono::DateTime<chrono::Utc>,
    ) = sqlx::query_as(
        "SELECT e.ended_at, extract(epoch FROM e.ended_at - e.started_at)::float8, a.occurred_at
           FROM time_entries e, audit_events a
          WHERE e.membership_id = $1 AND a.action = 'member.deactivated' AND a.target_membership_id = $1",
    )
    .bind(ben.membership_id)
    .fetch_one(&app.pool)
    .await
    .expect("stopped entry and audit row");
    assert_eq!(
        ended, deactivated_at,
        "the timer ends when the deactivation happened"
    );
    assert!(length >= 1.0, "the time run so far is kept: {length}s");
    // Reactivated, the entry is still there and no timer restarted.
    let back = app
        .run(fns::ReactivateMember {
            membership_id: ben.membership_id,
        })
        .await;
    assert!(back.status().is_success());
    assert_eq!(running_count(&app, ben.membership_id).await, 0);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn the_report_leaves_inactive_members_out_unless_the_filter_asks(pool: PgPool) {
    let (app, workspace_id, owner) = owner_app(pool).await;
    let amy = member(&app, workspace_id, "amy@example.com", "Amy Active").await;
    let ivo = member(&app, workspace_id, "ivo@example.com", "Ivo Inactive").await;
    entry(&app, workspace_id, owner, 5, 1).await;
    entry(&app, workspace_id, amy.membership_id, 5, 3).await;
    entry(&app, workspace_id, amy.membership_id, 6, 2).await;
    entry(&app, workspace_id, ivo.membership_id, 7, 4).await;
    // Outside the range: not counted.
    sqlx::query(
        "INSERT INTO time_entries (workspace_id, membership_id, started_at, ended_at)
         VALUES ($1, $2, '2026-02-01 09:00Z', '2026-02-01 17:00Z')",
    )
    .bind(workspace_id)
    .bind(amy.membership_id)
    .execute(&app.pool)
    .await
    .expect("february entry");
    deactivate(&app, &ivo).await;

    let without = report(&app, &app.client, false, "").await;
    assert_eq!(
        rows(&without),
        vec![("Amy Active".to_owned(), 5), ("Olive Owner".to_owned(), 1)]
    );
    assert_eq!(without["total_seconds"].as_i64(), Some(6 * 3600));

    let with = report(&app, &app.client, true, "").await;
    assert_eq!(
        rows(&with),
        vec![
            ("Amy Active".to_owned(), 5),
            ("Ivo Inactive".to_owned(), 4),
            ("Olive Owner".to_owned(), 1)
        ]
    );
    assert_eq!(with["rows"][1]["inactive"].as_bool(), Some(true));
    assert_eq!(with["total_seconds"].as_i64(), Some(10 * 3600));

    // A plain member may not see reports at all.
    let refused = app
        .run_as(
            &amy.browser,
            fns::SummaryReport {
                from: "2026-01-01".into(),
                to: "2026-01-31".into(),
                inactive: false,
                person: String::new(),
            },
        )
        .await;
    assert_eq!(error_of(refused).await, AppError::Forbidden);
    // Bad ranges get field messages.
    let backwards = app
        .run(fns::SummaryReport {
            from: "2026-01-31".into(),
            to: "2026-01-01".into(),
            inactive: false,
            person: String::new(),
        })
        .await;
    assert!(error_of(backwards)
        .await
        .field_message("to")
        .is_some_and(|m| m.contains("before the first day")));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_deleted_members_hours_stay_under_deleted_user(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let amy = member(&app, workspace_id, "amy@example.com", "Amy Active").await;
    let dora = member(&app, workspace_id, "dora@example.com", "Dora Deleted").await;
    let dan = member(&app, workspace_id, "dan@example.com", "Dan Deleted").await;
    entry(&app, workspace_id, amy.membership_id, 5, 2).await;
    entry(&app, workspace_id, dora.membership_id, 6, 3).await;
    entry(&app, workspace_id, dan.membership_id, 7, 4).await;
    for person in [&dora, &dan] {
        deactivate(&app, person).await;
        let deleted = app
            .run(fns::DeleteMember {
                membership_id: person.membership_id,
            })
            .await;
        assert!(deleted.status().is_success(), "{}", deleted.status());
    }
    assert_eq!(
        app.count("SELECT count(*) FROM time_entries WHERE membership_id IS NULL")
            .await,
        2,
        "their entries stay, without a member"
    );
    let summary = report(&app, &app.client, false, "").await;
    assert_eq!(
        rows(&summary),
        vec![("Amy Active".to_owned(), 2), ("Deleted user".to_owned(), 7)],
        "deleted people's hours are one row, shown even without the Inactive filter"
    );
    assert!(summary["rows"][1]["membership_id"].is_null());
    // Filtering by person can no longer find them.
    let by_name = report(&app, &app.client, true, "Dora").await;
    assert!(rows(&by_name).is_empty(), "{:?}", rows(&by_name));
    let amy_only = report(&app, &app.client, true, "amy").await;
    assert_eq!(rows(&amy_only), vec![("Amy Active".to_owned(), 2)]);

    // The CSV export carries the same rows and a total.
    let csv = app
        .client
        .get(format!(
            "{}/api/summary.csv?from=2026-01-01&to=2026-01-31&inactive=false&person=",
            app.base
        ))
        .send()
        .await
        .expect("csv");
    assert!(csv.status().is_success(), "{}", csv.status());
    let text = csv.text().await.expect("csv text");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Member,Email,Status,Entries,Hours,Duration (h:mm)"
    );
    assert_eq!(lines[1], "Amy Active,amy@example.com,active,1,2.00,2:00");
    assert_eq!(lines[2], "Deleted user,,deleted,2,7.00,7:00");
    assert_eq!(lines[3], "Total,,,3,9.00,9:00");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn bad_entries_get_clear_messages_and_write_nothing(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let eve = member(&app, workspace_id, "eve@example.com", "Eve Member").await;
    let cases = [
        (
            "2026-01-05T17:00",
            "2026-01-05T09:00",
            "end",
            "ends before it starts",
        ),
        (
            "2026-01-05T09:00",
            "2026-01-06T10:00",
            "end",
            "at most 24 hours",
        ),
        (
            "9999-01-05T09:00",
            "9999-01-05T10:00",
            "start",
            "between 2000 and 2099",
        ),
        ("soon", "2026-01-05T10:00", "start", "like 2026-11-23"),
    ];
    for (start, end, field, expected) in cases {
        let response = app
            .run_as(
                &eve.browser,
                fns::SaveEntry {
                    entry_id: None,
                    description: "x".into(),
                    project_id: None,
                    start: start.to_owned(),
                    end: end.to_owned(),
                },
            )
            .await;
        let message = error_of(response).await.field_message(field);
        assert!(
            message.as_deref().is_some_and(|m| m.contains(expected)),
            "{start}..{end}: {message:?}"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM time_entries").await, 0);

    // A good one, in the member's zone: 09:00 in Paris is 08:00 UTC in January.
    let zone = app
        .run_as(
            &eve.browser,
            fns::SetTimeSettings {
                time_zone: "Europe/Paris".into(),
                week_start: "7".into(),
            },
        )
        .await;
    assert!(zone.status().is_success(), "{}", zone.status());
    let bad_zone = app
        .run_as(
            &eve.browser,
            fns::SetTimeSettings {
                time_zone: "Mars/Olympus".into(),
                week_start: "8".into(),
            },
        )
        .await;
    let error = error_of(bad_zone).await;
    assert!(
        error.field_message("time_zone").is_some() && error.field_message("week_start").is_some()
    );
    let saved = app
        .run_as(
            &eve.browser,
            fns::SaveEntry {
                entry_id: None,
                description: "Design review".into(),
                project_id: None,
                start: "2026-01-05T09:00".into(),
                end: "2026-01-05T10:30".into(),
            },
        )
        .await;
    assert!(saved.status().is_success(), "{}", saved.status());
    let (started, minutes): (chrono::DateTime<chrono::Utc>, f64) = sqlx::query_as(
        "SELECT started_at, extract(epoch FROM ended_at - started_at)::float8 / 60 FROM time_entries",
    )
    .fetch_one(&app.pool)
    .await
    .expect("entry");
    assert_eq!(started.to_rfc3339(), "2026-01-05T08:00:00+00:00");
    assert_eq!(minutes, 90.0);

    // Someone else's entry (here, the owner's) is not found for Eve.
    let owner_entry: i64 = sqlx::query_scalar(
        "INSERT INTO time_entries (workspace_id, membership_id, started_at, ended_at)
         SELECT $1, m.id, '2026-01-05 09:00Z', '2026-01-05 10:00Z' FROM memberships m
          JOIN accounts a ON a.id = m.account_id WHERE a.email = 'olive@example.com' RETURNING id",
    )
    .bind(workspace_id)
    .fetch_one(&app.pool)
    .await
    .expect("owner entry");
    for call in [
        Call::form(fns::DeleteEntry {
            entry_id: owner_entry,
        }),
        Call::form(fns::SaveEntry {
            entry_id: Some(owner_entry),
            description: "mine now".into(),
            project_id: None,
            start: "2026-01-05T09:00".into(),
            end: "2026-01-05T11:00".into(),
        }),
    ] {
        let endpoint = call.name();
        let response = app.send_with(&eve.browser, call).await;
        assert_eq!(error_of(response).await, AppError::NotFound, "{endpoint}");
    }

    // With editing turned off by an admin, Eve can still run the timer but
    // not change her entries.
    let off = app
        .run(fns::SetTimePermission {
            membership_id: eve.membership_id,
            may_edit_own_time: false,
        })
        .await;
    assert!(off.status().is_success(), "{}", off.status());
    let entry_id: i64 = sqlx::query_scalar("SELECT id FROM time_entries WHERE membership_id = $1")
        .bind(eve.membership_id)
        .fetch_one(&app.pool)
        .await
        .expect("eve's entry");
    let refused = app
        .run_as(&eve.browser, fns::DeleteEntry { entry_id })
        .await;
    assert!(matches!(error_of(refused).await, AppError::Conflict(m) if m.contains("turned off")));
    let started = app
        .run_as(
            &eve.browser,
            fns::StartTimer {
                description: String::new(),
                project_id: None,
            },
        )
        .await;
    assert!(started.status().is_success(), "{}", started.status());
    // And a plain member cannot change that permission for herself.
    let self_grant = app
        .run_as(
            &eve.browser,
            fns::SetTimePermission {
                membership_id: eve.membership_id,
                may_edit_own_time: true,
            },
        )
        .await;
    assert_eq!(error_of(self_grant).await, AppError::Forbidden);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_limited_member_clocks_in_and_out_at_the_kiosk_with_a_throttled_pin(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
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
    // Someone in another workspace, with a PIN of their own.
    let (other, _, otto) = other_workspace(&app).await;
    let own_pin = other
        .run(fns::SetKioskPin {
            membership_id: None,
            pin: "4321".into(),
        })
        .await;
    assert!(own_pin.status().is_success(), "{}", own_pin.status());

    for (pin, expected) in [("12a4", "digits only"), ("123", "4 to 6 digits")] {
        let response = app
            .run(fns::SetKioskPin {
                membership_id: Some(lena),
                pin: pin.to_owned(),
            })
            .await;
        let message = error_of(response).await.field_message("pin");
        assert!(
            message.as_deref().is_some_and(|m| m.contains(expected)),
            "{message:?}"
        );
    }
    let set = app
        .run(fns::SetKioskPin {
            membership_id: Some(lena),
            pin: "2468".into(),
        })
        .await;
    assert!(set.status().is_success(), "{}", set.status());
    // The owner cannot set a PIN in another workspace: not found.
    let foreign = app
        .run(fns::SetKioskPin {
            membership_id: Some(otto),
            pin: "1111".into(),
        })
        .await;
    assert_eq!(error_of(foreign).await, AppError::NotFound);

    // Without the Kiosk token nothing answers.
    let stranger = client();
    let refused = app
        .run_as(
            &stranger,
            fns::KioskPeople {
                search: String::new(),
            },
        )
        .await;
    assert_eq!(error_of(refused).await, AppError::Unauthenticated);

    // Launching signs the owner out on this device.
    let launched = app.run(fns::LaunchKiosk {}).await;
    assert!(launched.status().is_success(), "{}", launched.status());
    let me = app.run(fns::CurrentUser {}).await;
    assert_eq!(error_of(me).await, AppError::Unauthenticated);
    let kiosk = &app.client;
    let people: serde_json::Value = app
        .run_as(
            kiosk,
            fns::KioskPeople {
                search: "len".into(),
            },
        )
        .await
        .json()
        .await
        .expect("people");
    assert_eq!(people[0]["name"].as_str(), Some("Lena Limited"));
    assert_eq!(people.as_array().map(Vec::len), Some(1));

    // Letters: a message, and it is not counted as a wrong PIN.
    let letters = punch(&app, "abcd", lena).await;
    assert!(error_of(letters).await.field_message("pin").is_some());
    let wrong = punch(&app, "1357", lena).await;
    assert!(error_of(wrong)
        .await
        .field_message("pin")
        .is_some_and(|m| m.contains("Wrong PIN. 4 tries left")));
    let clock_in: serde_json::Value = punch(&app, "2468", lena)
        .await
        .json()
        .await
        .expect("punch in");
    assert_eq!(clock_in["clocked_in"].as_bool(), Some(true));
    assert_eq!(running_count(&app, lena).await, 1);
    let clock_out: serde_json::Value = punch(&app, "2468", lena)
        .await
        .json()
        .await
        .expect("punch out");
    assert_eq!(clock_out["clocked_in"].as_bool(), Some(false));
    assert!(clock_out["worked_seconds"].as_i64().is_some());
    assert_eq!(running_count(&app, lena).await, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM time_entries WHERE source = 'kiosk'")
            .await,
        1
    );

    // A member of another workspace, even with the right PIN: not found.
    let cross = punch(&app, "4321", otto).await;
    assert_eq!(error_of(cross).await, AppError::NotFound);
    assert_eq!(running_count(&app, otto).await, 0);

    // Five wrong PINs in a row, then a pause, even for the right one.
    for _ in 0..5 {
        let _ = punch(&app, "0000", lena).await;
    }
    let paused = punch(&app, "2468", lena).await;
    assert!(
        matches!(error_of(paused).await, AppError::RateLimited { retry_after_secs } if retry_after_secs <= 30)
    );
    assert_eq!(running_count(&app, lena).await, 0);

    // Exiting ends the Kiosk on this device.
    let exit = app.run_as(kiosk, fns::ExitKiosk {}).await;
    assert!(exit.status().is_success());
    let after = app
        .run_as(
            kiosk,
            fns::KioskPeople {
                search: String::new(),
            },
        )
        .await;
    assert_eq!(error_of(after).await, AppError::Unauthenticated);
    let _ = workspace_id;
}

/// A Kiosk clock-out stops the timer through `stop_running_entry`, so the
/// member's open pages hear it on the timer channel (their server-sent
/// events are fed from it) as they do for a stop on the Time page.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_kiosk_clock_out_tells_the_members_open_pages(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let mia = member(&app, workspace_id, "mia@example.com", "Mia Member").await;
    let set = app
        .run(fns::SetKioskPin {
            membership_id: Some(mia.membership_id),
            pin: "2468".into(),
        })
        .await;
    assert!(set.status().is_success(), "{}", set.status());
    let launched = app.run(fns::LaunchKiosk {}).await;
    assert!(launched.status().is_success(), "{}", launched.status());
    let clock_in: serde_json::Value = punch(&app, "2468", mia.membership_id)
        .await
        .json()
        .await
        .expect("punch in");
    assert_eq!(clock_in["clocked_in"].as_bool(), Some(true));
    assert_eq!(running_count(&app, mia.membership_id).await, 1);

    // Mia's open pages listen from here on: only the clock-out can be heard.
    let mut listener = sqlx::postgres::PgListener::connect_with(&app.pool)
        .await
        .expect("listener");
    listener
        .listen(app::server::time::TIMER_CHANNEL)
        .await
        .expect("listen");
    let clock_out: serde_json::Value = punch(&app, "2468", mia.membership_id)
        .await
        .json()
        .await
        .expect("punch out");
    assert_eq!(clock_out["clocked_in"].as_bool(), Some(false));
    assert_eq!(running_count(&app, mia.membership_id).await, 0);

    let expected = format!("{workspace_id}:{}", mia.membership_id);
    let heard = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let notification = listener.recv().await.expect("notification");
            if notification.payload() == expected {
                return notification;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {expected} on the timer channel within 5 s of the clock-out"));
    assert_eq!(heard.channel(), app::server::time::TIMER_CHANNEL);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn managers_see_only_their_team_and_plain_members_cannot_launch_the_kiosk(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let tina = member(&app, workspace_id, "tina@example.com", "Tina Manager").await;
    let tom = member(&app, workspace_id, "tom@example.com", "Tom Team").await;
    let ola = member(&app, workspace_id, "ola@example.com", "Ola Other").await;
    let role = app
        .run(fns::SetMemberRole {
            membership_id: tina.membership_id,
            role: fns::RoleName::TeamManager,
            on: true,
        })
        .await;
    assert!(role.status().is_success(), "{}", role.status());
    sqlx::query("UPDATE memberships SET team_manager_id = $1 WHERE id = $2")
        .bind(tina.membership_id)
        .bind(tom.membership_id)
        .execute(&app.pool)
        .await
        .expect("assign manager");
    entry(&app, workspace_id, tom.membership_id, 5, 2).await;
    entry(&app, workspace_id, ola.membership_id, 5, 3).await;
    let scoped = report(&app, &tina.browser, false, "").await;
    assert_eq!(rows(&scoped), vec![("Tom Team".to_owned(), 2)]);
    assert!(scoped["scope_note"]
        .as_str()
        .is_some_and(|n| n.contains("team")));

    let refused = app.run_as(&ola.browser, fns::LaunchKiosk {}).await;
    assert_eq!(error_of(refused).await, AppError::Forbidden, "launch_kiosk");
    let others_pin = app
        .run_as(
            &ola.browser,
            fns::SetKioskPin {
                membership_id: Some(tom.membership_id),
                pin: "1234".into(),
            },
        )
        .await;
    assert_eq!(error_of(others_pin).await, AppError::Forbidden);
    let settings = app
        .run_as(
            &ola.browser,
            fns::TimeSettingsOf {
                membership_id: tom.membership_id,
            },
        )
        .await;
    assert_eq!(error_of(settings).await, AppError::Forbidden);
}
