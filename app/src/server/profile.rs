//! The rules of member profiles: who may read and change which field
//! (billing rate and team manager: Owners and Admins; a full member's
//! name: only they), loading and saving in the caller's transaction with
//! the audit row. The profile page (`api::profile`) and the REST API share
//! them.

use crate::{
    api::profile::{ManagerChoice, ProfileForm, ProfileView},
    domain::{
        profile::{BillingRate, Capacity, WorkingDays},
        time::WeekStart,
        Access, DisplayName, MemberKind, Permission,
    },
    error::{AppError, FieldErrors},
    server::{audit, db, Ctx},
};

fn is_admin_viewer(ctx: &Ctx) -> bool {
    ctx.positions
        .access(Permission::EditMemberProfile, ctx.plan)
        == Access::Allowed
}

/// A profile to show in the editor: `None` is the caller's own.
/// Member `id`'s profile as `ctx` sees it (NotFound outside `ctx`'s
/// workspace). The caller has checked `guard::MyselfOr::PROFILE` already.
pub async fn load_profile(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    id: i64,
) -> Result<ProfileView, AppError> {
    let is_self = id == ctx.membership_id;
    let row = sqlx::query!(
        r#"SELECT m.id, m.account_id, teamroom_member_name(m, a) AS "name!",
                  coalesce(a.email, m.invited_email) AS email, m.kind, m.week_start, m.time_zone,
                  m.working_days, m.daily_capacity_minutes, m.team_manager_id,
                  m.billing_rate_cents, m.billing_currency, m.notify_weekly_summary,
                  m.notify_timer_reminders,
                  (extract(epoch FROM p.updated_at) * 1000)::bigint AS photo_version
             FROM memberships m
             LEFT JOIN accounts a ON a.id = m.account_id
             LEFT JOIN account_photos p ON p.account_id = m.account_id
            WHERE m.workspace_id = $1 AND m.id = $2"#,
        ctx.workspace_id,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let team_managers = sqlx::query!(
        r#"SELECT m.id, teamroom_member_name(m, a) AS "name!"
             FROM memberships m JOIN accounts a ON a.id = m.account_id
            WHERE m.workspace_id = $1 AND m.is_team_manager AND m.status = 'active' AND m.id <> $2
            ORDER BY m.sort_name LIMIT 500"#,
        ctx.workspace_id,
        id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| ManagerChoice {
        membership_id: r.id,
        name: r.name,
    })
    .collect();
    let admin = is_admin_viewer(ctx);
    let kind = MemberKind::parse(&row.kind).map_err(AppError::internal("memberships.kind"))?;
    Ok(ProfileView {
        membership_id: row.id,
        account_id: row.account_id,
        name_editable: is_self || (admin && kind == MemberKind::Limited),
        name: row.name,
        email: row.email,
        kind,
        is_self,
        admin_fields: admin,
        week_start: WeekStart::from_iso(row.week_start).iso(),
        time_zone: row.time_zone,
        working_days: row.working_days,
        capacity_minutes: row.daily_capacity_minutes,
        team_manager_id: row.team_manager_id,
        team_managers,
        billing_rate: row
            .billing_rate_cents
            .map(|cents| BillingRate::from_parts(cents, &row.billing_currency).amount_text())
            .unwrap_or_default(),
        currency: row.billing_currency,
        notify_weekly_summary: row.notify_weekly_summary,
        notify_timer_reminders: row.notify_timer_reminders,
        photo_version: row.photo_version,
    })
}

/// The form's fields through their validation types: every field's
/// message at once, before anything is read or written.
pub struct ProfileChange {
    name: DisplayName,
    days: WorkingDays,
    capacity: Capacity,
    week_start: WeekStart,
    rate: Option<BillingRate>,
}

impl ProfileChange {
    pub fn parse(form: &ProfileForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.take("name", DisplayName::parse(&form.name));
        let days = errors.take("working_days", WorkingDays::from_days(&form.working_days));
        let capacity = errors.take("capacity", Capacity::parse(&form.capacity));
        let week_start = errors.take("week_start", WeekStart::parse(&form.week_start));
        let rate = errors.take(
            "billing_rate",
            BillingRate::parse(&form.billing_rate, &form.currency),
        );
        match (name, days, capacity, week_start, rate) {
            (Some(name), Some(days), Some(capacity), Some(week_start), Some(rate)) => Ok(Self {
                name,
                days,
                capacity,
                week_start,
                rate,
            }),
            _ => Err(errors),
        }
    }
}

/// The profile editor's form as it would be sent unchanged: what a partial
/// update (the REST API's PATCH) starts from.
impl From<&ProfileView> for ProfileForm {
    fn from(view: &ProfileView) -> Self {
        let days = WorkingDays::from_bits(view.working_days);
        Self {
            name: view.name.clone(),
            working_days: (1..=7).filter(|d| days.has(*d)).collect(),
            // `7:35`, not `7.58` (hours text loses a minute).
            capacity: format!(
                "{}:{:02}",
                view.capacity_minutes / 60,
                view.capacity_minutes % 60
            ),
            week_start: view.week_start.to_string(),
            team_manager_id: view.team_manager_id,
            billing_rate: view.billing_rate.clone(),
            currency: view.currency.clone(),
            notify_weekly_summary: view.notify_weekly_summary,
            notify_timer_reminders: view.notify_timer_reminders,
        }
    }
}

/// Saves member `id`'s profile in the caller's transaction, with its audit
/// row: the rules of who may change what (billing rate and team manager:
/// Owners and Admins; a full member's name: only they), for the page and
/// the REST API alike. The caller has checked `guard::MyselfOr::PROFILE` already.
pub async fn apply_profile(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    id: i64,
    form: &ProfileForm,
    change: ProfileChange,
) -> Result<(), AppError> {
    let is_self = id == ctx.membership_id;
    let admin = is_admin_viewer(ctx);
    let ProfileChange {
        name,
        days,
        capacity,
        week_start,
        rate,
    } = change;
    let before = sqlx::query!(
        r#"SELECT m.account_id, m.kind,
                  teamroom_member_name(m, a) AS "name!",
                  m.working_days, m.daily_capacity_minutes, m.week_start, m.team_manager_id,
                  m.billing_rate_cents, m.billing_currency, m.notify_weekly_summary,
                  m.notify_timer_reminders
             FROM memberships m LEFT JOIN accounts a ON a.id = m.account_id
            WHERE m.workspace_id = $1 AND m.id = $2
            FOR UPDATE OF m"#,
        ctx.workspace_id,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let currency = rate
        .as_ref()
        .map(|r| r.currency().to_owned())
        .unwrap_or_else(|| before.billing_currency.clone());
    let cents = rate.as_ref().map(BillingRate::cents);
    // The rate is its amount and its currency: only an Owner or Admin sets
    // either (PRODUCT.md section 2), and the team manager. A member's form
    // shows them as text, so only a forged request gets here.
    if !admin
        && (cents != before.billing_rate_cents
            || currency != before.billing_currency
            || form.team_manager_id != before.team_manager_id)
    {
        return Err(AppError::Forbidden);
    }
    let renamed = name.as_str() != before.name;
    let limited = MemberKind::parse(&before.kind)
        .map_err(AppError::internal("memberships.kind"))?
        == MemberKind::Limited;
    if renamed && !(is_self || (admin && limited)) {
        return Err(AppError::field(
            "name",
            "This is their account's name, used in every workspace: only they can change it.",
        ));
    }
    if let Some(manager) = form
        .team_manager_id
        .filter(|m| Some(*m) != before.team_manager_id)
    {
        let holds_role: bool = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM memberships
                 WHERE workspace_id = $1 AND id = $2 AND is_team_manager AND status = 'active'
                   AND id <> $3) AS "ok!""#,
            ctx.workspace_id,
            manager,
            id
        )
        .fetch_one(&mut *tx)
        .await?;
        if !holds_role {
            return Err(AppError::field(
                "team_manager",
                "Choose a member who holds the Team manager role.",
            ));
        }
    }
    sqlx::query!(
        "UPDATE memberships
            SET working_days = $3, daily_capacity_minutes = $4, week_start = $5,
                team_manager_id = $6, billing_rate_cents = $7, billing_currency = $8,
                notify_weekly_summary = $9, notify_timer_reminders = $10,
                display_name = CASE WHEN kind = 'limited' THEN $11 ELSE display_name END
          WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        id,
        days.bits(),
        capacity.minutes(),
        i16::from(week_start.iso()),
        form.team_manager_id,
        cents,
        currency,
        form.notify_weekly_summary,
        form.notify_timer_reminders,
        name.as_str()
    )
    .execute(&mut *tx)
    .await?;
    if renamed {
        if let (Some(account), true) = (before.account_id, is_self) {
            sqlx::query!(
                "UPDATE accounts SET display_name = $2 WHERE id = $1",
                account,
                name.as_str()
            )
            .execute(&mut *tx)
            .await?;
            // The name is in search keys in every workspace they are in,
            // and in the keys of people they manage.
            db::refresh_account_keys(&mut *tx, account).await?;
        }
    }
    db::refresh_member_keys(&mut *tx, ctx.workspace_id, &[id]).await?;
    let changes: serde_json::Map<String, serde_json::Value> = [
        (
            "name",
            serde_json::json!(before.name),
            serde_json::json!(name.as_str()),
        ),
        (
            "working_days",
            before.working_days.into(),
            days.bits().into(),
        ),
        (
            "capacity_minutes",
            before.daily_capacity_minutes.into(),
            capacity.minutes().into(),
        ),
        (
            "week_start",
            before.week_start.into(),
            i16::from(week_start.iso()).into(),
        ),
        (
            "team_manager_id",
            before.team_manager_id.into(),
            form.team_manager_id.into(),
        ),
        (
            "billing_rate_cents",
            before.billing_rate_cents.into(),
            cents.into(),
        ),
        (
            "billing_currency",
            before.billing_currency.clone().into(),
            currency.clone().into(),
        ),
        (
            "notify_weekly_summary",
            before.notify_weekly_summary.into(),
            form.notify_weekly_summary.into(),
        ),
        (
            "notify_timer_reminders",
            before.notify_timer_reminders.into(),
            form.notify_timer_reminders.into(),
        ),
    ]
    .into_iter()
    .filter(|(_, old, new)| old != new)
    .map(|(key, old, new)| (key.to_owned(), serde_json::json!([old, new])))
    .collect();
    if !changes.is_empty() {
        let (old, new): (serde_json::Map<_, _>, serde_json::Map<_, _>) = changes
            .iter()
            .map(|(k, v)| ((k.clone(), v[0].clone()), (k.clone(), v[1].clone())))
            .unzip();
        let mut event = ctx
            .event(audit::AuditAction::ProfileChanged)
            .target_membership(id)
            .details(serde_json::json!({ "before": old, "after": new }));
        if let Some(account) = before.account_id {
            event = event.target_account(account);
        }
        ctx.record(&mut *tx, event).await?;
    }
    Ok(())
}
