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
        app_state,
        groups::{
            self as groupdb, add_group_members_as, create_group_as, delete_group_as, groups_of,
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
    let row = groupdb::insert_project(&mut tx, &ctx, &name).await?;
    tx.commit().await?;
    Ok(row)
}

#[server(prefix = "/api", endpoint = "rename_project")]
pub async fn rename_project(project_id: i64, name: String) -> Result<(), AppError> {
    let ctx = require(Permission::ManageGroupsAndProjects).await?;
    let name = LabelName::parse_project(&name).map_err(|m| AppError::field("name", m))?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    groupdb::rename_project(&mut tx, &ctx, project_id, &name).await?;
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
    groupdb::set_project_archived(&mut tx, &ctx, project_id, archived).await?;
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
    groupdb::set_member_projects(&mut tx, &ctx, membership_id, all_projects, &project_ids).await?;
    tx.commit().await?;
    Ok(())
}
