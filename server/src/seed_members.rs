//! `server seed-members --members N`: a realistic large workspace, built
//! set-wise inside PostgreSQL (generate_series, INSERT ... SELECT), never
//! row by row. A million members take about two minutes on a 2-core
//! machine, most of it maintaining the Team page's indexes.
//!
//! Mix: varied names with accents, unique emails, ~1% limited members, ~5%
//! pending, ~10% inactive, ~5% admins, ~2% project and ~2% team managers,
//! 100 groups (9 in 10 members in one), a team manager for 4 in 5.

use app::{
    domain::{Password, WorkspaceName},
    error::AppError,
    server::{password, AppState},
};
use sqlx::{Executor, Row};

#[derive(Debug, Clone)]
pub struct SeedRequest {
    pub members: i64,
    pub workspace_name: String,
    /// Short tag that makes this workspace's emails unique.
    pub tag: String,
    /// Password for the owner and admin accounts (everyone else has none).
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct SeededWorkspace {
    pub workspace_id: i64,
    pub owner_email: String,
    pub admin_email: String,
    pub members: i64,
}

const FIRST_NAMES: &[&str] = &[
    "Anna", "José", "Zoë", "Łukasz", "Mohammed", "Wei", "Olga", "Chloé", "Søren", "Aarav", "Emma",
    "Liam", "Noah", "Olivia", "Ava", "Mia", "Lucas", "Mateo", "Sofia", "Amelia", "Hugo", "Léa",
    "Jonas", "Nora", "Ines", "Yuki", "Hana", "Kenji", "Priya", "Ravi", "Fatima", "Omar", "Ayşe",
    "Mehmet", "Björn", "Ingrid", "Dmitri", "Natasha", "Pedro", "Lucía", "Tomás", "Marta", "Giulia",
    "Marco", "Élodie", "Théo", "Kwame", "Amara", "Sean", "Siobhán", "Ahmed", "Sara", "David",
    "Maria", "John", "Elena", "Pablo", "Nina", "Oscar", "Freya",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "García",
    "Müller",
    "Nowak",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Jensen",
    "Silva",
    "Novák",
    "Yilmaz",
    "Kim",
    "Nguyen",
    "Tanaka",
    "Patel",
    "Okafor",
    "Andersson",
    "Fernández",
    "O'Brien",
    "Petrović",
    "Schäfer",
    "Lefèvre",
    "Horváth",
    "Costa",
    "Ivanova",
    "Chen",
    "Sato",
    "Haddad",
    "Mensah",
    "Walsh",
    "Martínez",
    "López",
    "Wójcik",
    "Øster",
    "Brown",
    "Taylor",
    "Wilson",
    "Moreau",
    "Fischer",
    "Weber",
    "Hoffmann",
    "Lindqvist",
    "Virtanen",
    "Popescu",
    "Papadopoulos",
    "Kovač",
    "Dvořák",
    "Santos",
    "Gómez",
    "Ruiz",
    "Murphy",
    "Johansson",
    "Bianchi",
    "Laurent",
    "Schmidt",
    "Novak",
    "Jovanović",
    "Kaya",
    "Ito",
    "Park",
];

const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Support",
    "Marketing",
    "Finance",
    "Operations",
    "Design",
    "Legal",
    "People",
    "Research",
];

const LOCATIONS: &[&str] = &[
    "Berlin",
    "Lisbon",
    "Montréal",
    "São Paulo",
    "Kraków",
    "Zürich",
    "Osaka",
    "Nairobi",
    "Austin",
    "Dublin",
];

#[derive(Clone, Copy)]
enum Param {
    Workspace,
    Members,
    Tag,
    FirstNames,
    LastNames,
}

use Param::*;

