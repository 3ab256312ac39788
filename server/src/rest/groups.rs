//! `/api/v1/groups` and `/api/v1/projects`: the rules of the Team page's
//! group and project menus (`app::server::groups`).

use app::{
    api::groups::{GroupRow, ProjectRow, MAX_GROUP_BATCH},
    domain::{LabelName, Permission},
    error::AppError,
    server::{groups as rules, AppState},
};
use axum::{extract::State, response::Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{bad_request, members::no_content, ok, refused, ApiJson, ApiPath, ApiResult, Caller};

/// The name rules the document states (400); uniqueness is the rule's (409).
fn checked_name(name: &str) -> ApiResult<()> {
    LabelName::parse_group(name).map_err(|m| AppError::field("name", m))?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub member_count: i64,
}

impl From<GroupRow> for Group {
    fn from(row: GroupRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            member_count: row.member_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupList {
    pub data: Vec<Group>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub archived: bool,
    /// Members given this project specifically.
    pub member_count: i64,
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            archived: row.archived,
            member_count: row.member_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectList {
    pub data: Vec<Project>,
}

/// A group's name: 1 to 100 characters, no control characters, unique in
/// the workspace (case-insensitively).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupName {
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
}

/// Members to add to a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupMembers {
    /// Membership ids of this workspace (1 to 1000).
    #[schema(min_items = 1, max_items = 1000)]
    #[serde(deserialize_with = "super::whole_numbers")]
    pub membership_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Added {
    /// How many were not in the group before.
    pub added: u64,
}

/// Every group of the workspace, by name.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups",
    responses((status = 200, description = "The groups", body = GroupList)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let (ctx, conn) = caller.ctx(&state, Permission::ViewTeam).await?;
    drop(conn);
    let groups = rules::groups_of(&state.pool, &ctx).await?;
    Ok(ok(
        StatusCode::OK,
        &GroupList {
            data: groups.into_iter().map(Group::from).collect(),
        },
    ))
}

/// Creates a group (Owners and Admins).
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = GroupName,
    responses((status = 201, description = "Created", body = Group)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<GroupName>,
) -> ApiResult<Response> {
    let (ctx, conn) = caller
        .ctx(&state, Permission::ManageGroupsAndProjects)
        .await?;
    drop(conn);
    checked_name(&body.name)?;
    let group = rules::create_group_as(&state.pool, &ctx, &body.name)
        .await
        .map_err(refused)?;
    Ok(ok(StatusCode::CREATED, &Group::from(group)))
}

/// Renames a group; its members are found under the new name at once.
#[utoipa::path(patch, path = "/api/v1/groups/{id}", tag = "groups", request_body = GroupName,
    params(("id" = i64, Path, description = "Group id")),
    responses((status = 204, description = "Renamed")))]
pub async fn rename(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<GroupName>,
) -> ApiResult<Response> {
    let (ctx, conn) = caller
        .ctx(&state, Permission::ManageGroupsAndProjects)
        .await?;
    drop(conn);
    checked_name(&body.name)?;
    rules::rename_group_as(&state.pool, &ctx, id, &body.name)
        .await
        .map_err(refused)?;
    Ok(no_content())
}

/// Deletes a group (its members stay).
#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = i64, Path, description = "Group id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (ctx, conn) = caller
        .ctx(&state, Permission::ManageGroupsAndProjects)
        .await?;
    drop(conn);
    rules::delete_group_as(&state.pool, &ctx, id).await?;
    Ok(no_content())
}

/// Adds members to a group; those already in it are left alone. Unknown
/// ids refuse the whole batch.
#[utoipa::path(post, path = "/api/v1/groups/{id}/members", tag = "groups", request_body = GroupMembers,
    params(("id" = i64, Path, description = "Group id")),
    responses((status = 200, description = "Added", body = Added)))]
pub async fn add_members(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<GroupMembers>,
) -> ApiResult<Response> {
    let (ctx, conn) = caller
        .ctx(&state, Permission::ManageGroupsAndProjects)
        .await?;
    drop(conn);
    if body.membership_ids.is_empty() || body.membership_ids.len() > MAX_GROUP_BATCH {
        return Err(bad_request(
            "membership_ids",
            format!("Give 1 to {MAX_GROUP_BATCH} membership ids."),
        ));
    }
    let added = rules::add_group_members_as(&state.pool, &ctx, id, &body.membership_ids)
        .await
        .map_err(refused)?;
    Ok(ok(StatusCode::OK, &Added { added }))
}

/// Takes one member out of a group.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{member_id}", tag = "groups",
    params(("id" = i64, Path, description = "Group id"),
           ("member_id" = i64, Path, description = "Membership id")),
    responses((status = 204, description = "Removed")))]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, member_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Response> {
    let (ctx, conn) = caller
        .ctx(&state, Permission::ManageGroupsAndProjects)
        .await?;
    drop(conn);
    rules::remove_group_member_as(&state.pool, &ctx, id, member_id).await?;
    Ok(no_content())
}

/// Every project of the workspace, archived last.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    responses((status = 200, description = "The projects", body = ProjectList)))]
pub async fn projects(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let (ctx, conn) = caller.ctx(&state, Permission::ViewTeam).await?;
    drop(conn);
    let projects = rules::projects_of(&state.pool, &ctx).await?;
    Ok(ok(
        StatusCode::OK,
        &ProjectList {
            data: projects.into_iter().map(Project::from).collect(),
        },
    ))
}
