//! The Kiosk's rules: which device a token names, launching and ending
//! devices, who may be picked and the PIN-checked punch. The server
//! functions in `api::kiosk` read and set the cookie, guard and commit.

use sqlx::PgConnection;

use super::{
    audit::AuditAction, password, session, state::AppState, throttle, time as timedb, user_agent,
    Ctx,
};
use crate::{
    api::kiosk::{KioskDeviceRow, KioskPerson, Punch, KIOSK_IDLE_DAYS},
    domain::time::KioskPin,
    error::AppError,
};

/// `last_used_at` (and the cookie) is renewed at most this often, so a busy
/// device does not write on every request.
const TOUCH_EVERY_SECS: f64 = 3600.0;

/// A live Kiosk device, as its token names it.
pub struct KioskDevice {
    pub workspace_id: i64,
    pub kiosk_id: i64,
    /// Its use was just recorded (at most hourly): the cookie's lifetime
    /// should slide forward with it.
    pub renewed: bool,
}

/// The guard of every Kiosk call: the token names one live kiosk of one
/// workspace, used within the last [`KIOSK_IDLE_DAYS`], whose launcher may
/// still launch the Kiosk there (checked now, against their current
/// membership and roles). Anything else is Unauthenticated; a device found
/// too old or orphaned is marked ended.
pub async fn device_of(conn: &mut PgConnection, token: &str) -> Result<KioskDevice, AppError> {
    let hash = session::hash_token(token);
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
        end(conn, row.workspace_id, row.id, reason, None).await?;
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
    }
    Ok(KioskDevice {
        workspace_id: row.workspace_id,
        kiosk_id: row.id,
        renewed: row.stale,
    })
}

/// Ends a live device for `reason` (`exited`, `unused`, `launcher_lost_role`,
/// `ended_by_admin`); false when it was not live.
async fn end(
    conn: &mut PgConnection,
    workspace_id: i64,
    kiosk_id: i64,
    reason: &str,
    ended_by: Option<i64>,
) -> Result<bool, AppError> {
    let ended = sqlx::query!(
        "UPDATE kiosks SET ended_at = now(), ended_by = $4, end_reason = $3
          WHERE workspace_id = $1 AND id = $2 AND ended_at IS NULL",
        workspace_id,
        kiosk_id,
        reason,
        ended_by
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(ended == 1)
}

/// The device asks to leave Kiosk mode.
pub async fn exit(conn: &mut PgConnection, device: &KioskDevice) -> Result<(), AppError> {
    end(conn, device.workspace_id, device.kiosk_id, "exited", None).await?;
    Ok(())
}

/// Registers a device whose token hashes to `token_hash` as the
/// workspace's Kiosk and ends the launcher's session on it (the tablet on
/// the wall opens no one's account); audited.
pub async fn launch(tx: &mut PgConnection, ctx: &Ctx, token_hash: &[u8]) -> Result<i64, AppError> {
    // Kept short: it only names the device on the Settings list.
    let user_agent: Option<String> = ctx
        .meta
        .user_agent
        .as_deref()
        .map(|ua| ua.chars().take(500).collect());
    let kiosk_id: i64 = sqlx::query_scalar!(
        "INSERT INTO kiosks (workspace_id, token_hash, launched_by, user_agent, last_used_at)
         VALUES ($1, $2, $3, $4, now()) RETURNING id",
        ctx.workspace_id,
        token_hash,
        ctx.actor_account_id,
        user_agent.as_deref()
    )
    .fetch_one(&mut *tx)
    .await?;
    session::delete(tx, &ctx.session.token_hash).await?;
    ctx.record(
        tx,
        ctx.event(AuditAction::KioskLaunched)
            .details(serde_json::json!({ "kiosk_id": kiosk_id })),
    )
    .await?;
    Ok(kiosk_id)
}

pub async fn workspace_name(
    conn: &mut PgConnection,
    device: &KioskDevice,
) -> Result<String, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT name FROM workspaces WHERE id = $1",
        device.workspace_id
    )
    .fetch_one(conn)
    .await?)
}

/// Active members whose name has a word starting with `search` (all, when
/// blank), by name; at most 60: on a large workspace people type a few
/// letters of their name.
pub async fn people(
    conn: &mut PgConnection,
    device: &KioskDevice,
    search: &str,
) -> Result<Vec<KioskPerson>, AppError> {
    let search: String = search.trim().chars().take(100).collect();
    let pattern = super::directory::like_word_start(&search);
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
    .fetch_all(conn)
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
/// their PIN. Tries are counted per member by `throttle::KIOSK_PIN`, each
/// reserved before the PIN is checked, so a burst of guesses gets only the
/// free tries checked; after those each further try waits, doubling up to
/// 15 minutes. Only an active member of the device's workspace can punch;
/// anyone else, a member of another workspace included, is NotFound.
pub async fn punch(
    state: &AppState,
    device: &KioskDevice,
    membership_id: i64,
    pin: &KioskPin,
) -> Result<Punch, AppError> {
    let mut conn = state.pool.acquire().await?;
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
    let place = password::queue_place(state)?;
    let throttle_key = throttle::kiosk_pin_key(device.workspace_id, membership_id);
    let reserved = throttle::KIOSK_PIN
        .reserve(&mut conn, &throttle_key)
        .await?;
    drop(conn);
    let matches = match password::verify(state, place, pin.expose().to_owned(), Some(stored)).await
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
    let mut tx = state.pool.begin().await?;
    // Only this try is given back: a member's right PIN does not hand
    // someone guessing at it a fresh set of free tries.
    throttle::KIOSK_PIN
        .give_back(&mut tx, &throttle_key)
        .await?;
    let zone = timedb::member_zone(&mut tx, device.workspace_id, membership_id).await?;
    let local_time =
        |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&zone.tz).format("%H:%M").to_string();
    let punch =
        match timedb::stop_running_entry(&mut tx, device.workspace_id, membership_id).await? {
            Some(stopped) => Punch {
                name: member.name,
                clocked_in: false,
                at: local_time(stopped.ended_at),
                worked_seconds: Some((stopped.ended_at - stopped.started_at).num_seconds()),
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
                    at: local_time(started_at),
                    worked_seconds: None,
                }
            }
        };
    tx.commit().await?;
    Ok(punch)
}

/// The workspace's live Kiosk devices, newest first (the Settings list).
/// Devices past their idle time, or whose launcher may no longer launch
/// the Kiosk, are left out: they no longer work.
pub async fn live_devices(
    conn: &mut PgConnection,
    ctx: &Ctx,
) -> Result<Vec<KioskDeviceRow>, AppError> {
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
    .fetch_all(conn)
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

/// An Owner or Admin ends one of the workspace's devices (its next request
/// is refused); audited. Another workspace's device is NotFound.
pub async fn end_by_admin(tx: &mut PgConnection, ctx: &Ctx, kiosk_id: i64) -> Result<(), AppError> {
    if !end(
        tx,
        ctx.workspace_id,
        kiosk_id,
        "ended_by_admin",
        Some(ctx.actor_account_id),
    )
    .await?
    {
        return Err(AppError::NotFound);
    }
    ctx.record(
        tx,
        ctx.event(AuditAction::KioskEnded)
            .details(serde_json::json!({ "kiosk_id": kiosk_id })),
    )
    .await
}