/// The seeding statements, in order, with the values bound to `$1`, `$2`...
const STEPS: &[(&str, &[Param], &str)] = &[
    (
        "plan",
        &[Members, Tag, FirstNames, LastNames],
        "CREATE TEMP TABLE seed ON COMMIT DROP AS
         SELECT i,
                nextval(pg_get_serial_sequence('accounts', 'id')) AS account_id,
                0::bigint AS membership_id,
                f.first || ' ' || l.last AS name,
                lower(translate(f.first || '.' || replace(l.last, '''', ''),
                                'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿŁłŚśŠšŽžČčĆćŘřĞğŞşİıĚěŇňŤťŮůĐđ',
                                'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyyLlSsSsZzCcCcRrGgSsIiEeNnTtUuDd'))
                  || '.' || i || '@' || $2::text || '.example.test' AS email,
                r,
                CASE WHEN r < 10 THEN 'limited' ELSE 'full' END AS kind,
                CASE WHEN r < 10 THEN 'active' WHEN r < 60 THEN 'pending'
                     WHEN r < 160 THEN 'inactive' ELSE 'active' END AS status,
                NULL::bigint AS group_id, NULL::text AS group_name,
                NULL::bigint AS tm_id, NULL::text AS tm_name
           FROM generate_series(1, $1::bigint) AS i
          CROSS JOIN LATERAL (SELECT (hashint8(i) & 2147483647) % 1000 AS r) AS rnd
          CROSS JOIN LATERAL (SELECT ($3::text[])[1 + (hashint8(i * 7 + 1) & 2147483647) % cardinality($3::text[])] AS first) AS f
          CROSS JOIN LATERAL (SELECT ($4::text[])[1 + (hashint8(i * 11 + 3) & 2147483647) % cardinality($4::text[])] AS last) AS l",
    ),
    // Membership ids in name order: the name and email indexes then grow
    // at their right edge instead of splitting pages all over.
    (
        "order",
        &[],
        "UPDATE seed s SET membership_id = x.id
           FROM (SELECT i, nextval(pg_get_serial_sequence('memberships', 'id')) AS id
                   FROM (SELECT i FROM seed ORDER BY teamroom_fold(name), i) AS ordered) AS x
          WHERE x.i = s.i",
    ),
    (
        "groups",
        &[Workspace],
        "UPDATE seed s SET group_id = g.ids[1 + (s.r * 7 + s.i) % cardinality(g.ids)],
                           group_name = g.names[1 + (s.r * 7 + s.i) % cardinality(g.ids)]
           FROM (SELECT array_agg(id ORDER BY id) AS ids, array_agg(name ORDER BY id) AS names
                   FROM groups WHERE workspace_id = $1) AS g
          WHERE s.kind = 'full' AND s.r % 10 <> 3",
    ),
    (
        "managers",
        &[],
        // A join on the manager's ordinal, not an index into an array of
        // them: subscripting a 20,000-element array per row copied it per
        // row and took 17 s at a million.
        "UPDATE seed s SET tm_id = t.membership_id, tm_name = t.name
           FROM (SELECT count(*) AS n FROM seed
                  WHERE kind = 'full' AND status = 'active' AND r >= 230 AND r < 250) AS c,
                (SELECT row_number() OVER (ORDER BY i) - 1 AS k, membership_id, name FROM seed
                  WHERE kind = 'full' AND status = 'active' AND r >= 230 AND r < 250) AS t
          WHERE c.n > 0 AND s.r % 5 <> 0 AND NOT (s.r >= 230 AND s.r < 250)
            AND t.k = (hashint8(s.i * 17) & 2147483647) % c.n",
    ),
    (
        "accounts",
        &[],
        "INSERT INTO accounts (id, email, display_name, created_at)
         OVERRIDING SYSTEM VALUE
         SELECT account_id, email, name, now() - make_interval(days => (r * 3) % 1500)
           FROM seed WHERE kind = 'full' AND status <> 'pending'
          ORDER BY account_id",
    ),
    (
        "memberships",
        &[Workspace],
        "INSERT INTO memberships (workspace_id, id, account_id, kind, status, is_admin,
                                  is_project_manager, is_team_manager, display_name, invited_email,
                                  created_at, last_active_at, team_manager_id, sort_name,
                                  sort_email, sort_groups, role_rank, search_text)
         OVERRIDING SYSTEM VALUE
         SELECT $1, membership_id,
                CASE WHEN kind = 'full' AND status <> 'pending' THEN account_id END,
                kind, status,
                kind = 'full' AND r >= 160 AND r < 210,
                kind = 'full' AND r >= 210 AND r < 230,
                kind = 'full' AND r >= 230 AND r < 250,
                CASE WHEN kind = 'limited' THEN name END,
                CASE WHEN status = 'pending' THEN email END,
                now() - make_interval(days => (r * 3) % 1500, secs => (i % 86400)::int),
                CASE WHEN status = 'active' AND r % 10 <> 0
                     THEN now() - make_interval(secs => ((hashint8(i * 31) & 2147483647) % (86400 * 90))::int) END,
                tm_id,
                teamroom_fold(name),
                CASE WHEN kind = 'full' THEN email ELSE '' END,
                teamroom_fold(group_name),
                CASE WHEN kind <> 'full' THEN 4 WHEN r >= 160 AND r < 210 THEN 1
                     WHEN r >= 210 AND r < 230 THEN 2 WHEN r >= 230 AND r < 250 THEN 3 ELSE 4 END,
                ' ' || teamroom_fold(concat_ws(' ', name, CASE WHEN kind = 'full' THEN email END,
                                               group_name, tm_name))
           FROM seed ORDER BY membership_id",
    ),
    (
        "group members",
        &[Workspace],
        "INSERT INTO group_members (workspace_id, group_id, membership_id, sort_name)
         SELECT $1, group_id, membership_id, teamroom_fold(name) FROM seed WHERE group_id IS NOT NULL
          ORDER BY group_id, membership_id",
    ),
];

/// Builds the workspace and returns how to reach it. Prints one line per
/// step with its duration when `progress` is set.
pub async fn seed_members(
    state: &AppState,
    request: &SeedRequest,
    progress: bool,
) -> Result<SeededWorkspace, AppError> {
    let started = std::time::Instant::now();
    let name = WorkspaceName::parse(&request.workspace_name)
        .map_err(|m| AppError::field("workspace", m))?;
    let secret = Password::parse(&request.password).map_err(|m| AppError::field("password", m))?;
    if !(1..=10_000_000).contains(&request.members) {
        return Err(AppError::field(
            "members",
            "Seed between 1 and 10,000,000 members.",
        ));
    }
    let tag: String = request
        .tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    if tag.is_empty() {
        return Err(AppError::field("tag", "The tag needs letters or digits."));
    }
    let hash = password::hash(state, &secret).await?;
    let owner_email = format!("owner@{tag}.example.test");
    let admin_email = format!("admin@{tag}.example.test");
    let first: Vec<String> = FIRST_NAMES.iter().map(|s| (*s).to_owned()).collect();
    let last: Vec<String> = LAST_NAMES.iter().map(|s| (*s).to_owned()).collect();
    let groups: Vec<String> = DEPARTMENTS
        .iter()
        .flat_map(|d| LOCATIONS.iter().map(move |l| format!("{d} {l}")))
        .collect();

    let mut tx = state.pool.begin().await?;
    tx.execute("SET LOCAL work_mem = '256MB'").await?;
    tx.execute("SET LOCAL maintenance_work_mem = '512MB'")
        .await?;
    // New rows go to the trigram index's pending list and are merged into
    // it in one sorted pass at the end, instead of one insertion per row.
    tx.execute("SET LOCAL gin_pending_list_limit = '1GB'")
        .await?;
    // The seeder builds consistent rows itself; a superuser (the private
    // cluster's `app` role is one) may skip per-row foreign-key triggers,
    // as pg_restore --disable-triggers does. Others keep every check.
    let superuser: bool =
        sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut *tx)
            .await?;
    if superuser {
        tx.execute("SET LOCAL session_replication_role = replica")
            .await?;
    }
    let owner_id: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (email, display_name, password_hash) VALUES ($1, 'Oona Owner', $2) RETURNING id",
    )
    .bind(&owner_email)
    .bind(hash.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(app::server::db::on_constraint(|constraint| {
        (constraint == "accounts_email_key").then(|| {
            AppError::field(
                "tag",
                format!("A workspace tagged \"{tag}\" was seeded already; choose another tag."),
            )
        })
    }))?;
    let (workspace_id, _) = app::server::db::insert_workspace(&mut tx, owner_id, &name).await?;
    sqlx::query("UPDATE workspaces SET plan = 'enterprise', seats = $2 WHERE id = $1")
        .bind(workspace_id)
        .bind(i32::try_from(request.members).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await?;
    let admin_id: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (email, display_name, password_hash) VALUES ($1, 'Ada Admin', $2) RETURNING id",
    )
    .bind(&admin_email)
    .bind(hash.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let admin_membership: i64 = sqlx::query_scalar(
        "INSERT INTO memberships (workspace_id, account_id, kind, status, is_admin)
         VALUES ($1, $2, 'full', 'active', true) RETURNING id",
    )
    .bind(workspace_id)
    .bind(admin_id)
    .fetch_one(&mut *tx)
    .await?;
    app::server::db::refresh_member_keys(&mut tx, workspace_id, &[admin_membership]).await?;
    sqlx::query("INSERT INTO groups (workspace_id, name) SELECT $1, unnest($2::text[])")
        .bind(workspace_id)
        .bind(&groups)
        .execute(&mut *tx)
        .await?;
    for (step, params, statement) in STEPS {
        let step_started = std::time::Instant::now();
        let mut query = sqlx::query(*statement);
        for param in *params {
            query = match param {
                Workspace => query.bind(workspace_id),
                Members => query.bind(request.members),
                Tag => query.bind(&tag),
                FirstNames => query.bind(&first),
                LastNames => query.bind(&last),
            };
        }
        query.execute(&mut *tx).await?;
        if progress {
            println!(
                "  {step:<14} {:>7.1} s",
                step_started.elapsed().as_secs_f64()
            );
        }
    }
    tx.commit().await?;
    let merge_started = std::time::Instant::now();
    sqlx::query("SELECT gin_clean_pending_list('memberships_search'::regclass)")
        .execute(&state.pool)
        .await?;
    if progress {
        println!(
            "  {:<14} {:>7.1} s",
            "search index",
            merge_started.elapsed().as_secs_f64()
        );
    }
    let analyze_started = std::time::Instant::now();
    sqlx::query("ANALYZE accounts, memberships, group_members, groups")
        .execute(&state.pool)
        .await?;
    if progress {
        println!(
            "  {:<14} {:>7.1} s",
            "analyze",
            analyze_started.elapsed().as_secs_f64()
        );
    }
    let members: i64 = sqlx::query("SELECT count(*) FROM memberships WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(&state.pool)
        .await?
        .try_get(0)?;
    if progress {
        println!(
            "Seeded \"{}\": {members} members in {:.1} s.",
            name.as_str(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(SeededWorkspace {
        workspace_id,
        owner_email,
        admin_email,
        members,
    })
}
