//! CSV import of members: a preview that writes nothing and says what will
//! happen to every row, then the import itself in chunks (the browser's
//! progress bar), each chunk one transaction. A bad row, an existing
//! member or an existing account never fails the file.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::{
        invite::{seats_message, FREE_PLAN_BATCH, IMPORT_CHUNK_ROWS},
        limits::MAX_GROUPS_PER_IMPORT,
        Permission, Plan,
    },
    server::{
        app_state,
        csv_import::{self, RawRow},
        groups,
        invitations::{self as inv, BatchOptions, Invitee, Outcome},
        require,
    },
};

/// A row as it was in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub line: u64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowOutcome {
    /// Preview: this row will be invited.
    WillInvite,
    /// Imported: pending member created (and emailed, when chosen).
    Invited {
        emailed: bool,
    },
    AlreadyMember,
    Invalid(String),
    /// Not invited for want of a seat (paid plans) or the Free plan's batch.
    NoSeat(String),
}

impl RowOutcome {
    pub fn label(&self) -> String {
        match self {
            Self::WillInvite => "Will be invited".into(),
            Self::Invited { emailed: true } => "Invited (email sent)".into(),
            Self::Invited { emailed: false } => "Added as pending (no email)".into(),
            Self::AlreadyMember => "Already a member".into(),
            Self::Invalid(reason) => format!("Not imported: {reason}"),
            Self::NoSeat(reason) => format!("Not invited: {reason}"),
        }
    }

    /// A short word for counting and styling.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::WillInvite | Self::Invited { .. } => "invited",
            Self::AlreadyMember => "member",
            Self::Invalid(_) => "invalid",
            Self::NoSeat(_) => "noseat",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub row: ImportRow,
    pub outcome: RowOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub rows: Vec<PreviewRow>,
    /// Groups named in the file that do not exist yet; the import creates them.
    pub new_groups: Vec<String>,
}

#[cfg(feature = "ssr")]
impl From<&RawRow> for ImportRow {
    fn from(raw: &RawRow) -> Self {
        Self {
            line: raw.line,
            email: raw.email.clone(),
            name: raw.name.clone(),
            role: raw.role.clone(),
            group: raw.group.clone(),
        }
    }
}

#[cfg(feature = "ssr")]
fn raw(row: &ImportRow) -> RawRow {
    RawRow {
        line: row.line,
        email: row.email.clone(),
        name: row.name.clone(),
        role: row.role.clone(),
        group: row.group.clone(),
    }
}

#[cfg(feature = "ssr")]
fn too_many_groups(count: usize) -> AppError {
    AppError::field(
        "file",
        format!(
            "The file names {count} different groups; one import can use at most \
             {MAX_GROUPS_PER_IMPORT}. Create the groups first or split the file."
        ),
    )
}

#[cfg(feature = "ssr")]
fn free_plan_batch_message() -> String {
    format!("the Free plan invites up to {FREE_PLAN_BATCH} people at a time")
}

/// Parses and classifies rows: invalid, duplicate of an earlier row, or
/// ready to invite.
#[cfg(feature = "ssr")]
fn classify(rows: &[ImportRow]) -> Vec<Result<csv_import::ParsedRow, String>> {
    let mut first_line: std::collections::HashMap<String, u64> = Default::default();
    rows.iter()
        .map(|row| {
            let parsed = csv_import::parse_row(&raw(row))?;
            let key = parsed.email.normalized();
            if let Some(line) = first_line.get(&key) {
                return Err(format!("the same address is on line {line}"));
            }
            first_line.insert(key, row.line);
            Ok(parsed)
        })
        .collect()
}

