//! The member list's rules: one page of a view in the caller's scope
//! (keyset, with why each row matched), one member's card, and whether a
//! member is within the caller's scope at all. The Team page (`api::members`),
//! the REST API and the exports share them.

use chrono::{DateTime, Utc};

use crate::{
    api::members::{MemberCard, MemberPage, MemberRow},
    domain::{
        directory::{DirectoryParams, DirectoryQuery},
        MemberKind, MemberStatus, Positions,
    },
    error::AppError,
    server::{
        directory::{self, Listing, RowText, Scope},
        Ctx,
    },
};

pub struct MemberDbRow {
    membership_id: i64,
    name: String,
    email: Option<String>,
    role_rank: i16,
    is_admin: bool,
    is_project_manager: bool,
    is_team_manager: bool,
    status: String,
    kind: String,
    groups: Vec<String>,
    team_manager: Option<String>,
    locked: bool,
    last_active_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    invite_state: Option<String>,
    delivery_error: Option<String>,
}

impl TryFrom<MemberDbRow> for MemberRow {
    type Error = AppError;

    fn try_from(r: MemberDbRow) -> Result<Self, AppError> {
        Ok(MemberRow {
            membership_id: r.membership_id,
            name: r.name,
            email: r.email,
            positions: Positions {
                owner: r.role_rank == 0,
                admin: r.is_admin,
                project_manager: r.is_project_manager,
                team_manager: r.is_team_manager,
            },
            status: MemberStatus::parse(&r.status)
                .map_err(AppError::internal("memberships.status"))?,
            kind: MemberKind::parse(&r.kind).map_err(AppError::internal("memberships.kind"))?,
            groups: r.groups,
            team_manager: r.team_manager,
            locked: r.locked,
            last_active_at: r.last_active_at,
            created_at: r.created_at,
            invite_state: r.invite_state,
            delivery_error: r.delivery_error,
            matched: Vec::new(),
        })
    }
}

/// Display rows for some memberships of one workspace, in the given order.
pub async fn member_rows(
    conn: &mut sqlx::PgConnection,
    workspace_id: i64,
    ids: &[i64],
) -> Result<Vec<MemberRow>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query_as!(
        MemberDbRow,
        "SELECT m.id AS membership_id,
                teamroom_member_name(m, a) AS \"name!\",
                coalesce(a.email, m.invited_email) AS email,
                m.role_rank, m.is_admin, m.is_project_manager, m.is_team_manager,
                m.status, m.kind,
                coalesce((SELECT array_agg(g.name ORDER BY lower(g.name))
                            FROM group_members gm
                            JOIN groups g ON g.workspace_id = gm.workspace_id AND g.id = gm.group_id
                           WHERE gm.workspace_id = m.workspace_id AND gm.membership_id = m.id),
                         '{}') AS \"groups!\",
                (SELECT teamroom_member_name(tm, ta)
                   FROM memberships tm
                   LEFT JOIN accounts ta ON ta.id = tm.account_id
                  WHERE tm.workspace_id = m.workspace_id AND tm.id = m.team_manager_id) AS team_manager,
                coalesce(teamroom_sign_in_blocked(a.email), false) AS \"locked!\",
                m.last_active_at, m.created_at,
                CASE WHEN m.status = 'pending' THEN
                    (SELECT CASE WHEN i.state = 'open' AND i.expires_at <= now() THEN 'expired'
                                 ELSE i.state END
                       FROM invitations i
                      WHERE i.workspace_id = m.workspace_id AND i.membership_id = m.id
                      ORDER BY i.id DESC LIMIT 1)
                END AS invite_state,
                CASE WHEN m.status = 'pending' THEN
                    (SELECT CASE WHEN o.sent_at IS NULL THEN o.last_error END
                       FROM outbox o
                      WHERE o.workspace_id = m.workspace_id AND o.membership_id = m.id
                      ORDER BY o.id DESC LIMIT 1)
                END AS delivery_error
           FROM unnest($2::bigint[]) WITH ORDINALITY AS page(id, position)
           JOIN memberships m ON m.workspace_id = $1 AND m.id = page.id
           LEFT JOIN accounts a ON a.id = m.account_id
          ORDER BY page.position",
        workspace_id,
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(MemberRow::try_from).collect()
}

/// One page of a view of the member list, in the caller's scope; the Team
/// page's and the REST API's rule.
pub async fn member_page(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    view: &DirectoryParams,
    after: Option<&str>,
) -> Result<MemberPage, AppError> {
    let query = DirectoryQuery::parse(view)?;
    let listing = Listing::prepare(&mut *conn, ctx.workspace_id, Scope::of(ctx), &query).await?;
    let page = directory::page_ids(&mut *conn, &listing, after).await?;
    let mut rows = member_rows(&mut *conn, ctx.workspace_id, &page.ids).await?;
    let texts: Vec<RowText<'_>> = rows
        .iter()
        .map(|row| RowText {
            name: &row.name,
            email: row.email.as_deref(),
            groups: &row.groups,
            team_manager: row.team_manager.as_deref(),
        })
        .collect();
    let notes = listing.match_notes(&mut *conn, &texts).await?;
    for (row, matched) in rows.iter_mut().zip(notes) {
        row.matched = matched;
    }
    Ok(MemberPage {
        rows,
        next: page.next,
    })
}

/// One member's card, NotFound outside the caller's scope or workspace;
/// the Team page's and the REST API's rule.
pub async fn member_card(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    membership_id: i64,
) -> Result<MemberCard, AppError> {
    ensure_visible(&mut *conn, ctx, membership_id).await?;
    let row = member_rows(&mut *conn, ctx.workspace_id, &[membership_id])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let all_projects = sqlx::query_scalar!(
        "SELECT all_projects FROM memberships WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        membership_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let projects = sqlx::query_scalar!(
        "SELECT p.name FROM project_members pm
           JOIN projects p ON p.workspace_id = pm.workspace_id AND p.id = pm.project_id
          WHERE pm.workspace_id = $1 AND pm.membership_id = $2
          ORDER BY lower(p.name)",
        ctx.workspace_id,
        membership_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(MemberCard {
        row,
        projects,
        all_projects,
    })
}

/// NotFound unless the caller may see this member: anyone in their
/// workspace for Owners and Admins, a manager's own people otherwise.
pub async fn ensure_visible(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    membership_id: i64,
) -> Result<(), AppError> {
    let scope = Scope::of(ctx);
    if scope != Scope::Everyone
        && !crate::server::directory::may_see(conn, ctx.workspace_id, scope, membership_id).await?
    {
        return Err(AppError::NotFound);
    }
    Ok(())
}
