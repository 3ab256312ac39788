//! `server` (serve), `server migrate`, `server seed-demo`,
//! `server seed-members --members N [--name NAME] [--tag TAG] [--password PW]`,
//! `server mail-sink [--port 2525] [--dir .data/mail] [--reject ADDRESS]...` (a local SMTP catcher),
//! `server api-key --email X [--name N]` (prints a new API key for scripts).

use std::process::ExitCode;

use app::server::AppState;
use server::{
    connect, leptos_options, mail_sink, mailer, router, seed, shutdown_signal,
    spawn_session_sweeper, Config, MIGRATOR,
};

const USAGE: &str = "usage: server [serve | migrate | seed-demo | seed-members --members N [--name NAME] [--tag TAG] [--password PASSWORD] | mail-sink [--port 2525] [--dir .data/mail] [--reject ADDRESS]... | api-key --email EMAIL [--name NAME] | scim-token --email OWNER_EMAIL [--name NAME]]";

/// `--flag value` pairs after the subcommand.
fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let command = std::env::args().nth(1);
    if command.as_deref() == Some("mail-sink") {
        // Needs no database: handled before the configuration is read.
        let args: Vec<String> = std::env::args().skip(2).collect();
        let port = flag(&args, "--port")
            .unwrap_or_else(|| "2525".into())
            .parse::<u16>()
            .map_err(|_| "--port must be a port number")?;
        let dir = flag(&args, "--dir").unwrap_or_else(|| ".data/mail".into());
        // `--reject ADDRESS`, as often as needed: answered 550 at RCPT.
        let reject: Vec<String> = args
            .windows(2)
            .filter(|pair| pair[0] == "--reject")
            .map(|pair| pair[1].clone())
            .collect();
        return mail_sink::run(port, dir.into(), reject).await;
    }
    if !matches!(
        command.as_deref(),
        None | Some("serve" | "migrate" | "seed-demo" | "seed-members" | "api-key" | "scim-token")
    ) {
        return Err(USAGE.into());
    }
    let serving = matches!(command.as_deref(), None | Some("serve"));
    let mut config = Config::from_env(serving)?;
    // Migrations and seeding may run for minutes on a big database: their
    // connections go without the timeouts requests have.
    let unlimited = Config {
        statement_timeout: std::time::Duration::ZERO,
        idle_in_transaction_timeout: std::time::Duration::ZERO,
        max_connections: 1,
        ..config.clone()
    };
    let migration_pool = connect(&unlimited)
        .await
        .map_err(|e| format!("cannot connect to the database at DATABASE_URL: {e}"))?;
    MIGRATOR
        .run(&migration_pool)
        .await
        .map_err(|e| format!("database migration failed: {e}"))?;
    migration_pool.close().await;
    if !serving {
        config.statement_timeout = std::time::Duration::ZERO;
        config.idle_in_transaction_timeout = std::time::Duration::ZERO;
    }
    let pool = connect(&config)
        .await
        .map_err(|e| format!("cannot connect to the database at DATABASE_URL: {e}"))?;
    let state = AppState::new(pool, config.auth.clone());
    let options = leptos_options();

    match command.as_deref() {
        Some("migrate") => {
            println!("Database is up to date.");
            Ok(())
        }
        Some("seed-demo") => {
            let created = seed::demo(&state)
                .await
                .map_err(|e| format!("seeding the demo workspace failed: {e}"))?;
            let verb = if created { "Created" } else { "Found" };
            println!("{verb} the demo workspace \"Demo Company\" (Enterprise plan).");
            println!("Sign in at http://{}/signin", options.site_addr);
            println!("  email:    {}", seed::DEMO_OWNER_EMAIL);
            println!("  password: {}", seed::DEMO_PASSWORD);
            println!("  (admin@, pm@, tm@ and member@demo.teamroom.test use the same password)");
            println!(
                "  Kiosk: Time > Launch Kiosk; Kim Kiosk's PIN is {}",
                seed::DEMO_KIOSK_PIN
            );
            Ok(())
        }
        Some("seed-members") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let members = flag(&args, "--members")
                .ok_or("seed-members needs --members N")?
                .replace('_', "")
                .parse::<i64>()
                .map_err(|_| "--members must be a whole number")?;
            let tag = flag(&args, "--tag")
                .unwrap_or_else(|| format!("w{members}x{}", std::process::id()));
            let request = server::seed_members::SeedRequest {
                members,
                workspace_name: flag(&args, "--name")
                    .unwrap_or_else(|| format!("Big Company ({members} members)")),
                tag,
                password: flag(&args, "--password")
                    .unwrap_or_else(|| seed::DEMO_PASSWORD.to_owned()),
            };
            println!("Seeding {members} members...");
            let seeded = server::seed_members::seed_members(&state, &request, true)
                .await
                .map_err(|e| format!("seeding failed: {e:?}"))?;
            println!("Sign in at http://{}/signin as", options.site_addr);
            println!("  owner:    {}", seeded.owner_email);
            println!("  admin:    {}", seeded.admin_email);
            println!("  password: {}", request.password);
            Ok(())
        }
        Some("api-key") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let email = flag(&args, "--email").ok_or("api-key needs --email EMAIL")?;
            let name = flag(&args, "--name").unwrap_or_else(|| "Command line".into());
            let secret = seed::api_key(&state, &email, &name).await.map_err(|e| {
                format!("no key for {email} (an active member's account is needed): {e}")
            })?;
            // Alone on stdout, so a script can capture it.
            println!("{secret}");
            Ok(())
        }
        Some("scim-token") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let email = flag(&args, "--email").ok_or("scim-token needs --email OWNER_EMAIL")?;
            let name = flag(&args, "--name").unwrap_or_else(|| "Command line".into());
            let secret = seed::scim_token(&state, &email, &name).await.map_err(|e| {
                format!("no SCIM token for {email} (an Enterprise Owner is needed): {e}")
            })?;
            println!("{secret}");
            Ok(())
        }
        _ => {
            app::server::password::warm_up(&state)
                .await
                .map_err(|e| format!("password hashing is not working: {e}"))?;
            spawn_session_sweeper(state.clone());
            mailer::spawn_mail_worker(state.pool.clone(), config.mailer.clone());
            let address = options.site_addr;
            let app = router(state, options, &config);
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| format!("cannot listen on {address}: {e}"))?;
            tracing::info!("Teamroom listening on http://{address}");
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| format!("server error: {e}"))
        }
    }
}
