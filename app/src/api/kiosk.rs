//! The Kiosk: a shared device where members clock in and out with a PIN.
//! An Owner, Admin or Project manager launches it, which signs them out on
//! that device; from then on the device holds a Kiosk token (its own
//! cookie), not anyone's session, and can only list names and punch.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{time::KioskPin, Permission},
    server::{app_state, audit, password, require, session, throttle, time as timedb, user_agent},
};

#[cfg(feature = "ssr")]
const COOKIE_NAME: &str = "teamroom_kiosk";

/// A Kiosk device unused for this many days is over (a sliding lifetime:
/// each use moves the end, and the cookie's, forward).
pub const KIOSK_IDLE_DAYS: i64 = 30;

/// `last_used_at` (and the cookie) is renewed at most this often, so a busy
/// device does not write on every request.
#[cfg(feature = "ssr")]
const TOUCH_EVERY_SECS: f64 = 3600.0;

/// A live Kiosk device on the Settings list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskDeviceRow {
    pub id: i64,
    pub launched_by: Option<String>,
    pub launched_at: chrono::DateTime<chrono::Utc>,
    /// Renewed at most hourly.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// "Chrome on Android", from the launching browser.
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskDeviceInfo {
    pub workspace_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskPerson {
    pub membership_id: i64,
    pub name: String,
    pub clocked_in: bool,
    pub has_pin: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Punch {
    pub name: String,
    pub clocked_in: bool,
    /// `09:12`, in the member's zone.
    pub at: String,
    /// Length of the entry just finished, when clocking out.
    pub worked_seconds: Option<i64>,
}

#[cfg(feature = "ssr")]
struct KioskDevice {
    workspace_id: i64,
    kiosk_id: i64,
}

#[cfg(feature = "ssr")]
fn kiosk_token(
    headers: &http::HeaderMap,
    settings: &crate::server::AuthSettings,
) -> Option<String> {
    session::cookie_value(headers, COOKIE_NAME, 64, settings)
}

#[cfg(feature = "ssr")]
fn kiosk_cookie(
    value: &str,
    secure: bool,
    max_age_days: i64,
    settings: &crate::server::AuthSettings,
) -> String {
    session::build_cookie(
        COOKIE_NAME,
        value,
        cookie::time::Duration::days(max_age_days),
        cookie::SameSite::Strict,
        secure,
        settings,
    )
}

/// The guard of every Kiosk call: the device's token names one live kiosk
/// of one workspace, used within the last [`KIOSK_IDLE_DAYS`], whose
/// launcher may still launch the Kiosk there (checked now, against their
/// current membership and roles). Anything else is refused as
/// unauthenticated; a device found too old or orphaned is marked ended.
#[cfg(feature = "ssr")]
async fn device(conn: &mut sqlx::PgConnection) -> Result<KioskDevice, AppError> {
    let parts = use_context::<http::request::Parts>()
        .ok_or_else(|| AppError::bug("request parts missing from the server function context"))?;
    let token = kiosk_token(&parts.headers, &app_state()?.auth).ok_or(AppError::Unauthenticated)?;
    let hash = session::hash_token(&token);
    let row = sqlx::query!(
        r#"SELECT workspace_id, id,
                  coalesce(last_used_at, created_at) > now() - make_interval(days => $2) AS "fresh!",
                  launched_by IS NOT NULL
                    AND teamroom_kiosk_launcher_may(workspace_id, launched_by) AS "launcher_may!",
                  last_used_at IS NULL
                    OR last_used_at < now() - make_interval(secs => $3) AS "stale!"
             FROM kiosks
            WHERE token_hash = $1 AND ended_at IS NULL"#,
        hash.as_slice(),
        KIOSK_IDLE_DAYS as i32,
        TOUCH_EVERY_SECS
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::Unauthenticated)?;
    if !row.fresh || !row.launcher_may {
        let reason = if row.fresh {
            "launcher_lost_role"
        } else {
            "unused"
        };
        sqlx::query!(
            "UPDATE kiosks SET ended_at = now(), end_reason = $3
              WHERE workspace_id = $1 AND id = $2 AND ended_at IS NULL",
            row.workspace_id,
            row.id,
            reason
        )
        .execute(&mut *conn)
        .await?;
        return Err(AppError::Unauthenticated);
    }
    if row.stale {
        sqlx::query!(
            "UPDATE kiosks SET last_used_at = now() WHERE workspace_id = $1 AND id = $2",
            row.workspace_id,
            row.id
        )
        .execute(&mut *conn)
        .await?;
        // The cookie slides with the device's lifetime, `Secure` as at launch
        // (an https proxy in front of an http PUBLIC_URL counts).
        let state = app_state()?;
        let (meta, _) = super::request_meta(&state)?;
        super::set_cookie(kiosk_cookie(
            &token,
            meta.secure,
            KIOSK_IDLE_DAYS,
            &state.auth,
        ))?;
    }
    Ok(KioskDevice {
        workspace_id: row.workspace_id,
        kiosk_id: row.id,
    })
}

/// Turns this device into the workspace's Kiosk and signs the launcher out
/// of it, so the tablet on the wall opens no one's account.
#[server(prefix = "/api", endpoint = "launch_kiosk")]
pub async fn launch_kiosk() -> Result<(), AppError> {
    let ctx = require(Permission::LaunchKiosk).await?;
    let state = app_state()?;
    let token = session::SessionToken::generate();
    // Kept short: it only names the device on the Settings list.
    let user_agent: Option<String> = ctx
        .meta
        .user_agent
        .as_deref()
        .map(|ua| ua.chars().take(500).collect());
    let mut tx = state.pool.begin().await?;
    let kiosk_id: i64 = sqlx::query_scalar!(
        "INSERT INTO kiosks (workspace_id, token_hash, launched_by, user_agent, last_used_at)
         VALUES ($1, $2, $3, $4, now()) RETURNING id",
        ctx.workspace_id,
        token.hash.as_slice(),
        ctx.actor_account_id,
        user_agent.as_deref()
    )
    .fetch_one(&mut *tx)
    .await?;
    session::delete(&mut tx, &ctx.session.token_hash).await?;
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(Some(ctx.workspace_id), audit::AuditAction::KioskLaunched)
            .details(serde_json::json!({ "kiosk_id": kiosk_id })),
    )
    .await?;
    tx.commit().await?;
    super::set_cookie(session::clear_cookie(&state.auth, ctx.meta.secure))?;
    super::set_cookie(kiosk_cookie(
        &token.value,
        ctx.meta.secure,
        KIOSK_IDLE_DAYS,
        &state.auth,
    ))?;
    Ok(())
}

/// Which workspace this device is the Kiosk of; Unauthenticated when it
/// is not one.
#[server(prefix = "/api", endpoint = "kiosk_info")]
pub async fn kiosk_info() -> Result<KioskDeviceInfo, AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let device = device(&mut conn).await?;
    let workspace_name: String = sqlx::query_scalar!(
        "SELECT name FROM workspaces WHERE id = $1",
        device.workspace_id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(KioskDeviceInfo { workspace_name })
}

/// Active members whose name matches `search` (all, when blank), by name.
/// At most 60: on a large workspace people type a few letters of their name.
#[server(prefix = "/api", endpoint = "kiosk_people")]
pub async fn kiosk_people(search: String) -> Result<Vec<KioskPerson>, AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let device = device(&mut conn).await?;
    let search: String = search.trim().chars().take(100).collect();
    let pattern = crate::server::directory::like_word_start(&search);
    let rows = sqlx::query!(
        r#"SELECT m.id, teamroom_member_name(m, a) AS "name!",
                  m.kiosk_pin_hash IS NOT NULL AS "has_pin!",
                  EXISTS (SELECT 1 FROM time_entries e
                           WHERE e.workspace_id = m.workspace_id AND e.membership_id = m.id
                             AND e.ended_at IS NULL) AS "clocked_in!"
             FROM memberships m
             LEFT JOIN accounts a ON a.id = m.account_id
            WHERE m.workspace_id = $1 AND m.status = 'active'
              AND ($2 = '' OR ' ' || teamroom_fold(teamroom_member_name(m, a)) LIKE teamroom_fold($3))
            ORDER BY m.sort_name, m.id
            LIMIT 60"#,
        device.workspace_id,
        search,
        pattern
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| KioskPerson {
            membership_id: row.id,
            name: row.name,
            clocked_in: row.clocked_in,
            has_pin: row.has_pin,
        })
        .collect())
}

