//! Invitations on the server: batches of pending members written set-based
//! (a 10,000-row import is a handful of statements), link tokens stored
//! hashed, and the invitation mail queued in the same transaction. Using a
//! link (accepting, declining) is `server::joining`. The invite dialog's,
//! Resend's and Revoke's rules (`invite_members_as`, `send_invite_as`,
//! `revoke_invite_as`) are shared by the pages and the REST API.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    audit::{self},
    db,
    mail::{Letter, Part},
    outbox::{self},
    session::SessionToken,
    workspace::{self, LockedWorkspace},
    AuthSettings, Ctx,
};
use crate::{
    api::invitations::{InviteReport, RESEND_COOLDOWN_SECS},
    domain::{
        invite::{check_addresses, AddressVerdict, ImportRoles, FREE_PLAN_BATCH, MAX_DIALOG_BATCH},
        limits::{distinct_ids, MAX_GROUPS_PER_INVITE, MAX_PROJECTS_PER_INVITE},
        DisplayName, EmailAddress, Plan,
    },
    error::AppError,
};

/// Someone to invite, already parsed.
#[derive(Debug, Clone)]
pub struct Invitee {
    pub email: EmailAddress,
    pub name: Option<DisplayName>,
    pub roles: ImportRoles,
    pub group_ids: Vec<i64>,
}

/// Options that apply to the whole batch.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    pub send_email: bool,
    pub all_projects: bool,
    pub project_ids: Vec<i64>,
    /// Paid plans: refuse the whole batch past the free seats (the dialog),
    /// or invite as many as fit and report the rest (the CSV import).
    pub partial_seats: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Invited { membership_id: i64, emailed: bool },
    AlreadyMember,
    NoSeat,
}

/// Locks the workspace row (`server::workspace::lock`), so concurrent
/// invitations count seats and the hourly limit one after the other, and
/// reads who the mail says the invitation is from.
pub async fn lock_for_invitations(
    conn: &mut PgConnection,
    ctx: &Ctx,
) -> Result<(LockedWorkspace, Sender), AppError> {
    let workspace = workspace::lock(&mut *conn, ctx.workspace_id).await?;
    let inviter = sqlx::query!(
        "SELECT display_name, email FROM accounts WHERE id = $1",
        ctx.actor_account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let sender = Sender {
        workspace_name: workspace.name.clone(),
        inviter_name: inviter.display_name,
        inviter_email: inviter.email,
    };
    Ok((workspace, sender))
}

/// Lower-cased addresses among `emails` that already belong to a member of
/// the workspace (any status), by account or by pending invitation.
pub async fn existing_member_emails(
    conn: &mut PgConnection,
    workspace_id: i64,
    emails: &[String],
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT lower(a.email) AS "email!"
             FROM accounts a
             JOIN memberships m ON m.account_id = a.id AND m.workspace_id = $1
            WHERE lower(a.email) = ANY ($2)
           UNION
           SELECT lower(m.invited_email) AS "email!"
             FROM memberships m
            WHERE m.workspace_id = $1 AND m.account_id IS NULL
              AND lower(m.invited_email) = ANY ($2)"#,
        workspace_id,
        emails
    )
    .fetch_all(conn)
    .await?)
}

/// Full members holding a seat: everyone but the deactivated.
pub async fn seats_used(conn: &mut PgConnection, workspace_id: i64) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM memberships
            WHERE workspace_id = $1 AND kind = 'full' AND status <> 'inactive'"#,
        workspace_id
    )
    .fetch_one(conn)
    .await?)
}

