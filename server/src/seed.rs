//! `server seed-demo`: a small demo workspace to click around in, made once.

use app::{
    domain::{Password, WorkspaceName},
    error::AppError,
    server::{password, AppState},
};

pub const DEMO_OWNER_EMAIL: &str = "owner@demo.teamroom.test";
/// Shared by every demo account; printed at start-up, so it is no secret.
pub const DEMO_PASSWORD: &str = "teamroom demo 2026";
/// Kim Kiosk's PIN at the demo Kiosk; printed at start-up too.
pub const DEMO_KIOSK_PIN: &str = "1234";

struct DemoPerson {
    name: &'static str,
    email: &'static str,
    status: &'static str,
    admin: bool,
    project_manager: bool,
    team_manager: bool,
}

const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        name: "Adam Admin",
        email: "admin@demo.teamroom.test",
        status: "active",
        admin: true,
        project_manager: false,
        team_manager: false,
    },
    DemoPerson {
        name: "Priya Patel",
        email: "pm@demo.teamroom.test",
        status: "active",
        admin: false,
        project_manager: true,
        team_manager: false,
    },
    DemoPerson {
        name: "Tomás García",
        email: "tm@demo.teamroom.test",
        status: "active",
        admin: false,
        project_manager: false,
        team_manager: true,
    },
    DemoPerson {
        name: "Mia Member",
        email: "member@demo.teamroom.test",
        status: "active",
        admin: false,
        project_manager: false,
        team_manager: false,
    },
    DemoPerson {
        name: "Ian Inactive",
        email: "inactive@demo.teamroom.test",
        status: "inactive",
        admin: false,
        project_manager: false,
        team_manager: false,
    },
];

