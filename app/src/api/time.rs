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
    server::{app_state, password, require, time as timedb},
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

/// The signed-in member's running timer, if any (for the header).
#[server(prefix = "/api", endpoint = "current_timer")]
pub async fn current_timer() -> Result<Option<RunningTimer>, AppError> {
    let ctx = require(Permission::TrackOwnTime).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    timedb::running_of(&mut conn, ctx.workspace_id, ctx.membership_id).await
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
    let running = timedb::start_own(&mut tx, &ctx, &description, project_id).await?;
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
    let ctx = require(Permission::TrackOwnTime).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    timedb::week_of(&mut conn, &ctx, offset).await
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
    timedb::save_own_entry(&mut tx, &ctx, entry_id, &description, project_id, times).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "delete_entry")]
pub async fn delete_entry(entry_id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::TrackOwnTime).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    timedb::delete_own_entry(&mut tx, &ctx, entry_id).await?;
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
    timedb::set_own_zone(&mut conn, &ctx, tz, week_start).await?;
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
    timedb::set_kiosk_pin_hash(&mut tx, &ctx, target, &hash).await?;
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
    timedb::settings_of(&mut conn, &ctx, membership_id).await
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
    // Checked again inside the write: an Admin demoted meanwhile changes nothing.
    let ctx = crate::server::require_in(&mut tx, &ctx, Permission::EditMemberProfile).await?;
    timedb::set_edit_permission(&mut tx, &ctx, membership_id, may_edit_own_time).await?;
    tx.commit().await?;
    Ok(())
}
