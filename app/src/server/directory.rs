//! The member list's SQL: one statement per page, built from whitelisted
//! fragments (no user text ever reaches the SQL, only bound values), using
//! keyset pagination on the denormalised sort columns of `memberships`.
//!
//! Statements are sent unprepared (`persistent(false)`) so PostgreSQL plans
//! each one with the actual search patterns: whether a trigram bitmap or a
//! sorted index scan is faster depends on how common the words are.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{postgres::PgRow, PgConnection, Postgres, QueryBuilder, Row};

use crate::{
    domain::directory::{
        mark_words, DirectoryQuery, KindFilter, MatchField, MatchNote, MemberCount, RoleFilter,
        SortDir, SortKey, StatusFilter, PAGE_SIZE,
    },
    error::AppError,
};

/// Whose rows a caller may see (`Scope::of` makes it from the guard's
/// answer; `push_managed` says in SQL who `Managed` covers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everyone,
    /// A manager's read-only view (PRODUCT.md section 2: "their team /
    /// projects"): see `push_managed`.
    Managed {
        membership_id: i64,
        team: bool,
        projects: bool,
    },
}

impl Scope {
    /// Whose members the caller may see: everyone for Owners and Admins, a
    /// manager's own people otherwise (defined by `push_managed`).
    pub fn of(ctx: &super::Ctx) -> Scope {
        if ctx.access == crate::domain::Access::Scoped {
            Scope::Managed {
                membership_id: ctx.membership_id,
                team: ctx.positions.team_manager,
                projects: ctx.positions.project_manager,
            }
        } else {
            Scope::Everyone
        }
    }
}

/// Whom a manager may see: the one definition, used by the Team list and
/// its export, a member's card (`members::ensure_visible`), the
/// reports and the REST API. Pushes a condition, true when the membership
/// in `column` is, in workspace `workspace_id`:
/// - the manager themselves;
/// - as Team manager (`team`): a member assigned to them;
/// - as Project manager (`projects`): a member on one of their projects.
///   "All projects" counts on both sides, as it does for tracking time: a
///   member given all projects is on every project, and a manager given all
///   projects manages every one.
///
/// `Scope::Everyone` pushes `TRUE`.
pub fn push_managed(
    sql: &mut QueryBuilder<Postgres>,
    workspace_id: i64,
    scope: Scope,
    column: &'static str,
) {
    let Scope::Managed {
        membership_id,
        team,
        projects,
    } = scope
    else {
        sql.push("TRUE");
        return;
    };
    sql.push(format_args!("({column} = "))
        .push_bind(membership_id);
    if team {
        sql.push(format_args!(
            " OR {column} IN (SELECT t.id FROM memberships t WHERE t.workspace_id = "
        ))
        .push_bind(workspace_id)
        .push(" AND t.team_manager_id = ")
        .push_bind(membership_id)
        .push(")");
    }
    if projects {
        sql.push(format_args!(
            " OR {column} IN (SELECT theirs.id FROM memberships theirs
                 JOIN memberships me ON me.workspace_id = theirs.workspace_id AND me.id = "
        ))
        .push_bind(membership_id)
        .push(" WHERE theirs.workspace_id = ")
        .push_bind(workspace_id)
        .push(
            " AND ((theirs.all_projects AND EXISTS (SELECT 1 FROM projects p
                                                   WHERE p.workspace_id = me.workspace_id
                                                     AND (me.all_projects OR EXISTS (
                                                          SELECT 1 FROM project_members mine
                                                           WHERE mine.workspace_id = me.workspace_id
                                                             AND mine.project_id = p.id
                                                             AND mine.membership_id = me.id))))
                  OR EXISTS (SELECT 1 FROM project_members pm
                              WHERE pm.workspace_id = theirs.workspace_id
                                AND pm.membership_id = theirs.id
                                AND (me.all_projects OR EXISTS (
                                     SELECT 1 FROM project_members mine
                                      WHERE mine.workspace_id = me.workspace_id
                                        AND mine.project_id = pm.project_id
                                        AND mine.membership_id = me.id)))))",
        );
    }
    sql.push(")");
}

