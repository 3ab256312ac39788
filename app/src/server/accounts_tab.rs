//! The Owner's Accounts tab (seed 000, PRODUCT.md section 5): the accounts
//! behind a workspace's members, and what the Owner may do to them without
//! logging in as them: stop a forgotten timer (and correct it), remove
//! two-factor, set a password. The callers have checked `AccountsTab`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::directory::like_patterns;
use super::Ctx;
use crate::{
    api::accounts::StoppedEntry,
    domain::{
        accounts::{AccountFilter, AccountSearch, TwoFactorMethod, PAGE_ROWS},
        MemberStatus, Permission,
    },
    error::AppError,
};

/// One account row as the tab shows it.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub membership_id: i64,
    pub account_id: i64,
    pub name: String,
    pub email: String,
    pub status: MemberStatus,
    pub is_owner: bool,
    pub api_keys: i64,
    pub authenticator: bool,
    pub recovery_codes_left: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub timer_entry_id: Option<i64>,
    pub timer_started_at: Option<DateTime<Utc>>,
    pub timer_description: Option<String>,
    pub timer_project: Option<String>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub within_reach: bool,
}

/// Where the next page starts: opaque to the browser, bound to the
/// workspace it was issued in.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    w: i64,
    name: String,
    id: i64,
}

fn bad_cursor() -> AppError {
    AppError::field(
        "cursor",
        "This list position is not valid any more. Reload the list to start again.",
    )
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str, workspace_id: i64) -> Result<Self, AppError> {
        if text.len() > 1024 {
            return Err(bad_cursor());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad_cursor())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
        if cursor.w != workspace_id {
            return Err(bad_cursor());
        }
        Ok(cursor)
    }
}

/// The condition "this account belongs only to workspaces owned by
/// `owner`" over the row's account `a`: account-wide changes (password,
/// two-factor) stay inside the Owner's reach (PRODUCT.md section 5).
const WITHIN_REACH: &str = "NOT EXISTS (SELECT 1 FROM memberships o JOIN workspaces ow ON ow.id = o.workspace_id
                             WHERE o.account_id = a.id AND ow.owner_account_id <> w.owner_account_id)";

/// The live API keys of membership `m`.
const LIVE_API_KEYS: &str = "(SELECT count(*) FROM api_keys k
                               WHERE k.workspace_id = m.workspace_id AND k.membership_id = m.id
                                 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()))";

/// The sign-in wait on account `a`'s address, while it lasts.
const LOCKED_UNTIL: &str = "(SELECT t.blocked_until FROM auth_throttles t
                              WHERE t.scope = 'sign_in_email' AND t.key = lower(a.email)
                                AND t.blocked_until > now())";

fn select_rows(sql: &mut QueryBuilder<Postgres>) {
    sql.push(format_args!(
        "SELECT m.id AS membership_id, a.id AS account_id,
                teamroom_member_name(m, a) AS name, a.email, m.status,
                (w.owner_account_id = a.id) AS is_owner, m.sort_name,
                {LIVE_API_KEYS} AS api_keys,
                (tf.enabled_at IS NOT NULL) AS authenticator,
                (SELECT count(*) FROM recovery_codes r WHERE r.account_id = a.id AND r.used_at IS NULL)
                    AS recovery_codes_left,
                {LOCKED_UNTIL} AS locked_until,
                e.id AS timer_entry_id, e.started_at AS timer_started_at,
                e.description AS timer_description, p.name AS timer_project,
                a.last_sign_in_at,
                {WITHIN_REACH} AS within_reach
           FROM memberships m
           JOIN accounts a ON a.id = m.account_id
           JOIN workspaces w ON w.id = m.workspace_id
           LEFT JOIN two_factor tf ON tf.account_id = a.id
           LEFT JOIN time_entries e
                  ON e.workspace_id = m.workspace_id AND e.membership_id = m.id AND e.ended_at IS NULL
           LEFT JOIN projects p ON p.workspace_id = e.workspace_id AND p.id = e.project_id"
    ));
}

