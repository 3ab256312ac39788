//! The permission guard against the matrix, with real memberships.

use app::{
    domain::{Access, Permission, Plan, Position, Positions, WorkspaceName},
    error::AppError,
    server::{
        db,
        guard::{authorize, authorize_subject, MyselfOr},
        session::{self, RequestMeta, SessionRow},
        AuthSettings,
    },
};
use sqlx::{PgConnection, PgPool};

async fn account(conn: &mut PgConnection, email: &str) -> i64 {
    sqlx::query_scalar("INSERT INTO accounts (email, display_name) VALUES ($1, $1) RETURNING id")
        .bind(email)
        .fetch_one(conn)
        .await
        .unwrap()
}

async fn member(
    conn: &mut PgConnection,
    workspace_id: i64,
    account_id: i64,
    position: Position,
    status: &str,
) {
    let p = Positions::only(position);
    sqlx::query(
        "INSERT INTO memberships (workspace_id, account_id, kind, status, is_admin, is_project_manager, is_team_manager)
         VALUES ($1, $2, 'full', $3, $4, $5, $6)",
    )
    .bind(workspace_id)
    .bind(account_id)
    .bind(status)
    .bind(p.admin)
    .bind(p.project_manager)
    .bind(p.team_manager)
    .execute(conn)
    .await
    .unwrap();
}

async fn session_for(conn: &mut PgConnection, account_id: i64, workspace_id: i64) -> SessionRow {
    let settings = AuthSettings::default();
    let token = session::create(
        conn,
        account_id,
        Some(workspace_id),
        &settings,
        &RequestMeta::default(),
    )
    .await
    .unwrap();
    session::load(conn, &token.value, &settings)
        .await
        .unwrap()
        .unwrap()
}

