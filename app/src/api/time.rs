//! The Time page: a member's timer, their week of entries, their time
//! settings and Kiosk PIN; and what admins set about someone's time.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{
        time::{Description, EntryTimes, KioskPin, WeekStart},
        Permission,
    },
    server::{app_state, audit, password, require, time as timedb, Ctx},
};

/// The running timer, as the header and the Time page show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningTimer {
    pub entry_id: i64,
    pub description: String,
    pub project: Option<String>,
    /// Milliseconds since the epoch.
    pub started_at_ms: i64,
    /// The server's clock when this was read, so the browser can correct
    /// for its own clock being off.
    pub server_now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRow {
    pub id: i64,
    pub description: String,
    pub project_id: Option<i64>,
    pub project: Option<String>,
    /// `2026-11-23T09:00`, in the member's zone, for the edit form.
    pub start_local: String,
    pub end_local: String,
    /// `09:00 – 17:30` (with the end's date when it is another day).
    pub span_label: String,
    pub seconds: i64,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayEntries {
    /// `Monday 23 Nov`
    pub label: String,
    pub entries: Vec<EntryRow>,
    pub total_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectChoice {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeWeek {
    pub offset: i32,
    /// `23 – 29 Nov 2026`
    pub label: String,
    /// Days with entries, newest first.
    pub days: Vec<DayEntries>,
    pub total_seconds: i64,
    pub running: Option<RunningTimer>,
    pub projects: Vec<ProjectChoice>,
    pub time_zone: String,
    pub week_start: u8,
    /// Whether this member may edit and delete their own entries.
    pub may_edit: bool,
    pub has_pin: bool,
}

#[cfg(feature = "ssr")]
async fn running_of(
    conn: &mut sqlx::PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<Option<RunningTimer>, AppError> {
    let row = sqlx::query!(
        "SELECT e.id, e.description, p.name AS \"project?\", e.started_at, now() AS \"now!\"
           FROM time_entries e
           LEFT JOIN projects p ON p.workspace_id = e.workspace_id AND p.id = e.project_id
          WHERE e.workspace_id = $1 AND e.membership_id = $2 AND e.ended_at IS NULL",
        workspace_id,
        membership_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| RunningTimer {
        entry_id: row.id,
        description: row.description,
        project: row.project,
        started_at_ms: row.started_at.timestamp_millis(),
        server_now_ms: row.now.timestamp_millis(),
    }))
}

/// The signed-in member's running timer, if any (for the header).
#[server(prefix = "/api", endpoint = "current_timer")]
pub async fn current_timer() -> Result<Option<RunningTimer>, AppError> {
    let ctx = require(Permission::TrackOwnTime).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    running_of(&mut conn, ctx.workspace_id, ctx.membership_id).await
}

#[server(prefix = "/api", endpoint = "start_timer")]
pub async fn start_timer(
    description: String,
    project_id: Option<i64>,
) -> Result<RunningTimer, AppError> {
    let ctx = require(Permission::TrackOwnTime).await?;
    let description =
        Description::parse(&description).map_err(|m| AppError::field("description", m))?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    timedb::check_project(&mut tx, ctx.workspace_id, ctx.membership_id, project_id).await?;
    timedb::start(
        &mut tx,
        ctx.workspace_id,
        ctx.membership_id,
        description.as_str(),
        project_id,
        "timer",
    )
    .await?;
    let running = running_of(&mut tx, ctx.workspace_id, ctx.membership_id)
        .await?
        .ok_or_else(|| AppError::bug("the timer just started is not running"))?;
    tx.commit().await?;
    Ok(running)
}

#[server(prefix = "/api", endpoint = "stop_timer")]
pub async fn stop_timer() -> Result<(), AppError> {
    let ctx = require(Permission::TrackOwnTime).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    timedb::stop_own(&mut conn, &ctx).await?;
    Ok(())
}

/// The member's week `offset` weeks from this one, in their zone.
#[server(prefix = "/api", endpoint = "my_week")]
pub async fn my_week(offset: i32) -> Result<TimeWeek, AppError> {
    use chrono::{Duration, Utc};

    let ctx = require(Permission::TrackOwnTime).await?;
    let offset = offset.clamp(-520, 520);
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let zone = timedb::member_zone(&mut conn, ctx.workspace_id, ctx.membership_id).await?;
    let today = Utc::now().with_timezone(&zone.tz).date_naive();
    let first = timedb::week_first_day(today, zone.week_start, offset);
    let last = first + Duration::days(6);
    let from = timedb::day_start(zone.tz, first);
    let to = timedb::day_start(zone.tz, last + Duration::days(1));
    let rows = sqlx::query!(
        "SELECT e.id, e.description, e.project_id, p.name AS \"project?\", e.started_at,
                e.ended_at AS \"ended_at!\", e.source
           FROM time_entries e
           LEFT JOIN projects p ON p.workspace_id = e.workspace_id AND p.id = e.project_id
          WHERE e.workspace_id = $1 AND e.membership_id = $2
            AND e.started_at >= $3 AND e.started_at < $4 AND e.ended_at IS NOT NULL
          ORDER BY e.started_at DESC, e.id DESC",
        ctx.workspace_id,
        ctx.membership_id,
        from,
        to
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut days: Vec<DayEntries> = Vec::new();
    let mut day_of: Vec<chrono::NaiveDate> = Vec::new();
    for row in rows {
        let start = row.started_at.with_timezone(&zone.tz);
        let end = row.ended_at.with_timezone(&zone.tz);
        let date = start.date_naive();
        let span_label = if end.date_naive() == date {
            format!("{} – {}", start.format("%H:%M"), end.format("%H:%M"))
        } else {
            format!(
                "{} – {}",
                start.format("%H:%M"),
                end.format("%a %-d %b %H:%M")
            )
        };
        let entry = EntryRow {
            id: row.id,
            description: row.description,
            project_id: row.project_id,
            project: row.project,
            start_local: start.format("%Y-%m-%dT%H:%M").to_string(),
            end_local: end.format("%Y-%m-%dT%H:%M").to_string(),
            span_label,
            seconds: (row.ended_at - row.started_at).num_seconds(),
            source: row.source,
        };
        if day_of.last() != Some(&date) {
            day_of.push(date);
            days.push(DayEntries {
                label: date.format("%A %-d %b").to_string(),
                entries: Vec::new(),
                total_seconds: 0,
            });
        }
        if let Some(day) = days.last_mut() {
            day.total_seconds += entry.seconds;
            day.entries.push(entry);
        }
    }
    let label = if first.format("%Y%m").to_string() == last.format("%Y%m").to_string() {
        format!("{} – {}", first.format("%-d"), last.format("%-d %b %Y"))
    } else {
        format!("{} – {}", first.format("%-d %b"), last.format("%-d %b %Y"))
    };
    let settings = sqlx::query!(
        "SELECT may_edit_own_time, kiosk_pin_hash IS NOT NULL AS \"has_pin!\"
           FROM memberships WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        ctx.membership_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let projects = timedb::trackable_projects(&mut conn, ctx.workspace_id, ctx.membership_id)
        .await?
        .into_iter()
        .map(|(id, name)| ProjectChoice { id, name })
        .collect();
    Ok(TimeWeek {
        offset,
        label,
        total_seconds: days.iter().map(|d| d.total_seconds).sum(),
        days,
        running: running_of(&mut conn, ctx.workspace_id, ctx.membership_id).await?,
        projects,
        time_zone: zone.tz.name().to_owned(),
        week_start: zone.week_start.iso(),
        may_edit: settings.may_edit_own_time,
        has_pin: settings.has_pin,
    })
}

#[cfg(feature = "ssr")]
async fn may_edit_own(conn: &mut sqlx::PgConnection, ctx: &Ctx) -> Result<(), AppError> {
    let allowed: bool = sqlx::query_scalar!(
        "SELECT may_edit_own_time FROM memberships WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        ctx.membership_id
    )
    .fetch_one(conn)
    .await?;
    if allowed {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "Your admin has turned off editing your own time entries.".into(),
        ))
    }
}

/// Adds a finished entry (`entry_id` None) or changes one of the member's
/// own. Times are in the member's zone, as typed.
#[server(prefix = "/api", endpoint = "save_entry")]
pub async fn save_entry(
    entry_id: Option<i64>,
    description: String,
    project_id: Option<i64>,
    start: String,
    end: String,
) -> Result<(), AppError> {
    let ctx = require(Permission::TrackOwnTime).await?;
    let mut errors = crate::error::FieldErrors::default();
    let description = errors.take("description", Description::parse(&description));
    let times = EntryTimes::parse(&start, &end).map_err(|fields| {
        for (field, messages) in fields.0 {
            for message in messages {
                errors.add(&field, message);
            }
        }
    });
    let (Some(description), Ok(times)) = (description, times) else {
        return Err(errors.into());
    };
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    may_edit_own(&mut tx, &ctx).await?;
    let zone = timedb::member_zone(&mut tx, ctx.workspace_id, ctx.membership_id).await?;
    let (started_at, ended_at) = timedb::entry_to_utc(zone.tz, times)?;
    timedb::check_project(&mut tx, ctx.workspace_id, ctx.membership_id, project_id).await?;
    match entry_id {
        None => {
            sqlx::query!(
                "INSERT INTO time_entries (workspace_id, membership_id, project_id, description,
                                           started_at, ended_at, source)
                 VALUES ($1, $2, $3, $4, $5, $6, 'manual')",
                ctx.workspace_id,
                ctx.membership_id,
                project_id,
                description.as_str(),
                started_at,
                ended_at
            )
            .execute(&mut *tx)
            .await?;
        }
        Some(entry_id) => {
            // Only a finished entry of this member, in this workspace.
            sqlx::query!(
                "UPDATE time_entries
                    SET project_id = $4, description = $5, started_at = $6, ended_at = $7,
                        updated_at = now()
                  WHERE workspace_id = $1 AND id = $2 AND membership_id = $3
                    AND ended_at IS NOT NULL",
                ctx.workspace_id,
                entry_id,
                ctx.membership_id,
                project_id,
                description.as_str(),
                started_at,
                ended_at
            )
            .execute(&mut *tx)
            .await?
            .rows_affected()
            .eq(&1)
            .then_some(())
            .ok_or(AppError::NotFound)?;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "delete_entry")]
pub async fn delete_entry(entry_id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::TrackOwnTime).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    may_edit_own(&mut tx, &ctx).await?;
    let deleted = sqlx::query!(
        "DELETE FROM time_entries
          WHERE workspace_id = $1 AND id = $2 AND membership_id = $3 AND ended_at IS NOT NULL",
        ctx.workspace_id,
        entry_id,
        ctx.membership_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if deleted != 1 {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Every IANA zone name, for the time zone picker.
#[server(prefix = "/api", endpoint = "time_zones")]
pub async fn time_zones() -> Result<Vec<String>, AppError> {
    require(Permission::TrackOwnTime).await?;
    let mut names: Vec<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name().to_owned())
        .collect();
    names.sort();
    Ok(names)
}

#[server(prefix = "/api", endpoint = "set_time_settings")]
pub async fn set_time_settings(time_zone: String, week_start: String) -> Result<(), AppError> {
    let ctx = require(Permission::EditOwnProfile).await?;
    let mut errors = crate::error::FieldErrors::default();
    let tz = errors.take(
        "time_zone",
        time_zone
            .trim()
            .parse::<chrono_tz::Tz>()
            .map_err(|_| "Choose a time zone from the list.".to_owned()),
    );
    let week_start = errors.take("week_start", WeekStart::parse(&week_start));
    let (Some(tz), Some(week_start)) = (tz, week_start) else {
        return Err(errors.into());
    };
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    sqlx::query!(
        "UPDATE memberships SET time_zone = $3, week_start = $4 WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        ctx.membership_id,
        tz.name(),
        i16::from(week_start.iso())
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets the PIN used at the Kiosk: the member's own (`membership_id`
/// None), or, for Owners and Admins, anyone's in the workspace.
#[server(prefix = "/api", endpoint = "set_kiosk_pin")]
pub async fn set_kiosk_pin(membership_id: Option<i64>, pin: String) -> Result<(), AppError> {
    let crate::server::guard::Subject {
        ctx,
        membership_id: target,
        ..
    } = crate::server::guard::require_subject(
        membership_id,
        crate::server::guard::MyselfOr::PROFILE,
    )
    .await?;
    crate::server::guard::refuse_while_impersonating(&ctx.session, "set Kiosk PINs").await?;
    let pin = KioskPin::parse(&pin).map_err(|m| AppError::field("pin", m))?;
    let state = app_state()?;
    let hash = password::hash_secret(&state, pin.expose().to_owned()).await?;
    let mut tx = state.pool.begin().await?;
    let account: Option<Option<i64>> = sqlx::query_scalar!(
        "UPDATE memberships
            SET kiosk_pin_hash = $3
          WHERE workspace_id = $1 AND id = $2 AND status <> 'pending'
          RETURNING account_id",
        ctx.workspace_id,
        target,
        hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    let account = account.ok_or(AppError::NotFound)?;
    // A new PIN starts with a clean count.
    crate::server::throttle::KIOSK_PIN
        .succeeded(
            &mut tx,
            &crate::server::throttle::kiosk_pin_key(ctx.workspace_id, target),
        )
        .await?;
    let mut event = audit::Event::new(Some(ctx.workspace_id), audit::AuditAction::KioskPinSet)
        .target_membership(target);
    if let Some(account) = account {
        event = event.target_account(account);
    }
    audit::record(&mut tx, &ctx.actor(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// What an admin sees and sets about someone's time on their card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberTimeSettings {
    pub may_edit_own_time: bool,
    pub has_pin: bool,
    pub pin_locked: bool,
    pub running: Option<RunningTimer>,
}

#[server(prefix = "/api", endpoint = "time_settings_of")]
pub async fn time_settings_of(membership_id: i64) -> Result<MemberTimeSettings, AppError> {
    let ctx = require(Permission::EditMemberProfile).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let row = sqlx::query!(
        "SELECT may_edit_own_time, kiosk_pin_hash IS NOT NULL AS \"has_pin!\",
                teamroom_kiosk_pin_blocked(workspace_id, id) AS \"pin_locked!\"
           FROM memberships WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(MemberTimeSettings {
        may_edit_own_time: row.may_edit_own_time,
        has_pin: row.has_pin,
        pin_locked: row.pin_locked,
        running: running_of(&mut conn, ctx.workspace_id, membership_id).await?,
    })
}

/// Whether a member may edit and delete their own entries (TimeCamp's
/// tracking permissions). Starting and stopping the timer is always allowed.
#[server(prefix = "/api", endpoint = "set_time_permission")]
pub async fn set_time_permission(
    membership_id: i64,
    may_edit_own_time: bool,
) -> Result<(), AppError> {
    let ctx = require(Permission::EditMemberProfile).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let before: Option<bool> = sqlx::query_scalar!(
        "SELECT may_edit_own_time FROM memberships WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let before = before.ok_or(AppError::NotFound)?;
    sqlx::query!(
        "UPDATE memberships SET may_edit_own_time = $3 WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        membership_id,
        may_edit_own_time
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(
            Some(ctx.workspace_id),
            audit::AuditAction::TimePermissionChanged,
        )
        .target_membership(membership_id)
        .details(serde_json::json!({
            "before": { "may_edit_own_time": before },
            "after": { "may_edit_own_time": may_edit_own_time },
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
