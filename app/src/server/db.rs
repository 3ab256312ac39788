//! Small SQL functions on accounts, workspaces and memberships. Every query
//! on tenant data names its workspace.

use sqlx::PgConnection;

use crate::{
    domain::{DisplayName, EmailAddress, Plan, Positions, WorkspaceName},
    error::AppError,
};

/// The one mapping from a violated constraint (unique index, foreign key,
/// check) to what the person is told, for `map_err` on a write:
/// `answer(constraint_name)` names the field error or conflict for the
/// constraints this write can expect to meet. A race a check before the
/// write could not see (two people taking one address or name at once)
/// then gets the same clear answer as the check. Anything else is an
/// internal error, logged here with the call site.
#[track_caller]
pub fn on_constraint(
    answer: impl FnOnce(&str) -> Option<AppError>,
) -> impl FnOnce(sqlx::Error) -> AppError {
    let at = std::panic::Location::caller();
    move |error| {
        if let Some(answer) = match &error {
            sqlx::Error::Database(db) => db.constraint().and_then(answer),
            _ => None,
        } {
            return answer;
        }
        tracing::error!(%error, %at, "database error");
        AppError::Internal
    }
}

pub async fn insert_account(
    conn: &mut PgConnection,
    email: &EmailAddress,
    name: &DisplayName,
    password_hash: &str,
) -> Result<i64, AppError> {
    sqlx::query_scalar!("INSERT INTO accounts (email, display_name, password_hash) VALUES ($1, $2, $3) RETURNING id", email.as_str(), name.as_str(), password_hash)
    .fetch_one(conn)
    .await
    .map_err(on_constraint(|constraint| {
        (constraint == "accounts_email_key").then(|| {
            AppError::field(
                "email",
                "An account with this email already exists. Sign in instead.",
            )
        })
    }))
}

/// The account holding an address, as the invitation pages see it.
#[derive(Debug)]
pub struct AccountByEmail {
    pub id: i64,
    /// The address was proven (a confirmation click in the account's own
    /// session, or an invitation link). An unproven account may be claimed
    /// by whoever holds an invitation link to the address.
    pub verified: bool,
}

pub async fn account_by_email(
    conn: &mut PgConnection,
    email: &EmailAddress,
) -> Result<Option<AccountByEmail>, AppError> {
    Ok(sqlx::query_as!(
        AccountByEmail,
        r#"SELECT id, email_verified_at IS NOT NULL AS "verified!" FROM accounts WHERE lower(email) = $1"#,
        email.normalized()
    )
    .fetch_optional(conn)
    .await?)
}

/// Creates a workspace with `owner` as its Owner and active full member.
pub async fn insert_workspace(
    conn: &mut PgConnection,
    owner_account_id: i64,
    name: &WorkspaceName,
) -> Result<(i64, i64), AppError> {
    let workspace_id: i64 = sqlx::query_scalar!(
        "INSERT INTO workspaces (name, owner_account_id) VALUES ($1, $2) RETURNING id",
        name.as_str(),
        owner_account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let membership_id: i64 = sqlx::query_scalar!(
        "INSERT INTO memberships (workspace_id, account_id, kind, status, last_active_at)
         VALUES ($1, $2, 'full', 'active', now()) RETURNING id",
        workspace_id,
        owner_account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    refresh_member_keys(conn, workspace_id, &[membership_id]).await?;
    Ok((workspace_id, membership_id))
}

/// Recomputes the Team page's search and sort keys of some members after a
/// change to their name, email, roles, groups or manager. Runs in the
/// caller's transaction.
pub async fn refresh_member_keys(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_ids: &[i64],
) -> Result<(), AppError> {
    if !membership_ids.is_empty() {
        sqlx::query!(
            "SELECT teamroom_refresh_members($1, $2)",
            workspace_id,
            membership_ids
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Recomputes the search keys an account's name or address is part of, in
/// every workspace: its own memberships and those of people it manages.
pub async fn refresh_account_keys(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        "SELECT teamroom_refresh_members(m.workspace_id, array_agg(m.id))
           FROM memberships m
          WHERE m.account_id = $1
             OR m.team_manager_id IN (SELECT id FROM memberships WHERE account_id = $1)
          GROUP BY m.workspace_id",
        account_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether a workspace where the account is an active Owner or Admin asks
/// Owners and Admins to use two-factor.
pub async fn two_factor_required(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (
             SELECT 1 FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
              WHERE m.account_id = $1 AND m.status = 'active' AND w.require_two_factor
                AND (w.owner_account_id = $1 OR m.is_admin)) AS "required!""#,
        account_id
    )
    .fetch_one(conn)
    .await?)
}

#[derive(Debug, Clone)]
pub struct WorkspaceOfAccount {
    pub id: i64,
    pub name: String,
    pub plan: Plan,
    pub owner_account_id: i64,
    pub is_admin: bool,
    pub is_project_manager: bool,
    pub is_team_manager: bool,
    pub require_two_factor: bool,
}

impl WorkspaceOfAccount {
    pub fn positions(&self, account_id: i64) -> Positions {
        Positions {
            owner: self.owner_account_id == account_id,
            admin: self.is_admin,
            project_manager: self.is_project_manager,
            team_manager: self.is_team_manager,
        }
    }
}

/// Workspaces where the account is an active member, most recently used first.
pub async fn active_workspaces(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<Vec<WorkspaceOfAccount>, AppError> {
    Ok(sqlx::query_as!(
        WorkspaceOfAccount,
        r#"SELECT w.id, w.name, w.plan AS "plan: Plan", w.owner_account_id,
                m.is_admin, m.is_project_manager, m.is_team_manager, w.require_two_factor
           FROM memberships m
           JOIN workspaces w ON w.id = m.workspace_id
          WHERE m.account_id = $1 AND m.status = 'active'
          ORDER BY m.last_active_at DESC NULLS LAST, w.name, w.id"#,
        account_id
    )
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Clone)]
pub struct AccountProfile {
    pub id: i64,
    pub email: String,
    pub display_name: String,
}

pub async fn account_profile(
    conn: &mut PgConnection,
    account_id: i64,
) -> Result<AccountProfile, AppError> {
    sqlx::query_as!(
        AccountProfile,
        "SELECT id, email, display_name FROM accounts WHERE id = $1",
        account_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::Unauthenticated)
}
