//! SCIM 2.0 provisioning: the rules and their SQL. The protocol (JSON,
//! PATCH, errors) is in the server crate's `scim` module; every change
//! here goes through the same functions the Team and Groups pages use
//! (`apply_status`, `invite_batch`, the group functions), so deactivation
//! ends sessions, stops the timer and frees the seat exactly as there.
//!
//! A token belongs to a workspace and acts as the Owner who made it: that
//! account is the actor of every audit row it causes (with "SCIM" and the
//! token's prefix in the row's user agent), and the token stops working
//! when that account is no longer the Owner. Errors meant for SCIM clients
//! are `AppError::field(scim_type, message)` with the RFC 7644 `scimType`
//! as the field name (`uniqueness` answers 409, the rest 400).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{
    api_keys::{parse_bearer_with, NewKey},
    audit, db, groups as group_rules,
    invitations::{self as inv, BatchOptions, Invitee, Outcome},
    lifecycle::{self, Change},
    session::{hash_token, RequestMeta, SessionRow},
    AuthSettings, Ctx,
};
use crate::{
    api::scim::{CreatedScimToken, ScimTokenInfo},
    domain::{
        api_key::ApiKeyName,
        scim::{Filter, Op, Value},
        Access, DisplayName, EmailAddress, LabelName, MemberStatus, Plan, Positions,
    },
    error::AppError,
};

/// What every SCIM token starts with (API keys start with `trk_`).
pub const TOKEN_PREFIX: &str = "trs_";
/// Live tokens a workspace may hold: one per identity provider and a spare.
pub const MAX_LIVE_TOKENS: i64 = 10;
/// Longest string attribute kept (userName, names, externalId).
pub const MAX_ATTRIBUTE_CHARS: usize = 256;

fn scim_error(scim_type: &str, message: impl Into<String>) -> AppError {
    AppError::field(scim_type, message)
}

// ---------------------------------------------------------------- tokens

pub async fn list_tokens(
    conn: &mut PgConnection,
    workspace_id: i64,
) -> Result<Vec<ScimTokenInfo>, AppError> {
    Ok(sqlx::query_as!(
        ScimTokenInfo,
        r#"SELECT k.id, k.name, k.prefix, k.created_at, k.last_used_at,
                  a.display_name AS "created_by?"
             FROM scim_tokens k
             LEFT JOIN accounts a ON a.id = k.created_by
            WHERE k.workspace_id = $1 AND k.revoked_at IS NULL
            ORDER BY k.created_at DESC, k.id DESC
            LIMIT 50"#,
        workspace_id
    )
    .fetch_all(conn)
    .await?)
}

/// Makes a token for the workspace (at most `MAX_LIVE_TOKENS` live, counted
/// under the workspace row's lock); audited.
pub async fn create_token(
    conn: &mut PgConnection,
    ctx: &Ctx,
    name: &ApiKeyName,
) -> Result<CreatedScimToken, AppError> {
    super::workspace::lock(&mut *conn, ctx.workspace_id).await?;
    let live: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM scim_tokens WHERE workspace_id = $1 AND revoked_at IS NULL"#,
        ctx.workspace_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if live >= MAX_LIVE_TOKENS {
        return Err(AppError::field(
            "name",
            format!("This workspace already has {MAX_LIVE_TOKENS} SCIM tokens. Revoke one first."),
        ));
    }
    for _ in 0..3 {
        let token = NewKey::generate_with(TOKEN_PREFIX);
        let row = sqlx::query!(
            "INSERT INTO scim_tokens (workspace_id, name, prefix, token_hash, created_by)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING
             RETURNING id, created_at",
            ctx.workspace_id,
            name.as_str(),
            &token.prefix,
            &token.hash,
            ctx.actor_account_id
        )
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { continue };
        ctx.record(conn, ctx.event(audit::AuditAction::ScimTokenCreated).details(
                serde_json::json!({ "token_id": row.id, "name": name.as_str(), "prefix": token.prefix }),
            ),
        )
        .await?;
        let created_by = sqlx::query_scalar!(
            "SELECT display_name FROM accounts WHERE id = $1",
            ctx.actor_account_id
        )
        .fetch_optional(&mut *conn)
        .await?;
        return Ok(CreatedScimToken {
            token: ScimTokenInfo {
                id: row.id,
                name: name.as_str().to_owned(),
                prefix: token.prefix,
                created_at: row.created_at,
                last_used_at: None,
                created_by,
            },
            secret: token.secret,
        });
    }
    tracing::error!("three SCIM token prefixes clashed in a row");
    Err(AppError::Internal)
}