/// Creates the demo workspace unless its owner exists. Returns whether it
/// was created now.
pub async fn demo(state: &AppState) -> Result<bool, AppError> {
    let exists: bool = sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE lower(email) = $1) AS \"exists!\"",
        DEMO_OWNER_EMAIL
    )
    .fetch_one(&state.pool)
    .await?;
    if exists {
        return Ok(false);
    }
    let demo_password =
        Password::parse(DEMO_PASSWORD).map_err(AppError::internal("the demo password"))?;
    let hash = password::hash(state, &demo_password).await?;
    let pin_hash = password::hash_secret(state, DEMO_KIOSK_PIN.to_owned()).await?;
    let workspace_name = WorkspaceName::parse("Demo Company")
        .map_err(AppError::internal("the demo workspace name"))?;

    let mut tx = state.pool.begin().await?;
    let owner_id: i64 = sqlx::query_scalar!("INSERT INTO accounts (email, display_name, password_hash) VALUES ($1, 'Olivia Owner', $2) RETURNING id", DEMO_OWNER_EMAIL, hash.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let (workspace_id, _) =
        app::server::db::insert_workspace(&mut tx, owner_id, &workspace_name).await?;
    sqlx::query!(
        "UPDATE workspaces SET plan = 'enterprise', seats = 25 WHERE id = $1",
        workspace_id
    )
    .execute(&mut *tx)
    .await?;
    for person in PEOPLE {
        let account_id: i64 = sqlx::query_scalar!("INSERT INTO accounts (email, display_name, password_hash) VALUES ($1, $2, $3) RETURNING id", person.email, person.name, hash.as_str())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!("INSERT INTO memberships (workspace_id, account_id, kind, status, is_admin, is_project_manager, is_team_manager)
             VALUES ($1, $2, 'full', $3, $4, $5, $6)", workspace_id, account_id, person.status, person.admin, person.project_manager, person.team_manager)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "INSERT INTO memberships (workspace_id, kind, status, invited_email)
         VALUES ($1, 'full', 'pending', 'paula.pending@demo.teamroom.test')",
        workspace_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO memberships (workspace_id, kind, status, display_name, kiosk_pin_hash)
         VALUES ($1, 'limited', 'active', 'Kim Kiosk', $2)",
        workspace_id,
        pin_hash
    )
    .execute(&mut *tx)
    .await?;
    // Groups, projects and a team manager, so every column of the Team page
    // has something in it.
    sqlx::query!(
        "INSERT INTO groups (workspace_id, name) VALUES ($1, 'Engineering'), ($1, 'Sales')",
        workspace_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO group_members (workspace_id, group_id, membership_id)
         SELECT m.workspace_id, g.id, m.id
           FROM memberships m
           JOIN groups g ON g.workspace_id = m.workspace_id
          WHERE m.workspace_id = $1 AND m.kind = 'full'
            AND (g.name = 'Engineering') = (m.id % 2 = 0)",
        workspace_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO projects (workspace_id, name) VALUES ($1, 'Website redesign'), ($1, 'Mobile app')",
        workspace_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE memberships m SET team_manager_id = tm.id
           FROM memberships tm
          WHERE m.workspace_id = $1 AND tm.workspace_id = $1 AND tm.is_team_manager
            AND NOT m.is_team_manager AND NOT m.is_admin AND m.account_id IS NOT NULL",
        workspace_id
    )
    .execute(&mut *tx)
    .await?;
    // Two weeks of weekdays for everyone with an account (the inactive
    // member too, so the report's Inactive filter shows a difference).
    sqlx::query!(
        "INSERT INTO time_entries (workspace_id, membership_id, project_id, description,
                                   started_at, ended_at, source)
         SELECT m.workspace_id, m.id, p.id, d.description,
                date_trunc('day', now()) - make_interval(days => g.day) + d.starts,
                date_trunc('day', now()) - make_interval(days => g.day) + d.ends, 'manual'
           FROM memberships m
          CROSS JOIN generate_series(1, 14) AS g(day)
          CROSS JOIN (VALUES ('Planning and email', interval '9 hours', interval '12 hours 30 minutes'),
                             ('Focused work', interval '13 hours 30 minutes', interval '17 hours'))
                AS d(description, starts, ends)
           LEFT JOIN projects p ON p.workspace_id = m.workspace_id
                AND p.name = CASE WHEN m.id % 2 = 0 THEN 'Website redesign' ELSE 'Mobile app' END
          WHERE m.workspace_id = $1 AND m.account_id IS NOT NULL
            AND m.status IN ('active', 'inactive')
            AND extract(isodow FROM now() - make_interval(days => g.day)) < 6",
        workspace_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("SELECT teamroom_refresh_members($1, NULL)", workspace_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// `server api-key --email X [--name N]`: a fresh API key for that
/// account's membership (in the workspace it owns, else its oldest active
/// one), printed once; for scripts and the protocol checks of `cargo xtask
/// test`. The same rules as the profile's "Create key" (the member must be
/// active; at most `MAX_LIVE_KEYS` live keys).
pub async fn api_key(state: &AppState, email: &str, name: &str) -> Result<String, AppError> {
    use app::{
        domain::{api_key::ApiKeyName, Permission},
        server::{api_keys, guard, session::RequestMeta},
    };
    let name = ApiKeyName::parse(name).map_err(|m| AppError::field("name", m))?;
    let mut tx = state.pool.begin().await?;
    let found = sqlx::query!(
        r#"SELECT m.workspace_id, m.id AS membership_id, a.id AS account_id
             FROM accounts a
             JOIN memberships m ON m.account_id = a.id AND m.status = 'active' AND m.kind = 'full'
             JOIN workspaces w ON w.id = m.workspace_id
            WHERE lower(a.email) = lower($1)
            ORDER BY (w.owner_account_id = a.id) DESC, m.id
            LIMIT 1"#,
        email
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let key = api_keys::ApiKeyCtx {
        key_id: 0,
        workspace_id: found.workspace_id,
        membership_id: found.membership_id,
        account_id: found.account_id,
    };
    let ctx = guard::authorize_api_key(
        &mut tx,
        &key,
        RequestMeta::default(),
        Permission::EditOwnProfile,
    )
    .await?;
    let created = api_keys::create(&mut tx, &ctx, &name, None).await?;
    tx.commit().await?;
    Ok(created.secret)
}

/// A SCIM token for the workspace `email` owns (the protocol checks'
/// `server scim-token`): made and audited as the Settings page makes one.
pub async fn scim_token(state: &AppState, email: &str, name: &str) -> Result<String, AppError> {
    use app::domain::api_key::ApiKeyName;
    let name = ApiKeyName::parse(name).map_err(|m| AppError::field("name", m))?;
    let mut tx = state.pool.begin().await?;
    let workspace_id = sqlx::query_scalar!(
        "SELECT w.id FROM workspaces w JOIN accounts a ON a.id = w.owner_account_id
          WHERE lower(a.email) = lower($1) ORDER BY w.id LIMIT 1",
        email
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let secret = app::server::scim::token_for_owner(&mut tx, workspace_id, &name).await?;
    tx.commit().await?;
    Ok(secret)
}