#[server(prefix = "/api", endpoint = "preview_import", input = Json)]
pub async fn preview_import(file_text: String) -> Result<ImportPreview, AppError> {
    let ctx = require(Permission::InviteMembers).await?;
    let rows: Vec<ImportRow> = csv_import::read_rows(&file_text)
        .map_err(|message| AppError::field("file", message))?
        .iter()
        .map(ImportRow::from)
        .collect();
    let parsed = classify(&rows);
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let emails: Vec<String> = parsed
        .iter()
        .flatten()
        .map(|p| p.email.normalized())
        .collect();
    let existing: std::collections::HashSet<String> =
        inv::existing_member_emails(&mut conn, ctx.workspace_id, &emails)
            .await?
            .into_iter()
            .collect();
    // How many rows fit, and what to say about the rest.
    let (mut room, no_room) = if ctx.plan == Plan::Free {
        (FREE_PLAN_BATCH as i64, free_plan_batch_message())
    } else {
        let free = inv::seats_free(&mut conn, ctx.workspace_id).await?;
        let wanted = parsed
            .iter()
            .flatten()
            .filter(|p| !existing.contains(&p.email.normalized()))
            .count();
        (free.max(0), seats_message(free, wanted))
    };
    let mut group_names: Vec<String> = Vec::new();
    let preview_rows: Vec<PreviewRow> = rows
        .into_iter()
        .zip(parsed)
        .map(|(row, parsed)| {
            let outcome = match parsed {
                Err(reason) => RowOutcome::Invalid(reason),
                Ok(p) if existing.contains(&p.email.normalized()) => RowOutcome::AlreadyMember,
                Ok(_) if room <= 0 => RowOutcome::NoSeat(no_room.clone()),
                Ok(p) => {
                    room -= 1;
                    group_names.extend(p.groups.iter().map(|g| g.as_str().to_owned()));
                    RowOutcome::WillInvite
                }
            };
            PreviewRow { row, outcome }
        })
        .collect();
    let mut lowered: Vec<String> = group_names.iter().map(|g| g.to_lowercase()).collect();
    lowered.sort_unstable();
    lowered.dedup();
    if lowered.len() > MAX_GROUPS_PER_IMPORT {
        return Err(too_many_groups(lowered.len()));
    }
    let known = groups::existing_names(&mut conn, ctx.workspace_id, &lowered).await?;
    let mut new_groups: Vec<String> = Vec::new();
    for name in group_names {
        let key = name.to_lowercase();
        if !known.contains(&key) && !new_groups.iter().any(|g| g.to_lowercase() == key) {
            new_groups.push(name);
        }
    }
    Ok(ImportPreview {
        rows: preview_rows,
        new_groups,
    })
}

/// Imports one chunk of rows (at most `IMPORT_CHUNK_ROWS`) in one
/// transaction. Every row is checked again here: the browser is not trusted.
#[server(prefix = "/api", endpoint = "import_members", input = Json)]
pub async fn import_members(
    rows: Vec<ImportRow>,
    send_email: bool,
) -> Result<Vec<RowOutcome>, AppError> {
    let ctx = require(Permission::InviteMembers).await?;
    if rows.len() > IMPORT_CHUNK_ROWS {
        return Err(AppError::field(
            "file",
            format!("Send at most {IMPORT_CHUNK_ROWS} rows per call."),
        ));
    }
    let parsed = classify(&rows);
    let mut outcomes: Vec<Option<RowOutcome>> = parsed
        .iter()
        .map(|p| {
            p.as_ref()
                .err()
                .map(|reason| RowOutcome::Invalid(reason.clone()))
        })
        .collect();
    let mut valid: Vec<(usize, &csv_import::ParsedRow)> = parsed
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().ok().map(|p| (i, p)))
        .collect();
    if ctx.plan == Plan::Free && valid.len() > FREE_PLAN_BATCH {
        for (index, _) in valid.split_off(FREE_PLAN_BATCH) {
            outcomes[index] = Some(RowOutcome::NoSeat(free_plan_batch_message()));
        }
    }

    let state = app_state()?;
    let origin = crate::server::mail::link_origin(&state.auth);
    let mut tx = state.pool.begin().await?;

    // Groups named in the file are created when missing.
    let mut names: Vec<String> = valid
        .iter()
        .flat_map(|(_, p)| p.groups.iter().map(|g| g.as_str().to_owned()))
        .collect();
    names.sort_by_key(|n| n.to_lowercase());
    names.dedup_by_key(|n| n.to_lowercase());
    // Checked before a group is created: one chunk cannot add thousands.
    if names.len() > MAX_GROUPS_PER_IMPORT {
        return Err(too_many_groups(names.len()));
    }
    let group_ids = groups::ensure_named(&mut tx, &ctx, &names, "csv import").await?;

    let invitees: Vec<Invitee> = valid
        .iter()
        .map(|(_, p)| Invitee {
            email: p.email.clone(),
            name: p.name.clone(),
            roles: p.roles,
            group_ids: p
                .groups
                .iter()
                .filter_map(|g| group_ids.get(&g.as_str().to_lowercase()).copied())
                .collect(),
        })
        .collect();
    let results = inv::invite_batch(
        &mut tx,
        &ctx,
        &state.auth,
        &origin,
        &invitees,
        &BatchOptions {
            send_email,
            all_projects: true,
            project_ids: Vec::new(),
            partial_seats: true,
        },
    )
    .await?;
    tx.commit().await?;
    for ((index, _), result) in valid.iter().zip(results) {
        outcomes[*index] = Some(match result {
            Outcome::Invited { emailed, .. } => RowOutcome::Invited { emailed },
            Outcome::AlreadyMember => RowOutcome::AlreadyMember,
            Outcome::NoSeat => RowOutcome::NoSeat("no free seat is left".into()),
        });
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(RowOutcome::Invalid("not processed".into())))
        .collect())
}
