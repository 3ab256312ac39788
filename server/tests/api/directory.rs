//! The Team page's member list, groups and CSV export, over HTTP, on
//! seeded workspaces.

use std::collections::HashSet;

use app::{
    api::{groups::GroupRow, members::MemberPage},
    domain::directory::{MatchNote, MemberCount},
    error::AppError,
    server::{AppState, AuthSettings},
};
use server::seed_members::{seed_members, SeedRequest, SeededWorkspace};
use sqlx::PgPool;

use crate::helpers::{client, error_of, fns, spawn, TestApp};

const PASSWORD: &str = "teamroom demo 2026";

async fn seed(pool: &PgPool, tag: &str, members: i64) -> SeededWorkspace {
    let state = AppState::new(pool.clone(), AuthSettings::default());
    seed_members(
        &state,
        &SeedRequest {
            members,
            workspace_name: format!("Company {tag}"),
            tag: tag.to_owned(),
            password: PASSWORD.to_owned(),
        },
        false,
    )
    .await
    .expect("seeding")
}

async fn admin_client(app: &TestApp, workspace: &SeededWorkspace) -> reqwest::Client {
    let admin = client();
    let response = app
        .run_as(
            &admin,
            fns::SignIn {
                email: workspace.admin_email.to_owned(),
                password: PASSWORD.to_owned(),
            },
        )
        .await;
    assert!(response.status().is_success(), "admin signs in");
    admin
}

/// `view[q]=...` pairs for a server function taking `view: DirectoryParams`.
fn view_form<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(key, value)| (format!("view[{key}]"), (*value).to_owned()))
        .collect()
}

async fn list(
    app: &TestApp,
    as_who: &reqwest::Client,
    view: &[(&str, &str)],
    after: Option<&str>,
) -> reqwest::Response {
    let mut form = view_form(view);
    if let Some(cursor) = after {
        form.push(("after".to_owned(), cursor.to_owned()));
    }
    as_who
        .post(format!("{}/api/list_members", app.base))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .expect("request")
}

async fn page(
    app: &TestApp,
    as_who: &reqwest::Client,
    view: &[(&str, &str)],
    after: Option<&str>,
) -> MemberPage {
    let response = list(app, as_who, view, after).await;
    assert!(
        response.status().is_success(),
        "list_members {view:?} answered {}",
        response.status()
    );
    response.json().await.expect("a page")
}

/// Follows the cursors to the end; returns every row's membership id and
/// name in order.
async fn all_rows(
    app: &TestApp,
    as_who: &reqwest::Client,
    view: &[(&str, &str)],
) -> Vec<(i64, String, Option<String>)> {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = page(app, as_who, view, after.as_deref()).await;
        rows.extend(
            page.rows
                .into_iter()
                .map(|r| (r.membership_id, r.name, r.email)),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => return rows,
        }
    }
}

/// The `how_many` active members of a workspace with the lowest ids.
async fn first_active(pool: &PgPool, workspace_id: i64, how_many: i64) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT id FROM memberships WHERE workspace_id = $1 AND status = 'active' ORDER BY id LIMIT $2",
    )
    .bind(workspace_id)
    .bind(how_many)
    .fetch_all(pool)
    .await
    .expect("members")
}

/// A new group, made by `as_who` through `create_group`.
async fn create_group(app: &TestApp, as_who: &reqwest::Client, name: &str) -> GroupRow {
    let created = app
        .run_as(as_who, fns::CreateGroup { name: name.into() })
        .await;
    assert!(created.status().is_success(), "{}", created.status());
    created.json().await.expect("group")
}

/// Puts members in a group through `add_group_members`; answers how many
/// were not in it already.
async fn add_to_group(
    app: &TestApp,
    as_who: &reqwest::Client,
    group_id: i64,
    membership_ids: &[i64],
) -> u64 {
    let added = app
        .run_as(
            as_who,
            fns::AddGroupMembers {
                group_id,
                membership_ids: membership_ids.to_vec(),
            },
        )
        .await;
    assert!(added.status().is_success(), "{}", added.status());
    added.json().await.expect("count added")
}