/// Revokes a live token of this workspace; another workspace's (or a
/// revoked) id is NotFound.
pub async fn revoke_token(conn: &mut PgConnection, ctx: &Ctx, id: i64) -> Result<(), AppError> {
    let revoked = sqlx::query!(
        "UPDATE scim_tokens SET revoked_at = now()
          WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL
          RETURNING name, prefix",
        ctx.workspace_id,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    ctx.record(
        conn,
        ctx.event(audit::AuditAction::ScimTokenRevoked).details(
            serde_json::json!({ "token_id": id, "name": revoked.name, "prefix": revoked.prefix }),
        ),
    )
    .await?;
    Ok(())
}

/// Stands in for a malformed token so junk costs the same lookup.
const NO_TOKEN: &str = "trs_00000000_not-a-token-not-a-token-not-a-token-xxxxx";

/// Who a SCIM request acts as: the token's creator, as the Owner.
#[derive(Debug, Clone)]
pub struct ScimAuth {
    pub token_id: i64,
    pub ctx: Ctx,
}

/// The guard of every SCIM request. `Unauthenticated` for a missing,
/// malformed, unknown or revoked token, or one whose creator is no longer
/// the active Owner; `Forbidden` for a good token on a workspace that is
/// not (or no longer) on the Enterprise plan.
pub async fn authenticate(
    conn: &mut PgConnection,
    header_value: &str,
    meta: RequestMeta,
) -> Result<ScimAuth, AppError> {
    let parsed = parse_bearer_with(header_value, TOKEN_PREFIX);
    let hash = hash_token(parsed.unwrap_or(NO_TOKEN));
    let found = sqlx::query!(
        r#"SELECT k.id, k.workspace_id, k.prefix, k.created_by AS "created_by!", w.plan AS "plan: Plan",
                  m.id AS membership_id,
                  (k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds') AS "stale!"
             FROM scim_tokens k
             JOIN workspaces w ON w.id = k.workspace_id AND w.owner_account_id = k.created_by
             JOIN memberships m ON m.workspace_id = k.workspace_id AND m.account_id = k.created_by
                               AND m.status = 'active'
            WHERE k.token_hash = $1 AND k.revoked_at IS NULL"#,
        hash
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(found) = found.filter(|_| parsed.is_some()) else {
        return Err(AppError::Unauthenticated);
    };
    if found.plan != Plan::Enterprise {
        return Err(AppError::Forbidden);
    }
    if found.stale {
        sqlx::query!(
            "UPDATE scim_tokens SET last_used_at = now() WHERE workspace_id = $1 AND id = $2",
            found.workspace_id,
            found.id
        )
        .execute(&mut *conn)
        .await?;
    }
    // Audit rows name the token (and the provider's own user agent).
    let agent = format!(
        "SCIM {} ({})",
        found.prefix,
        meta.user_agent.as_deref().unwrap_or("no user agent")
    )
    .chars()
    .take(512)
    .collect();
    let meta = RequestMeta {
        user_agent: Some(agent),
        ..meta
    };
    Ok(ScimAuth {
        token_id: found.id,
        ctx: owner_ctx(
            found.workspace_id,
            found.created_by,
            found.membership_id,
            meta,
        ),
    })
}

/// The context SCIM acts in: the Owner, with the request's origin.
fn owner_ctx(
    workspace_id: i64,
    owner_account_id: i64,
    membership_id: i64,
    meta: RequestMeta,
) -> Ctx {
    Ctx {
        actor_account_id: owner_account_id,
        subject_account_id: owner_account_id,
        workspace_id,
        plan: Plan::Enterprise,
        membership_id,
        positions: Positions {
            owner: true,
            admin: false,
            project_manager: false,
            team_manager: false,
        },
        access: Access::Allowed,
        // No browser session stands behind a token; nothing the SCIM
        // paths call reads it.
        session: SessionRow {
            token_hash: Vec::new(),
            account_id: owner_account_id,
            active_workspace_id: Some(workspace_id),
            expires_at: Utc::now(),
            impersonator_account_id: None,
        },
        meta,
    }
}

/// Makes a token as the workspace's Owner without a browser (seeding, the
/// compliance check in `cargo xtask`): audited like one made on Settings.
/// Answers the secret.
pub async fn token_for_owner(
    conn: &mut PgConnection,
    workspace_id: i64,
    name: &ApiKeyName,
) -> Result<String, AppError> {
    let owner = sqlx::query!(
        "SELECT w.owner_account_id, m.id AS membership_id
           FROM workspaces w
           JOIN memberships m ON m.workspace_id = w.id AND m.account_id = w.owner_account_id
          WHERE w.id = $1",
        workspace_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let ctx = owner_ctx(
        workspace_id,
        owner.owner_account_id,
        owner.membership_id,
        RequestMeta::default(),
    );
    Ok(create_token(conn, &ctx, name).await?.secret)
}

// ---------------------------------------------------------------- users

/// A full member as SCIM sees them (limited members are not Users).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScimUser {
    pub id: i64,
    pub account_id: Option<i64>,
    pub status: MemberStatus,
    pub email: String,
    pub user_name: String,
    /// The workspace's name for them, else their account's (none for an
    /// invitee nobody named).
    pub display_name: Option<String>,
    /// The name the workspace keeps for them (the IdP's displayName), if any.
    pub own_display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted_name: Option<String>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// SCIM's `displayName` is a person's name: an invitee who has none has no
/// `displayName` (removing it must leave it absent, RFC 7644 3.5.2.2),
/// where the Team page falls back to the invited address
/// (`teamroom_member_name`).
macro_rules! scim_display_name {
    () => {
        "coalesce(m.display_name, a.display_name)"
    };
}

const USER_SELECT: &str = concat!(
    "SELECT m.id, m.account_id, m.status,
        coalesce(a.email, m.invited_email, '') AS email,
        coalesce(m.scim_user_name, a.email, m.invited_email, '') AS user_name,
        ",
    scim_display_name!(),
    " AS display_name,
        m.display_name AS own_display_name,
        m.scim_given_name AS given_name, m.scim_family_name AS family_name,
        m.scim_formatted_name AS formatted_name, m.external_id, m.created_at
   FROM memberships m
   LEFT JOIN accounts a ON a.id = m.account_id
  WHERE m.kind = 'full' AND m.workspace_id = "
);

/// The attributes a Users filter may name.
pub const USER_FILTER_ATTRIBUTES: &[&str] = &[
    "userName",
    "emails.value",
    "emails",
    "externalId",
    "displayName",
    "active",
    "id",
    "name.givenName",
    "name.familyName",
];
/// The attributes a Groups filter may name.
pub const GROUP_FILTER_ATTRIBUTES: &[&str] = &["displayName", "externalId", "id"];

/// How an attribute reads in SQL, and whether it compares without case.
fn user_column(attribute: &str) -> (&'static str, bool) {
    match attribute {
        "userName" => ("coalesce(m.scim_user_name, a.email, m.invited_email)", true),
        "emails.value" | "emails" => ("coalesce(a.email, m.invited_email)", true),
        "externalId" => ("m.external_id", false),
        "displayName" => (scim_display_name!(), true),
        "name.givenName" => ("m.scim_given_name", true),
        "name.familyName" => ("m.scim_family_name", true),
        "id" => ("m.id::text", false),
        _ => ("(m.status <> 'inactive')", false),
    }
}

fn group_column(attribute: &str) -> (&'static str, bool) {
    match attribute {
        "displayName" => ("g.name", true),
        "externalId" => ("g.external_id", false),
        _ => ("g.id::text", false),
    }
}

/// Appends `filter` as SQL with bound values. Type mismatches (a string
/// compared with `active`, `co` on a boolean) are `invalidFilter`.
fn push_filter(
    query: &mut QueryBuilder<Postgres>,
    workspace_id: i64,
    filter: &Filter,
    column: fn(&str) -> (&'static str, bool),
) -> Result<(), AppError> {
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            query.push("(");
            push_filter(query, workspace_id, left, column)?;
            query.push(if matches!(filter, Filter::And(..)) {
                ") AND ("
            } else {
                ") OR ("
            });
            push_filter(query, workspace_id, right, column)?;
            query.push(")");
        }
        Filter::Not(inner) => {
            query.push("NOT coalesce((");
            push_filter(query, workspace_id, inner, column)?;
            query.push("), false)");
        }
        Filter::Present { attribute } => {
            let (sql, _) = column(attribute);
            if *attribute == "active" {
                query.push("true");
            } else {
                query.push(format!("({sql} IS NOT NULL AND {sql} <> '')"));
            }
        }
        Filter::Compare {
            attribute,
            op,
            value,
        } => {
            if let (Op::Eq, Value::Str(text)) = (op, value) {
                if push_address_lookup(query, workspace_id, attribute, text) {
                    return Ok(());
                }
            }
            let (sql, folded) = column(attribute);
            match (value, *attribute == "active") {
                (Value::Bool(b), true) if matches!(op, Op::Eq | Op::Ne) => {
                    query.push(format!("({sql} = "));
                    query.push_bind(if *op == Op::Eq { *b } else { !*b });
                    query.push(")");
                }
                (Value::Null, false) if matches!(op, Op::Eq | Op::Ne) => {
                    query.push(format!(
                        "({sql} IS {}NULL)",
                        if *op == Op::Eq { "" } else { "NOT " }
                    ));
                }
                (Value::Str(text), false) => {
                    let lhs = if folded {
                        format!("lower({sql})")
                    } else {
                        sql.to_owned()
                    };
                    let rhs = if folded { "lower(" } else { "(" };
                    let (before, after) = match op {
                        Op::Eq => (format!("coalesce({lhs} = {rhs}"), "), false)"),
                        Op::Ne => (format!("coalesce({lhs} <> {rhs}"), "), true)"),
                        Op::Co => (format!("coalesce(strpos({lhs}, {rhs}"), ")) > 0, false)"),
                        Op::Sw => (format!("coalesce(starts_with({lhs}, {rhs}"), ")), false)"),
                        Op::Ew => (
                            format!("coalesce(starts_with(reverse({lhs}), reverse({rhs}"),
                            "))), false)",
                        ),
                    };
                    query.push(before);
                    query.push_bind(text.clone());
                    query.push(after);
                }
                _ => {
                    return Err(scim_error(
                        "invalidFilter",
                        format!(
                            "The filter compares \"{attribute}\" with a value of the wrong type."
                        ),
                    ))
                }
            }
        }
    }
    Ok(())
}

/// `userName eq` and `emails.value eq` (what providers look people up by)
/// as index lookups: the Users whose own userName, account address or
/// invited address is the value. False for other attributes.
fn push_address_lookup(
    query: &mut QueryBuilder<Postgres>,
    workspace_id: i64,
    attribute: &str,
    text: &str,
) -> bool {
    let by_user_name = match attribute {
        "userName" => true,
        "emails.value" | "emails" => false,
        _ => return false,
    };
    // Where userName is the address, it is only when none was given.
    let unnamed = if by_user_name {
        " AND u.scim_user_name IS NULL"
    } else {
        ""
    };
    query.push("m.id IN (");
    if by_user_name {
        query.push("SELECT u.id FROM memberships u WHERE u.workspace_id = ");
        query.push_bind(workspace_id);
        query.push(" AND lower(u.scim_user_name) = lower(");
        query.push_bind(text.to_owned());
        query.push(") UNION ALL ");
    }
    query.push(
        "SELECT u.id FROM accounts ua JOIN memberships u ON u.account_id = ua.id WHERE u.workspace_id = ",
    );
    query.push_bind(workspace_id);
    query.push(" AND lower(ua.email) = lower(");
    query.push_bind(text.to_owned());
    query.push(format!(
        "){unnamed} UNION ALL SELECT u.id FROM memberships u WHERE u.workspace_id = "
    ));
    query.push_bind(workspace_id);
    query.push(" AND u.account_id IS NULL AND u.invited_email IS NOT NULL AND lower(u.invited_email) = lower(");
    query.push_bind(text.to_owned());
    query.push(format!("){unnamed})"));
    true
}

/// One page of Users matching `filter`: (total, page). `start` is 1-based.
pub async fn list_users(
    conn: &mut PgConnection,
    workspace_id: i64,
    filter: Option<&Filter>,
    start: i64,
    count: i64,
) -> Result<(i64, Vec<ScimUser>), AppError> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT count(*) FROM memberships m LEFT JOIN accounts a ON a.id = m.account_id
          WHERE m.kind = 'full' AND m.workspace_id = ",
    );
    query.push_bind(workspace_id);
    if let Some(filter) = filter {
        query.push(" AND (");
        push_filter(&mut query, workspace_id, filter, user_column)?;
        query.push(")");
    }
    let total: i64 = query.build_query_scalar().fetch_one(&mut *conn).await?;
    if count == 0 {
        return Ok((total, Vec::new()));
    }
    let mut query = QueryBuilder::<Postgres>::new(USER_SELECT);
    query.push_bind(workspace_id);
    if let Some(filter) = filter {
        query.push(" AND (");
        push_filter(&mut query, workspace_id, filter, user_column)?;
        query.push(")");
    }
    query.push(" ORDER BY m.id LIMIT ");
    query.push_bind(count);
    query.push(" OFFSET ");
    query.push_bind(start - 1);
    let users = query.build_query_as().fetch_all(&mut *conn).await?;
    Ok((total, users))
}

/// One User of the workspace; NotFound for any other id.
pub async fn get_user(
    conn: &mut PgConnection,
    workspace_id: i64,
    id: i64,
) -> Result<ScimUser, AppError> {
    let mut query = QueryBuilder::<Postgres>::new(USER_SELECT);
    query.push_bind(workspace_id);
    query.push(" AND m.id = ");
    query.push_bind(id);
    query
        .build_query_as()
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A User as a client wants it to be (POST, PUT, or PATCH applied to the
/// current one), every string already bounded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserDraft {
    pub user_name: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted_name: Option<String>,
    pub external_id: Option<String>,
    pub active: bool,
}

impl UserDraft {
    /// The address invitations go to: the email given, else the userName
    /// when it is one.
    fn address(&self) -> Result<EmailAddress, AppError> {
        match &self.email {
            Some(email) => EmailAddress::parse(email)
                .map_err(|m| scim_error("invalidValue", format!("emails: {m}"))),
            None => EmailAddress::parse(&self.user_name).map_err(|_| {
                scim_error(
                    "invalidValue",
                    "Give the person's email in emails, or a userName that is an email address.",
                )
            }),
        }
    }

    fn name(&self) -> Result<Option<DisplayName>, AppError> {
        let joined = match (&self.given_name, &self.family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            _ => None,
        };
        let Some(text) = self
            .display_name
            .clone()
            .or_else(|| self.formatted_name.clone())
            .or(joined)
        else {
            return Ok(None);
        };
        DisplayName::parse(&text)
            .map(Some)
            .map_err(|m| scim_error("invalidValue", format!("displayName: {m}")))
    }
}

/// Another User of the workspace already has this userName or address.
async fn check_user_name_free(
    conn: &mut PgConnection,
    workspace_id: i64,
    except: Option<i64>,
    user_name: &str,
    email: &str,
) -> Result<(), AppError> {
    let taken: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (
             SELECT 1 FROM memberships m LEFT JOIN accounts a ON a.id = m.account_id
              WHERE m.workspace_id = $1 AND m.kind = 'full' AND m.id <> coalesce($2::bigint, 0)
                AND (lower(coalesce(m.scim_user_name, a.email, m.invited_email)) IN (lower($3), lower($4))
                     OR lower(coalesce(a.email, m.invited_email)) IN (lower($3), lower($4)))) AS "taken!""#,
        workspace_id,
        except,
        user_name,
        email
    )
    .fetch_one(conn)
    .await?;
    if taken {
        return Err(scim_error(
            "uniqueness",
            "A member of this workspace already has that userName or email.",
        ));
    }
    Ok(())
}

#[track_caller]
fn external_id_conflict(error: sqlx::Error) -> AppError {
    db::on_constraint(|constraint| {
        matches!(
            constraint,
            "memberships_external_id_key" | "groups_external_id_key"
        )
        .then(|| {
            scim_error(
                "uniqueness",
                "Another resource of this workspace already has that externalId.",
            )
        })
    })(error)
}

/// Writes the SCIM-only attributes and the workspace's name for them.
async fn write_attributes(
    conn: &mut PgConnection,
    ctx: &Ctx,
    id: i64,
    draft: &UserDraft,
    email: &str,
    display_name: Option<&DisplayName>,
) -> Result<(), AppError> {
    let user_name = (!draft.user_name.eq_ignore_ascii_case(email)).then_some(&draft.user_name);
    sqlx::query!(
        "UPDATE memberships
            SET scim_user_name = $3, scim_given_name = $4, scim_family_name = $5,
                scim_formatted_name = $6, external_id = $7, display_name = $8
          WHERE workspace_id = $1 AND id = $2",
        ctx.workspace_id,
        id,
        user_name,
        draft.given_name,
        draft.family_name,
        draft.formatted_name,
        draft.external_id,
        display_name.map(DisplayName::as_str)
    )
    .execute(&mut *conn)
    .await
    .map_err(external_id_conflict)?;
    db::refresh_member_keys(&mut *conn, ctx.workspace_id, &[id]).await?;
    Ok(())
}

/// POST /Users: invites the person (mail through the outbox; an existing
/// account also sees it in the bell), as the Team page's invite does.
pub async fn create_user(
    conn: &mut PgConnection,
    ctx: &Ctx,
    settings: &AuthSettings,
    draft: &UserDraft,
) -> Result<i64, AppError> {
    let email = draft.address()?;
    let name = draft.name()?;
    check_user_name_free(
        &mut *conn,
        ctx.workspace_id,
        None,
        &draft.user_name,
        email.as_str(),
    )
    .await?;
    let origin = crate::server::mail::link_origin(settings);
    let outcomes = inv::invite_batch(
        &mut *conn,
        ctx,
        settings,
        &origin,
        &[Invitee {
            email: email.clone(),
            name: name.clone(),
            roles: Default::default(),
            group_ids: Vec::new(),
        }],
        &BatchOptions {
            send_email: true,
            all_projects: true,
            project_ids: Vec::new(),
            partial_seats: false,
        },
    )
    .await
    .map_err(|error| match error {
        // The seat message is about the invite form's field.
        AppError::Validation(errors) => scim_error(
            "invalidValue",
            errors
                .first("addresses")
                .unwrap_or("The invitation was refused.")
                .to_owned(),
        ),
        other => other,
    })?;
    let id = match outcomes.first() {
        Some(Outcome::Invited { membership_id, .. }) => *membership_id,
        Some(Outcome::NoSeat) => {
            return Err(scim_error(
                "invalidValue",
                "Every seat is taken. Add seats in Settings first.",
            ))
        }
        _ => {
            return Err(scim_error(
                "uniqueness",
                "A member of this workspace already has that email.",
            ))
        }
    };
    write_attributes(&mut *conn, ctx, id, draft, email.as_str(), name.as_ref()).await?;
    if !draft.active {
        lifecycle::deactivate_invitee(&mut *conn, ctx, id).await?;
    }
    Ok(id)
}

/// PUT or PATCH /Users/{id}: brings `current` to `draft`. An account's
/// address is the person's own (changed on their profile), so only an
/// invitee's can change, which sends them a fresh invitation. `active`
/// goes through the Team page's deactivate and reactivate.
pub async fn update_user(
    conn: &mut PgConnection,
    ctx: &Ctx,
    settings: &AuthSettings,
    current: &ScimUser,
    draft: &UserDraft,
) -> Result<(), AppError> {
    let email = match &draft.email {
        Some(_) => draft.address()?,
        None => EmailAddress::parse(&current.email)
            .map_err(AppError::internal("a stored address does not parse"))?,
    };
    let email_changed = !email.as_str().eq_ignore_ascii_case(&current.email);
    if email_changed && current.account_id.is_some() {
        return Err(scim_error(
            "mutability",
            "This person's email belongs to their account; they change it on their profile.",
        ));
    }
    if email_changed || !draft.user_name.eq_ignore_ascii_case(&current.user_name) {
        check_user_name_free(
            &mut *conn,
            ctx.workspace_id,
            Some(current.id),
            &draft.user_name,
            email.as_str(),
        )
        .await?;
    }
    let name = draft.name()?;
    let unchanged = !email_changed
        && draft.user_name == current.user_name
        && name.as_ref().map(DisplayName::as_str) == current.own_display_name.as_deref()
        && draft.given_name == current.given_name
        && draft.family_name == current.family_name
        && draft.formatted_name == current.formatted_name
        && draft.external_id == current.external_id;
    if !unchanged {
        write_attributes(
            &mut *conn,
            ctx,
            current.id,
            draft,
            email.as_str(),
            name.as_ref(),
        )
        .await?;
        ctx.record(&mut *conn, ctx.event(audit::AuditAction::ProfileChanged)
                .target_membership(current.id)
                .details(serde_json::json!({
                    "via": "scim",
                    "before": {
                        "userName": current.user_name, "displayName": current.own_display_name,
                        "externalId": current.external_id, "email": current.email,
                    },
                    "after": {
                        "userName": draft.user_name, "displayName": name.as_ref().map(DisplayName::as_str),
                        "externalId": draft.external_id, "email": email.as_str(),
                    },
                })),
        )
        .await?;
    }
    if email_changed {
        sqlx::query!(
            "UPDATE memberships SET invited_email = $3 WHERE workspace_id = $1 AND id = $2",
            ctx.workspace_id,
            current.id,
            email.as_str()
        )
        .execute(&mut *conn)
        .await
        .map_err(|_| {
            scim_error(
                "uniqueness",
                "A member of this workspace already has that email.",
            )
        })?;
        if current.status == MemberStatus::Pending {
            reinvite(&mut *conn, ctx, settings, current.id, email.as_str()).await?;
        }
    }
    let active_now = current.status != MemberStatus::Inactive;
    if active_now != draft.active {
        set_active(&mut *conn, ctx, settings, current, draft.active).await?;
    }
    Ok(())
}

/// Sends a pending member a fresh invitation link (the old one stops).
async fn reinvite(
    conn: &mut PgConnection,
    ctx: &Ctx,
    settings: &AuthSettings,
    id: i64,
    email: &str,
) -> Result<(), AppError> {
    let sender = sqlx::query_as!(
        inv::Sender,
        "SELECT w.name AS workspace_name, a.display_name AS inviter_name, a.email AS inviter_email
           FROM workspaces w, accounts a WHERE w.id = $1 AND a.id = $2",
        ctx.workspace_id,
        ctx.actor_account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    inv::check_rate(&mut *conn, ctx.workspace_id, 1, settings).await?;
    inv::reserve_mail(
        &mut *conn,
        ctx,
        settings,
        &[email.to_owned()],
        inv::MailRefusal::Provisioning,
    )
    .await?;
    inv::issue_links(
        &mut *conn,
        ctx,
        settings,
        &crate::server::mail::link_origin(settings),
        &sender,
        &[inv::PendingInvite {
            membership_id: id,
            email: email.to_owned(),
        }],
    )
    .await
}

/// `active` false: the Team page's deactivation (sessions end, timer
/// stopped, seat freed), or for an invitee their link revoked. `active`
/// true: the Team page's reactivation; an invitee gets a fresh link.
async fn set_active(
    conn: &mut PgConnection,
    ctx: &Ctx,
    settings: &AuthSettings,
    current: &ScimUser,
    active: bool,
) -> Result<(), AppError> {
    match (active, current.status) {
        (false, MemberStatus::Pending) => {
            lifecycle::deactivate_invitee(&mut *conn, ctx, current.id).await
        }
        (false, _) => {
            let workspace = super::workspace::lock(&mut *conn, ctx.workspace_id).await?;
            lifecycle::apply_status(&mut *conn, ctx, &workspace, current.id, Change::Deactivate)
                .await
        }
        (true, _) => {
            let workspace = super::workspace::lock(&mut *conn, ctx.workspace_id).await?;
            lifecycle::apply_status(&mut *conn, ctx, &workspace, current.id, Change::Reactivate)
                .await?;
            if current.account_id.is_none() {
                reinvite(&mut *conn, ctx, settings, current.id, &current.email).await?;
            }
            Ok(())
        }
    }
}

/// DELETE /Users/{id}: deactivated (if not already), then deleted, as on
/// the Team page; their time stays under "Deleted user".
pub async fn delete_user(
    conn: &mut PgConnection,
    ctx: &Ctx,
    settings: &AuthSettings,
    id: i64,
) -> Result<(), AppError> {
    let current = get_user(&mut *conn, ctx.workspace_id, id).await?;
    if current.status != MemberStatus::Inactive {
        set_active(&mut *conn, ctx, settings, &current, false).await?;
    }
    let workspace = super::workspace::lock(&mut *conn, ctx.workspace_id).await?;
    lifecycle::apply_status(&mut *conn, ctx, &workspace, id, Change::Delete).await
}

// ---------------------------------------------------------------- groups

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScimGroup {
    pub id: i64,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A group's members that are SCIM Users: (id, display name).
pub async fn group_members(
    conn: &mut PgConnection,
    workspace_id: i64,
    group_id: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query!(
        r#"SELECT m.id, teamroom_member_name(m, a) AS "name!"
             FROM group_members gm
             JOIN memberships m ON m.workspace_id = gm.workspace_id AND m.id = gm.membership_id
             LEFT JOIN accounts a ON a.id = m.account_id
            WHERE gm.workspace_id = $1 AND gm.group_id = $2 AND m.kind = 'full'
            ORDER BY m.id"#,
        workspace_id,
        group_id
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name))
    .collect())
}

const GROUP_SELECT: &str =
    "SELECT g.id, g.name AS display_name, g.external_id, g.created_at FROM groups g WHERE g.workspace_id = ";

pub async fn list_groups(
    conn: &mut PgConnection,
    workspace_id: i64,
    filter: Option<&Filter>,
    start: i64,
    count: i64,
) -> Result<(i64, Vec<ScimGroup>), AppError> {
    let mut query =
        QueryBuilder::<Postgres>::new("SELECT count(*) FROM groups g WHERE g.workspace_id = ");
    query.push_bind(workspace_id);
    if let Some(filter) = filter {
        query.push(" AND (");
        push_filter(&mut query, workspace_id, filter, group_column)?;
        query.push(")");
    }
    let total: i64 = query.build_query_scalar().fetch_one(&mut *conn).await?;
    if count == 0 {
        return Ok((total, Vec::new()));
    }
    let mut query = QueryBuilder::<Postgres>::new(GROUP_SELECT);
    query.push_bind(workspace_id);
    if let Some(filter) = filter {
        query.push(" AND (");
        push_filter(&mut query, workspace_id, filter, group_column)?;
        query.push(")");
    }
    query.push(" ORDER BY g.id LIMIT ");
    query.push_bind(count);
    query.push(" OFFSET ");
    query.push_bind(start - 1);
    Ok((total, query.build_query_as().fetch_all(&mut *conn).await?))
}

pub async fn get_group(
    conn: &mut PgConnection,
    workspace_id: i64,
    id: i64,
) -> Result<ScimGroup, AppError> {
    let mut query = QueryBuilder::<Postgres>::new(GROUP_SELECT);
    query.push_bind(workspace_id);
    query.push(" AND g.id = ");
    query.push_bind(id);
    query
        .build_query_as()
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A Group as the client wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDraft {
    pub display_name: String,
    pub external_id: Option<String>,
    /// Member ids as sent (strings); checked against the workspace here.
    pub members: Vec<String>,
}

/// Member ids of this workspace's Users; an unknown one refuses the call.
async fn member_ids(
    conn: &mut PgConnection,
    workspace_id: i64,
    values: &[String],
) -> Result<Vec<i64>, AppError> {
    let mut ids: Vec<i64> = Vec::with_capacity(values.len());
    for value in values {
        let id = value.trim().parse::<i64>().map_err(|_| {
            scim_error(
                "invalidValue",
                format!(
                    "\"{}\" is not a User id of this workspace.",
                    value.chars().take(64).collect::<String>()
                ),
            )
        })?;
        ids.push(id);
    }
    ids.sort_unstable();
    ids.dedup();
    let known: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM memberships
            WHERE workspace_id = $1 AND kind = 'full' AND id = ANY ($2)"#,
        workspace_id,
        &ids
    )
    .fetch_one(conn)
    .await?;
    if known != ids.len() as i64 {
        return Err(scim_error(
            "invalidValue",
            "Some members are not Users of this workspace.",
        ));
    }
    Ok(ids)
}

fn group_name(draft: &GroupDraft) -> Result<LabelName, AppError> {
    LabelName::parse_group(&draft.display_name)
        .map_err(|m| scim_error("invalidValue", format!("displayName: {m}")))
}

fn group_name_conflict(error: AppError) -> AppError {
    match error {
        AppError::Validation(errors) if errors.first("name").is_some() => scim_error(
            "uniqueness",
            errors.first("name").unwrap_or_default().to_owned(),
        ),
        other => other,
    }
}

async fn set_group_external_id(
    conn: &mut PgConnection,
    workspace_id: i64,
    id: i64,
    external_id: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE groups SET external_id = $3 WHERE workspace_id = $1 AND id = $2",
        workspace_id,
        id,
        external_id
    )
    .execute(conn)
    .await
    .map_err(external_id_conflict)?;
    Ok(())
}