/// The projects a manager manages, as a condition on `column` (a project
/// id): all of the workspace's when they have all projects, else those
/// given to them. Used by the reports, which count a Project manager only
/// the time on their projects.
pub fn push_managed_projects(
    sql: &mut QueryBuilder<Postgres>,
    workspace_id: i64,
    manager_id: i64,
    column: &'static str,
) {
    sql.push(format_args!(
        "{column} IN (SELECT p.id FROM projects p
                       JOIN memberships me ON me.workspace_id = p.workspace_id AND me.id = "
    ))
    .push_bind(manager_id)
    .push(" WHERE p.workspace_id = ")
    .push_bind(workspace_id)
    .push(
        " AND (me.all_projects OR EXISTS (SELECT 1 FROM project_members pm
                                          WHERE pm.workspace_id = p.workspace_id
                                            AND pm.project_id = p.id
                                            AND pm.membership_id = me.id)))",
    );
}

/// Whether a manager (or anyone, for `Scope::Everyone`) may see a member
/// of their workspace.
pub async fn may_see(
    conn: &mut PgConnection,
    workspace_id: i64,
    scope: Scope,
    membership_id: i64,
) -> Result<bool, AppError> {
    let mut sql =
        QueryBuilder::new("SELECT EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = ");
    sql.push_bind(workspace_id)
        .push(" AND m.id = ")
        .push_bind(membership_id)
        .push(" AND ");
    push_managed(&mut sql, workspace_id, scope, "m.id");
    sql.push(")");
    Ok(sql.build_query_scalar::<bool>().fetch_one(conn).await?)
}

/// One view of one workspace's member list, with its search words already
/// folded into LIKE patterns: what the page, the count and the export share.
pub struct Listing<'a> {
    pub workspace_id: i64,
    pub scope: Scope,
    pub query: &'a DirectoryQuery,
    /// The search words folded as the stored search text is, each with
    /// the word as typed.
    words: Vec<(String, String)>,
    patterns: Vec<String>,
}

impl<'a> Listing<'a> {
    pub async fn prepare(
        conn: &mut PgConnection,
        workspace_id: i64,
        scope: Scope,
        query: &'a DirectoryQuery,
    ) -> Result<Self, AppError> {
        let raw: Vec<String> = query
            .search_words()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let words: Vec<(String, String)> = fold_texts(conn, raw.clone())
            .await?
            .into_iter()
            .zip(raw)
            .filter(|(folded, _)| !folded.is_empty())
            .collect();
        let folded: Vec<String> = words.iter().map(|(folded, _)| folded.clone()).collect();
        let patterns = patterns_of(&folded);
        Ok(Self {
            workspace_id,
            scope,
            query,
            words,
            patterns,
        })
    }
}

/// The position after the last row of a page, opaque to the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    /// Workspace the cursor was issued in.
    w: i64,
    /// Sort column and direction it belongs to.
    s: SortKey,
    d: SortDir,
    k: CursorKey,
    id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum CursorKey {
    Text(String),
    Rank(i16),
    /// `None` sorts as "never" (before every real time).
    Time(Option<DateTime<Utc>>),
}

fn bad_cursor() -> AppError {
    AppError::field(
        "cursor",
        "This list position is not valid any more. Reload the list to start again.",
    )
}

impl Cursor {
    fn encode(&self) -> String {
        // Serialising a plain struct to JSON cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str, workspace_id: i64, query: &DirectoryQuery) -> Result<Self, AppError> {
        if text.len() > 2048 {
            return Err(bad_cursor());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad_cursor())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
        if cursor.w != workspace_id {
            return Err(AppError::field(
                "cursor",
                "This list position belongs to another workspace. Reload the list.",
            ));
        }
        let key_fits = matches!(
            (sort_kind(cursor.s), &cursor.k),
            (KeyKind::Text, CursorKey::Text(_))
                | (KeyKind::Rank, CursorKey::Rank(_))
                | (KeyKind::Time, CursorKey::Time(_))
        );
        if cursor.s != query.sort || cursor.d != query.dir || !key_fits {
            return Err(AppError::field(
                "cursor",
                "This list position belongs to a different sort order. Reload the list.",
            ));
        }
        Ok(cursor)
    }
}

enum KeyKind {
    Text,
    Rank,
    Time,
}

fn sort_kind(sort: SortKey) -> KeyKind {
    match sort {
        SortKey::Name | SortKey::Email | SortKey::Groups | SortKey::Status | SortKey::Kind => {
            KeyKind::Text
        }
        SortKey::Roles => KeyKind::Rank,
        SortKey::LastActive | SortKey::Added => KeyKind::Time,
    }
}