/// Seats still free: the workspace's seats less those in use (negative
/// when a plan change left it over).
pub async fn seats_free(conn: &mut PgConnection, workspace_id: i64) -> Result<i64, AppError> {
    let seats: i32 =
        sqlx::query_scalar!("SELECT seats FROM workspaces WHERE id = $1", workspace_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(i64::from(seats) - seats_used(conn, workspace_id).await?)
}

/// Refuses when `wanted` more invitation emails would pass the hourly limit,
/// saying when the oldest counted one leaves the window.
pub async fn check_rate(
    conn: &mut PgConnection,
    workspace_id: i64,
    wanted: i64,
    settings: &AuthSettings,
) -> Result<(), AppError> {
    if wanted == 0 {
        return Ok(());
    }
    let limit = settings.invitations_per_hour;
    let recent: Vec<DateTime<Utc>> = sqlx::query_scalar!(
        "SELECT created_at FROM invitations
          WHERE workspace_id = $1 AND created_at > now() - interval '1 hour'
          ORDER BY created_at",
        workspace_id
    )
    .fetch_all(conn)
    .await?;
    let total = recent.len() as i64 + wanted;
    if total <= limit {
        return Ok(());
    }
    if wanted > limit {
        return Err(AppError::Conflict(format!(
            "A workspace can send at most {limit} invitations an hour. Send fewer at a time."
        )));
    }
    // Enough of the oldest must age out of the hour to make room.
    let must_expire = (total - limit) as usize;
    let until = recent
        .get(must_expire - 1)
        .map(|at| *at + chrono::Duration::hours(1) - Utc::now())
        .unwrap_or(chrono::Duration::hours(1));
    Err(AppError::RateLimited {
        retry_after_secs: until.num_seconds().max(1) as u64,
    })
}

/// Refuses the call unless every one of these (distinct) group ids is a
/// group of this workspace: checked before invitees are built from them.
pub async fn require_groups(
    conn: &mut PgConnection,
    workspace_id: i64,
    group_ids: &[i64],
) -> Result<(), AppError> {
    if group_ids.is_empty() {
        return Ok(());
    }
    let known: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM groups WHERE workspace_id = $1 AND id = ANY ($2)"#,
        workspace_id,
        group_ids
    )
    .fetch_one(&mut *conn)
    .await?;
    if known != group_ids.len() as i64 {
        return Err(AppError::field(
            "groups",
            "Some of those groups are not in this workspace.",
        ));
    }
    Ok(())
}

/// Where a mail-limit refusal is shown: next to the dialog's address box
/// (a batch), or as the message of a single Send / Resend (the cool-down
/// then a 429 with `Retry-After`). `Provisioning` is a SCIM reactivation:
/// the provider's deliberate act, so no cool-down, but the same limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailRefusal {
    Field(&'static str),
    Message,
    Provisioning,
}

impl MailRefusal {
    fn error(self, message: String) -> AppError {
        match self {
            MailRefusal::Field(field) => AppError::field(field, message),
            MailRefusal::Message | MailRefusal::Provisioning => AppError::Conflict(message),
        }
    }
}

fn list_of(addresses: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = addresses
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if addresses.len() > SHOWN {
        text.push_str(&format!(" and {} more", addresses.len() - SHOWN));
    }
    text
}