/// The page's membership ids, in order: only the cheap columns, so
/// PostgreSQL walks the name index (or the trigram index for a rare word)
/// and stops at the page's end. The per-account details (key counts,
/// locks, reach) are computed afterwards for these rows alone.
fn page_ids_statement(
    workspace_id: i64,
    patterns: Vec<String>,
    filter: AccountFilter,
    cursor: Option<&Cursor>,
) -> QueryBuilder<Postgres> {
    let mut sql =
        QueryBuilder::new("SELECT m.id, m.sort_name FROM memberships m WHERE m.workspace_id = ");
    sql.push_bind(workspace_id)
        .push(" AND m.account_id IS NOT NULL");
    for pattern in patterns {
        // The stored search text (name, email, groups, manager) is indexed;
        // the second test keeps the match to the name and the address.
        sql.push(" AND m.search_text LIKE ")
            .push_bind(pattern.clone())
            .push(" AND (' ' || m.sort_name || ' ' || m.sort_email) LIKE ")
            .push_bind(pattern);
    }
    // Each filter names a small set first (locks, two-factor, running
    // timers, live keys), so the planner can start from it.
    match filter {
        AccountFilter::All => {}
        AccountFilter::Locked => {
            sql.push(
                " AND m.account_id IN (SELECT a.id FROM auth_throttles t
                                         JOIN accounts a ON lower(a.email) = t.key
                                        WHERE t.scope = 'sign_in_email' AND t.blocked_until > now())",
            );
        }
        AccountFilter::TwoFactor => {
            sql.push(
                " AND m.account_id IN (SELECT tf.account_id FROM two_factor tf
                                        WHERE tf.enabled_at IS NOT NULL)",
            );
        }
        AccountFilter::TimerRunning => {
            sql.push(
                " AND m.id IN (SELECT e.membership_id FROM time_entries e WHERE e.workspace_id = ",
            )
            .push_bind(workspace_id)
            .push(" AND e.ended_at IS NULL)");
        }
        AccountFilter::ApiKeys => {
            sql.push(
                " AND m.id IN (SELECT k.membership_id FROM api_keys k WHERE k.workspace_id = ",
            )
            .push_bind(workspace_id)
            .push(" AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()))");
        }
    }
    if let Some(cursor) = cursor {
        sql.push(" AND (m.sort_name, m.id) > (")
            .push_bind(cursor.name.clone())
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    sql.push(" ORDER BY m.sort_name, m.id LIMIT ")
        .push_bind(PAGE_ROWS as i64 + 1);
    sql
}

/// A page of the tab: rows sorted by folded name, then id (keyset), and
/// the cursor of the next page when there is one.
pub async fn page(
    conn: &mut PgConnection,
    workspace_id: i64,
    search: &AccountSearch,
    filter: AccountFilter,
    after: Option<&str>,
) -> Result<(Vec<AccountRecord>, Option<String>), AppError> {
    let cursor = after
        .map(|text| Cursor::decode(text, workspace_id))
        .transpose()?;
    let patterns = like_patterns(conn, search.words()).await?;
    // Unprepared, so each statement is planned with its real patterns
    // (a common 1-letter word and a rare surname want different plans).
    let ids_rows = page_ids_statement(workspace_id, patterns, filter, cursor.as_ref())
        .build()
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
    let ids: Vec<i64> = ids_rows
        .iter()
        .take(PAGE_ROWS)
        .map(|row| row.try_get("id"))
        .collect::<Result<_, _>>()?;
    let next = match ids_rows.get(PAGE_ROWS.saturating_sub(1)) {
        Some(last) if ids_rows.len() > PAGE_ROWS => Some(
            Cursor {
                w: workspace_id,
                name: last.try_get("sort_name")?,
                id: last.try_get("id")?,
            }
            .encode(),
        ),
        _ => None,
    };
    if ids.is_empty() {
        return Ok((Vec::new(), None));
    }
    let mut sql = QueryBuilder::new("");
    select_rows(&mut sql);
    sql.push(" WHERE m.workspace_id = ")
        .push_bind(workspace_id)
        .push(" AND m.id = ANY(")
        .push_bind(ids)
        .push(") ORDER BY m.sort_name, m.id");
    let rows = sql.build().fetch_all(&mut *conn).await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        records.push(AccountRecord {
            membership_id: row.try_get("membership_id")?,
            account_id: row.try_get("account_id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            status: row.try_get("status")?,
            is_owner: row.try_get("is_owner")?,
            api_keys: row.try_get("api_keys")?,
            authenticator: row.try_get("authenticator")?,
            recovery_codes_left: row.try_get("recovery_codes_left")?,
            locked_until: row.try_get("locked_until")?,
            timer_entry_id: row.try_get("timer_entry_id")?,
            timer_started_at: row.try_get("timer_started_at")?,
            timer_description: row.try_get("timer_description")?,
            timer_project: row.try_get("timer_project")?,
            last_sign_in_at: row.try_get("last_sign_in_at")?,
            within_reach: row.try_get("within_reach")?,
        });
    }
    Ok((records, next))
}

