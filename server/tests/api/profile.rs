//! Profiles over HTTP: bad input changes nothing and says why, members
//! edit their own but not their rate or manager, photos are checked by
//! content, re-encoded and shown only to people sharing a workspace.

use app::error::AppError;
use serde_json::json;
use sqlx::PgPool;

use crate::{
    helpers::{error_of, TestApp},
    lifecycle::{member, owner_app},
};

fn form(overrides: serde_json::Value) -> serde_json::Value {
    let mut base = json!({
        "name": "Max Member",
        "working_days": [1, 2, 3, 4, 5],
        "capacity": "8",
        "week_start": "1",
        "team_manager_id": null,
        "billing_rate": "",
        "currency": "USD",
        "notify_weekly_summary": true,
        "notify_timer_reminders": true,
    });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), overrides.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    base
}

async fn save(
    app: &TestApp,
    who: &reqwest::Client,
    membership_id: Option<i64>,
    form: serde_json::Value,
) -> reqwest::Response {
    who.post(format!("{}/api/save_profile", app.base))
        .header("accept", "application/json")
        .json(&json!({ "membership_id": membership_id, "form": form }))
        .send()
        .await
        .expect("save request")
}

async fn field_error(response: reqwest::Response, field: &str) -> String {
    let error = error_of(response).await;
    error
        .field_message(field)
        .unwrap_or_else(|| panic!("expected a message for {field}, got {error:?}"))
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn bad_profile_input_is_refused_and_changes_nothing(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let max = member(&app, workspace_id, "max@example.com", "Max Member").await;
    let plain = member(&app, workspace_id, "pia@example.com", "Pia Plain").await;
    let id = Some(max.membership_id);
    for (overrides, field, expected) in [
        (json!({ "capacity": "25" }), "capacity", "between 0 and 24"),
        (json!({ "capacity": "-1" }), "capacity", "between 0 and 24"),
        (
            json!({ "billing_rate": "1e309" }),
            "billing_rate",
            "like 45",
        ),
        (json!({ "billing_rate": "abc" }), "billing_rate", "like 45"),
        (
            json!({ "billing_rate": "10", "currency": "XYZ" }),
            "billing_rate",
            "currency",
        ),
        (
            json!({ "working_days": [0, 9] }),
            "working_days",
            "days of the week",
        ),
        (
            json!({ "team_manager_id": plain.membership_id }),
            "team_manager",
            "Team manager role",
        ),
        (
            json!({ "name": "Someone Else" }),
            "name",
            "only they can change it",
        ),
    ] {
        let response = save(&app, &app.client, id, form(overrides.clone())).await;
        let message = field_error(response, field).await;
        assert!(message.contains(expected), "{overrides}: {message}");
    }
    let unchanged: (i32, Option<i64>, String) = sqlx::query_as(
        "SELECT daily_capacity_minutes, billing_rate_cents, billing_currency FROM memberships WHERE id = $1",
    )
    .bind(max.membership_id)
    .fetch_one(&app.pool)
    .await
    .expect("profile");
    assert_eq!(unchanged, (480, None, "USD".to_owned()));
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'member.profile_changed'")
            .await,
        0
    );

    // A good save by the owner, with a real team manager.
    sqlx::query("UPDATE memberships SET is_team_manager = true WHERE id = $1")
        .bind(plain.membership_id)
        .execute(&app.pool)
        .await
        .expect("tm");
    let good = save(
        &app,
        &app.client,
        id,
        form(
            json!({ "capacity": "7.5", "billing_rate": "45.5", "currency": "EUR",
                     "team_manager_id": plain.membership_id, "working_days": [1, 2, 3, 4],
                     "notify_weekly_summary": false }),
        ),
    )
    .await;
    assert!(good.status().is_success(), "{}", good.status());
    let saved: (i32, Option<i64>, String, i16, bool, Option<i64>) = sqlx::query_as(
        "SELECT daily_capacity_minutes, billing_rate_cents, billing_currency, working_days,
                notify_weekly_summary, team_manager_id FROM memberships WHERE id = $1",
    )
    .bind(max.membership_id)
    .fetch_one(&app.pool)
    .await
    .expect("profile");
    assert_eq!(
        saved,
        (
            450,
            Some(4550),
            "EUR".to_owned(),
            15,
            false,
            Some(plain.membership_id)
        )
    );
    let details: serde_json::Value = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'member.profile_changed'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(details["after"]["billing_rate_cents"], 4550);
    assert_eq!(details["before"]["capacity_minutes"], 480);
    assert!(
        details["before"].get("name").is_none(),
        "only changed fields"
    );

    // Max edits his own profile: name and capacity yes, his rate no.
    let own = save(
        &app,
        &max.browser,
        None,
        form(
            json!({ "name": "Maximilian Member", "capacity": "6", "billing_rate": "45.50",
                     "currency": "EUR", "team_manager_id": plain.membership_id }),
        ),
    )
    .await;
    assert!(own.status().is_success(), "{}", own.status());
    let renamed: String =
        sqlx::query_scalar("SELECT display_name FROM accounts WHERE email = 'max@example.com'")
            .fetch_one(&app.pool)
            .await
            .expect("name");
    assert_eq!(renamed, "Maximilian Member");
    let search: String = sqlx::query_scalar("SELECT search_text FROM memberships WHERE id = $1")
        .bind(max.membership_id)
        .fetch_one(&app.pool)
        .await
        .expect("search");
    assert!(
        search.contains("maximilian"),
        "found by the new name at once"
    );
    let raise = save(
        &app,
        &max.browser,
        None,
        form(
            json!({ "name": "Maximilian Member", "billing_rate": "99", "currency": "EUR",
                     "team_manager_id": plain.membership_id }),
        ),
    )
    .await;
    assert_eq!(error_of(raise).await, AppError::Forbidden);
    // A plain member cannot open someone else's profile.
    let other = save(
        &app,
        &max.browser,
        Some(plain.membership_id),
        form(json!({ "name": "Pia Plain" })),
    )
    .await;
    assert_eq!(error_of(other).await, AppError::Forbidden);
}