/// Reserves invitation mails to `emails` (distinct addresses) before
/// anything is written or queued, in the caller's transaction (a refusal
/// rolls the counts back, so it changes nothing):
/// - the resend cool-down, per workspace and address, whichever pending
///   member the last mail went to (so revoking and inviting again does not
///   reset it);
/// - the sending account's hourly and daily mails over all its workspaces;
/// - each mailbox's daily mails from the sending account (`+tag`
///   spellings counted as one mailbox), then the number of accounts that
///   mailed it today.
pub async fn reserve_mail(
    conn: &mut PgConnection,
    ctx: &Ctx,
    settings: &AuthSettings,
    emails: &[String],
    refusal: MailRefusal,
) -> Result<(), AppError> {
    if emails.is_empty() {
        return Ok(());
    }
    let lowered: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();
    let cooldown = if refusal == MailRefusal::Provisioning {
        0
    } else {
        RESEND_COOLDOWN_SECS
    };
    let recent = sqlx::query!(
        r#"SELECT lower(email) AS "email!",
                  ceil(extract(epoch FROM max(created_at) + make_interval(secs => $3::float8) - now()))::bigint
                    AS "wait!"
             FROM invitations
            WHERE workspace_id = $1 AND lower(email) = ANY ($2)
              AND created_at > now() - make_interval(secs => $3::float8)
            GROUP BY lower(email)
            ORDER BY 1"#,
        ctx.workspace_id,
        &lowered,
        cooldown as f64
    )
    .fetch_all(&mut *conn)
    .await?;
    if !recent.is_empty() {
        let wait = recent.iter().map(|r| r.wait).max().unwrap_or(1).max(1);
        if refusal == MailRefusal::Message {
            return Err(AppError::RateLimited {
                retry_after_secs: wait.unsigned_abs(),
            });
        }
        let addresses: Vec<String> = recent.into_iter().map(|r| r.email).collect();
        return Err(refusal.error(format!(
            "An invitation went to {} less than a minute ago. Wait {wait} seconds before sending another.",
            list_of(&addresses)
        )));
    }

    let wanted = i32::try_from(emails.len()).unwrap_or(i32::MAX);
    let account_key = ctx.actor_account_id.to_string();
    for (window, limit, period) in [
        (
            super::throttle::INVITE_MAIL_ACCOUNT_HOUR,
            settings.invitation_mails_per_account_hour,
            "an hour",
        ),
        (
            super::throttle::INVITE_MAIL_ACCOUNT_DAY,
            settings.invitation_mails_per_account_day,
            "a day",
        ),
    ] {
        let counted = window.add(conn, &account_key, wanted).await?;
        if counted.hits > i64::from(limit) {
            let left = (i64::from(limit) - (counted.hits - i64::from(wanted))).max(0);
            return Err(refusal.error(format!(
                "You can send at most {limit} invitation emails {period}, over all your workspaces; {left} left now. Try again later{}.",
                if wanted > 1 { " or send fewer" } else { "" }
            )));
        }
    }

    // What one mailbox receives, counted by mailbox (`ada+x@` is `ada@`):
    // first per sender, so one stranger resending uses up only their own
    // share; then the number of senders, counted once per sender a day.
    let mut per_mailbox: std::collections::BTreeMap<String, Vec<&String>> = Default::default();
    for email in &lowered {
        per_mailbox
            .entry(crate::domain::mailbox_key(email))
            .or_default()
            .push(email);
    }
    let mailboxes: Vec<(&String, &Vec<&String>)> = per_mailbox.iter().collect();
    let sender_counts: Vec<(String, i32)> = mailboxes
        .iter()
        .map(|(mailbox, spellings)| {
            (
                format!("{account_key}:{mailbox}"),
                i32::try_from(spellings.len()).unwrap_or(i32::MAX),
            )
        })
        .collect();
    let limit = settings.invitation_mails_per_sender_and_address_day;
    let hits = super::throttle::INVITE_MAIL_SENDER_MAILBOX_DAY
        .add_counts(conn, &sender_counts)
        .await?;
    let full: Vec<String> = mailboxes
        .iter()
        .zip(&hits)
        .filter(|(_, hits)| **hits > i64::from(limit))
        .flat_map(|((_, spellings), _)| spellings.iter().map(|e| (*e).clone()))
        .collect();
    if !full.is_empty() {
        return Err(refusal.error(format!(
            "{} would get more than {limit} invitation emails from you today, the most one person may send one mailbox in a day (+tag spellings of one mailbox count together). Try again tomorrow{}.",
            list_of(&full),
            if emails.len() > full.len() { ", or leave them out" } else { "" }
        )));
    }
    let new_today: Vec<(&String, &Vec<&String>)> = mailboxes
        .iter()
        .zip(&sender_counts)
        .zip(&hits)
        .filter(|((_, (_, wanted)), hits)| **hits == i64::from(*wanted))
        .map(|((mailbox, _), _)| *mailbox)
        .collect();
    let keys: Vec<String> = new_today.iter().map(|(m, _)| (*m).clone()).collect();
    let limit = settings.invitation_senders_per_address_day;
    let senders = super::throttle::INVITE_MAIL_MAILBOX_SENDERS_DAY
        .add_each(conn, &keys)
        .await?;
    let full: Vec<String> = new_today
        .iter()
        .zip(senders)
        .filter(|(_, senders)| *senders > i64::from(limit))
        .flat_map(|((_, spellings), _)| spellings.iter().map(|e| (*e).clone()))
        .collect();
    if !full.is_empty() {
        return Err(refusal.error(format!(
            "{} cannot get invitation emails from anyone new today: one mailbox gets them from at most {limit} people a day. Try again tomorrow{}.",
            list_of(&full),
            if emails.len() > full.len() { ", or leave them out" } else { "" }
        )));
    }
    Ok(())
}

