//! `/api/v1/members`: the Team page's list (same filters, search, sort and
//! keyset cursor), one member, roles, deactivate, reactivate, delete. Each
//! handler calls the rule function the page calls.

use app::{
    api::{
        lifecycle::RoleName,
        members::MemberRow,
        profile::{ProfileForm, ProfileView},
    },
    domain::{
        directory::{DirectoryParams, DirectoryQuery},
        profile::{BillingRate, Capacity, WorkingDays},
        Permission,
    },
    error::{AppError, FieldErrors},
    server::{
        guard::{MyselfOr, Subject},
        lifecycle::{self, Change},
        members as team,
        profile::{self as profile_rules, ProfileChange},
        AppState,
    },
};
use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{
    openapi::{schema::ArrayBuilder, Array, ObjectBuilder, Type},
    IntoParams, ToSchema,
};

use super::{ok, refused, ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, Caller};

/// Which members a list shows (the Team page's status filter).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusParam {
    /// Active and pending (the default).
    Current,
    Active,
    Pending,
    Inactive,
    All,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleParam {
    Owner,
    Admin,
    ProjectManager,
    TeamManager,
    /// No role at all.
    Member,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindParam {
    Full,
    Limited,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortParam {
    Name,
    Email,
    Roles,
    Groups,
    Status,
    Kind,
    LastActive,
    Added,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirParam {
    Asc,
    Desc,
}

/// The Team page's view of the list, as query parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Up to 8 words to find in name, email, groups or team manager
    /// (accents and case folded, like the Team page's search box).
    #[param(
        max_length = 200,
        pattern = r"^ *([^\s\x00-\x1f\x7f-\x9f]+ +){0,7}[^\s\x00-\x1f\x7f-\x9f]* *$"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub status: Option<StatusParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub role: Option<RoleParam>,
    /// A group id.
    #[param(minimum = 1)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub kind: Option<KindParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub sort: Option<SortParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub dir: Option<DirParam>,
    /// The `cursor` of the previous page's `next` link (one from another
    /// view or workspace is a 409).
    #[param(max_length = 2048)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The URL word of an enum value (`project_manager`).
fn word<T: Serialize>(value: &Option<T>) -> Option<String> {
    value
        .as_ref()
        .and_then(|v| serde_json::to_value(v).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
}

impl MemberQuery {
    fn view(&self) -> DirectoryParams {
        DirectoryParams {
            q: self.q.clone(),
            status: word(&self.status),
            role: word(&self.role),
            group: self.group.map(|g| g.to_string()),
            kind: word(&self.kind),
            sort: word(&self.sort),
            dir: word(&self.dir),
        }
    }
}

/// A member as the Team page lists them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// The membership id: what every `/members/{id}` path takes.
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    /// Any of `owner`, `admin`, `project_manager`, `team_manager`; empty for a plain member.
    pub roles: Vec<String>,
    /// `active`, `pending` or `inactive`.
    pub status: String,
    /// `full` or `limited` (Kiosk only).
    pub kind: String,
    pub groups: Vec<String>,
    pub team_manager: Option<String>,
    /// Sign-in is paused after failed attempts.
    pub locked: bool,
    pub last_active_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Pending members: their latest invitation's state (`open`, `expired`...).
    pub invite_state: Option<String>,
    /// Pending members: why their invitation mail has not arrived yet (the
    /// mail server's answer, e.g. `550 5.1.1 mailbox unavailable`), while
    /// it is retried or after it was given up on; null otherwise.
    pub delivery_error: Option<String>,
}

impl From<MemberRow> for Member {
    fn from(row: MemberRow) -> Self {
        let p = row.positions;
        let roles = [
            (p.owner, "owner"),
            (p.admin, "admin"),
            (p.project_manager, "project_manager"),
            (p.team_manager, "team_manager"),
        ]
        .into_iter()
        .filter(|(held, _)| *held)
        .map(|(_, name)| name.to_owned())
        .collect();
        Self {
            id: row.membership_id,
            name: row.name,
            email: row.email,
            roles,
            status: row.status.as_str().to_owned(),
            kind: row.kind.as_str().to_owned(),
            groups: row.groups,
            team_manager: row.team_manager,
            locked: row.locked,
            last_active_at: row.last_active_at,
            created_at: row.created_at,
            invite_state: row.invite_state,
            delivery_error: row.delivery_error,
        }
    }
}

/// One page of members (at most 50).
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub data: Vec<Member>,
    /// The next page's URL (same view, with its cursor); null on the last page.
    pub next: Option<String>,
}

/// One member with their projects.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDetail {
    #[serde(flatten)]
    pub member: Member,
    pub projects: Vec<String>,
    /// Tracks time on every project, not only `projects`.
    pub all_projects: bool,
}

/// Lists members, 50 a page, in the key's scope: everyone for Owners and
/// Admins, their own people for managers.
#[utoipa::path(get, path = "/api/v1/members", tag = "members", params(MemberQuery),
    responses((status = 200, description = "One page of members", body = MemberList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MemberQuery>,
) -> ApiResult<Response> {
    let view = query.view();
    DirectoryQuery::parse(&view)?;
    let (ctx, mut conn) = caller.ctx(&state, Permission::ViewTeam).await?;
    let page = team::member_page(&mut conn, &ctx, &view, query.cursor.as_deref())
        .await
        .map_err(refused)?;
    let next = page.next.map(|cursor| {
        let next = MemberQuery {
            cursor: Some(cursor),
            ..query.clone()
        };
        format!(
            "/api/v1/members?{}",
            serde_urlencoded::to_string(&next).unwrap_or_default()
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

/// One member (404 outside the key's workspace or scope).
#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 200, description = "The member", body = MemberDetail)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (ctx, mut conn) = caller.ctx(&state, Permission::ViewTeam).await?;
    let card = team::member_card(&mut conn, &ctx, id).await?;
    Ok(ok(
        StatusCode::OK,
        &MemberDetail {
            member: card.row.into(),
            projects: card.projects,
            all_projects: card.all_projects,
        },
    ))
}

/// Deactivate, reactivate or delete, in one transaction with the audit row.
async fn change(state: &AppState, caller: &Caller, id: i64, what: Change) -> ApiResult<Response> {
    let (ctx, conn) = caller.ctx(state, Permission::ManageMembers).await?;
    drop(conn);
    let mut tx = state.pool.begin().await?;
    let ctx = app::server::require_in(&mut tx, &ctx, Permission::ManageMembers).await?;
    let workspace = app::server::workspace::lock(&mut tx, ctx.workspace_id).await?;
    lifecycle::apply_status(&mut tx, &ctx, &workspace, id, what)
        .await
        .map_err(refused)?;
    tx.commit().await?;
    Ok(no_content())
}

pub fn no_content() -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// Deactivates a member: access ends on their next request, their API
/// keys are revoked, a running timer is saved, the seat is freed.
#[utoipa::path(post, path = "/api/v1/members/{id}/deactivate", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 204, description = "Deactivated")))]
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    change(&state, &caller, id, Change::Deactivate).await
}

/// Gives an inactive member access again (needs a free seat on paid plans).
#[utoipa::path(post, path = "/api/v1/members/{id}/reactivate", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 204, description = "Reactivated")))]
pub async fn reactivate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    change(&state, &caller, id, Change::Reactivate).await
}

/// Deletes an inactive member for good; their hours stay under "Deleted user".
#[utoipa::path(delete, path = "/api/v1/members/{id}", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    change(&state, &caller, id, Change::Delete).await
}

/// A role one can give or take.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ProjectManager,
    TeamManager,
}

impl From<Role> for RoleName {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => RoleName::Admin,
            Role::ProjectManager => RoleName::ProjectManager,
            Role::TeamManager => RoleName::TeamManager,
        }
    }
}

