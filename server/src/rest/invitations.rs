//! `/api/v1/invitations`: pending members, inviting a batch, resend and
//! revoke, through the invite dialog's and the Team page's rules.

use app::{
    api::invitations::InviteReport,
    domain::{
        directory::{DirectoryParams, DirectoryQuery},
        invite::MAX_DIALOG_BATCH,
        Permission,
    },
    server::{invitations as rules, members as team, AppState},
};
use axum::{extract::State, response::Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    bad_request,
    members::{no_content, Member, MemberList},
    ok, refused, ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, Caller,
};

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PendingQuery {
    /// The `cursor` of the previous page's `next` link.
    #[param(max_length = 2048)]
    pub cursor: Option<String>,
}

/// People to invite, as the invite dialog takes them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitations {
    /// 1 to 500 addresses (5 at a time on the Free plan). Those already in
    /// the workspace are reported, not invited again.
    #[schema(min_items = 1, max_items = 500)]
    pub emails: Vec<String>,
    /// Mail the invitations now (otherwise send them later with `resend`).
    pub send_email: bool,
    /// Groups to put them in.
    #[serde(default, deserialize_with = "super::whole_numbers")]
    #[schema(max_items = 1000)]
    pub group_ids: Vec<i64>,
    /// Track time on every project.
    #[serde(default)]
    pub all_projects: bool,
    /// Or on these projects.
    #[serde(default, deserialize_with = "super::whole_numbers")]
    #[schema(max_items = 1000)]
    pub project_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invited {
    pub invited: Vec<String>,
    /// Already members (or no seat was free for them).
    pub already_members: Vec<String>,
    pub emailed: bool,
}

impl From<InviteReport> for Invited {
    fn from(report: InviteReport) -> Self {
        Self {
            invited: report.invited,
            already_members: report.already_members,
            emailed: report.emailed,
        }
    }
}

/// Pending members (invited, not yet joined), 50 a page, by name.
#[utoipa::path(get, path = "/api/v1/invitations", tag = "invitations", params(PendingQuery),
    responses((status = 200, description = "One page of pending members", body = MemberList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PendingQuery>,
) -> ApiResult<Response> {
    let view = DirectoryParams {
        status: Some("pending".into()),
        ..DirectoryParams::default()
    };
    DirectoryQuery::parse(&view)?;
    let (ctx, mut conn) = caller.ctx(&state, Permission::InviteMembers).await?;
    let page = team::member_page(&mut conn, &ctx, &view, query.cursor.as_deref())
        .await
        .map_err(refused)?;
    let next = page.next.map(|cursor| {
        format!(
            "/api/v1/invitations?{}",
            serde_urlencoded::to_string([("cursor", cursor)]).unwrap_or_default()
        )
    });
    Ok(ok(
        StatusCode::OK,
        &MemberList {
            data: page.rows.into_iter().map(Member::from).collect(),
            next,
        },
    ))
}

/// Invites a batch of people (Owners and Admins), with the dialog's rules:
/// seats, the Free plan's batch size, the hourly mail budget.
#[utoipa::path(post, path = "/api/v1/invitations", tag = "invitations", request_body = NewInvitations,
    responses((status = 201, description = "Invited", body = Invited)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewInvitations>,
) -> ApiResult<Response> {
    if body.emails.is_empty() || body.emails.len() > MAX_DIALOG_BATCH {
        return Err(bad_request(
            "emails",
            format!("Give 1 to {MAX_DIALOG_BATCH} addresses."),
        ));
    }
    if body.group_ids.len() > 1000 || body.project_ids.len() > 1000 {
        return Err(bad_request("group_ids", "Give at most 1000 ids."));
    }
    // The dialog splits what is typed on commas and lines: an item that
    // holds more than one address is refused as a whole.
    if body
        .emails
        .iter()
        .any(|e| e.len() > 320 || e.contains([',', ';', '\n', '\r']))
    {
        let mut errors = app::error::FieldErrors::default();
        errors.add(
            "emails",
            "Give one address per item, each at most 320 characters.",
        );
        return Err(ApiError::Refused(errors));
    }
    let (ctx, conn) = caller.ctx(&state, Permission::InviteMembers).await?;
    drop(conn);
    let report = rules::invite_members_as(
        &state,
        &ctx,
        &body.emails.join("\n"),
        body.send_email,
        body.group_ids,
        body.all_projects,
        body.project_ids,
    )
    .await
    .map_err(refused)?;
    Ok(ok(StatusCode::CREATED, &Invited::from(report)))
}

/// Mails a pending member's invitation again (a new link; the old one
/// stops). At most once a minute per member (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/invitations/{member_id}/resend", tag = "invitations",
    params(("member_id" = i64, Path, description = "The pending member's id")),
    responses((status = 204, description = "Sent")))]
pub async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (ctx, conn) = caller.ctx(&state, Permission::InviteMembers).await?;
    drop(conn);
    rules::send_invite_as(&state, &ctx, id)
        .await
        .map_err(refused)?;
    Ok(no_content())
}

/// Takes an invitation back: the pending member goes and the link stops.
#[utoipa::path(delete, path = "/api/v1/invitations/{member_id}", tag = "invitations",
    params(("member_id" = i64, Path, description = "The pending member's id")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (ctx, conn) = caller.ctx(&state, Permission::InviteMembers).await?;
    drop(conn);
    rules::revoke_invite_as(&state.pool, &ctx, id)
        .await
        .map_err(refused)?;
    Ok(no_content())
}
