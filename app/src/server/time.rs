//! Timers, entries and time settings in the database: the Time page's
//! rules (its server functions only guard and commit), and what the Kiosk,
//! deactivation, the summary report and the REST API share.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sqlx::PgConnection;

use super::{audit::AuditAction, Ctx};
use crate::{
    api::time::{DayEntries, EntryRow, MemberTimeSettings, ProjectChoice, RunningTimer, TimeWeek},
    domain::time::{Description, EntryTimes, WeekStart, MAX_ENTRY_HOURS},
    error::AppError,
};

/// A member's time settings.
#[derive(Debug, Clone, Copy)]
pub struct Zone {
    pub tz: Tz,
    pub week_start: WeekStart,
}

pub async fn member_zone(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<Zone, AppError> {
    let row = sqlx::query!(
        "SELECT time_zone, week_start FROM memberships WHERE workspace_id = $1 AND id = $2",
        workspace_id,
        membership_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Zone {
        // A zone the app stored is always valid; an unknown one reads as UTC.
        tz: row.time_zone.parse().unwrap_or(Tz::UTC),
        week_start: WeekStart::from_iso(row.week_start),
    })
}

/// The NOTIFY channel a member's open pages hear timer changes on (the
/// server turns it into server-sent events; see `server::events`). The
/// payload is `workspace_id:membership_id`.
pub const TIMER_CHANNEL: &str = "teamroom_timer";

/// Tells every app instance that a member's timer started or stopped.
/// PostgreSQL delivers it when the caller's transaction commits, and not at
/// all if it rolls back.
async fn announce(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        "SELECT pg_notify($1, $2)",
        TIMER_CHANNEL,
        format!("{workspace_id}:{membership_id}")
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Starts a timer. The partial unique index allows one running timer per
/// member, so of two racing starts the second gets a clear Conflict.
pub async fn start(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
    description: &str,
    project_id: Option<i64>,
    source: &str,
) -> Result<(i64, DateTime<Utc>), AppError> {
    let inserted = sqlx::query!(
        "INSERT INTO time_entries (workspace_id, membership_id, project_id, description, started_at, source)
         VALUES ($1, $2, $3, $4, now(), $5)
         RETURNING id, started_at",
        workspace_id,
        membership_id,
        project_id,
        description,
        source
    )
    .fetch_one(&mut *conn)
    .await;
    match inserted {
        Ok(row) => {
            announce(conn, workspace_id, membership_id).await?;
            Ok((row.id, row.started_at))
        }
        Err(error) => Err(super::db::on_constraint(|constraint| {
            (constraint == "time_entries_one_running").then(|| {
                AppError::Conflict(
                    "A timer is already running. Stop it before starting another.".into(),
                )
            })
        })(error)),
    }
}

/// A timer just stopped.
#[derive(Debug, Clone, Copy)]
pub struct StoppedEntry {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

/// Stops the member's running timer at the transaction's `now()` (so a
/// deactivation and the stop it causes carry the same time) and tells their
/// open pages. Returns the entry stopped, if one was running. Every stop
/// (the Time page, the Kiosk, the Owner's "Stop timer", deactivation, REST)
/// goes through here.
pub async fn stop_running_entry(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<Option<StoppedEntry>, AppError> {
    let stopped = sqlx::query_as!(
        StoppedEntry,
        r#"UPDATE time_entries SET ended_at = greatest(now(), started_at), updated_at = now()
            WHERE workspace_id = $1 AND membership_id = $2 AND ended_at IS NULL
            RETURNING id, started_at, ended_at AS "ended_at!""#,
        workspace_id,
        membership_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if stopped.is_some() {
        announce(conn, workspace_id, membership_id).await?;
    }
    Ok(stopped)
}

/// `stop_running_entry`, for callers that need only the entry's id.
pub async fn stop_running(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<Option<i64>, AppError> {
    Ok(stop_running_entry(conn, workspace_id, membership_id)
        .await?
        .map(|stopped| stopped.id))
}

/// Local wall time to UTC. A time the clocks skip (spring forward) is an
/// error; a time that happens twice (fall back) is the first of the two.
pub fn to_utc(tz: Tz, local: NaiveDateTime, field: &str) -> Result<DateTime<Utc>, AppError> {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| {
            AppError::field(
                field,
                format!(
                    "{} does not exist in {tz}: the clocks change then.",
                    local.format("%H:%M")
                ),
            )
        })
}

/// Typed local times to UTC, re-checking the length in real time: 24 hours
/// on the wall can be 25 across a clock change.
pub fn entry_to_utc(tz: Tz, times: EntryTimes) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let start = to_utc(tz, times.start(), "start")?;
    let end = to_utc(tz, times.end(), "end")?;
    if end <= start {
        return Err(AppError::field(
            "end",
            "It ends before it starts: the end must be after the start.",
        ));
    }
    if end - start > Duration::hours(MAX_ENTRY_HOURS) {
        return Err(AppError::field(
            "end",
            format!("An entry can be at most {MAX_ENTRY_HOURS} hours long. Split longer work into several entries."),
        ));
    }
    Ok((start, end))
}

/// Midnight at the start of `date` in `tz`, in UTC. Where a zone skips
/// midnight, the first instant of the day.
pub fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    (0..=3)
        .find_map(|hour| {
            date.and_hms_opt(hour, 0, 0)
                .and_then(|local| tz.from_local_datetime(&local).earliest())
        })
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN)))
}