async fn count(app: &TestApp, as_who: &reqwest::Client, view: &[(&str, &str)]) -> MemberCount {
    let response = as_who
        .post(format!("{}/api/count_members", app.base))
        .header("accept", "application/json")
        .form(&view_form(view))
        .send()
        .await
        .expect("request");
    assert!(response.status().is_success(), "count_members {view:?}");
    response.json().await.expect("a count")
}

async fn ids_of(pool: &PgPool, sql: &'static str, workspace_id: i64) -> HashSet<i64> {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(workspace_id)
        .fetch_all(pool)
        .await
        .expect("ids")
        .into_iter()
        .collect()
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn every_match_is_reachable_in_order_with_an_exact_count(pool: PgPool) {
    let workspace = seed(&pool, "alpha", 700).await;
    let app = spawn(pool.clone()).await;
    let admin = admin_client(&app, &workspace).await;

    let rows = all_rows(&app, &admin, &[]).await;
    let expected = ids_of(
        &pool,
        "SELECT id FROM memberships WHERE workspace_id = $1 AND status IN ('active', 'pending')",
        workspace.workspace_id,
    )
    .await;
    let got: HashSet<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(got.len(), rows.len(), "no row twice");
    assert_eq!(
        got, expected,
        "default view = active + pending, all of them"
    );
    assert!(
        rows.len() > 600,
        "the seed made hundreds of current members"
    );
    let counted = count(&app, &admin, &[]).await;
    assert_eq!(
        counted,
        MemberCount {
            value: expected.len() as i64,
            exact: true
        }
    );

    // Sorted by name, ties by id: check against the database's own order.
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT sort_name FROM memberships WHERE workspace_id = $1 AND status IN ('active', 'pending')
          ORDER BY sort_name, id",
    )
    .bind(workspace.workspace_id)
    .fetch_all(&pool)
    .await
    .expect("names");
    assert_eq!(names.len(), rows.len());

    // Descending last-active reaches every inactive member too, each once.
    let inactive = all_rows(
        &app,
        &admin,
        &[
            ("status", "inactive"),
            ("sort", "last_active"),
            ("dir", "desc"),
        ],
    )
    .await;
    let expected_inactive = ids_of(
        &pool,
        "SELECT id FROM memberships WHERE workspace_id = $1 AND status = 'inactive'",
        workspace.workspace_id,
    )
    .await;
    assert_eq!(
        inactive.iter().map(|r| r.0).collect::<HashSet<_>>(),
        expected_inactive
    );
    assert_eq!(inactive.len(), expected_inactive.len());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn search_ignores_case_and_accents_and_short_words_match_word_starts(pool: PgPool) {
    let workspace = seed(&pool, "beta", 600).await;
    let app = spawn(pool.clone()).await;
    let admin = admin_client(&app, &workspace).await;

    // "zoe" finds "Zoë", whatever the case or accent typed.
    for typed in ["zoe", "ZOË", "Zoë"] {
        let rows = all_rows(&app, &admin, &[("q", typed), ("status", "all")]).await;
        assert!(!rows.is_empty(), "{typed} finds someone");
        assert!(
            rows.iter().all(|r| r.1.to_lowercase().contains("zoë")
                || r.1.to_lowercase().contains("zoe")
                || r.2.as_deref().is_some_and(|e| e.contains("zoe"))),
            "{typed} finds only Zoës: {rows:?}"
        );
    }
    // Two characters match the start of a word, not the middle: "jo" finds
    // José and Jonas, never a name with "jo" only inside a word.
    let short = all_rows(&app, &admin, &[("q", "jo"), ("status", "all")]).await;
    assert!(!short.is_empty());
    let expected_short = ids_of(
        &pool,
        "SELECT id FROM memberships WHERE workspace_id = $1 AND search_text LIKE '% jo%'",
        workspace.workspace_id,
    )
    .await;
    assert_eq!(
        short.iter().map(|r| r.0).collect::<HashSet<_>>(),
        expected_short
    );
    // Group names and the assigned manager's name are searched too:
    // "montreal" (no accent) finds members of the "... Montréal" groups.
    let by_group = all_rows(&app, &admin, &[("q", "montreal"), ("status", "all")]).await;
    let expected_group = ids_of(
        &pool,
        "SELECT gm.membership_id FROM group_members gm JOIN groups g
            ON g.workspace_id = gm.workspace_id AND g.id = gm.group_id
          WHERE gm.workspace_id = $1 AND g.name LIKE '%Montréal'",
        workspace.workspace_id,
    )
    .await;
    assert!(!expected_group.is_empty());
    assert!(
        expected_group.is_subset(&by_group.iter().map(|r| r.0).collect()),
        "every Montréal member is found"
    );
    let manager: String = sqlx::query_scalar(
        "SELECT tm.display_name FROM memberships m
           JOIN memberships t ON t.workspace_id = m.workspace_id AND t.id = m.team_manager_id
           JOIN accounts tm ON tm.id = t.account_id
          WHERE m.workspace_id = $1 LIMIT 1",
    )
    .bind(workspace.workspace_id)
    .fetch_one(&pool)
    .await
    .expect("someone has a team manager");
    let managed = all_rows(&app, &admin, &[("q", &manager), ("status", "all")]).await;
    assert!(
        managed.len() > 1,
        "the manager's team shows up under their name"
    );

    // Several words must all match.
    let both = all_rows(&app, &admin, &[("q", "zoe smith"), ("status", "all")]).await;
    let expected_both = ids_of(
        &pool,
        "SELECT id FROM memberships WHERE workspace_id = $1
            AND search_text LIKE '%zoe%' AND search_text LIKE '%smith%'",
        workspace.workspace_id,
    )
    .await;
    assert_eq!(
        both.iter().map(|r| r.0).collect::<HashSet<_>>(),
        expected_both
    );
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn one_workspace_never_sees_anothers_members(pool: PgPool) {
    let a = seed(&pool, "tenanta", 300).await;
    let b = seed(&pool, "tenantb", 300).await;
    let app = spawn(pool.clone()).await;
    let admin_a = admin_client(&app, &a).await;
    let admin_b = admin_client(&app, &b).await;
    let ids_a = ids_of(
        &pool,
        "SELECT id FROM memberships WHERE workspace_id = $1",
        a.workspace_id,
    )
    .await;
    let group_of_b: i64 =
        sqlx::query_scalar("SELECT id FROM groups WHERE workspace_id = $1 LIMIT 1")
            .bind(b.workspace_id)
            .fetch_one(&pool)
            .await
            .expect("b has groups");
    let group_of_b = group_of_b.to_string();

    for sort in [
        "name",
        "email",
        "roles",
        "groups",
        "status",
        "kind",
        "last_active",
        "added",
    ] {
        for dir in ["asc", "desc"] {
            let rows = all_rows(
                &app,
                &admin_a,
                &[("status", "all"), ("sort", sort), ("dir", dir)],
            )
            .await;
            let got: HashSet<i64> = rows.iter().map(|r| r.0).collect();
            assert_eq!(got, ids_a, "sort {sort} {dir}: exactly workspace A");
        }
    }
    // B's email domain, B's group id, a search that only B could match.
    for view in [
        vec![("q", "tenantb"), ("status", "all")],
        vec![("group", group_of_b.as_str()), ("status", "all")],
    ] {
        let rows = all_rows(&app, &admin_a, &view).await;
        assert!(rows.is_empty(), "{view:?} shows nothing of B in A");
    }
    // A cursor issued in B is refused in A with a clear message.
    let b_page = page(&app, &admin_b, &[], None).await;
    let b_cursor = b_page.next.expect("B has a second page");
    let refused = list(&app, &admin_a, &[], Some(&b_cursor)).await;
    assert_eq!(refused.status(), 400);
    let message = error_of(refused)
        .await
        .field_message("cursor")
        .expect("cursor message");
    assert!(message.contains("another workspace"), "{message}");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn tampered_cursors_and_bad_input_get_clear_answers(pool: PgPool) {
    let workspace = seed(&pool, "gamma", 200).await;
    let app = spawn(pool.clone()).await;
    let admin = admin_client(&app, &workspace).await;
    let first = page(&app, &admin, &[], None).await;
    let cursor = first.next.expect("a second page");

    let mut tampered = cursor.clone();
    tampered.insert(5, 'x');
    for bad in [
        tampered.as_str(),
        "not-a-cursor",
        "eyJ3IjoxfQ",
        &"A".repeat(5000),
    ] {
        let response = list(&app, &admin, &[], Some(bad)).await;
        assert_eq!(response.status(), 400, "cursor {bad:.20}");
        assert!(error_of(response).await.field_message("cursor").is_some());
    }
    // The cursor of one sort order does not continue another.
    let response = list(&app, &admin, &[("sort", "email")], Some(&cursor)).await;
    assert_eq!(response.status(), 400);

    // Search text that means something to LIKE or SQL is plain text here.
    for search in [
        "%",
        "_",
        "\\",
        "'",
        "\"",
        "%_%",
        "' OR 1=1 --",
        "🙂",
        "a\\%b",
    ] {
        let response = list(&app, &admin, &[("q", search)], None).await;
        assert!(
            response.status().is_success(),
            "{search:?} answered {}",
            response.status()
        );
        let found: MemberPage = response.json().await.expect("page");
        assert!(found.rows.is_empty(), "{search:?} matches nobody literally");
    }
    let huge = "x".repeat(10 * 1024);
    let response = list(&app, &admin, &[("q", &huge)], None).await;
    assert_eq!(response.status(), 400);
    assert!(error_of(response)
        .await
        .field_message("q")
        .is_some_and(|m| m.contains("200")));
    for (field, value) in [
        ("status", "deleted"),
        ("role", "emperor"),
        ("kind", "robot"),
        ("sort", "salary"),
        ("dir", "sideways"),
        ("group", "abc"),
    ] {
        let response = list(&app, &admin, &[(field, value)], None).await;
        assert_eq!(response.status(), 400, "{field}={value}");
        let error = error_of(response).await;
        assert!(error.field_message(field).is_some(), "{field} is named");
    }
    // An unknown group id is simply an empty list, not an error.
    let empty = page(&app, &admin, &[("group", "999999999")], None).await;
    assert!(empty.rows.is_empty());
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn plain_members_are_refused_and_managers_see_only_their_team(pool: PgPool) {
    let workspace = seed(&pool, "delta", 400).await;
    let app = spawn(pool.clone()).await;
    // Give a plain member and a team manager of the seed a password.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM accounts WHERE email = $1")
        .bind(&workspace.admin_email)
        .fetch_one(&pool)
        .await
        .expect("admin hash");
    let plain_email: String = sqlx::query_scalar(
        "UPDATE accounts a SET password_hash = $2 FROM memberships m
          WHERE m.account_id = a.id AND m.workspace_id = $1 AND m.status = 'active'
            AND m.role_rank = 4 AND a.id = (SELECT min(account_id) FROM memberships
                WHERE workspace_id = $1 AND status = 'active' AND role_rank = 4 AND account_id IS NOT NULL)
          RETURNING a.email",
    )
    .bind(workspace.workspace_id)
    .bind(&hash)
    .fetch_one(&pool)
    .await
    .expect("a plain member");
    let (manager_email, manager_membership): (String, i64) = sqlx::query_as(
        "UPDATE accounts a SET password_hash = $2 FROM memberships m
          WHERE m.account_id = a.id AND m.workspace_id = $1 AND m.id = (
                SELECT team_manager_id FROM memberships WHERE workspace_id = $1
                   AND team_manager_id IS NOT NULL
                 GROUP BY team_manager_id ORDER BY count(*) DESC LIMIT 1)
          RETURNING a.email, m.id",
    )
    .bind(workspace.workspace_id)
    .bind(&hash)
    .fetch_one(&pool)
    .await
    .expect("a team manager");

    let plain = client();
    app.run_as(
        &plain,
        fns::SignIn {
            email: plain_email.to_owned(),
            password: PASSWORD.to_owned(),
        },
    )
    .await;
    let refused = list(&app, &plain, &[], None).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(error_of(refused).await, AppError::Forbidden);
    let export = plain
        .get(format!("{}/api/members.csv", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(export.status(), 403);

    let manager = client();
    app.run_as(
        &manager,
        fns::SignIn {
            email: manager_email.to_owned(),
            password: PASSWORD.to_owned(),
        },
    )
    .await;
    let seen: HashSet<i64> = all_rows(&app, &manager, &[("status", "all")])
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    let mut team = ids_of(
        &pool,
        "SELECT id FROM memberships WHERE workspace_id = $1 AND team_manager_id = (
             SELECT team_manager_id FROM memberships WHERE workspace_id = $1
                AND team_manager_id IS NOT NULL
              GROUP BY team_manager_id ORDER BY count(*) DESC LIMIT 1)",
        workspace.workspace_id,
    )
    .await;
    team.insert(manager_membership);
    assert_eq!(seen, team, "a team manager sees their team and themselves");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn groups_are_searchable_under_their_current_name(pool: PgPool) {
    let workspace = seed(&pool, "eps", 100).await;
    let app = spawn(pool.clone()).await;
    let admin = admin_client(&app, &workspace).await;
    let group = create_group(&app, &admin, "Night Shift").await;
    let duplicate = app
        .run_as(
            &admin,
            fns::CreateGroup {
                name: "night shift".into(),
            },
        )
        .await;
    assert_eq!(duplicate.status(), 400, "names are unique ignoring case");

    let members = first_active(&pool, workspace.workspace_id, 3).await;
    assert_eq!(add_to_group(&app, &admin, group.id, &members).await, 3);

    let found = all_rows(&app, &admin, &[("q", "night shift")]).await;
    assert_eq!(
        found.iter().map(|r| r.0).collect::<HashSet<_>>(),
        members.iter().copied().collect()
    );
    // Each row says why it matched: the group, with the typed words marked.
    let shown = |note: &MatchNote| {
        let text: String = note
            .parts
            .iter()
            .map(|(text, marked)| {
                if *marked {
                    format!("[{text}]")
                } else {
                    text.clone()
                }
            })
            .collect();
        format!("{}: {text}", note.field.label())
    };
    for row in page(&app, &admin, &[("q", "NIGHT shif")], None).await.rows {
        assert_eq!(
            row.matched.iter().map(shown).collect::<Vec<_>>(),
            ["group: [Night] [Shif]t"],
            "{}",
            row.name
        );
    }
    // Found by name: nothing to explain.
    let by_name = page(&app, &admin, &[("q", &found[0].1)], None).await;
    assert!(by_name.rows.iter().any(|r| r.membership_id == found[0].0));
    assert!(by_name.rows.iter().all(|r| r.matched.is_empty()));
    let renamed = app
        .run_as(
            &admin,
            fns::RenameGroup {
                group_id: group.id,
                name: "Früh Team".into(),
            },
        )
        .await;
    assert!(renamed.status().is_success());
    assert!(all_rows(&app, &admin, &[("q", "night shift")])
        .await
        .is_empty());
    assert_eq!(all_rows(&app, &admin, &[("q", "fruh")]).await.len(), 3);
    // Found through accent folding: named, but nothing to mark.
    for row in page(&app, &admin, &[("q", "fruh team")], None).await.rows {
        assert_eq!(
            row.matched.iter().map(shown).collect::<Vec<_>>(),
            ["group: Früh [Team]"]
        );
    }
    let filtered = all_rows(&app, &admin, &[("group", &group.id.to_string())]).await;
    assert_eq!(filtered.len(), 3);

    let removed = app
        .run_as(
            &admin,
            fns::RemoveGroupMember {
                group_id: group.id,
                membership_id: members[0],
            },
        )
        .await;
    assert!(removed.status().is_success());
    assert_eq!(all_rows(&app, &admin, &[("q", "fruh")]).await.len(), 2);
    let deleted = app
        .run_as(&admin, fns::DeleteGroup { group_id: group.id })
        .await;
    assert!(deleted.status().is_success());
    assert!(all_rows(&app, &admin, &[("q", "fruh")]).await.is_empty());
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE workspace_id = $1 AND action LIKE 'group.%'",
    )
    .bind(workspace.workspace_id)
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(
        audited, 5,
        "created, members added, renamed, member removed, deleted"
    );
}

/// A group's list is read from its own name-ordered index; it must still be
/// exactly the group, in the Team page's order both ways, across pages, and
/// follow a rename and new members at once.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_group_lists_in_name_order_across_pages_and_follows_renames(pool: PgPool) {
    let workspace = seed(&pool, "ord", 400).await;
    let app = spawn(pool.clone()).await;
    let admin = admin_client(&app, &workspace).await;
    let post_json = |endpoint: &'static str, body: serde_json::Value| {
        let admin = admin.clone();
        let url = format!("{}/api/{endpoint}", app.base);
        async move {
            admin
                .post(url)
                .header("accept", "application/json")
                .json(&body)
                .send()
                .await
                .expect("request")
        }
    };
    let group = create_group(&app, &admin, "Order Check").await;
    // 120 members of every status and kind: three pages.
    let chosen: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM memberships WHERE workspace_id = $1 ORDER BY hashint8(id) LIMIT 120",
    )
    .bind(workspace.workspace_id)
    .fetch_all(&pool)
    .await
    .expect("members");
    assert_eq!(add_to_group(&app, &admin, group.id, &chosen).await, 120);

    // The order the list must show, from the names themselves rather than
    // the stored keys the group index copies (descending is its reverse:
    // the id breaks ties).
    let expected_ascending = || {
        sqlx::query_scalar::<_, i64>(
            "SELECT m.id FROM memberships m
               JOIN group_members gm ON gm.workspace_id = m.workspace_id AND gm.membership_id = m.id
               LEFT JOIN accounts a ON a.id = m.account_id
              WHERE gm.group_id = $1
              ORDER BY teamroom_fold(coalesce(m.display_name, a.display_name, m.invited_email)), m.id",
        )
        .bind(group.id)
        .fetch_all(&pool)
    };
    let group_id = group.id.to_string();
    for dir in ["asc", "desc"] {
        let view = [
            ("group", group_id.as_str()),
            ("status", "all"),
            ("dir", dir),
        ];
        let shown: Vec<i64> = all_rows(&app, &admin, &view)
            .await
            .iter()
            .map(|r| r.0)
            .collect();
        let mut want = expected_ascending().await.expect("expected order");
        if dir == "desc" {
            want.reverse();
        }
        assert_eq!(want.len(), 120);
        assert_eq!(shown, want, "group list, {dir}");
    }
    let counted = count(
        &app,
        &admin,
        &[("group", group_id.as_str()), ("status", "all")],
    )
    .await;
    assert_eq!((counted.value, counted.exact), (120, true));

    // A limited member of the group renamed to sort first moves to the top
    // of the group's list at once.
    let limited: i64 = sqlx::query_scalar(
        "SELECT m.id FROM memberships m JOIN group_members gm
             ON gm.workspace_id = m.workspace_id AND gm.membership_id = m.id
          WHERE gm.group_id = $1 AND m.kind = 'limited' ORDER BY m.id LIMIT 1",
    )
    .bind(group.id)
    .fetch_one(&pool)
    .await
    .expect("a limited member in the group");
    let saved = post_json(
        "save_profile",
        serde_json::json!({ "membership_id": limited, "form": {
            "name": "Aabel Aardvark", "working_days": [1, 2, 3, 4, 5], "capacity": "8",
            "week_start": "1", "team_manager_id": null, "billing_rate": "", "currency": "USD",
            "notify_weekly_summary": true, "notify_timer_reminders": true } }),
    )
    .await;
    assert!(saved.status().is_success(), "{}", saved.status());
    let first = page(
        &app,
        &admin,
        &[("group", group_id.as_str()), ("status", "all")],
        None,
    )
    .await;
    assert_eq!(
        (first.rows[0].membership_id, first.rows[0].name.as_str()),
        (limited, "Aabel Aardvark")
    );
    let shown: Vec<i64> = all_rows(
        &app,
        &admin,
        &[("group", group_id.as_str()), ("status", "all")],
    )
    .await
    .iter()
    .map(|r| r.0)
    .collect();
    assert_eq!(shown, expected_ascending().await.expect("expected order"));
    // Searching inside the group still narrows it.
    let found = all_rows(
        &app,
        &admin,
        &[
            ("group", group_id.as_str()),
            ("status", "all"),
            ("q", "aardvark"),
        ],
    )
    .await;
    assert_eq!(found.iter().map(|r| r.0).collect::<Vec<_>>(), [limited]);
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn adding_people_already_in_a_group_writes_nothing_and_one_person_is_named(pool: PgPool) {
    let workspace = seed(&pool, "grp", 30).await;
    let app = spawn(pool.clone()).await;
    let admin = admin_client(&app, &workspace).await;
    let group = create_group(&app, &admin, "Audit Check").await;
    let members = first_active(&pool, workspace.workspace_id, 3).await;
    let audit_rows = || async {
        sqlx::query_as::<_, (Option<i64>, serde_json::Value)>(
            "SELECT target_membership_id, details FROM audit_events
              WHERE workspace_id = $1 AND action = 'group.members_added' ORDER BY id",
        )
        .bind(workspace.workspace_id)
        .fetch_all(&pool)
        .await
        .expect("audit rows")
    };

    assert_eq!(add_to_group(&app, &admin, group.id, &members[..2]).await, 2);
    let rows = audit_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, None, "two people: the row names the group only");

    // The same two again: nothing added, and no audit row claims otherwise.
    assert_eq!(add_to_group(&app, &admin, group.id, &members[..2]).await, 0);
    assert_eq!(audit_rows().await.len(), 1, "a no-op is not audited");

    // Two known and one new: only the new one is added, and as the only
    // one added the row shows in that person's own history.
    assert_eq!(add_to_group(&app, &admin, group.id, &members).await, 1);
    let rows = audit_rows().await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].0, Some(members[2]));
    assert_eq!(rows[1].1["membership_ids"], serde_json::json!([members[2]]));
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn csv_export_streams_the_filtered_view(pool: PgPool) {
    let workspace = seed(&pool, "zeta", 400).await;
    let app = spawn(pool.clone()).await;
    let admin = admin_client(&app, &workspace).await;
    let response = admin
        .get(format!(
            "{}/api/members.csv?status=inactive&sort=email&dir=desc",
            app.base
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/csv")));
    let body = response.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let emails: Vec<String> = reader
        .records()
        .map(|r| r.expect("record")[1].to_owned())
        .collect();
    let expected: Vec<String> = sqlx::query_scalar(
        "SELECT sort_email FROM memberships WHERE workspace_id = $1 AND status = 'inactive'
          ORDER BY sort_email DESC, id DESC",
    )
    .bind(workspace.workspace_id)
    .fetch_all(&pool)
    .await
    .expect("emails");
    assert!(!expected.is_empty());
    assert_eq!(emails, expected, "same rows, same order as the list");
    let bad = admin
        .get(format!("{}/api/members.csv?status=gone", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), 400);
    let anonymous = client()
        .get(format!("{}/api/members.csv", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
}
