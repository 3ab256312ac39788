//! The summary report's rule: hours per member over a date range, as the
//! Reports page, its CSV export and the REST API show it (`api::reports`
//! for the wire types and whom each viewer sees).

use crate::{
    api::reports::{Summary, SummaryParams, SummaryRow, DELETED_USER},
    domain::{time::DateRange, Access},
    error::AppError,
    server::{directory, time as timedb, Ctx},
};

/// The whole report, for the page and the CSV export alike.
pub async fn summarise(
    conn: &mut sqlx::PgConnection,
    ctx: &Ctx,
    params: &SummaryParams,
) -> Result<Summary, AppError> {
    let zone = timedb::member_zone(conn, ctx.workspace_id, ctx.membership_id).await?;
    // No dates: this month so far, in the viewer's zone.
    let range = if params.from.trim().is_empty() && params.to.trim().is_empty() {
        use chrono::Datelike;
        let today = chrono::Utc::now().with_timezone(&zone.tz).date_naive();
        let first = today.with_day(1).unwrap_or(today);
        DateRange::parse(
            &first.format("%Y-%m-%d").to_string(),
            &today.format("%Y-%m-%d").to_string(),
        )?
    } else {
        DateRange::parse(&params.from, &params.to)?
    };
    let from = timedb::day_start(zone.tz, range.first());
    let to = timedb::day_start(zone.tz, range.last() + chrono::Duration::days(1));
    let person = params.person.trim();
    // PostgreSQL text cannot hold NUL: refuse control characters here
    // rather than fail in the query.
    if person.chars().any(char::is_control) {
        return Err(AppError::field(
            "person",
            "Search text cannot contain control characters.",
        ));
    }
    let pattern = if person.is_empty() {
        String::new()
    } else {
        directory::like_anywhere(&person.chars().take(100).collect::<String>())
    };
    let scoped = ctx.access == Access::Scoped;
    // One statement, built from fixed fragments and bound values: the
    // manager's scope is the Team list's (`directory::push_managed`).
    let mut sql = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        r#"SELECT e.membership_id,
                  max(teamroom_member_name(m, a)) AS name,
                  max(a.email) AS email,
                  coalesce(bool_or(m.status = 'inactive'), false) AS inactive,
                  count(*) AS entries,
                  sum(extract(epoch FROM e.ended_at - e.started_at))::bigint AS seconds
             FROM time_entries e
             LEFT JOIN memberships m ON m.workspace_id = e.workspace_id AND m.id = e.membership_id
             LEFT JOIN accounts a ON a.id = m.account_id
            WHERE e.workspace_id = "#,
    );
    sql.push_bind(ctx.workspace_id)
        .push(" AND e.started_at >= ")
        .push_bind(from)
        .push(" AND e.started_at < ")
        .push_bind(to)
        .push(
            " AND e.ended_at IS NOT NULL AND (e.membership_id IS NULL OR m.status = 'active' OR (",
        )
        .push_bind(params.inactive)
        .push(" AND m.status = 'inactive'))");
    if !pattern.is_empty() {
        sql.push(" AND m.search_text LIKE teamroom_fold(")
            .push_bind(pattern)
            .push(")");
    }
    if scoped {
        let scope = directory::Scope::of(ctx);
        // The people: whom the manager may see at all. Their time: a
        // Team manager's people and the manager's own in full, a Project
        // manager's only on their projects.
        sql.push(" AND ");
        directory::push_managed(&mut sql, ctx.workspace_id, scope, "e.membership_id");
        sql.push(" AND (e.membership_id = ")
            .push_bind(ctx.membership_id);
        if ctx.positions.team_manager {
            sql.push(" OR m.team_manager_id = ")
                .push_bind(ctx.membership_id);
        }
        if ctx.positions.project_manager {
            sql.push(" OR ");
            directory::push_managed_projects(
                &mut sql,
                ctx.workspace_id,
                ctx.membership_id,
                "e.project_id",
            );
        }
        sql.push(")");
    }
    sql.push(
        " GROUP BY e.membership_id
          ORDER BY (e.membership_id IS NULL), lower(max(teamroom_member_name(m, a))), e.membership_id",
    );
    #[derive(sqlx::FromRow)]
    struct Row {
        membership_id: Option<i64>,
        name: Option<String>,
        email: Option<String>,
        inactive: bool,
        entries: i64,
        seconds: Option<i64>,
    }
    let rows = sql
        .build_query_as::<Row>()
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
    let rows: Vec<SummaryRow> = rows
        .into_iter()
        .map(|row| SummaryRow {
            name: match row.membership_id {
                None => DELETED_USER.to_owned(),
                Some(_) => row.name.unwrap_or_default(),
            },
            membership_id: row.membership_id,
            email: row.email,
            inactive: row.inactive,
            entries: row.entries,
            seconds: row.seconds.unwrap_or_default(),
        })
        .collect();
    let scope_note = scoped.then(|| {
        match (ctx.positions.team_manager, ctx.positions.project_manager) {
            (true, true) => "Your team, and time on your projects.",
            (true, false) => "Your team: the members you manage.",
            _ => "Time on your projects.",
        }
        .to_owned()
    });
    Ok(Summary {
        row_count: rows.len(),
        total_seconds: rows.iter().map(|r| r.seconds).sum(),
        total_entries: rows.iter().map(|r| r.entries).sum(),
        rows,
        scope_note,
        from: range.first().format("%Y-%m-%d").to_string(),
        to: range.last().format("%Y-%m-%d").to_string(),
    })
}