/// Clocks a member in (starts a timer) or out (stops it) after checking
/// their PIN. Tries are counted per member by `throttle::KIOSK_PIN`: after
/// the free ones each further try waits, doubling up to 15 minutes.
#[server(prefix = "/api", endpoint = "kiosk_punch")]
pub async fn kiosk_punch(membership_id: i64, pin: String) -> Result<Punch, AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let device = device(&mut conn).await?;
    let pin = KioskPin::parse(&pin).map_err(|m| AppError::field("pin", m))?;
    // Only an active member of this Kiosk's workspace; anyone else,
    // including a member of another workspace, is not found.
    let member = sqlx::query!(
        r#"SELECT teamroom_member_name(m, a) AS "name!", m.kiosk_pin_hash
             FROM memberships m
             LEFT JOIN accounts a ON a.id = m.account_id
            WHERE m.workspace_id = $1 AND m.id = $2 AND m.status = 'active'"#,
        device.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let Some(stored) = member.kiosk_pin_hash else {
        return Err(AppError::Conflict(format!(
            "{} has no PIN yet. An admin can set one on their Team page card.",
            member.name
        )));
    };
    // The try is counted before the PIN is checked, so a burst of guesses
    // gets only the free tries checked.
    let place = password::queue_place(&state)?;
    let throttle_key = throttle::kiosk_pin_key(device.workspace_id, membership_id);
    let reserved = throttle::KIOSK_PIN
        .reserve(&mut conn, &throttle_key)
        .await?;
    drop(conn);
    let matches = match password::verify(&state, place, pin.expose().to_owned(), Some(stored)).await
    {
        Ok(matches) => matches,
        Err(error) => {
            // Not checked (the hashing task failed): not a wrong PIN.
            throttle::KIOSK_PIN
                .give_back(&mut *state.pool.acquire().await?, &throttle_key)
                .await?;
            return Err(error);
        }
    };
    let mut tx = state.pool.begin().await?;
    if !matches {
        let left = throttle::KIOSK_PIN.tries_left(reserved);
        return Err(AppError::field(
            "pin",
            if left > 0 {
                format!(
                    "Wrong PIN. {left} {} left before a pause.",
                    if left == 1 { "try" } else { "tries" }
                )
            } else {
                "Wrong PIN. Too many tries: wait a moment before the next one.".to_owned()
            },
        ));
    }
    // Only this try is given back: a member's right PIN does not hand
    // someone guessing at it a fresh set of free tries.
    throttle::KIOSK_PIN
        .give_back(&mut tx, &throttle_key)
        .await?;
    let zone = timedb::member_zone(&mut tx, device.workspace_id, membership_id).await?;
    let stopped = sqlx::query!(
        "UPDATE time_entries SET ended_at = greatest(now(), started_at), updated_at = now()
          WHERE workspace_id = $1 AND membership_id = $2 AND ended_at IS NULL
          RETURNING ended_at AS \"ended_at!\", started_at",
        device.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let punch = match stopped {
        Some(row) => Punch {
            name: member.name,
            clocked_in: false,
            at: row
                .ended_at
                .with_timezone(&zone.tz)
                .format("%H:%M")
                .to_string(),
            worked_seconds: Some((row.ended_at - row.started_at).num_seconds()),
        },
        None => {
            let (_, started_at) = timedb::start(
                &mut tx,
                device.workspace_id,
                membership_id,
                "",
                None,
                "kiosk",
            )
            .await?;
            Punch {
                name: member.name,
                clocked_in: true,
                at: started_at
                    .with_timezone(&zone.tz)
                    .format("%H:%M")
                    .to_string(),
                worked_seconds: None,
            }
        }
    };
    tx.commit().await?;
    Ok(punch)
}

/// Ends Kiosk mode on this device; someone signs in again to use it.
#[server(prefix = "/api", endpoint = "exit_kiosk")]
pub async fn exit_kiosk() -> Result<(), AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let secure = {
        let (meta, _) = super::request_meta(&state)?;
        meta.secure
    };
    if let Ok(device) = device(&mut conn).await {
        sqlx::query!(
            "UPDATE kiosks SET ended_at = now(), end_reason = 'exited'
              WHERE workspace_id = $1 AND id = $2",
            device.workspace_id,
            device.kiosk_id
        )
        .execute(&mut *conn)
        .await?;
    }
    super::set_cookie(kiosk_cookie("", secure, 0, &state.auth))?;
    Ok(())
}