/// A member of the Owner's workspace as an account-level target.
pub struct Target {
    pub membership_id: i64,
    pub account_id: i64,
    pub name: String,
    pub email: String,
    pub is_owner: bool,
    pub within_reach: bool,
}

/// The member `membership_id` of `workspace_id` with an account, locked
/// for the rest of the transaction so two Owner actions on one person run
/// one after the other. Another workspace's member is `NotFound`.
pub async fn target(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<Target, AppError> {
    let mut sql = QueryBuilder::new(format!(
        "SELECT m.id, a.id AS account_id, teamroom_member_name(m, a) AS name, a.email,
                (w.owner_account_id = a.id) AS is_owner, {WITHIN_REACH} AS within_reach
           FROM memberships m
           JOIN accounts a ON a.id = m.account_id
           JOIN workspaces w ON w.id = m.workspace_id
          WHERE m.workspace_id = "
    ));
    sql.push_bind(workspace_id)
        .push(" AND m.id = ")
        .push_bind(membership_id)
        .push(" FOR UPDATE OF m");
    let row = sql
        .build()
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Target {
        membership_id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        is_owner: row.try_get("is_owner")?,
        within_reach: row.try_get("within_reach")?,
    })
}

/// Refuses an account-wide change the Owner may not make: on themselves
/// (their own profile does that) or on an account that also belongs to a
/// workspace someone else owns.
pub fn account_wide_allowed(target: &Target, what: &str) -> Result<(), AppError> {
    if target.is_owner {
        return Err(AppError::Conflict(format!(
            "Change your own {what} from your profile."
        )));
    }
    if !target.within_reach {
        return Err(AppError::Conflict(format!(
            "{} also belongs to a workspace you do not own, so only they can change their {what}.",
            target.name
        )));
    }
    Ok(())
}

/// How long a re-entered password allows setting someone's password.
pub const REAUTH_MINUTES: i64 = 5;

/// Notes that this session's person has just re-entered their password.
pub async fn mark_reauthenticated(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE sessions SET reauthenticated_at = now() WHERE token_hash = $1",
        token_hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Until when this session's re-entered password still counts, if it does.
pub async fn reauthenticated_until(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT reauthenticated_at + make_interval(mins => $2::int)
           FROM sessions
          WHERE token_hash = $1
            AND reauthenticated_at > now() - make_interval(mins => $2::int)",
        token_hash,
        REAUTH_MINUTES as i32
    )
    .fetch_optional(conn)
    .await?
    .flatten())
}