/// The indexed expression each sort order walks (see the migration).
fn sort_expression(sort: SortKey) -> &'static str {
    match sort {
        SortKey::Name => "m.sort_name",
        SortKey::Email => "m.sort_email",
        SortKey::Groups => "m.sort_groups",
        SortKey::Status => "m.status",
        SortKey::Kind => "m.kind",
        SortKey::Roles => "m.role_rank",
        SortKey::LastActive => "coalesce(m.last_active_at, '-infinity'::timestamptz)",
        SortKey::Added => "m.created_at",
    }
}

/// Search words folded exactly as the stored search text was (lower case,
/// accents removed, by PostgreSQL's own `unaccent`), then turned into
/// escaped LIKE patterns: 1-2 characters match the start of a word, longer
/// words match anywhere. The Team page and the Accounts tab share it, so
/// "jose" finds "José" on both.
pub async fn like_patterns(
    conn: &mut PgConnection,
    words: Vec<String>,
) -> Result<Vec<String>, AppError> {
    Ok(patterns_of(&fold_words(conn, words).await?))
}

/// Texts folded by PostgreSQL's `teamroom_fold` (lower case, `unaccent`),
/// in order; empty results dropped.
async fn fold_words(conn: &mut PgConnection, words: Vec<String>) -> Result<Vec<String>, AppError> {
    Ok(fold_texts(conn, words)
        .await?
        .into_iter()
        .filter(|word| !word.is_empty())
        .collect())
}

async fn fold_texts(conn: &mut PgConnection, texts: Vec<String>) -> Result<Vec<String>, AppError> {
    if texts.is_empty() {
        return Ok(Vec::new());
    }
    let folded: Vec<Option<String>> = sqlx::query_scalar!(
        "SELECT teamroom_fold(word) FROM unnest($1::text[]) WITH ORDINALITY AS w(word, n) ORDER BY n",
        &texts
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(folded.into_iter().map(Option::unwrap_or_default).collect())
}

/// Whether a folded search word matches folded text the way the LIKE
/// patterns do: short words at a word start, longer ones anywhere.
fn word_hits(folded_text: &str, word: &str) -> bool {
    if word.chars().count() <= 2 {
        format!(" {folded_text}").contains(&format!(" {word}"))
    } else {
        folded_text.contains(word)
    }
}

/// The folded words as escaped LIKE patterns.
fn patterns_of(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|word| {
            if word.chars().count() <= 2 {
                like_word_start(word)
            } else {
                like_anywhere(word)
            }
        })
        .collect()
}

/// `text` for a LIKE pattern, taken literally: `\`, `%` and `_` escaped
/// (PostgreSQL's default escape character is the backslash). Every search
/// in the app builds its patterns through this, so a typed `%` never
/// matches everything.
pub fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A LIKE pattern for `text` anywhere.
pub fn like_anywhere(text: &str) -> String {
    format!("%{}%", like_escaped(text))
}

/// A LIKE pattern for `text` at the start of a word, matched against the
/// text with a space put in front (`' ' || name LIKE …`).
pub fn like_word_start(text: &str) -> String {
    format!("% {}%", like_escaped(text))
}

/// The texts of one listed row that the search covers.
pub struct RowText<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub groups: &'a [String],
    pub team_manager: Option<&'a str>,
}