async fn workspace(conn: &mut PgConnection, owner: i64, plan: &str) -> i64 {
    let name = WorkspaceName::parse("Guarded").unwrap();
    let (id, _) = db::insert_workspace(conn, owner, &name).await.unwrap();
    sqlx::query("UPDATE workspaces SET plan = $2 WHERE id = $1")
        .bind(id)
        .bind(plan)
        .execute(conn)
        .await
        .unwrap();
    id
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn every_position_and_action_is_decided_by_the_matrix(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    for plan in [Plan::Enterprise, Plan::Pro] {
        let owner = account(&mut conn, &format!("owner-{}@example.com", plan.as_str())).await;
        let workspace_id = workspace(&mut conn, owner, plan.as_str()).await;
        let mut checked = 0;
        for position in Position::ALL {
            let account_id = if position == Position::Owner {
                owner
            } else {
                let id = account(
                    &mut conn,
                    &format!("{position:?}-{}@example.com", plan.as_str()),
                )
                .await;
                member(&mut conn, workspace_id, id, position, "active").await;
                id
            };
            let session = session_for(&mut conn, account_id, workspace_id).await;
            for action in Permission::all() {
                let expected = Positions::only(position).access(action, plan);
                let got =
                    authorize(&mut conn, session.clone(), RequestMeta::default(), action).await;
                match (expected, got) {
                    (Access::Denied, Err(AppError::Forbidden)) => {}
                    (access, Ok(ctx)) if access != Access::Denied => {
                        assert_eq!(ctx.access, access, "{position:?} {action:?}");
                        assert_eq!(ctx.workspace_id, workspace_id);
                        assert_eq!(ctx.actor_account_id, account_id);
                        assert_eq!(ctx.subject_account_id, account_id);
                    }
                    (expected, got) => panic!(
                        "{plan:?} {position:?} {action:?}: expected {expected:?}, got {got:?}"
                    ),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, Position::ALL.len() * Permission::all().count());
    }
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn inactive_pending_and_foreign_members_are_refused_everything(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    let owner = account(&mut conn, "owner@example.com").await;
    let workspace_id = workspace(&mut conn, owner, "enterprise").await;
    let other_owner = account(&mut conn, "other@example.com").await;
    let other_workspace = workspace(&mut conn, other_owner, "enterprise").await;

    let inactive_admin = account(&mut conn, "inactive@example.com").await;
    member(
        &mut conn,
        workspace_id,
        inactive_admin,
        Position::Admin,
        "inactive",
    )
    .await;
    let pending = account(&mut conn, "pending@example.com").await;
    member(
        &mut conn,
        workspace_id,
        pending,
        Position::Member,
        "pending",
    )
    .await;

    let sessions = [
        session_for(&mut conn, inactive_admin, workspace_id).await,
        session_for(&mut conn, pending, workspace_id).await,
        // An owner of A whose session points at B, where they are nobody.
        session_for(&mut conn, owner, other_workspace).await,
    ];
    for session in sessions {
        for action in Permission::all() {
            let got = authorize(&mut conn, session.clone(), RequestMeta::default(), action).await;
            assert_eq!(got.err(), Some(AppError::Forbidden), "{action:?}");
        }
    }
}

async fn membership_of(conn: &mut PgConnection, workspace_id: i64, account_id: i64) -> i64 {
    sqlx::query_scalar("SELECT id FROM memberships WHERE workspace_id = $1 AND account_id = $2")
        .bind(workspace_id)
        .bind(account_id)
        .fetch_one(conn)
        .await
        .unwrap()
}

/// "Myself or someone I may manage": one's own record with the own
/// permission, another's only with the other permission and within reach.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_request_about_someone_else_needs_the_permission_and_the_reach(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    let owner = account(&mut conn, "owner@example.com").await;
    let workspace_id = workspace(&mut conn, owner, "enterprise").await;
    let mut people = Vec::new();
    for (email, position) in [
        ("tess@example.com", Position::TeamManager),
        ("ann@example.com", Position::Member),
        ("bob@example.com", Position::Member),
    ] {
        let id = account(&mut conn, email).await;
        member(&mut conn, workspace_id, id, position, "active").await;
        people.push((id, membership_of(&mut conn, workspace_id, id).await));
    }
    let [(tess, tess_member), (ann, ann_member), (_, bob_member)] = people[..] else {
        unreachable!()
    };
    // Ann is on Tess's team; Bob is not.
    sqlx::query("UPDATE memberships SET team_manager_id = $2 WHERE id = $1")
        .bind(ann_member)
        .bind(tess_member)
        .execute(&mut *conn)
        .await
        .unwrap();
    let stranger_owner = account(&mut conn, "stranger@example.com").await;
    let stranger_workspace = workspace(&mut conn, stranger_owner, "enterprise").await;
    let stranger_member = membership_of(&mut conn, stranger_workspace, stranger_owner).await;

    let tess_session = session_for(&mut conn, tess, workspace_id).await;
    let ann_session = session_for(&mut conn, ann, workspace_id).await;
    let owner_session = session_for(&mut conn, owner, workspace_id).await;
    let ask = |session: &SessionRow, target: Option<i64>, rule: MyselfOr| {
        let session = session.clone();
        let pool = pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap();
            authorize_subject(&mut conn, session, RequestMeta::default(), target, rule)
                .await
                .map(|subject| (subject.membership_id, subject.is_self))
        }
    };

    // Oneself, named or not.
    assert_eq!(
        ask(&tess_session, None, MyselfOr::TIME).await,
        Ok((tess_member, true))
    );
    assert_eq!(
        ask(&tess_session, Some(tess_member), MyselfOr::TIME).await,
        Ok((tess_member, true))
    );
    // A team manager sees their own people's time, and nobody else's.
    assert_eq!(
        ask(&tess_session, Some(ann_member), MyselfOr::TIME).await,
        Ok((ann_member, false))
    );
    assert_eq!(
        ask(&tess_session, Some(bob_member), MyselfOr::TIME).await,
        Err(AppError::NotFound)
    );
    // A team manager may not edit profiles, not even their team's.
    assert_eq!(
        ask(&tess_session, Some(ann_member), MyselfOr::PROFILE).await,
        Err(AppError::Forbidden)
    );
    // A member has only themself.
    assert_eq!(
        ask(&ann_session, None, MyselfOr::PROFILE).await,
        Ok((ann_member, true))
    );
    for rule in [MyselfOr::TIME, MyselfOr::PROFILE] {
        assert_eq!(
            ask(&ann_session, Some(bob_member), rule).await,
            Err(AppError::Forbidden)
        );
    }
    // The Owner reaches everyone in the workspace, and nobody outside it.
    assert_eq!(
        ask(&owner_session, Some(bob_member), MyselfOr::PROFILE).await,
        Ok((bob_member, false))
    );
    for target in [stranger_member, i64::MAX] {
        assert_eq!(
            ask(&owner_session, Some(target), MyselfOr::PROFILE).await,
            Err(AppError::NotFound)
        );
    }
}
