//! The rules of groups and projects: names unique per workspace, members
//! put in and taken out set-based, every change with its audit row and the
//! search keys of the members it touches refreshed, in the caller's
//! transaction. The Groups and Projects pages (`api::groups`), bulk
//! actions, the REST API and SCIM share them.

use crate::{
    api::groups::{GroupRow, ProjectRow, MAX_GROUP_BATCH},
    domain::LabelName,
    error::AppError,
    server::{audit, db, Ctx},
};

#[track_caller]
pub fn name_conflict(kind: &str) -> impl FnOnce(sqlx::Error) -> AppError + '_ {
    crate::server::db::on_constraint(move |constraint| {
        matches!(constraint, "groups_name_key" | "projects_name_key")
            .then(|| AppError::field("name", format!("A {kind} with that name already exists.")))
    })
}

async fn group_member_ids(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    group_id: i64,
) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT membership_id FROM group_members WHERE workspace_id = $1 AND group_id = $2",
        ctx.workspace_id,
        group_id
    )
    .fetch_all(conn)
    .await?)
}

/// The workspace's groups with their sizes (the Groups page and the REST API).
pub async fn groups_of(pool: &sqlx::PgPool, ctx: &Ctx) -> Result<Vec<GroupRow>, AppError> {
    let mut conn = pool.acquire().await?;
    Ok(sqlx::query_as!(
        GroupRow,
        "SELECT g.id, g.name,
                (SELECT count(*) FROM group_members gm
                  WHERE gm.workspace_id = g.workspace_id AND gm.group_id = g.id) AS \"member_count!\"
           FROM groups g
          WHERE g.workspace_id = $1
          ORDER BY lower(g.name), g.id",
        ctx.workspace_id
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Creates a group in its own transaction (the Groups page and the REST API).
pub async fn create_group_as(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    name: &str,
) -> Result<GroupRow, AppError> {
    let name = LabelName::parse_group(name).map_err(|m| AppError::field("name", m))?;
    let mut tx = pool.begin().await?;
    let id = insert_group(&mut tx, ctx, &name).await?;
    tx.commit().await?;
    Ok(GroupRow {
        id,
        name: name.as_str().to_owned(),
        member_count: 0,
    })
}

/// Makes a group in the caller's transaction, audited; a taken name is a
/// field error. Shared by the Groups page and SCIM.
pub async fn insert_group(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    name: &LabelName,
) -> Result<i64, AppError> {
    let id = sqlx::query_scalar!(
        "INSERT INTO groups (workspace_id, name) VALUES ($1, $2) RETURNING id",
        ctx.workspace_id,
        name.as_str()
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(name_conflict("group"))?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::GroupCreated)
            .details(serde_json::json!({ "group_id": id, "name": name.as_str() })),
    )
    .await?;
    Ok(id)
}

/// Renames a group in its own transaction (the Groups page and the REST API).
pub async fn rename_group_as(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    group_id: i64,
    name: &str,
) -> Result<(), AppError> {
    let name = LabelName::parse_group(name).map_err(|m| AppError::field("name", m))?;
    let mut tx = pool.begin().await?;
    apply_rename(&mut tx, ctx, group_id, &name).await?;
    tx.commit().await?;
    Ok(())
}

/// Renames a group in the caller's transaction (search keys refreshed,
/// audited); NotFound outside the workspace. Shared with SCIM.
pub async fn apply_rename(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    group_id: i64,
    name: &LabelName,
) -> Result<(), AppError> {
    let old = sqlx::query_scalar!(
        "UPDATE groups g SET name = $3
           FROM groups old
          WHERE g.workspace_id = $1 AND g.id = $2
            AND old.workspace_id = g.workspace_id AND old.id = g.id
          RETURNING old.name",
        ctx.workspace_id,
        group_id,
        name.as_str()
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(name_conflict("group"))?
    .ok_or(AppError::NotFound)?;
    let members = group_member_ids(&mut *tx, ctx, group_id).await?;
    db::refresh_member_keys(&mut *tx, ctx.workspace_id, &members).await?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::GroupRenamed)
            .details(serde_json::json!({ "group_id": group_id, "from": old, "to": name.as_str() })),
    )
    .await?;
    Ok(())
}

/// Deletes a group in its own transaction (the Groups page and the REST API).
pub async fn delete_group_as(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    group_id: i64,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    apply_delete(&mut tx, ctx, group_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a group in the caller's transaction (its members' search keys
/// refreshed, audited); NotFound outside the workspace. Shared with SCIM.
pub async fn apply_delete(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    group_id: i64,
) -> Result<(), AppError> {
    let members = group_member_ids(&mut *tx, ctx, group_id).await?;
    let name = sqlx::query_scalar!(
        "DELETE FROM groups WHERE workspace_id = $1 AND id = $2 RETURNING name",
        ctx.workspace_id,
        group_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    db::refresh_member_keys(&mut *tx, ctx.workspace_id, &members).await?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::GroupDeleted).details(
            serde_json::json!({ "group_id": group_id, "name": name, "members": members.len() }),
        ),
    )
    .await?;
    Ok(())
}

/// NotFound unless the group is one of this workspace's (another
/// workspace's id looks the same as no group at all).
pub async fn require_group(
    conn: &mut sqlx::PgConnection,
    workspace_id: i64,
    group_id: i64,
) -> Result<(), AppError> {
    let exists = sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM groups WHERE workspace_id = $1 AND id = $2) AS \"exists!\"",
        workspace_id,
        group_id
    )
    .fetch_one(conn)
    .await?;
    if exists {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Adds members in its own transaction, bounded (the Groups page and the
/// REST API).
pub async fn add_group_members_as(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    group_id: i64,
    membership_ids: &[i64],
) -> Result<u64, AppError> {
    if membership_ids.is_empty() {
        return Err(AppError::field("members", "Choose at least one member."));
    }
    if membership_ids.len() > MAX_GROUP_BATCH {
        return Err(AppError::field(
            "members",
            format!("Add at most {MAX_GROUP_BATCH} members at a time."),
        ));
    }
    let mut tx = pool.begin().await?;
    let added = put_in_group(&mut tx, ctx, group_id, membership_ids).await?;
    tx.commit().await?;
    Ok(added.len() as u64)
}

/// Adds members to a group in the caller's transaction; those already in
/// it are left alone, unknown ids refuse the whole call (nothing half
/// applied). Answers the ids added. Shared with SCIM.
pub async fn put_in_group(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    group_id: i64,
    membership_ids: &[i64],
) -> Result<Vec<i64>, AppError> {
    require_group(&mut *tx, ctx.workspace_id, group_id).await?;
    // Only memberships of this workspace; unknown ids are refused as a whole
    // so a typo does not half-apply.
    let mut distinct = membership_ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let known: i64 = sqlx::query_scalar!(
        "SELECT count(*) AS \"count!\" FROM memberships
          WHERE workspace_id = $1 AND id = ANY ($2)",
        ctx.workspace_id,
        &distinct
    )
    .fetch_one(&mut *tx)
    .await?;
    if known != distinct.len() as i64 {
        return Err(AppError::field(
            "members",
            "Some of those members are not in this workspace.",
        ));
    }
    let added = sqlx::query_scalar!(
        "WITH added AS (
            INSERT INTO group_members (workspace_id, group_id, membership_id)
            SELECT $1, $2, id FROM unnest($3::bigint[]) AS id
            ON CONFLICT DO NOTHING
            RETURNING membership_id)
         SELECT coalesce(array_agg(membership_id), '{}') AS \"ids!\" FROM added",
        ctx.workspace_id,
        group_id,
        &distinct
    )
    .fetch_one(&mut *tx)
    .await?;
    if added.is_empty() {
        // Everyone was in it already: nothing changed, nothing to audit.
        return Ok(added);
    }
    db::refresh_member_keys(&mut *tx, ctx.workspace_id, &added).await?;
    let mut event = ctx
        .event(audit::AuditAction::GroupMembersAdded)
        .details(serde_json::json!({ "group_id": group_id, "membership_ids": added }));
    if let [only] = added[..] {
        // One person: the row shows in their own history too.
        event = event.target_membership(only);
    }
    ctx.record(&mut *tx, event).await?;
    Ok(added)
}

/// Takes one member out of a group inside the caller's transaction, with
/// their search keys and the audit row; false when they were not in it.
/// Shared by the member card and bulk actions.
pub async fn take_out_of_group(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    group_id: i64,
    membership_id: i64,
) -> Result<bool, AppError> {
    let removed = sqlx::query!(
        "DELETE FROM group_members WHERE workspace_id = $1 AND group_id = $2 AND membership_id = $3",
        ctx.workspace_id,
        group_id,
        membership_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed == 0 {
        return Ok(false);
    }
    db::refresh_member_keys(&mut *tx, ctx.workspace_id, &[membership_id]).await?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::GroupMemberRemoved)
            .target_membership(membership_id)
            .details(serde_json::json!({ "group_id": group_id })),
    )
    .await?;
    Ok(true)
}

/// Takes one member out in its own transaction (the Groups page and the
/// REST API); NotFound when they were not in it.
pub async fn remove_group_member_as(
    pool: &sqlx::PgPool,
    ctx: &Ctx,
    group_id: i64,
    membership_id: i64,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    if !take_out_of_group(&mut tx, ctx, group_id, membership_id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// The workspace's projects (the page and the REST API).
pub async fn projects_of(pool: &sqlx::PgPool, ctx: &Ctx) -> Result<Vec<ProjectRow>, AppError> {
    let mut conn = pool.acquire().await?;
    Ok(sqlx::query_as!(
        ProjectRow,
        "SELECT p.id, p.name, p.archived_at IS NOT NULL AS \"archived!\",
                (SELECT count(*) FROM project_members pm
                  WHERE pm.workspace_id = p.workspace_id AND pm.project_id = p.id) AS \"member_count!\"
           FROM projects p
          WHERE p.workspace_id = $1
          ORDER BY p.archived_at IS NOT NULL, lower(p.name), p.id",
        ctx.workspace_id
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Makes a project in the caller's transaction, audited; a taken name is a
/// field error.
pub async fn insert_project(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    name: &LabelName,
) -> Result<ProjectRow, AppError> {
    let id = sqlx::query_scalar!(
        "INSERT INTO projects (workspace_id, name) VALUES ($1, $2) RETURNING id",
        ctx.workspace_id,
        name.as_str()
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(name_conflict("project"))?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::ProjectCreated)
            .details(serde_json::json!({ "project_id": id, "name": name.as_str() })),
    )
    .await?;
    Ok(ProjectRow {
        id,
        name: name.as_str().to_owned(),
        archived: false,
        member_count: 0,
    })
}

/// Renames a project in the caller's transaction, audited with the old
/// name; NotFound outside the workspace, a taken name is a field error.
pub async fn rename_project(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    project_id: i64,
    name: &LabelName,
) -> Result<(), AppError> {
    let old = sqlx::query_scalar!(
        "UPDATE projects p SET name = $3
           FROM projects old
          WHERE p.workspace_id = $1 AND p.id = $2
            AND old.workspace_id = p.workspace_id AND old.id = p.id
          RETURNING old.name",
        ctx.workspace_id,
        project_id,
        name.as_str()
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(name_conflict("project"))?
    .ok_or(AppError::NotFound)?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::ProjectRenamed).details(
            serde_json::json!({ "project_id": project_id, "from": old, "to": name.as_str() }),
        ),
    )
    .await?;
    Ok(())
}

/// Archives (or restores) a project in the caller's transaction, audited;
/// archived projects keep their members and time. NotFound outside the
/// workspace.
pub async fn set_project_archived(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    project_id: i64,
    archived: bool,
) -> Result<(), AppError> {
    let changed = sqlx::query!(
        "UPDATE projects
            SET archived_at = CASE WHEN $3 THEN coalesce(archived_at, now()) END
          WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        project_id,
        archived
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    ctx.record(
        &mut *tx,
        ctx.event(if archived {
            audit::AuditAction::ProjectArchived
        } else {
            audit::AuditAction::ProjectRestored
        })
        .details(serde_json::json!({ "project_id": project_id })),
    )
    .await?;
    Ok(())
}

/// Gives a member every project (`all_projects`, `project_ids` empty) or
/// exactly the listed ones, in the caller's transaction, audited. NotFound
/// for a member outside the workspace; a project id that is not the
/// workspace's refuses the whole call.
pub async fn set_member_projects(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    membership_id: i64,
    all_projects: bool,
    project_ids: &[i64],
) -> Result<(), AppError> {
    let updated = sqlx::query!(
        "UPDATE memberships SET all_projects = $3 WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        membership_id,
        all_projects
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::NotFound);
    }
    let known: i64 = sqlx::query_scalar!(
        "SELECT count(*) AS \"count!\" FROM projects WHERE workspace_id = $1 AND id = ANY ($2)",
        ctx.workspace_id,
        project_ids
    )
    .fetch_one(&mut *tx)
    .await?;
    if known != project_ids.len() as i64 {
        return Err(AppError::field(
            "projects",
            "Some of those projects are not in this workspace.",
        ));
    }
    sqlx::query!(
        "DELETE FROM project_members WHERE workspace_id = $1 AND membership_id = $2",
        ctx.workspace_id,
        membership_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO project_members (workspace_id, project_id, membership_id)
         SELECT $1, id, $2 FROM unnest($3::bigint[]) AS id",
        ctx.workspace_id,
        membership_id,
        project_ids
    )
    .execute(&mut *tx)
    .await?;
    ctx.record(
        &mut *tx,
        ctx.event(audit::AuditAction::ProjectsSet)
            .target_membership(membership_id)
            .details(
                serde_json::json!({ "all_projects": all_projects, "project_ids": project_ids }),
            ),
    )
    .await?;
    Ok(())
}

/// Which of `lowered` (lower-cased names) are groups of the workspace
/// already, lower-cased.
pub async fn existing_names(
    conn: &mut sqlx::PgConnection,
    workspace_id: i64,
    lowered: &[String],
) -> Result<std::collections::HashSet<String>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT lower(name) AS "name!" FROM groups WHERE workspace_id = $1 AND lower(name) = ANY ($2)"#,
        workspace_id,
        lowered
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .collect())
}

/// The groups called `names` (compared without case), those missing
/// created with an audit row saying `via`: their ids by lower-cased name.
/// The caller bounds `names`; a name taken by a concurrent creation is
/// simply used.
pub async fn ensure_named(
    tx: &mut sqlx::PgConnection,
    ctx: &Ctx,
    names: &[String],
    via: &str,
) -> Result<std::collections::HashMap<String, i64>, AppError> {
    let created: Vec<i64> = sqlx::query_scalar!(
        "INSERT INTO groups (workspace_id, name) SELECT $1, n FROM unnest($2::text[]) AS n
         ON CONFLICT DO NOTHING RETURNING id",
        ctx.workspace_id,
        names
    )
    .fetch_all(&mut *tx)
    .await?;
    for group_id in &created {
        ctx.record(
            &mut *tx,
            ctx.event(audit::AuditAction::GroupCreated)
                .details(serde_json::json!({ "group_id": group_id, "via": via })),
        )
        .await?;
    }
    let lowered: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    Ok(sqlx::query!(
        r#"SELECT id, lower(name) AS "key!" FROM groups WHERE workspace_id = $1 AND lower(name) = ANY ($2)"#,
        ctx.workspace_id,
        &lowered
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.key, r.id))
    .collect())
}