impl Listing<'_> {
    /// For each row, why it matched when the search words are not all in
    /// its name and email: the group names and the team manager's name
    /// that hold the other words (the rest of `search_text`). One query
    /// folds the page's texts as the stored search text was folded.
    pub async fn match_notes(
        &self,
        conn: &mut PgConnection,
        rows: &[RowText<'_>],
    ) -> Result<Vec<Vec<MatchNote>>, AppError> {
        if self.words.is_empty() {
            return Ok(vec![Vec::new(); rows.len()]);
        }
        let mut texts = Vec::new();
        for row in rows {
            texts.push(format!("{} {}", row.name, row.email.unwrap_or_default()));
            texts.extend(row.groups.iter().cloned());
            texts.push(row.team_manager.unwrap_or_default().to_owned());
        }
        let mut folded = fold_texts(conn, texts).await?.into_iter();
        let mut notes = Vec::with_capacity(rows.len());
        for row in rows {
            let direct = folded.next().unwrap_or_default();
            let groups: Vec<String> = folded.by_ref().take(row.groups.len()).collect();
            let manager = folded.next().unwrap_or_default();
            // The words the name and email do not hold, folded and as typed.
            let (missing, missing_raw): (Vec<&String>, Vec<&str>) = self
                .words
                .iter()
                .filter(|(word, _)| !word_hits(&direct, word))
                .map(|(word, raw)| (word, raw.as_str()))
                .unzip();
            let mut row_notes = Vec::new();
            if missing.is_empty() {
                notes.push(row_notes);
                continue;
            }
            let holds = |text: &str| missing.iter().any(|word| word_hits(text, word));
            for (group, folded_group) in row.groups.iter().zip(&groups) {
                if holds(folded_group) {
                    row_notes.push(MatchNote {
                        field: MatchField::Group,
                        parts: mark_words(group, &missing_raw),
                    });
                }
            }
            if let Some(name) = row.team_manager.filter(|_| holds(&manager)) {
                row_notes.push(MatchNote {
                    field: MatchField::Manager,
                    parts: mark_words(name, &missing_raw),
                });
            }
            notes.push(row_notes);
        }
        Ok(notes)
    }
}

/// The group whose members are walked in name order from
/// `group_members_in_name_order` instead of walking every member in name
/// order and keeping the group's: a group of 50 among a million members
/// otherwise costs thousands of rows per page. Only for the name order,
/// the default (other orders keep the `IN` filter).
fn walked_group(query: &DirectoryQuery) -> Option<i64> {
    query.group.filter(|_| query.sort == SortKey::Name)
}

/// `FROM ...` of the page, the count and the CSV export: the members, or
/// a group's members in name order joined to them (`walked_group`).
fn push_from(sql: &mut QueryBuilder<Postgres>, query: &DirectoryQuery) {
    if walked_group(query).is_some() {
        sql.push(
            " FROM group_members gm
              JOIN memberships m ON m.workspace_id = gm.workspace_id AND m.id = gm.membership_id",
        );
    } else {
        sql.push(" FROM memberships m");
    }
}

/// The sort key and tie-breaker a page is ordered and paged by.
fn order_columns(query: &DirectoryQuery) -> (&'static str, &'static str) {
    if walked_group(query).is_some() {
        ("gm.sort_name", "gm.membership_id")
    } else {
        (sort_expression(query.sort), "m.id")
    }
}

/// `WHERE ...` shared by the page, the count and the CSV export, after
/// `push_from`.
fn push_conditions(sql: &mut QueryBuilder<Postgres>, listing: &Listing<'_>) {
    let (workspace_id, scope, query, patterns) = (
        listing.workspace_id,
        listing.scope,
        listing.query,
        listing.patterns.as_slice(),
    );
    sql.push(" WHERE m.workspace_id = ").push_bind(workspace_id);
    match query.status {
        StatusFilter::Current => {
            sql.push(" AND m.status IN ('active', 'pending')");
        }
        StatusFilter::Active => {
            sql.push(" AND m.status = 'active'");
        }
        StatusFilter::Pending => {
            sql.push(" AND m.status = 'pending'");
        }
        StatusFilter::Inactive => {
            sql.push(" AND m.status = 'inactive'");
        }
        StatusFilter::All => {}
    }
    match query.role {
        Some(RoleFilter::Owner) => sql.push(" AND m.role_rank = 0"),
        Some(RoleFilter::Admin) => sql.push(" AND m.is_admin"),
        Some(RoleFilter::ProjectManager) => sql.push(" AND m.is_project_manager"),
        Some(RoleFilter::TeamManager) => sql.push(" AND m.is_team_manager"),
        Some(RoleFilter::Member) => sql.push(" AND m.role_rank = 4"),
        None => sql,
    };
    match query.kind {
        Some(KindFilter::Full) => sql.push(" AND m.kind = 'full'"),
        Some(KindFilter::Limited) => sql.push(" AND m.kind = 'limited'"),
        None => sql,
    };
    match (query.group, walked_group(query)) {
        (Some(group_id), Some(_)) => {
            sql.push(" AND gm.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND gm.group_id = ")
                .push_bind(group_id);
        }
        (Some(group_id), None) => {
            sql.push(
                " AND m.id IN (SELECT gm.membership_id FROM group_members gm WHERE gm.workspace_id = ",
            )
            .push_bind(workspace_id)
            .push(" AND gm.group_id = ")
            .push_bind(group_id)
            .push(")");
        }
        (None, _) => {}
    }
    for pattern in patterns {
        sql.push(" AND m.search_text LIKE ")
            .push_bind(pattern.clone());
    }
    if let Scope::Managed { .. } = scope {
        sql.push(" AND ");
        push_managed(sql, workspace_id, scope, "m.id");
    }
}