/// POST /Groups: the Groups page's create, then its add members.
pub async fn create_group(
    conn: &mut PgConnection,
    ctx: &Ctx,
    draft: &GroupDraft,
) -> Result<i64, AppError> {
    let name = group_name(draft)?;
    let members = member_ids(&mut *conn, ctx.workspace_id, &draft.members).await?;
    let id = group_rules::insert_group(&mut *conn, ctx, &name)
        .await
        .map_err(group_name_conflict)?;
    set_group_external_id(
        &mut *conn,
        ctx.workspace_id,
        id,
        draft.external_id.as_deref(),
    )
    .await?;
    if !members.is_empty() {
        group_rules::put_in_group(&mut *conn, ctx, id, &members).await?;
    }
    Ok(id)
}

/// PUT or PATCH /Groups/{id}: renames if the name changed, and adds and
/// removes exactly the members that differ (nobody else is touched).
pub async fn update_group(
    conn: &mut PgConnection,
    ctx: &Ctx,
    current: &ScimGroup,
    draft: &GroupDraft,
) -> Result<(), AppError> {
    let name = group_name(draft)?;
    let wanted = member_ids(&mut *conn, ctx.workspace_id, &draft.members).await?;
    if name.as_str() != current.display_name {
        group_rules::apply_rename(&mut *conn, ctx, current.id, &name)
            .await
            .map_err(group_name_conflict)?;
    }
    if draft.external_id != current.external_id {
        set_group_external_id(
            &mut *conn,
            ctx.workspace_id,
            current.id,
            draft.external_id.as_deref(),
        )
        .await?;
    }
    let have: Vec<i64> = group_members(&mut *conn, ctx.workspace_id, current.id)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let add: Vec<i64> = wanted
        .iter()
        .copied()
        .filter(|id| !have.contains(id))
        .collect();
    if !add.is_empty() {
        group_rules::put_in_group(&mut *conn, ctx, current.id, &add).await?;
    }
    for id in have.iter().filter(|id| !wanted.contains(id)) {
        group_rules::take_out_of_group(&mut *conn, ctx, current.id, *id).await?;
    }
    Ok(())
}

/// DELETE /Groups/{id}: the Groups page's delete (members stay members).
pub async fn delete_group(conn: &mut PgConnection, ctx: &Ctx, id: i64) -> Result<(), AppError> {
    group_rules::apply_delete(conn, ctx, id).await
}