/// The Accounts tab's guard again as the first statement of a write's
/// transaction (`guard::require_in`): the Owner still owns the workspace
/// at commit. A refusal is 404, as for the tab itself.
pub async fn require_in(tx: &mut PgConnection, ctx: &Ctx) -> Result<Ctx, AppError> {
    super::require_in(tx, ctx, Permission::AccountsTab)
        .await
        .map_err(|error| match error {
            AppError::Forbidden => AppError::NotFound,
            other => other,
        })
}

/// The Owner's "Stop timer" on member `membership_id` of `ctx`'s workspace,
/// with its audit row, for the Accounts tab and the REST API alike. The
/// caller has checked `Permission::AccountsTab` (the tab through its session,
/// the API through the key: no re-entered password either way). The stop
/// is announced on the timer channel when the transaction commits.
pub async fn stop_timer_of(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    membership_id: i64,
) -> Result<StoppedEntry, AppError> {
    let mut tx = pool.begin().await?;
    let ctx = &require_in(&mut tx, ctx).await?;
    let target = target(&mut tx, ctx.workspace_id, membership_id).await?;
    let entry_id = super::time::stop_running(&mut tx, ctx.workspace_id, membership_id)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "{} has no timer running any more: it may have been stopped already.",
                target.name
            ))
        })?;
    let entry = sqlx::query!(
        "SELECT started_at, ended_at AS \"ended_at!\" FROM time_entries WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        entry_id
    )
    .fetch_one(&mut *tx)
    .await?;
    ctx.record(
        &mut tx,
        ctx.event(super::audit::AuditAction::TimerStoppedByOwner)
            .target_account(target.account_id)
            .target_membership(membership_id)
            .details(serde_json::json!({
                "entry_id": entry_id,
                "started_at": entry.started_at,
                "ended_at": entry.ended_at,
            })),
    )
    .await?;
    let zone = super::time::member_zone(&mut tx, ctx.workspace_id, membership_id).await?;
    tx.commit().await?;
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&zone.tz)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    Ok(StoppedEntry {
        entry_id,
        start: local(entry.started_at),
        end: local(entry.ended_at),
        time_zone: zone.tz.to_string(),
    })
}