fn push_order(sql: &mut QueryBuilder<Postgres>, query: &DirectoryQuery) {
    let dir = match query.dir {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    };
    let (key, id) = order_columns(query);
    sql.push(format_args!(" ORDER BY {key} {dir}, {id} {dir}"));
}

/// The plan PostgreSQL picks for a page (for the benchmark's report).
pub async fn explain_page(
    conn: &mut PgConnection,
    listing: &Listing<'_>,
    after: Option<&str>,
) -> Result<Vec<String>, AppError> {
    let mut sql = page_statement(
        QueryBuilder::new("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "),
        listing,
        after,
    )?;
    let rows = sql.build().persistent(false).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).map_err(AppError::from))
        .collect()
}

/// One page of membership ids with their sort keys, after `sql`'s prefix.
fn page_statement(
    mut sql: QueryBuilder<Postgres>,
    listing: &Listing<'_>,
    after: Option<&str>,
) -> Result<QueryBuilder<Postgres>, AppError> {
    let (workspace_id, query) = (listing.workspace_id, listing.query);
    let cursor = after
        .map(|text| Cursor::decode(text, workspace_id, query))
        .transpose()?;
    let (key, id) = order_columns(query);
    // The name key comes from the walked index when there is one, so the
    // cursor holds exactly what the page is ordered by.
    let name_key = if walked_group(query).is_some() {
        "gm.sort_name"
    } else {
        "m.sort_name"
    };
    sql.push(format_args!(
        "SELECT m.id, {name_key} AS sort_name, m.sort_email, m.sort_groups, m.status, m.kind,
                m.role_rank, m.last_active_at, m.created_at"
    ));
    push_from(&mut sql, query);
    push_conditions(&mut sql, listing);
    if let Some(cursor) = cursor {
        let comparison = match query.dir {
            SortDir::Asc => ">",
            SortDir::Desc => "<",
        };
        sql.push(format_args!(" AND ({key}, {id}) {comparison} ("));
        match cursor.k {
            CursorKey::Text(text) => sql.push_bind(text),
            CursorKey::Rank(rank) => sql.push_bind(rank),
            CursorKey::Time(time) => sql
                .push("coalesce(")
                .push_bind(time)
                .push("::timestamptz, '-infinity'::timestamptz)"),
        };
        sql.push(", ").push_bind(cursor.id).push(")");
    }
    push_order(&mut sql, query);
    // One row more than a page tells whether there is a next page.
    sql.push(format_args!(" LIMIT {}", PAGE_SIZE + 1));
    Ok(sql)
}

/// The sorted ids of one page and the cursor for the next one, if any.
pub struct PageIds {
    pub ids: Vec<i64>,
    pub next: Option<String>,
}

pub async fn page_ids(
    conn: &mut PgConnection,
    listing: &Listing<'_>,
    after: Option<&str>,
) -> Result<PageIds, AppError> {
    let (workspace_id, query) = (listing.workspace_id, listing.query);
    let mut sql = page_statement(QueryBuilder::new(""), listing, after)?;
    let rows: Vec<PgRow> = sql.build().persistent(false).fetch_all(&mut *conn).await?;
    let more = rows.len() > PAGE_SIZE;
    let rows = &rows[..rows.len().min(PAGE_SIZE)];
    let next = match rows.last().filter(|_| more) {
        Some(last) => Some(
            Cursor {
                w: workspace_id,
                s: query.sort,
                d: query.dir,
                k: cursor_key(last, query.sort)?,
                id: last.try_get("id")?,
            }
            .encode(),
        ),
        None => None,
    };
    let ids = rows
        .iter()
        .map(|row| row.try_get::<i64, _>("id"))
        .collect::<Result<_, _>>()?;
    Ok(PageIds { ids, next })
}

