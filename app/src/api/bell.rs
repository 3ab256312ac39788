//! The bell: a signed-in account's open invitations, accepted or declined
//! in place, shown only once the account's address is confirmed.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{app_state, bell, require_account};

/// One invitation in the bell menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BellInvitation {
    pub workspace_id: i64,
    pub invitation_id: i64,
    pub workspace_name: String,
    pub inviter_name: Option<String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bell {
    /// Invitations are shown only to a confirmed address.
    pub verified: bool,
    pub email: String,
    pub invitations: Vec<BellInvitation>,
}

#[server(prefix = "/api", endpoint = "my_invitations")]
pub async fn my_invitations() -> Result<Bell, AppError> {
    let ctx = crate::server::require_account_even_impersonating().await?;
    let state = app_state()?;
    bell::of(&state.pool, &ctx).await
}

/// Accept or decline from the bell. Only for the confirmed address the
/// invitation went to.
#[server(prefix = "/api", endpoint = "answer_invitation")]
pub async fn answer_invitation(
    workspace_id: i64,
    invitation_id: i64,
    accept: bool,
) -> Result<(), AppError> {
    let ctx = require_account().await?;
    let state = app_state()?;
    bell::answer(&state.pool, &ctx, workspace_id, invitation_id, accept).await
}
