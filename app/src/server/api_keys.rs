//! Workspace API keys: the rules and their SQL. A key belongs to one
//! membership and acts in that workspace only. The secret is
//! `trk_<8 id chars>_<43 base64url chars>` (32 random bytes), shown once;
//! the table keeps the visible prefix and the SHA-256 of the whole secret.
//! A key works only while it is unrevoked, unexpired and its membership is
//! active, checked on every request, so a reactivated member's old keys stay
//! dead (deactivation revokes them too).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sqlx::PgConnection;

use super::{
    audit::{self, Actor},
    session::hash_token,
    Ctx,
};
use crate::{
    api::api_keys::{ApiKeyInfo, CreatedApiKey},
    domain::{
        api_key::{ApiKeyName, MAX_LIVE_KEYS},
        Positions,
    },
    error::AppError,
};

/// What every key starts with, so secret scanners and people recognise one.
pub const KEY_PREFIX: &str = "trk_";
/// Characters of the public id part after `trk_`.
const ID_CHARS: usize = 8;
/// base64url of 32 bytes, without padding.
const SECRET_CHARS: usize = 43;
/// A whole key: `trk_` + id + `_` + secret.
pub const KEY_LEN: usize = KEY_PREFIX.len() + ID_CHARS + 1 + SECRET_CHARS;
/// Longest `Authorization` header looked at; anything longer is refused
/// before any work ("Bearer " plus a key is 63 bytes).
pub const MAX_HEADER_BYTES: usize = 200;

/// A fresh key: `secret` is shown once, `prefix` and `hash` are stored.
pub struct NewKey {
    pub secret: String,
    pub prefix: String,
    pub hash: Vec<u8>,
}

impl NewKey {
    pub fn generate() -> Self {
        Self::generate_with(KEY_PREFIX)
    }

    /// A fresh secret that starts with `kind` (`trk_` for API keys, `trs_`
    /// for SCIM tokens): the same shape, length and randomness for both.
    pub fn generate_with(kind: &str) -> Self {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut id = String::with_capacity(ID_CHARS);
        while id.len() < ID_CHARS {
            let mut byte = [0u8; 1];
            OsRng.fill_bytes(&mut byte);
            // 252 = 7 * 36: rejecting the rest keeps every character equally likely.
            if byte[0] < 252 {
                id.push(char::from(ALPHABET[usize::from(byte[0] % 36)]));
            }
        }
        let mut random = [0u8; 32];
        OsRng.fill_bytes(&mut random);
        let prefix = format!("{kind}{id}");
        let secret = format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(random));
        let hash = hash_token(&secret);
        Self {
            secret,
            prefix,
            hash,
        }
    }
}

/// The key in an `Authorization: Bearer <key>` header value, if it has the
/// shape of one. The scheme is case-insensitive (RFC 7235).
pub fn parse_bearer(header_value: &str) -> Option<&str> {
    parse_bearer_with(header_value, KEY_PREFIX)
}

/// `parse_bearer` for secrets made by `NewKey::generate_with(kind)`.
pub fn parse_bearer_with<'a>(header_value: &'a str, kind: &str) -> Option<&'a str> {
    if header_value.len() > MAX_HEADER_BYTES {
        return None;
    }
    let (scheme, rest) = header_value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let key = rest.trim();
    is_well_formed(key, kind).then_some(key)
}