fn cursor_key(row: &PgRow, sort: SortKey) -> Result<CursorKey, sqlx::Error> {
    Ok(match sort {
        SortKey::Name => CursorKey::Text(row.try_get("sort_name")?),
        SortKey::Email => CursorKey::Text(row.try_get("sort_email")?),
        SortKey::Groups => CursorKey::Text(row.try_get("sort_groups")?),
        SortKey::Status => CursorKey::Text(row.try_get("status")?),
        SortKey::Kind => CursorKey::Text(row.try_get("kind")?),
        SortKey::Roles => CursorKey::Rank(row.try_get("role_rank")?),
        SortKey::LastActive => CursorKey::Time(row.try_get("last_active_at")?),
        SortKey::Added => CursorKey::Time(Some(row.try_get("created_at")?)),
    })
}

/// Counting a million matches on every keystroke is what not to do: the
/// count is exact up to this many matches, an estimate beyond.
pub const EXACT_COUNT_LIMIT: i64 = 10_000;

/// How many members match: the planner's estimate first (a fraction of a
/// millisecond); if that is small, an exact count capped at
/// `EXACT_COUNT_LIMIT` confirms it.
pub async fn count(
    conn: &mut PgConnection,
    listing: &Listing<'_>,
) -> Result<MemberCount, AppError> {
    let mut explain = QueryBuilder::new("EXPLAIN (FORMAT JSON) SELECT 1");
    push_from(&mut explain, listing.query);
    push_conditions(&mut explain, listing);
    let plan: serde_json::Value = explain
        .build()
        .persistent(false)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let estimate = plan
        .pointer("/0/Plan/Plan Rows")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0)
        .round() as i64;
    if estimate > EXACT_COUNT_LIMIT {
        return Ok(MemberCount {
            value: estimate,
            exact: false,
        });
    }
    // ORDER BY keeps the count on the same index path as the page, never a
    // sequential scan across every workspace.
    let mut exact = QueryBuilder::new("SELECT count(*) FROM (SELECT 1");
    push_from(&mut exact, listing.query);
    push_conditions(&mut exact, listing);
    push_order(&mut exact, listing.query);
    exact.push(format_args!(" LIMIT {}) AS capped", EXACT_COUNT_LIMIT + 1));
    let counted: i64 = exact
        .build()
        .persistent(false)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    Ok(if counted > EXACT_COUNT_LIMIT {
        MemberCount {
            value: estimate.max(counted),
            exact: false,
        }
    } else {
        MemberCount {
            value: counted,
            exact: true,
        }
    })
}

/// Every matching row for the CSV export, in order, streamed.
pub fn export_statement(listing: &Listing<'_>) -> QueryBuilder<Postgres> {
    let mut sql = QueryBuilder::new(
        "SELECT teamroom_member_name(m, a) AS name,
                coalesce(a.email, m.invited_email, '') AS email,
                m.role_rank, m.is_admin, m.is_project_manager, m.is_team_manager,
                m.status, m.kind,
                coalesce((SELECT string_agg(g.name, '; ' ORDER BY lower(g.name))
                            FROM group_members gm
                            JOIN groups g ON g.workspace_id = gm.workspace_id AND g.id = gm.group_id
                           WHERE gm.workspace_id = m.workspace_id AND gm.membership_id = m.id), '') AS groups,
                m.last_active_at, m.created_at",
    );
    push_from(&mut sql, listing.query);
    sql.push(" LEFT JOIN accounts a ON a.id = m.account_id");
    push_conditions(&mut sql, listing);
    push_order(&mut sql, listing.query);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_views() {
        let query = DirectoryQuery::default();
        let cursor = Cursor {
            w: 7,
            s: SortKey::Name,
            d: SortDir::Asc,
            k: CursorKey::Text("zoe smith".into()),
            id: 12,
        };
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&text, 7, &query).ok(), Some(cursor));
        assert!(Cursor::decode(&text, 8, &query).is_err(), "other workspace");
        let resorted = query.sorted_by(SortKey::Email);
        assert!(Cursor::decode(&text, 7, &resorted).is_err(), "other sort");
        assert!(Cursor::decode("not base64!", 7, &query).is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode(b"{\"w\":7}"), 7, &query).is_err());
        let wrong_type = Cursor {
            k: CursorKey::Rank(1),
            ..Cursor::decode(&text, 7, &query).expect("valid")
        };
        assert!(Cursor::decode(&wrong_type.encode(), 7, &query).is_err());
    }
}