/// The workspace's live Kiosk devices, newest first, for Owners and Admins
/// (the Settings list). Devices past their idle time or whose launcher may
/// no longer launch the Kiosk are left out: they no longer work.
#[server(prefix = "/api", endpoint = "list_kiosk_devices")]
pub async fn list_kiosk_devices() -> Result<Vec<KioskDeviceRow>, AppError> {
    let ctx = require(Permission::ManageMembers).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let rows = sqlx::query!(
        r#"SELECT k.id, a.display_name AS "launched_by?", k.created_at, k.last_used_at, k.user_agent
             FROM kiosks k
             LEFT JOIN accounts a ON a.id = k.launched_by
            WHERE k.workspace_id = $1 AND k.ended_at IS NULL
              AND coalesce(k.last_used_at, k.created_at) > now() - make_interval(days => $2)
              AND k.launched_by IS NOT NULL
              AND teamroom_kiosk_launcher_may(k.workspace_id, k.launched_by)
            ORDER BY k.created_at DESC, k.id DESC
            LIMIT 200"#,
        ctx.workspace_id,
        KIOSK_IDLE_DAYS as i32
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| KioskDeviceRow {
            id: row.id,
            launched_by: row.launched_by,
            launched_at: row.created_at,
            last_used_at: row.last_used_at,
            device: row.user_agent.as_deref().map(user_agent::describe),
        })
        .collect())
}

/// Ends one of this workspace's Kiosk devices (Owners and Admins): its next
/// request is refused. Another workspace's device is not found.
#[server(prefix = "/api", endpoint = "end_kiosk_device")]
pub async fn end_kiosk_device(id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::ManageMembers).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let ended = sqlx::query!(
        "UPDATE kiosks SET ended_at = now(), ended_by = $3, end_reason = 'ended_by_admin'
          WHERE workspace_id = $1 AND id = $2 AND ended_at IS NULL",
        ctx.workspace_id,
        id,
        ctx.actor_account_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if ended == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &ctx.actor(),
        audit::Event::new(Some(ctx.workspace_id), audit::AuditAction::KioskEnded)
            .details(serde_json::json!({ "kiosk_id": id })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
