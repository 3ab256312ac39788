//! Member profiles: a member edits their own (not roles, billing rate or
//! team manager); Owners and Admins edit anyone's in their workspace. A
//! full member's name is their account's, in every workspace, so only
//! they change it; a limited member's name is the workspace's to set.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::{domain::MemberKind, error::AppError};
#[cfg(feature = "ssr")]
use crate::{
    domain::Permission,
    server::{app_state, profile as rules, require, Ctx},
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagerChoice {
    pub membership_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileView {
    pub membership_id: i64,
    pub account_id: Option<i64>,
    pub name: String,
    pub email: Option<String>,
    pub kind: MemberKind,
    pub is_self: bool,
    /// The viewer may change billing rate and team manager.
    pub admin_fields: bool,
    /// The viewer may change the name (their own, or a limited member's).
    pub name_editable: bool,
    pub week_start: u8,
    pub time_zone: String,
    pub working_days: i16,
    pub capacity_minutes: i32,
    pub team_manager_id: Option<i64>,
    pub team_managers: Vec<ManagerChoice>,
    /// `45.50`, or empty for no rate.
    pub billing_rate: String,
    pub currency: String,
    pub notify_weekly_summary: bool,
    pub notify_timer_reminders: bool,
    /// Changes whenever the photo does (for the image URL); None: no photo.
    pub photo_version: Option<i64>,
}

/// What the profile form sends.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProfileForm {
    pub name: String,
    /// ISO numbers of the ticked days (1 = Monday).
    pub working_days: Vec<u8>,
    pub capacity: String,
    pub week_start: String,
    pub team_manager_id: Option<i64>,
    pub billing_rate: String,
    pub currency: String,
    pub notify_weekly_summary: bool,
    pub notify_timer_reminders: bool,
}

/// The guard for reading or changing a profile: one's own needs
/// EditOwnProfile, anyone else's EditMemberProfile.
#[cfg(feature = "ssr")]
async fn guard(membership_id: Option<i64>) -> Result<(Ctx, i64, bool), AppError> {
    let own = require(Permission::EditOwnProfile).await?;
    let id = membership_id.unwrap_or(own.membership_id);
    match rules::profile_action(own.membership_id, id) {
        Permission::EditOwnProfile => Ok((own, id, true)),
        other => Ok((require(other).await?, id, false)),
    }
}

#[server(prefix = "/api", endpoint = "profile_of")]
pub async fn profile_of(membership_id: Option<i64>) -> Result<ProfileView, AppError> {
    let (ctx, id, _) = guard(membership_id).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    rules::load_profile(&mut conn, &ctx, id).await
}

#[server(prefix = "/api", endpoint = "save_profile", input = Json)]
pub async fn save_profile(membership_id: Option<i64>, form: ProfileForm) -> Result<(), AppError> {
    let (ctx, id, _) = guard(membership_id).await?;
    let change = rules::ProfileChange::parse(&form)?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    rules::apply_profile(&mut tx, &ctx, id, &form, change).await?;
    tx.commit().await?;
    Ok(())
}