/// Invites a batch in the caller's transaction. Returns one outcome per
/// invitee, in order. Invitees are expected to be distinct addresses.
pub async fn invite_batch(
    conn: &mut PgConnection,
    ctx: &Ctx,
    settings: &AuthSettings,
    origin: &str,
    invitees: &[Invitee],
    options: &BatchOptions,
) -> Result<Vec<Outcome>, AppError> {
    let (workspace, sender) = lock_for_invitations(conn, ctx).await?;
    let lowered: Vec<String> = invitees.iter().map(|i| i.email.normalized()).collect();
    let existing: std::collections::HashSet<String> =
        existing_member_emails(conn, ctx.workspace_id, &lowered)
            .await?
            .into_iter()
            .collect();
    let mut outcomes: Vec<Option<Outcome>> = lowered
        .iter()
        .map(|e| existing.contains(e).then_some(Outcome::AlreadyMember))
        .collect();
    let mut new_indexes: Vec<usize> = (0..invitees.len())
        .filter(|i| outcomes[*i].is_none())
        .collect();

    if workspace.plan != Plan::Free {
        let free = i64::from(workspace.seats) - seats_used(conn, ctx.workspace_id).await?;
        let fits = free.max(0) as usize;
        if new_indexes.len() > fits {
            if !options.partial_seats {
                return Err(AppError::field(
                    "addresses",
                    crate::domain::invite::seats_message(free, new_indexes.len()),
                ));
            }
            for index in new_indexes.split_off(fits) {
                outcomes[index] = Some(Outcome::NoSeat);
            }
        }
    }
    if options.send_email {
        check_rate(conn, ctx.workspace_id, new_indexes.len() as i64, settings).await?;
        let to_mail: Vec<String> = new_indexes
            .iter()
            .map(|i| invitees[*i].email.normalized())
            .collect();
        reserve_mail(
            conn,
            ctx,
            settings,
            &to_mail,
            MailRefusal::Field("addresses"),
        )
        .await?;
    }

    let project_ids: Vec<i64> = if options.all_projects {
        Vec::new()
    } else {
        options.project_ids.clone()
    };
    if !project_ids.is_empty() {
        let known: i64 = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM projects WHERE workspace_id = $1 AND id = ANY ($2)"#,
            ctx.workspace_id,
            &project_ids
        )
        .fetch_one(&mut *conn)
        .await?;
        if known != project_ids.len() as i64 {
            return Err(AppError::field(
                "projects",
                "Some of those projects are not in this workspace.",
            ));
        }
    }

    let emails: Vec<String> = new_indexes
        .iter()
        .map(|i| invitees[*i].email.as_str().to_owned())
        .collect();
    let names: Vec<Option<String>> = new_indexes
        .iter()
        .map(|i| invitees[*i].name.as_ref().map(|n| n.as_str().to_owned()))
        .collect();
    let admins: Vec<bool> = new_indexes
        .iter()
        .map(|i| invitees[*i].roles.admin)
        .collect();
    let pms: Vec<bool> = new_indexes
        .iter()
        .map(|i| invitees[*i].roles.project_manager)
        .collect();
    let tms: Vec<bool> = new_indexes
        .iter()
        .map(|i| invitees[*i].roles.team_manager)
        .collect();
    // `WITH ORDINALITY` keeps the input order, so ids map back by position.
    let membership_ids: Vec<i64> = sqlx::query_scalar!(
        r#"WITH input AS (
               SELECT * FROM unnest($2::text[], $3::text[], $4::bool[], $5::bool[], $6::bool[])
                        WITH ORDINALITY AS t(email, name, admin, pm, tm, position)
           ), inserted AS (
               INSERT INTO memberships (workspace_id, kind, status, invited_email, display_name,
                                        is_admin, is_project_manager, is_team_manager, all_projects)
               SELECT $1, 'full', 'pending', email, name, admin, pm, tm, $7
                 FROM input ORDER BY position
               RETURNING id, invited_email
           )
           SELECT i.id AS "id!" FROM inserted i JOIN input ON input.email = i.invited_email
            ORDER BY input.position"#,
        ctx.workspace_id,
        &emails,
        &names as &[Option<String>],
        &admins,
        &pms,
        &tms,
        options.all_projects,
    )
    .fetch_all(&mut *conn)
    .await
    // Another invitation for the same address won the race.
    .map_err(db::on_constraint(|constraint| {
        (constraint == "memberships_invited_email_key").then(|| {
            AppError::Conflict(
                "Someone else just invited one of these addresses. Check the list and try again."
                    .into(),
            )
        })
    }))?;
    if membership_ids.len() != new_indexes.len() {
        tracing::error!("invited member ids do not line up with the batch");
        return Err(AppError::Internal);
    }

    let mut group_pairs: (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    for (position, index) in new_indexes.iter().enumerate() {
        for group_id in &invitees[*index].group_ids {
            group_pairs.0.push(membership_ids[position]);
            group_pairs.1.push(*group_id);
        }
    }
    if !group_pairs.0.is_empty() {
        let inserted = sqlx::query!(
            "INSERT INTO group_members (workspace_id, membership_id, group_id)
             SELECT $1, m, g FROM unnest($2::bigint[], $3::bigint[]) AS t(m, g)
              WHERE EXISTS (SELECT 1 FROM groups WHERE workspace_id = $1 AND id = g)
             ON CONFLICT DO NOTHING",
            ctx.workspace_id,
            &group_pairs.0,
            &group_pairs.1
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted != group_pairs.0.len() as u64 {
            return Err(AppError::field(
                "groups",
                "Some of those groups are not in this workspace.",
            ));
        }
    }
    if !project_ids.is_empty() {
        sqlx::query!(
            "INSERT INTO project_members (workspace_id, project_id, membership_id)
             SELECT $1, p, m FROM unnest($2::bigint[]) AS m, unnest($3::bigint[]) AS p",
            ctx.workspace_id,
            &membership_ids,
            &project_ids
        )
        .execute(&mut *conn)
        .await?;
    }
    db::refresh_member_keys(conn, ctx.workspace_id, &membership_ids).await?;

    if options.send_email {
        let pending: Vec<PendingInvite> = new_indexes
            .iter()
            .zip(&membership_ids)
            .map(|(index, id)| PendingInvite {
                membership_id: *id,
                email: invitees[*index].email.as_str().to_owned(),
            })
            .collect();
        issue_links(conn, ctx, settings, origin, &sender, &pending).await?;
    }
    audit::record_many(
        conn,
        &ctx.actor(),
        ctx.workspace_id,
        audit::AuditAction::MemberInvited,
        &membership_ids,
        serde_json::json!({ "emailed": options.send_email }),
    )
    .await?;

    for (position, index) in new_indexes.iter().enumerate() {
        outcomes[*index] = Some(Outcome::Invited {
            membership_id: membership_ids[position],
            emailed: options.send_email,
        });
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::AlreadyMember))
        .collect())
}