fn png_of(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("encode png");
    bytes
}

async fn upload(
    app: &TestApp,
    who: &reqwest::Client,
    member: Option<i64>,
    body: Vec<u8>,
) -> reqwest::Response {
    let url = match member {
        Some(id) => format!("{}/api/photo?member={id}", app.base),
        None => format!("{}/api/photo", app.base),
    };
    who.post(url)
        .header("content-type", "image/png")
        .body(body)
        .send()
        .await
        .expect("upload")
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn photos_are_checked_by_content_resized_and_shown_only_inside_the_workspace(pool: PgPool) {
    let (app, workspace_id, _) = owner_app(pool).await;
    let max = member(&app, workspace_id, "max@example.com", "Max Member").await;

    let html = b"<!doctype html><script>alert(1)</script>".to_vec();
    let refused = upload(&app, &max.browser, None, html).await;
    assert!(field_error(refused, "photo")
        .await
        .contains("not a PNG, JPEG or WebP"));
    let mut big = png_of(64, 64);
    big.resize(3 * 1024 * 1024, 0);
    let too_big = upload(&app, &max.browser, None, big).await;
    assert!(field_error(too_big, "photo").await.contains("at most 2 MB"));
    // 50 MB: reading stops at the limit, and the answer is the same message.
    let huge = upload(&app, &max.browser, None, vec![0u8; 50 * 1024 * 1024]).await;
    assert!(field_error(huge, "photo").await.contains("at most 2 MB"));
    assert_eq!(app.count("SELECT count(*) FROM account_photos").await, 0);

    let ok = upload(&app, &max.browser, None, png_of(800, 600)).await;
    assert!(ok.status().is_success(), "{}", ok.status());
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT png FROM account_photos WHERE account_id = $1")
            .bind(max.account_id)
            .fetch_one(&app.pool)
            .await
            .expect("photo");
    let decoded = image::load_from_memory(&stored).expect("a png");
    assert_eq!(
        (decoded.width(), decoded.height()),
        (256, 256),
        "cropped to a square"
    );

    // The owner sees it; someone in another workspace does not.
    let seen = app
        .client
        .get(format!("{}/api/photos/{}.png", app.base, max.account_id))
        .send()
        .await
        .expect("photo");
    assert_eq!(seen.status(), 200);
    assert_eq!(seen.headers()["content-type"], "image/png");
    let stranger = crate::helpers::spawn(app.pool.clone()).await;
    stranger
        .sign_up(
            "sam@example.com",
            "Sam Stranger",
            crate::helpers::GOOD_PASSWORD,
        )
        .await;
    let hidden = stranger
        .client
        .get(format!(
            "{}/api/photos/{}.png",
            stranger.base, max.account_id
        ))
        .send()
        .await
        .expect("photo");
    assert_eq!(hidden.status(), 404);
    // Nor can they change it: Max is not in their workspace.
    let foreign = upload(
        &stranger,
        &stranger.client,
        Some(max.membership_id),
        png_of(10, 10),
    )
    .await;
    assert!(matches!(
        error_of(foreign).await,
        AppError::Forbidden | AppError::NotFound
    ));
    // Max removes it.
    let removed = max
        .browser
        .delete(format!("{}/api/photo", app.base))
        .send()
        .await
        .expect("delete");
    assert!(removed.status().is_success());
    assert_eq!(app.count("SELECT count(*) FROM account_photos").await, 0);
}