async fn set_role(
    state: &AppState,
    caller: &Caller,
    (id, role): (i64, Role),
    on: bool,
) -> ApiResult<Response> {
    let role = RoleName::from(role);
    let (ctx, conn) = caller.ctx(state, lifecycle::role_action(role, on)).await?;
    drop(conn);
    let mut tx = state.pool.begin().await?;
    let ctx = app::server::require_in(&mut tx, &ctx, lifecycle::role_action(role, on)).await?;
    lifecycle::apply_role(&mut tx, &ctx, id, role, on)
        .await
        .map_err(refused)?;
    tx.commit().await?;
    Ok(no_content())
}

/// Gives a role (Admin: Owners and Admins; manager roles likewise).
#[utoipa::path(put, path = "/api/v1/members/{id}/roles/{role}", tag = "members",
    params(("id" = i64, Path, description = "Membership id"),
           ("role" = Role, Path, description = "The role")),
    responses((status = 204, description = "The member holds the role")))]
pub async fn give_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(path): ApiPath<(i64, Role)>,
) -> ApiResult<Response> {
    set_role(&state, &caller, path, true).await
}

/// Takes a role away (Admin: the Owner only).
#[utoipa::path(delete, path = "/api/v1/members/{id}/roles/{role}", tag = "members",
    params(("id" = i64, Path, description = "Membership id"),
           ("role" = Role, Path, description = "The role")),
    responses((status = 204, description = "The member no longer holds the role")))]