pub struct PendingInvite {
    pub membership_id: i64,
    pub email: String,
}

pub struct Sender {
    pub workspace_name: String,
    pub inviter_name: String,
    pub inviter_email: String,
}

/// Makes a fresh link for each pending member (ending any open one, and
/// cancelling its unsent mail) and queues the invitation email.
pub async fn issue_links(
    conn: &mut PgConnection,
    ctx: &Ctx,
    settings: &AuthSettings,
    origin: &str,
    sender: &Sender,
    pending: &[PendingInvite],
) -> Result<(), AppError> {
    if pending.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = pending.iter().map(|p| p.membership_id).collect();
    sqlx::query!(
        "UPDATE invitations SET state = 'replaced', ended_at = now()
          WHERE workspace_id = $1 AND membership_id = ANY ($2) AND state = 'open'",
        ctx.workspace_id,
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE outbox SET cancelled_at = now(), body_text = NULL, body_html = NULL
          WHERE workspace_id = $1 AND membership_id = ANY ($2)
            AND sent_at IS NULL AND cancelled_at IS NULL",
        ctx.workspace_id,
        &ids
    )
    .execute(&mut *conn)
    .await?;

    let expires_at = Utc::now() + settings.invitation_ttl;
    let tokens: Vec<SessionToken> = pending.iter().map(|_| SessionToken::generate()).collect();
    let hashes: Vec<Vec<u8>> = tokens.iter().map(|t| t.hash.clone()).collect();
    let emails: Vec<String> = pending.iter().map(|p| p.email.clone()).collect();
    sqlx::query!(
        "INSERT INTO invitations (workspace_id, membership_id, token_hash, email,
                                  invited_by_account_id, expires_at)
         SELECT $1, m, h, e, $5, $6
           FROM unnest($2::bigint[], $3::bytea[], $4::text[]) AS t(m, h, e)",
        ctx.workspace_id,
        &ids,
        &hashes,
        &emails,
        ctx.actor_account_id,
        expires_at
    )
    .execute(&mut *conn)
    .await?;

    let mut subjects = Vec::with_capacity(pending.len());
    let mut texts = Vec::with_capacity(pending.len());
    let mut htmls = Vec::with_capacity(pending.len());
    for token in &tokens {
        let link = format!("{origin}/invite/{}", token.value);
        let mail = invitation_mail(sender, &link, expires_at);
        subjects.push(mail.0);
        texts.push(mail.1);
        htmls.push(mail.2);
    }
    sqlx::query!(
        "INSERT INTO outbox (kind, workspace_id, membership_id, recipient, subject, body_text, body_html)
         SELECT 'invitation', $1, m, r, s, t, h
           FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(m, r, s, t, h)",
        ctx.workspace_id,
        &ids,
        &emails,
        &subjects,
        &texts,
        &htmls
    )
    .execute(&mut *conn)
    .await?;
    outbox::wake_workers(conn).await?;
    Ok(())
}