fn is_well_formed(key: &str, kind: &str) -> bool {
    let Some(rest) = key.strip_prefix(kind) else {
        return false;
    };
    let bytes = rest.as_bytes();
    bytes.len() == ID_CHARS + 1 + SECRET_CHARS
        && bytes[..ID_CHARS]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes[ID_CHARS] == b'_'
        && bytes[ID_CHARS + 1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// Who a request authenticated by key acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyCtx {
    pub key_id: i64,
    pub workspace_id: i64,
    pub membership_id: i64,
    pub account_id: i64,
}

/// Stands in for a malformed key, so junk costs the same hash and lookup
/// as a real key and answers in the same time.
const NO_KEY: &str = "trk_00000000_not-a-key-not-a-key-not-a-key-not-a-key-xx";

/// The guard of the REST API: the `Authorization` header value to the key's
/// workspace, membership and account. Every failure is `Unauthenticated`
/// (unknown, malformed, revoked, expired, member not active, or an Owner or
/// Admin without the two-factor their workspace requires): the caller
/// learns nothing about which. The work is one hash and one indexed lookup
/// whatever the input; `last_used_at` is written at most once a minute.
pub async fn authenticate_api_key(
    conn: &mut PgConnection,
    header_value: &str,
) -> Result<ApiKeyCtx, AppError> {
    let parsed = parse_bearer(header_value);
    let hash = hash_token(parsed.unwrap_or(NO_KEY));
    let found = sqlx::query!(
        r#"SELECT k.id, k.workspace_id, k.membership_id, m.account_id AS "account_id!",
                  (k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds') AS "stale!"
             FROM api_keys k
             JOIN memberships m ON m.workspace_id = k.workspace_id AND m.id = k.membership_id
             JOIN workspaces w ON w.id = k.workspace_id
            WHERE k.key_hash = $1
              AND k.revoked_at IS NULL
              AND (k.expires_at IS NULL OR k.expires_at > now())
              AND m.status = 'active' AND m.kind = 'full' AND m.account_id IS NOT NULL
              -- The guard's two-factor rule: an Owner or Admin who must use
              -- two-factor and has not turned it on does nothing here either.
              AND NOT (w.require_two_factor
                       AND (m.is_admin OR w.owner_account_id = m.account_id)
                       AND NOT EXISTS (SELECT 1 FROM two_factor t
                                        WHERE t.account_id = m.account_id
                                          AND t.enabled_at IS NOT NULL))"#,
        hash
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(found) = found.filter(|_| parsed.is_some()) else {
        return Err(AppError::Unauthenticated);
    };
    if found.stale {
        sqlx::query!(
            "UPDATE api_keys SET last_used_at = now() WHERE workspace_id = $1 AND id = $2",
            found.workspace_id,
            found.id
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(ApiKeyCtx {
        key_id: found.id,
        workspace_id: found.workspace_id,
        membership_id: found.membership_id,
        account_id: found.account_id,
    })
}

/// `GET /api/v1/me`: who the key acts as.
#[derive(Debug, Clone, Serialize)]
pub struct Me {
    pub account_id: i64,
    pub email: String,
    pub display_name: String,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub membership_id: i64,
    /// "owner", "admin", "project_manager", "team_manager", "member".
    pub roles: Vec<&'static str>,
    pub status: String,
}

pub async fn me(conn: &mut PgConnection, key: &ApiKeyCtx) -> Result<Me, AppError> {
    let row = sqlx::query!(
        r#"SELECT a.id AS account_id, a.email, a.display_name, w.id AS workspace_id,
                  w.name AS workspace_name, m.id AS membership_id, m.status,
                  m.is_admin, m.is_project_manager, m.is_team_manager,
                  (w.owner_account_id = a.id) AS "is_owner!"
             FROM memberships m
             JOIN accounts a ON a.id = m.account_id
             JOIN workspaces w ON w.id = m.workspace_id
            WHERE m.workspace_id = $1 AND m.id = $2"#,
        key.workspace_id,
        key.membership_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::Unauthenticated)?;
    let positions = Positions {
        owner: row.is_owner,
        admin: row.is_admin,
        project_manager: row.is_project_manager,
        team_manager: row.is_team_manager,
    };
    let roles = positions
        .held()
        .map(|p| match p {
            crate::domain::Position::Owner => "owner",
            crate::domain::Position::Admin => "admin",
            crate::domain::Position::ProjectManager => "project_manager",
            crate::domain::Position::TeamManager => "team_manager",
            crate::domain::Position::Member => "member",
        })
        .collect();
    Ok(Me {
        account_id: row.account_id,
        email: row.email,
        display_name: row.display_name,
        workspace_id: row.workspace_id,
        workspace_name: row.workspace_name,
        membership_id: row.membership_id,
        roles,
        status: row.status,
    })
}

/// Keys shown at most: the live limit plus recently expired ones.
const MAX_LISTED: i64 = 100;

/// A membership's unrevoked keys, newest first (expired ones too, marked,
/// until their owner revokes them). Never the secret or its hash.
pub async fn list(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_id: i64,
) -> Result<Vec<ApiKeyInfo>, AppError> {
    Ok(sqlx::query_as!(
        ApiKeyInfo,
        r#"SELECT id, name, prefix, created_at, last_used_at, expires_at,
                  (expires_at IS NOT NULL AND expires_at <= now()) AS "expired!"
             FROM api_keys
            WHERE workspace_id = $1 AND membership_id = $2 AND revoked_at IS NULL
            ORDER BY created_at DESC, id DESC
            LIMIT $3"#,
        workspace_id,
        membership_id,
        MAX_LISTED
    )
    .fetch_all(conn)
    .await?)
}

/// Makes a key for the caller's own membership, at most `MAX_LIVE_KEYS`
/// live at once (counted under a lock on the membership row, so parallel
/// requests cannot pass the limit together); audited.
pub async fn create(
    conn: &mut PgConnection,
    ctx: &Ctx,
    name: &ApiKeyName,
    expires_in_days: Option<u32>,
) -> Result<CreatedApiKey, AppError> {
    sqlx::query!(
        "SELECT id FROM memberships WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
        ctx.workspace_id,
        ctx.membership_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let live: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM api_keys
            WHERE workspace_id = $1 AND membership_id = $2 AND revoked_at IS NULL
              AND (expires_at IS NULL OR expires_at > now())"#,
        ctx.workspace_id,
        ctx.membership_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if live >= MAX_LIVE_KEYS {
        return Err(AppError::field(
            "name",
            format!("You already have {MAX_LIVE_KEYS} keys. Revoke one you no longer use first."),
        ));
    }
    // The prefix is random too; a clash (1 in 2.8 trillion) just draws again.
    for _ in 0..3 {
        let key = NewKey::generate();
        let row = sqlx::query!(
            r#"INSERT INTO api_keys (workspace_id, membership_id, name, prefix, key_hash, expires_at)
               VALUES ($1, $2, $3, $4, $5,
                       CASE WHEN $6::int IS NULL THEN NULL ELSE now() + make_interval(days => $6::int) END)
               ON CONFLICT DO NOTHING
               RETURNING id, created_at, expires_at"#,
            ctx.workspace_id,
            ctx.membership_id,
            name.as_str(),
            &key.prefix,
            &key.hash,
            expires_in_days.map(|d| d as i32),
        )
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { continue };
        ctx.record(
            conn,
            ctx.event(audit::AuditAction::ApiKeyCreated)
                .target_account(ctx.subject_account_id)
                .target_membership(ctx.membership_id)
                .details(serde_json::json!({
                    "key_id": row.id,
                    "name": name.as_str(),
                    "prefix": key.prefix,
                    "expires_at": row.expires_at,
                })),
        )
        .await?;
        return Ok(CreatedApiKey {
            key: ApiKeyInfo {
                id: row.id,
                name: name.as_str().to_owned(),
                prefix: key.prefix,
                created_at: row.created_at,
                last_used_at: None,
                expires_at: row.expires_at,
                expired: false,
            },
            secret: key.secret,
        });
    }
    tracing::error!("three API key prefixes clashed in a row");
    Err(AppError::Internal)
}

/// Revokes one of the caller's own keys; another member's key (or one
/// already revoked) is NotFound, so ids reveal nothing.
pub async fn revoke_own(conn: &mut PgConnection, ctx: &Ctx, key_id: i64) -> Result<(), AppError> {
    let revoked = sqlx::query!(
        "UPDATE api_keys SET revoked_at = now(), revoked_by_account_id = $4
          WHERE workspace_id = $1 AND membership_id = $2 AND id = $3 AND revoked_at IS NULL
          RETURNING name, prefix",
        ctx.workspace_id,
        ctx.membership_id,
        key_id,
        ctx.actor_account_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    ctx.record(
        conn,
        ctx.event(audit::AuditAction::ApiKeyRevoked)
            .target_account(ctx.subject_account_id)
            .target_membership(ctx.membership_id)
            .details(serde_json::json!({
                "key_id": key_id,
                "name": revoked.name,
                "prefix": revoked.prefix,
            })),
    )
    .await?;
    Ok(())
}

/// Why every key of a member was revoked at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeAllReason {
    /// The Owner's "Deactivate API keys" on the Accounts tab.
    Owner,
    /// The member was deactivated.
    Deactivated,
}

/// Revokes every live key of one membership of `workspace_id` in the
/// caller's transaction, and writes `api_key.revoked_all` with the count
/// (when there was any, or always for the Owner's explicit action).
/// Deactivation calls this in its own transaction; the key lookup also
/// refuses inactive members, so either alone stops the keys.
pub async fn revoke_all(
    conn: &mut PgConnection,
    actor: &Actor,
    workspace_id: i64,
    membership_id: i64,
    target_account_id: Option<i64>,
    reason: RevokeAllReason,
) -> Result<u64, AppError> {
    let revoked = sqlx::query!(
        "UPDATE api_keys SET revoked_at = now(), revoked_by_account_id = $3
          WHERE workspace_id = $1 AND membership_id = $2 AND revoked_at IS NULL",
        workspace_id,
        membership_id,
        actor.account_id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if revoked > 0 || reason == RevokeAllReason::Owner {
        let mut event =
            audit::Event::new(Some(workspace_id), audit::AuditAction::ApiKeysDeactivated)
                .target_membership(membership_id)
                .details(serde_json::json!({
                    "count": revoked,
                    "reason": match reason {
                        RevokeAllReason::Owner => "owner",
                        RevokeAllReason::Deactivated => "deactivated",
                    },
                }));
        if let Some(account) = target_account_id {
            event = event.target_account(account);
        }
        audit::record(conn, actor, event).await?;
    }
    Ok(revoked)
}

/// The Owner's "Deactivate API keys" for one member of their workspace
/// (the caller has checked `Permission::AccountsTab`). A membership of another
/// workspace is NotFound. Answers how many keys stopped.
pub async fn revoke_member_keys(
    conn: &mut PgConnection,
    ctx: &Ctx,
    membership_id: i64,
) -> Result<u64, AppError> {
    let target = sqlx::query!(
        "SELECT account_id FROM memberships WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
        ctx.workspace_id,
        membership_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    revoke_all(
        conn,
        &ctx.actor(),
        ctx.workspace_id,
        membership_id,
        target.account_id,
        RevokeAllReason::Owner,
    )
    .await
}

/// Live keys per membership of a workspace, for the Accounts tab's count
/// column: `(membership_id, count)` for the memberships given.
pub async fn live_counts(
    conn: &mut PgConnection,
    workspace_id: i64,
    membership_ids: &[i64],
) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(sqlx::query!(
        r#"SELECT membership_id, count(*) AS "n!" FROM api_keys
            WHERE workspace_id = $1 AND membership_id = ANY($2)
              AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            GROUP BY membership_id"#,
        workspace_id,
        membership_ids
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.membership_id, r.n))
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_has_the_documented_shape_and_parses_back() {
        let key = NewKey::generate();
        assert_eq!(key.secret.len(), KEY_LEN);
        assert!(key.secret.starts_with(&key.prefix));
        assert_eq!(key.prefix.len(), KEY_PREFIX.len() + ID_CHARS);
        let header = format!("Bearer {}", key.secret);
        assert_eq!(parse_bearer(&header), Some(key.secret.as_str()));
        assert_eq!(
            parse_bearer(&format!("bearer {}", key.secret)),
            Some(key.secret.as_str())
        );
        assert_eq!(hash_token(&key.secret), key.hash);
        assert_ne!(NewKey::generate().secret, key.secret);
    }

    #[test]
    fn malformed_headers_are_refused() {
        let key = NewKey::generate().secret;
        assert_eq!(parse_bearer(&key), None, "no scheme");
        assert_eq!(parse_bearer(&format!("Basic {key}")), None);
        assert_eq!(
            parse_bearer(&format!("Bearer {}", &key[..KEY_LEN - 1])),
            None
        );
        assert_eq!(parse_bearer(&format!("Bearer {key}x")), None);
        assert_eq!(
            parse_bearer(&format!("Bearer {}", key.replacen("trk_", "trx_", 1))),
            None
        );
        assert_eq!(
            parse_bearer(&format!("Bearer {}{}", key, " ".repeat(300))),
            None
        );
        assert_eq!(parse_bearer("Bearer "), None);
    }
}
