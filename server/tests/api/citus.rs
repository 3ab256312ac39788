//! Citus readiness, read from the catalog of a freshly migrated database.
//!
//! On Citus a tenant table is distributed by `workspace_id` (and
//! `workspaces` by `id`, co-located with them): every primary key, unique
//! constraint or unique index, and every foreign key to another tenant
//! table, must include the distribution column, which must be NOT NULL.
//! Tables without `workspace_id` become reference tables (copied to every
//! node) and must be named below. A new table that is neither fails here,
//! so whoever adds it decides where it lives.

use sqlx::PgPool;

/// Global tables: reference tables on Citus. Small, or read by something
/// that knows no workspace (a session cookie, a sign-in address).
const REFERENCE_TABLES: &[&str] = &[
    "accounts",
    "account_photos",
    "auth_throttles",
    "email_changes",
    "email_verifications",
    "known_devices",
    "password_resets",
    "rate_windows",
    "recovery_codes",
    "sessions",
    "two_factor",
];

/// The tenant root, distributed by its own `id`.
const TENANT_ROOT: &str = "workspaces";

/// Tenant tables that do not pass yet, each with why the fix is not cheap.
/// `(table, constraint or index, why)`.
const KNOWN_EXCEPTIONS: &[(&str, &str, &str)] = &[
    // workspace_id is NULL for account-level events (sign-up, sign-in):
    // on Citus these go to a separate reference or coordinator-local
    // `account_events` table and the PK becomes (workspace_id, id).
    (
        "audit_events",
        "audit_events_pkey",
        "nullable workspace_id: account-level events",
    ),
    (
        "audit_events",
        "workspace_id NOT NULL",
        "nullable workspace_id: account-level events",
    ),
    // The mail queue holds account mail (resets, confirmations) with no
    // workspace, and its workers claim rows across all tenants with
    // SKIP LOCKED: it stays a coordinator-local table (see the README).
    (
        "outbox",
        "outbox_pkey",
        "coordinator-local queue across tenants",
    ),
    (
        "outbox",
        "workspace_id NOT NULL",
        "coordinator-local queue across tenants",
    ),
    // Notices to an account, optionally about a workspace: account data.
    (
        "account_notices",
        "account_notices_pkey",
        "account data; workspace_id is optional context",
    ),
    (
        "account_notices",
        "workspace_id NOT NULL",
        "account data; workspace_id is optional context",
    ),
    // A half-finished sign-in, keyed by its token before any workspace is
    // chosen: account data, a reference (or coordinator-local) table.
    (
        "two_factor_challenges",
        "two_factor_challenges_pkey",
        "sign-in state keyed by token, before a workspace",
    ),
    (
        "two_factor_challenges",
        "workspace_id NOT NULL",
        "sign-in state keyed by token, before a workspace",
    ),
    // Secrets a request presents without naming its workspace (the link in
    // an invitation mail, a Kiosk cookie, an API key, a SCIM token): the
    // lookup needs a global unique index. On Citus the token carries the
    // workspace id (a prefix) or a reference table maps hash -> workspace;
    // a format change for every secret already handed out.
    (
        "invitations",
        "invitations_token_key",
        "link token looked up without a workspace",
    ),
    (
        "kiosks",
        "kiosks_token_key",
        "device cookie looked up without a workspace",
    ),
    (
        "api_keys",
        "api_keys_hash_key",
        "API key looked up without a workspace",
    ),
    (
        "api_keys",
        "api_keys_prefix_key",
        "API key looked up without a workspace",
    ),
    (
        "scim_tokens",
        "scim_tokens_hash_key",
        "SCIM token looked up without a workspace",
    ),
    (
        "scim_tokens",
        "scim_tokens_prefix_key",
        "SCIM token looked up without a workspace",
    ),
];

#[derive(sqlx::FromRow, Debug)]
struct Table {
    name: String,
    tenant: bool,
    workspace_id_not_null: bool,
}

#[derive(sqlx::FromRow, Debug)]
struct Problem {
    table_name: String,
    name: String,
    definition: String,
}