/// Takes back a pending member's open invitation: its link stops working
/// and an invitation mail not yet sent is cancelled. Revoke (which then
/// removes the member) and an identity provider's deactivation of an
/// invitee (which keeps them, inactive) share it.
pub async fn revoke_open_invitation(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE invitations SET state = 'revoked', ended_at = now()
          WHERE workspace_id = $1 AND membership_id = $2 AND state = 'open'",
        workspace_id,
        membership_id
    )
    .execute(&mut *conn)
    .await?;
    outbox::cancel_for_membership(conn, workspace_id, membership_id).await?;
    Ok(())
}

fn long_date(at: DateTime<Utc>) -> String {
    at.format("%-d %B %Y").to_string()
}

/// Subject, plain text and HTML of an invitation.
pub fn invitation_mail(
    sender: &Sender,
    link: &str,
    expires_at: DateTime<Utc>,
) -> (String, String, String) {
    let subject = format!(
        "{} invited you to {} on Teamroom",
        sender.inviter_name, sender.workspace_name
    );
    let expiry = long_date(expires_at);
    let (text, html) = Letter::new()
        .parts(&[
            Part::Strong(&sender.inviter_name),
            Part::Plain(&format!(
                " ({}) invited you to join the workspace ",
                sender.inviter_email
            )),
            Part::Strong(&sender.workspace_name),
            Part::Plain(" on Teamroom, where the team tracks its time."),
        ])
        .button("Accept the invitation", link)
        .paragraph(&format!(
            "The link works once and until {expiry}. If it has expired, ask {} for a new one.",
            sender.inviter_name
        ))
        .closing("If you did not expect this, you can ignore this email.");
    (subject, text, html)
}

