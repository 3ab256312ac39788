//! Groups and projects: named sets of members. Owners and admins change
//! them; managers read them. Every change refreshes the search keys of the
//! members it touches in the same transaction, so a renamed group is
//! searchable under its new name at once.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{LabelName, Permission},
    server::{
        app_state, audit,
        groups::{
            add_group_members_as, create_group_as, delete_group_as, groups_of, name_conflict,
            projects_of, remove_group_member_as, rename_group_as,
        },
        require,
    },
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub member_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRow {
    pub id: i64,
    pub name: String,
    pub archived: bool,
    /// Members given this project specifically (not counting "all projects").
    pub member_count: i64,
}

/// Most members added to a group in one call.
pub const MAX_GROUP_BATCH: usize = 1000;

#[server(prefix = "/api", endpoint = "list_groups")]
pub async fn list_groups() -> Result<Vec<GroupRow>, AppError> {
    let ctx = require(Permission::ViewTeam).await?;
    let state = app_state()?;
    groups_of(&state.pool, &ctx).await
}

#[server(prefix = "/api", endpoint = "create_group")]
pub async fn create_group(name: String) -> Result<GroupRow, AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let state = app_state()?;
    create_group_as(&state.pool, &ctx, &name).await
}

#[server(prefix = "/api", endpoint = "rename_group")]
pub async fn rename_group(group_id: i64, name: String) -> Result<(), AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let state = app_state()?;
    rename_group_as(&state.pool, &ctx, group_id, &name).await
}

#[server(prefix = "/api", endpoint = "delete_group")]
pub async fn delete_group(group_id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let state = app_state()?;
    delete_group_as(&state.pool, &ctx, group_id).await
}

/// Adds members to a group; members already in it are left alone. Returns
/// how many were added.
#[server(prefix = "/api", endpoint = "add_group_members")]
pub async fn add_group_members(group_id: i64, membership_ids: Vec<i64>) -> Result<u64, AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let state = app_state()?;
    add_group_members_as(&state.pool, &ctx, group_id, &membership_ids).await
}

#[server(prefix = "/api", endpoint = "remove_group_member")]
pub async fn remove_group_member(group_id: i64, membership_id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let state = app_state()?;
    remove_group_member_as(&state.pool, &ctx, group_id, membership_id).await
}

#[server(prefix = "/api", endpoint = "list_projects")]
pub async fn list_projects() -> Result<Vec<ProjectRow>, AppError> {
    let ctx = require(Permission::ViewTeam).await?;
    let state = app_state()?;
    projects_of(&state.pool, &ctx).await
}

#[server(prefix = "/api", endpoint = "create_project")]
pub async fn create_project(name: String) -> Result<ProjectRow, AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let name = LabelName::parse_project(&name).map_err(|m| AppError::field("name", m))?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO projects (workspace_id, name) VALUES ($1, $2) RETURNING id",
        ctx.workspace_id,
        name.as_str()
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(name_conflict("project"))?;
    ctx.record(
        &mut tx,
        ctx.event(audit::AuditAction::ProjectCreated)
            .details(serde_json::json!({ "project_id": id, "name": name.as_str() })),
    )
    .await?;
    tx.commit().await?;
    Ok(ProjectRow {
        id,
        name: name.as_str().to_owned(),
        archived: false,
        member_count: 0,
    })
}

#[server(prefix = "/api", endpoint = "rename_project")]
pub async fn rename_project(project_id: i64, name: String) -> Result<(), AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let name = LabelName::parse_project(&name).map_err(|m| AppError::field("name", m))?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
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
        &mut tx,
        ctx.event(audit::AuditAction::ProjectRenamed).details(
            serde_json::json!({ "project_id": project_id, "from": old, "to": name.as_str() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Archives (or restores) a project. Archived projects keep their members
/// and time; they are only out of the way.
#[server(prefix = "/api", endpoint = "set_project_archived")]
pub async fn set_project_archived(project_id: i64, archived: bool) -> Result<(), AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
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
        &mut tx,
        ctx.event(if archived {
            audit::AuditAction::ProjectArchived
        } else {
            audit::AuditAction::ProjectRestored
        })
        .details(serde_json::json!({ "project_id": project_id })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a member every project, or exactly the listed ones.
#[server(prefix = "/api", endpoint = "set_member_projects")]
pub async fn set_member_projects(
    membership_id: i64,
    all_projects: bool,
    project_ids: Vec<i64>,
) -> Result<(), AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let project_ids = if all_projects {
        Vec::new()
    } else {
        crate::domain::limits::distinct_ids(
            project_ids,
            crate::domain::limits::MAX_PROJECTS_PER_MEMBER,
            "projects",
        )
        .map_err(|m| AppError::field("projects", m))?
    };
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
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
        &project_ids
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
        &project_ids
    )
    .execute(&mut *tx)
    .await?;
    ctx.record(
        &mut tx,
        ctx.event(audit::AuditAction::ProjectsSet)
            .target_membership(membership_id)
            .details(
                serde_json::json!({ "all_projects": all_projects, "project_ids": project_ids }),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