fn known(table: &str, what: &str) -> bool {
    KNOWN_EXCEPTIONS
        .iter()
        .any(|(t, w, _)| *t == table && *w == what)
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn every_tenant_key_includes_workspace_id_and_every_other_table_is_a_reference_table(
    pool: PgPool,
) {
    let tables: Vec<Table> = sqlx::query_as(
        "SELECT c.relname::text AS name,
                a.attname IS NOT NULL AS tenant,
                coalesce(a.attnotnull, false) AS workspace_id_not_null
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id'
                                   AND NOT a.attisdropped
          WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            AND c.relname NOT LIKE '\\_sqlx%'
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    let mut failures = Vec::new();

    // Every table is either a tenant table or named as a reference table.
    for table in &tables {
        let named = REFERENCE_TABLES.contains(&table.name.as_str()) || table.name == TENANT_ROOT;
        if table.tenant && named {
            failures.push(format!(
                "{} has workspace_id but is listed as a reference table",
                table.name
            ));
        }
        if !table.tenant && !named {
            failures.push(format!(
                "{} has no workspace_id and is not listed in REFERENCE_TABLES: \
                 add workspace_id (a tenant table) or list it (a reference table)",
                table.name
            ));
        }
        if table.tenant
            && !table.workspace_id_not_null
            && !known(&table.name, "workspace_id NOT NULL")
        {
            failures.push(format!(
                "{}.workspace_id may be NULL: a distribution column may not",
                table.name
            ));
        }
    }
    for name in REFERENCE_TABLES.iter().chain([&TENANT_ROOT]) {
        assert!(
            tables.iter().any(|t| t.name == *name),
            "{name} is listed but no longer exists: drop it from the list"
        );
    }

    // Primary keys, unique constraints and every unique index (Citus
    // enforces uniqueness only per shard) of tenant tables.
    let unique: Vec<Problem> = sqlx::query_as(
        "SELECT c.relname::text AS table_name, i.relname::text AS name,
                pg_get_indexdef(ix.indexrelid) AS definition
           FROM pg_index ix
           JOIN pg_class c ON c.oid = ix.indrelid
           JOIN pg_class i ON i.oid = ix.indexrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute w ON w.attrelid = c.oid AND w.attname = 'workspace_id'
                              AND NOT w.attisdropped
          WHERE n.nspname = current_schema() AND (ix.indisunique OR ix.indisprimary)
            AND NOT (w.attnum = ANY (ix.indkey::int2[]))
          ORDER BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .expect("unique indexes");
    // Foreign keys between tenant tables (or to workspaces) must carry
    // workspace_id on both sides, so the joined rows are on one shard.
    let foreign: Vec<Problem> = sqlx::query_as(
        "SELECT c.relname::text AS table_name, con.conname::text AS name,
                pg_get_constraintdef(con.oid) AS definition
           FROM pg_constraint con
           JOIN pg_class c ON c.oid = con.conrelid
           JOIN pg_class r ON r.oid = con.confrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema() AND con.contype = 'f'
            AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                           AND a.attname = 'workspace_id' AND NOT a.attisdropped)
            AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = r.oid
                            AND a.attname = 'workspace_id' AND NOT a.attisdropped)
                 OR r.relname = 'workspaces')
            AND NOT EXISTS (
                SELECT 1 FROM unnest(con.conkey) k
                  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k
                 WHERE a.attname = 'workspace_id')
          ORDER BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .expect("foreign keys");
    for problem in unique.iter().chain(&foreign) {
        if !known(&problem.table_name, &problem.name) {
            failures.push(format!(
                "{}: {} does not include workspace_id: {}",
                problem.table_name, problem.name, problem.definition
            ));
        }
    }
    // Exceptions that no longer apply are removed, so the list stays true.
    for (table, what, _) in KNOWN_EXCEPTIONS {
        let still = if *what == "workspace_id NOT NULL" {
            tables
                .iter()
                .any(|t| t.name == *table && t.tenant && !t.workspace_id_not_null)
        } else {
            unique
                .iter()
                .chain(&foreign)
                .any(|p| p.table_name == *table && p.name == *what)
        };
        if !still {
            failures.push(format!(
                "known exception {table} / {what} is fixed: remove it from KNOWN_EXCEPTIONS"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