/// The Owner's correction of a finished entry of member `membership_id`
/// (typically one they just stopped), with before and after in the audit
/// row. The caller has checked `Permission::AccountsTab`.
pub async fn correct_entry(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    membership_id: i64,
    entry_id: i64,
    times: crate::domain::time::EntryTimes,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let ctx = &require_in(&mut tx, ctx).await?;
    let target = target(&mut tx, ctx.workspace_id, membership_id).await?;
    let zone = super::time::member_zone(&mut tx, ctx.workspace_id, membership_id).await?;
    let (started_at, ended_at) = super::time::entry_to_utc(zone.tz, times)?;
    let before = sqlx::query!(
        "SELECT started_at, ended_at FROM time_entries
          WHERE workspace_id = $1 AND id = $2 AND membership_id = $3 AND ended_at IS NOT NULL
          FOR UPDATE",
        ctx.workspace_id,
        entry_id,
        membership_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    sqlx::query!(
        "UPDATE time_entries SET started_at = $3, ended_at = $4, updated_at = now()
          WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        entry_id,
        started_at,
        ended_at
    )
    .execute(&mut *tx)
    .await?;
    ctx.record(
        &mut tx,
        ctx.event(super::audit::AuditAction::EntryCorrectedByOwner)
            .target_account(target.account_id)
            .target_membership(membership_id)
            .details(serde_json::json!({
                "entry_id": entry_id,
                "before": { "started_at": before.started_at, "ended_at": before.ended_at },
                "after": { "started_at": started_at, "ended_at": ended_at },
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Mails the member (through the outbox, in the caller's transaction) that
/// the Owner acting in `ctx` changed their account: `what` they did and the
/// `next_step` the member takes. One place, so every account-wide change
/// names the Owner the same way.
async fn tell_member(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    account_id: i64,
    subject: &str,
    what: &str,
    next_step: &str,
) -> Result<(), AppError> {
    let owner = super::db::account_profile(&mut *tx, ctx.actor_account_id).await?;
    super::notices::changed_by_owner(
        &mut *tx,
        account_id,
        &owner.display_name,
        subject,
        what,
        next_step,
    )
    .await
}

/// Removes a member's recovery codes or their whole two-factor (seed 002)
/// when the account is within the Owner's reach: their sessions and open
/// challenges end, the audit row is written and they are mailed, all in
/// one transaction.
pub async fn remove_two_factor(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    membership_id: i64,
    method: TwoFactorMethod,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let ctx = &require_in(&mut tx, ctx).await?;
    let target = target(&mut tx, ctx.workspace_id, membership_id).await?;
    account_wide_allowed(&target, "two-factor authentication")?;
    if !super::two_factor::is_enabled(&mut tx, target.account_id).await? {
        return Err(AppError::Conflict(format!(
            "{} does not use two-factor authentication.",
            target.name
        )));
    }
    let (what, next_step) = match method {
        TwoFactorMethod::RecoveryCodes => {
            let removed = sqlx::query!(
                "DELETE FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL",
                target.account_id
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if removed == 0 {
                return Err(AppError::Conflict(format!(
                    "{} has no unused recovery codes.",
                    target.name
                )));
            }
            (
                "removed the recovery codes of your account",
                "Your authenticator app still works. Make new recovery codes on your profile.",
            )
        }
        TwoFactorMethod::All => {
            super::two_factor::remove(&mut tx, target.account_id).await?;
            (
                "turned off two-factor authentication for your account",
                "Sign in with your password, then turn two-factor on again on your profile.",
            )
        }
    };
    sqlx::query!(
        "DELETE FROM two_factor_challenges WHERE account_id = $1",
        target.account_id
    )
    .execute(&mut *tx)
    .await?;
    let ended = super::session::end_all(&mut tx, target.account_id, None).await?;
    ctx.record(
        &mut tx,
        ctx.event(super::audit::AuditAction::TwoFactorRemovedByOwner)
            .target_account(target.account_id)
            .target_membership(membership_id)
            .details(serde_json::json!({
                "method": match method {
                    TwoFactorMethod::RecoveryCodes => "recovery_codes",
                    TwoFactorMethod::All => "all",
                },
                "sessions_ended": ended,
            })),
    )
    .await?;
    tell_member(
        &mut tx,
        ctx,
        target.account_id,
        "Two-factor authentication was changed by your workspace Owner",
        what,
        next_step,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Stores a password the Owner set (`hash` made from it) on a member's
/// account within their reach: it must be changed at the next sign-in,
/// pending links and locks and every session end, and the person is
/// mailed. The reach is checked again here, under the row lock.
pub async fn set_password(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    membership_id: i64,
    hash: &str,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let ctx = &require_in(&mut tx, ctx).await?;
    // Checked again under the lock: the account may have joined another
    // Owner's workspace while the hash was made.
    let target = target(&mut tx, ctx.workspace_id, membership_id).await?;
    account_wide_allowed(&target, "password")?;
    sqlx::query!(
        "UPDATE accounts SET password_hash = $2, must_change_password = true WHERE id = $1",
        target.account_id,
        hash
    )
    .execute(&mut *tx)
    .await?;
    super::accounts::end_pending_links(&mut tx, target.account_id).await?;
    let ended = super::session::end_all(&mut tx, target.account_id, None).await?;
    super::credentials::clear_all_locks(&mut tx, target.account_id, &target.email).await?;
    ctx.record(
        &mut tx,
        ctx.event(super::audit::AuditAction::PasswordSetByOwner)
            .target_account(target.account_id)
            .target_membership(membership_id)
            .details(serde_json::json!({ "sessions_ended": ended })),
    )
    .await?;
    tell_member(
        &mut tx,
        ctx,
        target.account_id,
        "Your Teamroom password was set by your workspace Owner",
        "set a new password for your account",
        "Ask them for it: when you next sign in with it you will be asked to choose your own.",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
