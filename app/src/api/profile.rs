//! Member profiles: a member edits their own (not roles, billing rate or
//! team manager); Owners and Admins edit anyone's in their workspace. A
//! full member's name is their account's, in every workspace, so only
//! they change it; a limited member's name is the workspace's to set.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

#[cfg(feature = "ssr")]
use crate::server::{
    app_state,
    guard::{require_subject, MyselfOr},
    profile as rules,
};
use crate::{domain::MemberKind, error::AppError};

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

#[server(prefix = "/api", endpoint = "profile_of")]
pub async fn profile_of(membership_id: Option<i64>) -> Result<ProfileView, AppError> {
    let subject = require_subject(membership_id, MyselfOr::PROFILE).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    rules::load_profile(&mut conn, &subject.ctx, subject.membership_id).await
}

#[server(prefix = "/api", endpoint = "save_profile", input = Json)]
pub async fn save_profile(membership_id: Option<i64>, form: ProfileForm) -> Result<(), AppError> {
    let subject = require_subject(membership_id, MyselfOr::PROFILE).await?;
    let change = rules::ProfileChange::parse(&form)?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    rules::apply_profile(&mut tx, &subject.ctx, subject.membership_id, &form, change).await?;
    tx.commit().await?;
    Ok(())
}