/// The invite dialog's rule, for the page and the REST API: addresses as
/// typed (one per line or comma-separated).
pub async fn invite_members_as(
    state: &crate::server::AppState,
    ctx: &crate::server::Ctx,
    addresses: &str,
    send_email: bool,
    group_ids: Vec<i64>,
    all_projects: bool,
    project_ids: Vec<i64>,
) -> Result<InviteReport, AppError> {
    // Lists first: bounded and without repeats before anything is read or
    // built from them (each invitee gets every group and project).
    let group_ids = distinct_ids(group_ids, MAX_GROUPS_PER_INVITE, "groups")
        .map_err(|m| AppError::field("groups", m))?;
    let project_ids = if all_projects {
        Vec::new()
    } else {
        distinct_ids(project_ids, MAX_PROJECTS_PER_INVITE, "projects")
            .map_err(|m| AppError::field("projects", m))?
    };
    let checks = check_addresses(addresses, |_| false);
    let invalid: Vec<String> = checks
        .iter()
        .filter_map(|c| match &c.verdict {
            AddressVerdict::Invalid(reason) => Some(format!("{} ({reason})", c.text)),
            _ => None,
        })
        .collect();
    if !invalid.is_empty() {
        return Err(AppError::field(
            "addresses",
            format!("Fix or remove: {}", invalid.join("; ")),
        ));
    }
    let emails: Vec<EmailAddress> = checks
        .iter()
        .filter(|c| c.verdict == AddressVerdict::Valid)
        .filter_map(|c| EmailAddress::parse(&c.text).ok())
        .collect();
    if emails.is_empty() {
        return Err(AppError::field(
            "addresses",
            "Enter at least one email address.",
        ));
    }
    if ctx.plan == Plan::Free && emails.len() > FREE_PLAN_BATCH {
        return Err(AppError::field(
            "addresses",
            format!(
                "On the Free plan you can invite up to {FREE_PLAN_BATCH} people at a time; this list has {}. \
                 Send them in smaller batches.",
                emails.len()
            ),
        ));
    }
    if emails.len() > MAX_DIALOG_BATCH {
        return Err(AppError::field(
            "addresses",
            format!(
                "Invite up to {MAX_DIALOG_BATCH} people at a time here; use Import CSV for longer lists."
            ),
        ));
    }
    let origin = crate::server::mail::link_origin(&state.auth);
    let mut tx = state.pool.begin().await?;
    // Every group must be this workspace's before a single pair is built.
    require_groups(&mut tx, ctx.workspace_id, &group_ids).await?;
    let invitees: Vec<Invitee> = emails
        .iter()
        .map(|email| Invitee {
            email: email.clone(),
            name: None,
            roles: Default::default(),
            group_ids: group_ids.clone(),
        })
        .collect();
    let outcomes = invite_batch(
        &mut tx,
        ctx,
        &state.auth,
        &origin,
        &invitees,
        &BatchOptions {
            send_email,
            all_projects,
            project_ids,
            partial_seats: false,
        },
    )
    .await?;
    tx.commit().await?;

    let mut report = InviteReport {
        invited: Vec::new(),
        already_members: Vec::new(),
        emailed: send_email,
    };
    for (email, outcome) in emails.iter().zip(outcomes) {
        match outcome {
            Outcome::Invited { .. } => report.invited.push(email.to_string()),
            Outcome::AlreadyMember | Outcome::NoSeat => {
                report.already_members.push(email.to_string())
            }
        }
    }
    Ok(report)
}

