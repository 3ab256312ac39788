//! The Kiosk: a shared device where members clock in and out with a PIN.
//! An Owner, Admin or Project manager launches it, which signs them out on
//! that device; from then on the device holds a Kiosk token (its own
//! cookie), not anyone's session, and can only list names and punch.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{time::KioskPin, Permission},
    server::{
        app_state,
        kiosk::{self as kioskdb, KioskDevice},
        require, session,
    },
};

#[cfg(feature = "ssr")]
const COOKIE_NAME: &str = "teamroom_kiosk";

/// A Kiosk device unused for this many days is over (a sliding lifetime:
/// each use moves the end, and the cookie's, forward).
pub const KIOSK_IDLE_DAYS: i64 = 30;

/// A live Kiosk device on the Settings list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskDeviceRow {
    pub id: i64,
    pub launched_by: Option<String>,
    pub launched_at: chrono::DateTime<chrono::Utc>,
    /// Renewed at most hourly.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// "Chrome on Android", from the launching browser.
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskDeviceInfo {
    pub workspace_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskPerson {
    pub membership_id: i64,
    pub name: String,
    pub clocked_in: bool,
    pub has_pin: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Punch {
    pub name: String,
    pub clocked_in: bool,
    /// `09:12`, in the member's zone.
    pub at: String,
    /// Length of the entry just finished, when clocking out.
    pub worked_seconds: Option<i64>,
}

#[cfg(feature = "ssr")]
fn kiosk_token(
    headers: &http::HeaderMap,
    settings: &crate::server::AuthSettings,
) -> Option<String> {
    session::cookie_value(headers, COOKIE_NAME, 64, settings)
}

#[cfg(feature = "ssr")]
fn kiosk_cookie(
    value: &str,
    secure: bool,
    max_age_days: i64,
    settings: &crate::server::AuthSettings,
) -> String {
    session::build_cookie(
        COOKIE_NAME,
        value,
        cookie::time::Duration::days(max_age_days),
        cookie::SameSite::Strict,
        secure,
        settings,
    )
}

/// The device this request comes from (`kioskdb::device_of` decides),
/// sliding its cookie forward when its use was just recorded.
#[cfg(feature = "ssr")]
async fn device(conn: &mut sqlx::PgConnection) -> Result<KioskDevice, AppError> {
    let parts = use_context::<http::request::Parts>()
        .ok_or_else(|| AppError::bug("request parts missing from the server function context"))?;
    let state = app_state()?;
    let token = kiosk_token(&parts.headers, &state.auth).ok_or(AppError::Unauthenticated)?;
    let device = kioskdb::device_of(conn, &token).await?;
    if device.renewed {
        // `Secure` as at launch (an https proxy in front of an http
        // PUBLIC_URL counts).
        let (meta, _) = super::request_meta(&state)?;
        super::set_cookie(kiosk_cookie(
            &token,
            meta.secure,
            KIOSK_IDLE_DAYS,
            &state.auth,
        ))?;
    }
    Ok(device)
}

/// Turns this device into the workspace's Kiosk and signs the launcher out
/// of it, so the tablet on the wall opens no one's account.
#[server(prefix = "/api", endpoint = "launch_kiosk")]
pub async fn launch_kiosk() -> Result<(), AppError> {
    let ctx = require(Permission::LaunchKiosk).await?;
    let state = app_state()?;
    let token = session::SessionToken::generate();
    let mut tx = state.pool.begin().await?;
    kioskdb::launch(&mut tx, &ctx, token.hash.as_slice()).await?;
    tx.commit().await?;
    super::set_cookie(session::clear_cookie(&state.auth, ctx.meta.secure))?;
    super::set_cookie(kiosk_cookie(
        &token.value,
        ctx.meta.secure,
        KIOSK_IDLE_DAYS,
        &state.auth,
    ))?;
    Ok(())
}

/// Which workspace this device is the Kiosk of; Unauthenticated when it
/// is not one.
#[server(prefix = "/api", endpoint = "kiosk_info")]
pub async fn kiosk_info() -> Result<KioskDeviceInfo, AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let device = device(&mut conn).await?;
    Ok(KioskDeviceInfo {
        workspace_name: kioskdb::workspace_name(&mut conn, &device).await?,
    })
}

/// Active members whose name matches `search` (all, when blank), by name.
#[server(prefix = "/api", endpoint = "kiosk_people")]
pub async fn kiosk_people(search: String) -> Result<Vec<KioskPerson>, AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let device = device(&mut conn).await?;
    kioskdb::people(&mut conn, &device, &search).await
}

/// Clocks a member in or out after checking their PIN (`kioskdb::punch`).
#[server(prefix = "/api", endpoint = "kiosk_punch")]
pub async fn kiosk_punch(membership_id: i64, pin: String) -> Result<Punch, AppError> {
    let state = app_state()?;
    let device = {
        let mut conn = state.pool.acquire().await?;
        device(&mut conn).await?
    };
    let pin = KioskPin::parse(&pin).map_err(|m| AppError::field("pin", m))?;
    kioskdb::punch(&state, &device, membership_id, &pin).await
}

/// Ends Kiosk mode on this device; someone signs in again to use it.
#[server(prefix = "/api", endpoint = "exit_kiosk")]
pub async fn exit_kiosk() -> Result<(), AppError> {
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let secure = {
        let (meta, _) = super::request_meta(&state)?;
        meta.secure
    };
    if let Ok(device) = device(&mut conn).await {
        kioskdb::exit(&mut conn, &device).await?;
    }
    super::set_cookie(kiosk_cookie("", secure, 0, &state.auth))?;
    Ok(())
}

/// The workspace's live Kiosk devices, newest first, for Owners and Admins
/// (the Settings list).
#[server(prefix = "/api", endpoint = "list_kiosk_devices")]
pub async fn list_kiosk_devices() -> Result<Vec<KioskDeviceRow>, AppError> {
    let ctx = require(Permission::ManageMembers).await?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    kioskdb::live_devices(&mut conn, &ctx).await
}

/// Ends one of this workspace's Kiosk devices (Owners and Admins): its next
/// request is refused. Another workspace's device is not found.
#[server(prefix = "/api", endpoint = "end_kiosk_device")]
pub async fn end_kiosk_device(id: i64) -> Result<(), AppError> {
    let ctx = require(Permission::ManageMembers).await?;
    let state = app_state()?;
    let mut tx = state.pool.begin().await?;
    kioskdb::end_by_admin(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(())
}
