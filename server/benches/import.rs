//! `cargo xtask bench import`: a 10,000-row member CSV imported the way the
//! browser does it (one `preview_import`, then `import_members` in chunks
//! of 500 over HTTP as a signed-in admin, emails queued), into a workspace
//! that already has members. The floor, measured in the same run: one
//! set-based INSERT of the same 10,000 pending memberships, the least
//! writing an import can do. Prints medians over several runs.
//!
//! Environment: DATABASE_URL (an empty database; xtask makes one),
//! BENCH_ROWS (default 10000), BENCH_RUNS (default 5).

use std::time::{Duration, Instant};

use app::{
    api::import::{ImportPreview, RowOutcome},
    server::{AppState, AuthSettings},
};
use server::{
    connect,
    seed_members::{seed_members, SeedRequest},
    Config, MIGRATOR,
};

mod common;

use common::{serve, signed_in, PASSWORD};
const CHUNK: usize = app::domain::invite::IMPORT_CHUNK_ROWS;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn csv(rows: usize, run: usize) -> String {
    let mut out = String::from("email,name,role,group\n");
    for i in 0..rows {
        let role = match i % 50 {
            0 => "admin",
            1 => "project manager",
            _ => "",
        };
        out.push_str(&format!(
            "import{run}.{i}@bench.example.test,Imported Person {i},{role},Import group {}\n",
            i % 40
        ));
    }
    out
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let rows = env_number("BENCH_ROWS", 10_000);
    let runs = env_number("BENCH_RUNS", 5);
    let config = Config {
        database_url,
        max_connections: 10,
        public_origin: AuthSettings::default().public_origin,
        auth: AuthSettings::default(),
        mailer: Default::default(),
        // Seeding a million rows takes longer than any request may.
        statement_timeout: std::time::Duration::ZERO,
        idle_in_transaction_timeout: std::time::Duration::ZERO,
    };
    let pool = connect(&config).await.expect("database");
    MIGRATOR.run(&pool).await.expect("migrations");
    let state = AppState::new(pool.clone(), config.auth.clone());
    let base = serve(state.clone(), &config).await;

    let mut previews = Vec::new();
    let mut imports = Vec::new();
    let mut floors = Vec::new();
    for run in 0..runs {
        // A fresh workspace per run, already holding 10,000 members.
        let workspace = seed_members(
            &state,
            &SeedRequest {
                members: 10_000,
                workspace_name: format!("Import bench {run}"),
                tag: format!("importbench{run}"),
                password: PASSWORD.to_owned(),
            },
            false,
        )
        .await
        .expect("seed");
        sqlx::query("UPDATE workspaces SET seats = 100000 WHERE id = $1")
            .bind(workspace.workspace_id)
            .execute(&pool)
            .await
            .expect("seats");
        let client = signed_in(&base, &workspace.admin_email).await;

        let file = csv(rows, run);
        let started = Instant::now();
        let preview: ImportPreview = client
            .post(format!("{base}/api/preview_import"))
            .header("accept", "application/json")
            .json(&serde_json::json!({ "file_text": file }))
            .send()
            .await
            .expect("preview")
            .json()
            .await
            .expect("preview json");
        previews.push(started.elapsed());
        assert_eq!(preview.rows.len(), rows);

        let to_send: Vec<_> = preview
            .rows
            .iter()
            .filter(|r| r.outcome == RowOutcome::WillInvite)
            .map(|r| r.row.clone())
            .collect();
        assert_eq!(to_send.len(), rows, "every row is importable");
        let started = Instant::now();
        for chunk in to_send.chunks(CHUNK) {
            let outcomes: Vec<RowOutcome> = client
                .post(format!("{base}/api/import_members"))
                .header("accept", "application/json")
                .json(&serde_json::json!({ "rows": chunk, "send_email": true }))
                .send()
                .await
                .expect("import")
                .json()
                .await
                .expect("outcomes");
            assert!(outcomes
                .iter()
                .all(|o| *o == RowOutcome::Invited { emailed: true }));
        }
        imports.push(started.elapsed());

        // The floor: the same number of pending memberships in one INSERT.
        let emails: Vec<String> = (0..rows)
            .map(|i| format!("floor{run}.{i}@bench.example.test"))
            .collect();
        let started = Instant::now();
        sqlx::query(
            "INSERT INTO memberships (workspace_id, kind, status, invited_email)
             SELECT $1, 'full', 'pending', e FROM unnest($2::text[]) AS e",
        )
        .bind(workspace.workspace_id)
        .bind(&emails)
        .execute(&pool)
        .await
        .expect("floor insert");
        floors.push(started.elapsed());
    }
    let (preview, import, floor) = (
        median(&mut previews),
        median(&mut imports),
        median(&mut floors),
    );
    println!();
    println!("CSV import of {rows} rows into a 10,000-member workspace, {runs} runs (median):");
    println!("| step | median | slowest |");
    println!("|---|---|---|");
    println!(
        "| preview (parse, classify, 1 call) | {} | {} |",
        ms(preview),
        ms(*previews.last().expect("runs"))
    );
    println!(
        "| import ({} calls of {CHUNK} rows, mail queued) | {} | {} |",
        rows.div_ceil(CHUNK),
        ms(import),
        ms(*imports.last().expect("runs"))
    );
    println!("| preview + import | {} | |", ms(preview + import));
    println!(
        "| floor: one INSERT of {rows} pending rows | {} | {} |",
        ms(floor),
        ms(*floors.last().expect("runs"))
    );
    println!(
        "ratio import / floor: {:.1}",
        import.as_secs_f64() / floor.as_secs_f64()
    );
}