pub async fn take_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(path): ApiPath<(i64, Role)>,
) -> ApiResult<Response> {
    set_role(&state, &caller, path, false).await
}

/// A member's profile as the profile editor shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    /// `full` or `limited`.
    pub kind: String,
    /// ISO days worked (1 = Monday).
    pub working_days: Vec<u8>,
    /// Hours a day, as the form writes them (`7.5`).
    pub capacity: String,
    pub capacity_minutes: i32,
    /// ISO day the week starts on (1 = Monday).
    pub week_start: u8,
    pub time_zone: String,
    pub team_manager_id: Option<i64>,
    /// `45.50`, or empty for no rate.
    pub billing_rate: String,
    /// The same rate in cents; null for none.
    pub billing_rate_cents: Option<i64>,
    pub currency: String,
    pub notify_weekly_summary: bool,
    pub notify_timer_reminders: bool,
    /// The key's member may change the name (their own, or an Owner's or
    /// Admin's key on a limited member).
    pub name_editable: bool,
    /// The key's member may change billing rate and team manager.
    pub admin_fields: bool,
}

impl From<ProfileView> for Profile {
    fn from(view: ProfileView) -> Self {
        let days = WorkingDays::from_bits(view.working_days);
        Self {
            id: view.membership_id,
            name: view.name,
            email: view.email,
            kind: view.kind.as_str().to_owned(),
            working_days: (1..=7).filter(|d| days.has(*d)).collect(),
            capacity: Capacity::from_minutes(view.capacity_minutes).hours_text(),
            capacity_minutes: view.capacity_minutes,
            week_start: view.week_start,
            time_zone: view.time_zone,
            team_manager_id: view.team_manager_id,
            billing_rate_cents: BillingRate::parse(&view.billing_rate, &view.currency)
                .ok()
                .flatten()
                .map(|rate| rate.cents()),
            billing_rate: view.billing_rate,
            currency: view.currency,
            notify_weekly_summary: view.notify_weekly_summary,
            notify_timer_reminders: view.notify_timer_reminders,
            name_editable: view.name_editable,
            admin_fields: view.admin_fields,
        }
    }
}

/// The schema of `working_days`: ISO day numbers.
fn iso_days() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(7)),
        )
        .max_items(Some(7))
        .build()
}

/// A currency a billing rate may be in (the profile form's list).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum Currency {
    USD,
    EUR,
    GBP,
    CHF,
    CAD,
    AUD,
    NZD,
    JPY,
    SEK,
    NOK,
    DKK,
    PLN,
    CZK,
    INR,
    BRL,
    ZAR,
}

/// A change to a profile: the fields sent change, the rest stay (a field
/// left out or `null` is kept, but `null` clears `team_manager_id` and
/// `billing_rate_cents`). The values go through the profile form's
/// validation and rules: billing rate, currency and team manager are for
/// Owners and Admins, a full member's name for themselves alone.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    /// ISO days worked (1 = Monday .. 7 = Sunday); `[]` for none.
    #[schema(schema_with = iso_days)]
    #[serde(default, deserialize_with = "some_whole_numbers")]
    pub working_days: Option<Vec<i64>>,
    /// Usual working time a day, 0 to 24 hours.
    #[schema(minimum = 0, maximum = 1440, value_type = Option<i64>)]
    #[serde(default, deserialize_with = "super::nullable_whole_number")]
    pub capacity_minutes: Option<Option<i64>>,
    /// ISO day the week starts on (1 = Monday).
    #[schema(minimum = 1, maximum = 7, value_type = Option<i64>)]
    #[serde(default, deserialize_with = "super::nullable_whole_number")]
    pub week_start: Option<Option<i64>>,
    /// A member holding the Team manager role; `null` for none.
    #[schema(value_type = Option<i64>)]
    #[serde(default, deserialize_with = "super::nullable_whole_number")]
    pub team_manager_id: Option<Option<i64>>,
    /// Billing rate per hour in cents (`4550` is 45.50); `null` for none.
    #[schema(minimum = 0, maximum = 100_000_000_000_i64, value_type = Option<i64>)]
    #[serde(default, deserialize_with = "super::nullable_whole_number")]
    pub billing_rate_cents: Option<Option<i64>>,
    /// The billing rate's currency.
    pub currency: Option<Currency>,
    pub notify_weekly_summary: Option<bool>,
    pub notify_timer_reminders: Option<bool>,
}