/// Sends (or resends) a pending member's invitation; the page's and the
/// REST API's rule.
pub async fn send_invite_as(
    state: &crate::server::AppState,
    ctx: &crate::server::Ctx,
    membership_id: i64,
) -> Result<(), AppError> {
    let origin = crate::server::mail::link_origin(&state.auth);
    let mut tx = state.pool.begin().await?;
    let (_, sender) = lock_for_invitations(&mut tx, ctx).await?;
    let member = sqlx::query!(
        r#"SELECT m.invited_email AS "email!",
                  EXISTS (SELECT 1 FROM invitations i
                           WHERE i.workspace_id = m.workspace_id AND i.membership_id = m.id) AS "resend!"
             FROM memberships m
            WHERE m.workspace_id = $1 AND m.id = $2 AND m.status = 'pending'
              AND m.invited_email IS NOT NULL
              FOR UPDATE OF m"#,
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let resend = member.resend;
    check_rate(&mut tx, ctx.workspace_id, 1, &state.auth).await?;
    // The cool-down (by address: a revoke and re-invite does not reset it)
    // and the per-account and per-address limits.
    reserve_mail(
        &mut tx,
        ctx,
        &state.auth,
        std::slice::from_ref(&member.email),
        MailRefusal::Message,
    )
    .await?;
    issue_links(
        &mut tx,
        ctx,
        &state.auth,
        &origin,
        &sender,
        &[PendingInvite {
            membership_id,
            email: member.email,
        }],
    )
    .await?;
    ctx.record(
        &mut tx,
        ctx.event(if resend {
            audit::AuditAction::InvitationResent
        } else {
            audit::AuditAction::InvitationSent
        })
        .target_membership(membership_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes back a pending member's invitation; the page's and the REST API's
/// rule.
pub async fn revoke_invite_as(
    pool: &sqlx::PgPool,
    ctx: &crate::server::Ctx,
    membership_id: i64,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let email: String = sqlx::query_scalar!(
        r#"SELECT invited_email AS "email!" FROM memberships
            WHERE workspace_id = $1 AND id = $2 AND status = 'pending' AND invited_email IS NOT NULL
              FOR UPDATE"#,
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    revoke_open_invitation(&mut tx, ctx.workspace_id, membership_id).await?;
    sqlx::query!(
        "DELETE FROM memberships WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        membership_id
    )
    .execute(&mut *tx)
    .await?;
    ctx.record(
        &mut tx,
        ctx.event(audit::AuditAction::InvitationRevoked)
            .target_membership(membership_id)
            .details(serde_json::json!({ "email": email })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a limited member (a name, no account, tracked through the Kiosk)
/// in the groups `group_ids` (distinct, bounded by the caller), all of
/// which must be the workspace's. Their id.
pub async fn add_limited(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    name: &DisplayName,
    group_ids: &[i64],
) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO memberships (workspace_id, kind, status, display_name)
         VALUES ($1, 'limited', 'active', $2) RETURNING id",
        ctx.workspace_id,
        name.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    let added = sqlx::query!(
        "INSERT INTO group_members (workspace_id, group_id, membership_id)
         SELECT $1, g.id, $2 FROM groups g WHERE g.workspace_id = $1 AND g.id = ANY ($3)",
        ctx.workspace_id,
        id,
        group_ids
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if added != group_ids.len() as u64 {
        return Err(AppError::field(
            "groups",
            "Some of those groups are not in this workspace.",
        ));
    }
    super::db::refresh_member_keys(&mut tx, ctx.workspace_id, &[id]).await?;
    ctx.record(
        &mut tx,
        ctx.event(super::audit::AuditAction::LimitedMemberAdded)
            .target_membership(id)
            .details(serde_json::json!({ "name": name.as_str() })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_escapes_names_in_html_and_carries_the_link_in_both_parts() {
        let sender = Sender {
            workspace_name: "R&D <Lab>".into(),
            inviter_name: "Zoë \"Z\"".into(),
            inviter_email: "zoe@example.com".into(),
        };
        let (subject, text, html) =
            invitation_mail(&sender, "http://x.test/invite/abc", Utc::now());
        assert!(subject.contains("R&D <Lab>"));
        assert!(text.contains("http://x.test/invite/abc"));
        assert!(html.contains("R&amp;D &lt;Lab&gt;"));
        assert!(html.contains("Zoë &quot;Z&quot;"));
        assert!(html.contains("href=\"http://x.test/invite/abc\""));
        assert!(!html.contains("<Lab>"));
    }
}