/// The first day of the week `offset` weeks from the one holding `today`.
pub fn week_first_day(today: NaiveDate, week_start: WeekStart, offset: i32) -> NaiveDate {
    let back = (i64::from(today.weekday().num_days_from_monday())
        - i64::from(week_start.iso() - 1))
    .rem_euclid(7);
    today - Duration::days(back) + Duration::weeks(i64::from(offset))
}

/// The projects a member may track time on: all when they have all
/// projects, else the ones given to them; never archived ones.
pub async fn trackable_projects(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        "SELECT p.id, p.name
           FROM projects p
           JOIN memberships m ON m.workspace_id = p.workspace_id AND m.id = $2
          WHERE p.workspace_id = $1 AND p.archived_at IS NULL
            AND (m.all_projects OR EXISTS (
                   SELECT 1 FROM project_members pm
                    WHERE pm.workspace_id = p.workspace_id AND pm.project_id = p.id
                      AND pm.membership_id = m.id))
          ORDER BY lower(p.name)
          LIMIT 1000",
        workspace_id,
        membership_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.name)).collect())
}

/// Refuses a project the member may not track on (or one of another
/// workspace, which looks the same: not theirs).
pub async fn check_project(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
    project_id: Option<i64>,
) -> Result<(), AppError> {
    let Some(project_id) = project_id else {
        return Ok(());
    };
    let allowed = trackable_projects(conn, workspace_id, membership_id)
        .await?
        .iter()
        .any(|(id, _)| *id == project_id);
    if allowed {
        Ok(())
    } else {
        Err(AppError::field("project", "Choose one of your projects."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weeks_start_on_the_members_day() {
        // 2026-11-25 is a Wednesday.
        let wednesday = date("2026-11-25");
        let monday = WeekStart::parse("1").unwrap();
        let sunday = WeekStart::parse("7").unwrap();
        assert_eq!(week_first_day(wednesday, monday, 0), date("2026-11-23"));
        assert_eq!(week_first_day(wednesday, sunday, 0), date("2026-11-22"));
        assert_eq!(week_first_day(wednesday, monday, -1), date("2026-11-16"));
        // On the first day itself the week is that day's.
        assert_eq!(
            week_first_day(date("2026-11-22"), sunday, 0),
            date("2026-11-22")
        );
    }

    #[test]
    fn local_times_become_utc_in_the_members_zone() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let times = EntryTimes::parse("2026-07-01T09:00", "2026-07-01T10:30").unwrap();
        let (start, end) = entry_to_utc(paris, times).unwrap();
        assert_eq!(start.to_rfc3339(), "2026-07-01T07:00:00+00:00");
        assert_eq!((end - start).num_minutes(), 90);
        // 02:30 on the last Sunday of March does not exist in Paris.
        let gap = EntryTimes::parse("2026-03-29T02:30", "2026-03-29T04:00").unwrap();
        let error = entry_to_utc(paris, gap).unwrap_err();
        assert!(error
            .field_message("start")
            .unwrap()
            .contains("clocks change"));
        // 24 wall-clock hours across the autumn change are 25 real ones.
        let long = EntryTimes::parse("2026-10-24T12:00", "2026-10-25T12:00").unwrap();
        let error = entry_to_utc(paris, long).unwrap_err();
        assert!(error
            .field_message("end")
            .unwrap()
            .contains("at most 24 hours"));
    }
}

/// One finished or running entry of a member, as the REST API lists them.
#[derive(Debug, Clone)]
pub struct MemberEntry {
    pub id: i64,
    pub membership_id: i64,
    pub description: String,
    pub project_id: Option<i64>,
    pub project: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub source: String,
}

/// A member's entries starting in `[from, to)`, oldest first, after the
/// keyset position `after` (`started_at`, `id`); at most `limit`. The
/// caller has checked the member is theirs to see.
pub async fn member_entries(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<Vec<MemberEntry>, AppError> {
    let (after_at, after_id) = after.unzip();
    Ok(sqlx::query_as!(
        MemberEntry,
        r#"SELECT e.id, e.membership_id AS "membership_id!", e.description, e.project_id,
                  p.name AS "project?", e.started_at, e.ended_at, e.source
             FROM time_entries e
             LEFT JOIN projects p ON p.workspace_id = e.workspace_id AND p.id = e.project_id
            WHERE e.workspace_id = $1 AND e.membership_id = $2
              AND e.started_at >= $3 AND e.started_at < $4
              AND ($5::timestamptz IS NULL OR (e.started_at, e.id) > ($5, $6::bigint))
            ORDER BY e.started_at, e.id
            LIMIT $7"#,
        workspace_id,
        membership_id,
        from,
        to,
        after_at,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Stops the caller's own running timer; the id of the saved entry. The
/// Time page's and the REST API's rule.
pub async fn stop_own(conn: &mut PgConnection, ctx: &Ctx) -> Result<i64, AppError> {
    stop_running(conn, ctx.workspace_id, ctx.membership_id)
        .await?
        .ok_or_else(|| {
            AppError::Conflict("No timer is running: it may have been stopped elsewhere.".into())
        })
}

/// A member's running timer, if any, with the server's clock (the header
/// and the Time page correct for the browser's clock with it).
pub async fn running_of(
    conn: &mut PgConnection,
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

/// Starts the caller's own timer; what the header then shows.
pub async fn start_own(
    conn: &mut PgConnection,
    ctx: &Ctx,
    description: &Description,
    project_id: Option<i64>,
) -> Result<RunningTimer, AppError> {
    check_project(conn, ctx.workspace_id, ctx.membership_id, project_id).await?;
    start(
        conn,
        ctx.workspace_id,
        ctx.membership_id,
        description.as_str(),
        project_id,
        "timer",
    )
    .await?;
    running_of(conn, ctx.workspace_id, ctx.membership_id)
        .await?
        .ok_or_else(|| AppError::bug("the timer just started is not running"))
}

/// The caller's week `offset` weeks from this one, in their zone: finished
/// entries by day (newest first), the running timer and what they may do.
pub async fn week_of(
    conn: &mut PgConnection,
    ctx: &Ctx,
    offset: i32,
) -> Result<TimeWeek, AppError> {
    let offset = offset.clamp(-520, 520);
    let zone = member_zone(conn, ctx.workspace_id, ctx.membership_id).await?;
    let today = Utc::now().with_timezone(&zone.tz).date_naive();
    let first = week_first_day(today, zone.week_start, offset);
    let last = first + Duration::days(6);
    let from = day_start(zone.tz, first);
    let to = day_start(zone.tz, last + Duration::days(1));
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
    let mut day_of: Vec<NaiveDate> = Vec::new();
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
    let projects = trackable_projects(conn, ctx.workspace_id, ctx.membership_id)
        .await?
        .into_iter()
        .map(|(id, name)| ProjectChoice { id, name })
        .collect();
    Ok(TimeWeek {
        offset,
        label,
        total_seconds: days.iter().map(|d| d.total_seconds).sum(),
        days,
        running: running_of(conn, ctx.workspace_id, ctx.membership_id).await?,
        projects,
        time_zone: zone.tz.name().to_owned(),
        week_start: zone.week_start.iso(),
        may_edit: settings.may_edit_own_time,
        has_pin: settings.has_pin,
    })
}

/// Refuses unless an admin left the caller free to edit and delete their
/// own entries (starting and stopping the timer is always allowed).
async fn may_edit_own(conn: &mut PgConnection, ctx: &Ctx) -> Result<(), AppError> {
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

/// Adds a finished entry of the caller's (`entry_id` None) or changes one
/// of their finished entries; times are in their zone, as typed. Another
/// member's entry, or a running one, is NotFound.
pub async fn save_own_entry(
    tx: &mut PgConnection,
    ctx: &Ctx,
    entry_id: Option<i64>,
    description: &Description,
    project_id: Option<i64>,
    times: EntryTimes,
) -> Result<(), AppError> {
    may_edit_own(tx, ctx).await?;
    let zone = member_zone(tx, ctx.workspace_id, ctx.membership_id).await?;
    let (started_at, ended_at) = entry_to_utc(zone.tz, times)?;
    check_project(tx, ctx.workspace_id, ctx.membership_id, project_id).await?;
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
    Ok(())
}

/// Deletes one of the caller's finished entries.
pub async fn delete_own_entry(
    tx: &mut PgConnection,
    ctx: &Ctx,
    entry_id: i64,
) -> Result<(), AppError> {
    may_edit_own(tx, ctx).await?;
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
    if deleted == 1 {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The caller's own time zone and first day of the week.
pub async fn set_own_zone(
    conn: &mut PgConnection,
    ctx: &Ctx,
    tz: Tz,
    week_start: WeekStart,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE memberships SET time_zone = $3, week_start = $4 WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        ctx.membership_id,
        tz.name(),
        i16::from(week_start.iso())
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a member's Kiosk PIN (already hashed): not an invitee's, whose
/// membership is not theirs yet. The PIN's failure count starts again and
/// the change is audited.
pub async fn set_kiosk_pin_hash(
    tx: &mut PgConnection,
    ctx: &Ctx,
    membership_id: i64,
    hash: &str,
) -> Result<(), AppError> {
    let account: Option<Option<i64>> = sqlx::query_scalar!(
        "UPDATE memberships
            SET kiosk_pin_hash = $3
          WHERE workspace_id = $1 AND id = $2 AND status <> 'pending'
          RETURNING account_id",
        ctx.workspace_id,
        membership_id,
        hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    let account = account.ok_or(AppError::NotFound)?;
    super::throttle::KIOSK_PIN
        .succeeded(
            tx,
            &super::throttle::kiosk_pin_key(ctx.workspace_id, membership_id),
        )
        .await?;
    let mut event = ctx
        .event(AuditAction::KioskPinSet)
        .target_membership(membership_id);
    if let Some(account) = account {
        event = event.target_account(account);
    }
    ctx.record(tx, event).await
}

/// What an admin sees about someone's time on their card.
pub async fn settings_of(
    conn: &mut PgConnection,
    ctx: &Ctx,
    membership_id: i64,
) -> Result<MemberTimeSettings, AppError> {
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
        running: running_of(conn, ctx.workspace_id, membership_id).await?,
    })
}

/// Whether a member may edit and delete their own entries, audited with
/// the value before and after.
pub async fn set_edit_permission(
    tx: &mut PgConnection,
    ctx: &Ctx,
    membership_id: i64,
    may_edit_own_time: bool,
) -> Result<(), AppError> {
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
    ctx.record(
        tx,
        ctx.event(AuditAction::TimePermissionChanged)
            .target_membership(membership_id)
            .details(serde_json::json!({
                "before": { "may_edit_own_time": before },
                "after": { "may_edit_own_time": may_edit_own_time },
            })),
    )
    .await
}