fn some_whole_numbers<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<i64>>, D::Error> {
    super::whole_numbers(deserializer).map(Some)
}

/// The form's fields whose API names differ (the API takes numbers where
/// the form takes text).
const RENAMED_FIELDS: [(&str, &str); 3] = [
    ("capacity", "capacity_minutes"),
    ("billing_rate", "billing_rate_cents"),
    ("team_manager", "team_manager_id"),
];

/// The form's messages under the API's field names.
fn api_fields(errors: FieldErrors) -> FieldErrors {
    FieldErrors(
        errors
            .0
            .into_iter()
            .map(|(field, messages)| {
                let renamed = RENAMED_FIELDS
                    .iter()
                    .find(|(form, _)| *form == field)
                    .map_or(field, |(_, api)| (*api).to_owned());
                (renamed, messages)
            })
            .collect(),
    )
}

impl ProfilePatch {
    /// The profile form as the page would send it: the stored profile with
    /// this patch's fields over it, numbers written as the form writes them
    /// (a negative one as `-1`, for the form's own message).
    fn over(self, current: &ProfileView) -> Result<ProfileForm, ApiError> {
        let mut form = ProfileForm::from(current);
        if let Some(name) = self.name {
            form.name = name;
        }
        if let Some(days) = self.working_days {
            if days.len() > 7 {
                return Err(AppError::field("working_days", "Pick days of the week.").into());
            }
            // A number that is no day stays one (0) for the form's message.
            form.working_days = days
                .into_iter()
                .map(|d| u8::try_from(d).unwrap_or(0))
                .collect();
        }
        if let Some(Some(minutes)) = self.capacity_minutes {
            form.capacity = if minutes < 0 {
                "-1".into()
            } else {
                format!("{}:{:02}", minutes / 60, minutes % 60)
            };
        }
        if let Some(Some(day)) = self.week_start {
            form.week_start = day.to_string();
        }
        if let Some(manager) = self.team_manager_id {
            form.team_manager_id = manager;
        }
        if let Some(cents) = self.billing_rate_cents {
            form.billing_rate = match cents {
                None => String::new(),
                Some(c) if c < 0 => "-1".into(),
                Some(c) => format!("{}.{:02}", c / 100, c % 100),
            };
        }
        if let Some(currency) = self.currency {
            form.currency = word(&Some(currency)).unwrap_or_default();
        }
        if let Some(on) = self.notify_weekly_summary {
            form.notify_weekly_summary = on;
        }
        if let Some(on) = self.notify_timer_reminders {
            form.notify_timer_reminders = on;
        }
        Ok(form)
    }
}

/// A member's profile: one's own with any key, anyone's with an Owner's or
/// Admin's (the profile editor's rule).
#[utoipa::path(get, path = "/api/v1/members/{id}/profile", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    responses((status = 200, description = "The profile", body = Profile)))]
pub async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (subject, mut conn) = caller.subject(&state, Some(id), MyselfOr::PROFILE).await?;
    let view = profile_rules::load_profile(&mut conn, &subject.ctx, id).await?;
    Ok(ok(StatusCode::OK, &Profile::from(view)))
}

/// Changes a profile through the profile editor's rules and validation, in
/// one transaction with its audit row: 400 with each field's message when
/// a value is not valid (nothing changes), 409 when a rule refuses it
/// (another member's name), 403 for billing or the team manager without
/// the role.
#[utoipa::path(patch, path = "/api/v1/members/{id}/profile", tag = "members",
    params(("id" = i64, Path, description = "Membership id")),
    request_body = ProfilePatch,
    responses((status = 200, description = "The profile as saved", body = Profile)))]
pub async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> ApiResult<Response> {
    let (Subject { ctx, .. }, mut conn) =
        caller.subject(&state, Some(id), MyselfOr::PROFILE).await?;
    let current = profile_rules::load_profile(&mut conn, &ctx, id).await?;
    drop(conn);
    let form = patch.over(&current)?;
    let change = ProfileChange::parse(&form).map_err(|e| AppError::Validation(api_fields(e)))?;
    let mut tx = state.pool.begin().await?;
    profile_rules::apply_profile(&mut tx, &ctx, id, &form, change)
        .await
        .map_err(|error| match error {
            AppError::Validation(errors) => refused(AppError::Validation(api_fields(errors))),
            other => refused(other),
        })?;
    let saved = profile_rules::load_profile(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(ok(StatusCode::OK, &Profile::from(saved)))
}
